"""``basketgym regress``: a candidate ranker against a baseline in paired twin worlds, per scenario and seed.

Both rankers run in worlds of the same scenario and seed (common random numbers: the same shoppers meeting the
same luck), so the per-shopper differences are the candidate's causal effect in that world. The metrics
(``METRICS``) are tested with non-inferiority margins and Holm's correction across every scenario x metric
(``eval.regression.stats``); a regression beyond its margin fails the call. A stored baseline (a Parquet file
written with ``save_baseline``) replaces the baseline's worlds when its scenario content, ranker and code
hashes match; a mismatch is refused (its worlds would not be twins of the candidate's).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from basketgym.contract.errors import ScenarioError
from basketgym.contract.files import atomic_path, reading
from basketgym.eval.orchestration.identity import code_version, ranker_hash, scenario_hash
from basketgym.eval.orchestration.plan import plan_run
from basketgym.eval.orchestration.runner import scenario_ranker
from basketgym.eval.outcomes.metrics import evaluate_world
from basketgym.eval.regression.stats import Comparison, holm, one_sided
from basketgym.sim.config import ScenarioConfig, resolve_scenario
from basketgym.sim.world import World

#: metric -> what it is; the column is resolved per scenario (horizons)
METRICS = {
    "ltv": "discounted LTV per shopper at the scenario's longest observed horizon",
    "retention": "share of shoppers still active at that horizon",
    "value": "value (margin + ad revenue) per shopper at 14 days (or the shortest horizon)",
    "incrementality": "incremental LTV over the scenario's control; the margin is a share of the baseline's",
    "margin": "margin per shopper over the whole run",
    "gtv": "gross transaction value per shopper over the whole run",
    "ad_revenue": "ad revenue per shopper over the whole run",
}
DEFAULT_METRICS = ("ltv", "retention", "incrementality")
DEFAULT_MARGINS = {"ltv": "1%", "retention": "0.005", "value": "1%", "incrementality": "10%", "margin": "1%",
                   "gtv": "1%", "ad_revenue": "5%"}  # fmt: skip


@dataclass(frozen=True)
class RegressSpec:
    """What to compare, where, and how strictly."""

    candidate: str
    baseline: str  # a ranker name, or a stored baseline file (``save_baseline``)
    scenarios: tuple[str, ...] = ("default",)
    seeds: int = 3
    metrics: tuple[str, ...] = DEFAULT_METRICS
    margins: dict[str, str] = field(default_factory=dict)  # metric -> "2%" (of the baseline) or "0.01" (absolute)
    alpha: float = 0.05
    days: int | None = None


def check_regress(spec: RegressSpec) -> None:
    """Refuse a comparison that cannot run, in one line naming the argument."""
    bad = [m for m in spec.metrics if m not in METRICS]
    if bad or not spec.metrics:
        raise ScenarioError(f"metrics = {list(spec.metrics)!r}: each must be one of {', '.join(METRICS)}")
    for m, v in spec.margins.items():
        if m not in METRICS:
            raise ScenarioError(f"margin {m}={v}: {m!r} is not a metric; one of {', '.join(METRICS)}")
        _margin_value(m, v, 1.0)
    if not 0 < spec.alpha < 0.5:
        raise ScenarioError(f"alpha = {spec.alpha}: must be in (0, 0.5)")
    if isinstance(spec.seeds, bool) or not isinstance(spec.seeds, int) or not 2 <= spec.seeds <= 1000:
        raise ScenarioError(f"seeds = {spec.seeds!r}: must be a whole number in [2, 1000] (the test's df is seeds - 1)")


def _margin_value(metric: str, text: str, reference: float) -> float:
    """A margin in the metric's units: ``"2%"`` of ``|reference|`` or an absolute number; > 0."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 * abs(reference) if s.endswith("%") else float(s)
    except ValueError:
        raise ScenarioError(f"margin {metric}={text}: must be a number or a percentage like 2%") from None
    if not (math.isfinite(value) and value >= 0):
        raise ScenarioError(f"margin {metric}={text}: must be a finite number >= 0")
    return value


def horizons(cfg: ScenarioConfig) -> tuple[int, int]:
    """The short (14 days, or the shortest) and long (the longest within the run) horizons of a scenario."""
    seen = sorted(h for h in cfg.run.horizons if h <= cfg.days) or sorted(cfg.run.horizons)[:1]
    return (14 if 14 in seen else seen[0]), seen[-1]


