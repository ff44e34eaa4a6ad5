"""``basketgym/Shopper-v0``: one episode is one shopper's life; the policy ranks every slate of every visit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from basketgym.contract.protocol import SURFACE_HOME
from basketgym.envs.engine import ONGOING, TERMINATED, TRUNCATED, ShopperLives
from basketgym.envs.features import CANDIDATE_FEATURES, FEATURE_BOUND, SHOPPER_FEATURES
from basketgym.envs.replay import check_ending, check_render_mode
from basketgym.envs.rewards import Earnings, Reward, resolve_reward
from basketgym.sim.config import ScenarioConfig, resolve_scenario


def observation_space(lives: ShopperLives) -> spaces.Dict:
    """One shopper's observation: their logged features, the surface and query, the candidates."""
    c, n_items = lives.n_candidates, lives.n_products
    return spaces.Dict(
        {
            "shopper": spaces.Box(0.0, FEATURE_BOUND, (len(SHOPPER_FEATURES),), np.float32),
            "surface": spaces.Discrete(2),
            "query": spaces.Discrete(lives.n_aisles + 1),
            "candidates": spaces.Box(-FEATURE_BOUND, FEATURE_BOUND, (c, len(CANDIDATE_FEATURES)), np.float32),
            "candidate_mask": spaces.MultiBinary(c),
            "candidate_ids": spaces.Box(-1, n_items - 1, (c,), np.int64),
        }
    )


def observe(lives: ShopperLives) -> dict[str, np.ndarray]:
    """The observations of every slot, batched (N, ...): nothing but what the platform knows."""
    cands = lives.cands
    ongoing = lives.status == ONGOING
    return {
        "shopper": lives.shopper_features().copy(),
        "surface": np.where(ongoing, lives.surface, SURFACE_HOME).astype(np.int64),
        "query": lives.query() + 1,  # -1 (home feed, or no life) becomes 0
        "candidates": lives.candidate_features(),
        "candidate_mask": (cands >= 0).view(np.int8),
        "candidate_ids": cands.astype(np.int64),
    }


def observe_one(lives: ShopperLives) -> dict[str, Any]:
    """``observe`` for a single slot, unbatched (Shopper-v0): the same values, fewer array calls."""
    cands = lives.cands
    ongoing = lives.status[0] == ONGOING
    return {
        "shopper": lives.shopper_features()[0].copy(),
        "surface": int(lives.surface[0]) if ongoing else SURFACE_HOME,
        "query": int(lives.query()[0]) + 1,
        "candidates": lives.candidate_features()[0],
        "candidate_mask": (cands[0] >= 0).view(np.int8),
        "candidate_ids": cands[0].astype(np.int64),
    }


