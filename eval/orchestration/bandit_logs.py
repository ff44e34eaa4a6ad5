"""Logged bandit feedback: a logging policy's slates, exact propensities and outcomes; targets' shadow slates.

``collect`` runs one world served by a stochastic logging policy (``rankers.exploration``). Every
request is also answered, in shadow, by the target policies under evaluation: they see the same
request on the same day with the same catalog, ingest the same logs, but are never shown — so
their slates are exactly what they would have done in each logged context (point in time). The
world's slate log is joined to the recorded requests on (visit, surface, query), which are unique.

The table (``bandit_log_table``) is the export of ``basketgym logs``; its schema is
``BANDIT_COLUMNS`` (docs/OFF_POLICY.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.files import check_writable
from basketgym.contract.logs import SOURCE_HOME, SOURCE_SEARCH
from basketgym.contract.protocol import SURFACE_HOME, Ranker, RankRequest, RankResponse, prefix_propensities
from basketgym.rankers import make_ranker
from basketgym.rankers.exploration import EpsilonGreedy, PlackettLuce
from basketgym.rankers.wrappers import RankerWrapper
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.world import World

BANDIT_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "visit: (day << 32) | shopper_id"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "surface": ("int8", "0 home feed, 1 search"),
    "query": ("int16", "search: the aisle the query names; home: -1"),
    "candidates": ("int32[C]", "the retrieval set the policy chose from, -1 padded"),
    "slate": ("int32[K]", "item shown at each position (the action), -1 past the slate's end"),
    "sponsored": ("bool[K]", "sponsored placement"),
    "propensity": ("float32[K]", "logging probability of this item at this position"),
    "prefix_propensity": ("float32[K]", "logging probability of exactly these items at positions 0..p"),
    "slate_propensity": ("float32", "logging probability of the whole slate"),
    "clicked": ("bool[K]", "clicked at this position"),
    "purchased": ("bool[K]", "bought from this position (kept through checkout)"),
    "carted": ("bool[K]", "chosen (added to the cart) from this position, before the budget trimmed the cart"),
    "revenue": ("float32", "GTV of the lines bought from this slate"),
    "margin": ("float32", "margin of the lines bought from this slate"),
    "ad_revenue": ("float32", "cost-per-click revenue of this slate"),
}


@dataclass
class _Calls:
    """Requests seen and answers given, batch by batch."""

    rows: list[dict[str, np.ndarray]] = field(default_factory=list)


class ShadowRecorder(RankerWrapper):
    """Serves ``logging``'s slates; records every request with its answer and the ``targets``' shadow answers.

    A wrapper of the logging policy; the targets are fed like it (reset, logs, refits) but never
    shown. It is both the world's ranker and its observer (``World(..., observer=recorder)``): the
    truth reaches it only because ``collect`` passes it as the observer.
    """

    def __init__(self, logging: Ranker, targets: dict[str, Ranker], name: str | None = None):
        super().__init__(logging, name)
        self.targets = dict(targets)
        self.calls = _Calls()
        self.outcomes = _Calls()  # counterfactual choices, recorded by the world's sessions
        self._pending: dict[str, np.ndarray] = {}

    def pending(self) -> dict[str, np.ndarray]:
        """The targets' slates for the request just answered (the session evaluates them in shadow)."""
        return self._pending

    def record(
        self,
        session_id: np.ndarray,
        surface: int,
        query: np.ndarray,
        shown: tuple[np.ndarray, ...],
        alt: dict[str, tuple[np.ndarray, ...]],
    ) -> None:
        """Clicks and choices (before the budget) of the shown slate and of each target's, same state and draws.

        Each slate also brings its click and purchase probabilities (expected rewards, before the shocks).
        """
        rec = {"session_id": session_id, "surface": np.full(len(session_id), surface, np.int8),
               "query": np.asarray(query, np.int16), "clicked": shown[0], "carted": shown[1],
               "p_click": shown[2], "p_purchase": shown[3]}  # fmt: skip
        for n, (clicked, carted, p_click, *_) in alt.items():
            rec[f"clicked:{n}"], rec[f"carted:{n}"], rec[f"p_click:{n}"] = clicked, carted, p_click
        self.outcomes.rows.append(rec)

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset the logging policy and every target."""
        super().reset(catalog, seed)
        for t in self.targets.values():
            t.reset(catalog, seed)

    def rank(self, request: RankRequest) -> RankResponse:
        """The logging policy's slates (served); the targets answer in shadow."""
        resp = self.ranker.rank(request)
        b = request.batch_size
        rec = {
            "day": np.full(b, request.day, np.int32),
            "surface": np.full(b, request.surface, np.int8),
            "shopper_id": np.asarray(request.shopper_ids, np.int64),
            "query": np.asarray(request.query, np.int16),
            "candidates": np.asarray(request.candidates, np.int32),
            "prefix_propensity": prefix_propensities(resp).astype(np.float32),
        }
        self._pending = {}
        for name, target in self.targets.items():
            shadow = target.rank(request)
            rec[f"target:{name}"] = shadow.slate.astype(np.int32)
            self._pending[name] = shadow.slate
        self.calls.rows.append(rec)
        return resp

    def update(self, day_log: dict) -> None:
        """Everyone ingests the day's logs (the targets learn from the logging policy's traffic)."""
        super().update(day_log)
        for t in self.targets.values():
            t.update(day_log)

    def fit(self, day: int) -> None:
        """Everyone refits on cadence."""
        super().fit(day)
        for t in self.targets.values():
            t.fit(day)


