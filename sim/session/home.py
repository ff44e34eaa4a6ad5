"""The home feed, a surface: order-again history plus the day's featured pool; it may meet intents or sell on impulse.

A surface module exposes ``SURFACE``, ``SOURCE``, ``rows`` (what gets a slate now), ``request``,
``check`` (the world's check of a ranker's answer) and ``read`` (the shoppers read the slates);
``sim.session.steps`` shows the surfaces in order.
"""

from __future__ import annotations

import numpy as np

from basketgym.agents import choice
from basketgym.contract import rng, slots
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.logs import SOURCE_HOME
from basketgym.contract.protocol import SURFACE_HOME, RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.sim.market import featured_pool
from basketgym.sim.session.context import VisitContext, col
from basketgym.sim.session.shadow import Outcome, click_probability, shadow, truth_draws
from basketgym.sim.session.slates import record_slates
from basketgym.sim.session.visits import PRIORITY_IMPULSE, PRIORITY_NEED, PRIORITY_WANT, Lines, Visits
from basketgym.sim.validate import check_response

SURFACE, SOURCE = SURFACE_HOME, SOURCE_HOME


class FeaturedPools:
    """The day's featured pool of a live catalog, computed once a day, and where its items sit in home requests."""

    def __init__(self, seed: int, public: PublicCatalog, k: int, history_width: int):
        self.seed, self.public, self.k, self.history_width = int(seed), public, int(k), int(history_width)
        self.day = -1
        self.pool = np.zeros(0, np.int32)
        self.pos = np.zeros(0, np.int64)  # (P,) each item's position in the pool, -1 if absent
        self.home_column = np.full(public.n_products, -1, np.int64)  # (P,) its column in a home request

    def of(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The day's featured pool (sorted ids) and each item's position in it (-1 if absent)."""
        if self.day != day:
            self.pool = featured_pool(self.seed, self.public, self.public.available, self.k, day)
            pos = np.full(self.public.n_products, -1, np.int64)
            pos[self.pool] = np.arange(len(self.pool))
            self.pos = pos
            # after the order history in a home request's candidates
            self.home_column = np.where(pos >= 0, self.history_width + pos, -1)
            self.day = day
        return self.pool, self.pos


def rows(ctx: VisitContext, vs: Visits) -> np.ndarray:
    """Every visit gets a home slate (none when the scenario has no home feed)."""
    return np.arange(len(vs.v) if ctx.marketplace.home_slate_size > 0 else 0)


def request(ctx: VisitContext, vs: Visits, rows: np.ndarray) -> RankRequest:
    """The home-feed request of visits ``rows`` (one shared day): order-again history + featured pool.

    Built from what the platform knows (its order history, the live catalog).
    """
    mk, pub = ctx.marketplace, ctx.shop.public
    featured, featured_pos = ctx.featured.of(vs.day)
    n = len(rows)
    hist = ctx.history.items[vs.v[rows]]
    hist = np.where((hist >= 0) & pub.available[np.maximum(hist, 0)], hist, -1)
    # featured items already in the shopper's history are not offered twice
    feat = np.broadcast_to(featured, (n, len(featured))).copy()
    j = featured_pos[np.maximum(hist, 0)]
    hr, hc = np.nonzero((hist >= 0) & (j >= 0))
    feat[hr, j[hr, hc]] = -1
    cands = np.concatenate([hist, feat], axis=1).astype(np.int32)
    query = np.full(n, -1, np.int32)
    return RankRequest(vs.day, SURFACE_HOME, vs.ids[rows], query, cands, mk.home_slate_size, mk.ad_positions,
                       mk.max_sponsored)  # fmt: skip


def check(ctx: VisitContext, request: RankRequest, response: RankResponse) -> None:
    """Home rows hold the featured pool at fixed columns after the order history."""
    width = ctx.history.items.shape[1]
    check_response(request, response, ctx.shop.public, ctx.ranker_name, ctx.featured.home_column, width)


def _habit_for(ctx: VisitContext, shopper_rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Current habit stock of each shopper for each item (rows must be refreshed to today)."""
    st = ctx.state
    slot = slots.find(st.habit_item, shopper_rows, items)
    stock = st.habit_stock[shopper_rows[:, None], np.maximum(slot, 0).reshape(len(shopper_rows), -1)]
    return np.where(slot >= 0, stock.reshape(slot.shape), 0.0)


def choose(ctx: VisitContext, vs: Visits, slate: np.ndarray, expected: bool = False) -> tuple[np.ndarray, ...]:
    """How the visitors read home slates ``slate`` (n, K): (examined, clicked, purchased, intent served).

    ``expected``: also each placement's click and purchase (carted) probabilities given the shopper's
    state, before the shocks (purchase: Monte Carlo over the other placements' examination).
    """
    b, cat, pub, shop = ctx.behaviour, ctx.shop.catalog, ctx.shop.public, ctx.shop
    v, ids, day, it, n = vs.v, vs.ids, vs.day, vs.it, len(vs.v)
    m = len(it.session)
    kh = slate.shape[1]
    valid = slate >= 0
    items = np.maximum(slate, 0)
    taste_dot = np.einsum("nkd,nd->nk", cat.latent[items], vs.taste)
    item_aff = vs.aisle_aff[np.arange(n)[:, None], pub.aisle[items]]
    util = choice.item_utility(
        taste_dot,
        cat.quality[items],
        ctx.market.log_rel_price[col(vs.ep), items],
        vs.alpha[:, None],
        _habit_for(ctx, v, items),
        b.taste_weight,
        b.habit_weight,
    )
    shock = rng.gumbel_from_uniform(rng.uniform_keyed(ctx.seed, Purpose.UTILITY, ids, day, items))
    examined = valid & (rng.uniform(ctx.seed, Purpose.EXAMINE_HOME, ids, day, kh) < shop.exam_p[:kh][None, :])
    # which open intent (if any) each shown item serves
    ikey = it.session * shop.n_aisles + it.aisle
    korder = np.argsort(ikey, kind="stable")
    ksorted = ikey[korder]
    skey = np.arange(n)[:, None] * shop.n_aisles + pub.aisle[items].astype(np.int64)
    pos = np.minimum(np.searchsorted(ksorted, skey), max(m - 1, 0))
    match = valid & (ksorted[pos] == skey) if m else np.zeros_like(valid)
    intent = np.where(match, korder[pos], -1) if m else np.full(valid.shape, -1)
    buy_thr = np.where(match, it.buy[np.maximum(intent, 0)] if m else 0.0, b.impulse_threshold)
    noisy = util + shock
    clicked = examined & (noisy > item_aff + b.click_threshold)
    want = clicked & (noisy > buy_thr)
    # at most one purchase per intent: the best noisy utility among the items serving it
    r, c = np.nonzero(want & match)
    best = np.full(m, -np.inf)
    np.maximum.at(best, intent[r, c], noisy[r, c])
    keep = noisy[r, c] >= best[intent[r, c]]
    purchased = want & ~match
    purchased[r[keep], c[keep]] = True
    if expected:
        exam = valid * shop.exam_p[:kh][None, :]
        p_click = click_probability(exam, util, item_aff + b.click_threshold)
        thr = np.maximum(item_aff + b.click_threshold, buy_thr)
        p_buy = choice.choice_probability(util, exam, intent, thr, truth_draws(ctx, ids, day, kh))
        return examined, clicked, purchased, intent, p_click, p_buy
    return examined, clicked, purchased, intent


def read(ctx: VisitContext, vs: Visits, rows: np.ndarray, cands: np.ndarray, resp: RankResponse) -> None:
    """The visits ``rows`` (the whole batch) read their home slates: clicks, intents met, impulse buys."""
    it, n = vs.it, len(vs.v)
    m = len(it.session)
    slate = resp.slate
    examined, clicked, purchased, intent = choose(ctx, vs, slate)
    if ctx.observer is not None:

        def counterfactual(alt: np.ndarray) -> Outcome:
            _, alt_clicked, alt_purchased, _, p_click, p_buy = choose(ctx, vs, alt, expected=True)
            return alt_clicked, alt_purchased, p_click, p_buy

        shadow(ctx, vs, SURFACE_HOME, np.full(n, -1), rows, counterfactual(slate), counterfactual)
    pr, pc = np.nonzero(purchased)
    p_int = intent[pr, pc]
    vs.resolved[p_int[p_int >= 0]] = True
    p_need = it.need[np.maximum(p_int, 0)] if m else np.zeros(len(p_int), bool)
    prio = np.where(p_int >= 0, np.where(p_need, PRIORITY_NEED, PRIORITY_WANT), PRIORITY_IMPULSE)
    vs.lines.append(Lines(pr, slate[pr, pc], np.full(len(pr), SOURCE_HOME), pc, resp.sponsored[pr, pc], p_int, prio,
                          pr))  # fmt: skip
    record_slates(ctx, vs, SURFACE_HOME, SOURCE_HOME, rows, np.full(n, -1), cands, resp, examined, clicked, purchased)
