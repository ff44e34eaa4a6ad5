"""The ``basketgym`` command: run scenarios, validate calibration, list what is available.

A thin layer over library functions. User errors (bad scenario, unknown ranker, existing output,
unreadable or corrupt files, unwritable output, bad arguments) print one line ``basketgym: error:
...`` and exit with status 2; an interrupt exits with 130 and leaves earlier results intact.
Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from basketgym.contract.errors import BasketgymError, OutputPathError
from basketgym.contract.files import check_writable, one_line, os_error_line

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


def _Progress(total: int, jobs: int = 1):  # noqa: ANN202 - basketgym.progress.RunProgress, imported lazily
    """The run's progress display on stderr (``basketgym.progress``; tqdm is imported only when a command runs)."""
    from basketgym.progress import RunProgress

    return RunProgress(total, jobs)


def _cmd_run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from basketgym.eval.orchestration.plan import plan_scenario
    from basketgym.eval.orchestration.rundir import check_run_out
    from basketgym.eval.orchestration.runner import grid, run_scenario
    from basketgym.eval.reporting.analysis import analyze_run
    from basketgym.eval.reporting.report import format_analysis
    from basketgym.eval.reporting.text import format_summary_table, summary_tables

    rankers = [r.strip() for r in args.rankers.split(",") if r.strip()] if args.rankers else None
    # every rule of `basketgym check` (scenario, rankers, memory) before any output or world
    plan = plan_scenario(args.scenario, days=args.days, rankers=rankers, seeds=args.seeds, jobs=args.jobs,
                         event_log="none" if args.no_event_log else None)  # fmt: skip
    cfg = plan.cfg
    if not args.no_write:
        check_run_out(args.out, cfg.name, args.overwrite)  # refused before any world is simulated
    for note in plan.notes:
        print(f"basketgym run: {note}", file=sys.stderr)
    n_seeds = args.seeds or cfg.run.seeds
    n_tasks = len(grid(cfg, list(rankers or cfg.rankers.names), n_seeds))
    print(
        f"basketgym run: scenario '{cfg.name}' — {cfg.population.shoppers:,} shoppers, "
        f"{cfg.catalog.products:,} products, {cfg.days} days, {n_seeds} seed(s)",
        file=sys.stderr,
    )
    scratch = tempfile.mkdtemp(prefix="basketgym-") if args.no_write else None  # analysed, then removed
    try:
        with _Progress(n_tasks, args.jobs) as progress:
            result = run_scenario(
                cfg, rankers, n_seeds, args.out if scratch is None else f"{scratch}/run", overwrite=args.overwrite,
                jobs=args.jobs, progress=progress, command="basketgym " + shlex.join(sys.argv[1:]),
            )  # fmt: skip
        analysis = analyze_run(result.run_dir, write=scratch is None)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{cfg.name}: {cfg.days} days, {n_seeds} seed(s), mean ± half-width of the 95% interval across seeds")
    for title, columns in summary_tables(cfg.run.horizons):
        print(f"\n{title}")
        print(format_summary_table(result.per_seed, columns).rsplit("\n± :", 1)[0])
    facts = result.tasks
    if facts:
        sps = sum(r.facts["sessions"] for r in facts) / max(sum(r.facts["wall_seconds"] for r in facts), 1e-9)
        print(f"\nsimulated {sum(r.facts['sessions'] for r in facts):,.0f} sessions at {sps:,.0f} sessions/s")
    print("\n" + format_analysis(analysis))
    if scratch is None:
        print(f"results: {result.run_dir}/ (summary.json, analysis.json, plots/, results/, logs/)")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    """Every rule of a run (scenario, rankers, control, horizons, experiment, attribution, events, memory), no world."""
    import time

    from basketgym.contract.errors import ScenarioError
    from basketgym.eval.orchestration.plan import plan_scenario, scenario_problems

    rankers = [r.strip() for r in args.rankers.split(",") if r.strip()] if args.rankers else None
    t0 = time.perf_counter()
    try:
        plan = plan_scenario(args.scenario, days=args.days, rankers=rankers, seeds=args.seeds, jobs=args.jobs,
                             event_log="none" if args.no_event_log else None)  # fmt: skip
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