class ShopperEnv(gym.Env):
    """Rank every slate one shopper sees, visit after visit, for the value of their whole life.

    ## Description
    The scenario's world, seen through one shopper. Their id keys every random draw, so their
    life is the one they live in ``basketgym run`` under the same slates (tested against the
    ``random`` ranker, purchase by purchase). A visit shows the home feed, then one search per
    need or want still open; each of those slates is one step. The shopper examines with position
    bias, clicks, buys within a budget, refills the pantry, forms habits, is satisfied or not, and
    may churn. Prices and stock follow the scenario's events on each visit's day.

    ## Action Space
    ``MultiDiscrete([C] * K)``: the slate as indices into the observation's candidates (C = the
    larger of the home pool and ``search_candidates``, K = the larger slate size). Rule for bad
    indices: an index of a padding candidate, or one already used earlier in the slate, is dropped
    and the rest close up (the slate gets shorter); only the first ``slate_size`` (search) or
    ``home_slate_size`` (home feed) remaining picks are shown. Ads follow the marketplace's rule:
    an ad-eligible item placed at one of the scenario's ``ad_positions`` is shown as a sponsored
    placement (labelled; pays its bid per click; an unclicked one annoys), at most
    ``max_sponsored`` per slate.

    ## Observation Space
    ``Dict``: ``shopper`` (6 features from the platform's log of this shopper: days since last
    order / 30, orders / 10, spend / 1000, day / 180, mean items per order / 10, day / horizon),
    ``surface`` (0 home feed, 1 search), ``query`` (0 none, else the searched aisle + 1),
    ``candidates`` (C x 10 public features: log price, margin rate, private label, premium, organic,
    log size, staple, ad-eligible, bid, bought before; zeros for padding), ``candidate_mask`` and
    ``candidate_ids`` (catalog ids, -1 padding). Never hidden state.

    ## Rewards
    Paid at the last slate of a visit, when the shopper checks out: the visit's ``margin``
    (default), ``contribution`` (margin + ad revenue) or ``gtv``, or any picklable callable of
    ``rewards.Earnings`` (the visit's GTV, margin and ad revenue) passed as ``reward``; 0 on the
    visit's other slates.

    ## Starting State
    The home feed of the shopper's first visit. ``reset(seed=s)`` uses world seed ``s`` and shopper
    ``s % population`` unless ``shopper`` is given; ``options={"shopper": i}`` picks shopper ``i``.

    ## Episode End
    ``end_on="churn"`` (default): ``terminated`` when the shopper churns (decided at a checkout);
    ``truncated`` when their next visit falls beyond the scenario's horizon (if even the first
    does, the first step truncates). **Privileged information**: churn is hidden state (no
    platform sees it), so with this ending the ``terminated`` flag, and its difference from
    ``truncated``, tells the policy something it could not observe; a value function trained on it
    learns from a hidden label. Fine for studying the simulator; not a deployable signal.

    ``end_on="absence", absence_days=N``: an ending the platform can observe. The episode ends
    when the shopper has not visited for N days: no visit on the N days after their last visit
    (or after day 0, before the first), reported at that last visit's checkout step with
    ``info["end_day"]`` = last visit day + N. It is ``terminated``, not ``truncated``: the task
    defines a shopper absent N days as lost (the usual lapsed-customer rule), so no reward of this
    episode follows and bootstrapping past it would count value the env never pays. It never reads
    churn state: a shopper who has not churned but stays away N days ends the same way, and one
    who churned ends N days after their last visit, like anyone who never returns. If the N days
    would run past the horizon, the episode is ``truncated`` at the horizon instead.

    ## Arguments
    ``scenario`` (name, TOML path or ``ScenarioConfig``), ``shopper`` (id or None), ``reward`` ('margin',
    'contribution', 'gtv' or a picklable callable of ``basketgym.envs.rewards.Earnings``), ``days``
    (horizon override), ``render_mode`` (None or ``"ansi"``),
    ``end_on`` ('churn' or 'absence') and ``absence_days`` (N >= 1, only with 'absence').

    ## Vectorized environment
    ``gymnasium.make_vec("basketgym/Shopper-v0", num_envs=N)`` returns the native
    ``ShopperVectorEnv``: N lives in one world, every step batched. ``SyncVectorEnv`` and
    ``AsyncVectorEnv`` (``spawn`` too: the env pickles) work as well.

    ## Version History
    * v0: initial version (basketgym 0.1); ``end_on`` / ``absence_days`` added with the default
      (churn) unchanged, so earlier results stand; ``reward`` accepts a callable (the named
      rewards unchanged).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | Path | ScenarioConfig = "default",
        shopper: int | None = None,
        reward: str | Reward = "margin",
        days: int | None = None,
        render_mode: str | None = None,
        end_on: str = "churn",
        absence_days: int | None = None,
    ):
        self.reward = resolve_reward(reward)
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.absence_days = check_ending(end_on, absence_days)
        self.end_on = end_on
        self.cfg = resolve_scenario(scenario, days=days)
        self.shopper, self.render_mode = shopper, render_mode
        self.lives = ShopperLives(self.cfg, self.cfg.seed, 1, self.absence_days)  # replaced on reset for another seed
        self.n_candidates, self.slate_size = self.lives.n_candidates, self.lives.slate_size
        self.action_space = spaces.MultiDiscrete(np.full(self.slate_size, self.n_candidates, np.int64))
        self.observation_space = observation_space(self.lives)
        self._pending_end = False  # a life that ended before its first slate ends at the first step
        self._over = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Start the shopper's life and show the home feed of their first visit."""
        super().reset(seed=seed)
        world_seed = int(seed) if seed is not None else int(self.np_random.integers(0, 2**62))
        n0 = self.cfg.population.shoppers
        shopper = (options or {}).get("shopper", self.shopper)
        shopper = int(world_seed % n0 if shopper is None else shopper)
        if not 0 <= shopper < n0:
            raise ValueError(f"shopper = {shopper}: must be in [0, {n0})")
        if self.lives is None or self.lives.seed != world_seed:
            self.lives = ShopperLives(self.cfg, world_seed, 1, self.absence_days)
        self.lives.start(np.array([0]), np.array([shopper]))
        self._over = False
        self._pending_end = self.lives.status[0] != ONGOING
        info = {"day": int(self.lives.day[0]), "shopper": shopper, "world_seed": world_seed}
        return self._observe(), self._with_truth(info)

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """Show the policy's slate; when it is the visit's last, the shopper checks out."""
        if self.lives is None or self._over:
            raise gym.error.ResetNeeded("call reset() before step(), and again after the episode ends")
        lives = self.lives
        if self._pending_end:
            self._pending_end, self._over = False, True
            status = int(lives.status[0])
            info0: dict[str, Any] = {"day": 0}
            if status == TERMINATED and lives.end_day[0] >= 0:
                info0["end_day"] = int(lives.end_day[0])
            return self._observe(), 0.0, status == TERMINATED, status == TRUNCATED, self._with_truth(info0)
        res = lives.step(np.asarray(action, np.int64).reshape(1, -1))
        status = int(res.status[0])
        self._over = status != ONGOING
        info: dict[str, Any] = {"day": int(res.day[0]), "visit_done": bool(res.done_visit[0])}
        reward = 0.0
        if res.done_visit[0]:
            p = res.purchases
            reward = float(np.asarray(self.reward(Earnings(res.gtv, res.margin, res.ad_revenue)))[0])
            info.update(gtv=float(res.gtv[0]), margin=float(res.margin[0]), ad_revenue=float(res.ad_revenue[0]))
            info.update(items=p["item_id"].copy(), sources=p["source"].copy())
        if status == TERMINATED and lives.end_day[0] >= 0:
            info["end_day"] = int(lives.end_day[0])
        return self._observe(), reward, status == TERMINATED, status == TRUNCATED, self._with_truth(info)

    def render(self) -> str | None:
        """``ansi``: the current request in one line."""
        if self.render_mode != "ansi" or self.lives is None or self._over:
            return None
        lives = self.lives
        q = int(lives.query()[0])
        surface = "home feed" if lives.surface[0] == SURFACE_HOME else f"search {lives.aisle_name(q)}"
        return f"day {int(lives.day[0])}: {surface}, {int((lives.cands[0] >= 0).sum())} candidates"

    def close(self) -> None:
        """Release the world (safe to call more than once)."""
        self.lives = None
        self._over = True

    def _observe(self) -> dict:
        return observe_one(self.lives)

    def _with_truth(self, info: dict) -> dict:
        truth = self.lives.truth()
        # TRUTH, for analysis only: a policy must not use these to act
        info["truth"] = {"satisfaction": float(truth["satisfaction"][0]), "churned": bool(truth["churned"][0])}
        return info
