"""``basketgym run``: run a scenario for its rankers and seeds, print the report, write the run directory."""

from __future__ import annotations

import argparse
import shlex
import sys

from basketgym.cli.common import add_days, add_jobs, add_scenario, add_seed, comma_list, progress

HELP = "run a scenario for its rankers and seeds, print the long-horizon table"
SEED_HELP = (
    "the first world seed (default: the scenario's seed): a run's N worlds per ranker use seeds SEED, SEED+1, ..., "
    "SEED+N-1, as if the scenario file said seed = SEED (the run's scenario.toml records it); rankers meet the "
    "same shoppers and the same luck in worlds of the same seed"
)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """What a run is: scenario, rankers, seeds and their first seed, days, jobs, event log (``run`` and ``check``)."""
    add_scenario(p)
    p.add_argument("--rankers", help="comma-separated ranker names (default: the scenario's)")
    p.add_argument("--seeds", type=int, help="worlds per ranker (default: the scenario's run.seeds)")
    add_seed(p, SEED_HELP)
    add_days(p)
    add_jobs(p)


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    p = sub.add_parser("run", help=HELP)
    add_run_arguments(p)
    p.add_argument("--out", help="run directory (default: runs/<scenario>-<timestamp>)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier run at --out (once this one completes)")
    p.add_argument("--no-write", action="store_true", help="print results without writing a run directory")
    p.add_argument("--no-event-log", action="store_true",
                   help="write outcomes and summaries but not the event log (~30 MB a world)")  # fmt: skip
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Plan (every rule of ``check``), refuse a bad --out, run and analyse, print."""
    from basketgym.eval.orchestration.plan import plan_scenario
    from basketgym.eval.orchestration.rundir import check_run_out
    from basketgym.eval.orchestration.runner import throughput
    from basketgym.eval.reporting.analysis import run_and_analyze
    from basketgym.eval.reporting.report import format_analysis
    from basketgym.eval.reporting.text import format_summary_table, summary_tables

    rankers = comma_list(args.rankers)
    # every rule of `basketgym check` (scenario, rankers, memory) before any output or world
    plan = plan_scenario(args.scenario, days=args.days, rankers=rankers, seeds=args.seeds, jobs=args.jobs,
                         event_log="none" if args.no_event_log else None, seed=args.seed)  # fmt: skip
    cfg = plan.cfg
    if not args.no_write:
        check_run_out(args.out, cfg.name, args.overwrite)  # refused before any world is simulated
    for note in plan.notes:
        print(f"basketgym run: {note}", file=sys.stderr)
    print(f"basketgym run: scenario '{cfg.name}' — {cfg.population.shoppers:,} shoppers, {cfg.catalog.products:,} "
          f"products, {cfg.days} days, {plan.seeds} seed(s)", file=sys.stderr)  # fmt: skip
    with progress(plan.n_worlds, args.jobs) as bar:
        result, analysis = run_and_analyze(cfg, rankers, plan.seeds, args.out, keep=not args.no_write,
                                           overwrite=args.overwrite, jobs=args.jobs, progress=bar,
                                           command="basketgym " + shlex.join(sys.argv[1:]))  # fmt: skip
    print(f"\n{cfg.name}: {cfg.days} days, {plan.seeds} seed(s), mean ± half-width of the 95% interval across seeds")
    for title, columns in summary_tables(cfg.run.horizons):
        print(f"\n{title}")
        print(format_summary_table(result.per_seed, columns, footnote=False))
    if result.tasks:
        sessions, rate = throughput(result.tasks)
        print(f"\nsimulated {sessions:,.0f} sessions at {rate:,.0f} sessions/s")
    print("\n" + format_analysis(analysis))
    if result.run_dir is not None:
        print(f"results: {result.run_dir}/ (summary.json, analysis.json, plots/, results/, logs/)")
    return 0