def columns(cfg: ScenarioConfig) -> dict[str, str]:
    """Metric -> per-shopper outcome column for this scenario (incrementality reads the LTV column)."""
    short, long = horizons(cfg)
    return {"ltv": f"ltv_{long}d", "retention": f"retained_{long}d", "value": f"contribution_{short}d",
            "incrementality": f"ltv_{long}d", "margin": "margin", "gtv": "gtv", "ad_revenue": "ad_revenue"}  # fmt: skip


def world_outcomes(cfg: ScenarioConfig, ranker: str, seed: int) -> pd.DataFrame:
    """Per-shopper outcomes of one world, sorted by shopper (twins line up row by row)."""
    result = World(cfg, seed, scenario_ranker(cfg, ranker), ranker).run()
    outcomes, _ = evaluate_world(cfg, result)
    cols = ["shopper_id", *dict.fromkeys(columns(cfg).values())]
    return outcomes[cols].sort_values("shopper_id", kind="stable").reset_index(drop=True)


def _paired(a: pd.DataFrame, b: pd.DataFrame, col: str) -> float:
    if not np.array_equal(a["shopper_id"].to_numpy(), b["shopper_id"].to_numpy()):
        raise ScenarioError("the candidate's and the baseline's worlds hold different shoppers: they are not twins")
    return float(np.nanmean(a[col].to_numpy(np.float64) - b[col].to_numpy(np.float64)))


@dataclass
class RegressResult:
    """The verdict table and what it cost."""

    tests: list[Comparison]
    worlds: int
    seconds: float
    stored_baseline: bool
    alpha: float = 0.05

    @property
    def regressed(self) -> bool:
        """Whether any metric regressed significantly beyond its margin."""
        return any(t.verdict == "regression" for t in self.tests)


def _run_worlds(jobs: list[tuple[ScenarioConfig, str, int]], n_jobs: int) -> list[pd.DataFrame]:
    if n_jobs <= 1:
        return [world_outcomes(*j) for j in jobs]
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(world_outcomes, *zip(*jobs, strict=True)))


def regress(spec: RegressSpec, *, jobs: int = 1, progress: Callable[[str], None] | None = None) -> RegressResult:
    """Run the comparison and return every test with its verdict."""
    check_regress(spec)
    t0 = time.perf_counter()
    cfgs = [resolve_scenario(s, days=spec.days) for s in spec.scenarios]
    stored = load_baseline(spec.baseline, cfgs, spec.seeds) if Path(spec.baseline).suffix == ".parquet" else None
    base_name = stored.name if stored else spec.baseline
    for cfg in cfgs:  # before any world: unknown rankers, bad options, too little memory
        plan_run(cfg, list(dict.fromkeys([spec.candidate, base_name, cfg.rankers.control])), spec.seeds, jobs,
                 write=False)  # fmt: skip
    plan: list[tuple[ScenarioConfig, str, int]] = []
    for cfg in cfgs:
        roles = [spec.candidate] + ([] if stored else [base_name])
        if "incrementality" in spec.metrics and not stored:
            roles.append(cfg.rankers.control)
        plan += [(cfg, r, cfg.seed + s) for s in range(spec.seeds) for r in dict.fromkeys(roles)]
    if progress:
        progress(f"regress: {len(plan)} worlds ({len(cfgs)} scenario(s) x {spec.seeds} seeds)")
    outs = dict(zip([(scenario_hash(c), r, s) for c, r, s in plan], _run_worlds(plan, jobs), strict=True))
    tests = []
    for cfg in cfgs:
        h, cols = scenario_hash(cfg), columns(cfg)
        seeds = [cfg.seed + s for s in range(spec.seeds)]

        def base(role: str, seed: int, h: str = h) -> pd.DataFrame:
            return stored.frame(h, role, seed) if stored else outs[(h, base_name if role == "baseline" else role, seed)]

        ctrl = cfg.rankers.control
        for metric in spec.metrics:
            col = cols[metric]
            d = np.array([_paired(outs[(h, spec.candidate, s)], base("baseline", s), col) for s in seeds])
            ref = float(np.nanmean([np.nanmean(base("baseline", s)[col]) for s in seeds]))
            if metric == "incrementality":  # the baseline's own effect over the control sets the margin's scale
                ctrl_role = "control" if stored else ctrl
                ref = float(np.mean([_paired(base("baseline", s), base(ctrl_role, s), col) for s in seeds]))
            margin = _margin_value(metric, spec.margins.get(metric, DEFAULT_MARGINS[metric]), ref)
            tests.append(one_sided(cfg.name, metric, d, margin, spec.alpha, ref))
    return RegressResult(holm(tests, spec.alpha), len(plan), time.perf_counter() - t0, stored is not None, spec.alpha)


