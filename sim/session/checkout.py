"""Checkout: the budget trims the cart; the visit changes the shopper (pantry, habits, churn, next trip); logs."""

from __future__ import annotations

import numpy as np

from basketgym.agents import habit, pantry, satisfaction, visits
from basketgym.agents.state import NEVER
from basketgym.contract import rng, slots
from basketgym.contract.rng import Purpose
from basketgym.sim.session.context import VisitContext, at, day_column, stable_order
from basketgym.sim.session.visits import Lines, Visits


def trim_to_budget(ctx: VisitContext, vs: Visits, lines: Lines) -> tuple[Lines, np.ndarray]:
    """The lines the budget keeps, in the purchase log's canonical order, and their prices.

    Needs first, then wants, then impulse buys, cheapest first; a visit's first line always fits.
    Dropped lines reopen their intents and are cleared from ``purchased`` in the slate logs (carted
    but not bought).
    """
    sess = lines.session.astype(np.int64)
    price = ctx.market.price[at(vs.ep, sess), lines.item.astype(np.int64)].astype(np.float64)
    # the sorted order (visit, priority, price) is also the canonical order of the purchase log
    cents = np.minimum(np.rint(price * 100), 2**24 - 1).astype(np.int64)
    order = np.argsort((sess * 3 + lines.priority) * 2**24 + cents, kind="stable")
    ss = sess[order]
    cum = np.cumsum(price[order])
    start = np.searchsorted(ss, ss)  # first line of each session in sorted order
    spend = cum - np.concatenate([[0.0], cum])[start]
    keep_sorted = (np.arange(len(ss)) == start) | (spend <= ctx.state.budget[vs.v[ss]])
    dropped = order[~keep_sorted]
    if len(dropped):
        di = lines.intent[dropped]
        vs.resolved[di[di >= 0]] = False
        for src, (log, _) in (vs.logged or {}).items():
            sel = dropped[lines.source[dropped] == src]
            log["purchased"][lines.slate_row[sel], lines.position[sel]] = False
    kept = order[keep_sorted]
    return Lines(*(a[kept] for a in (sess, lines.item.astype(np.int64), *lines[2:]))), price[kept]


def checkout(ctx: VisitContext, vs: Visits) -> dict[str, dict[str, np.ndarray]]:
    """Budget trim, state updates (pantry, habits, order history, satisfaction, churn, next trip), logs.

    Returns the batch's ``purchases`` and ``sessions`` tables and, when logged, its ``slates`` in
    canonical order (by visit, surfaces in the order shown).
    """
    st, b, pub, churn = ctx.state, ctx.behaviour, ctx.shop.public, ctx.churn
    v, it, resolved = vs.v, vs.it, vs.resolved
    n = len(v)
    kept, price = trim_to_budget(ctx, vs, Lines(*(np.concatenate(x) for x in zip(*vs.lines, strict=True))))
    sess, item = kept.session, kept.item
    shopper = v[sess]
    line_day = at(vs.day, sess)
    margin = price * pub.margin_rate[item]
    _restock(ctx, shopper, item, line_day)

    # satisfaction and churn
    n_need = np.bincount(it.session, weights=it.need, minlength=n)
    met = np.bincount(it.session, weights=it.need & resolved, minlength=n)
    needs_met = np.where(n_need > 0, met / np.maximum(n_need, 1), 1.0)
    ex = np.maximum(vs.examined, 1)
    relevance = np.where(vs.examined > 0, vs.clicked / ex, 0.0)
    score = satisfaction.session_score(relevance, needs_met, vs.bad_ads / ex, churn)
    ctx.experience += np.array([n, relevance.sum(), needs_met.sum(), (vs.bad_ads / ex).sum(), score.sum()])
    st.satisfaction[v] = satisfaction.updated_satisfaction(st.satisfaction[v], score, churn)
    day = vs.day  # each visit's day
    u = rng.uniform(ctx.seed, Purpose.CHURN, st.shopper_id[v], day, 4)
    churned = u[:, 0] < satisfaction.churn_hazard(st.satisfaction[v].astype(np.float64), churn)
    to_need = pantry.days_until_needs(st.pantry_runout[v], day, b.need_lookahead_days, b.needs_per_trip)
    interval = st.interval[v] * satisfaction.interval_factor(st.satisfaction[v], churn)
    gap = visits.next_gap(interval.astype(np.float64), st.weekly[v], u[:, 1], to_need, u[:, 2], u[:, 3])
    st.next_visit[v] = np.where(churned, NEVER, day + gap)
    st.churn_day[v] = np.where(churned, day, NEVER)

    tables = {
        "purchases": {
            "session_id": (np.asarray(line_day, np.int64) << 32) | st.shopper_id[shopper],
            "shopper_id": st.shopper_id[shopper].astype(np.int32),
            "day": day_column(line_day, len(item)),
            "item_id": item.astype(np.int32),
            "aisle": pub.aisle[item],
            "price": price.astype(np.float32),
            "margin": margin.astype(np.float32),
            "source": kept.source.astype(np.int8),
            "position": kept.position.astype(np.int8),
            "sponsored": kept.sponsored.astype(bool),
        },
        "sessions": {
            "session_id": (np.asarray(day, np.int64) << 32) | st.shopper_id[v],
            "shopper_id": st.shopper_id[v].astype(np.int32),
            "day": day_column(day, n),
            "n_slates": vs.slates.astype(np.int16),
            "n_lines": np.bincount(sess, minlength=n).astype(np.int16),
            "gtv": np.bincount(sess, weights=price, minlength=n).astype(np.float32),
            "margin": np.bincount(sess, weights=margin, minlength=n).astype(np.float32),
            "ad_revenue": vs.ad_revenue.astype(np.float32),
        },
    }
    if vs.logged:  # slates in canonical order: by visit (session ids grow with shopper id), surfaces in order
        parts = [log for log, _ in vs.logged.values()]
        table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = stable_order(np.concatenate([visit for _, visit in vs.logged.values()]))
        tables["slates"] = {k: c[order] for k, c in table.items()}
    return tables


def _restock(ctx: VisitContext, shopper: np.ndarray, item: np.ndarray, line_day: int | np.ndarray) -> None:
    """Bought lines refill pantries, reinforce habits and enter the platform's order-again history."""
    st, pub, history = ctx.state, ctx.shop.public, ctx.history
    k = ctx.shop.staple_index[pub.aisle[item]]
    sl = k >= 0
    if sl.any():
        ps, pk, pi = shopper[sl], k[sl], item[sl]
        cycle = ctx.shop.catalog.aisle_cycle[pub.aisle[pi]] * pub.size[pi] * st.consumption[ps]
        st.pantry_runout[ps, pk] = pantry.refill(st.pantry_runout[ps, pk], at(line_day, sl), cycle)
    # a visit buys an item at most once (one line per intent; impulse buys are outside every intent)
    slot, new = slots.assign(st.habit_item, st.habit_stock, shopper, item, rows_sorted=True)
    ok = slot >= 0
    cur = np.where(new[ok], 0.0, st.habit_stock[shopper[ok], slot[ok]])
    st.habit_stock[shopper[ok], slot[ok]] = habit.reinforced(cur, ctx.behaviour.habit_gain)
    st.habit_day[shopper[ok], slot[ok]] = at(line_day, ok)
    slot, new = slots.assign(history.items, history.counts, shopper, item, rows_sorted=True)
    ok = slot >= 0
    history.counts[shopper[ok][new[ok]], slot[ok][new[ok]]] = 0
    history.counts[shopper[ok], slot[ok]] += 1
