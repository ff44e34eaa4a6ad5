"""``basketgym ope``: off-policy estimates of a target from an exploring policy's logs, next to its true value."""

from __future__ import annotations

import argparse

from basketgym.cli.common import add_days, add_logging_policy, add_scenario, add_seed, check_logging_policy, world_seed

HELP = "off-policy estimates of a target from logs, next to its true value"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``ope``."""
    p = sub.add_parser("ope", help=HELP)
    add_scenario(p)
    add_logging_policy(p, explore=0.3)
    p.add_argument("--target", required=True, help="ranker to evaluate")
    add_seed(p)
    add_days(p)
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Log, estimate, grade against the truth, print."""
    from basketgym.eval.offpolicy.grading import evaluate
    from basketgym.eval.reporting.offpolicy import format_ope
    from basketgym.rankers import make_ranker
    from basketgym.sim.config import resolve_scenario

    cfg = resolve_scenario(args.scenario, days=args.days)
    check_logging_policy(args)
    make_ranker(args.target)
    report = evaluate(cfg, args.logging, args.explore, args.target, world_seed(args, cfg), temperature=args.temperature)
    print(format_ope(report))
    return 0
