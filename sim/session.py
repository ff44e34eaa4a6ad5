"""One day's sessions for a chunk of visitors, vectorised: intents, home feed, search, organic finds, checkout.

The flow of a visit (DESIGN.md "A session"): pantry needs plus exploratory wants become intents;
the home feed is shown first and may satisfy intents or trigger impulse buys; every intent still
open is searched (query = the aisle's name), the ranker orders the aisle's shelf and the shopper
reads the slate with position bias; a need still unmet may be found anyway by browsing (organic);
the budget trims the cart; checkout updates pantry, habits, order history, satisfaction, churn and
the next trip. All arrays are over the chunk's sessions or intents, never per shopper objects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agents import choice, habit, pantry, satisfaction, visits
from agents.state import NEVER
from sim import rng, slots
from sim.eventlog import SOURCE_HOME, SOURCE_ORGANIC, SOURCE_SEARCH
from sim.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest, RankResponse
from sim.rng import Purpose
from sim.validate import check_response

if TYPE_CHECKING:
    from sim.world import World

PRIORITY_NEED, PRIORITY_WANT, PRIORITY_IMPULSE = 0, 1, 2


@dataclass
class Intents:
    """Flattened intents of a chunk, sorted by session, needs first."""

    session: np.ndarray  # (M,) index into the chunk's visitors
    aisle: np.ndarray  # (M,) int
    need: np.ndarray  # (M,) bool
    affinity: np.ndarray  # (M,) the shopper's taste for the aisle (the reference utility)
    buy: np.ndarray  # (M,) utility a clicked item must clear to be bought (outside option)


def _poisson_inverse(u: np.ndarray, lam: float, cap: int) -> np.ndarray:
    """Poisson(lam) draws by inverting the CDF on uniforms, capped at ``cap``."""
    k = np.arange(cap + 1)
    logp = k * np.log(max(lam, 1e-12)) - lam - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(logp))
    cdf[-1] = 1.0
    return np.searchsorted(cdf, u).astype(np.int64)


def form_intents(w: World, day: int, v: np.ndarray) -> Intents:
    """Needs from the pantry and wants from favourite aisles, deduplicated per session."""
    st, b = w.state, w.cfg.behaviour
    need_mask = pantry.needs(st.pantry_runout[v], day, b.need_lookahead_days)
    n_sess, n_staple = np.nonzero(need_mask)
    n_aisle = w.staple_aisles[n_staple]

    fav = st.favourite_aisles[v]  # (n, F)
    f = fav.shape[1]
    u = rng.uniform(w.seed, Purpose.WANTS, v, day, f + 1)
    count = _poisson_inverse(u[:, 0], b.wants_per_visit, f)
    key = rng.gumbel_from_uniform(u[:, 1:]) - np.log(np.arange(1, f + 1))[None, :]
    rank = np.argsort(np.argsort(-key, axis=1, kind="stable"), axis=1, kind="stable")
    w_sess, w_col = np.nonzero(rank < count[:, None])
    w_aisle = fav[w_sess, w_col].astype(np.int64)

    sess = np.concatenate([n_sess, w_sess])
    aisle = np.concatenate([n_aisle, w_aisle]).astype(np.int64)
    need = np.concatenate([np.ones(len(n_sess), bool), np.zeros(len(w_sess), bool)])
    # one intent per (session, aisle), a need wins over a want; order: session, needs first, aisle
    order = np.lexsort((aisle, ~need, sess))
    sess, aisle, need = sess[order], aisle[order], need[order]
    key = sess * w.n_aisles + aisle
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    sess, aisle, need = sess[keep], aisle[keep], need[keep]

    shopper = v[sess]
    aff = np.einsum("md,md->m", st.taste[shopper], w.catalog.aisle_centroid[aisle]) * b.taste_weight
    buy = aff + np.where(need, b.need_threshold, b.want_threshold)
    return Intents(session=sess, aisle=aisle, need=need, affinity=aff.astype(np.float64), buy=buy.astype(np.float64))


def _rank(w: World, request: RankRequest) -> RankResponse:
    t0 = time.perf_counter()
    response = w.ranker.rank(request)
    w.latency.append((request.surface, request.batch_size, request.candidates.shape[1], time.perf_counter() - t0))
    check_response(request, response, w.public, w.ranker_name)
    return response


def _habit_for(w: World, shopper_rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Current habit stock of each shopper for each item (rows must be refreshed to today)."""
    slot = slots.find(w.state.habit_item, shopper_rows, items)
    stock = np.take_along_axis(
        w.state.habit_stock[shopper_rows], np.maximum(slot, 0).reshape(len(shopper_rows), -1), axis=1
    )
    return np.where(slot >= 0, stock.reshape(slot.shape), 0.0)


