"""What basketgym's environments share: argument checks, and pickling as a replayable recipe.

A world holds simpy generators, which do not pickle; but the simulator is deterministic, so an
environment pickles as (constructor arguments, reset arguments, actions taken, RNG state) and is
rebuilt on load by replaying them — landing in exactly the same state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from basketgym.contract.errors import BasketgymError

ENDINGS = ("churn", "absence")


class EnvArgumentError(BasketgymError, ValueError):
    """An environment argument out of range; the message names the argument, the value and what is allowed."""


def check_render_mode(render_mode: str | None, render_modes: list[str]) -> None:
    """Reject an unknown render mode with one line naming the value and what is allowed."""
    if render_mode not in (None, *render_modes):
        raise EnvArgumentError(f"render_mode = {render_mode!r}: must be None or one of {render_modes}")


def check_ending(end_on: str, absence_days: int | None) -> int | None:
    """The absence window in days for ``end_on="absence"`` (None for ``"churn"``); one-line errors otherwise."""
    if end_on not in ENDINGS:
        raise EnvArgumentError(f"end_on = {end_on!r}: must be one of {', '.join(map(repr, ENDINGS))}")
    if end_on == "churn":
        if absence_days is not None:
            raise EnvArgumentError(f"absence_days = {absence_days!r}: only used with end_on='absence' (got 'churn')")
        return None
    if isinstance(absence_days, bool) or not isinstance(absence_days, int | np.integer) or absence_days < 1:
        raise EnvArgumentError(f"absence_days = {absence_days!r}: end_on='absence' needs a whole number of days >= 1")
    return int(absence_days)


class Replayable:
    """Mixin for a ``gymnasium.Env`` that records ``_init_args``, ``_reset_kwargs`` and ``_actions``."""

    _init_args: dict[str, Any]
    _reset_kwargs: dict[str, Any] | None
    _actions: list[np.ndarray]
    _np_random: np.random.Generator | None

    def __getstate__(self) -> dict:
        """Constructor arguments, reset arguments, the actions taken and the env's RNG state."""
        return {
            "init": self._init_args,
            "reset": self._reset_kwargs,
            "actions": [np.array(a, copy=True) for a in self._actions],
            "np_random": None if self._np_random is None else self._np_random.bit_generator.state,
        }

    def __setstate__(self, state: dict) -> None:
        """Rebuild, reset and replay the actions; then restore the RNG state."""
        self.__init__(**state["init"])  # type: ignore[misc]
        if state["reset"] is not None:
            self.reset(**state["reset"])  # type: ignore[attr-defined]
            for a in state["actions"]:
                self.step(a)  # type: ignore[attr-defined]
        if state["np_random"] is not None:
            self._np_random = np.random.Generator(np.random.PCG64())
            self._np_random.bit_generator.state = state["np_random"]
