"""``basketgym logs``: log a scenario under an exploring policy with exact propensities, as Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path

from basketgym.cli.common import add_days, add_logging_policy, add_scenario, add_seed, check_logging_policy, world_seed

HELP = "log a scenario under an exploring policy with exact propensities (Parquet)"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``logs``."""
    p = sub.add_parser("logs", help=HELP)
    add_scenario(p)
    add_logging_policy(p, explore=0.1)
    p.add_argument("--target", action="append", help="rankers whose shadow slates are logged too (repeatable)")
    p.add_argument("--out", required=True, help="Parquet file to write (atomically)")
    add_seed(p)
    add_days(p)
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Log one world and write the log (and, with targets, their truth beside it)."""
    from basketgym import __version__
    from basketgym.eval.orchestration.bandit_logs import check_log_out, collect, logging_policy, write_log
    from basketgym.rankers import make_ranker
    from basketgym.sim.config import resolve_scenario

    out = Path(args.out)
    check_log_out(out, truth=bool(args.target))  # before simulating
    cfg = resolve_scenario(args.scenario, days=args.days)
    check_logging_policy(args)
    targets = {t: make_ranker(t) for t in (args.target or [])}
    logger, name = logging_policy(args.logging, args.explore, args.temperature)
    log = collect(cfg, logger, targets, world_seed(args, cfg), name)
    truth = write_log(log, out, __version__)
    print(f"{out}: {len(log.table['day']):,} logged slates of '{name}' over {cfg.days} days "
          "(schema: docs/OFF_POLICY.md)")  # fmt: skip
    if truth is not None:
        print(f"{truth}: TRUTH for grading estimators (the targets' outcomes in the same contexts); not observable")
    return 0