def _slate_log(
    w: World,
    day: int,
    shopper: np.ndarray,
    surface: int,
    query: np.ndarray,
    n_cand: np.ndarray,
    resp: RankResponse,
    clicked: np.ndarray,
    purchased: np.ndarray,
) -> dict[str, np.ndarray]:
    k_log = w.log_slate_width
    b, k = resp.slate.shape

    def pad(a: np.ndarray, fill: object) -> np.ndarray:
        if k == k_log:
            return a
        out = np.full((b, k_log), fill, a.dtype)
        out[:, :k] = a
        return out

    bid = np.where(resp.slate >= 0, w.public.bid[np.maximum(resp.slate, 0)], 0.0)
    ad_rev = (bid * (clicked & resp.sponsored)).sum(axis=1) * w.cfg.marketplace.cpc_scale
    return {
        "session_id": (day << 32) | shopper.astype(np.int64),
        "shopper_id": shopper.astype(np.int32),
        "day": np.full(b, day, np.int32),
        "surface": np.full(b, surface, np.int8),
        "query": query.astype(np.int16),
        "n_candidates": n_cand.astype(np.int16),
        "slate": pad(resp.slate.astype(np.int32), -1),
        "propensity": pad(resp.propensity.astype(np.float32), 0.0),
        "sponsored": pad(resp.sponsored.astype(bool), False),
        "clicked": pad(clicked, False),
        "purchased": pad(purchased, False),
        "ad_revenue": ad_rev.astype(np.float32),
    }


