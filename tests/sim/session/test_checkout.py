"""Checkout on hand-made carts: the budget's order and trim, the slate log, the shopper's state after."""

import dataclasses

import numpy as np

from basketgym.contract.logs import SOURCE_HOME
from basketgym.sim.session.checkout import checkout
from basketgym.sim.session.visits import PRIORITY_IMPULSE, PRIORITY_NEED, PRIORITY_WANT, Lines, begin_visits

from .conftest import DAY, used_staple


def _cart(tiny, budget):
    w, ctx = tiny(wants_per_visit=0.0)
    k = used_staple(ctx, 0)
    aisle = ctx.shop.staple_aisles[k]
    ctx.state.pantry_runout[0, k] = DAY
    need_item = int(np.flatnonzero(ctx.shop.public.aisle == aisle)[0])
    want_item, impulse_item = (int(i) for i in np.flatnonzero(ctx.shop.public.aisle != aisle)[:2])
    ctx.market.price[0, [need_item, want_item, impulse_item]] = [8.0, 5.0, 1.0]
    ctx.state.budget[0] = budget
    vs = begin_visits(ctx, DAY, np.array([0, 1]))
    it = vs.it  # the need, plus a want added by hand
    it = dataclasses.replace(it, session=np.array([0, 0]), aisle=np.array([aisle, ctx.shop.public.aisle[want_item]]),
                             need=np.array([True, False]), affinity=np.zeros(2), buy=np.zeros(2))  # fmt: skip
    log = {"purchased": np.ones((1, 10), bool)}
    vs = dataclasses.replace(vs, it=it, resolved=np.array([True, True]), logged={SOURCE_HOME: (log, np.array([0]))})
    vs.lines.append(Lines(session=np.array([0, 0, 0]), item=np.array([impulse_item, want_item, need_item]),
                          source=np.full(3, SOURCE_HOME), position=np.array([0, 1, 2]), sponsored=np.zeros(3, bool),
                          intent=np.array([-1, 1, 0]), priority=np.array([PRIORITY_IMPULSE, PRIORITY_WANT,
                                                                          PRIORITY_NEED]),
                          slate_row=np.zeros(3, np.int64)))  # fmt: skip
    vs.examined[:], vs.clicked[:], vs.slates[:] = [3, 0], [3, 0], [1, 0]
    return ctx, vs, (need_item, want_item, impulse_item), k


def test_the_budget_keeps_needs_then_wants_then_impulse_buys(tiny):
    ctx, vs, (need, want, impulse), _ = _cart(tiny, budget=13.5)
    tables = checkout(ctx, vs)
    p, s = tables["purchases"], tables["sessions"]
    assert p["item_id"].tolist() == [need, want]  # canonical order: priority, then price; the impulse buy is cut
    assert p["price"].tolist() == [8.0, 5.0] and p["source"].tolist() == [SOURCE_HOME] * 2
    assert s["n_lines"].tolist() == [2, 0] and s["gtv"].tolist() == [13.0, 0.0] and s["n_slates"].tolist() == [1, 0]
    log = vs.logged[SOURCE_HOME][0]
    assert log["purchased"][0, :3].tolist() == [False, True, True]  # carted at position 0, not bought
    assert vs.resolved.tolist() == [True, True]


def test_the_first_line_always_fits_and_dropped_lines_reopen_their_intents(tiny):
    ctx, vs, (need, want, impulse), k = _cart(tiny, budget=2.0)
    tables = checkout(ctx, vs)
    assert tables["purchases"]["item_id"].tolist() == [need]  # over budget, but a visit's first line always fits
    assert vs.resolved.tolist() == [True, False]
    assert vs.logged[SOURCE_HOME][0]["purchased"][0, :3].tolist() == [False, False, True]
    st, h = ctx.state, ctx.history
    assert st.pantry_runout[0, k] > DAY  # the need's staple is restocked
    assert need in h.items[0] and h.counts[0, h.items[0].tolist().index(need)] == 1
    assert need in st.habit_item[0] and want not in h.items[0]
    assert st.next_visit[0] > DAY or st.churn_day[0] == DAY
    assert tables["sessions"]["margin"][0] == np.float32(8.0 * ctx.shop.public.margin_rate[need])
