"""``ShopperVectorEnv``: Shopper-v0 over N shopper lives in one world, every step one batched call of the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from basketgym.envs.engine import ONGOING, TERMINATED, TRUNCATED, ShopperLives
from basketgym.envs.replay import check_ending, check_render_mode
from basketgym.envs.rewards import Earnings, Reward, resolve_reward
from basketgym.envs.shopper import observation_space, observe
from basketgym.sim.config import ScenarioConfig, resolve_scenario

PREFETCH = 256  # lives staged at a time for autoresets


class ShopperVectorEnv(VectorEnv):
    """N Shopper-v0 episodes at once, natively batched (``gymnasium.make_vec("basketgym/Shopper-v0", N)``).

    ## Description
    The N sub-environments are N slots of one world (world seed = the reset seed): each slot lives
    one shopper's life after another, exactly as ``Shopper-v0`` would (the same engine,
    ``basketgym.envs.engine.ShopperLives``, with N = 1 there). One ``step`` shows every slot its slate; the
    visits whose last slate it was check out together, in one vectorised call.

    ## Action Space
    ``MultiDiscrete`` of shape (N, K): row i is sub-env i's slate as candidate indices (the rule
    for bad or repeated indices is Shopper-v0's).

    ## Observation Space
    Shopper-v0's ``Dict``, batched: every entry gets a leading axis of N.

    ## Rewards
    Per sub-env, Shopper-v0's: the visit's margin (or contribution, GTV, or a callable's value:
    it gets ``Earnings`` of (N,) arrays, nonzero where a visit checked out) at its last slate.

    ## Starting State
    ``reset(seed=s)``: world seed ``s``; episode k of the run (the N first ones, then each
    autoreset in turn, lowest slot first) is the life of shopper ``(s + k) % population``, so
    sub-env 0's first episode is Shopper-v0's ``reset(seed=s)``. ``options={"shoppers": ids}`` sets
    the N first shoppers (later episodes continue after the largest).

    ## Episode End
    Per sub-env, as Shopper-v0: with ``end_on="churn"`` (default) ``terminated`` at churn, which is
    **privileged** (hidden state; see Shopper-v0), ``truncated`` past the horizon; with
    ``end_on="absence", absence_days=N`` ``terminated`` after N days without a visit (observable;
    ``info["end_day"]``, masked, is the day the N days ran out) and ``truncated`` if those would
    run past the horizon. The
    autoreset mode is declared in ``metadata["autoreset_mode"]``: ``NEXT_STEP`` (default; the step
    after an episode ends resets that sub-env, ignores its action and returns reward 0),
    ``SAME_STEP`` (the reset happens in the ending step; ``info["final_obs"]`` and
    ``info["final_info"]`` hold the last observation and info, masked) or ``DISABLED`` (an ended
    sub-env idles: action ignored, reward 0, no flags, until ``reset(options={"reset_mask": mask})``
    restarts it; handy for running each sub-env's episode exactly once).

    ## Info
    A dict of arrays with boolean masks (``info["_key"]``): ``day``, ``visit_done`` and ``shopper`` (id)
    for every sub-env; ``gtv``, ``margin``, ``ad_revenue``, ``items`` (object array of item-id
    arrays) where a visit checked out; ``truth`` (satisfaction, churned): simulator truth for
    analysis that policies must not use.

    ## Arguments
    ``num_envs``, ``scenario``, ``reward``, ``days``, ``end_on``, ``absence_days`` (as Shopper-v0),
    ``autoreset_mode`` (``AutoresetMode`` or its value).

    ## Vectorized environment
    This is the native vectorised form of Shopper-v0.

    ## Version History
    * v0: initial version (basketgym 0.1).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        scenario: str | Path | ScenarioConfig = "default",
        reward: str | Reward = "margin",
        days: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        end_on: str = "churn",
        absence_days: int | None = None,
    ):
        self.reward = resolve_reward(reward)
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.absence_days = check_ending(end_on, absence_days)
        self.end_on = end_on
        if int(num_envs) < 1:
            raise ValueError(f"num_envs = {num_envs}: must be at least 1")
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in AutoresetMode)
            raise ValueError(f"autoreset_mode = {autoreset_mode!r}: must be one of {allowed}") from None
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.autoreset_mode, self.render_mode = mode, render_mode
        self.num_envs = int(num_envs)
        self.cfg = resolve_scenario(scenario, days=days)
        self.lives: ShopperLives | None = ShopperLives(self.cfg, self.cfg.seed, self.num_envs, self.absence_days)
        self.n_candidates, self.slate_size = self.lives.n_candidates, self.lives.slate_size
        self.single_action_space = spaces.MultiDiscrete(np.full(self.slate_size, self.n_candidates, np.int64))
        self.single_observation_space = observation_space(self.lives)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._first_id = 0
        self._episodes = 0
        self._staged_upto = 0  # episodes below this have their lives staged in the engine
        self._autoreset = np.zeros(self.num_envs, bool)  # NEXT_STEP: reset these at the next step
        self._pending_end = np.zeros(self.num_envs, bool)  # lives over before their first slate
        self._ended = np.ones(self.num_envs, bool)  # DISABLED: ended and not yet reset

    # ---- Gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Start N lives (or, with ``options["reset_mask"]``, restart the masked sub-envs)."""
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if isinstance(seed, list | tuple):
            seed = seed[0]  # one world: its seed is the first
        if mask is not None:
            mask = np.asarray(mask, bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"options['reset_mask'] has shape {mask.shape}: must be ({self.num_envs},)")
            if self.lives is None:
                raise ValueError("options['reset_mask']: call reset() without a mask first")
            self._start(np.flatnonzero(mask))
            return observe(self.lives), self._info(np.zeros(self.num_envs, bool), None)
        super().reset(seed=seed)
        world_seed = int(seed) if seed is not None else int(self.np_random.integers(0, 2**62))
        if self.lives is None or self.lives.seed != world_seed:
            self.lives = ShopperLives(self.cfg, world_seed, self.num_envs, self.absence_days)
        n0 = self.cfg.population.shoppers
        first = options.get("shoppers")
        self._autoreset[:] = False
        self._staged_upto = 0
        if first is None:
            self._first_id, self._episodes = world_seed, 0
            self._start(np.arange(self.num_envs))
        else:
            first = np.asarray(first, np.int64).reshape(-1)
            if first.shape != (self.num_envs,) or first.min() < 0 or first.max() >= n0:
                raise ValueError(f"options['shoppers']: must be {self.num_envs} ids in [0, {n0})")
            self._start(np.arange(self.num_envs), first)
            self._first_id, self._episodes = int(first.max()) + 1, 0
            self._staged_upto = 0
        return observe(self.lives), self._info(np.zeros(self.num_envs, bool), None)

    def step(self, actions: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Every sub-env shows its slate; finished visits check out together; ended lives autoreset."""
        if self.lives is None:
            raise RuntimeError("ShopperVectorEnv: call reset() before step()")
        actions = np.asarray(actions, np.int64).reshape(self.num_envs, self.slate_size)
        restart = self._autoreset.copy()
        active = ~restart & ~self._pending_end & ~self._ended
        start = self._next_shoppers(np.flatnonzero(restart)) if restart.any() else None
        res = self.lives.step(actions, active, start)
        if start is not None:
            self._started(start[0])
        rewards = np.array(self.reward(Earnings(res.gtv, res.margin, res.ad_revenue)), np.float64)
        ended = self._pending_end & ~restart & ~self._ended
        status = np.where(ended, self.lives.status, res.status)
        terminated = (status == TERMINATED) & (active | ended)
        truncated = (status == TRUNCATED) & (active | ended)
        self._pending_end &= ~ended
        done = terminated | truncated
        obs = observe(self.lives)
        info = self._info(res.done_visit, res)
        if self.absence_days is not None and terminated.any():
            info["end_day"], info["_end_day"] = self.lives.end_day.copy(), terminated.copy()
        self._autoreset[:] = False
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = done.copy()
        elif self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            info = {**info, "final_info": dict(info), "_final_info": done.copy()}
            info["final_obs"], info["_final_obs"] = obs, done.copy()
            self._start(np.flatnonzero(done))
            obs = observe(self.lives)
        elif self.autoreset_mode == AutoresetMode.DISABLED:
            self._ended |= done
        return obs, rewards, terminated, truncated, info

    def close_extras(self, **kwargs: Any) -> None:
        """Release the world (``close()`` may be called more than once)."""
        self.lives = None

    # ---- helpers --------------------------------------------------------------------------
    def _start(self, slots: np.ndarray, ids: np.ndarray | None = None) -> None:
        """Begin the next episodes in ``slots`` (lowest slot first), or the lives of shoppers ``ids``."""
        slots, ids = self._next_shoppers(slots) if ids is None else (slots, ids)
        self.lives.start(slots, ids)
        self._started(slots)

    def _next_shoppers(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shoppers of the next episodes: episode k of the run lives shopper (first id + k) % population."""
        k = self._episodes + np.arange(len(slots))
        n0 = self.cfg.population.shoppers
        if len(k) and k[-1] >= self._staged_upto:  # stage the next block of lives in one batch
            ahead = k[0] + np.arange(PREFETCH)
            self.lives.prefetch((self._first_id + ahead) % n0)
            self._staged_upto = int(ahead[-1]) + 1
        self._episodes += len(slots)
        return slots, (self._first_id + k) % n0

    def _started(self, slots: np.ndarray) -> None:
        self._pending_end[slots] = self.lives.status[slots] != ONGOING
        self._ended[slots] = False
        self._autoreset[slots] = False

    def _info(self, visit_done: np.ndarray, res: Any) -> dict:
        lives, n = self.lives, self.num_envs
        every = np.ones(n, bool)
        info: dict[str, Any] = {
            "day": lives.day.copy() if res is None else res.day,
            "_day": every,
            "visit_done": visit_done.copy(),
            "_visit_done": every,
            "shopper": lives.shopper_ids(),
            "_shopper": every,
        }
        if res is not None and visit_done.any():
            info.update(gtv=res.gtv, margin=res.margin, ad_revenue=res.ad_revenue)
            info.update(_gtv=visit_done, _margin=visit_done, _ad_revenue=visit_done)
            items = np.empty(n, object)
            done = np.flatnonzero(visit_done)
            bought, ends = res.purchases["item_id"], np.cumsum(res.lines[done]).tolist()  # lines come visit by visit
            for slot, lo, hi in zip(done.tolist(), [0, *ends[:-1]], ends, strict=True):
                items[slot] = bought[lo:hi]
            info["items"], info["_items"] = items, visit_done
        truth = lives.truth()
        # TRUTH, for analysis only: a policy must not use these to act
        info["truth"] = {
            "satisfaction": truth["satisfaction"],
            "_satisfaction": every,
            "churned": truth["churned"],
            "_churned": every,
        }
        info["_truth"] = every
        return info
