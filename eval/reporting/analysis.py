"""The run report from a run directory's raw files: long-horizon value, incrementality, A/B tests, latency, plots.

``analyze_run(run_dir)`` reads what the tasks wrote (``results/<label>/seed=<s>/``: outcomes,
cumulative, latency, window), computes every table, writes ``analysis.json`` and ``plots/*.png``
atomically (with an A/B test, also ``ab_units.parquet``: its per-unit arrays, one row per shopper
and seed, for re-checking Welch and CUPED elsewhere), and returns an ``Analysis`` that
``reporting.report.format_analysis`` prints. ``basketgym run`` calls it at the end of a run and
``basketgym report RUN_DIR`` calls it again on saved results, so a report can always be
regenerated without re-simulating.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from basketgym.contract.errors import BasketgymError, InputFileError
from basketgym.contract.files import read_json, reading
from basketgym.eval.orchestration.rundir import manifest_dirs, read_manifest, task_dir, write_json_atomic
from basketgym.eval.orchestration.runner import Progress, RunResult, run_scenario
from basketgym.eval.outcomes import experiment, incrementality, latency
from basketgym.eval.reporting import plots
from basketgym.eval.stats.bootstrap import bootstrap_seed_means
from basketgym.eval.stats.intervals import between_seeds
from basketgym.rankers.composite import ABLATIONS
from basketgym.sim.config import ScenarioConfig, load_scenario
from basketgym.sim.eventlog import write_parquet_atomic

AB_UNITS = "ab_units.parquet"  # experiment.UNIT_COLUMNS of every seed's A/B test, next to analysis.json


@dataclass
class RunData:
    """The raw results of a run directory, keyed by (task label, seed)."""

    run_dir: Path
    cfg: ScenarioConfig
    rankers: list[str]
    control: str
    seeds: list[int]
    outcomes: dict[tuple[str, int], pd.DataFrame]
    cumulative: dict[tuple[str, int], pd.DataFrame]
    latency: dict[tuple[str, int], pd.DataFrame]
    window: dict[tuple[str, int], pd.DataFrame]
    summary: dict[str, Any]


def load_run(run_dir: str | Path) -> RunData:
    """Read a complete run directory; one clear line (``InputFileError``) if it is not one or a file is damaged."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise BasketgymError(f"{run_dir}: the run is not complete (status {manifest.get('status')!r})")
    cfg = load_scenario(run_dir / "scenario.toml")
    summary = read_json(run_dir / "summary.json", "run summary")
    if not isinstance(summary, dict):
        raise InputFileError(f"{run_dir / 'summary.json'}: not a run summary (a JSON {type(summary).__name__})")
    data = RunData(
        run_dir, cfg, list(manifest["rankers"]), manifest.get("control", cfg.rankers.control),
        list(manifest["seeds"]), {}, {}, {}, {}, summary,
    )  # fmt: skip
    dirs = manifest_dirs(manifest)
    for t in manifest["tasks"]:
        key = (t["label"], int(t["seed"]))
        if t["label"] not in dirs:
            raise InputFileError(f"{run_dir / 'manifest.json'}: dirs has no directory for task {t['label']!r}")
        d = task_dir(run_dir, "results", t["label"], int(t["seed"]), dirs)
        data.outcomes[key] = _read_parquet(d / "outcomes.parquet")
        data.cumulative[key] = _read_parquet(d / "cumulative.parquet")
        data.latency[key] = _read_parquet(d / "latency.parquet")
        if (d / "window.parquet").is_file():
            data.window[key] = _read_parquet(d / "window.parquet")
    return data


def _read_parquet(path: Path) -> pd.DataFrame:
    """A results table; one line naming the file if it is missing, truncated or not Parquet."""
    with reading(path, "Parquet file"):
        return pd.read_parquet(path)


