"""Drawing new shoppers: tastes, budgets, trip rhythm, the staples a household uses and its favourite aisles."""

from __future__ import annotations

import numpy as np

from basketgym.agents.params import PopulationConfig
from basketgym.agents.state import NEVER, ShopperState


def init_shoppers(
    state: ShopperState,
    rows: np.ndarray,
    join_day: int | np.ndarray,
    cfg: PopulationConfig,
    initial_satisfaction: float,
    aisle_centroid: np.ndarray,
    staple_aisles: np.ndarray,
    staple_cycle: np.ndarray,
    u: np.ndarray,
    z: np.ndarray,
    u_aisle: np.ndarray,
) -> None:
    """Fill ``rows`` of ``state`` with new shoppers joining on ``join_day``.

    Randomness comes in as arrays drawn by the caller (sim/ owns the random streams):
    ``u`` (n, 8) uniforms and ``z`` (n, D + 4) normals per shopper, ``u_aisle`` (n, A) uniforms
    for aisle preferences.
    """
    d = state.taste.shape[1]
    n_aisles = aisle_centroid.shape[0]
    # taste: a pull towards a few liked aisles plus an idiosyncratic part (brand tier, organic, size)
    liked = (u[:, :3] * n_aisles).astype(np.int64)
    taste = aisle_centroid[liked].mean(axis=1) * 1.2 + z[:, :d] * (2.4 / np.sqrt(d))
    state.taste[rows] = taste
    state.price_sensitivity[rows] = cfg.price_sensitivity * np.exp(0.45 * z[:, d] - 0.1)
    state.budget[rows] = cfg.budget * np.exp(cfg.budget_spread * z[:, d + 1])
    state.interval[rows] = np.clip(
        cfg.visit_interval_days * np.exp(cfg.visit_interval_spread * z[:, d + 2]), 1.0, 365.0
    )
    state.weekly[rows] = u[:, 4] < cfg.weekly_share
    state.consumption[rows] = np.exp(cfg.household_spread * z[:, d + 3])

    affinity = taste @ aisle_centroid.T  # (n, A)
    gumbel = -np.log(-np.log(u_aisle))
    f = state.favourite_aisles.shape[1]
    fav = np.argsort(-(affinity * 2.0 + gumbel), axis=1, kind="stable")[:, :f]
    state.favourite_aisles[rows] = fav

    # staples used: the household's most liked staple aisles (noisy), about cfg.staples_used of them
    s = len(staple_aisles)
    if s:
        score = affinity[:, staple_aisles] * 2.0 + gumbel[:, staple_aisles]
        n_used = np.clip(np.round(cfg.staples_used * s * np.exp(0.3 * z[:, d + 3])), 1, s).astype(np.int64)
        rank = np.argsort(np.argsort(-score, axis=1, kind="stable"), axis=1, kind="stable")
        used = rank < n_used[:, None]
        # pantry phase: a random fraction of one cycle left, so needs are spread over the first weeks
        cycle = staple_cycle[None, :] * state.consumption[rows][:, None]
        left = np.floor(u_aisle[:, :s] * cycle).astype(np.int64)
        start = np.asarray(join_day, np.int64).reshape(-1, 1) if np.ndim(join_day) else int(join_day)
        runout = np.where(used, start + left, np.iinfo(np.int16).max)
        state.pantry_runout[rows] = np.minimum(runout, np.iinfo(np.int16).max).astype(np.int16)

    state.habit_item[rows] = -1
    state.habit_stock[rows] = 0.0
    state.habit_day[rows] = 0
    state.satisfaction[rows] = initial_satisfaction
    state.join_day[rows] = join_day
    state.churn_day[rows] = NEVER
    first = np.asarray(join_day) + np.floor(u[:, 3] * state.interval[rows]).astype(np.int32)
    state.next_visit[rows] = first
