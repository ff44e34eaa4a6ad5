"""Run a scenario: every world of its grid, their metrics, and the run directory.

The grid: one world per (ranker, seed) — the control ranker's included, it is every ranker's twin
—, the surface ablations of ``evaluation.attribution``, and the A/B test of ``experiment`` (its
traffic-split world and its switch-everyone twin). Each world is an independent task that only
depends on (scenario, task), so the grid can run serially or on a process pool (and later on Ray)
with identical results. ``eval.reporting.analysis`` turns the raw files into the report.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from basketgym.contract.files import write_text_atomic
from basketgym.contract.logs import TABLES
from basketgym.contract.protocol import Ranker
from basketgym.eval.orchestration.rundir import (
    finish_run_dir,
    git_revision,
    new_run_dir,
    package_version,
    result_dir_names,
    task_dir,
    write_json_atomic,
)
from basketgym.eval.outcomes import metrics
from basketgym.eval.outcomes.metrics import evaluate_world
from basketgym.eval.outcomes.timeline import cohort_cumulative, window_metrics
from basketgym.plugins import resolve_ranker
from basketgym.rankers import make_ranker
from basketgym.rankers.composite import ABLATIONS, SurfaceAblation, TrafficSplit
from basketgym.sim.config import ScenarioConfig, to_toml
from basketgym.sim.eventlog import to_arrow, write_parquet_atomic
from basketgym.sim.world import World, WorldResult

# (label, seed, task index, day, days, seconds since the task started, measured where it runs); a
# task reports day < days as it simulates and day == days once, when it is finished (evaluated, written)
Progress = Callable[[str, int, int, int, int, float], None]


WORLD, ABLATION, EXPERIMENT, SWITCH = "world", "ablation", "experiment", "switch"


@dataclass(frozen=True)
class Task:
    """One world of the grid: a ranker's own world, a surface ablation, or an experiment world."""

    index: int
    ranker: str  # the ranker evaluated (the policy of an ablation, the treatment of an experiment)
    seed: int
    kind: str = WORLD
    variant: str = ""  # the ablated surface

    @property
    def label(self) -> str:
        """Results directory name: ``buy_again``, ``buy_again~no_search``, ``ab~buy_again``, ``switch~buy_again``."""
        return {
            WORLD: self.ranker,
            ABLATION: f"{self.ranker}~no_{self.variant}",
            EXPERIMENT: f"ab~{self.ranker}",
            SWITCH: f"switch~{self.ranker}",
        }[self.kind]


def scenario_ranker(cfg: ScenarioConfig, name: str) -> Ranker:
    """The ranker ``name`` with its scenario options (``[rankers.options.<name>]``).

    ``name``: a registry name, a trained model directory or an import path ``package.module:Class``.
    """
    return make_ranker(resolve_ranker(name), **cfg.rankers.options.get(name, {}))


def task_ranker(cfg: ScenarioConfig, task: Task) -> Ranker:
    """The ranker that serves a task's world."""
    if task.kind == WORLD:
        return scenario_ranker(cfg, task.ranker)
    control = scenario_ranker(cfg, cfg.rankers.control)
    if task.kind == ABLATION:
        return SurfaceAblation(scenario_ranker(cfg, task.ranker), control, task.variant)
    ex = cfg.experiment
    share = ex.share if task.kind == EXPERIMENT else 1.0
    return TrafficSplit(control, scenario_ranker(cfg, task.ranker), share, ex.start_day)


def world_seeds(cfg: ScenarioConfig, n_seeds: int) -> list[int]:
    """The seeds of a scenario's ``n_seeds`` worlds per ranker: ``cfg.seed, cfg.seed + 1, ...`` (runs, realism)."""
    return [cfg.seed + s for s in range(n_seeds)]


def grid(cfg: ScenarioConfig, rankers: list[str], n_seeds: int, *, twins: bool = True) -> list[Task]:
    """Every task of a run, seed-major (a seed's twins finish close together).

    ``twins`` False: only the rankers' own worlds (no control twin, ablations or experiment; for
    runs that are not written, hence not analysed).
    """
    names = list(dict.fromkeys([*rankers, cfg.rankers.control])) if twins else list(rankers)
    seeds = world_seeds(cfg, n_seeds)
    specs = [(WORLD, r, "") for r in names]
    if twins:
        specs += [(ABLATION, r, a) for r in cfg.evaluation.attribution for a in ABLATIONS]
    if twins and cfg.experiment.treatment:
        specs += [(EXPERIMENT, cfg.experiment.treatment, ""), (SWITCH, cfg.experiment.treatment, "")]
    return [Task(i, r, seed, kind, v) for i, (seed, (kind, r, v)) in enumerate((s, x) for s in seeds for x in specs)]


