"""Search rows that are shelf rows: recognised exactly, and answered exactly as the general path answers them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest, RankResponse
from basketgym.rankers import ads, own_first, shelf, topk
from basketgym.rankers.baselines import PopularityRanker
from basketgym.rankers.testing import day_log

NAMES = ("buy_again", "margin_greedy", "popularity", "random")
SHOPPERS = 600


def _feed(ranker, catalog, rng, days=range(4)):
    """Days of purchases from 3 favourite aisles per shopper (so searches find own items), some heavy buyers."""
    fav = np.random.default_rng(1).integers(0, catalog.n_aisles, (SHOPPERS, 3))
    for day in days:
        shopper = rng.integers(0, SHOPPERS, 2500)
        aisle = fav[shopper, rng.integers(0, 3, len(shopper))]
        width = (catalog.shelf[aisle] >= 0).sum(axis=1)
        item = catalog.shelf[aisle, (rng.random(len(shopper)) ** 2 * width).astype(np.int64)]
        row = catalog.shelf[fav[0, 0]]
        heavy = np.tile(row[row >= 0], 2)  # shoppers 0-2 bought (nearly) all of one aisle
        shopper = np.concatenate([shopper, np.repeat([0, 1, 2], len(heavy))])
        item = np.concatenate([item, np.tile(heavy, 3)])
        ranker.update(day_log(catalog, day, shopper, item))
    return fav


def _shelf_rows(catalog, rng, day, fav, batch=400, *, width=None, mask=True, **settings) -> RankRequest:
    shopper = rng.integers(0, SHOPPERS + 20, batch)
    shopper[:3] = [0, 1, 2]
    query = np.where(rng.random(batch) < 0.8, fav[np.minimum(shopper, SHOPPERS - 1), 0], rng.integers(0, 126, batch))
    query = query.astype(np.int32)
    cands = catalog.shelf[query][:, : width or catalog.shelf.shape[1]]
    if mask:
        cands = np.where((cands >= 0) & catalog.available[np.maximum(cands, 0)], cands, -1)
    args = {"slate_size": 10, "ad_positions": (0, 4), "max_sponsored": 3} | settings
    return RankRequest(day, SURFACE_SEARCH, shopper.astype(np.int64), query, cands.astype(np.int32), **args)


def _assert_same(a: RankResponse, b: RankResponse, what: str = "") -> None:
    for field in ("slate", "propensity", "sponsored"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.shape == y.shape, f"{what} {field}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
        bad = np.flatnonzero((x != y).reshape(len(x), -1).any(axis=1))
        assert len(bad) == 0, f"{what} {field}: {len(bad)} rows differ, first {bad[0]}: {x[bad[0]]} vs {y[bad[0]]}"


SETTINGS = (
    {},
    {"width": 12},
    {"mask": False},
    {"slate_size": 3},
    {"slate_size": 40},
    {"max_sponsored": 0},
    {"ad_positions": ()},
    {"ad_positions": (9, 2, 2, 30), "max_sponsored": 5},
    {"ad_positions": (0, 1, 2), "max_sponsored": 1},
    {"slate_size": 0},
)


@pytest.mark.parametrize("name", NAMES)
def test_shelf_rows_get_the_general_answer(name, catalog, rng):
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=3)
    assert ranker.shelf.usable
    fav = _feed(ranker, catalog, rng)
    for settings in SETTINGS:
        req = _shelf_rows(catalog, rng, 4, fav, **settings)
        assert ranker.shelf.match(req).all()
        _assert_same(ranker.rank(req), ranker.rank_general(req), f"{name} {settings}")


@pytest.mark.parametrize("name", NAMES)
def test_tables_follow_logs_prices_and_availability(name, catalog, rng):
    """Answers stay the general path's across the events that change what a table holds."""
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=3)
    fav = _feed(ranker, catalog, rng, days=[0])

    def check(day, what):
        req = _shelf_rows(catalog, rng, day, fav)
        _assert_same(ranker.rank(req), ranker.rank_general(req), f"{name} {what}")

    check(1, "after one day")
    _feed(ranker, catalog, rng, days=[1, 2])
    check(3, "after more days")
    promoted = np.flatnonzero(np.isin(catalog.aisle, fav[:30, 0]))[::2]
    catalog.price[promoted] = np.round(catalog.price[promoted] * 0.7, 2)
    check(3, "after a promotion")
    catalog.margin_rate[promoted] *= np.float32(1.5)
    check(3, "after a margin change")
    catalog.available[promoted[::3]] = False
    check(3, "after a stock-out")
    catalog.available[:] = True
    check(3, "after a restock")


@pytest.mark.parametrize("name", NAMES)
def test_mixed_batches_split_between_the_paths(name, catalog, rng):
    """Rows that are not shelf rows take the general path; the batch is answered row by row."""
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=3)
    fav = _feed(ranker, catalog, rng)
    req = _shelf_rows(catalog, rng, 4, fav, batch=300)
    cands, query = req.candidates.copy(), req.query.copy()
    cands[1::4] = rng.permuted(cands[1::4], axis=1)
    query[2::8] = (query[2::8] + 1) % catalog.n_aisles
    query[6::8] = -1
    mixed = dataclasses.replace(req, candidates=cands, query=query)
    hit = ranker.shelf.match(mixed)
    assert 0.4 < hit.mean() < 0.9
    _assert_same(ranker.rank(mixed), ranker.rank_general(mixed), name)


