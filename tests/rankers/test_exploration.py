"""Logging policies state exact propensities: per position, per prefix and per slate match empirical frequencies."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import prefix_propensities
from basketgym.rankers.exploration import EpsilonGreedy
from basketgym.rankers.testing import search_request
from basketgym.rankers.validation import check_response

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
    policy = EpsilonGreedy(rankers.make_ranker("popularity"), epsilon=0.3)
    policy.reset(catalog, seed=1)
    req = _same_row(catalog)
    resp = policy.rank(req)
    check_response(req, resp, catalog)
    greedy = rankers.make_ranker("popularity")
    greedy.reset(catalog, seed=1)
    g = greedy.rank(req)
    assert (resp.sponsored == g.sponsored).all()  # exploration keeps which positions are sponsored
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
    for policy in (rankers.make_ranker("random"), EpsilonGreedy(rankers.make_ranker("margin_greedy"), epsilon=1.0)):
        policy.reset(catalog, seed=2)
        resp = policy.rank(req)
        assert np.allclose(prefix_propensities(resp)[:, 2], 1 / 24)
        assert len({tuple(r) for r in resp.slate}) == 24
        _check_frequencies(resp, 0.033)


def test_epsilon_zero_is_the_base_and_a_stochastic_base_is_refused(catalog):
    req = _same_row(catalog, n=50)
    off = EpsilonGreedy(rankers.make_ranker("buy_again"), epsilon=0.0)
    off.reset(catalog, 0)
    base = rankers.make_ranker("buy_again")
    base.reset(catalog, 0)
    assert np.array_equal(off.rank(req).slate, base.rank(req).slate)
    noisy = EpsilonGreedy(rankers.make_ranker("random"), epsilon=0.2)
    noisy.reset(catalog, 0)
    with pytest.raises(RankerError, match="must be deterministic"):
        noisy.rank(req)
    with pytest.raises(RankerError, match="epsilon = 1.5: must be in"):
        EpsilonGreedy(rankers.make_ranker("popularity"), epsilon=1.5)


def test_plackett_luce_marginals_match_enumeration():
    """The numerical integral against all 720 orders of six items (one logit spread far apart)."""
    import itertools

    from basketgym.rankers.exploration import rank_marginals

    for z in (np.random.default_rng(0).normal(0, 2, 6), np.array([8.0, 0.0, -8.0, 3.0, -3.0, 1.0])):
        w = np.exp(z)
        exact = np.zeros((6, 6))
        for perm in itertools.permutations(range(6)):
            p, rest = 1.0, w.sum()
            for item in perm:
                p, rest = p * w[item] / rest, rest - w[item]
            for pos, item in enumerate(perm):
                exact[item, pos] += p
        for i in range(6):
            others = np.delete(z, i)[None, :]
            got = [rank_marginals(np.array([z[i]]), others, np.array([r]))[0] for r in range(6)]
            assert np.allclose(got, exact[i], atol=1e-9)


def test_plackett_luce_propensities_are_exact(catalog):
    """Eight candidates, slates of four, no ads, 6,000 identical rows: stated = empirical within 5 sd."""
    req = _same_row(catalog, slate_size=4, ad_positions=(), max_sponsored=0)
    cands = np.full_like(req.candidates, -1)
    eight = req.candidates[0][req.candidates[0] >= 0][:8]
    cands[:, :8] = eight
    req = dataclasses.replace(req, candidates=cands)
    policy = rankers.make_ranker("plackett_luce", base="margin_greedy", temperature=0.5)
    policy.reset(catalog, seed=4)
    resp = policy.rank(req)
    check_response(req, resp, catalog)
    assert len({tuple(r) for r in resp.slate}) > 50  # a real distribution over slates
    _check_frequencies(resp, 0.033)
    # the top position's marginal is the plain softmax of the base scores
    base = rankers.make_ranker("margin_greedy")
    base.reset(catalog, seed=4)
    z = np.asarray(base.score(dataclasses.replace(req, shopper_ids=req.shopper_ids[:1], query=req.query[:1],
                                                  candidates=req.candidates[:1])), np.float64)[0, :8] / 0.5  # fmt: skip
    soft = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    first = {int(i): p for i, p in zip(resp.slate[:, 0], resp.propensity[:, 0], strict=True)}
    assert all(abs(first[int(eight[c])] - soft[c]) < 1e-5 for c in range(8) if int(eight[c]) in first)
