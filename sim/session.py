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
from collections.abc import Generator
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


def form_intents(w: World, day: int, v: np.ndarray, aisle_affinity: np.ndarray) -> Intents:
    """Needs from the pantry and wants from favourite aisles: one intent per aisle, needs first.

    ``aisle_affinity`` (n, A) is each visitor's taste for every aisle (weighted). The order within
    a visit is needs (by staple) then wants (by how much they are wanted); it is built from
    per-visit counts, without sorting.
    """
    st, b = w.state, w.cfg.behaviour
    n = len(v)
    need_mask = pantry.needs(st.pantry_runout[v], day, b.need_lookahead_days)
    n_sess, n_staple = np.nonzero(need_mask)  # row-major: grouped by visit
    n_aisle = w.staple_aisles[n_staple]

    fav = st.favourite_aisles[v]  # (n, F), distinct aisles
    f = fav.shape[1]
    u = rng.uniform(w.seed, Purpose.WANTS, st.shopper_id[v], day, f + 1)
    count = _poisson_inverse(u[:, 0], b.wants_per_visit, f)
    # sample `count` favourites without replacement, weight 1/(rank+1): the top keys of Gumbel + log w
    key = rng.gumbel_from_uniform(u[:, 1:]) - np.log(np.arange(1, f + 1))[None, :]
    kth = np.take_along_axis(-np.sort(-key, axis=1), np.maximum(count - 1, 0)[:, None], axis=1)
    w_sess, w_col = np.nonzero((key >= kth) & (count > 0)[:, None])
    w_aisle = fav[w_sess, w_col].astype(np.int64)
    k = w.staple_index[w_aisle]
    dup = (k >= 0) & need_mask[w_sess, np.maximum(k, 0)]  # already a need
    w_sess, w_aisle = w_sess[~dup], w_aisle[~dup]

    # place needs then wants of each visit contiguously, visits in order
    nn = np.bincount(n_sess, minlength=n)
    nw = np.bincount(w_sess, minlength=n)
    start = np.concatenate([[0], np.cumsum(nn + nw)[:-1]])
    first_n = np.concatenate([[0], np.cumsum(nn)[:-1]])
    first_w = np.concatenate([[0], np.cumsum(nw)[:-1]])
    m = len(n_sess) + len(w_sess)
    pos_n = start[n_sess] + np.arange(len(n_sess)) - first_n[n_sess]
    pos_w = start[w_sess] + nn[w_sess] + np.arange(len(w_sess)) - first_w[w_sess]
    sess = np.empty(m, np.int64)
    aisle = np.empty(m, np.int64)
    need = np.zeros(m, bool)
    sess[pos_n], aisle[pos_n], need[pos_n] = n_sess, n_aisle, True
    sess[pos_w], aisle[pos_w] = w_sess, w_aisle

    aff = aisle_affinity[sess, aisle].astype(np.float64)
    buy = aff + np.where(need, b.need_threshold, b.want_threshold)
    return Intents(session=sess, aisle=aisle, need=need, affinity=aff, buy=buy)


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of small non-negative ints: numpy radix-sorts 16-bit keys (~7x faster here)."""
    if len(keys) and keys.max() < 2**16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


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

    # cost-per-click revenue: only sponsored placements that were clicked pay (few of them)
    r, c = np.nonzero(clicked & resp.sponsored)
    paid = w.public.bid[resp.slate[r, c]].astype(np.float64) * w.cfg.marketplace.cpc_scale
    ad_rev = np.bincount(r, paid, minlength=b)
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
    """Simulate the sessions of visitors ``v`` (sorted state rows) on ``day`` with the world's ranker."""
    steps = session_steps(w, day, v)
    try:
        request = next(steps)
        while True:
            request = steps.send(_rank(w, request))
    except StopIteration:
        pass


