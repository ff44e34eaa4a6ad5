"""``basketgym validate``: a scenario's realism against public grocery facts, graded over several worlds."""

from __future__ import annotations

import argparse

from basketgym.cli.common import add_days, add_jobs, add_scenario, progress
from basketgym.contract.errors import BasketgymError

HELP = "measure a scenario's realism against public grocery facts"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``validate``."""
    p = sub.add_parser("validate", help=HELP)
    add_scenario(p)
    p.add_argument("--ranker", default="popularity")
    add_days(p)
    p.add_argument("--seeds", type=int, default=3, help="worlds (seeds scenario seed, +1, ...); every one is graded")
    add_jobs(p)
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Grade the facts over ``--seeds`` worlds; exit 1 when a graded fact is out of its band in any of them."""
    from basketgym.eval.orchestration.realism import realism
    from basketgym.eval.orchestration.runner import scenario_ranker, world_seeds
    from basketgym.eval.outcomes.facts import MIN_SEEDS
    from basketgym.eval.reporting.realism import format_realism
    from basketgym.sim.config import resolve_scenario

    if args.seeds < MIN_SEEDS:
        raise BasketgymError(f"--seeds = {args.seeds}: a realism grade needs at least {MIN_SEEDS} worlds")
    cfg = resolve_scenario(args.scenario, days=args.days, event_log="full")
    scenario_ranker(cfg, args.ranker)  # an unknown name fails here, before any world
    seeds = world_seeds(cfg, args.seeds)
    bar = progress(len(seeds), args.jobs)
    result = realism(cfg, args.ranker, seeds, jobs=args.jobs,
                     progress=lambda seed, i, d, n, secs=None: bar(args.ranker, seed, i, d, n, secs))  # fmt: skip
    print("\n" + format_realism(result))
    return 0 if result.ok else 1
