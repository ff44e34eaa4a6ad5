"""The leaderboard's numbers: per scenario, every policy's value, LTV, incrementality, retention, ads, latency.

Read from the sweep database (cells of the current code version only: stale cells are never mixed in) and
the cells' per-shopper outcome files. Per scenario (a versioned id):

- **value** at the short horizon (14 days, or the scenario's shortest) and **LTV** at the long horizon (the
  longest one the run observes; 180 days on the default scenario), **retention** at the long horizon, **ad
  revenue** per shopper: mean over seeds with the 95% t-interval across seeds (S - 1 df: the interval that
  covers, issue 11);
- **incrementality** over the scenario's control: per seed the mean per-shopper paired difference of LTV
  between twin worlds (same seed: same shoppers, same draws), then the t-interval across seeds of those
  paired means (the control row is the reference, exactly 0);
- **latency**: the median over seeds of each world's p50 / p99 microseconds per request row;
- **normalised LTV**: per seed, ``(LTV - random's mean) / (best-known mean - random's mean)`` where the
  best-known is the highest mean LTV on the board for that scenario (labelled so: it is not an oracle);
- **flags** where the short- and long-horizon rankings disagree.

Across scenarios (``aggregate``): the IQM of normalised LTV with its stratified-bootstrap interval, and the
probability of improvement of each policy over the next one down.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from basketgym.contract.errors import InputFileError
from basketgym.contract.files import reading
from basketgym.eval.leaderboard.aggregate import (
    normalised,
    probability_of_improvement,
    rank_disagreements,
    stratified_iqm,
)
from basketgym.eval.leaderboard.store import Store
from basketgym.eval.leaderboard.sweep import REFERENCE_RANKER
from basketgym.eval.orchestration.identity import code_version
from basketgym.eval.outcomes.incrementality import paired_differences
from basketgym.eval.stats.intervals import t_interval
from basketgym.sim.config import scenario_from_dict

SHORT_HORIZON = 14


@dataclass
class ScenarioBoard:
    """One scenario's table."""

    scenario_id: str
    control: str
    short: int  # days of the short horizon
    long: int  # days of the long horizon
    seeds: list[int]
    rows: list[dict] = field(default_factory=list)  # one per policy, best long-horizon LTV first
    disagreements: list[tuple[str, str, bool]] = field(default_factory=list)  # (ahead short, ahead long, significant)
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # policy -> normalised LTV per seed


@dataclass
class Board:
    """The whole leaderboard."""

    code_version: str
    scenarios: list[ScenarioBoard]
    overall: list[dict]  # one per policy: IQM of normalised LTV, interval, scenarios, P(improvement) over the next


def _interval(values: list[float]) -> dict[str, float]:
    i = t_interval(np.asarray(values, np.float64))
    return {"mean": i.value, "low": i.low, "high": i.high}


def _horizons(metrics: list[dict]) -> tuple[int, int]:
    """Short (14 d, or the shortest) and long (the longest observed in every world) horizons of a scenario."""
    days = sorted({int(k[4:-1]) for m in metrics for k in m if k.startswith("ltv_") and k.endswith("d")})
    seen = [h for h in days if all(np.isfinite(m.get(f"ltv_{h}d", np.nan)) for m in metrics)]
    if not seen:
        return days[0], days[0]
    return (SHORT_HORIZON if SHORT_HORIZON in seen else seen[0]), seen[-1]


def _outcomes(root: Path, path: str) -> pd.DataFrame:
    with reading(root / path / "outcomes.parquet", "cell outcomes") as p:
        return pd.read_parquet(p)


