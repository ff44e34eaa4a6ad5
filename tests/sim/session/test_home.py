"""The home feed on a hand-made slate: impulse buys, one purchase per intent, counters and the slate log."""

import numpy as np

from basketgym.contract.logs import SOURCE_HOME
from basketgym.sim.session import home
from basketgym.sim.session.visits import PRIORITY_IMPULSE, PRIORITY_NEED, begin_visits

from .conftest import DAY, response, used_staple


def test_every_examined_item_clearing_the_impulse_bar_is_bought(tiny):
    # no position bias: every placement is examined; bars far below any utility: all clicked and bought
    w, ctx = tiny(wants_per_visit=0.0, position_bias=0.0, click_threshold=-50.0, impulse_threshold=-50.0)
    vs = begin_visits(ctx, DAY, np.array([0, 1]))
    rows = home.rows(ctx, vs)
    req = home.request(ctx, vs, rows)
    assert rows.tolist() == [0, 1] and req.candidates.shape[0] == 2 and req.day == DAY
    slate = np.array([[10, 11, 12, -1], [20, 21, -1, -1]])
    sponsored = np.array([[True, False, False, False], [False] * 4])
    home.read(ctx, vs, rows, req.candidates, response(slate, sponsored))
    lines = vs.lines[1]
    assert lines.item.tolist() == [10, 11, 12, 20, 21] and lines.session.tolist() == [0, 0, 0, 1, 1]
    assert lines.position.tolist() == [0, 1, 2, 0, 1] and lines.sponsored.tolist() == [True] + [False] * 4
    assert (lines.source == SOURCE_HOME).all() and (lines.priority == PRIORITY_IMPULSE).all()
    assert vs.examined.tolist() == [3, 2] and vs.clicked.tolist() == [3, 2] and vs.slates.tolist() == [1, 1]
    bid = ctx.shop.public.bid[10] * ctx.marketplace.cpc_scale  # the clicked sponsored placement pays its bid
    assert np.isclose(vs.ad_revenue[0], bid, rtol=1e-6) and vs.ad_revenue[1] == 0
    log, visit = vs.logged[SOURCE_HOME]
    assert visit.tolist() == [0, 1] and log["purchased"][:, :4].tolist() == (slate >= 0).tolist()
    assert log["slate"].shape == (2, ctx.shop.log_slate_width) and (log["query"] == -1).all()


def test_an_intent_is_met_by_one_item_only(tiny):
    w, ctx = tiny(wants_per_visit=0.0, position_bias=0.0, click_threshold=-50.0, need_threshold=-50.0,
                  impulse_threshold=50.0)  # fmt: skip
    k = used_staple(ctx, 0)
    aisle = ctx.shop.staple_aisles[k]
    ctx.state.pantry_runout[0, k] = DAY
    same = np.flatnonzero(ctx.shop.public.aisle == aisle)[:2]
    other = np.flatnonzero(ctx.shop.public.aisle != aisle)[0]
    vs = begin_visits(ctx, DAY, np.array([0]))
    home.read(ctx, vs, np.arange(1), np.zeros((1, 0)), response([[same[0], other, same[1]]]))
    lines = vs.lines[1]
    assert len(lines.item) == 1 and lines.item[0] in same  # the other aisle is no impulse at this bar
    assert lines.intent.tolist() == [0] and lines.priority.tolist() == [PRIORITY_NEED]
    assert vs.resolved.tolist() == [True]
