"""``basketgym regress``: a candidate ranker against a baseline in twin worlds; exit 1 on a significant regression."""

from __future__ import annotations

import argparse
import sys

from basketgym.cli.common import add_jobs, comma_list
from basketgym.contract.errors import BasketgymError

HELP = "test a candidate ranker against a baseline in twin worlds (non-inferiority, Holm); exit 1 on a regression"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``regress``."""
    p = sub.add_parser("regress", help=HELP, description=HELP + ".")
    p.add_argument("candidate", help="ranker name, model directory or package.module:Class")
    p.add_argument("--baseline", required=True, help="a ranker (as the candidate) or a stored baseline .parquet")
    p.add_argument("--scenarios", default="default", help="comma-separated scenarios (default: default)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per scenario, >= 2 (default 3)")
    p.add_argument("--days", type=int, help="shorten every scenario")
    p.add_argument("--metrics", default="ltv,retention,incrementality",
                   help="comma-separated: ltv, retention, value, incrementality, margin, gtv, ad_revenue")  # fmt: skip
    p.add_argument("--margin", action="append", default=[], metavar="METRIC=VALUE",
                   help="non-inferiority margin: ltv=2%% (of the baseline) or retention=0.01 (absolute)")  # fmt: skip
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate of the call (default 0.05)")
    p.add_argument("--save-baseline", metavar="FILE", help="store the baseline's worlds to FILE (.parquet) instead")
    add_jobs(p)
    p.set_defaults(func=execute)


def _margins(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        metric, sep, value = item.partition("=")
        if not sep:
            raise BasketgymError(f"--margin {item}: spell it METRIC=VALUE, e.g. ltv=2%")
        out[metric.strip()] = value.strip()
    return out


def execute(args: argparse.Namespace) -> int:
    """Print the verdict table; 1 when any metric regressed beyond its margin, else 0."""
    from basketgym.eval.regression.regress import RegressSpec, regress, save_baseline, verdict_rows
    from basketgym.eval.reporting.text import text_table

    scenarios = comma_list(args.scenarios) or []
    if args.save_baseline:
        path = save_baseline(args.baseline, scenarios, args.seeds, args.save_baseline, days=args.days, jobs=args.jobs)
        print(f"stored baseline '{args.baseline}' ({len(scenarios)} scenario(s) x {args.seeds} seeds): {path}")
        return 0
    spec = RegressSpec(args.candidate, args.baseline, tuple(scenarios), args.seeds,
                       tuple(comma_list(args.metrics) or ()), _margins(args.margin), args.alpha, args.days)  # fmt: skip
    result = regress(spec, jobs=args.jobs, progress=lambda line: print(line, file=sys.stderr, flush=True))
    rows = verdict_rows(result)
    level = f"{100 * (1 - 2 * args.alpha):.0f}%"
    print(f"{args.candidate} vs {args.baseline}: paired twin worlds, effect = candidate - baseline per shopper, "
          f"{level} t-intervals across seeds, Holm over {len(rows)} tests at alpha {args.alpha:g}"
          + (" (stored baseline)" if result.stored_baseline else ""))  # fmt: skip
    header = ["scenario", "metric", "effect", f"{level} interval", "margin", "p", "verdict"]
    print(text_table(header, [[r[k] for k in ("scenario", "metric", "effect", "interval", "margin", "p", "verdict")]
                              for r in rows]))  # fmt: skip
    print(f"{result.worlds} worlds in {result.seconds:.1f} s")
    if result.regressed:
        print(f"REGRESSION: {args.candidate} is worse than {args.baseline} beyond the margin", file=sys.stderr)
        return 1
    return 0
