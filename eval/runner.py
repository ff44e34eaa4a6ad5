"""Run a scenario: every (ranker, seed) world, its metrics, and the run directory.

Each (ranker, seed) pair is an independent task, so the grid can run serially or on a process
pool (and later on Ray) with identical results: the task only depends on (scenario, ranker, seed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from eval import metrics
from eval.outcomes import shopper_outcomes
from eval.report import write_json_atomic as write_json
from eval.rundir import (
    finish_run_dir,
    git_revision,
    new_run_dir,
    package_version,
    task_dir,
)
from rankers import make_ranker
from sim.config import ScenarioConfig, to_toml
from sim.eventlog import TABLES, to_arrow, write_parquet_atomic
from sim.files import write_text_atomic
from sim.world import World, WorldResult

Progress = Callable[[str, int, int, int, int], None]  # (ranker, seed, task index, day, days)


@dataclass(frozen=True)
class Task:
    """One world of the grid."""

    index: int
    ranker: str
    seed: int


@dataclass
class TaskResult:
    """What a finished task reports back (small: the big tables stay on disk)."""

    task: Task
    summary: dict[str, float]
    facts: dict[str, float]


@dataclass
class RunResult:
    """A finished run: one row of metrics per (ranker, seed), and where it was written."""

    scenario: ScenarioConfig
    per_seed: pd.DataFrame
    run_dir: Path | None
    tasks: list[TaskResult] = field(default_factory=list)


def evaluate_world(cfg: ScenarioConfig, result: WorldResult) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-shopper outcomes and the summary metrics of one finished world."""
    outcomes = shopper_outcomes(
        result.purchases,
        result.sessions,
        result.shoppers,
        cfg.days,
        cfg.run.horizons,
        cfg.run.discount_rate,
    )
    summary = metrics.summarize(outcomes, result.purchases, result.sessions, cfg.days, cfg.run.horizons)
    return outcomes, summary


def simulate(
    cfg: ScenarioConfig, ranker: str, seed: int, progress: Callable[[int, int], None] | None = None
) -> WorldResult:
    """Run one world of ``cfg`` under the named ranker."""
    return World(cfg, seed, make_ranker(ranker), ranker).run(progress)


def run_task(cfg: ScenarioConfig, task: Task, root: Path | None, progress: Progress | None = None) -> TaskResult:
    """Simulate one (ranker, seed) world, evaluate it and write its files under ``root``."""

    def tick(day: int, days: int) -> None:
        if progress is not None:
            progress(task.ranker, task.seed, task.index, day, days)

    result = simulate(cfg, task.ranker, task.seed, tick)
    outcomes, summary = evaluate_world(cfg, result)
    if root is not None:
        rdir = task_dir(root, "results", task.ranker, task.seed)
        write_parquet_atomic(pa.Table.from_pandas(outcomes, preserve_index=False), rdir / "outcomes.parquet")
        write_parquet_atomic(pa.table(result.latency), rdir / "latency.parquet")
        write_json(
            {"ranker": task.ranker, "seed": task.seed, "metrics": summary, "facts": result.facts},
            rdir / "summary.json",
        )
        if cfg.run.event_log == "full":
            ldir = task_dir(root, "logs", task.ranker, task.seed)
            for name, columns in TABLES.items():
                table = getattr(result, name)
                write_parquet_atomic(to_arrow(table, columns, {"ranker": task.ranker}), ldir / f"{name}.parquet")
    return TaskResult(task, summary, result.facts)


def run_scenario(
    cfg: ScenarioConfig,
    rankers: list[str] | None = None,
    seeds: int | None = None,
    out: str | Path | None = None,
    *,
    write: bool = True,
    overwrite: bool = False,
    jobs: int = 1,
    progress: Progress | None = None,
    command: str = "",
) -> RunResult:
    """Run every (ranker, seed) world of a scenario, write the run directory, return the tables.

    ``seeds`` worlds per ranker use seeds ``cfg.seed, cfg.seed + 1, ...``; worlds with the same
    seed share all random shocks (common random numbers), so rankers are compared on the same
    shoppers meeting the same luck.
    """
    names = list(rankers or cfg.rankers.names)
    for name in [*names, cfg.rankers.control]:
        make_ranker(name)  # fail fast on unknown names, before any simulation
    n_seeds = int(seeds or cfg.run.seeds)
    tasks = [Task(i, name, cfg.seed + s) for i, (s, name) in enumerate((s, n) for s in range(n_seeds) for n in names)]
    final = partial = None
    started = time.time()
    if write:
        final, partial = new_run_dir(out, cfg.name, overwrite)
        write_text_atomic(to_toml(cfg), partial / "scenario.toml")
        manifest = {
            "basketgym_version": package_version(),
            "git_revision": git_revision(),
            "command": command,
            "scenario": cfg.name,
            "rankers": names,
            "seeds": [cfg.seed + s for s in range(n_seeds)],
            "started_unix": started,
            "status": "running",
        }
        write_json(manifest, partial / "manifest.json")

    done: list[TaskResult] = []
    if jobs <= 1:
        for t in tasks:
            done.append(run_task(cfg, t, partial, progress))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_task, cfg, t, partial, None) for t in tasks]
            for fut in as_completed(futures):
                r = fut.result()
                done.append(r)
                if progress is not None:
                    progress(r.task.ranker, r.task.seed, r.task.index, cfg.days, cfg.days)
    done.sort(key=lambda r: r.task.index)

    per_seed = pd.DataFrame([{"ranker": r.task.ranker, "seed": r.task.seed, **r.summary} for r in done])
    if write:
        assert final is not None and partial is not None
        write_json(
            {
                "scenario": cfg.name,
                "rankers": {name: across_seeds_dict(per_seed, name) for name in names},
                "per_seed": per_seed.to_dict(orient="records"),
                "facts": [{"ranker": r.task.ranker, "seed": r.task.seed, **r.facts} for r in done],
            },
            partial / "summary.json",
        )
        manifest.update(status="complete", finished_unix=time.time(), wall_seconds=time.time() - started)
        write_json(manifest, partial / "manifest.json")
        finish_run_dir(final, partial)
    return RunResult(cfg, per_seed, final, done)


def across_seeds_dict(per_seed: pd.DataFrame, ranker: str) -> dict[str, dict[str, float]]:
    """``{metric: {n, mean, std, se, half_width, ci_low, ci_high}}`` over one ranker's seeds."""
    rows = per_seed[per_seed["ranker"] == ranker].drop(columns=["ranker"]).to_dict(orient="records")
    return {m: {k: float(v) for k, v in st.items()} for m, st in metrics.across_seeds(rows).iterrows()}