@dataclass
class Analysis:
    """Every table of the report (DataFrames), the experiments, and the plots written."""

    cfg: ScenarioConfig
    rankers: list[str]
    control: str
    seeds: list[int]
    long_horizon: pd.DataFrame
    reversals: list[dict[str, Any]]
    incremental: pd.DataFrame
    attribution: pd.DataFrame
    experiments: list[experiment.ExperimentResult]
    latency: pd.DataFrame
    plots: list[Path] = field(default_factory=list)


def long_horizon_columns(horizons: tuple[int, ...]) -> list[str]:
    """Per-shopper outcomes of the long-horizon table: value at the shortest horizon, LTV at the others, retention."""
    hs = sorted(horizons)
    return [f"contribution_{hs[0]}d", *(f"ltv_{h}d" for h in hs[1:]), f"retained_{hs[-1]}d"]


def _long_horizon(d: RunData, cols: list[str]) -> pd.DataFrame:
    frames = []
    for r in d.rankers:
        per_seed = [d.outcomes[(r, s)][cols].to_numpy(np.float64) for s in d.seeds]
        _, lo_s, hi_s = bootstrap_seed_means(per_seed, d.cfg.evaluation.bootstrap, d.cfg.seed, over_seeds=False)
        b = between_seeds(per_seed)
        frames.append(pd.DataFrame({"ranker": r, "metric": cols, "mean": b.mean, "ci_low": b.low, "ci_high": b.high,
                                    "seed_sd": b.sd, "seeds": b.n_seeds,
                                    "shoppers_ci_low": lo_s, "shoppers_ci_high": hi_s}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _reversals(d: RunData, short: str, long: str) -> list[dict[str, Any]]:
    """Pairs of rankers whose order at the short horizon reverses at the long one (paired, twin worlds).

    Significant: the t-interval across seeds of the per-seed paired mean differences excludes 0 at
    both horizons (``eval.stats.intervals.between_seeds``); never with one seed (no such interval).
    """
    out = []
    for i, a in enumerate(d.rankers):
        for b in d.rankers[i + 1 :]:
            per_seed = [incrementality.paired_differences(d.outcomes[(a, s)], d.outcomes[(b, s)], [short, long])
                        for s in d.seeds]  # fmt: skip
            iv = between_seeds(per_seed)
            mean, lo, hi = iv.mean, iv.low, iv.high
            if np.sign(mean[0]) * np.sign(mean[1]) < 0:
                first, second = (a, b) if mean[0] > 0 else (b, a)
                sign = 1 if first == a else -1
                significant = bool((lo[0] > 0 or hi[0] < 0) and (lo[1] > 0 or hi[1] < 0))  # NaN bounds: False
                # every figure oriented like its gap: short = ahead_short - ahead_long, long = ahead_long - ahead_short
                short_ci = sorted([sign * float(lo[0]), sign * float(hi[0])])
                long_ci = sorted([-sign * float(lo[1]), -sign * float(hi[1])])
                out.append({"ahead_short": first, "ahead_long": second, "short": short, "long": long,
                            "short_gap": float(sign * mean[0]), "long_gap": float(-sign * mean[1]),
                            "significant": significant, "seeds": int(iv.n_seeds.min()),
                            "short_ci": short_ci, "long_ci": long_ci})  # fmt: skip
    return out


def _curve_frame(ranker: str, days: np.ndarray, per_seed: list[np.ndarray]) -> pd.DataFrame:
    """A curve's mean over seeds of per-shopper means at ``days``, with the across-seeds t band (none for one seed)."""
    b = between_seeds(per_seed)
    return pd.DataFrame({"ranker": ranker, "day": days, "mean": b.mean, "ci_low": b.low, "ci_high": b.high})


def curves(d: RunData) -> dict[str, pd.DataFrame]:
    """The plotted curves of the day-0 shoppers: retention, cumulative LTV, cumulative incremental margin.

    Per-shopper values at each day (retention) or weekly checkpoint (money), so the bands are the
    same t-intervals across seeds as the tables (a single seed draws the line alone).
    """
    days = np.arange(d.cfg.days)
    out: dict[str, list[pd.DataFrame]] = {"retention": [], "ltv": [], "incremental": []}
    for r in d.rankers:
        alive = []
        for s in d.seeds:
            churn = d.cumulative[(r, s)]["churn_day"].to_numpy()
            alive.append(((churn < 0)[:, None] | (churn[:, None] >= days[None, :])).astype(np.float64))
        out["retention"].append(_curve_frame(r, days, alive))
        cols = [c for c in d.cumulative[(r, d.seeds[0])].columns if c.startswith("ltv_d")]
        cps = np.array([int(c[len("ltv_d") :]) for c in cols])
        out["ltv"].append(_curve_frame(r, cps, [d.cumulative[(r, s)][cols].to_numpy(np.float64) for s in d.seeds]))
        if r != d.control:
            mcols = [f"margin_d{c}" for c in cps]
            diffs = [incrementality.paired_differences(d.cumulative[(r, s)], d.cumulative[(d.control, s)], mcols)
                     for s in d.seeds]  # fmt: skip
            out["incremental"].append(_curve_frame(r, cps, diffs))
    empty = pd.DataFrame(columns=plots.CURVE_COLUMNS)
    return {k: pd.concat(v, ignore_index=True) if v else empty for k, v in out.items()}


def _write_plots(d: RunData, calls: pd.DataFrame) -> list[Path]:
    out_dir = d.run_dir / "plots"
    colors = plots.ranker_colors([d.control, *d.rankers])
    c = curves(d)
    return [
        plots.retention_curves(c["retention"], out_dir / "retention.png", title="Retention of the day-0 shoppers",
                               colors=colors),
        plots.cumulative_ltv(c["ltv"], out_dir / "ltv.png", title="Cumulative LTV per day-0 shopper", colors=colors),
        plots.incremental_margin(c["incremental"], out_dir / "incremental_margin.png", control=d.control,
                                 colors=colors),
        plots.latency_distribution(calls[["ranker", "surface", "seconds_per_row"]], out_dir / "latency.png",
                                   colors=colors),
    ]  # fmt: skip


def analyze_run(run_dir: str | Path, *, write: bool = True, control: str | None = None) -> Analysis:
    """Compute the report of a run from its raw files; write analysis.json and plots/ (atomically).

    ``control``: read incrementality against another ranker of the run instead of the scenario's
    control (paired per shopper in the same twin worlds); nothing is written then.
    """
    d = load_run(run_dir)
    if control is not None:
        if control not in d.rankers and control != d.control:
            raise BasketgymError(f"--control {control!r}: not a ranker of this run ({', '.join(d.rankers)})")
        d.control, write = control, False
    cfg, seeds, n_boot = d.cfg, d.seeds, d.cfg.evaluation.bootstrap
    hs = sorted(cfg.run.horizons)
    long_horizon = _long_horizon(d, long_horizon_columns(cfg.run.horizons))
    reversals = _reversals(d, f"contribution_{hs[0]}d", f"ltv_{hs[-1]}d")
    rankers_vs = [r for r in d.rankers if r != d.control] + [d.control]  # the control's row: the reference
    incremental = incrementality.incrementality(d.outcomes, rankers_vs, d.control, seeds,
                                                incrementality.incremental_columns(hs), n_boot, cfg.seed)  # fmt: skip
    parts = [incrementality.attribution(d.outcomes, r, d.control, seeds, ABLATIONS, n_boot, cfg.seed)
             for r in cfg.evaluation.attribution]  # fmt: skip
    attribution = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    experiments = []
    ex = cfg.experiment
    if ex.treatment and control is None:  # the A/B test is read against the scenario's control only
        for s in seeds:
            experiments.append(
                experiment.analyze(
                    s,
                    d.window[(f"ab~{ex.treatment}", s)],
                    d.window[(f"switch~{ex.treatment}", s)],
                    d.window[(d.control, s)],
                    d.outcomes[(f"ab~{ex.treatment}", s)],
                    ex.start_day,
                    ex.share,
                )  # fmt: skip
            )
    worlds = [r for r in dict.fromkeys([*d.rankers, d.control])]
    calls = pd.concat([latency.latency_rows(d.latency[(r, s)], r) for r in worlds for s in seeds], ignore_index=True)
    a = Analysis(cfg, d.rankers, d.control, seeds, long_horizon, reversals, incremental, attribution, experiments,
                 latency.latency_table(calls))  # fmt: skip
    if write:
        a.plots = _write_plots(d, calls)
        if experiments:  # the A/B test's per-unit arrays, for a peer to re-check Welch and CUPED
            units = pd.concat([e.units for e in experiments], ignore_index=True)
            write_parquet_atomic(pa.Table.from_pandas(units, preserve_index=False), d.run_dir / AB_UNITS)
        write_json_atomic(analysis_json(a), d.run_dir / "analysis.json")
    return a


def run_and_analyze(
    cfg: ScenarioConfig,
    rankers: list[str] | None = None,
    seeds: int | None = None,
    out: str | Path | None = None,
    *,
    keep: bool = True,
    overwrite: bool = False,
    jobs: int = 1,
    progress: Progress | None = None,
    command: str = "",
) -> tuple[RunResult, Analysis]:
    """Run every world of the scenario's grid (``run_scenario``) and analyse the run (``analyze_run``).

    ``keep`` False leaves nothing on disk: the analysis needs the twins' raw files (the control, the
    ablations, the A/B worlds), which ``run_scenario(write=False)`` does not simulate, so the run is
    written to a scratch directory, analysed without writing analysis.json or plots, and removed;
    the returned run's ``run_dir`` is then None.
    """
    scratch = None if keep else tempfile.mkdtemp(prefix="basketgym-")
    try:
        result = run_scenario(cfg, rankers, seeds, out if scratch is None else f"{scratch}/run", overwrite=overwrite,
                              jobs=jobs, progress=progress, command=command)  # fmt: skip
        analysis = analyze_run(result.run_dir, write=keep)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return (result if keep else dataclasses.replace(result, run_dir=None)), analysis


def _experiment_json(e: experiment.ExperimentResult) -> dict[str, Any]:
    def est(x: Any) -> dict[str, float]:
        return {k: getattr(x, k) for k in ("estimate", "se", "ci_low", "ci_high", "p_value")}

    seq = e.sequential
    return {
        "seed": e.seed, "n_treatment": e.n_treatment, "n_control": e.n_control,
        "welch": est(e.welch), "relative_lift": est(e.lift), "cuped": est(e.cuped), "srm_p_value": e.srm_p,
        "sequential": {"first_rejection_look": seq.first_rejection, "ci_low": seq.ci_low[-1],
                       "ci_high": seq.ci_high[-1], "rejected": bool(seq.reject[-1]), "tau": seq.tau},
        "naive_peeking_rejects": e.naive_peeking_rejects,
        "truth": {"effect": e.truth, "ci_low": e.truth_low, "ci_high": e.truth_high},
        "ab_interval_covers_truth": e.covered, "twin_over_ab_interval_width": e.width_ratio,
    }  # fmt: skip


def analysis_json(a: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON (tables as lists of records)."""
    return {
        "rankers": a.rankers,
        "control": a.control,
        "seeds": a.seeds,
        "long_horizon": a.long_horizon.to_dict(orient="records"),
        "reversals": a.reversals,
        "incrementality": a.incremental.to_dict(orient="records"),
        "attribution": a.attribution.to_dict(orient="records"),
        "experiments": [_experiment_json(e) for e in a.experiments],
        "latency": a.latency.to_dict(orient="records"),
        "plots": [p.name for p in a.plots],
    }
