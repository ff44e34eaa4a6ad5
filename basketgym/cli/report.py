"""``basketgym report``: a finished run's report, tables and plots, recomputed from its saved results."""

from __future__ import annotations

import argparse

HELP = "recompute a finished run's report, tables and plots from its saved results"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    p = sub.add_parser("report", help=HELP)
    p.add_argument("run_dir", help="a run directory written by 'basketgym run'")
    p.add_argument("--control", help="read incrementality against this ranker of the run (nothing is rewritten)")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Analyse the run again and print its report."""
    from basketgym.eval.reporting.analysis import analyze_run
    from basketgym.eval.reporting.report import format_analysis

    print(format_analysis(analyze_run(args.run_dir, control=args.control)))
    if args.control is None:
        print(f"rewritten: {args.run_dir}/analysis.json and plots/")
    return 0
