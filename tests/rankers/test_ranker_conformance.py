"""Every registered ranker returns valid slates on realistic requests, deterministically."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_SEARCH, Ranker, RankRequest
from basketgym.rankers.testing import day_log, home_request, search_request, smoke_check, take_rows
from basketgym.rankers.validation import check_response

NAMES = rankers.available()


def test_the_baselines_the_objective_ranker_the_logging_policies_and_the_value_ranker_are_registered():
    assert NAMES == [
        "buy_again", "causal_value", "epsilon_greedy", "margin_greedy", "objective", "plackett_luce", "popularity",
        "propensity_value", "random", "value_mtl",
    ]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_follows_the_protocol(name):
    ranker = rankers.make_ranker(name)
    assert isinstance(ranker, Ranker)
    assert ranker.name == name


@pytest.mark.parametrize("name", NAMES)
def test_smoke_check_over_days(name, catalog):
    smoke_check(rankers.make_ranker(name), catalog, days=4)


def _edge_requests(catalog, rng, day):
    """Requests that stress the slate rules: short rows, empty rows, odd ad settings."""
    base = search_request(catalog, rng, batch=40, day=day, mask_unavailable=False)
    cands = base.candidates.copy()
    cands[0, :] = -1  # no candidate at all
    cands[1, :] = -1
    cands[1, 5] = catalog.shelf[base.query[1], 0]  # one candidate, far from column 0
    cands[2, 3:] = -1  # fewer than K
    yield base
    yield dataclasses.replace(base, candidates=cands)
    yield dataclasses.replace(base, candidates=cands, slate_size=3)
    yield dataclasses.replace(base, candidates=cands, slate_size=60)  # K > C
    yield dataclasses.replace(base, candidates=cands, max_sponsored=0)
    yield dataclasses.replace(base, candidates=cands, ad_positions=(), max_sponsored=3)
    yield dataclasses.replace(base, candidates=cands, ad_positions=(9, 2, 2, 30), max_sponsored=5)
    yield dataclasses.replace(base, candidates=cands, ad_positions=(0, 1, 2), max_sponsored=1)
    yield dataclasses.replace(base, candidates=cands[:, :1])
    yield dataclasses.replace(base, shopper_ids=base.shopper_ids[:0], query=base.query[:0], candidates=cands[:0])
    home = home_request(catalog, rng, batch=30, day=day)
    yield home
    # repeated ids inside a row (the world never sends them; a ranker must still not repeat items)
    rep = home.candidates.copy()
    rep[:, 30:40] = rep[:, 24:34]
    rep[:, 0] = rep[:, 24]
    yield dataclasses.replace(home, candidates=rep)


@pytest.mark.parametrize("name", NAMES)
def test_edge_cases_give_valid_slates(name, catalog, rng):
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=1)
    buyers = rng.integers(0, 1000, 500)
    ranker.update(day_log(catalog, 0, buyers, rng.integers(0, catalog.n_products, 500)))
    for request in _edge_requests(catalog, rng, day=1):
        check_response(request, ranker.rank(request), catalog)


@pytest.mark.parametrize("name", NAMES)
def test_a_row_with_one_candidate_holds_it_first(name, catalog, rng):
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=1)
    item = int(np.flatnonzero(catalog.available)[7])
    cands = np.full((1, 20), -1, np.int32)
    cands[0, 13] = item
    req = RankRequest(0, SURFACE_SEARCH, np.array([5]), np.array([catalog.aisle[item]], np.int32), cands, 10, (0, 4), 3)
    resp = ranker.rank(req)
    assert resp.slate[0].tolist() == [item] + [-1] * 9
    assert resp.propensity[0, 0] == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_rerun_and_batch_split_give_identical_rows(name, catalog, rng):
    """Rows depend only on their own request, not on the batch they come in or on call order."""
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=7)
    buyers = rng.integers(0, 1000, 3000)
    ranker.update(day_log(catalog, 0, buyers, rng.integers(0, catalog.n_products, 3000)))
    for req in (search_request(catalog, rng, batch=300, day=1), home_request(catalog, rng, batch=200, day=1)):
        whole = ranker.rank(req)
        again = ranker.rank(req)
        perm = rng.permutation(req.batch_size)
        shuffled = ranker.rank(take_rows(req, perm))
        half = req.batch_size // 3
        parts = [ranker.rank(take_rows(req, s)) for s in (slice(0, half), slice(half, None))]
        for field in ("slate", "propensity", "sponsored"):
            a = getattr(whole, field)
            np.testing.assert_array_equal(a, getattr(again, field))
            np.testing.assert_array_equal(a[perm], getattr(shuffled, field))
            np.testing.assert_array_equal(a, np.concatenate([getattr(p, field) for p in parts]))


@pytest.mark.parametrize("name", NAMES)
def test_rank_does_not_modify_the_request(name, catalog, rng):
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=0)
    req = search_request(catalog, rng, batch=50, day=0, mask_unavailable=False)
    before = req.candidates.copy(), req.shopper_ids.copy(), req.query.copy()
    ranker.rank(req)
    np.testing.assert_array_equal(req.candidates, before[0])
    np.testing.assert_array_equal(req.shopper_ids, before[1])
    np.testing.assert_array_equal(req.query, before[2])


@pytest.mark.parametrize("name", NAMES)
def test_needs_reset_first(name, catalog, rng):
    req = search_request(catalog, rng, batch=2, day=0)
    with pytest.raises(RankerError, match=rf"ranker '{name}': call reset\(catalog, seed\) first"):
        rankers.make_ranker(name).rank(req)


@pytest.mark.parametrize("name", NAMES)
def test_refuses_to_rank_a_day_already_ingested(name, catalog, rng):
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=0)
    ranker.update(day_log(catalog, 4, np.array([1, 2]), np.array([10, 20])))
    with pytest.raises(RankerError, match="ranking day 4 with logs through day 4 already ingested"):
        ranker.rank(search_request(catalog, rng, batch=3, day=4))
    ranker.rank(search_request(catalog, rng, batch=3, day=5))
