"""Intents: needs from the pantry, wants from favourite aisles, one per aisle, needs first."""

import numpy as np

from basketgym.sim.session.visits import begin_visits

from .conftest import DAY, used_staple


def test_needs_come_from_pantries_that_run_out_within_the_lookahead(tiny):
    w, ctx = tiny(wants_per_visit=0.0, need_lookahead_days=2)
    k = used_staple(ctx, 0)
    ctx.state.pantry_runout[0, k] = DAY + 2  # within the lookahead: a need
    vs = begin_visits(ctx, DAY, np.array([0, 1]))
    it = vs.it
    aisle = ctx.shop.staple_aisles[k]
    assert it.session.tolist() == [0] and it.aisle.tolist() == [aisle] and it.need.tolist() == [True]
    assert it.affinity[0] == np.float64(vs.aisle_aff[0, aisle])
    assert it.buy[0] == it.affinity[0] + ctx.behaviour.need_threshold
    ctx.state.pantry_runout[0, k] = DAY + 3  # beyond it: nothing to buy
    assert len(begin_visits(ctx, DAY, np.array([0])).it.session) == 0


def test_wants_are_favourite_aisles_after_the_needs_and_never_twice(tiny):
    w, ctx = tiny(wants_per_visit=50.0)  # every favourite is wanted (the count is capped at their number)
    st = ctx.state
    k = used_staple(ctx, 1)
    staple = ctx.shop.staple_aisles[k]
    st.pantry_runout[1, k] = DAY
    others = [a for a in range(ctx.shop.n_aisles) if a != staple][: st.favourite_aisles.shape[1] - 1]
    st.favourite_aisles[1] = [*others, staple]  # one favourite is also today's need
    vs = begin_visits(ctx, DAY, np.array([0, 1]))
    it = vs.it
    mine = it.session == 1
    assert it.aisle[mine][0] == staple and it.need[mine].tolist() == [True] + [False] * len(others)
    assert sorted(it.aisle[mine][1:].tolist()) == sorted(others)  # each aisle once
    assert np.all(np.diff(it.session) >= 0)  # grouped by visit
    assert np.allclose(it.buy[mine][1:], it.affinity[mine][1:] + ctx.behaviour.want_threshold)
