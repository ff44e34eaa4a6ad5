"""Gymnasium environment throughput with random actions: Shopper-v0 slates/s and visits/s, Marketplace-v0 days/s.

Peers measured on this machine (../shared/PERFORMANCE-NOTES.md), one slate per step: SARDINE
8,257 steps/s, RecSim 5,806, RecoGym 6,433. Usage::

    python benchmarks/bench_envs.py [--episodes 30] [--scenario default]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import basketgym  # noqa: F401  (registers the envs)


def shopper_rate(scenario: str, episodes: int, seed0: int) -> tuple[float, float, float]:
    """(steps/s, visits/s, reset ms) of Shopper-v0 over ``episodes`` lives with random slates."""
    env = gym.make("basketgym/Shopper-v0", scenario=scenario).unwrapped
    env.action_space.seed(0)
    steps = visits = 0
    t_reset = t_step = 0.0
    for e in range(episodes):
        t = time.perf_counter()
        env.reset(seed=seed0 + e)
        t_reset += time.perf_counter() - t
        done = False
        t = time.perf_counter()
        while not done:
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            steps += 1
            visits += bool(info.get("visit_done"))
            done = terminated or truncated
        t_step += time.perf_counter() - t
    return steps / t_step, visits / t_step, t_reset / episodes * 1000


def marketplace_rate(scenario: str, days: int) -> float:
    """Days per second of Marketplace-v0 (the whole population each step)."""
    env = gym.make("basketgym/Marketplace-v0", scenario=scenario, days=days)
    env.reset(seed=0)
    t = time.perf_counter()
    for _ in range(days):
        env.step(np.array([1.0, 0.3, 0.5], np.float32))
    return days / (time.perf_counter() - t)


def main() -> None:
    """Print the environment throughput table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="default")
    p.add_argument("--episodes", type=int, default=30)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    runs = [shopper_rate(args.scenario, args.episodes, 100 * r) for r in range(args.repeat)]
    days = [marketplace_rate(args.scenario, 30) for _ in range(args.repeat)]
    print("| env | measure | median | runs |")
    print("|---|---|---|---|")
    for label, i in (("steps (slates)/s", 0), ("visits/s", 1), ("reset ms", 2)):
        vals = [r[i] for r in runs]
        print(f"| Shopper-v0 | {label} | {statistics.median(vals):,.0f} | {', '.join(f'{v:,.0f}' for v in vals)} |")
    each = ", ".join(f"{v:,.1f}" for v in days)
    print(f"| Marketplace-v0 | days/s ({args.scenario}) | {statistics.median(days):,.1f} | {each} |")


if __name__ == "__main__":
    main()