@dataclass
class BanditLog:
    """A logging run: the joined table (``BANDIT_COLUMNS``), each target's shadow slates, and the truth.

    ``carted`` (n, K): what the shopper chose from the shown slate, before the budget (observable:
    add-to-cart events; also ``table["carted"]``). ``target_carted[name]``
    (n, K): TRUTH — what the same shopper, in the same state and with the same random draws,
    would have chosen from the target's slate. Only ``eval/`` reads it, to grade estimators.
    """

    table: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]  # name -> (n, K) slates
    policy: str
    seed: int
    carted: np.ndarray
    target_carted: dict[str, np.ndarray]
    target_clicked: dict[str, np.ndarray]  # TRUTH: the target slate's clicks, same state and draws
    target_click_probability: dict[str, np.ndarray]  # TRUTH: their expected values given the state (analytic)
    click_probability: np.ndarray  # TRUTH: the shown slate's click probabilities given the state (analytic)
    purchase_probability: np.ndarray  # TRUTH: its P(carted) given the state (Gumbel-exact, examination by Monte Carlo)
    purchases: dict[str, np.ndarray] = field(default_factory=dict)  # the world's observable order lines
    sessions: dict[str, np.ndarray] = field(default_factory=dict)  # and visits


def _pad(arrays: list[np.ndarray], fill: int) -> np.ndarray:
    width = max((a.shape[1] for a in arrays), default=0)
    out = np.full((sum(len(a) for a in arrays), width), fill, arrays[0].dtype if arrays else np.int32)
    at = 0
    for a in arrays:
        out[at : at + len(a), : a.shape[1]] = a
        at += len(a)
    return out


def collect(cfg: ScenarioConfig, logging: Ranker, targets: dict[str, Ranker], seed: int, policy: str) -> BanditLog:
    """Run ``cfg`` for ``seed`` under ``logging`` with ``targets`` in shadow; join requests and outcomes."""
    recorder = ShadowRecorder(logging, targets, policy)
    result = World(cfg, seed, recorder, policy, keep_slates=True, observer=recorder).run()
    calls = recorder.calls.rows
    rec = {c: np.concatenate([r[c] for r in calls]) for c in ("day", "surface", "shopper_id", "query")}
    rec["session_id"] = (rec["day"].astype(np.int64) << 32) | rec["shopper_id"]
    cands = _pad([r["candidates"] for r in calls], -1)
    prefix = _pad([r["prefix_propensity"] for r in calls], 0)
    shadows = {name: _pad([r[f"target:{name}"] for r in calls], -1) for name in targets}
    keys = pd.DataFrame({"session_id": rec["session_id"], "surface": rec["surface"], "query": rec["query"]})
    keys["rec_row"] = np.arange(len(keys))
    s = result.slates
    logged = pd.DataFrame({"session_id": s["session_id"], "surface": s["surface"], "query": s["query"]})
    logged["log_row"] = np.arange(len(logged))
    joined = logged.merge(keys, on=["session_id", "surface", "query"], how="left", validate="one_to_one")
    if joined["rec_row"].isna().any():
        raise RuntimeError("bandit log: a logged slate has no recorded request (not one policy's world?)")
    rr = joined["rec_row"].to_numpy(np.int64)
    table = {c: np.asarray(s[c]) for c in ("session_id", "shopper_id", "day", "surface", "query")}
    table["candidates"] = cands[rr]
    for c in ("slate", "sponsored", "propensity", "clicked", "purchased"):
        table[c] = np.asarray(s[c])
    width = table["slate"].shape[1]
    table["prefix_propensity"] = _fit_width(prefix[rr], width, 0.0)
    table["slate_propensity"] = np.asarray(s["slate_propensity"], np.float32)
    revenue, margin = _slate_money(result.purchases, table)
    table["revenue"], table["margin"] = revenue, margin
    table["ad_revenue"] = np.asarray(s["ad_revenue"], np.float32)
    cf = recorder.outcomes.rows
    ckeys = pd.DataFrame({c: np.concatenate([r[c] for r in cf]) for c in ("session_id", "surface", "query")})
    ckeys["cf_row"] = np.arange(len(ckeys))
    cj = logged.merge(ckeys, on=["session_id", "surface", "query"], how="left", validate="one_to_one")
    cr = cj["cf_row"].to_numpy(np.int64)
    carted = _fit_width(_pad([r["carted"] for r in cf], False), width, False)[cr]

    def truth_of(col: str, fill: object = False) -> np.ndarray:
        return _fit_width(_pad([r[col] for r in cf], fill), width, fill)[cr]

    table["carted"] = carted
    return BanditLog(
        table, {n: _fit_width(v[rr], width, -1) for n, v in shadows.items()}, policy, seed, carted,
        {n: truth_of(f"carted:{n}") for n in targets}, {n: truth_of(f"clicked:{n}") for n in targets},
        {n: truth_of(f"p_click:{n}", 0.0) for n in targets}, truth_of("p_click", 0.0),
        truth_of("p_purchase", 0.0), result.purchases,
        result.sessions,
    )  # fmt: skip


