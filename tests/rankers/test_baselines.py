"""What each baseline puts first: popularity, own purchases, sponsored items and margin."""

from __future__ import annotations

import numpy as np

import basketgym.rankers as rankers
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest
from basketgym.rankers import ads
from basketgym.rankers.testing import day_log


def _request(cands, *, day, surface=SURFACE_HOME, shoppers=None, query=None, k=10, ads=(), max_sponsored=0):
    cands = np.atleast_2d(np.asarray(cands, np.int32))
    b = len(cands)
    return RankRequest(
        day=day,
        surface=surface,
        shopper_ids=np.arange(b, dtype=np.int64) if shoppers is None else np.asarray(shoppers, np.int64),
        query=np.full(b, -1, np.int32) if query is None else np.asarray(query, np.int32),
        candidates=cands,
        slate_size=k,
        ad_positions=ads,
        max_sponsored=max_sponsored,
    )


def _available_items(catalog, n, *, aisle=None):
    ok = catalog.available & (catalog.aisle == aisle if aisle is not None else True)
    return np.flatnonzero(ok)[:n]


def test_popularity_ranks_by_purchase_counts(catalog):
    a, b, c, *rest = _available_items(catalog, 8).tolist()
    ranker = rankers.make_ranker("popularity")
    ranker.reset(catalog, seed=0)
    buys = [a] * 5 + [b] * 3 + [c] * 1
    ranker.update(day_log(catalog, 0, np.arange(len(buys)), np.array(buys)))
    slate = ranker.rank(_request([rest[:2] + [c, -1, a, b] + rest[2:]], day=1)).slate[0]
    never = sorted(rest, key=lambda i: (catalog.price[i], i))  # cold items: cheaper first
    assert slate.tolist() == [a, b, c] + never + [-1] * 2


def test_popularity_cold_start_is_cheapest_first(catalog):
    items = _available_items(catalog, 12)
    ranker = rankers.make_ranker("popularity")
    ranker.reset(catalog, seed=0)
    slate = ranker.rank(_request([items], day=0)).slate[0]
    assert slate.tolist() == sorted(items.tolist(), key=lambda i: (catalog.price[i], i))[:10]


def test_popularity_decays_with_a_14_day_half_life(catalog):
    old, new = _available_items(catalog, 2).tolist()
    ranker = rankers.make_ranker("popularity")
    ranker.reset(catalog, seed=0)
    ranker.update(day_log(catalog, 0, np.arange(4), np.full(4, old)))  # 4 purchases, 40 days ago
    ranker.update(day_log(catalog, 40, np.arange(3), np.full(3, new)))  # 3 purchases, yesterday
    recent = ranker.features.recent_purchases()
    assert np.isclose(recent[old], 4 * 0.5 ** (40 / 14)) and recent[new] == 3.0
    assert ranker.rank(_request([[old, new]], day=41)).slate[0, :2].tolist() == [new, old]
    assert ranker.features.item_purchases[old] == 4  # the all-time count does not decay


def test_popularity_follows_price_changes_for_ties(catalog):
    x, y = _available_items(catalog, 2).tolist()
    ranker = rankers.make_ranker("popularity")
    ranker.reset(catalog, seed=0)
    first = ranker.rank(_request([[x, y]], day=0)).slate[0, :2].tolist()
    cheap, dear = first
    catalog.price[dear] = catalog.price[cheap] / 2  # a promotion: the live price array changes
    assert ranker.rank(_request([[x, y]], day=0)).slate[0, :2].tolist() == [dear, cheap]


