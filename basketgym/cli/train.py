"""``basketgym train``: learned rankers trained on a scenario's exploration logs, graded, explained and saved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from basketgym.cli.common import add_days, add_logging_policy, add_scenario, add_seed, comma_list, world_seed
from basketgym.contract.errors import BasketgymError

HELP = "train learned rankers on a scenario's exploration logs; grade and explain them"


def add_to(sub: argparse._SubParsersAction) -> None:
    """Register ``train``."""
    p = sub.add_parser("train", help=HELP)
    add_scenario(p)
    p.add_argument("--model", default="mmoe", help="mmoe, ple, shared_bottom, lgbm or lgbm_rank (comma-separated)")
    p.add_argument("--out", required=True, help="directory for the models (one subdirectory each)")
    add_logging_policy(p, explore=0.2, default="buy_again")
    p.add_argument("--epochs", type=int, default=20, help="network epochs (early stopping may end sooner)")
    p.add_argument("--experts", type=int, default=4, help="MMoE: shared experts; PLE: experts per task and shared")
    p.add_argument("--expert-dim", type=int, default=32, help="width of each expert's output")
    p.add_argument("--weighting", default="uncertainty", choices=("uncertainty", "fixed"), help="task loss weights")
    p.add_argument("--rounds", type=int, default=300, help="LightGBM boosting rounds")
    p.add_argument("--calibration", default="temperature", choices=("temperature", "isotonic", "none"))
    p.add_argument("--test-share", type=float, default=0.2, help="share of shoppers held out for grading")
    p.add_argument("--max-rows", type=int, default=1_000_000, help="sample shoppers to about this many impressions")
    add_seed(p)
    add_days(p)
    p.add_argument("--overwrite", action="store_true", help="replace what an earlier train wrote in --out")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Check the arguments and --out, log and train, print the comparison and explanations, save everything."""
    from basketgym.eval.orchestration.training import sample_explanation, train_and_grade
    from basketgym.eval.reporting.training import check_models_out, comparison_table, format_explanation, write_training
    from basketgym.rankers import make_ranker
    from basketgym.rankers.learned.model import KINDS, FitConfig
    from basketgym.sim.config import resolve_scenario

    kinds = comma_list(args.model)
    for k in kinds:
        if k not in KINDS:
            raise BasketgymError(f"--model {k!r}: must be one of {', '.join(KINDS)} (comma-separated for several)")
    if not 0.0 <= args.explore <= 1.0:
        raise BasketgymError(f"--explore = {args.explore}: must be in [0, 1]")
    if not 0.0 < args.test_share < 1.0:
        raise BasketgymError(f"--test-share = {args.test_share}: must be in (0, 1)")
    make_ranker(args.logging)
    out = Path(args.out)
    check_models_out(out, args.overwrite)
    cfg = resolve_scenario(args.scenario, days=args.days)
    seed = world_seed(args, cfg)
    print(f"basketgym train: logging '{cfg.name}' for {cfg.days} days under {args.logging} explored at "
          f"{args.explore:g} (seed {seed})", file=sys.stderr)  # fmt: skip
    network = {"n_experts": args.experts, "expert_dim": args.expert_dim, "weighting": args.weighting}
    fit_cfg = FitConfig(epochs=args.epochs, rounds=args.rounds, calibration=args.calibration,
                        progress=sys.stderr.isatty(), network=network)  # fmt: skip
    run = train_and_grade(cfg, kinds, seed, args.logging, args.explore, args.test_share, fit_cfg,
                          max_rows=args.max_rows)  # fmt: skip
    f = run.facts
    kept = f" (of {f['logged']:,}: a sample of shoppers)" if f["logged"] > f["rows"] else ""
    folds = next(iter(run.models.values())).facts  # every model of a run splits the same shoppers
    print(
        f"\n{cfg.name}: {f['rows']:,} logged impressions{kept}; trained on {f['train_rows']:,} (networks fit "
        f"{folds['train_rows']:,} and stop early on {folds['early_stopping_rows']:,}, LightGBM fits both; "
        f"calibrated on {folds['calibration_rows']:,} of other shoppers), graded on {f['test_rows']:,} of "
        f"{args.test_share:.0%} held-out shoppers; ECE raw → calibrated\n"
    )
    print(comparison_table(run))
    explanations = {kind: sample_explanation(model, run.table[run.test]) for kind, model in run.models.items()}
    print()
    for kind, ex in explanations.items():
        print(format_explanation(kind, ex) + "\n")
    write_training(out, run, explanations, cfg.name, seed)
    names = ",".join(str(out / k) for k in kinds)
    print(f"models: {out}/<model>/ (grades.csv, comparison.md, reliability.png, training.json beside them)")
    print(f"use them: basketgym run {args.scenario} --rankers popularity,buy_again,{names}")
    return 0
