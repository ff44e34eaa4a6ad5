"""The feature store: point-in-time, growth, per-pair lookups, aggregates."""

from __future__ import annotations

import numpy as np
import pytest

from basketgym.contract import slots
from basketgym.contract.errors import RankerError
from basketgym.contract.logs import SLATE_COLUMNS
from basketgym.rankers.features import DAYS_CAP, ITEM_FEATURE_NAMES, SHOPPER_FEATURE_NAMES, FeatureStore
from basketgym.rankers.testing import day_log, home_request, search_request


def _brute_pair_counts(store, shopper_ids, cands):
    """(B, C) counts through ``sim.slots.find`` on the full (B, C, H) comparison."""
    rows = store._rows(shopper_ids)
    slot = slots.find(store.hist_item, rows, cands)
    count = np.take_along_axis(store.hist_count[rows].astype(np.int32), np.maximum(slot, 0), axis=1)
    last = np.take_along_axis(store.hist_last[rows], np.maximum(slot, 0), axis=1)
    return np.where(slot >= 0, count, 0), np.where(slot >= 0, last, -1)


@pytest.fixture
def store(catalog, rng):
    """A store fed 20 days of purchases by 2,000 shoppers who favour a few aisles each."""
    s = FeatureStore(catalog, capacity=16)
    fav = rng.integers(0, catalog.n_aisles, (2000, 6))
    for day in range(20):
        shopper = rng.integers(0, 2000, 3000)
        aisle = fav[shopper, rng.integers(0, 6, 3000)]
        width = (catalog.shelf[aisle] >= 0).sum(axis=1)
        item = catalog.shelf[aisle, (rng.random(3000) * width).astype(np.int64)]
        s.ingest(day_log(catalog, day, shopper, item))
    s.fav = fav
    return s


def test_pair_history_matches_brute_force_on_search_and_home(store, catalog, rng):
    search = search_request(catalog, rng, batch=500, day=20, shoppers=2000)
    search_fav = store.fav[search.shopper_ids, rng.integers(0, 6, 500)]  # searches the shopper buys in
    cands = catalog.shelf[search_fav]
    for cand, aisle in ((search.candidates, search.query), (cands, search_fav)):
        got = store.pair_history(search.shopper_ids, cand, aisle)
        want = _brute_pair_counts(store, search.shopper_ids, cand)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(store.pair_history(search.shopper_ids, cand)[0], want[0])  # scratch path
    assert (store.pair_history(search.shopper_ids, cands, search_fav)[0] > 0).any(axis=1).mean() > 0.5
    home = home_request(catalog, rng, batch=300, day=20, shoppers=2000)
    np.testing.assert_array_equal(
        store.pair_history(home.shopper_ids, home.candidates)[0],
        _brute_pair_counts(store, home.shopper_ids, home.candidates)[0],
    )


def test_pair_history_when_candidates_are_not_laid_out_as_the_shelf(store, catalog, rng):
    req = search_request(catalog, rng, batch=200, day=20, shoppers=2000)
    aisle = store.fav[req.shopper_ids, 0]
    cands = rng.permuted(catalog.shelf[aisle], axis=1)  # same items, other columns
    mixed = np.where(np.arange(200)[:, None] % 2 == 0, cands, catalog.shelf[aisle])
    query = np.where(np.arange(200) % 3 == 0, -1, aisle)  # -1: no same-aisle promise for that row
    got = store.pair_history(req.shopper_ids, mixed, query)[0]
    np.testing.assert_array_equal(got, _brute_pair_counts(store, req.shopper_ids, mixed)[0])
    assert got.sum() > 0


def test_history_counts_and_last_day(catalog):
    store = FeatureStore(catalog)
    store.ingest(day_log(catalog, 3, np.array([7, 7, 7, 8]), np.array([11, 11, 12, 11])))
    store.ingest(day_log(catalog, 5, np.array([7]), np.array([12])))
    items, count, last = store.history(np.array([7, 8, 9]))
    held = {int(i): (int(c), int(d)) for i, c, d in zip(items[0], count[0], last[0], strict=True) if i >= 0}
    assert held == {11: (2, 3), 12: (2, 5)}
    assert (items[1] >= 0).sum() == 1 and (items[2] == -1).all()


def test_history_evicts_the_least_bought_then_oldest(catalog):
    store = FeatureStore(catalog, history_slots=3)
    store.ingest(day_log(catalog, 0, np.array([1, 1, 1, 1, 1]), np.array([10, 10, 20, 30, 30])))
    store.ingest(day_log(catalog, 1, np.array([1]), np.array([40])))  # evicts 20 (bought once)
    store.ingest(day_log(catalog, 2, np.array([1]), np.array([50])))  # evicts 40: the only item bought once
    items = set(store.history(np.array([1]))[0][0].tolist())
    assert items == {10, 30, 50}
    # more new items in a day than slots: the most bought are admitted
    store.ingest(day_log(catalog, 3, np.array([2] * 7), np.array([60, 61, 61, 62, 62, 62, 63])))
    held = dict(zip(*[a[0].tolist() for a in store.history(np.array([2]))[:2]], strict=True))
    assert held == {62: 3, 61: 2, 60: 1}


