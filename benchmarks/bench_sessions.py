"""Simulator throughput and memory: sessions per second on one core, bytes of state per shopper.

Each case runs in its own process (so peak memory is the case's own) with BLAS limited to one
thread, and reports the median of ``--repeat`` runs (this machine's speed drifts; compare ratios
within one invocation). Usage::

    python benchmarks/bench_sessions.py                      # default scenario + a 1M-shopper population
    python benchmarks/bench_sessions.py --cases default --repeat 3
    python benchmarks/bench_sessions.py --profile default    # where the time goes (cProfile, top 25)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    # name: (scenario, ranker, shoppers or None, days or None, keep event log)
    "default": ("default", "popularity", None, None, True),
    "default-buy_again": ("default", "buy_again", None, None, True),
    "1M-shoppers": ("default", "popularity", 1_000_000, 14, False),
}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_case(name: str) -> dict[str, float]:
    """Build and run one world; return its figures."""
    from basketgym.rankers import make_ranker
    from basketgym.sim.config import load_scenario
    from basketgym.sim.world import World

    scenario, ranker, shoppers, days, keep = CASES[name]
    cfg = load_scenario(scenario)
    if shoppers:
        cfg = cfg.replace(population=dataclasses.replace(cfg.population, shoppers=shoppers))
    if days:
        cfg = cfg.replace(days=days)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    world = World(cfg, cfg.seed, make_ranker(ranker), ranker, keep_slates=keep)
    build = time.perf_counter() - t0
    rss_built = _rss_mb()
    result = world.run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = world.state.size
    return {
        "shoppers": n,
        "days": cfg.days,
        "sessions": result.facts["sessions"],
        "build_s": build,
        "run_s": result.facts["wall_seconds"],
        "sessions_per_s": result.facts["sessions_per_second"],
        "state_bytes_per_shopper": result.facts["state_bytes_per_shopper"],
        "world_rss_bytes_per_shopper": (rss_built - rss0) * 2**20 / n,
        "peak_rss_mb": peak,
    }


def profile_case(name: str, top: int = 25) -> None:
    """Print where one world's time goes."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    run_case(name)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main() -> None:
    """Run the cases in subprocesses and print a markdown table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="default,1M-shoppers", help=f"comma-separated: {', '.join(CASES)}")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--profile", help="profile one case instead of timing")
    p.add_argument("--case", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return
    if args.profile:
        profile_case(args.profile)
        return
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    print(
        "| case | shoppers | days | sessions | sessions/s (median) | runs "
        "| state B/shopper | world RSS B/shopper | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.cases.split(","):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, __file__, "--case", name], capture_output=True, text=True, env=env, check=True
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = statistics.median(r["sessions_per_s"] for r in runs)
        r = runs[-1]
        each = ", ".join(f"{x['sessions_per_s']:,.0f}" for x in runs)
        print(
            f"| {name} | {r['shoppers']:,} | {r['days']} | {r['sessions']:,.0f} | {med:,.0f} | "
            f"{each} | {r['state_bytes_per_shopper']:.0f} | "
            f"{r['world_rss_bytes_per_shopper']:.0f} | {r['peak_rss_mb']:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