def test_match_recognises_exactly_the_shelf_rows(catalog, rng):
    rows = shelf.ShelfRows(catalog)
    fav = np.random.default_rng(1).integers(0, catalog.n_aisles, (SHOPPERS, 3))
    req = _shelf_rows(catalog, rng, 0, fav, batch=50)
    assert rows.match(req).all()
    assert rows.match(_shelf_rows(catalog, rng, 0, fav, batch=50, mask=False)).all()  # unavailable left in
    assert rows.match(_shelf_rows(catalog, rng, 0, fav, batch=50, width=9)).all()  # cut to C
    cands, query = req.candidates.copy(), req.query.copy()
    valid = np.flatnonzero(cands[0] >= 0)
    cands[0, valid[-1]] = -1  # an item missing
    cands[1, :] = np.roll(cands[1], 1)  # shifted columns
    query[2] = (query[2] + 1) % catalog.n_aisles  # another aisle's query
    query[3] = catalog.n_aisles  # no such aisle
    cands[4, valid[0]] = cands[4, valid[0]] + 1 if cands[4, valid[0]] >= 0 else 0  # another item
    got = rows.match(dataclasses.replace(req, candidates=cands, query=query))
    assert got.tolist() == [False] * 5 + [True] * 45
    assert rows.match(dataclasses.replace(req, surface=SURFACE_HOME)) is None
    wide = np.concatenate([req.candidates, np.full((50, 1), -1, np.int32)], axis=1)
    assert rows.match(dataclasses.replace(req, candidates=wide)) is None  # wider than the shelf
    catalog.available[req.candidates[7, valid[0]]] = False  # availability changed: rows are stale
    assert not rows.match(req)[7]


def test_a_catalog_whose_shelves_are_not_consistent_keeps_the_general_path(catalog, rng):
    odd = dataclasses.replace(catalog, shelf_pos=np.roll(catalog.shelf_pos, 1))
    assert not shelf.ShelfRows(odd).usable
    fav = np.random.default_rng(1).integers(0, catalog.n_aisles, (SHOPPERS, 3))
    assert shelf.ShelfRows(odd).match(_shelf_rows(catalog, rng, 0, fav, batch=5)) is None


def test_watched_arrays_and_cached_values():
    a = np.arange(5.0)
    w = shelf.Watched(lambda: a)
    assert w.look() == w.look() == 0
    a[2] = 7.0
    assert w.look() == 1 and w.look() == 1
    built = []
    cache = shelf.Cached()
    for key in (1, 1, 2, 2, 1):
        cache.get(key, lambda key=key: built.append(key) or key)
    assert built == [1, 2, 1]


def test_only_candidate_row_rankers_answer_from_a_table():
    assert PopularityRanker.candidate_row_only and rankers.make_ranker("margin_greedy").candidate_row_only

    class Personal(PopularityRanker):
        def score(self, request):
            return super().score(request) + request.shopper_ids[:, None].astype(np.float32)

    class Declared(Personal):
        candidate_row_only = True

    assert not Personal.candidate_row_only and Declared.candidate_row_only
    assert not rankers.make_ranker("buy_again").candidate_row_only  # it has its own shelf path


def _merged_reference(pop_order: list[int], own: list[int], width: int) -> list[int]:
    return (own + [j for j in pop_order if j not in own])[:width]


def test_merged_ranks_put_own_items_first_then_the_popularity_order(rng):
    """Against the obvious construction, for rows with up to 20 own items anywhere in the order."""
    r, c, width = 300, 40, 16
    m = rng.integers(1, 21, r)
    rows, rho, index = [], [], []
    expected = np.empty((width, r), np.int64)
    for row in range(r):
        own = rng.choice(c, m[row], replace=False).tolist()
        expected[:, row] = _merged_reference(list(range(c)), own, width)
        rows += [row] * m[row]
        rho += own
        index += list(range(m[row]))
    got = own_first.merged_ranks(np.array(rho), np.array(rows), np.array(index), m, width)
    np.testing.assert_array_equal(got, expected)


def test_the_auction_is_exact_whatever_the_batch(rng):
    """Rows auctioned alone or with a high-bid row (which changes the window's bound) agree."""
    b, c = 500, 48
    keys = topk.sorted_keys(rng.random((b, c)).astype(np.float32))
    bid = np.where(rng.random((b, c)) < 0.3, np.round(rng.uniform(0.05, 0.5, (b, c)), 2), 0.0).astype(np.float32)
    bid[0] = 0.0
    bid[0, 30] = 0.5
    whole = ads.auction(keys, bid, 2)
    for rows in (np.arange(1, b), np.arange(0, b, 7)):
        part = ads.auction(keys[rows], bid[rows], 2)
        np.testing.assert_array_equal(part[0], whole[0][rows])
        np.testing.assert_array_equal(part[1], whole[1][rows])
    full = ads.auction(keys, bid, 2, window=c)
    np.testing.assert_array_equal(full[0], whole[0])
