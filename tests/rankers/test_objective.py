"""The objective ranker: relevance/margin weights and ad load that a controller can change between days."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_SEARCH, RankRequest, RankResponse
from basketgym.rankers.baselines import MarginGreedyRanker
from basketgym.rankers.objective import ObjectiveRanker, ad_load_positions, rank_normalised
from basketgym.rankers.testing import day_log, home_request, search_request, smoke_check
from basketgym.rankers.validation import check_response

DAY = 3


class _MarginAuction(MarginGreedyRanker):
    """Margin per unit with the standard auction (margin_greedy's organic order, everyone's ads)."""

    def fixed_ads(self, request, n_ok):
        return None


def _fed(ranker, catalog, days=DAY, seed=5):
    """Reset and feed ``days`` days of purchases: shoppers 0-199 buy from 3 favourite aisles each."""
    rng = np.random.default_rng(seed)
    ranker.reset(catalog, seed=0)
    fav = np.random.default_rng(1).integers(0, catalog.n_aisles, (200, 3))
    for day in range(days):
        shopper = rng.integers(0, 200, 3000)
        aisle = fav[shopper, rng.integers(0, 3, len(shopper))]
        width = (catalog.shelf[aisle] >= 0).sum(axis=1)
        item = catalog.shelf[aisle, (rng.random(len(shopper)) * width).astype(np.int64)]
        ranker.update(day_log(catalog, day, shopper, item))
    return ranker


def _requests(catalog, seed=9, **settings):
    """Search (masked and unmasked, short rows) and home requests of shoppers with and without history."""
    rng = np.random.default_rng(seed)
    search = search_request(catalog, rng, batch=300, day=DAY, shoppers=260, **settings)
    unmasked = search_request(catalog, rng, batch=200, day=DAY, shoppers=260, mask_unavailable=False, **settings)
    short = unmasked.candidates.copy()
    short[:20, 4:] = -1  # rows shorter than K
    short[20:30, :] = -1  # empty rows
    home = home_request(catalog, rng, batch=200, day=DAY, shoppers=260, **settings)
    return [search, dataclasses.replace(unmasked, candidates=short), home]


def _same(a: RankResponse, b: RankResponse) -> None:
    for field in ("slate", "propensity", "sponsored"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def _organic(resp: RankResponse) -> list[list[int]]:
    return [
        [int(i) for i, s in zip(row, sp, strict=True) if i >= 0 and not s]
        for row, sp in zip(resp.slate, resp.sponsored, strict=True)
    ]


OBJECTIVES = [(1.0, 0.0, None), (0.0, 1.0, None), (1.0, 1.0, None), (0.3, 2.0, 0.0), (2.0, 0.5, 1.0), (1.0, 1.0, 0.5)]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_valid_slates_on_both_surfaces(objective, catalog):
    ranker = _fed(rankers.make_ranker("objective"), catalog)
    ranker.set_objective(*objective)
    for settings in ({}, {"slate_size": 3}, {"ad_positions": (9, 2, 2, 30), "max_sponsored": 5}, {"max_sponsored": 0}):
        for req in _requests(catalog, **settings):
            resp = ranker.rank(req)
            check_response(req, resp, catalog)
            placed = resp.slate >= 0
            assert (resp.propensity[placed] == 1.0).all() and (resp.propensity[~placed] == 0.0).all()


def test_relevance_only_is_buy_again(catalog):
    """margin = 0: the same slates as buy_again, ads included (the auction sees the same organic order)."""
    ours = _fed(rankers.make_ranker("objective", relevance=2.5, margin=0.0), catalog)
    theirs = _fed(rankers.make_ranker("buy_again"), catalog)
    for settings in ({}, {"max_sponsored": 0}, {"slate_size": 40}):
        for req in _requests(catalog, **settings):
            _same(ours.rank(req), theirs.rank(req))
    # own purchases do lead some rows (the comparison is not vacuous)
    req = _requests(catalog)[0]
    hist = ours.features.pair_history_sparse(req.shopper_ids, req.candidates, req.query)
    assert len(hist[0]) > 50


def test_margin_only_is_margin_greedys_organic_order(catalog):
    ours = _fed(rankers.make_ranker("objective", relevance=0.0, margin=1.0), catalog)
    greedy = _fed(rankers.make_ranker("margin_greedy"), catalog)
    auction = _fed(_MarginAuction(), catalog)
    for req in _requests(catalog, max_sponsored=0):  # no ads: identical slates
        _same(ours.rank(req), greedy.rank(req))
    for req in _requests(catalog):  # with the standard auction: identical to margin order + auction
        resp = ours.rank(req)
        _same(resp, auction.rank(req))
        # organic items = margin_greedy's full order (no ads) without our ads
        full = greedy.rank(dataclasses.replace(req, max_sponsored=0, slate_size=req.candidates.shape[1])).slate
        ads_ = [set(row[sp].tolist()) for row, sp in zip(resp.slate, resp.sponsored, strict=True)]
        expect = [[int(i) for i in row if i >= 0 and i not in a] for row, a in zip(full, ads_, strict=True)]
        got = _organic(resp)
        assert got == [e[: len(g)] for e, g in zip(expect, got, strict=True)]
        assert resp.sponsored.any()


def test_rank_normalisation():
    raw = np.array([[3.0, 1.0, 3.0, -np.inf, 7.0], [5.0, 0.0, 0.0, 0.0, 0.0]], np.float32)
    ok = np.array([[True, True, True, True, False], [True, False, False, False, False]])
    r = rank_normalised(raw, ok)
    # row 0: placeable 3, 1, 3, -inf -> ranks 0 (col 0), 2, 1 (col 2), 3; column 4 not placeable
    np.testing.assert_allclose(r[0, :4], [1.0, 1 / 3, 2 / 3, 0.0], rtol=1e-6)
    assert r[0, 4] == -np.inf and r[1, 0] == 1.0 and (r[1, 1:] == -np.inf).all()


def test_ad_load_positions():
    assert ad_load_positions((0, 4), 10, 3, 1.0).tolist() == [0, 1, 4]
    assert ad_load_positions((0, 4), 10, 3, 0.5).tolist() == [0, 4]  # round(1.5) = 2
    assert ad_load_positions((0, 4), 10, 3, 0.3).tolist() == [0]  # round(0.9) = 1
    assert ad_load_positions((0, 4), 10, 3, 0.1).tolist() == []
    assert ad_load_positions((0, 4), 10, 3, 0.0).tolist() == []
    assert ad_load_positions((9, 2, 2, 30), 10, 5, 1.0).tolist() == [0, 1, 2, 3, 9]
    assert ad_load_positions((0, 4), 3, 5, 1.0).tolist() == [0, 1, 2]  # K caps the count
    assert ad_load_positions((), 10, 2, 1.0).tolist() == [0, 1]
    assert ad_load_positions((0, 4), 10, 0, 1.0).tolist() == []


def test_ad_load_zero_places_no_ads(catalog):
    ranker = _fed(rankers.make_ranker("objective", relevance=1.0, margin=1.0, ad_load=0.0), catalog)
    for req in _requests(catalog, max_sponsored=5):
        resp = ranker.rank(req)
        check_response(req, resp, catalog)
        assert not resp.sponsored.any()


@pytest.mark.parametrize(
    ("ad_positions", "max_sponsored", "expected"), [((0, 4), 3, [0, 1, 4]), ((4, 7), 5, [0, 1, 2, 4, 7])]
)
def test_ad_load_one_fills_the_documented_positions(catalog, ad_positions, max_sponsored, expected):
    ranker = _fed(rankers.make_ranker("objective", relevance=1.0, margin=0.5, ad_load=1.0), catalog)
    standard = _fed(rankers.make_ranker("objective", relevance=1.0, margin=0.5), catalog)
    for req in _requests(catalog, ad_positions=ad_positions, max_sponsored=max_sponsored):
        resp = ranker.rank(req)
        check_response(req, resp, catalog)
        ok = (req.candidates >= 0) & catalog.available[np.maximum(req.candidates, 0)]
        eligible = (ok & catalog.ad_eligible[np.maximum(req.candidates, 0)]).sum(axis=1)
        full = (eligible >= len(expected)) & (ok.sum(axis=1) > max(expected))
        assert full.sum() > 50
        want = np.zeros(req.slate_size, bool)
        want[expected] = True
        assert (resp.sponsored[full] == want).all()
        assert resp.sponsored.sum(axis=1).max() == min(max_sponsored, req.slate_size)
        # the ads are the standard auction's choice at those positions
        _same(resp, standard.rank(dataclasses.replace(req, ad_positions=tuple(expected), max_sponsored=len(expected))))


def test_changing_the_objective_changes_the_slates_and_back_restores_them(catalog):
    ranker = _fed(rankers.make_ranker("objective"), catalog)
    assert ranker.objective == (1.0, 0.0, None, 0.0)
    for req in _requests(catalog):
        before = ranker.rank(req)
        ranker.set_objective(0.2, 1.0, 1.0)
        assert ranker.objective == (0.2, 1.0, 1.0, 0.0)
        after = ranker.rank(req)
        assert (before.slate != after.slate).any(axis=1).mean() > 0.5
        assert after.sponsored.sum() > before.sponsored.sum()
        ranker.set_objective(1.0, 0.0, None)
        _same(ranker.rank(req), before)


def test_blended_weights_move_between_the_extremes(catalog):
    """More margin weight raises the slate's mean margin per unit and lowers own-item placements."""
    ranker = _fed(rankers.make_ranker("objective"), catalog)
    req = _requests(catalog, max_sponsored=0)[0]
    unit = catalog.price * catalog.margin_rate
    margins, owns = [], []
    for m in (0.0, 0.5, 1.0, 4.0):
        ranker.set_objective(1.0, m, None)
        slate = ranker.rank(req).slate
        margins.append(unit[slate[slate >= 0]].mean())
        row, col, _, _ = ranker.features.pair_history_sparse(req.shopper_ids, slate, req.query)
        owns.append(len(row))
    assert margins == sorted(margins) and margins[0] < margins[-1]
    assert owns == sorted(owns, reverse=True) and owns[0] > owns[-1]


