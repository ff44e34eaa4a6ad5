"""The envs' rewards, defined once: small callables of what a step earned, chosen by name or injected.

Every env takes ``reward=`` as a name in ``REWARDS`` (default ``"margin"``) or any callable
``reward(earnings: Earnings) -> float | np.ndarray`` (constructor injection). The callable must
be picklable for the env to pickle (``AsyncVectorEnv`` with ``spawn``, checkpoints): a module-level
function or an instance of a module-level class, not a lambda or a closure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from basketgym.envs.replay import EnvArgumentError


@dataclass(frozen=True)
class Earnings:
    """What a step earned: arrays over sub-envs (Shopper envs: a checked-out visit, else 0) or a day's floats.

    Shopper-v0 and its vector form pass (N,) float64 arrays, nonzero only where a visit checked out
    this step; Marketplace-v0 passes the day's totals as floats. Observable values only.
    """

    gtv: np.ndarray | float
    margin: np.ndarray | float
    ad_revenue: np.ndarray | float


Reward = Callable[[Earnings], "np.ndarray | float"]


def margin(earnings: Earnings) -> np.ndarray | float:
    """The margin of what was sold (the default)."""
    return earnings.margin


def contribution(earnings: Earnings) -> np.ndarray | float:
    """Margin plus ad revenue: what the marketplace keeps."""
    return earnings.margin + earnings.ad_revenue


def gtv(earnings: Earnings) -> np.ndarray | float:
    """Gross transaction value: what shoppers paid."""
    return earnings.gtv


REWARDS: dict[str, Reward] = {"margin": margin, "contribution": contribution, "gtv": gtv}


def resolve_reward(reward: str | Reward) -> Reward:
    """The reward callable for a name in ``REWARDS`` or a callable; a one-line error otherwise."""
    if isinstance(reward, str) and reward in REWARDS:
        return REWARDS[reward]
    if callable(reward) and not isinstance(reward, str):
        return reward
    names = ", ".join(map(repr, REWARDS))
    raise EnvArgumentError(f"reward = {reward!r}: must be one of {names}, or a callable of Earnings")