def session_steps(w: World, day: int, v: np.ndarray) -> Generator[RankRequest, RankResponse, None]:
    """The sessions of visitors ``v`` on ``day`` as a coroutine yielding each ranking request.

    It yields the home-feed request, then the request of every open search, takes each response,
    then checks out and logs. ``simulate_chunk`` answers with the world's ranker; environments
    answer with an agent's slates.
    """
    st, b, mk, cat, pub = w.state, w.cfg.behaviour, w.cfg.marketplace, w.catalog, w.public
    n = len(v)
    # lazy habit decay: bring the visitors' habit stocks to today (only visitors are touched)
    st.habit_stock[v] = habit.decayed(st.habit_stock[v], st.habit_day[v], day, b.habit_decay_days)
    st.habit_day[v] = day

    ids = st.shopper_id[v]  # shopper ids (rows v index the state arrays)
    taste_v = st.taste[v]
    aisle_aff = (taste_v @ w.centroid_t) * np.float32(b.taste_weight)  # (n, A): one BLAS product
    it = form_intents(w, day, v, aisle_aff)
    m = len(it.session)
    resolved = np.zeros(m, bool)
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
    # source -> (slate log, log row of each intent or visit, visit of each log row)
    logged: dict[int, tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]] = {}

    # ---- home feed ------------------------------------------------------------------------
    kh = mk.home_slate_size
    if kh > 0:
        req = w.home_request(day, v)
        cands = req.candidates
        resp = yield req
        slate = resp.slate
        valid = slate >= 0
        items = np.maximum(slate, 0)
        taste_dot = np.einsum("nkd,nd->nk", cat.latent[items], taste_v)
        item_aff = np.take_along_axis(aisle_aff, pub.aisle[items].astype(np.int64), axis=1)
        util = choice.item_utility(
            taste_dot,
            cat.quality[items],
            w.log_rel_price[items],
            alpha_v[:, None],
            _habit_for(w, v, items),
            b.taste_weight,
            b.habit_weight,
        )
        shock = rng.gumbel_from_uniform(rng.uniform_keyed(w.seed, Purpose.UTILITY, ids, day, items))
        examined = valid & (rng.uniform(w.seed, Purpose.EXAMINE_HOME, ids, day, kh) < w.exam_p[:kh][None, :])
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
        log = _slate_log(w, day, ids, SURFACE_HOME, np.full(n, -1), (cands >= 0).sum(1), resp, clicked, purchased)
        logged[SOURCE_HOME] = (log, np.arange(n), np.arange(n))  # home rows are visits
        examined_n += examined.sum(1)
        clicked_n += clicked.sum(1)
        bad_ads_n += (examined & resp.sponsored & ~clicked).sum(1)
        slate_n += 1
        ad_rev_s += log["ad_revenue"]

    # ---- search for every open intent -----------------------------------------------------
    rows = np.flatnonzero(~resolved)
    if len(rows):
        # requests grouped by aisle: the per-aisle utility blocks are contiguous (logs are put
        # back into visit order at checkout)
        rows = rows[_stable_order(it.aisle[rows])]
        q = it.aisle[rows]
        sess = it.session[rows]
        shopper = v[sess]  # state rows
        sid = ids[sess]  # shopper ids: key the draws, go to the ranker and the log
        cands = w.search_shelf[q]
        k = mk.slate_size
        req = RankRequest(day, SURFACE_SEARCH, sid, q.astype(np.int32), cands, k, mk.ad_positions, mk.max_sponsored)
        resp = yield req
        full = _shelf_utility(w, day, shopper, q, alpha_v[sess], taste_v[sess])
        full = np.where(cands >= 0, full, -np.inf)
        slate = resp.slate
        valid = slate >= 0
        items = np.maximum(slate, 0)
        util = np.take_along_axis(full, pub.shelf_pos[items].astype(np.int64), axis=1)
        shock = rng.gumbel_from_uniform(rng.uniform_keyed(w.seed, Purpose.UTILITY, sid, day, items))
        ukey = q[:, None] * 128 + np.arange(k)[None, :]
        u_exam = rng.uniform_keyed(w.seed, Purpose.EXAMINE_SEARCH, sid, day, ukey)
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
        log = _slate_log(w, day, sid, SURFACE_SEARCH, q, (cands >= 0).sum(1), resp, clicked, purchased)
        row_of_intent = np.full(m, -1, np.int64)
        row_of_intent[rows] = np.arange(len(rows))
        logged[SOURCE_SEARCH] = (log, row_of_intent, sess)
        examined_n += np.bincount(sess, examined.sum(1), minlength=n)
        clicked_n += np.bincount(sess, clicked.sum(1), minlength=n)
        bad_ads_n += np.bincount(sess, (examined & resp.sponsored & ~clicked).sum(1), minlength=n)
        slate_n += np.bincount(sess, minlength=n)
        ad_rev_s += np.bincount(sess, log["ad_revenue"], minlength=n)

        # ---- organic: a need still open may be found anyway by browsing the aisle ----------
        o = np.flatnonzero(~hit & it.need[rows])
        if len(o):
            u_org = rng.uniform_keyed(w.seed, Purpose.ORGANIC, sid[o], day, q[o][:, None])[:, 0]
            col = full[o].argmax(axis=1)
            item = cands[o, col]
            fine = (item >= 0) & (u_org < b.organic_find)
            o_shock = rng.gumbel_from_uniform(
                rng.uniform_keyed(w.seed, Purpose.UTILITY, sid[o], day, np.maximum(item, 0)[:, None])[:, 0]
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

    ``q`` must be sorted (requests grouped by aisle): one small matrix product per aisle on a
    contiguous block, instead of per-row gathers of item embeddings (measured ~4x faster);
    habits are added sparsely afterwards.
    """
    b = w.cfg.behaviour
    r, width = len(q), w.shelf.shape[1]
    out = np.empty((r, width), np.float32)
    alpha32 = alpha.astype(np.float32)
    bounds = np.flatnonzero(np.diff(q)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [r]]).tolist()
    tw = np.float32(b.taste_weight)
    for s, e in zip(starts, ends, strict=True):
        a = q[s]
        block = out[s:e]
        np.matmul(taste[s:e], w.shelf_latent_t[a], out=block)
        block *= tw
        block += w.shelf_quality[a]
        block -= alpha32[s:e, None] * w.shelf_lrp[a]
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
    st, b, pub = w.state, w.cfg.behaviour, w.public
    n = len(v)
    sess, item, source, position, sponsored, intent, prio = (np.concatenate(x) for x in zip(*lines, strict=True))
    sess = sess.astype(np.int64)
    item = item.astype(np.int64)
    price = pub.price[item].astype(np.float64)
    # budget: needs first, then wants, then impulse buys, cheapest first; the first line always fits.
    # The sorted order (visit, priority, price) is also the canonical order of the purchase log.
    cents = np.minimum(np.rint(price * 100), 2**24 - 1).astype(np.int64)
    order = np.argsort((sess * 3 + prio) * 2**24 + cents, kind="stable")
    ss = sess[order]
    cum = np.cumsum(price[order])
    start = np.searchsorted(ss, ss)  # first line of each session in sorted order
    spend = cum - np.concatenate([[0.0], cum])[start]
    keep_sorted = (np.arange(len(ss)) == start) | (spend <= st.budget[v[ss]])
    dropped = order[~keep_sorted]
    if len(dropped):
        di = intent[dropped]
        resolved[di[di >= 0]] = False
        # carted but not bought: clear ``purchased`` in the slate logs for lines the budget removed
        for src, (log, row_of, _) in logged.items():
            sel = dropped[source[dropped] == src]
            row = sess[sel] if src == SOURCE_HOME else row_of[intent[sel]]
            log["purchased"][row, position[sel]] = False
    kept = order[keep_sorted]
    sess, item, source, position, sponsored, price = (
        sess[kept],
        item[kept],
        source[kept],
        position[kept],
        sponsored[kept],
        price[kept],
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
    # a visit buys an item at most once (one line per intent; impulse buys are outside every intent)
    hs, hi = shopper, item
    slot, new = slots.assign(st.habit_item, st.habit_stock, hs, hi, rows_sorted=True)
    ok = slot >= 0
    cur = np.where(new[ok], 0.0, st.habit_stock[hs[ok], slot[ok]])
    st.habit_stock[hs[ok], slot[ok]] = habit.reinforced(cur, b.habit_gain)
    st.habit_day[hs[ok], slot[ok]] = day
    slot, new = slots.assign(w.order_history_items, w.order_history_counts, hs, hi, rows_sorted=True)
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
    u = rng.uniform(w.seed, Purpose.CHURN, st.shopper_id[v], day, 4)
    churned = u[:, 0] < satisfaction.churn_hazard(st.satisfaction[v].astype(np.float64), w.cfg.churn)
    to_need = pantry.days_until_needs(st.pantry_runout[v], day, b.need_lookahead_days, b.needs_per_trip)
    interval = st.interval[v] * satisfaction.interval_factor(st.satisfaction[v], w.cfg.churn)
    gap = visits.next_gap(interval.astype(np.float64), st.weekly[v], u[:, 1], to_need, u[:, 2], u[:, 3])
    st.next_visit[v] = np.where(churned, NEVER, day + gap)
    st.churn_day[v] = np.where(churned, day, NEVER)

    # logs
    w.log_purchases(
        {
            "session_id": (np.int64(day) << 32) | st.shopper_id[shopper],
            "shopper_id": st.shopper_id[shopper].astype(np.int32),
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
            "session_id": (np.int64(day) << 32) | st.shopper_id[v],
            "shopper_id": st.shopper_id[v].astype(np.int32),
            "day": np.full(n, day, np.int32),
            "n_slates": slate_n.astype(np.int16),
            "n_lines": n_lines.astype(np.int16),
            "gtv": np.bincount(sess, weights=price, minlength=n).astype(np.float32),
            "margin": np.bincount(sess, weights=margin, minlength=n).astype(np.float32),
            "ad_revenue": ad_rev_s.astype(np.float32),
        }
    )
    # slate log in canonical order: by visit (session ids grow with shopper id), home feed first
    if logged:
        parts = [log for log, _, _ in logged.values()]
        table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = _stable_order(np.concatenate([visits for _, _, visits in logged.values()]))
        w.log_slates({k: col[order] for k, col in table.items()})