def _cmd_report(args: argparse.Namespace) -> int:
    from basketgym.eval.reporting.analysis import analyze_run
    from basketgym.eval.reporting.report import format_analysis

    analysis = analyze_run(args.run_dir, control=args.control)
    print(format_analysis(analysis))
    if args.control is None:
        print(f"rewritten: {args.run_dir}/analysis.json and plots/")
    return 0


def _logging_policy(args: argparse.Namespace) -> tuple[str, float]:
    from basketgym.rankers import make_ranker

    make_ranker(args.policy if hasattr(args, "policy") else args.logging)  # unknown names: one line
    if not 0.0 <= args.explore <= 1.0:
        raise BasketgymError(f"--explore = {args.explore}: must be in [0, 1]")
    if args.temperature is not None and not args.temperature > 0:
        raise BasketgymError(f"--temperature = {args.temperature}: must be > 0")
    return (args.policy if hasattr(args, "policy") else args.logging), args.explore


def _cmd_logs(args: argparse.Namespace) -> int:
    from basketgym import __version__
    from basketgym.eval.offpolicy.grading import logging_policy
    from basketgym.eval.orchestration.bandit_logs import bandit_log_arrow, collect, truth_arrow
    from basketgym.rankers import make_ranker
    from basketgym.sim.config import resolve_scenario
    from basketgym.sim.eventlog import write_parquet_atomic

    out = Path(args.out)
    check_writable(out)  # before simulating
    if args.target:
        check_writable(out.with_name(out.stem + ".truth.parquet"), "--out (its .truth.parquet)")
    cfg = resolve_scenario(args.scenario, days=args.days)
    base, eps = _logging_policy(args)
    targets = {t: make_ranker(t) for t in (args.target or [])}
    logger, name = logging_policy(base, eps, args.temperature)
    log = collect(cfg, logger, targets, args.seed if args.seed is not None else cfg.seed, name)
    write_parquet_atomic(bandit_log_arrow(log, __version__), out)
    n = len(log.table["day"])
    print(f"{out}: {n:,} logged slates of '{name}' over {cfg.days} days (schema: docs/OFF_POLICY.md)")
    if targets:
        truth = out.with_name(out.stem + ".truth.parquet")
        write_parquet_atomic(truth_arrow(log), truth)
        print(f"{truth}: TRUTH for grading estimators (the targets' outcomes in the same contexts); not observable")
    return 0


def _cmd_ope(args: argparse.Namespace) -> int:
    from basketgym.eval.offpolicy.grading import evaluate
    from basketgym.eval.reporting.offpolicy import format_ope
    from basketgym.rankers import make_ranker
    from basketgym.sim.config import resolve_scenario

    cfg = resolve_scenario(args.scenario, days=args.days)
    base, eps = _logging_policy(args)
    make_ranker(args.target)
    seed = args.seed if args.seed is not None else cfg.seed
    report = evaluate(cfg, base, eps, args.target, seed, temperature=args.temperature)
    print(format_ope(report))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from basketgym.eval.orchestration.realism import realism
    from basketgym.eval.orchestration.runner import scenario_ranker
    from basketgym.eval.outcomes.facts import MIN_SEEDS
    from basketgym.eval.reporting.realism import format_realism
    from basketgym.sim.config import resolve_scenario

    if args.seeds < MIN_SEEDS:
        raise BasketgymError(f"--seeds = {args.seeds}: a realism grade needs at least {MIN_SEEDS} worlds")
    cfg = resolve_scenario(args.scenario, days=args.days, event_log="full")
    scenario_ranker(cfg, args.ranker)  # an unknown name fails here, before any world
    seeds = [cfg.seed + i for i in range(args.seeds)]
    prog = _Progress(len(seeds))
    result = realism(cfg, args.ranker, seeds, jobs=args.jobs,
                     progress=lambda seed, i, d, n: prog(args.ranker, seed, i, d, n))  # fmt: skip
    print("\n" + format_realism(result))
    return 0 if result.ok else 1


_TRAIN_FILES = ("grades.csv", "training.json", "comparison.md", "reliability.png")