def simulate_chunk(w: World, day: int, v: np.ndarray) -> None:
    """Simulate the sessions of visitors ``v`` (sorted shopper ids) on ``day`` and log them."""
    st, b, mk, cat, pub = w.state, w.cfg.behaviour, w.cfg.marketplace, w.catalog, w.public
    n = len(v)
    # lazy habit decay: bring the visitors' habit stocks to today (only visitors are touched)
    st.habit_stock[v] = habit.decayed(st.habit_stock[v], st.habit_day[v], day, b.habit_decay_days)
    st.habit_day[v] = day

    it = form_intents(w, day, v)
    m = len(it.session)
    resolved = np.zeros(m, bool)
    taste_v = st.taste[v]
    alpha_v = st.price_sensitivity[v].astype(np.float64)

    # per-session experience counters
    examined_n = np.zeros(n)
    clicked_n = np.zeros(n)
    bad_ads_n = np.zeros(n)
    slate_n = np.zeros(n, np.int64)
    ad_rev_s = np.zeros(n)
    # purchase lines: session idx, item, source, position, sponsored, intent (-1 impulse), priority
    e = np.zeros(0, np.int64)
    lines: list[tuple[np.ndarray, ...]] = [(e, e, e, e, np.zeros(0, bool), e, e)]
    logged: dict[int, tuple[dict[str, np.ndarray], np.ndarray]] = {}  # source -> (slate log, row keys)

    # ---- home feed ------------------------------------------------------------------------
    kh = mk.home_slate_size
    if kh > 0:
        hist = w.order_history_items[v]
        hist = np.where(hist >= 0, hist, -1)
        hist = np.where((hist >= 0) & pub.available[np.maximum(hist, 0)], hist, -1)
        feat = np.broadcast_to(w.featured, (n, len(w.featured)))
        dup = (feat[:, :, None] == hist[:, None, :]).any(axis=2)
        cands = np.concatenate([hist, np.where(dup, -1, feat)], axis=1).astype(np.int32)
        req = RankRequest(day, SURFACE_HOME, v, np.full(n, -1, np.int32), cands, kh, mk.ad_positions, mk.max_sponsored)
        resp = _rank(w, req)
        slate = resp.slate
        valid = slate >= 0
        items = np.maximum(slate, 0)
        taste_dot = np.einsum("nkd,nd->nk", cat.latent[items], taste_v)
        item_aff = np.einsum("nkd,nd->nk", cat.aisle_centroid[pub.aisle[items]], taste_v) * b.taste_weight
        util = choice.item_utility(
            taste_dot,
            cat.quality[items],
            w.log_rel_price[items],
            alpha_v[:, None],
            _habit_for(w, v, items),
            b.taste_weight,
            b.habit_weight,
        )
        shock = rng.gumbel_from_uniform(rng.uniform_keyed(w.seed, Purpose.UTILITY, v, day, items))
        examined = valid & (rng.uniform(w.seed, Purpose.EXAMINE_HOME, v, day, kh) < w.exam_p[:kh][None, :])
        # which open intent (if any) each shown item serves
        ikey = it.session * w.n_aisles + it.aisle
        korder = np.argsort(ikey, kind="stable")
        ksorted = ikey[korder]
        skey = np.arange(n)[:, None] * w.n_aisles + pub.aisle[items].astype(np.int64)
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
        pr, pc = np.nonzero(purchased)
        p_int = intent[pr, pc]
        resolved[p_int[p_int >= 0]] = True
        p_need = it.need[np.maximum(p_int, 0)] if m else np.zeros(len(p_int), bool)
        prio = np.where(p_int >= 0, np.where(p_need, PRIORITY_NEED, PRIORITY_WANT), PRIORITY_IMPULSE)
        lines.append((pr, slate[pr, pc], np.full(len(pr), SOURCE_HOME), pc, resp.sponsored[pr, pc], p_int, prio))
        log = _slate_log(w, day, v, SURFACE_HOME, np.full(n, -1), (cands >= 0).sum(1), resp, clicked, purchased)
        logged[SOURCE_HOME] = (log, np.arange(n))
        examined_n += examined.sum(1)
        clicked_n += clicked.sum(1)
        bad_ads_n += (examined & resp.sponsored & ~clicked).sum(1)
        slate_n += 1
        ad_rev_s += log["ad_revenue"]

    # ---- search for every open intent -----------------------------------------------------
    rows = np.flatnonzero(~resolved)
    if len(rows):
        q = it.aisle[rows]
        sess = it.session[rows]
        shopper = v[sess]
        cands = w.shelf[q]
        cands = np.where((cands >= 0) & pub.available[np.maximum(cands, 0)], cands, -1).astype(np.int32)
        k = mk.slate_size
        req = RankRequest(day, SURFACE_SEARCH, shopper, q.astype(np.int32), cands, k, mk.ad_positions, mk.max_sponsored)
        resp = _rank(w, req)
        full = _shelf_utility(w, day, shopper, q, alpha_v[sess], taste_v[sess])
        full = np.where(cands >= 0, full, -np.inf)
        slate = resp.slate
        valid = slate >= 0
        items = np.maximum(slate, 0)
        util = np.take_along_axis(full, pub.shelf_pos[items].astype(np.int64), axis=1)
        shock = rng.gumbel_from_uniform(rng.uniform_keyed(w.seed, Purpose.UTILITY, shopper, day, items))
        ukey = q[:, None] * 128 + np.arange(k)[None, :]
        u_exam = rng.uniform_keyed(w.seed, Purpose.EXAMINE_SEARCH, shopper, day, ukey)
        p = w.exam_p[None, :k] + b.need_persistence * it.need[rows][:, None] * (1.0 - w.exam_p[None, :k])
        examined = valid & (u_exam < p)
        util = np.where(valid, util, -np.inf)
        clicked, bought = choice.decide(util, shock, examined, it.affinity[rows] + b.click_threshold, it.buy[rows])
        hit = bought >= 0
        purchased = np.zeros_like(valid)
        purchased[np.flatnonzero(hit), bought[hit]] = True
        resolved[rows[hit]] = True
        hr = np.flatnonzero(hit)
        prio = np.where(it.need[rows[hr]], PRIORITY_NEED, PRIORITY_WANT)
        lines.append(
            (
                sess[hr],
                slate[hr, bought[hr]],
                np.full(len(hr), SOURCE_SEARCH),
                bought[hr],
                resp.sponsored[hr, bought[hr]],
                rows[hr],
                prio,
            )
        )
        log = _slate_log(w, day, shopper, SURFACE_SEARCH, q, (cands >= 0).sum(1), resp, clicked, purchased)
        logged[SOURCE_SEARCH] = (log, rows)
        examined_n += np.bincount(sess, examined.sum(1), minlength=n)
        clicked_n += np.bincount(sess, clicked.sum(1), minlength=n)
        bad_ads_n += np.bincount(sess, (examined & resp.sponsored & ~clicked).sum(1), minlength=n)
        slate_n += np.bincount(sess, minlength=n)
        ad_rev_s += np.bincount(sess, log["ad_revenue"], minlength=n)

        # ---- organic: a need still open may be found anyway by browsing the aisle ----------
        o = np.flatnonzero(~hit & it.need[rows])
        if len(o):
            u_org = rng.uniform_keyed(w.seed, Purpose.ORGANIC, shopper[o], day, q[o][:, None])[:, 0]
            col = full[o].argmax(axis=1)
            item = cands[o, col]
            fine = (item >= 0) & (u_org < b.organic_find)
            o_shock = rng.gumbel_from_uniform(
                rng.uniform_keyed(w.seed, Purpose.UTILITY, shopper[o], day, np.maximum(item, 0)[:, None])[:, 0]
            )
            ok = fine & (full[o, col] + o_shock > it.buy[rows[o]])
            oo = o[ok]
            resolved[rows[oo]] = True
            lines.append(
                (
                    sess[oo],
                    item[ok],
                    np.full(len(oo), SOURCE_ORGANIC),
                    np.full(len(oo), -1),
                    np.zeros(len(oo), bool),
                    rows[oo],
                    np.full(len(oo), PRIORITY_NEED),
                )
            )

    _checkout(w, day, v, it, resolved, lines, logged, examined_n, clicked_n, bad_ads_n, slate_n, ad_rev_s)