def test_point_in_time_nothing_visible_before_ingest(catalog):
    store = FeatureStore(catalog)
    log = day_log(catalog, 6, np.array([3, 3]), np.array([100, 101]))
    cands = np.array([[100, 101, 102]], np.int32)
    assert store.pair_history(np.array([3]), cands)[0].tolist() == [[0, 0, 0]]
    assert store.item_purchases[100] == 0 and store.through_day == -1
    store.ingest(log)
    assert store.pair_history(np.array([3]), cands)[0].tolist() == [[1, 1, 0]]
    assert store.item_purchases[100] == 1 and store.through_day == 6
    with pytest.raises(RankerError, match="day_log holds day 5 but day 6 was already ingested"):
        store.ingest(day_log(catalog, 5, np.array([3]), np.array([100])))


def test_grows_for_new_shopper_ids_and_reads_unseen_ids_as_empty(catalog):
    store = FeatureStore(catalog, capacity=4)
    store.ingest(day_log(catalog, 0, np.array([2, 3]), np.array([5, 6])))
    cap = store._cap
    store.ingest(day_log(catalog, 1, np.array([50_000]), np.array([7])))  # a new cohort
    assert store._cap >= 50_001 and store.n_shoppers == 50_001
    assert store.pair_history(np.array([2, 50_000]), np.array([[5, 7], [5, 7]], np.int32))[0].tolist() == [
        [1, 0],
        [0, 1],
    ]
    before = store._cap
    feats = store.shopper_features(np.array([10**9]), day=2)  # never seen: defaults, no allocation
    assert store._cap == before > cap
    assert feats[0].tolist() == [0, 0, 0, 0, 0, DAYS_CAP, DAYS_CAP, 0]


def test_shopper_features(catalog):
    store = FeatureStore(catalog)
    store.ingest(day_log(catalog, 2, np.array([4, 4]), np.array([1, 2])))
    store.ingest(day_log(catalog, 9, np.array([4]), np.array([3])))
    spend = float(catalog.price[[1, 2, 3]].astype(np.float32).sum())
    f = dict(zip(SHOPPER_FEATURE_NAMES, store.shopper_features(np.array([4]), day=12)[0].tolist(), strict=True))
    assert f["n_orders"] == 2 and f["n_visits"] == 2 and f["has_ordered"] == 1
    assert f["total_spend"] == pytest.approx(spend, rel=1e-6)
    assert f["avg_order_value"] == pytest.approx(spend / 2, rel=1e-6)
    assert f["tenure_days"] == 10 and f["days_since_last_visit"] == 3 and f["days_since_last_order"] == 3
    assert store.first_order_day(np.array([4, 5])).tolist() == [2, -1]
    assert store.last_order_day(np.array([4, 5])).tolist() == [9, -1]


def test_item_features_and_ctr_from_slates(catalog):
    store = FeatureStore(catalog)
    log = day_log(catalog, 0, np.array([1]), np.array([5]))
    slate = np.array([[5, 6, -1], [6, 7, 5]], np.int32)
    clicked = np.array([[True, False, False], [True, True, False]])
    log["slates"] = {c: np.zeros(2, t.split("[")[0]) for c, (t, _) in SLATE_COLUMNS.items()}
    log["slates"].update(slate=slate, clicked=clicked, day=np.zeros(2, np.int32))
    store.ingest(log)
    assert store.item_impressions[[5, 6, 7]].tolist() == [2, 2, 1]
    assert store.item_clicks[[5, 6, 7]].tolist() == [1, 1, 1]
    prior = 3 / 5
    assert store.ctr()[7] == pytest.approx((1 + 20 * prior) / (1 + 20))
    feats = store.item_features()
    assert feats.shape == (catalog.n_products, len(ITEM_FEATURE_NAMES)) and feats.dtype == np.float32
    assert feats[5, ITEM_FEATURE_NAMES.index("log_purchases")] == pytest.approx(np.log(2))


def test_missing_column_is_named(catalog):
    log = day_log(catalog, 0, np.array([1]), np.array([5]))
    del log["purchases"]["item_id"]
    with pytest.raises(RankerError, match=r"day_log\['purchases'\] lacks column 'item_id'"):
        FeatureStore(catalog).ingest(log)


def test_aisle_history_lists_exactly_the_slots_of_the_aisle(store, catalog, rng):
    """Against the slots themselves: every held item of the row's aisle, once, with its count and day."""
    ids = np.concatenate([rng.integers(0, 2000, 400), [5_000_000, 1999]])  # one never seen
    aisle = np.concatenate([store.fav[np.minimum(ids[:-2], 1999), 0], [3, -1]])
    aisle[::7] = rng.integers(0, catalog.n_aisles, len(aisle[::7]))
    row, item, slot = store.aisle_history(ids, aisle)
    count, last = store.slot_history(slot)
    got = sorted(zip(row.tolist(), item.tolist(), count.tolist(), last.tolist(), strict=True))
    items, counts, lasts = store.history(ids)
    want = sorted(
        (b, int(i), int(c), int(d))
        for b in range(len(ids))
        for i, c, d in zip(items[b], counts[b], lasts[b], strict=True)
        if i >= 0 and catalog.aisle[i] == aisle[b]
    )
    assert got == want and len(want) > 300
    store._aisle_range = None  # a catalog whose aisles are not id ranges: one lookup per slot instead
    again = store.aisle_history(ids, aisle)
    assert all(np.array_equal(a, b) for a, b in zip(again, (row, item, slot), strict=True))