def _check_models_out(out: Path, overwrite: bool) -> None:
    """Refuse, before training, a ``train --out`` that cannot be written or holds what ``--overwrite`` must not delete.

    ``--overwrite`` replaces only what ``train`` writes: model directories (a ``model.json``
    object with a ``kind``), its report files and their hidden temporaries; anything else in
    ``out`` (a user's files, a model directory with a broken ``model.json``) is refused and kept.
    """
    import json

    from basketgym.rankers.learned.model import KINDS, MODEL_FILE

    check_writable(out, directory=True)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not overwrite:
        raise OutputPathError(f"--out {out}: exists and is not empty (pass --overwrite to replace its models)")
    ours = {*KINDS, *(f.split(".")[0] for f in _TRAIN_FILES)}
    for entry in sorted(out.iterdir()):
        if entry.name.startswith("."):  # temporaries of atomic writes and model saves: .<name>.<random>
            if entry.name[1:].split(".")[0] in ours:
                continue
            why = "a hidden entry that train does not write"
        elif entry.name in _TRAIN_FILES and entry.is_file() and not entry.is_symlink():
            continue
        elif entry.is_dir() and not entry.is_symlink() and (entry / MODEL_FILE).is_file():
            try:
                meta = json.loads((entry / MODEL_FILE).read_bytes().decode("utf-8"))
                if isinstance(meta, dict) and meta.get("kind") in KINDS:
                    continue
                why = f"its {MODEL_FILE} is not a model description"
            except (OSError, ValueError):  # ValueError covers undecodable bytes and JSON that does not parse
                why = f"its {MODEL_FILE} is not readable JSON"
        else:
            why = "not a model directory or a file that train writes"
        raise OutputPathError(
            f"--overwrite {out}: refused, {entry.name} is not basketgym's ({why}); nothing was deleted"
        )


def _cmd_train(args: argparse.Namespace) -> int:
    from basketgym.contract.files import write_text_atomic
    from basketgym.eval.orchestration.rundir import write_json_atomic
    from basketgym.eval.orchestration.training import reliability_curves, sample_explanation, train_and_grade
    from basketgym.eval.reporting.plots import reliability_diagram
    from basketgym.eval.reporting.training import comparison_table, format_explanation
    from basketgym.rankers import make_ranker
    from basketgym.rankers.learned.model import KINDS, FitConfig
    from basketgym.sim.config import resolve_scenario

    kinds = [k.strip() for k in args.model.split(",") if k.strip()]
    for k in kinds:
        if k not in KINDS:
            raise BasketgymError(f"--model {k!r}: must be one of {', '.join(KINDS)} (comma-separated for several)")
    if not 0.0 <= args.explore <= 1.0:
        raise BasketgymError(f"--explore = {args.explore}: must be in [0, 1]")
    if not 0.0 < args.test_share < 1.0:
        raise BasketgymError(f"--test-share = {args.test_share}: must be in (0, 1)")
    make_ranker(args.policy)
    out = Path(args.out)
    _check_models_out(out, args.overwrite)
    cfg = resolve_scenario(args.scenario, days=args.days)
    seed = args.seed if args.seed is not None else cfg.seed
    print(f"basketgym train: logging '{cfg.name}' for {cfg.days} days under {args.policy} explored at "
          f"{args.explore:g} (seed {seed})", file=sys.stderr)  # fmt: skip
    network = {"n_experts": args.experts, "expert_dim": args.expert_dim, "weighting": args.weighting}
    fit_cfg = FitConfig(epochs=args.epochs, rounds=args.rounds, calibration=args.calibration,
                        progress=sys.stderr.isatty(), network=network)  # fmt: skip
    run = train_and_grade(cfg, kinds, seed, args.policy, args.explore, args.test_share, fit_cfg, max_rows=args.max_rows)
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
    explanations = {}
    for kind, model in run.models.items():
        model.facts.update(scenario=cfg.name, logging=f["policy"], seed=seed)
        model.save(out / kind)
        explanations[kind] = sample_explanation(model, run.table[run.test])
    print()
    for kind, ex in explanations.items():
        print(format_explanation(kind, ex) + "\n")
    run.grades.to_csv(out / "grades.csv.tmp", index=False)
    (out / "grades.csv.tmp").replace(out / "grades.csv")
    write_json_atomic({"facts": f, "explanations": explanations}, out / "training.json")
    write_text_atomic(comparison_table(run) + "\n", out / "comparison.md")
    curves = reliability_curves(run)
    if any(curves.values()):
        title = f"{cfg.name}: calibrated predictions vs the simulator's true probabilities (held-out shoppers)"
        reliability_diagram(curves, out / "reliability.png", title=title)
    names = ",".join(str(out / k) for k in kinds)
    print(f"models: {out}/<model>/ (grades.csv, comparison.md, reliability.png, training.json beside them)")
    print(f"use them: basketgym run {args.scenario} --rankers popularity,buy_again,{names}")
    return 0