def _shelf_utility(
    w: World, day: int, shopper: np.ndarray, q: np.ndarray, alpha: np.ndarray, taste: np.ndarray
) -> np.ndarray:
    """(R, W) deterministic utility of every product on each searched aisle's shelf.

    One small matrix product per aisle (rows grouped by aisle) instead of per-row gathers of
    the item embeddings; habits are added sparsely afterwards.
    """
    b = w.cfg.behaviour
    r, width = len(q), w.shelf.shape[1]
    order = np.argsort(q, kind="stable")
    qs = q[order]
    t_sorted = np.take(taste, order, axis=0)  # float32, contiguous per aisle group
    a_sorted = np.take(alpha, order).astype(np.float32)
    sorted_out = np.empty((r, width), np.float32)
    bounds = np.flatnonzero(np.diff(qs)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [r]]).tolist()
    tw = np.float32(b.taste_weight)
    for s, e in zip(starts, ends, strict=True):
        a = qs[s]
        block = sorted_out[s:e]
        np.matmul(t_sorted[s:e], w.shelf_latent_t[a], out=block)
        block *= tw
        block += w.shelf_quality[a]
        block -= a_sorted[s:e, None] * w.shelf_lrp[a]
    out = np.empty_like(sorted_out)
    out[order] = sorted_out
    # habits: add the stock of habit items that sit on this aisle's shelf
    h_items = w.state.habit_item[shopper]
    h_stock = w.state.habit_stock[shopper]
    hpos = w.public.shelf_pos[np.maximum(h_items, 0)]
    on = (h_items >= 0) & (w.public.aisle[np.maximum(h_items, 0)] == q[:, None]) & (hpos < width)
    rr, hh = np.nonzero(on)
    out[rr, hpos[rr, hh]] += np.float32(b.habit_weight) * h_stock[rr, hh]
    return out


