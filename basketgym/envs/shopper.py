"""``basketgym/Shopper-v0``: one episode is one shopper's life; the agent ranks every slate of every visit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.state import NEVER
from basketgym.envs.replay import Replayable, check_arguments
from sim.catalog import PublicCatalog
from sim.clock import Calendar
from sim.config import ScenarioConfig, resolve_scenario
from sim.protocol import SURFACE_HOME, RankRequest, RankResponse
from sim.threads import one_blas_thread
from sim.world import World

SHOPPER_FEATURES = ("days_since_last_order", "orders", "spend", "tenure", "basket_size", "day_fraction")
CANDIDATE_FEATURES = (*PublicCatalog.FEATURE_NAMES, "bought_before")
BEFORE_SESSIONS = 0.25  # time of day at which the visit's request is shown: events applied, no sessions yet


class AgentRanked:
    """The world's ranker inside Shopper-v0: the agent answers every request, so this one never ranks."""

    name = "agent"
    needs_quiet_days = False  # no state: the world may skip the days between the shopper's visits

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Nothing to prepare."""

    def rank(self, request: RankRequest) -> RankResponse:
        """Never called: the environment runs its shopper's sessions itself."""
        raise RuntimeError("Shopper-v0: the agent ranks this shopper's slates")

    def update(self, day_log: dict) -> None:
        """Nothing to learn."""

    def fit(self, day: int) -> None:
        """Nothing to refit."""


