"""Search on the aisle's own shelf: the request, one purchase per search, and the organic find."""

import numpy as np

from basketgym.contract.logs import SOURCE_ORGANIC, SOURCE_SEARCH
from basketgym.contract.protocol import SURFACE_SEARCH
from basketgym.sim.session import search
from basketgym.sim.session.visits import PRIORITY_NEED, begin_visits

from .conftest import DAY, response, used_staple


def _one_need(tiny, **behaviour):
    w, ctx = tiny(wants_per_visit=0.0, position_bias=0.0, need_threshold=-50.0, **behaviour)
    k = used_staple(ctx, 0)
    ctx.state.pantry_runout[0, k] = DAY
    vs = begin_visits(ctx, DAY, np.array([0, 1]))
    return ctx, vs, ctx.shop.staple_aisles[k]


def test_an_open_need_searches_its_aisle_and_buys_one_shown_item(tiny):
    ctx, vs, aisle = _one_need(tiny, click_threshold=-50.0)
    rows = search.rows(ctx, vs)
    req = search.request(ctx, vs, rows)
    assert rows.tolist() == [0] and req.surface == SURFACE_SEARCH and req.query.tolist() == [aisle]
    assert np.array_equal(req.candidates[0], ctx.market.search_shelf[0, aisle])
    assert req.shopper_ids.tolist() == [int(ctx.state.shopper_id[0])]
    shelf = req.candidates[0][req.candidates[0] >= 0]
    slate = shelf[:5][None]
    search.read(ctx, vs, rows, req.candidates, response(slate))
    lines = vs.lines[1]
    assert len(lines.item) == 1 and lines.source.tolist() == [SOURCE_SEARCH]
    assert lines.item[0] == slate[0, lines.position[0]] and lines.priority.tolist() == [PRIORITY_NEED]
    assert vs.resolved.tolist() == [True] and len(vs.lines) == 2  # no organic find needed
    assert vs.examined.tolist() == [5, 0] and vs.clicked.tolist() == [5, 0] and vs.slates.tolist() == [1, 0]
    log, visit = vs.logged[SOURCE_SEARCH]
    assert visit.tolist() == [0] and log["query"].tolist() == [aisle] and log["purchased"].sum() == 1


def test_a_need_the_slate_misses_is_found_organically_as_the_aisle_s_best_item(tiny):
    ctx, vs, aisle = _one_need(tiny, click_threshold=50.0, organic_find=1.0)  # nothing clicked; browsing always
    rows = search.rows(ctx, vs)
    req = search.request(ctx, vs, rows)
    search.read(ctx, vs, rows, req.candidates, response(req.candidates[:, :3]))
    assert len(vs.lines[1].item) == 0  # the slate sold nothing
    organic = vs.lines[2]
    full = search.shelf_utility(ctx, 0, vs.v[:1], np.array([aisle]), vs.alpha[:1], vs.taste[:1])
    full = np.where(req.candidates >= 0, full, -np.inf)
    assert organic.item.tolist() == [req.candidates[0, full[0].argmax()]]
    assert organic.source.tolist() == [SOURCE_ORGANIC] and organic.position.tolist() == [-1]
    assert vs.resolved.tolist() == [True]
