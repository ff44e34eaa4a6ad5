"""Truth in shadow, for an observer only: true click and purchase probabilities, other slates' outcomes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from basketgym.contract import rng
from basketgym.contract.rng import Purpose
from basketgym.sim.session.context import VisitContext, at
from basketgym.sim.session.visits import Visits

TRUTH_SAMPLES = 64  # examination patterns averaged for true purchase probabilities (shadow observers only)

Outcome = tuple[np.ndarray, ...]  # (clicked, carted, P(click), P(carted)) of a batch of slates


def click_probability(exam: np.ndarray, util: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """P(examined and clicked): examination times P(util + Gumbel shock > threshold) (an expected reward)."""
    with np.errstate(over="ignore"):
        return exam * -np.expm1(-np.exp(np.minimum(util - threshold, 50.0)))


def truth_draws(ctx: VisitContext, ids: np.ndarray, day: np.ndarray | int, k: int) -> np.ndarray:
    """(TRUTH_SAMPLES, n, k) uniforms for Monte Carlo examination patterns, keyed by shopper and day.

    Position-major columns (position j's samples are columns j*S..j*S+S-1), so a position's draws do
    not depend on the slate width k.
    """
    u = rng.uniform(ctx.seed, Purpose.TRUTH_EXAMINE, ids, day, TRUTH_SAMPLES * k)
    return u.reshape(len(ids), k, TRUTH_SAMPLES).transpose(2, 0, 1)


def shadow(ctx: VisitContext, vs: Visits, surface: int, query: np.ndarray, visit: np.ndarray, shown: Outcome,
           choose: Callable[[np.ndarray], Outcome]) -> None:  # fmt: skip
    """Counterfactual outcomes for the observer (``ctx.observer``): what the shadow targets' slates would have done.

    Same shopper state, same random draws, nothing applied. ``visit``: the visit of each slate row;
    ``shown``: (clicked, carted, click and purchase probabilities) of the shown slates (carted:
    chosen, before the budget); ``choose(slate)``: the same for other slates.
    """
    sid = vs.ids[visit]
    day = at(vs.day, visit)
    ctx.observer.record(
        (np.asarray(day, np.int64) << 32) | sid.astype(np.int64), surface, query, shown,
        {name: choose(slate) for name, slate in ctx.observer.pending().items()},
    )  # fmt: skip