def scenario_board(root: Path, sid: str, cells: list[dict], control: str) -> ScenarioBoard:
    """The table of one scenario from its cells (every policy's seeds, the control's twins, random's floor)."""
    metrics = [c["metrics"] for c in cells]
    short, long = _horizons(metrics)
    by_ranker: dict[str, dict[int, dict]] = defaultdict(dict)
    for c in cells:
        by_ranker[c["ranker"]][c["seed"]] = c
    seeds = sorted(by_ranker.get(control, {}))
    board = ScenarioBoard(sid, control, short, long, seeds)
    ctrl = {s: _outcomes(root, by_ranker[control][s]["path"]) for s in seeds}
    col = f"ltv_{long}d"
    for ranker, per_seed in by_ranker.items():
        ss = sorted(per_seed)
        m = [per_seed[s]["metrics"] for s in ss]
        paired = [float(np.nanmean(paired_differences(_outcomes(root, per_seed[s]["path"]), ctrl[s], [col])))
                  for s in ss if s in ctrl]  # fmt: skip
        board.rows.append(
            {
                "ranker": ranker,
                "role": "control" if ranker == control else per_seed[ss[0]]["role"],
                "seeds": len(ss),
                "value_short": _interval([x[f"contribution_{short}d"] for x in m]),
                "ltv_long": _interval([x[col] for x in m]),
                "incremental_ltv": _interval(paired) if ranker != control else {"mean": 0.0, "low": 0.0, "high": 0.0},
                "retention_long": _interval([x[f"retention_{long}d"] for x in m]),
                "ad_revenue": _interval([x["ad_revenue_per_shopper"] for x in m]),
                "latency_p50_us": float(np.median([x["latency_p50_us"] for x in m])),
                "latency_p99_us": float(np.median([x["latency_p99_us"] for x in m])),
                "_ltv": np.array([x[col] for x in m]),
            }
        )
    floor = next((r["ltv_long"]["mean"] for r in board.rows if r["ranker"] == REFERENCE_RANKER), np.nan)
    best = max(r["ltv_long"]["mean"] for r in board.rows)
    for r in board.rows:
        score = normalised(r.pop("_ltv"), floor, best)
        board.scores[r["ranker"]] = score
        r["normalised_ltv"] = _interval(list(score))
    board.rows.sort(key=lambda r: -r["ltv_long"]["mean"])
    pairs = rank_disagreements(
        {r["ranker"]: r["value_short"]["mean"] for r in board.rows},
        {r["ranker"]: r["ltv_long"]["mean"] for r in board.rows},
    )
    board.disagreements = [(a, b, _significant(root, by_ranker[a], by_ranker[b], short, long)) for a, b in pairs]
    return board


def _significant(root: Path, a: dict[int, dict], b: dict[int, dict], short: int, long: int) -> bool:
    """Whether a's lead at the short horizon and b's at the long one both hold.

    Both t-intervals across seeds of the per-seed paired differences (twin worlds) must exclude 0; never with
    fewer than two seeds.
    """
    cols = [f"contribution_{short}d", f"ltv_{long}d"]
    per_seed = [np.nanmean(paired_differences(_outcomes(root, a[s]["path"]), _outcomes(root, b[s]["path"]), cols),
                           axis=0) for s in sorted(set(a) & set(b))]  # fmt: skip
    if len(per_seed) < 2:
        return False
    d = np.array(per_seed)
    gaps = [t_interval(d[:, 0]), t_interval(-d[:, 1])]  # both oriented as "the leader minus the other"
    return all(g.low > 0 for g in gaps)


def overall(boards: list[ScenarioBoard], n_boot: int = 2000) -> list[dict]:
    """Across scenarios: IQM of normalised LTV per policy (stratified bootstrap), P(improvement) over the next."""
    policies = sorted({r for b in boards for r in b.scores})
    rows = []
    for p in policies:
        scores = {b.scenario_id: b.scores[p] for b in boards if p in b.scores}
        point, lo, hi = stratified_iqm(scores, n_boot=n_boot, seed=0)
        rows.append({"ranker": p, "scenarios": len(scores), "iqm": point, "low": lo, "high": hi, "_s": scores})
    rows.sort(key=lambda r: -np.nan_to_num(r["iqm"], nan=-np.inf))
    for a, b in zip(rows, rows[1:], strict=False):
        pi, lo, hi = probability_of_improvement(a["_s"], b["_s"], n_boot=n_boot, seed=0)
        a["improvement_over_next"] = {"over": b["ranker"], "p": pi, "low": lo, "high": hi}
    for r in rows:
        r.pop("_s")
    return rows


def build_board(directory: str | Path, n_boot: int = 2000) -> Board:
    """The leaderboard of a sweep directory, from the cells of the installed code version."""
    root = Path(directory)
    db = root / "leaderboard.sqlite"
    if not db.is_file():
        raise InputFileError(f"{db}: no leaderboard database here (basketgym sweep writes it)")
    store = Store(db)
    try:
        code = code_version()
        cells = store.cells(code)
        grouped: dict[str, list[dict]] = defaultdict(list)
        for c in cells:
            grouped[c["scenario_id"]].append(c)
        boards = []
        for sid, group in sorted(grouped.items()):
            control = scenario_from_dict(tomllib.loads(store.scenario_toml(sid))).rankers.control
            boards.append(scenario_board(root, sid, group, control))
    finally:
        store.close()
    return Board(code, boards, overall(boards, n_boot))
