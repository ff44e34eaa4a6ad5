"""A batch of visits in progress (``Visits``): who and when, their intents, and what they saw and carted so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from basketgym.agents import habit
from basketgym.sim.session.context import VisitContext, col
from basketgym.sim.session.intents import Intents, form_intents

# the budget keeps needs first, then wants, then impulse buys
PRIORITY_NEED, PRIORITY_WANT, PRIORITY_IMPULSE = 0, 1, 2


class Lines(NamedTuple):
    """Carted lines of a batch (checkout keeps those the budget allows), one array entry per line."""

    session: np.ndarray  # index into the batch's visits
    item: np.ndarray
    source: np.ndarray  # SOURCE_* code: the surface that sold it, or organic
    position: np.ndarray  # slate position (-1 organic)
    sponsored: np.ndarray  # bool
    intent: np.ndarray  # the intent it meets (-1 impulse)
    priority: np.ndarray  # PRIORITY_*
    slate_row: np.ndarray  # its row in the source's slate log of this batch (-1 organic)

    @classmethod
    def empty(cls) -> Lines:
        """No lines (checkout concatenates all the batch's lines after it)."""
        e = np.zeros(0, np.int64)
        return cls(e, e, e, e, np.zeros(0, bool), e, e, e)


@dataclass
class Visits:
    """A batch of visits in progress: who and when, their intents, and what they saw and bought so far.

    ``day`` and ``ep`` (the market epoch each visit sees) are ints when all visits share a day (a
    world's day), or (n,) arrays when they do not (independent lives, the envs' engine).
    """

    v: np.ndarray  # (n,) state rows
    ids: np.ndarray  # (n,) shopper ids: key the draws, go to the ranker and the logs
    day: int | np.ndarray
    ep: int | np.ndarray
    taste: np.ndarray  # (n, D) float32
    alpha: np.ndarray  # (n,) float64 price sensitivity
    aisle_aff: np.ndarray  # (n, A) taste for every aisle (weighted)
    it: Intents
    resolved: np.ndarray  # (m,) bool: intent met
    examined: np.ndarray  # (n,) items examined over the visit's slates
    clicked: np.ndarray  # (n,)
    bad_ads: np.ndarray  # (n,) sponsored items examined and not clicked
    slates: np.ndarray  # (n,) int64 slates shown
    ad_revenue: np.ndarray  # (n,)
    lines: list[Lines]
    # source -> (slate log, visit of each log row), in the order the surfaces showed them; None: not logged
    logged: dict[int, tuple[dict[str, np.ndarray], np.ndarray]] | None


def begin_visits(
    ctx: VisitContext, day: int | np.ndarray, v: np.ndarray, ep: int | np.ndarray = 0, log: bool = True
) -> Visits:
    """Start the visits of state rows ``v``: habits brought to today, aisle tastes, intents."""
    st, b = ctx.state, ctx.behaviour
    n = len(v)
    # lazy habit decay: bring the visitors' habit stocks to today (only visitors are touched)
    st.habit_stock[v] = habit.decayed(st.habit_stock[v], st.habit_day[v], col(day), b.habit_decay_days)
    st.habit_day[v] = col(day)
    taste_v = st.taste[v]
    aisle_aff = (taste_v @ ctx.shop.centroid_t) * np.float32(b.taste_weight)  # (n, A): one BLAS product
    it = form_intents(ctx, day, v, aisle_aff)
    return Visits(
        v=v,
        ids=st.shopper_id[v],
        day=day,
        ep=ep,
        taste=taste_v,
        alpha=st.price_sensitivity[v].astype(np.float64),
        aisle_aff=aisle_aff,
        it=it,
        resolved=np.zeros(len(it.session), bool),
        examined=np.zeros(n),
        clicked=np.zeros(n),
        bad_ads=np.zeros(n),
        slates=np.zeros(n, np.int64),
        ad_revenue=np.zeros(n),
        lines=[Lines.empty()],
        logged={} if log else None,
    )
