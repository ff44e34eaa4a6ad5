"""``basketgym uplift``: randomised exposure tests in twin worlds; uplift learners graded against the true effects."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from basketgym.cli.common import add_days, add_scenario, add_seed, comma_list, world_seed
from basketgym.contract.errors import BasketgymError

HELP = "randomised exposure tests in twin worlds; uplift learners graded against truth"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``uplift``."""
    p = sub.add_parser("uplift", help=HELP)
    add_scenario(p)
    p.add_argument("--outcome", default="bought", help="bought, basket_margin, margin_30d, retained_30d (comma list)")
    p.add_argument("--learners", default="s,t,x,dr", help="uplift learners (comma-separated)")
    p.add_argument("--base", default="buy_again", help="the ranker whose slates the tests modify")
    p.add_argument("--share", type=float, default=0.5, help="P(treated): the focal item shown in the top slot")
    p.add_argument("--start-day", type=int, default=30, help="first day of tests (after a warm-up)")
    p.add_argument("--test-days", type=int, default=28, help="days during which shoppers are tested (once each)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the intervals")
    add_seed(p)
    add_days(p, "override the scenario's horizon (the tests need start + test days + 30)")
    p.add_argument("--out", help="directory for the treatment log and the tables (optional)")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Check the arguments, run the three twin worlds, print the effects and each outcome's comparison; write."""
    from basketgym.contract.files import check_writable
    from basketgym.eval.reporting.uplift import format_comparison, format_effects, write_uplift
    from basketgym.eval.uplift.data import OUTCOMES, WINDOW, days_needed, exposure_data
    from basketgym.eval.uplift.grading import compare_learners, randomised_effects
    from basketgym.rankers import make_ranker
    from basketgym.rankers.learned.uplift import LEARNERS
    from basketgym.sim.config import resolve_scenario

    outcomes, learners = comma_list(args.outcome), tuple(comma_list(args.learners))
    for o in outcomes:
        if o not in OUTCOMES:
            raise BasketgymError(f"--outcome {o!r}: must be one of {', '.join(OUTCOMES)} (comma-separated)")
    for k in learners:
        if k not in LEARNERS:
            raise BasketgymError(f"--learners {k!r}: must be among {', '.join(LEARNERS)} (comma-separated)")
    if not 0.0 < args.share < 1.0:
        raise BasketgymError(f"--share = {args.share}: must be in (0, 1)")
    make_ranker(args.base)
    if args.out:
        check_writable(args.out, directory=True)  # before simulating
    cfg = resolve_scenario(args.scenario, days=args.days)
    need = days_needed(args.start_day, args.test_days)
    if cfg.days < need:
        raise BasketgymError(f"scenario '{cfg.name}' has {cfg.days} days; exposure tests need {need} "
                             f"(--start-day {args.start_day} + --test-days {args.test_days} + {WINDOW})")  # fmt: skip
    seed = world_seed(args, cfg)
    print(f"basketgym uplift: '{cfg.name}', {args.base} with one exposure test per shopper (days "
          f"{args.start_day}-{args.start_day + args.test_days - 1}, P(treated) {args.share:g}), three twin worlds, "
          f"seed {seed}", file=sys.stderr)  # fmt: skip
    data = exposure_data(cfg, seed, args.base, args.share, args.start_day, args.test_days)
    treated = data.log["treated"].to_numpy(bool).mean()
    print(f"\n{cfg.name}: {len(data.log):,} exposure tests ({treated:.1%} treated); the randomised world matches its "
          f"twins on {data.consistency:.1%} of tests\n")  # fmt: skip
    print(format_effects(randomised_effects(data)))
    tables = {}
    for o in outcomes:  # each outcome printed as soon as it is graded
        tables[o] = compare_learners(data, o, learners, seed, args.bootstrap)
        print("\n" + format_comparison(tables[o], o, int(tables[o].attrs.get("graded", 0))))
    if args.out:
        out = Path(args.out)
        write_uplift(out, data, tables, seed, cfg.name)
        print(f"\nwritten: {out}/exposures.parquet (treatment log; true_* columns: TRUTH), split.parquet (graded "
              "or training, by session_id), scores_*.parquet (every scorer on the graded tests), uplift_*.csv, "
              "gain_*.png (docs/UPLIFT.md: how to re-check them)")  # fmt: skip
    return 0
