"""``basketgym/Marketplace-v0``: one step is one simulated day; the action sets the ranking objective."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from basketgym.contract.threads import one_blas_thread
from basketgym.envs.replay import Replayable, check_ending, check_render_mode
from basketgym.envs.rewards import Earnings, Reward, resolve_reward
from basketgym.rankers import make_ranker
from basketgym.sim.clock import Calendar
from basketgym.sim.config import ScenarioConfig, resolve_scenario
from basketgym.sim.world import World

ACTION_NAMES = ("relevance", "margin", "ad_load", "exploration")
OBS_HIGH = 100.0  # observations are O(1) by construction; clipped to a finite box
OBSERVATION_NAMES = (
    "day_fraction",
    "visits_per_shopper",
    "conversion",
    "items_per_order",
    "gtv_per_visit",
    "margin_per_visit",
    "ad_revenue_per_visit",
    "click_through",
    "organic_share",
    "recently_active_share",
)


class MarketplaceEnv(Replayable, gym.Env):
    """Learn a long-horizon ranking objective for a whole grocery marketplace.

    ## Description
    The scenario's world (catalog, shoppers with tastes, pantries, habits, satisfaction and churn)
    runs one day per step. Every session of the day is ranked by the ``objective`` ranker, whose
    weights the policy sets: how much the slates follow relevance (the shopper's own history, then
    popularity), how much they follow margin per unit, how many sponsored placements they carry, and
    how often a slate explores. Myopic settings (margin and ads) pay today and cost retention later:
    the point of the env.

    ## Action Space
    ``Box(0, 1, (4,), float32)``: ``[relevance, margin, ad_load, exploration]``. Relevance and
    margin are the weights of the two normalised signals (both 0 is read as equal weights);
    ``ad_load`` is the share of ``min(max_sponsored, slate_size)`` sponsored placements per slate;
    ``exploration`` is the probability that a slate shows random items in its positions instead
    (ad-eligible ones where sponsored; slate-level epsilon-greedy, logged with exact propensities).

    ## Observation Space
    ``Box(0, 100, (10,), float32)``: what the platform observed on the day just simulated, in
    units of order one (see ``OBSERVATION_NAMES``): day / horizon, visits per initial shopper,
    share of visits with an order, items per order / 10, GTV per visit / 100, margin per visit / 30,
    ad revenue per visit / 5, clicks per shown item, share of order lines found organically, and the
    share of initial shoppers who visited in the last 30 days. Never hidden state.

    ## Rewards
    The day's ``margin`` (default), ``contribution`` (margin + ad revenue) or ``gtv``, or any
    picklable callable of ``rewards.Earnings`` (the day's totals, floats) passed as ``reward``.

    ## Starting State
    Day 0 of the scenario's world for the world seed: ``reset(seed=s)`` builds the world of
    ``basketgym run`` with seed ``s``; without a seed, one is drawn from ``self.np_random``. The
    first observation is all zeros (nothing observed yet).

    ## Episode End
    ``truncated`` at the scenario's horizon. ``end_on="churn"`` (default): ``terminated`` if every
    shopper has churned and none arrive (the marketplace is gone); **privileged information**, as
    churn is hidden state no platform sees. ``end_on="absence", absence_days=N``: ``terminated``
    once N days in a row have had no visit at all, which the platform observes (its own session
    counts); terminated rather than truncated because the task defines an N-day-empty marketplace
    as lost, so no later reward belongs to the episode. It never reads churn state.

    ## Arguments
    ``scenario``: bundled name, TOML path or ``ScenarioConfig`` (default ``"default"``);
    ``reward``: 'margin', 'contribution', 'gtv' or a picklable callable of ``Earnings`` (pickling
    rebuilds the env from its constructor arguments, the callable included); ``days`` and
    ``shoppers``: optional overrides of the scenario's horizon and initial population;
    ``render_mode``: ``None`` or ``"ansi"``; ``relevance_model``: a model directory written by
    ``basketgym train`` whose calibrated purchase probability replaces buy-again's order as the
    relevance signal (the learned ranker under the policy's objective);
    ``end_on`` ('churn' or 'absence') and ``absence_days`` (N >= 1, only with 'absence').

    ## Vectorized environment
    None native: a day already moves the whole population in vectorised numpy. Use
    ``gymnasium.vector.AsyncVectorEnv`` (``spawn`` context works) to run worlds in parallel.

    ## Version History
    * v0: initial version (basketgym 0.1); ``reward`` accepts a callable (the named rewards unchanged).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        scenario: str | Path | ScenarioConfig = "default",
        reward: str | Reward = "margin",
        days: int | None = None,
        shoppers: int | None = None,
        render_mode: str | None = None,
        relevance_model: str | None = None,
        end_on: str = "churn",
        absence_days: int | None = None,
    ):
        self.reward = resolve_reward(reward)
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.absence_days = check_ending(end_on, absence_days)
        cfg = resolve_scenario(scenario, days=days, shoppers=shoppers)
        if relevance_model is not None:
            make_ranker("objective", relevance_model=relevance_model)  # a bad directory fails here, clearly
        self.relevance_model = relevance_model
        self._init_args = {"scenario": cfg, "reward": reward, "render_mode": render_mode,
                           "relevance_model": relevance_model, "end_on": end_on,
                           "absence_days": absence_days}  # fmt: skip
        self.cfg, self.render_mode = cfg, render_mode
        self.action_space = spaces.Box(0.0, 1.0, shape=(len(ACTION_NAMES),), dtype=np.float32)
        self.observation_space = spaces.Box(0.0, OBS_HIGH, shape=(len(OBSERVATION_NAMES),), dtype=np.float32)
        self.world: World | None = None
        self.calendar: Calendar | None = None
        self._reset_kwargs: dict | None = None
        self._actions: list[np.ndarray] = []
        self._last_visit: np.ndarray | None = None
        self._last_busy_day = -1  # the last day with any visit (-1: none yet)
        self._obs = np.zeros(len(OBSERVATION_NAMES), np.float32)

    # ---- Gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Build a fresh world (seed ``seed``, or one drawn from ``np_random``) at day 0."""
        super().reset(seed=seed)
        world_seed = int(seed) if seed is not None else int(self.np_random.integers(0, 2**62))
        self._reset_kwargs = {"seed": world_seed}
        self.ranker = make_ranker("objective", relevance_model=self.relevance_model)
        self.world = World(self.cfg, world_seed, self.ranker, "objective", keep_slates=False)
        self.calendar = Calendar(self.world, self.cfg.days)
        self._actions = []
        self._last_visit = np.full(self.cfg.population.shoppers, -(10**6), np.int64)
        self._last_busy_day = -1
        self._obs = np.zeros(len(OBSERVATION_NAMES), np.float32)
        return self._obs.copy(), {"day": 0, "world_seed": world_seed}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Simulate one day under the objective ``[relevance, margin, ad_load, exploration]``."""
        if self.calendar is None or self.world is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self.calendar.finished:
            raise gym.error.ResetNeeded("the episode reached its horizon: call reset()")
        a = np.asarray(action, np.float64)
        if a.shape != (len(ACTION_NAMES),):
            raise ValueError(f"action has shape {a.shape}: expected ({len(ACTION_NAMES)},) = {list(ACTION_NAMES)}")
        a = np.clip(a, 0.0, 1.0)
        self._actions.append(a.astype(np.float32))
        relevance, margin, ad_load, exploration = (float(x) for x in a)
        if relevance + margin == 0.0:
            relevance = margin = 0.5
        self.ranker.set_objective(relevance, margin, ad_load, exploration)
        with one_blas_thread():
            log = self.calendar.advance(1)
        day = self.calendar.days_done - 1
        sessions, purchases, slates = log.get("sessions", {}), log.get("purchases", {}), log.get("slates", {})
        gtv = float(np.sum(sessions.get("gtv", 0.0)))
        margin_day = float(np.sum(sessions.get("margin", 0.0)))
        ads = float(np.sum(sessions.get("ad_revenue", 0.0)))
        reward = float(self.reward(Earnings(gtv, margin_day, ads)))
        self._obs = self._observe(day, sessions, purchases, slates)
        alive = self.world.active_shoppers()
        if self.absence_days is None:
            terminated = alive == 0 and self.cfg.population.new_per_day == 0
        else:  # observable: the platform's own session counts, never churn state
            if len(sessions.get("day", [])):
                self._last_busy_day = day
            terminated = day - self._last_busy_day >= self.absence_days
        truncated = self.calendar.finished and not terminated
        info = {
            "day": day,
            "gtv": gtv,
            "margin": margin_day,
            "ad_revenue": ads,
            "visits": int(len(sessions.get("day", []))),
            "orders": int(np.sum(np.asarray(sessions.get("n_lines", [])) > 0)),
            # TRUTH, for analysis only: a policy must not use these to act
            "truth": {"active_shoppers": alive, "mean_satisfaction": self.world.mean_satisfaction()},
        }
        return self._obs.copy(), reward, terminated, truncated, info

    def render(self) -> str | None:
        """``ansi``: the last observation as one line of named values."""
        if self.render_mode != "ansi":
            return None
        return "  ".join(f"{n}={v:.3f}" for n, v in zip(OBSERVATION_NAMES, self._obs, strict=True))

    def close(self) -> None:
        """Release the world (safe to call more than once)."""
        self.world = None
        self.calendar = None

    # ---- helpers --------------------------------------------------------------------------
    def _observe(self, day: int, sessions: dict, purchases: dict, slates: dict) -> np.ndarray:
        n0 = max(1, self.cfg.population.shoppers)
        visits = len(sessions.get("day", []))
        lines = np.asarray(sessions.get("n_lines", []), np.float64)
        orders = int((lines > 0).sum())
        shown = np.asarray(slates.get("slate", np.zeros((0, 1))))
        clicked = np.asarray(slates.get("clicked", np.zeros((0, 1), bool)))
        source = np.asarray(purchases.get("source", []))
        ids = np.asarray(sessions.get("shopper_id", []), np.int64)
        ids = ids[ids < n0]
        assert self._last_visit is not None
        self._last_visit[ids] = day
        per_visit = max(visits, 1)
        obs = [
            (day + 1) / self.cfg.days,
            visits / n0,
            orders / per_visit,
            float(lines.sum()) / max(orders, 1) / 10.0,
            float(np.sum(sessions.get("gtv", 0.0))) / per_visit / 100.0,
            float(np.sum(sessions.get("margin", 0.0))) / per_visit / 30.0,
            float(np.sum(sessions.get("ad_revenue", 0.0))) / per_visit / 5.0,
            float(clicked.sum()) / max(int((shown >= 0).sum()), 1),
            float((source == 2).sum()) / max(len(source), 1),
            float((self._last_visit > day - 30).sum()) / n0,
        ]
        return np.clip(np.asarray(obs, np.float32), 0.0, OBS_HIGH)
