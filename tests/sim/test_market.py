"""The market: epochs of the catalog, prices and stock after scheduled events, shelves without unavailable items."""

import numpy as np
import pytest

from basketgym.sim.catalog import generate_catalog
from basketgym.sim.config import load_scenario
from basketgym.sim.market import Market, MarketTimeline, featured_pool
from basketgym.sim.session.context import ShopView


@pytest.fixture(scope="module")
def smoke():
    # promotion: department 1, day 10 for 5 days, 25% off half of it; stock-out: aisle 3, day 15 for 4 days
    return load_scenario("smoke").replace(days=25)


@pytest.fixture(scope="module")
def timeline(smoke):
    cat = generate_catalog(smoke.catalog, 3)
    return cat, MarketTimeline(smoke, 3, cat, ShopView.build(smoke, cat).shelf, smoke.days)


def test_one_epoch_per_distinct_catalog_state(timeline):
    _, tl = timeline
    e = tl.epoch_of_day
    assert e.tolist() == [0] * 10 + [1] * 5 + [2] * 4 + [3] * 6  # a new epoch at every event boundary
    assert tl.market.epochs == 4


def test_prices_and_stock_after_the_events(timeline):
    cat, tl = timeline
    pub, m = cat.public, tl.market
    base = np.round(pub.base_price, 2).astype(np.float32)
    assert np.array_equal(m.price[0], base) and m.available[0].all()
    cut = np.flatnonzero(m.price[1] != m.price[0])
    assert len(cut) and (pub.department[cut] == 1).all()
    assert 0.3 < len(cut) / (pub.department == 1).sum() < 0.7  # half the department (share 0.5)
    assert np.allclose(m.price[1, cut], np.round(pub.base_price[cut] * 0.75, 2))
    # day 15: the promotion is over, the stock-out starts
    assert np.array_equal(m.price[2], m.price[0])
    out = np.flatnonzero(~m.available[2])
    assert len(out) and (pub.aisle[out] == 3).all()
    assert np.array_equal(m.price[3], m.price[0]) and m.available[3].all()
    # the live catalog the timeline replayed on is a private copy
    assert np.array_equal(pub.price, base)


def test_search_shelves_drop_unavailable_items_and_log_prices_are_relative(timeline, smoke):
    cat, tl = timeline
    m, shelf = tl.market, ShopView.build(smoke, cat).shelf
    gone = m.search_shelf[2, 3]
    assert set(gone[gone >= 0].tolist()) == set(shelf[3][m.available[2, np.maximum(shelf[3], 0)] & (shelf[3] >= 0)])
    assert (gone == -1).sum() > (shelf[3] == -1).sum()
    ref = cat.aisle_ref_price[cat.public.aisle]
    assert np.allclose(m.log_rel_price[1], np.log(m.price[1] / ref))
    ok = shelf >= 0
    assert np.allclose(m.shelf_lrp[1][ok], m.log_rel_price[1][shelf[ok]])


def test_market_allocate_and_featured_pools(timeline):
    cat, tl = timeline
    m = Market.allocate(2, 400, np.zeros((40, 12), np.int32))
    assert m.price.shape == (2, 400) and m.search_shelf.shape == (2, 40, 12) and (m.search_shelf == -1).all()
    pools = tl.featured(np.array([0, 16, 0]))
    assert np.array_equal(pools[0], pools[2])
    direct = featured_pool(3, cat.public, tl.market.available[2], smoke_featured := tl.home_featured, 16)
    assert np.array_equal(pools[1][: len(direct)], direct) and len(direct) == smoke_featured
    assert tl.market.available[2, direct].all() and np.all(np.diff(direct) > 0)
