"""Sweeps: every scenario x ranker x seed cell of a grid, resumable, kept in the leaderboard's database.

A sweep file (TOML) names the grid::

    name = "nightly"                         # the sweep's directory under sweeps/
    scenarios = ["default", "ads_heavy"]     # bundled names or TOML paths
    rankers = ["popularity", "buy_again", "margin_greedy"]
    seeds = 3                                # each scenario's first seeds (its seed, seed + 1, ...)
    days = 180                               # optional: shorten every scenario (a shortened scenario is its own id)

Every scenario also gets its control's cells (the twin worlds incrementality is paired against) and
``random``'s (the normalised scores' zero). A cell is one world: it is simulated, evaluated, its per-shopper
outcomes and ranker-call latencies written as Parquet (atomically) under ``cells/``, and only then recorded
in ``leaderboard.sqlite`` (one transaction). A killed sweep restarts where it stopped: finished cells are
found by their key and never recomputed; a cell computed by other code, another scenario content or another
ranker version has another key (``eval.leaderboard.store``).
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from basketgym.contract.errors import ScenarioError
from basketgym.contract.files import reading
from basketgym.eval.leaderboard.store import CellKey, Store
from basketgym.eval.orchestration.identity import code_version, ranker_hash, scenario_hash
from basketgym.eval.orchestration.runner import scenario_ranker
from basketgym.eval.outcomes.latency import weighted_percentiles
from basketgym.eval.outcomes.metrics import evaluate_world
from basketgym.sim.config import ScenarioConfig, resolve_scenario
from basketgym.sim.eventlog import write_parquet_atomic
from basketgym.sim.world import World

SWEEP_KEYS = {"name", "scenarios", "rankers", "seeds", "days"}
REFERENCE_RANKER = "random"  # every scenario's normalised-score zero
#: the summary metrics a cell keeps (besides latency); horizons are the scenario's
KEPT = ("gtv_per_shopper", "margin_per_shopper", "ad_revenue_per_shopper", "contribution_per_shopper",
        "orders_per_shopper", "churn_rate")  # fmt: skip


@dataclass(frozen=True)
class SweepSpec:
    """A grid: scenarios x rankers x seeds (each scenario's control and ``random`` are added)."""

    name: str
    scenarios: tuple[str, ...]
    rankers: tuple[str, ...]
    seeds: int = 3
    days: int | None = None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; a ScenarioError naming the key, value and what is allowed otherwise."""
    with reading(Path(path), "sweep file") as p:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    unknown = sorted(set(raw) - SWEEP_KEYS)
    if unknown:
        raise ScenarioError(f"sweep {unknown[0]!r}: unknown key; allowed: {', '.join(sorted(SWEEP_KEYS))}")
    return check_spec(
        SweepSpec(
            name=raw.get("name", Path(path).stem),
            scenarios=tuple(raw.get("scenarios", ())),
            rankers=tuple(raw.get("rankers", ())),
            seeds=raw.get("seeds", 3),
            days=raw.get("days"),
        )
    )


def _strings(key: str, values: object) -> None:
    if not isinstance(values, tuple | list) or not values or not all(isinstance(v, str) and v for v in values):
        raise ScenarioError(f"sweep {key} = {values!r}: must be a non-empty list of names")
    dupes = sorted({v for v in values if list(values).count(v) > 1})
    if dupes:
        raise ScenarioError(f"sweep {key} = {list(values)!r}: {dupes[0]!r} named twice")


def check_spec(spec: SweepSpec) -> SweepSpec:
    """Refuse a grid that cannot run, in one line naming the key."""
    if not isinstance(spec.name, str) or not spec.name or "/" in spec.name:
        raise ScenarioError(f"sweep name = {spec.name!r}: must be a non-empty name without '/'")
    _strings("scenarios", spec.scenarios)
    _strings("rankers", spec.rankers)
    if isinstance(spec.seeds, bool) or not isinstance(spec.seeds, int) or not 1 <= spec.seeds <= 1000:
        raise ScenarioError(f"sweep seeds = {spec.seeds!r}: must be a whole number in [1, 1000]")
    if spec.days is not None and (isinstance(spec.days, bool) or not isinstance(spec.days, int) or spec.days < 1):
        raise ScenarioError(f"sweep days = {spec.days!r}: must be a whole number >= 1")
    return spec


@dataclass(frozen=True)
class Cell:
    """One world of the sweep."""

    cfg: ScenarioConfig
    scenario_id: str
    scenario_hash: str
    ranker: str
    ranker_hash: str
    seed: int
    role: str  # "policy", "control" (the scenario's twin reference) or "random" (the score floor)

    def key(self, code: str) -> CellKey:
        """The cell's database key under ``code``."""
        return CellKey(self.scenario_hash, self.ranker, self.ranker_hash, self.seed, code)

    @property
    def rel_dir(self) -> str:
        """Where its files live under the sweep directory (names cannot collide: the hash is in the path)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.ranker)
        return f"cells/{self.scenario_id}/{safe}-{self.ranker_hash[:10]}/seed={self.seed}"


def plan_cells(spec: SweepSpec, store: Store) -> list[Cell]:
    """Every cell of the grid, scenario-major then seed; scenarios checked (every rule) before anything runs."""
    from basketgym.eval.orchestration.plan import plan_run

    cells = []
    for scenario in spec.scenarios:
        cfg = resolve_scenario(scenario, days=spec.days)
        names = list(dict.fromkeys([*spec.rankers, cfg.rankers.control, REFERENCE_RANKER]))
        plan_run(cfg, names, spec.seeds, 1, write=False)
        sid, content = store.scenario_id(cfg), scenario_hash(cfg)
        hashes = {n: ranker_hash(cfg, n) for n in names}
        for s in range(spec.seeds):
            for n in names:
                role = "policy" if n in spec.rankers else ("control" if n == cfg.rankers.control else "random")
                cells.append(Cell(cfg, sid, content, n, hashes[n], cfg.seed + s, role))
    return cells


def run_cell(cell: Cell, root: Path) -> tuple[dict[str, float], float]:
    """Simulate and evaluate one cell, write its Parquet files; its metrics and wall seconds."""
    t0 = time.perf_counter()
    cfg = cell.cfg
    result = World(cfg, cell.seed, scenario_ranker(cfg, cell.ranker), cell.ranker).run()
    outcomes, summary = evaluate_world(cfg, result)
    d = root / cell.rel_dir
    write_parquet_atomic(pa.Table.from_pandas(outcomes, preserve_index=False), d / "outcomes.parquet")
    write_parquet_atomic(pa.table(result.latency), d / "latency.parquet")
    lat = result.latency
    per_row = np.asarray(lat["seconds"], np.float64) / np.maximum(np.asarray(lat["batch"], np.float64), 1)
    p50, p99 = weighted_percentiles(per_row, np.asarray(lat["batch"], np.float64), (50, 99)) * 1e6
    metrics = {k: float(summary[k]) for k in summary if k in KEPT or k.startswith(("retention_", "ltv_"))}
    metrics.update({f"contribution_{h}d": float(summary[f"contribution_{h}d"]) for h in cfg.run.horizons})
    metrics.update(latency_p50_us=float(p50), latency_p99_us=float(p99))
    return metrics, time.perf_counter() - t0


@dataclass
class SweepResult:
    """What a sweep did."""

    directory: Path
    cells: int
    reused: int
    ran: list[Cell] = field(default_factory=list)
    seconds: float = 0.0


def sweep(
    spec: SweepSpec, out: str | Path, *, jobs: int = 1, progress: Callable[[str], None] | None = None
) -> SweepResult:
    """Run every unfinished cell of ``spec`` into ``out`` (created if absent); finished cells are kept as they are."""
    t0 = time.perf_counter()
    root = Path(out)
    store = Store(root / "leaderboard.sqlite")
    try:
        code = code_version()
        cells = plan_cells(spec, store)
        todo = [c for c in cells if not store.has(c.key(code))]
        result = SweepResult(root, len(cells), len(cells) - len(todo))

        def record(cell: Cell, metrics: dict[str, float], seconds: float) -> None:
            store.add(cell.key(code), cell.role, cell.rel_dir, metrics, seconds)
            result.ran.append(cell)
            if progress is not None:
                progress(f"[{result.reused + len(result.ran)}/{len(cells)}] {cell.scenario_id} {cell.ranker} "
                         f"seed {cell.seed}  {seconds:.1f}s")  # fmt: skip

        if jobs <= 1:
            for cell in todo:
                record(cell, *run_cell(cell, root))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                pending = {pool.submit(run_cell, c, root): c for c in todo}
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        record(pending.pop(fut), *fut.result())
        result.seconds = time.perf_counter() - t0
        return result
    finally:
        store.close()
