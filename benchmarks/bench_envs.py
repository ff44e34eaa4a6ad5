"""Gymnasium environment throughput with random actions: Shopper-v0, ShopperVectorEnv, Marketplace-v0.

One step of Shopper-v0 is one slate (a home feed or a search of a visit). Peers measured on this
machine (../shared/PERFORMANCE-NOTES.md), one slate per step: SARDINE ~8,257 steps/s, RecSim 5,806,
RecoGym 6,433. Random actions are drawn up front (``numpy.random.Generator.integers``), so the
figures are the environments' own cost, observation building included. Usage::

    python benchmarks/bench_envs.py [--repeat 3] [--scenario default] [--vector 256,1024,4096]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import basketgym  # noqa: F401  (registers the envs)
from basketgym.envs.shopper_vector import ShopperVectorEnv

PEERS = "SARDINE ~8,300 · RecoGym ~6,400 · RecSim ~5,800 steps/s"


def shopper_rate(scenario: str, episodes: int, seed: int) -> tuple[float, float, float]:
    """(steps/s, visits/s, reset ms) of Shopper-v0 over ``episodes`` lives of one world, random slates."""
    env = gym.make("basketgym/Shopper-v0", scenario=scenario).unwrapped
    actions = np.random.default_rng(seed).integers(0, env.n_candidates, (200_000, env.slate_size))
    env.reset(seed=seed)
    steps = visits = 0
    t_reset = t_step = 0.0
    for e in range(episodes):
        t = time.perf_counter()
        env.reset(seed=seed, options={"shopper": e * 37})
        t_reset += time.perf_counter() - t
        done = False
        t = time.perf_counter()
        while not done:
            _, _, terminated, truncated, info = env.step(actions[steps % len(actions)])
            steps += 1
            visits += info["visit_done"]
            done = terminated or truncated
        t_step += time.perf_counter() - t
    return steps / t_step, visits / t_step, t_reset / episodes * 1000


def vector_rate(scenario: str, n: int, steps: int, seed: int) -> float:
    """Shopper-steps per second of ShopperVectorEnv with N sub-envs (autoreset on), random slates."""
    env = ShopperVectorEnv(n, scenario=scenario)
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, env.n_candidates, (steps + 20, n, env.slate_size))
    for t in range(20):  # warm-up: lives spread over their first visits
        env.step(actions[t])
    t0 = time.perf_counter()
    for t in range(20, steps + 20):
        env.step(actions[t])
    return n * steps / (time.perf_counter() - t0)


def marketplace_rate(scenario: str, days: int) -> float:
    """Days per second of Marketplace-v0 (the whole population each step)."""
    env = gym.make("basketgym/Marketplace-v0", scenario=scenario, days=days)
    env.reset(seed=0)
    t = time.perf_counter()
    for _ in range(days):
        env.step(np.array([1.0, 0.3, 0.5, 0.1], np.float32))
    return days / (time.perf_counter() - t)


def _row(env: str, measure: str, values: list[float], peers: str = "", digits: int = 0) -> str:
    each = ", ".join(f"{v:,.{digits}f}" for v in values)
    return f"| {env} | {measure} | {statistics.median(values):,.{digits}f} | {each} | {peers} |"


def main() -> None:
    """Print the environment throughput table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="default")
    p.add_argument("--episodes", type=int, default=40, help="Shopper-v0 lives per run")
    p.add_argument("--vector", default="256,1024,4096", help="ShopperVectorEnv sizes N")
    p.add_argument("--vector-steps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    single = [shopper_rate(args.scenario, args.episodes, 7 + r) for r in range(args.repeat)]
    print("| env | measure | median | runs | peers here |")
    print("|---|---|---|---|---|")
    print(_row("Shopper-v0", "steps (slates)/s", [s[0] for s in single], PEERS))
    print(_row("Shopper-v0", "visits/s", [s[1] for s in single]))
    print(_row("Shopper-v0", "reset ms (same world)", [s[2] for s in single], digits=1))
    for n in (int(x) for x in args.vector.split(",") if x):
        rates = [vector_rate(args.scenario, n, args.vector_steps, r) for r in range(args.repeat)]
        print(_row("ShopperVectorEnv", f"shopper-steps/s, N={n:,}", rates))
    days = [marketplace_rate(args.scenario, 30) for _ in range(args.repeat)]
    print(_row("Marketplace-v0", f"days/s ({args.scenario})", days, digits=1))


if __name__ == "__main__":
    main()
