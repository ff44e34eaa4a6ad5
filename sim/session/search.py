"""Search, a surface: every intent still open searches its aisle's shelf; a need still unmet may be found organically.

The query names the aisle, the candidates are the aisle's shelf (available items) and the shopper
reads the slate with position bias, buying at most one item per search. The same functions as
``sim.session.home``: ``rows``, ``request``, ``check``, ``read``.
"""

from __future__ import annotations

import numpy as np

from basketgym.agents import choice
from basketgym.contract import rng
from basketgym.contract.logs import SOURCE_ORGANIC, SOURCE_SEARCH
from basketgym.contract.protocol import SURFACE_SEARCH, RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.sim.session.context import VisitContext, at, stable_order
from basketgym.sim.session.shadow import Outcome, click_probability, shadow, truth_draws
from basketgym.sim.session.slates import bought_mask, record_slates
from basketgym.sim.session.visits import PRIORITY_NEED, PRIORITY_WANT, Lines, Visits
from basketgym.sim.validate import check_response

SURFACE, SOURCE = SURFACE_SEARCH, SOURCE_SEARCH


def rows(ctx: VisitContext, vs: Visits) -> np.ndarray:
    """Intents still open (after the home feed), grouped by aisle: one search each (per-aisle blocks)."""
    open_rows = np.flatnonzero(~vs.resolved)
    return open_rows[stable_order(vs.it.aisle[open_rows])]


def request(ctx: VisitContext, vs: Visits, rows: np.ndarray) -> RankRequest:
    """The search request of intents ``rows`` (one day and epoch): query the aisle, candidates its shelf."""
    mk = ctx.marketplace
    q = vs.it.aisle[rows]
    cands = ctx.market.search_shelf[vs.ep, q]
    sid = vs.ids[vs.it.session[rows]]
    return RankRequest(
        vs.day, SURFACE_SEARCH, sid, q.astype(np.int32), cands, mk.slate_size, mk.ad_positions, mk.max_sponsored
    )


def check(ctx: VisitContext, request: RankRequest, response: RankResponse) -> None:
    """Search rows are shelf rows: an item sits at its shelf position."""
    check_response(request, response, ctx.shop.public, ctx.ranker_name, ctx.shop.public.shelf_pos)


def choose(
    ctx: VisitContext, vs: Visits, rows: np.ndarray, full: np.ndarray, slate: np.ndarray, expected: bool = False
) -> tuple[np.ndarray, ...]:
    """How the searches of intents ``rows`` read slates ``slate`` (R, K): (examined, clicked, bought position or -1).

    ``full`` (R, W) is every shelf item's deterministic utility (``shelf_utility``). ``expected``:
    also each placement's click and purchase probabilities given the shopper's state, before the
    shocks (purchase: Monte Carlo over the other placements' examination).
    """
    b, pub, it, exam_p = ctx.behaviour, ctx.shop.public, vs.it, ctx.shop.exam_p
    q = it.aisle[rows]
    sess = it.session[rows]
    sid = vs.ids[sess]
    day = at(vs.day, sess)
    k = slate.shape[1]
    valid = slate >= 0
    items = np.maximum(slate, 0)
    util = full[np.arange(len(rows))[:, None], pub.shelf_pos[items]]
    shock = rng.gumbel_from_uniform(rng.uniform_keyed(ctx.seed, Purpose.UTILITY, sid, day, items))
    ukey = q[:, None] * 128 + np.arange(k)[None, :]
    u_exam = rng.uniform_keyed(ctx.seed, Purpose.EXAMINE_SEARCH, sid, day, ukey)
    p = exam_p[None, :k] + b.need_persistence * it.need[rows][:, None] * (1.0 - exam_p[None, :k])
    examined = valid & (u_exam < p)
    util = np.where(valid, util, -np.inf)
    clicked, bought = choice.decide(util, shock, examined, it.affinity[rows] + b.click_threshold, it.buy[rows])
    if expected:
        click_thr = it.affinity[rows] + b.click_threshold
        p_click = click_probability(valid * p, util, click_thr[:, None])
        thr = np.broadcast_to(np.maximum(click_thr, it.buy[rows])[:, None], util.shape)
        group = np.zeros(util.shape, np.int64)  # one purchase per search: every placement competes
        p_buy = choice.choice_probability(util, valid * p, group, thr, truth_draws(ctx, sid, day, k))
        return examined, clicked, bought, p_click, p_buy
    return examined, clicked, bought