@pytest.mark.parametrize(
    "objective",
    [(-1.0, 1.0, None), (1.0, -0.1, None), (0.0, 0.0, None), (np.nan, 1.0, None), (1.0, np.inf, None),
     (1.0, 0.0, -0.1), (1.0, 0.0, 1.5), (1.0, 0.0, np.nan), ("a", 1.0, None),
     (1.0, 0.0, None, -0.2), (1.0, 0.0, None, 1.01), (1.0, 0.0, None, np.nan)],
)  # fmt: skip
def test_invalid_objectives_raise(objective):
    ranker = rankers.make_ranker("objective", relevance=2.0, margin=1.0, ad_load=0.5, exploration=0.1)
    with pytest.raises(RankerError, match=r"^ranker 'objective': [^\n]+$"):
        ranker.set_objective(*objective)
    assert ranker.objective == (2.0, 1.0, 0.5, 0.1)  # unchanged
    with pytest.raises(RankerError):
        names = ("relevance", "margin", "ad_load", "exploration")[: len(objective)]
        rankers.make_ranker("objective", **dict(zip(names, objective, strict=True)))


def test_registered_and_smoke_checked(catalog):
    ranker = rankers.make_ranker("objective", margin=0.7, ad_load=0.5, half_life_days=7.0)
    assert isinstance(ranker, ObjectiveRanker) and ranker.name == "objective" and ranker.half_life_days == 7.0
    assert not ranker.candidate_row_only
    smoke_check(ranker, catalog, days=3)
    smoke_check(rankers.make_ranker("objective"), catalog, days=3)


