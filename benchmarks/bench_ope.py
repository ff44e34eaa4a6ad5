"""Off-policy estimators against the simulator's exact counterfactuals: relative error and interval coverage.

Cells: log size (sessions) x target (near: buy_again; far: margin_greedy), logged by
epsilon-greedy(popularity, 0.3) on the default catalog without sponsored slots, ``--reps`` seeds
each. Error is against each seed's exact truth (the target's slates evaluated in shadow on every
logged context, same state and draws). Intervals resample shoppers (``--resample shoppers``, what
``basketgym ope`` does) or slates (the method before). Usage::

    python benchmarks/bench_ope.py [--sizes 10000,100000] [--reps 10] [--days 14] [--resample shoppers]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from basketgym.eval.offpolicy.estimators import estimate, single_slot_estimators
from basketgym.eval.offpolicy.grading import reward_model, target_probabilities
from basketgym.eval.offpolicy.slate import slate_estimators
from basketgym.eval.orchestration.bandit_logs import collect
from basketgym.rankers import make_ranker
from basketgym.rankers.exploration import EpsilonGreedy
from basketgym.sim.config import load_scenario

TARGETS = {"near": "buy_again", "far": "margin_greedy"}
VISITS_PER_SHOPPER_DAY = 0.105  # default world, measured: sessions / (shoppers x days) over two weeks


def cell(
    sessions: int, target: str, reps: int, days: int, n_boot: int, resample: str = "shoppers"
) -> dict[str, tuple[float, float]]:
    """(mean relative error |estimate - truth| / truth, interval coverage) per estimator over ``reps`` seeds."""
    base = load_scenario("default").replace(days=days, events=())
    shoppers = max(200, int(sessions / (VISITS_PER_SHOPPER_DAY * days)))
    cfg = base.replace(
        population=dataclasses.replace(base.population, shoppers=shoppers, new_per_day=0.0),
        marketplace=dataclasses.replace(base.marketplace, max_sponsored=0),
    )
    rel: dict[str, list[float]] = {"sessions logged": []}
    cov: dict[str, list[bool]] = {"sessions logged": []}
    for seed in range(reps):
        log = collect(
            cfg, EpsilonGreedy(make_ranker("popularity"), 0.3), {target: make_ranker(target)}, seed, "pop+eps0.3"
        )
        t, p = log.table, target_probabilities(log, target)
        rel["sessions logged"].append(len(np.unique(t["session_id"])))
        cov["sessions logged"].append(True)
        q_logged, q_target = reward_model(log, log.targets[target][:, 0], seed)
        click = t["clicked"][:, 0].astype(float)
        clusters = t["shopper_id"] if resample == "shoppers" else None
        single = estimate(single_slot_estimators(), reward=click, pscore=t["propensity"][:, 0].astype(float),
                          target_prob=p["position"][:, 0], q_hat_logged=q_logged, q_hat_target=q_target,
                          n_boot=n_boot, seed=seed, clusters=clusters)  # fmt: skip
        slate = estimate(slate_estimators(), reward=t["carted"].astype(float),
                         slate_pscore=t["slate_propensity"].astype(float), slate_target=p["slate"],
                         position_pscore=t["propensity"].astype(float), position_target=p["position"],
                         prefix_pscore=t["prefix_propensity"].astype(float), prefix_target=p["prefix"],
                         n_boot=n_boot, seed=seed, clusters=clusters)  # fmt: skip
        truths = (log.target_clicked[target][:, 0].mean(), log.target_carted[target].sum(axis=1).mean())
        for results, truth in ((single, truths[0]), (slate, truths[1])):
            for r in results:
                rel.setdefault(r.estimator, []).append(abs(r.value - truth) / truth)
                cov.setdefault(r.estimator, []).append(r.covers(truth))
    return {k: (float(np.mean(rel[k])), float(np.mean(cov[k]))) for k in rel}


def main() -> None:
    """Print the markdown table of docs/OFF_POLICY.md."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000", help="logged sessions per log")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--resample", choices=("shoppers", "slates"), default="shoppers", help="the bootstrap's unit")
    args = p.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    cells = {}
    t0 = time.perf_counter()
    for size in sizes:
        for kind, target in TARGETS.items():
            cells[(size, kind)] = cell(size, target, args.reps, args.days, args.n_boot, args.resample)
    heads = [f"{s // 1000}k sessions, {k} ({TARGETS[k]})" for s in sizes for k in TARGETS]
    print("| estimator | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))
    first = next(iter(cells.values()))
    print("| sessions logged (mean) | " + " | ".join(f"{cells[(s, k)]['sessions logged'][0]:,.0f}" for s in sizes
                                                   for k in TARGETS) + " |")  # fmt: skip
    for est in [e for e in first if e != "sessions logged"]:
        row = [f"{cells[(s, k)][est][0]:.1%} / {cells[(s, k)][est][1]:.0%}" for s in sizes for k in TARGETS]
        print(f"| {est} | " + " | ".join(row) + " |")
    print(f"\nmean relative error / 95% interval coverage (bootstrap over {args.resample}) over {args.reps} seeds"
          f" per cell; {time.perf_counter() - t0:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
