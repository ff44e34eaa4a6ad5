"""``basketgym sweep``: run every unfinished scenario x ranker x seed cell of a grid into the leaderboard's database."""

from __future__ import annotations

import argparse
import sys

from basketgym.cli.common import add_jobs, comma_list
from basketgym.contract.errors import BasketgymError

HELP = "run a scenario x ranker x seed grid into a leaderboard database (resumable)"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep``: a sweep file, or the grid as flags."""
    p = sub.add_parser("sweep", help=HELP, description=HELP + ". Finished cells are kept; a killed sweep resumes.")
    p.add_argument("sweep_file", nargs="?", help="a sweep TOML (name, scenarios, rankers, seeds, days)")
    p.add_argument("--scenarios", help="comma-separated scenario names or TOML paths (instead of a sweep file)")
    p.add_argument("--rankers", help="comma-separated ranker names, model directories or package.module:Class")
    p.add_argument("--seeds", type=int, default=3, help="seeds per scenario (its first ones; default 3)")
    p.add_argument("--days", type=int, help="shorten every scenario to this many days (its own scenario id)")
    p.add_argument("--name", default="sweep", help="the sweep's name with flags (default 'sweep')")
    p.add_argument("--out", help="the sweep directory (default sweeps/<name>)")
    add_jobs(p)
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Plan the grid (every scenario checked first), run what is missing, say where the database is."""
    from basketgym.eval.leaderboard.sweep import SweepSpec, check_spec, load_sweep, sweep

    if args.sweep_file and (args.scenarios or args.rankers):
        raise BasketgymError("give a sweep file or --scenarios/--rankers, not both")
    if args.sweep_file:
        spec = load_sweep(args.sweep_file)
    elif args.scenarios and args.rankers:
        spec = check_spec(SweepSpec(args.name, tuple(comma_list(args.scenarios) or ()),
                                    tuple(comma_list(args.rankers) or ()), args.seeds, args.days))  # fmt: skip
    else:
        raise BasketgymError("name a sweep file, or both --scenarios and --rankers")
    out = args.out or f"sweeps/{spec.name}"
    result = sweep(spec, out, jobs=args.jobs, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"sweep '{spec.name}': {result.cells} cells, {result.reused} already done, {len(result.ran)} run "
          f"in {result.seconds:.1f} s; database {out}/leaderboard.sqlite")  # fmt: skip
    print(f"next: basketgym leaderboard {out}")
    return 0