def _fit_width(a: np.ndarray, width: int, fill: float) -> np.ndarray:
    if a.shape[1] == width:
        return a
    out = np.full((len(a), width), fill, a.dtype)
    k = min(width, a.shape[1])
    out[:, :k] = a[:, :k]
    return out


def _slate_money(purchases: dict[str, np.ndarray], table: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """GTV and margin of the lines bought from each slate: home lines by visit, search lines by visit and aisle."""
    p = pd.DataFrame({c: purchases[c] for c in ("session_id", "source", "aisle", "price", "margin")})
    p = p[p["source"].isin([SOURCE_HOME, SOURCE_SEARCH])]
    p = p.assign(surface=np.where(p["source"] == SOURCE_HOME, SURFACE_HOME, 1).astype(np.int8),
                 query=np.where(p["source"] == SOURCE_HOME, -1, p["aisle"]).astype(np.int16))  # fmt: skip
    money = p.groupby(["session_id", "surface", "query"], sort=False)[["price", "margin"]].sum()
    keys = pd.MultiIndex.from_arrays([table["session_id"], table["surface"], table["query"]])
    got = money.reindex(keys).fillna(0.0)
    return got["price"].to_numpy(np.float32), got["margin"].to_numpy(np.float32)


def bandit_log_arrow(log: BanditLog, version: str) -> Any:
    """The export of ``basketgym logs``: ``BANDIT_COLUMNS``, each target's shadow slate, the logging policy."""
    from basketgym.sim.eventlog import to_arrow

    columns = dict(BANDIT_COLUMNS)
    table = dict(log.table)
    for name, slates in log.targets.items():
        columns[f"target_{name}"] = ("int32[K]", f"the slate target '{name}' would have shown (shadow)")
        table[f"target_{name}"] = slates
    return to_arrow(table, columns, {"logging_policy": log.policy, "logging_version": version})


def truth_arrow(log: BanditLog) -> Any:
    """TRUTH, for grading estimators only: each target's clicks and choices on its own slate, same state and draws.

    Row-aligned with the log (and keyed by session_id, surface, query); ``basketgym logs`` writes it
    beside the log as ``<out>.truth.parquet``. Nothing a production system could observe.
    """
    from basketgym.sim.eventlog import to_arrow

    columns = {c: BANDIT_COLUMNS[c] for c in ("session_id", "surface", "query")}
    table = {c: log.table[c] for c in columns}
    for name in log.targets:
        columns[f"target_{name}_clicked"] = ("bool[K]", f"TRUTH: clicks on target '{name}''s slate")
        columns[f"target_{name}_carted"] = ("bool[K]", f"TRUTH: items chosen from target '{name}''s slate")
        columns[f"target_{name}_click_probability"] = ("float32[K]", "TRUTH: P(click) given the state, analytic")
        table[f"target_{name}_clicked"] = log.target_clicked[name]
        table[f"target_{name}_carted"] = log.target_carted[name]
        table[f"target_{name}_click_probability"] = log.target_click_probability[name].astype(np.float32)
    return to_arrow(table, columns)


def logging_policy(base: str, epsilon: float, temperature: float | None = None) -> tuple[Ranker, str]:
    """Epsilon-greedy over ``base``, or Plackett–Luce over its scores when ``temperature`` is given; and its name."""
    if temperature is not None:
        return PlackettLuce(make_ranker(base), temperature), f"{base}+pl{temperature:g}"
    return EpsilonGreedy(make_ranker(base), epsilon), f"{base}+eps{epsilon:g}"


def truth_path(out: str | Path) -> Path:
    """Where the truth of a log exported to ``out`` is written: beside it, as ``<out's stem>.truth.parquet``."""
    out = Path(out)
    return out.with_name(out.stem + ".truth.parquet")


def check_log_out(out: str | Path, truth: bool) -> None:
    """Refuse, before anything is simulated, an export path (with ``truth``: its truth's too) that cannot be written."""
    check_writable(out)
    if truth:
        check_writable(truth_path(out), "--out (its .truth.parquet)")


def write_log(log: BanditLog, out: str | Path, version: str) -> Path | None:
    """Export ``log`` to ``out`` (``bandit_log_arrow``) and, with targets, their truth beside it (``truth_arrow``).

    Both atomically; returns the truth's path, or None without targets.
    """
    from basketgym.sim.eventlog import write_parquet_atomic

    write_parquet_atomic(bandit_log_arrow(log, version), Path(out))
    if not log.targets:
        return None
    write_parquet_atomic(truth_arrow(log), truth_path(out))
    return truth_path(out)