def read(ctx: VisitContext, vs: Visits, rows: np.ndarray, cands: np.ndarray, resp: RankResponse) -> None:
    """The searches of intents ``rows`` (from ``rows``) read their slates and buy, or a need is found anyway."""
    it = vs.it
    q = it.aisle[rows]
    sess = it.session[rows]
    full = shelf_utility(ctx, at(vs.ep, sess), vs.v[sess], q, vs.alpha[sess], vs.taste[sess])
    full = np.where(cands >= 0, full, -np.inf)
    slate = resp.slate
    examined, clicked, bought = choose(ctx, vs, rows, full, slate)
    if ctx.observer is not None:
        k = slate.shape[1]

        def counterfactual(alt: np.ndarray) -> Outcome:
            _, alt_clicked, alt_bought, p_click, p_buy = choose(ctx, vs, rows, full, alt, expected=True)
            return alt_clicked, bought_mask(alt_bought, k), p_click, p_buy

        shadow(ctx, vs, SURFACE_SEARCH, q, sess, counterfactual(slate), counterfactual)
    hit = bought >= 0
    purchased = bought_mask(bought, slate.shape[1])
    vs.resolved[rows[hit]] = True
    hr = np.flatnonzero(hit)
    at_pos = bought[hr]
    prio = np.where(it.need[rows[hr]], PRIORITY_NEED, PRIORITY_WANT)
    vs.lines.append(Lines(sess[hr], slate[hr, at_pos], np.full(len(hr), SOURCE_SEARCH), at_pos,
                          resp.sponsored[hr, at_pos], rows[hr], prio, hr))  # fmt: skip
    record_slates(ctx, vs, SURFACE_SEARCH, SOURCE_SEARCH, sess, q, cands, resp, examined, clicked, purchased)
    _organic(ctx, vs, rows, cands, full, hit)


def _organic(
    ctx: VisitContext, vs: Visits, rows: np.ndarray, cands: np.ndarray, full: np.ndarray, hit: np.ndarray
) -> None:
    """A need the slate did not meet may be found anyway by browsing the aisle: its best item, if it clears the bar."""
    it = vs.it
    o = np.flatnonzero(~hit & it.need[rows])
    if not len(o):
        return
    sess, q = it.session[rows], it.aisle[rows]
    sid, day = vs.ids[sess], at(vs.day, sess)
    u_org = rng.uniform_keyed(ctx.seed, Purpose.ORGANIC, sid[o], at(day, o), q[o][:, None])[:, 0]
    best = full[o].argmax(axis=1)
    item = cands[o, best]
    fine = (item >= 0) & (u_org < ctx.behaviour.organic_find)
    o_shock = rng.gumbel_from_uniform(
        rng.uniform_keyed(ctx.seed, Purpose.UTILITY, sid[o], at(day, o), np.maximum(item, 0)[:, None])[:, 0]
    )
    ok = fine & (full[o, best] + o_shock > it.buy[rows[o]])
    oo = o[ok]
    vs.resolved[rows[oo]] = True
    none = np.full(len(oo), -1)
    vs.lines.append(Lines(sess[oo], item[ok], np.full(len(oo), SOURCE_ORGANIC), none, np.zeros(len(oo), bool),
                          rows[oo], np.full(len(oo), PRIORITY_NEED), none))  # fmt: skip


def shelf_utility(
    ctx: VisitContext, ep: int | np.ndarray, shopper: np.ndarray, q: np.ndarray, alpha: np.ndarray, taste: np.ndarray
) -> np.ndarray:
    """(R, W) deterministic utility of every product on each searched aisle's shelf (state rows ``shopper``).

    ``q`` must be sorted (requests grouped by aisle): one small matrix product per aisle on a
    contiguous block, instead of per-row gathers of item embeddings (measured ~4x faster);
    habits are added sparsely afterwards.
    """
    b, shop, st = ctx.behaviour, ctx.shop, ctx.state
    r, width = len(q), shop.shelf.shape[1]
    out = np.empty((r, width), np.float32)
    alpha32 = alpha.astype(np.float32)
    bounds = np.flatnonzero(np.diff(q)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [r]]).tolist()
    for s, e in zip(starts, ends, strict=True):
        np.matmul(taste[s:e], shop.shelf_latent_t[q[s]], out=out[s:e])
    # the elementwise rest over all rows at once (the same float32 operations in the same order)
    out *= np.float32(b.taste_weight)
    out += shop.shelf_quality[q]
    out -= alpha32[:, None] * ctx.market.shelf_lrp[ep, q]
    # habits: add the stock of habit items that sit on this aisle's shelf
    h_items = st.habit_item[shopper]
    h_stock = st.habit_stock[shopper]
    hpos = shop.public.shelf_pos[np.maximum(h_items, 0)]
    on = (h_items >= 0) & (shop.public.aisle[np.maximum(h_items, 0)] == q[:, None]) & (hpos < width)
    rr, hh = np.nonzero(on)
    out[rr, hpos[rr, hh]] += np.float32(b.habit_weight) * h_stock[rr, hh]
    return out
