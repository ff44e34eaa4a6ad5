"""One day's sessions of a batch of visitors: begin, show every surface in order, check out.

``SURFACES`` lists the surface modules in the order a visit meets them (the home feed decides
which searches follow). Each exposes ``SURFACE``, ``SOURCE``, ``rows(ctx, visits)`` (the request
rows due now), ``request(ctx, visits, rows)``, ``check(ctx, request, response)`` and
``read(ctx, visits, rows, candidates, response)``; checkout needs nothing surface-specific. All
arrays are over the batch's visits or intents, never per-shopper objects.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from basketgym.contract.protocol import RankRequest, RankResponse
from basketgym.sim.session import home, search
from basketgym.sim.session.checkout import checkout
from basketgym.sim.session.context import VisitContext
from basketgym.sim.session.visits import begin_visits

SURFACES = (home, search)  # in the order a visit meets them
SURFACE_MODULES = {s.SURFACE: s for s in SURFACES}

Tables = dict[str, dict[str, np.ndarray]]


def session_steps(ctx: VisitContext, day: int, v: np.ndarray) -> Generator[RankRequest, RankResponse, Tables]:
    """The sessions of state rows ``v`` on ``day`` as a coroutine yielding each surface's ranking request.

    It takes each response, has the visitors read it, and returns the batch's log tables after
    checkout. ``simulate_chunk`` answers with the context's ranker.
    """
    vs = begin_visits(ctx, day, v)
    for surface in SURFACES:
        rows = surface.rows(ctx, vs)
        if len(rows):
            req = surface.request(ctx, vs, rows)
            surface.read(ctx, vs, rows, req.candidates, (yield req))
    return checkout(ctx, vs)


def rank(ctx: VisitContext, request: RankRequest) -> RankResponse:
    """The context's ranker answers ``request``, timed, and its answer checked before any shopper sees it."""
    t0 = time.perf_counter()
    response = ctx.ranker.rank(request)
    ctx.latency.append((request.surface, request.batch_size, request.candidates.shape[1], time.perf_counter() - t0))
    SURFACE_MODULES[request.surface].check(ctx, request, response)
    return response


def simulate_chunk(ctx: VisitContext, day: int, v: np.ndarray) -> Tables:
    """Simulate the sessions of visitors ``v`` (sorted state rows) on ``day`` with the context's ranker."""
    steps = session_steps(ctx, day, v)
    try:
        request = next(steps)
        while True:
            request = steps.send(rank(ctx, request))
    except StopIteration as done:
        return done.value