def test_a_row_with_one_candidate(catalog):
    ranker = rankers.make_ranker("objective", relevance=1.0, margin=1.0, ad_load=1.0)
    ranker.reset(catalog, seed=0)
    item = int(np.flatnonzero(catalog.available & catalog.ad_eligible)[0])
    cands = np.full((1, 20), -1, np.int32)
    cands[0, 13] = item
    req = RankRequest(0, SURFACE_SEARCH, np.array([5]), np.array([catalog.aisle[item]], np.int32), cands, 10, (0, 4), 3)
    resp = ranker.rank(req)
    assert resp.slate[0].tolist() == [item] + [-1] * 9 and resp.sponsored[0].tolist() == [True] + [False] * 9


def test_a_short_world_runs():
    from basketgym.sim.config import load_scenario
    from basketgym.sim.world import World

    ranker = rankers.make_ranker("objective")
    result = World(load_scenario("smoke").replace(days=5), 1, ranker).run()
    assert result.days == 5 and len(result.slates["day"]) > 0
    ranker = rankers.make_ranker("objective", relevance=0.5, margin=1.0, ad_load=1.0)
    result = World(load_scenario("smoke").replace(days=5), 1, ranker).run()
    assert result.slates["sponsored"].any()


def test_exploration_propensities_are_exact_frequencies(catalog):
    """Stated propensities match the empirical shares of each (position, item).

    4,000 shoppers without history see one search row, so the greedy slate is the same for all.
    The binomial sd of a share over 4,000 rows is at most 0.008; 5 sd over ~100 cells keeps a
    false alarm below 1e-4.
    """
    ranker = ObjectiveRanker(relevance=1.0, margin=0.5, ad_load=0.5, exploration=0.3)
    ranker.reset(catalog, seed=0)
    base = search_request(catalog, np.random.default_rng(4), batch=1, day=DAY)
    n = 4000
    req = dataclasses.replace(
        base,
        shopper_ids=np.arange(n, dtype=np.int64),
        query=np.repeat(base.query, n),
        candidates=np.repeat(base.candidates, n, axis=0),
    )
    resp = ranker.rank(req)
    check_response(req, resp, catalog)
    greedy = ObjectiveRanker(relevance=1.0, margin=0.5, ad_load=0.5)
    greedy.reset(catalog, seed=0)
    g = greedy.rank(req)
    assert (g.slate == g.slate[:1]).all() and (resp.sponsored == g.sponsored).all()
    assert 0.25 < ((resp.slate != g.slate).any(axis=1)).mean() < 0.35  # rows explored, about e
    for p in range(req.slate_size):
        items, counts = np.unique(resp.slate[:, p], return_counts=True)
        for item, count in zip(items, counts, strict=True):
            stated = resp.propensity[resp.slate[:, p] == item, p]
            assert np.ptp(stated) == 0  # the same placement has one propensity
            assert abs(count / n - stated[0]) < 0.04
