"""``basketgym check``: every rule of a run and what it would do (worlds, memory, time), without simulating."""

from __future__ import annotations

import argparse
import sys
import time

from basketgym.cli.common import EXIT_USAGE, comma_list
from basketgym.cli.run import add_run_arguments
from basketgym.contract.errors import BasketgymError, ScenarioError

HELP = "check a scenario and what its run would do (worlds, memory, time); no world"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``check``: the arguments of ``run`` that shape a run."""
    p = sub.add_parser("check", help=HELP)
    add_run_arguments(p)
    p.add_argument("--no-event-log", action="store_true", help="plan a run without the event log")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Print the plan; with several problems in the scenario file, print every one (one line each)."""
    from basketgym.eval.orchestration.plan import plan_scenario, scenario_problems

    rankers = comma_list(args.rankers)
    t0 = time.perf_counter()
    try:
        plan = plan_scenario(args.scenario, days=args.days, rankers=rankers, seeds=args.seeds, jobs=args.jobs,
                             event_log="none" if args.no_event_log else None, seed=args.seed)  # fmt: skip
    except ScenarioError:
        try:
            found = scenario_problems(args.scenario, days=args.days, rankers=rankers, seeds=args.seeds)
        except BasketgymError:
            found = []
        if len(found) <= 1:
            raise
        for line in found:
            print(f"basketgym: error: {line}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(plan.lines()))
    print(f"ok: every rule holds (checked in {time.perf_counter() - t0:.2f} s, nothing simulated)")
    return 0