@dataclass
class TaskResult:
    """What a finished task reports back (small: the big tables stay on disk)."""

    task: Task
    summary: dict[str, float]
    facts: dict[str, float]
    seconds: float = float("nan")  # the whole task (build, simulate, evaluate, write), on the clock where it ran


@dataclass
class RunResult:
    """A finished run: one row of metrics per (ranker, seed), and where it was written."""

    scenario: ScenarioConfig
    per_seed: pd.DataFrame
    run_dir: Path | None
    tasks: list[TaskResult] = field(default_factory=list)


def simulate(
    cfg: ScenarioConfig, ranker: str, seed: int, progress: Callable[[int, int], None] | None = None
) -> WorldResult:
    """Run one world of ``cfg`` under the named ranker."""
    return World(cfg, seed, scenario_ranker(cfg, ranker), ranker).run(progress)


def _frame(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def run_task(cfg: ScenarioConfig, task: Task, root: Path | None, progress: Progress | None = None) -> TaskResult:
    """Simulate one world of the grid, evaluate it and write its files under ``root``.

    Files (``results/<label>/seed=<seed>/``): outcomes (one row per shopper), cumulative (the
    day-0 shoppers' margin and LTV by week), latency (every ranker call), window (per-shopper
    experiment days, when the scenario has an experiment) and summary.json; the event log under
    ``logs/`` for worlds.
    """
    t0 = time.perf_counter()

    def tick(day: int, days: int) -> None:
        if progress is not None and day < days:  # the last day is reported once the files are written
            progress(task.label, task.seed, task.index, day, days, time.perf_counter() - t0)

    result = World(cfg, task.seed, task_ranker(cfg, task), task.label).run(tick)
    outcomes, summary = evaluate_world(cfg, result)
    if root is not None:
        rdir = task_dir(root, "results", task.label, task.seed)
        write_parquet_atomic(_frame(outcomes), rdir / "outcomes.parquet")
        cumulative = cohort_cumulative(result.sessions, result.shoppers, cfg.days, cfg.run.discount_rate)
        write_parquet_atomic(_frame(cumulative), rdir / "cumulative.parquet")
        write_parquet_atomic(pa.table(result.latency), rdir / "latency.parquet")
        ex = cfg.experiment
        if ex.treatment:
            window = window_metrics(result.sessions, result.shoppers, ex.metric, ex.start_day, ex.days)
            write_parquet_atomic(_frame(window), rdir / "window.parquet")
        write_json_atomic(
            {"ranker": task.ranker, "label": task.label, "kind": task.kind, "seed": task.seed, "metrics": summary,
             "facts": result.facts},
            rdir / "summary.json",
        )  # fmt: skip
        if cfg.run.event_log == "full" and task.kind == WORLD:
            ldir = task_dir(root, "logs", task.label, task.seed)
            for name, columns in TABLES.items():
                table = getattr(result, name)
                write_parquet_atomic(to_arrow(table, columns, {"ranker": task.ranker}), ldir / f"{name}.parquet")
    seconds = time.perf_counter() - t0
    if progress is not None:
        progress(task.label, task.seed, task.index, cfg.days, cfg.days, seconds)
    return TaskResult(task, summary, result.facts, seconds)


_TICKS: multiprocessing.Queue | None = None  # a pool worker's channel for progress ticks to the parent
_SENT: dict[int, float] = {}
TICK_SECONDS = 0.2  # a worker sends a task's progress at most this often (a run has a few ticks per second)


def _worker_init(ticks: multiprocessing.Queue) -> None:
    global _TICKS
    _TICKS = ticks
    ticks.cancel_join_thread()  # ticks are disposable: a worker never waits at exit for unread ones


def _send_tick(label: str, seed: int, index: int, day: int, days: int, seconds: float) -> None:
    """A pool worker's progress callback: unfinished days, throttled (the parent reports a task's end)."""
    if _TICKS is not None and day < days and seconds - _SENT.get(index, -TICK_SECONDS) >= TICK_SECONDS:
        _SENT[index] = seconds
        _TICKS.put((label, seed, index, day, days, seconds))


def _run_pool(cfg: ScenarioConfig, tasks: list[Task], root: Path | None, jobs: int,
              progress: Progress | None) -> list[TaskResult]:  # fmt: skip
    """Every task on ``jobs`` processes; with ``progress``, workers' ticks are relayed as they come."""
    done: list[TaskResult] = []
    if progress is None:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for fut in as_completed([pool.submit(run_task, cfg, t, root, None) for t in tasks]):
                done.append(fut.result())
        return done
    ticks: multiprocessing.Queue = multiprocessing.get_context().Queue()
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(ticks,)) as pool:
        pending = {pool.submit(run_task, cfg, t, root, _send_tick) for t in tasks}
        while pending:
            finished, pending = wait(pending, timeout=TICK_SECONDS, return_when=FIRST_COMPLETED)
            while True:
                try:
                    progress(*ticks.get_nowait())
                except queue.Empty:
                    break
            for fut in finished:
                r = fut.result()
                done.append(r)
                progress(r.task.label, r.task.seed, r.task.index, cfg.days, cfg.days, r.seconds)
    ticks.close()
    return done


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
    shoppers meeting the same luck. A written run also simulates the twins the report needs (see
    ``grid``); ``write=False`` simulates only the named rankers' worlds.
    """
    from basketgym.eval.orchestration.plan import plan_run

    names = list(rankers or cfg.rankers.names)
    n_seeds = int(seeds or cfg.run.seeds)
    # before any simulation or output: unknown rankers, bad options, an experiment past the end, too little memory
    plan_run(cfg, names, n_seeds, jobs, write=write, rules=False)
    tasks = grid(cfg, names, n_seeds, twins=write)
    final = partial = None
    started = time.time()
    if write:
        dirs = result_dir_names([t.label for t in tasks])  # before anything is written: names must not collide
        final, partial = new_run_dir(out, cfg.name, overwrite)
        manifest = {
            "basketgym_version": package_version(),
            "git_revision": git_revision(),
            "command": command,
            "scenario": cfg.name,
            "rankers": names,
            "control": cfg.rankers.control,
            "seeds": world_seeds(cfg, n_seeds),
            "tasks": [{"label": t.label, "kind": t.kind, "ranker": t.ranker, "seed": t.seed} for t in tasks],
            "dirs": dirs,  # label -> directory under results/ and logs/ (eval.orchestration.rundir.result_dir_name)
            "started_unix": started,
            "status": "running",
        }
        write_json_atomic(
            manifest, partial / "manifest.json"
        )  # first: it marks the .partial as a run's (eval.orchestration.rundir)
        write_text_atomic(to_toml(cfg), partial / "scenario.toml")

    done: list[TaskResult] = []
    if jobs <= 1:
        for t in tasks:
            done.append(run_task(cfg, t, partial, progress))
    else:
        done = _run_pool(cfg, tasks, partial, jobs, progress)
    done.sort(key=lambda r: r.task.index)

    worlds = [r for r in done if r.task.kind == WORLD and r.task.ranker in names]
    per_seed = pd.DataFrame([{"ranker": r.task.ranker, "seed": r.task.seed, **r.summary} for r in worlds])
    if write:
        assert final is not None and partial is not None
        write_json_atomic(
            {
                "scenario": cfg.name,
                "rankers": {name: across_seeds_dict(per_seed, name) for name in names},
                "per_seed": per_seed.to_dict(orient="records"),
                "facts": [{"label": r.task.label, "seed": r.task.seed, **r.facts} for r in done],
            },
            partial / "summary.json",
        )
        manifest.update(status="complete", finished_unix=time.time(), wall_seconds=time.time() - started)
        write_json_atomic(manifest, partial / "manifest.json")
        finish_run_dir(final, partial)
    return RunResult(cfg, per_seed, final, done)


def across_seeds_dict(per_seed: pd.DataFrame, ranker: str) -> dict[str, dict[str, float]]:
    """``{metric: {n, mean, std, se, half_width, ci_low, ci_high}}`` over one ranker's seeds."""
    rows = per_seed[per_seed["ranker"] == ranker].drop(columns=["ranker"]).to_dict(orient="records")
    return {m: {k: float(v) for k, v in st.items()} for m, st in metrics.across_seeds(rows).iterrows()}


def throughput(tasks: list[TaskResult]) -> tuple[float, float]:
    """Sessions simulated by a run's tasks, and sessions per second of simulation (summed over the tasks' worlds)."""
    sessions = sum(r.facts["sessions"] for r in tasks)
    return sessions, sessions / max(sum(r.facts["wall_seconds"] for r in tasks), 1e-9)