@dataclass
class StoredBaseline:
    """A baseline's per-shopper outcomes, saved to be compared against without re-running it."""

    name: str
    table: pd.DataFrame

    def frame(self, scenario_hash_: str, role: str, seed: int) -> pd.DataFrame:
        """The stored outcomes of one world (role 'baseline' or 'control')."""
        t = self.table
        rows = t[(t["scenario_hash"] == scenario_hash_) & (t["role"] == role) & (t["seed"] == seed)]
        return rows.drop(columns=["scenario_hash", "role", "seed"]).reset_index(drop=True)


def save_baseline(baseline: str, scenarios: list[str], seeds: int, path: str | Path, *, days: int | None = None,
                  jobs: int = 1) -> Path:  # fmt: skip
    """Run ``baseline`` (and each scenario's control) and store their per-shopper outcomes with their hashes."""
    cfgs = [resolve_scenario(s, days=days) for s in scenarios]
    plan = [
        (c, r, c.seed + s) for c in cfgs for s in range(seeds) for r in dict.fromkeys([baseline, c.rankers.control])
    ]
    frames = _run_worlds(plan, jobs)
    parts = []
    for (cfg, ranker, seed), f in zip(plan, frames, strict=True):
        for role in ("baseline",) * (ranker == baseline) + ("control",) * (ranker == cfg.rankers.control):
            parts.append(f.assign(scenario_hash=scenario_hash(cfg), role=role, seed=seed))
    table = pa.Table.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False)
    meta = {
        "baseline": baseline,
        "ranker_hashes": {scenario_hash(c): ranker_hash(c, baseline) for c in cfgs},
        "code_version": code_version(),
        "seeds": seeds,
        "scenarios": {scenario_hash(c): c.name for c in cfgs},
    }
    table = table.replace_schema_metadata({b"basketgym_baseline": json.dumps(meta).encode()})
    with atomic_path(Path(path)) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def load_baseline(path: str | Path, cfgs: list[ScenarioConfig], seeds: int) -> StoredBaseline:
    """A stored baseline, checked against the scenarios, seeds, its ranker and the installed code."""
    with reading(Path(path), "stored baseline") as p:
        table = pq.read_table(p)
        raw = (table.schema.metadata or {}).get(b"basketgym_baseline")
    if raw is None:
        raise ScenarioError(f"{path}: not a stored baseline (no basketgym_baseline metadata)")
    meta = json.loads(raw)
    if meta["code_version"] != code_version():
        raise ScenarioError(f"{path}: stored by code {meta['code_version']}, this is {code_version()}: its worlds "
                            "are not twins of today's; store the baseline again")  # fmt: skip
    if meta["seeds"] < seeds:
        raise ScenarioError(f"{path}: holds {meta['seeds']} seeds, {seeds} asked for")
    for cfg in cfgs:
        h = scenario_hash(cfg)
        if h not in meta["scenarios"]:
            raise ScenarioError(f"{path}: no worlds of scenario {cfg.name!r} with this content (hash {h[:12]})")
        if ranker_hash(cfg, meta["baseline"]) != meta["ranker_hashes"][h]:
            raise ScenarioError(f"{path}: ranker {meta['baseline']!r} changed since the baseline was stored")
    return StoredBaseline(meta["baseline"], table.to_pandas())


def verdict_rows(result: RegressResult) -> list[dict[str, str]]:
    """One printable row per test: scenario, metric, effect [interval], margin, p, verdict."""
    rows = []
    for t in result.tests:
        rel = f" ({t.effect / abs(t.baseline):+.1%})" if t.baseline and math.isfinite(t.effect) else ""
        ci = f"[{t.low:+.4g}, {t.high:+.4g}]" if math.isfinite(t.low) else "—"
        p = "—" if math.isnan(t.p) else f"{t.p:.3g}"
        rows.append({"scenario": t.scenario, "metric": t.metric, "effect": f"{t.effect:+.4g}{rel}", "interval": ci,
                     "margin": f"-{t.margin:.4g}", "p": p, "verdict": t.verdict})  # fmt: skip
    return rows


def failure_message(result: RegressResult, candidate: str, baseline: str) -> str:
    """What a failed regression says: one line per regressed metric with its effect, interval and margin."""
    lines = [f"basketgym regress: {candidate} regressed against {baseline} (Holm-corrected, twin worlds)"]
    for r, t in zip(verdict_rows(result), result.tests, strict=True):
        if t.verdict == "regression":
            level = f"{100 * (1 - 2 * result.alpha):.0f}%"
            lines.append(f"  {r['scenario']} {r['metric']}: effect {r['effect']} per shopper, {level} interval "
                         f"{r['interval']}, margin {r['margin']}, p = {r['p']}")  # fmt: skip
    return "\n".join(lines)