class ShopperEnv(Replayable, gym.Env):
    """Rank every slate one shopper sees, visit after visit, for the value of their whole life.

    ## Description
    The scenario's world with a single shopper. Their id keys every random draw, so their life is
    the one they live in ``basketgym run`` under the same slates (tested against the ``random``
    ranker). A visit shows the home feed, then one search per need or want still open; each of
    those slates is one step. The shopper examines with position bias, clicks, buys, forms habits,
    is satisfied or not, and may churn.

    ## Action Space
    ``MultiDiscrete([C] * K)``: the slate as indices into the observation's candidates (C = the
    larger of the home pool and ``search_candidates``, K = slate size). Rule for bad indices: an
    index of a padding candidate, or one already used earlier in the slate, is dropped and the rest
    close up (the slate gets shorter); indices beyond the surface's slate size are ignored. The
    agent's slates carry no sponsored placements.

    ## Observation Space
    ``Dict``: ``shopper`` (6 features from the platform's log of this shopper: days since last
    order / 30, orders / 10, spend / 1000, tenure / 180, mean items per order / 10, day / horizon),
    ``surface`` (0 home feed, 1 search), ``query`` (0 none, else the searched aisle + 1),
    ``candidates`` (C x 10 public features: log price, margin rate, private label, premium, organic,
    log size, staple, ad-eligible, bid, bought before), ``candidate_mask`` and ``candidate_ids``
    (catalog ids, -1 padding). Never hidden state.

    ## Rewards
    Paid at the last slate of a visit, when the shopper checks out: the visit's ``margin``
    (default), ``contribution`` (margin + ad revenue) or ``gtv``; 0 on the visit's other slates.

    ## Starting State
    The home feed of the shopper's first visit. ``reset(seed=s)`` uses world seed ``s`` and shopper
    ``s % population`` unless ``shopper`` is given; ``options={"shopper": i}`` picks shopper ``i``.

    ## Episode End
    ``terminated`` when the shopper churns (decided at a checkout); ``truncated`` when their next
    visit falls beyond the scenario's horizon.

    ## Arguments
    ``scenario`` (name, TOML path or ``ScenarioConfig``), ``shopper`` (id or None), ``reward`` ('margin',
    'contribution' or 'gtv'), ``days`` (horizon override), ``render_mode`` (None or ``"ansi"``).

    ## Vectorized environment
    Gymnasium's ``SyncVectorEnv`` / ``AsyncVectorEnv`` (``spawn`` works: the env pickles). A
    native ``ShopperVectorEnv`` is the next step (docs/ENVIRONMENTS.md).

    ## Version History
    * v0: initial version (basketgym 0.1).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | Path | ScenarioConfig = "default",
        shopper: int | None = None,
        reward: str = "margin",
        days: int | None = None,
        render_mode: str | None = None,
    ):
        check_arguments(reward, render_mode, self.metadata["render_modes"])
        cfg = resolve_scenario(scenario, days=days)
        self._init_args = {"scenario": cfg, "shopper": shopper, "reward": reward, "render_mode": render_mode}
        self.cfg, self.shopper, self.reward_name, self.render_mode = cfg, shopper, reward, render_mode
        mk = cfg.marketplace
        home = (max(1, mk.home_order_again) + mk.home_featured) if mk.home_slate_size > 0 else 0
        self.n_candidates = max(home, mk.search_candidates)  # a search shows at most this many
        self.slate_size = max(mk.slate_size, mk.home_slate_size)
        c, n_items = self.n_candidates, cfg.catalog.products
        self.action_space = spaces.MultiDiscrete(np.full(self.slate_size, c, np.int64))
        self.observation_space = spaces.Dict(
            {
                "shopper": spaces.Box(0.0, 100.0, (len(SHOPPER_FEATURES),), np.float32),
                "surface": spaces.Discrete(2),
                "query": spaces.Discrete(cfg.catalog.aisles + 1),
                "candidates": spaces.Box(-100.0, 100.0, (c, len(CANDIDATE_FEATURES)), np.float32),
                "candidate_mask": spaces.MultiBinary(c),
                "candidate_ids": spaces.Box(-1, n_items - 1, (c,), np.int64),
            }
        )
        self.world: World | None = None
        self.request: RankRequest | None = None
        self._actions: list[np.ndarray] = []
        self._reset_kwargs: dict | None = None

    # ---- Gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Build the shopper's world and show the home feed of their first visit."""
        super().reset(seed=seed)
        world_seed = int(seed) if seed is not None else int(self.np_random.integers(0, 2**62))
        n0 = self.cfg.population.shoppers
        shopper = (options or {}).get("shopper", self.shopper)
        shopper = int(world_seed % n0 if shopper is None else shopper)
        if not 0 <= shopper < n0:
            raise ValueError(f"shopper = {shopper}: must be in [0, {n0})")
        self._reset_kwargs = {"seed": world_seed, "options": {"shopper": shopper}}
        self._actions = []
        self.world = World(self.cfg, world_seed, AgentRanked(), "agent", shoppers=np.array([shopper]))
        self.calendar = Calendar(self.world, self.cfg.days)
        self._orders, self._lines, self._spend, self._last_order = 0, 0, 0.0, -1
        self._bought = np.zeros(self.cfg.catalog.products, np.float32)  # 1.0: the shopper bought it before
        self._features_day, self._features = -1, np.zeros((0, 0), np.float32)
        self.day = 0
        status = self._next_visit()
        if status != "visit":  # pathological scenario: no visit at all; an episode of length 0
            self.request = None
        return self._observe(), self._info({"day": self.day, "shopper": shopper, "world_seed": world_seed})

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """Show the agent's slate for the current request; run the visit on when it is complete."""
        if self.world is None or self.request is None:
            raise gym.error.ResetNeeded("call reset() before step(), and again after the episode ends")
        act = np.asarray(action, np.int64).reshape(self.slate_size)
        self._actions.append(act.copy())
        req = self.request
        k = req.slate_size
        cands = req.candidates[self._row]
        chosen: list[int] = []
        for i in act:
            if len(chosen) == k:
                break
            if 0 <= i < len(cands) and cands[i] >= 0 and int(cands[i]) not in chosen:
                chosen.append(int(cands[i]))
        self._slates[self._row, : len(chosen)] = chosen
        self._row += 1
        if self._row < req.batch_size:  # more searches in this visit
            return self._observe(), 0.0, False, False, self._info({"day": self.day, "visit_done": False})
        placed = self._slates >= 0
        response = RankResponse(self._slates, placed.astype(np.float32), np.zeros_like(placed))
        with one_blas_thread():
            try:
                self.request = self._session.send(response)  # the next request of this visit
            except StopIteration:
                self.request = None
        if self.request is not None:
            self._start_request()
            return self._observe(), 0.0, False, False, self._info({"day": self.day, "visit_done": False})
        return self._finish_visit()

    def render(self) -> str | None:
        """``ansi``: the current request in one line."""
        if self.render_mode != "ansi" or self.request is None:
            return None
        surface = "home feed" if self.request.surface == SURFACE_HOME else f"search {self.request.query[self._row]}"
        return f"day {self.day}: {surface}, {int((self.request.candidates[self._row] >= 0).sum())} candidates"

    def close(self) -> None:
        """Release the world (safe to call more than once)."""
        self.world = None
        self.request = None

    # ---- helpers --------------------------------------------------------------------------
    def _finish_visit(self) -> tuple[dict, float, bool, bool, dict]:
        """Checkout happened: account the visit, run the calendar to the next visit."""
        day = self.day
        with one_blas_thread():
            self.calendar.run_until(day + 1)  # the rest of the day: its (empty) sessions, logs, refit
        log = self.calendar.last_log
        sessions, purchases = log["sessions"], log["purchases"]
        gtv, margin = float(sessions["gtv"].sum()), float(sessions["margin"].sum())
        ads, lines = float(sessions["ad_revenue"].sum()), int(sessions["n_lines"].sum())
        if lines:
            self._orders += 1
            self._lines += lines
            self._spend += gtv
            self._last_order = day
            self._bought[purchases["item_id"]] = 1.0
        reward = {"margin": margin, "contribution": margin + ads, "gtv": gtv}[self.reward_name]
        info = {
            "day": day,
            "visit_done": True,
            "gtv": gtv,
            "margin": margin,
            "ad_revenue": ads,
            "items": purchases["item_id"].copy(),
            "sources": purchases["source"].copy(),
        }
        status = self._next_visit()
        if status != "visit":
            self.request = None
        return self._observe(), reward, status == "churned", status == "horizon", self._info(info)

    def _next_visit(self) -> str:
        """Run the calendar to the shopper's next visit and start it: 'visit', 'churned' or 'horizon'."""
        st = self.world.state
        nxt = int(st.next_visit[0])
        if st.churn_day[0] != NEVER or nxt == NEVER:
            return "churned"
        if nxt >= self.cfg.days:
            self.day = self.cfg.days
            return "horizon"
        with one_blas_thread():
            self.calendar.run_until(nxt + BEFORE_SESSIONS)  # the day's events applied, no sessions yet
            self._session = self.world.run_sessions(nxt, np.array([0]))
            self.request = next(self._session)
        self.day = nxt
        self._start_request()
        return "visit"

    def _start_request(self) -> None:
        self._row = 0
        self._slates = np.full((self.request.batch_size, self.request.slate_size), -1, np.int32)

    def _observe(self) -> dict:
        c = self.n_candidates
        feats = np.zeros((c, len(CANDIDATE_FEATURES)), np.float32)
        mask = np.zeros(c, np.int8)
        ids = np.full(c, -1, np.int64)
        surface, query = 0, 0
        if self.request is not None and self.world is not None:
            cand = self.request.candidates[self._row][:c]
            ok = cand >= 0
            ids[: len(cand)] = np.where(ok, cand, -1)
            mask[: len(cand)] = ok
            if self._features_day != self.day:  # prices and stock change only between days
                self._features_day, self._features = self.day, self.world.public.features()
            safe = np.maximum(cand, 0)
            n_pub = self._features.shape[1]
            feats[: len(cand), :n_pub] = np.where(ok[:, None], self._features[safe], 0.0)
            feats[: len(cand), n_pub] = np.where(ok, self._bought[safe], 0.0)
            surface = int(self.request.surface)
            query = int(self.request.query[self._row]) + 1 if surface != SURFACE_HOME else 0
        shopper = np.array(
            [
                (self.day - self._last_order) / 30.0 if self._last_order >= 0 else 0.0,
                self._orders / 10.0,
                self._spend / 1000.0,
                self.day / 180.0,
                self._lines / max(self._orders, 1) / 10.0,
                min(self.day, self.cfg.days) / self.cfg.days,
            ],
            np.float32,
        )
        return {
            "shopper": np.clip(shopper, 0.0, 100.0),
            "surface": surface,
            "query": query,
            "candidates": np.clip(feats, -100.0, 100.0),
            "candidate_mask": mask,
            "candidate_ids": ids,
        }

    def _info(self, info: dict) -> dict:
        if self.world is not None:
            st = self.world.state
            # TRUTH, for analysis only: an agent must not use these to act
            info["truth"] = {"satisfaction": float(st.satisfaction[0]), "churned": bool(st.churn_day[0] != NEVER)}
        return info