def _checkout(
    w: World,
    day: int,
    v: np.ndarray,
    it: Intents,
    resolved: np.ndarray,
    lines: list,
    logged: dict,
    examined_n: np.ndarray,
    clicked_n: np.ndarray,
    bad_ads_n: np.ndarray,
    slate_n: np.ndarray,
    ad_rev_s: np.ndarray,
) -> None:
    """Budget trim, state updates (pantry, habits, order history, satisfaction, churn, next trip), logs."""
    st, b, pub, cat = w.state, w.cfg.behaviour, w.public, w.catalog
    n = len(v)
    sess, item, source, position, sponsored, intent, prio = (np.concatenate(x) for x in zip(*lines, strict=True))
    sess = sess.astype(np.int64)
    item = item.astype(np.int64)
    price = pub.price[item].astype(np.float64)
    # budget: needs first, then wants, then impulse buys; the first line always fits
    order = np.lexsort((price, prio, sess))
    sp = price[order]
    ss = sess[order]
    cum = np.cumsum(sp)
    start = np.searchsorted(ss, ss)  # first line of each session in sorted order
    before = np.concatenate([[0.0], cum])[start]
    spend = cum - before
    first = np.arange(len(ss)) == start
    keep_sorted = first | (spend <= st.budget[v[ss]])
    keep = np.zeros(len(sess), bool)
    keep[order] = keep_sorted
    dropped = ~keep
    if dropped.any():
        di = intent[dropped]
        resolved[di[di >= 0]] = False
        # carted but not bought: clear ``purchased`` in the slate logs for lines the budget removed
        if SOURCE_HOME in logged:
            sel = dropped & (source == SOURCE_HOME)
            logged[SOURCE_HOME][0]["purchased"][sess[sel], position[sel]] = False
        if SOURCE_SEARCH in logged:
            sel = dropped & (source == SOURCE_SEARCH)
            log, keys = logged[SOURCE_SEARCH]
            log["purchased"][np.searchsorted(keys, intent[sel]), position[sel]] = False
    sess, item, source, position, sponsored, price = (
        sess[keep],
        item[keep],
        source[keep],
        position[keep],
        sponsored[keep],
        price[keep],
    )
    shopper = v[sess]
    margin = price * pub.margin_rate[item]

    # pantry refill for used staples
    k = w.staple_index[pub.aisle[item]]
    sl = k >= 0
    if sl.any():
        ps, pk, pi = shopper[sl], k[sl], item[sl]
        cycle = w.catalog.aisle_cycle[pub.aisle[pi]] * pub.size[pi] * st.consumption[ps]
        st.pantry_runout[ps, pk] = pantry.refill(st.pantry_runout[ps, pk], day, cycle)

    # habits and the platform's order-again history
    key = shopper * np.int64(cat.n_products) + item
    _, uniq = np.unique(key, return_index=True)
    hs, hi = shopper[uniq], item[uniq]
    slot, new = slots.assign(st.habit_item, st.habit_stock, hs, hi)
    ok = slot >= 0
    cur = np.where(new[ok], 0.0, st.habit_stock[hs[ok], slot[ok]])
    st.habit_stock[hs[ok], slot[ok]] = habit.reinforced(cur, b.habit_gain)
    st.habit_day[hs[ok], slot[ok]] = day
    slot, new = slots.assign(w.order_history_items, w.order_history_counts, hs, hi)
    ok = slot >= 0
    w.order_history_counts[hs[ok][new[ok]], slot[ok][new[ok]]] = 0
    w.order_history_counts[hs[ok], slot[ok]] += 1

    # satisfaction and churn
    n_need = np.bincount(it.session, weights=it.need, minlength=n)
    met = np.bincount(it.session, weights=it.need & resolved, minlength=n)
    needs_met = np.where(n_need > 0, met / np.maximum(n_need, 1), 1.0)
    ex = np.maximum(examined_n, 1)
    relevance = np.where(examined_n > 0, clicked_n / ex, 0.0)
    score = satisfaction.session_score(relevance, needs_met, bad_ads_n / ex, w.cfg.churn)
    w.experience += np.array([n, relevance.sum(), needs_met.sum(), (bad_ads_n / ex).sum(), score.sum()])
    st.satisfaction[v] = satisfaction.updated_satisfaction(st.satisfaction[v], score, w.cfg.churn)
    u = rng.uniform(w.seed, Purpose.CHURN, v, day, 4)
    churned = u[:, 0] < satisfaction.churn_hazard(st.satisfaction[v].astype(np.float64), w.cfg.churn)
    to_need = pantry.days_until_needs(st.pantry_runout[v], day, b.need_lookahead_days, b.needs_per_trip)
    interval = st.interval[v] * satisfaction.interval_factor(st.satisfaction[v], w.cfg.churn)
    gap = visits.next_gap(interval.astype(np.float64), st.weekly[v], u[:, 1], to_need, u[:, 2], u[:, 3])
    st.next_visit[v] = np.where(churned, NEVER, day + gap)
    st.churn_day[v] = np.where(churned, day, NEVER)

    # logs
    w.log_purchases(
        {
            "session_id": (np.int64(day) << 32) | shopper,
            "shopper_id": shopper.astype(np.int32),
            "day": np.full(len(item), day, np.int32),
            "item_id": item.astype(np.int32),
            "aisle": pub.aisle[item],
            "price": price.astype(np.float32),
            "margin": margin.astype(np.float32),
            "source": source.astype(np.int8),
            "position": position.astype(np.int8),
            "sponsored": sponsored.astype(bool),
        }
    )
    n_lines = np.bincount(sess, minlength=n)
    w.log_sessions(
        {
            "session_id": (np.int64(day) << 32) | v.astype(np.int64),
            "shopper_id": v.astype(np.int32),
            "day": np.full(n, day, np.int32),
            "n_slates": slate_n.astype(np.int16),
            "n_lines": n_lines.astype(np.int16),
            "gtv": np.bincount(sess, weights=price, minlength=n).astype(np.float32),
            "margin": np.bincount(sess, weights=margin, minlength=n).astype(np.float32),
            "ad_revenue": ad_rev_s.astype(np.float32),
        }
    )
    for log, _ in logged.values():
        w.log_slates(log)