def _cmd_uplift(args: argparse.Namespace) -> int:
    import numpy as np

    from basketgym.contract.files import atomic_path
    from basketgym.eval.reporting.plots import gain_curves
    from basketgym.eval.reporting.uplift import format_comparison, write_scores, write_split
    from basketgym.eval.uplift.data import OUTCOMES, WINDOW, exposure_data
    from basketgym.eval.uplift.grading import compare_learners
    from basketgym.rankers import make_ranker
    from basketgym.rankers.learned.uplift import LEARNERS
    from basketgym.sim.config import resolve_scenario

    outcomes = [o.strip() for o in args.outcome.split(",") if o.strip()]
    learners = tuple(k.strip() for k in args.learners.split(",") if k.strip())
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
    need = args.start_day + args.test_days + WINDOW
    if cfg.days < need:
        raise BasketgymError(f"scenario '{cfg.name}' has {cfg.days} days; exposure tests need {need} "
                             f"(--start-day {args.start_day} + --test-days {args.test_days} + {WINDOW})")  # fmt: skip
    seed = args.seed if args.seed is not None else cfg.seed
    print(f"basketgym uplift: '{cfg.name}', {args.base} with one exposure test per shopper (days "
          f"{args.start_day}-{args.start_day + args.test_days - 1}, P(treated) {args.share:g}), three twin worlds, "
          f"seed {seed}", file=sys.stderr)  # fmt: skip
    data = exposure_data(cfg, seed, args.base, args.share, args.start_day, args.test_days)
    log, tau = data.log, data.tau
    w = log["treated"].to_numpy(bool)
    print(f"\n{cfg.name}: {len(log):,} exposure tests ({w.mean():.1%} treated); the randomised world matches its "
          f"twins on {data.consistency:.1%} of tests\n")  # fmt: skip
    print("| outcome | true mean effect | difference in means (randomised) | control mean |")
    print("|---|---|---|---|")
    for o in OUTCOMES:
        y = log[o].to_numpy(np.float64)
        diff = y[w].mean() - y[~w].mean()
        se = np.sqrt(y[w].var(ddof=1) / w.sum() + y[~w].var(ddof=1) / (~w).sum())
        print(f"| {o} | {tau[o].mean():+.4f} | {diff:+.4f} [{diff - 1.96 * se:+.4f}, {diff + 1.96 * se:+.4f}] "
              f"| {y[~w].mean():.4f} |")  # fmt: skip
    tables = {}
    for o in outcomes:
        tables[o] = compare_learners(data, o, learners, seed, args.bootstrap)
        print("\n" + format_comparison(tables[o], o, int(tables[o].attrs.get("graded", 0))))
    if args.out:
        out = Path(args.out)
        full = log.assign(**{f"true_{o}": tau[o].to_numpy() for o in OUTCOMES})
        with atomic_path(out / "exposures.parquet") as tmp:
            full.to_parquet(tmp, index=False)
        write_split(log, seed, out / "split.parquet")
        for o, t in tables.items():
            with atomic_path(out / f"uplift_{o}.csv") as tmp:
                t.to_csv(tmp, index=False)
            write_scores(t, out / f"scores_{o}.parquet")
            gain_curves(t.attrs["curves"], out / f"gain_{o}.png", title=f"{cfg.name}: uplift curves, outcome '{o}'",
                        ylabel=f"cumulative true effect on {o}")  # fmt: skip
        print(f"\nwritten: {out}/exposures.parquet (treatment log; true_* columns: TRUTH), split.parquet (graded or "
              "training, by session_id), scores_*.parquet (every scorer on the graded tests), uplift_*.csv, gain_*.png "
              "(docs/UPLIFT.md: how to re-check them)")  # fmt: skip
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from basketgym.rankers import available
    from basketgym.scenarios import bundled

    print("scenarios:", ", ".join(bundled()))
    print("rankers:  ", ", ".join(available()))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line like every other error (argparse prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        """Print ``basketgym: error: [<command>: ]<message>`` and exit with status 2."""
        command = self.prog.removeprefix("basketgym").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_USAGE, f"basketgym: error: {where}{message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    p = _Parser(prog="basketgym", description="Grocery-marketplace ranking testbed.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a scenario for its rankers and seeds, print the long-horizon table")
    r.add_argument("scenario", help="scenario TOML path or bundled name (default, smoke, ads_heavy)")
    r.add_argument("--rankers", help="comma-separated ranker names (default: the scenario's)")
    r.add_argument("--seeds", type=int, help="worlds per ranker (default: the scenario's run.seeds)")
    r.add_argument("--days", type=int, help="override the scenario's horizon")
    r.add_argument("--out", help="run directory (default: runs/<scenario>-<timestamp>)")
    r.add_argument("--overwrite", action="store_true", help="replace an earlier run at --out (once this one completes)")
    r.add_argument("--jobs", type=int, default=1, help="worlds simulated in parallel processes")
    r.add_argument("--no-write", action="store_true", help="print results without writing a run directory")
    r.add_argument(
        "--no-event-log",
        action="store_true",
        help="write outcomes and summaries but not the event log (~30 MB a world)",
    )
    r.set_defaults(func=_cmd_run)

    ck = sub.add_parser("check", help="check a scenario and what its run would do (worlds, memory, time); no world")
    ck.add_argument("scenario", help="scenario TOML path or bundled name")
    ck.add_argument("--rankers", help="comma-separated ranker names (default: the scenario's)")
    ck.add_argument("--seeds", type=int, help="worlds per ranker (default: the scenario's run.seeds)")
    ck.add_argument("--days", type=int, help="override the scenario's horizon")
    ck.add_argument("--jobs", type=int, default=1, help="worlds simulated in parallel processes")
    ck.add_argument("--no-event-log", action="store_true", help="plan a run without the event log")
    ck.set_defaults(func=_cmd_check)

    rep = sub.add_parser("report", help="recompute a finished run's report, tables and plots from its saved results")
    rep.add_argument("run_dir", help="a run directory written by 'basketgym run'")
    rep.add_argument("--control", help="read incrementality against this ranker of the run (nothing is rewritten)")
    rep.set_defaults(func=_cmd_report)

    lg = sub.add_parser("logs", help="log a scenario under an exploring policy with exact propensities (Parquet)")
    lg.add_argument("scenario")
    lg.add_argument("--policy", required=True, help="deterministic ranker the logging policy explores around")
    lg.add_argument("--explore", type=float, default=0.1, help="epsilon: probability a slate is explored")
    lg.add_argument("--temperature", type=float, help="log Plackett-Luce over the policy's scores instead")
    lg.add_argument("--target", action="append", help="rankers whose shadow slates are logged too (repeatable)")
    lg.add_argument("--out", required=True, help="Parquet file to write (atomically)")
    lg.add_argument("--seed", type=int)
    lg.add_argument("--days", type=int)
    lg.set_defaults(func=_cmd_logs)

    op = sub.add_parser("ope", help="off-policy estimates of a target from logs, next to its true value")
    op.add_argument("scenario")
    op.add_argument("--logging", required=True, help="deterministic ranker the logging policy explores around")
    op.add_argument("--explore", type=float, default=0.3, help="epsilon of the logging policy")
    op.add_argument("--temperature", type=float, help="log Plackett-Luce over the logging ranker's scores instead")
    op.add_argument("--target", required=True, help="ranker to evaluate")
    op.add_argument("--seed", type=int)
    op.add_argument("--days", type=int)
    op.set_defaults(func=_cmd_ope)

    tr = sub.add_parser("train", help="train learned rankers on a scenario's exploration logs; grade and explain them")
    tr.add_argument("scenario")
    tr.add_argument("--model", default="mmoe", help="mmoe, ple, shared_bottom, lgbm or lgbm_rank (comma-separated)")
    tr.add_argument("--out", required=True, help="directory for the models (one subdirectory each)")
    tr.add_argument("--policy", default="buy_again", help="deterministic ranker the logging policy explores around")
    tr.add_argument("--explore", type=float, default=0.2, help="epsilon of the logging policy")
    tr.add_argument("--epochs", type=int, default=20, help="network epochs (early stopping may end sooner)")
    tr.add_argument("--experts", type=int, default=4, help="MMoE: shared experts; PLE: experts per task and shared")
    tr.add_argument("--expert-dim", type=int, default=32, help="width of each expert's output")
    tr.add_argument("--weighting", default="uncertainty", choices=("uncertainty", "fixed"), help="task loss weights")
    tr.add_argument("--rounds", type=int, default=300, help="LightGBM boosting rounds")
    tr.add_argument("--calibration", default="temperature", choices=("temperature", "isotonic", "none"))
    tr.add_argument("--test-share", type=float, default=0.2, help="share of shoppers held out for grading")
    tr.add_argument("--max-rows", type=int, default=1_000_000, help="sample shoppers to about this many impressions")
    tr.add_argument("--seed", type=int)
    tr.add_argument("--days", type=int)
    tr.add_argument("--overwrite", action="store_true", help="replace what an earlier train wrote in --out")
    tr.set_defaults(func=_cmd_train)

    up = sub.add_parser("uplift", help="randomised exposure tests in twin worlds; uplift learners graded against truth")
    up.add_argument("scenario")
    up.add_argument("--outcome", default="bought", help="bought, basket_margin, margin_30d, retained_30d (comma list)")
    up.add_argument("--learners", default="s,t,x,dr", help="uplift learners (comma-separated)")
    up.add_argument("--base", default="buy_again", help="the ranker whose slates the tests modify")
    up.add_argument("--share", type=float, default=0.5, help="P(treated): the focal item shown in the top slot")
    up.add_argument("--start-day", type=int, default=30, help="first day of tests (after a warm-up)")
    up.add_argument("--test-days", type=int, default=28, help="days during which shoppers are tested (once each)")
    up.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the intervals")
    up.add_argument("--seed", type=int)
    up.add_argument("--days", type=int, help="override the scenario's horizon (the tests need start + test days + 30)")
    up.add_argument("--out", help="directory for the treatment log and the tables (optional)")
    up.set_defaults(func=_cmd_uplift)

    v = sub.add_parser("validate", help="measure a scenario's realism against public grocery facts")
    v.add_argument("scenario")
    v.add_argument("--ranker", default="popularity")
    v.add_argument("--days", type=int)
    v.add_argument("--seeds", type=int, default=3, help="worlds (seeds scenario seed, +1, ...); every one is graded")
    v.add_argument("--jobs", type=int, default=1, help="worlds simulated in parallel processes")
    v.set_defaults(func=_cmd_validate)

    ls = sub.add_parser("list", help="bundled scenarios and registered rankers")
    ls.set_defaults(func=_cmd_list)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``basketgym`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0), or a usage error already printed on one line by _Parser.error
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    for name in ("seeds", "jobs", "days", "epochs", "rounds", "max_rows", "experts", "expert_dim", "test_days",
                 "bootstrap"):  # fmt: skip
        value = getattr(args, name, None)
        if value is not None and value < 1:
            print(f"basketgym: error: --{name} = {value}: must be >= 1", file=sys.stderr)
            return EXIT_USAGE
    try:
        return args.func(args)
    except BasketgymError as e:
        print(f"basketgym: error: {one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # last resort: a file no boundary check caught (full disk, read-only output): still one line
        print(f"basketgym: error: {os_error_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "\nbasketgym: interrupted; earlier results are intact"
            " (this run's finished worlds are in its .partial directory)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
