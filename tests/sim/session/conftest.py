"""A tiny world for the session phases: three smoke shoppers, behaviour parameters set per test."""

import dataclasses

import numpy as np
import pytest

from basketgym.contract.protocol import RankResponse
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World

DAY = 5
FAR = 10_000  # a pantry run-out day far beyond the test's day: not a need


@pytest.fixture
def tiny():
    """``tiny(**behaviour)``: (world, context) of 3 shoppers, every pantry full, behaviour overridden."""

    def build(**behaviour):
        cfg = load_scenario("smoke")
        cfg = cfg.replace(behaviour=dataclasses.replace(cfg.behaviour, **behaviour))
        w = World(cfg, 3, make_ranker("random"), "random", shoppers=np.array([0, 1, 2]))
        st = w.state
        st.pantry_runout[:3] = np.where(st.pantry_runout[:3] == np.iinfo(np.int16).max, st.pantry_runout[:3], FAR)
        return w, w.sessions

    return build


def used_staple(ctx, row: int) -> int:
    """A staple slot the shopper of ``row`` uses (their pantry holds it)."""
    return int(np.flatnonzero(ctx.state.pantry_runout[row] != np.iinfo(np.int16).max)[0])


def response(slate: np.ndarray, sponsored: np.ndarray | None = None) -> RankResponse:
    """A hand-made answer: ``slate`` as shown, deterministic (propensity 1)."""
    slate = np.asarray(slate, np.int32)
    return RankResponse(
        slate, np.ones(slate.shape, np.float32), np.zeros(slate.shape, bool) if sponsored is None else sponsored
    )