def test_buy_again_puts_own_purchases_first(catalog):
    aisle = int(np.argmax((catalog.shelf >= 0).sum(axis=1)))
    shelf = catalog.shelf[aisle]
    shelf = shelf[(shelf >= 0) & catalog.available[np.maximum(shelf, 0)]]
    p, q, r, s = shelf[[5, 9, 2, 7]].tolist()
    popular = shelf[0]
    ranker = rankers.make_ranker("buy_again")
    ranker.reset(catalog, seed=0)
    me, other = 42, 43
    ranker.update(day_log(catalog, 1, np.array([me, me, other] + [other] * 6), np.array([p, p, q] + [popular] * 6)))
    ranker.update(day_log(catalog, 2, np.array([me]), np.array([q])))
    ranker.update(day_log(catalog, 3, np.array([me, me, me]), np.array([r, r, s])))
    # counts: p 2 (day 1), r 2 (day 3), q 1 (day 2), s 1 (day 3); the popular item comes next
    expected = [r, p, s, q, popular]
    cands = catalog.shelf[aisle][None, :]
    for surface, query in ((SURFACE_SEARCH, [aisle]), (SURFACE_HOME, [-1])):
        slate = ranker.rank(_request(cands, day=4, surface=surface, shoppers=[me], query=query)).slate[0]
        assert slate[:5].tolist() == expected
    # a shopper with no history gets the popularity order
    pop = rankers.make_ranker("popularity")
    pop.reset(catalog, seed=0)
    for d, (who, what) in enumerate(
        [([me, me, other] + [other] * 6, [p, p, q] + [popular] * 6), ([me], [q]), ([me, me, me], [r, r, s])]
    ):
        pop.update(day_log(catalog, d + 1, np.array(who), np.array(what)))
    stranger = _request(cands, day=4, surface=SURFACE_SEARCH, shoppers=[10**6], query=[aisle])
    np.testing.assert_array_equal(ranker.rank(stranger).slate, pop.rank(stranger).slate)


def test_buy_again_skips_bought_items_that_are_out_of_stock(catalog):
    p, q = _available_items(catalog, 2).tolist()
    ranker = rankers.make_ranker("buy_again")
    ranker.reset(catalog, seed=0)
    ranker.update(day_log(catalog, 0, np.array([1, 1, 1]), np.array([p, p, q])))
    catalog.available[p] = False
    assert ranker.rank(_request([[p, q]], day=1, shoppers=[1])).slate[0].tolist() == [q] + [-1] * 9


def test_margin_greedy_puts_the_highest_bids_on_top(catalog):
    items = _available_items(catalog, 300)
    eligible = items[catalog.ad_eligible[items]][:12]
    plain = items[~catalog.ad_eligible[items]][:12]
    cands = np.concatenate([plain, eligible])
    ranker = rankers.make_ranker("margin_greedy")
    ranker.reset(catalog, seed=0)
    resp = ranker.rank(_request([cands], day=0, ads=(0, 4), max_sponsored=3))
    slate, sponsored = resp.slate[0], resp.sponsored[0]
    margin = catalog.price * catalog.margin_rate
    by_bid = sorted(eligible.tolist(), key=lambda i: (-catalog.bid[i], -margin[i], i))
    assert slate[:3].tolist() == by_bid[:3]
    assert sponsored.tolist() == [True] * 3 + [False] * 7  # positions 0..2, not the auction's (0, 4)
    rest = sorted(set(cands.tolist()) - set(by_bid[:3]), key=lambda i: (-np.float32(margin[i]), i))
    assert slate[3:].tolist() == rest[:7]
    assert (resp.propensity[0] == 1.0).all()


def test_standard_auction_in_a_scoring_ranker(catalog):
    """Popularity's ads: highest bid x 1/(1 + organic rank) at positions 0 and 4, no duplicates."""
    items = _available_items(catalog, 40)
    ranker = rankers.make_ranker("popularity")
    ranker.reset(catalog, seed=0)
    organic = ranker.rank(_request([items], day=0, k=40)).slate[0]  # no ads: the full organic order
    pctr = ads.rank_pctr(len(organic))
    value = {int(i): catalog.bid[i] * pctr[r] for r, i in enumerate(organic) if catalog.ad_eligible[i]}
    best = sorted(value, key=lambda i: (-value[i], list(organic).index(i)))[:2]
    resp = ranker.rank(_request([items], day=0, ads=(0, 4), max_sponsored=3))
    slate = resp.slate[0].tolist()
    assert [slate[0], slate[4]] == best
    assert resp.sponsored[0].tolist() == [True, False, False, False, True] + [False] * 5
    rest = [i for i in organic.tolist() if i not in best]
    assert slate[1:4] + slate[5:] == rest[:8]
