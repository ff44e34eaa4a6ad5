"""The random ranker: exact propensities, independence from batch and column layout."""

from __future__ import annotations

import dataclasses

import numpy as np

import basketgym.rankers as rankers
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest
from basketgym.rankers.testing import take_rows
from basketgym.rankers.validation import check_response


def _same_row_request(catalog, rows: int, ad_positions=(0, 4), max_sponsored=3) -> RankRequest:
    """``rows`` shoppers searching the same aisle: independent draws of one row's slate."""
    aisle = int(np.argmax((catalog.shelf >= 0).sum(axis=1)))
    shelf = catalog.shelf[aisle]
    cands = np.where(shelf >= 0, shelf, -1).astype(np.int32)  # unavailable items stay in: skipped
    return RankRequest(
        day=3,
        surface=SURFACE_SEARCH,
        shopper_ids=np.arange(rows, dtype=np.int64),
        query=np.full(rows, aisle, np.int32),
        candidates=np.broadcast_to(cands, (rows, len(cands))).copy(),
        slate_size=10,
        ad_positions=ad_positions,
        max_sponsored=max_sponsored,
    )


def test_propensities_match_placement_frequencies(catalog):
    """Empirical P(item at position) over 20,000 independent rows equals the stated propensity.

    Each cell count is Binomial(T, p): a 4.5-sigma band per cell keeps the chance that a correct
    ranker fails any of the ~200 cells under 1e-3 (and the draws are fixed by the seed).
    """
    t = 20_000
    ranker = rankers.make_ranker("random")
    ranker.reset(catalog, seed=5)
    req = _same_row_request(catalog, t)
    resp = ranker.rank(req)
    check_response(req, resp, catalog)
    row = req.candidates[0]
    ok = (row >= 0) & catalog.available[np.maximum(row, 0)]
    n = int(ok.sum())
    assert n > 20
    # the ads are deterministic: the same item in every row, propensity 1
    sponsored = resp.sponsored
    assert sponsored[:, 0].all() and sponsored[:, 4].all() and not sponsored[:, [1, 2, 3, 5, 6]].any()
    ads = resp.slate[0, [0, 4]]
    assert (resp.slate[:, [0, 4]] == ads).all()
    assert (resp.propensity[:, [0, 4]] == 1.0).all()
    eligible = row[ok & catalog.ad_eligible[np.maximum(row, 0)]]
    top2 = eligible[np.argsort(-catalog.bid[eligible], kind="stable")[:2]]
    assert sorted(ads.tolist()) == sorted(top2.tolist())
    # organic positions: uniform over the n - 2 other items, propensity exactly 1 / (n - 2)
    organic_pos = [1, 2, 3, 5, 6, 7, 8, 9]
    p = 1.0 / (n - 2)
    assert np.allclose(resp.propensity[:, organic_pos], np.float32(p))
    others = np.setdiff1d(row[ok], ads)
    freq = (resp.slate[:, organic_pos][:, :, None] == others[None, None, :]).mean(axis=0)  # (8, n - 2)
    sigma = np.sqrt(p * (1 - p) / t)
    assert np.abs(freq - p).max() < 4.5 * sigma
    assert np.allclose(freq.sum(axis=1), 1.0)  # every organic position is filled by one of them


def test_propensity_without_ads_is_one_over_n(catalog):
    ranker = rankers.make_ranker("random")
    ranker.reset(catalog, seed=5)
    req = _same_row_request(catalog, 50, ad_positions=(), max_sponsored=0)
    resp = ranker.rank(req)
    n = int(((req.candidates[0] >= 0) & catalog.available[np.maximum(req.candidates[0], 0)]).sum())
    assert not resp.sponsored.any()
    assert np.allclose(resp.propensity, np.float32(1.0 / n))


def test_order_is_keyed_by_shopper_day_query_not_by_batch(catalog):
    ranker = rankers.make_ranker("random")
    ranker.reset(catalog, seed=9)
    req = _same_row_request(catalog, 6)
    a = ranker.rank(req).slate
    assert len({tuple(r) for r in a}) == 6  # different shoppers, different orders
    # one shopper alone gets the same slate as inside the batch
    np.testing.assert_array_equal(ranker.rank(take_rows(req, slice(3, 4))).slate[0], a[3])
    # another day, another order; another seed, another order
    assert not np.array_equal(ranker.rank(dataclasses.replace(req, day=4)).slate, a)
    other = rankers.make_ranker("random")
    other.reset(catalog, seed=10)
    assert not np.array_equal(other.rank(req).slate, a)
    # the home surface draws differently from search, even for the same candidates
    home = dataclasses.replace(req, surface=SURFACE_HOME, query=np.full(6, -1, np.int32))
    assert not np.array_equal(ranker.rank(home).slate, a)


def test_order_does_not_depend_on_the_columns_items_sit_in(catalog, rng):
    ranker = rankers.make_ranker("random")
    ranker.reset(catalog, seed=2)
    req = _same_row_request(catalog, 40, ad_positions=(), max_sponsored=0)
    perm = rng.permutation(req.candidates.shape[1])
    moved = dataclasses.replace(req, candidates=req.candidates[:, perm])
    np.testing.assert_array_equal(ranker.rank(req).slate, ranker.rank(moved).slate)
