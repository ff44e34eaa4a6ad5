"""Logging policies state exact propensities: per position, per prefix and per slate match empirical frequencies."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

import rankers
from rankers.exploration import EpsilonGreedy
from rankers.testing import search_request
from rankers.validation import check_response
from sim.errors import RankerError
from sim.protocol import prefix_propensities

N = 6000  # rows sharing one request: the binomial sd of any share is at most 0.0065


def _same_row(catalog, n=N, **kw):
    base = search_request(catalog, np.random.default_rng(4), batch=1, day=3, **kw)
    return dataclasses.replace(
        base,
        shopper_ids=np.arange(n, dtype=np.int64),
        query=np.repeat(base.query, n),
        candidates=np.repeat(base.candidates, n, axis=0),
    )


def _check_frequencies(resp, tol):
    """Every stated propensity equals the share of rows showing that placement, prefix or slate."""
    n, k = resp.slate.shape
    prefix = prefix_propensities(resp)
    for p in range(k):
        keys = [tuple(row[: p + 1]) for row in resp.slate]
        counts = Counter(keys)
        for key, count in counts.items():
            rows = [i for i, x in enumerate(keys) if x == key]
            stated = prefix[rows, p]
            assert np.ptp(stated) == 0 and abs(count / n - stated[0]) < tol, (p, key)
        items, counts = np.unique(resp.slate[:, p], return_counts=True)
        for item, count in zip(items, counts, strict=True):
            stated = resp.propensity[resp.slate[:, p] == item, p]
            assert np.ptp(stated) == 0 and abs(count / n - stated[0]) < tol


def test_epsilon_greedy_propensities_are_exact(catalog):
    """5 sd of a share at 6,000 rows is 0.033; the greedy slate keeps 1 - e + e * (its random share)."""
    policy = EpsilonGreedy("popularity", epsilon=0.3)
    policy.reset(catalog, seed=1)
    req = _same_row(catalog)
    resp = policy.rank(req)
    check_response(req, resp, catalog)
    greedy = rankers.make_ranker("popularity")
    greedy.reset(catalog, seed=1)
    g = greedy.rank(req)
    assert (resp.sponsored == g.sponsored).all()  # exploration keeps the sponsored placements
    explored = (resp.slate != g.slate).any(axis=1).mean()
    assert abs(explored - 0.3) < 5 * np.sqrt(0.3 * 0.7 / N)
    _check_frequencies(resp, 0.033)
    prefix = prefix_propensities(resp)
    placed = resp.slate >= 0
    assert (np.diff(np.where(placed, prefix, 0), axis=1) <= 1e-7).all()  # prefixes only shrink


def test_uniform_random_slates_have_exact_slate_propensities(catalog):
    """Four candidates, slates of three, no ads: each of the 24 ordered slates has probability 1/24."""
    req = _same_row(catalog, slate_size=3, ad_positions=(), max_sponsored=0)
    cands = np.full_like(req.candidates, -1)
    four = req.candidates[0][req.candidates[0] >= 0][:4]
    assert catalog.available[four].all()
    cands[:, :4] = four
    req = dataclasses.replace(req, candidates=cands)
    for policy in (rankers.make_ranker("random"), EpsilonGreedy("margin_greedy", epsilon=1.0)):
        policy.reset(catalog, seed=2)
        resp = policy.rank(req)
        assert np.allclose(prefix_propensities(resp)[:, 2], 1 / 24)
        assert len({tuple(r) for r in resp.slate}) == 24
        _check_frequencies(resp, 0.033)


def test_epsilon_zero_is_the_base_and_a_stochastic_base_is_refused(catalog):
    req = _same_row(catalog, n=50)
    off = EpsilonGreedy("buy_again", epsilon=0.0)
    off.reset(catalog, 0)
    base = rankers.make_ranker("buy_again")
    base.reset(catalog, 0)
    assert np.array_equal(off.rank(req).slate, base.rank(req).slate)
    noisy = EpsilonGreedy("random", epsilon=0.2)
    noisy.reset(catalog, 0)
    with pytest.raises(RankerError, match="must be deterministic"):
        noisy.rank(req)
    with pytest.raises(RankerError, match="epsilon = 1.5: must be in"):
        EpsilonGreedy("popularity", epsilon=1.5)
