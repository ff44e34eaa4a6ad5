"""A value-based ranker: the expected value of each item from calibrated task heads, retrained on the refit cadence.

Score of a candidate (features at serving time, position set to 0 to take out position bias):

    P(purchase) x margin given purchase  -  churn_weight x P(churn within 30 days)

with calibrated heads (``rankers.learned.model``). ``value_mtl`` learns from its own logs: it
serves buy_again's order until it has ``min_rows`` labelled impressions, logs the features of every
item it shows, labels them from the next day's logs (click, purchase, margin earned; the 30-day
absence once its window has passed) and, on every ``fit`` (the scenario's refit cadence), trains a
model of kind ``model`` on its most recent ``max_rows`` rows. Busy days are sampled by visit down
to ~``rows_per_day`` rows, so the window spans weeks and churn labels mature inside it. ``path`` starts it from a model
saved by ``basketgym train`` instead (then it does not retrain unless ``retrain`` is set).

Cost: a forward pass over every candidate of every request (see ``benchmarks/bench_learned.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.rankers.base import ScoringRanker
from basketgym.rankers.baselines import BuyAgainRanker
from basketgym.rankers.learned.dataset import SERVING_POSITION, absent_after, label_shown, serving_features, shown_rows
from basketgym.rankers.learned.model import KINDS, FitConfig, TaskModel, fit

_NEG_INF = np.float32(-np.inf)


class ValueRanker(BuyAgainRanker):
    """Ranks by expected value from calibrated task heads; see the module docstring."""

    name = "value_mtl"

    candidate_row_only = False  # answers depend on the shopper and the model: always the general path

    def __init__(self, model: str = "mmoe", path: str | None = None, churn_weight: float = 0.0,
                 retrain: bool | None = None, max_rows: int = 400_000, min_rows: int = 5_000, epochs: int = 6,
                 rows_per_day: int = 10_000, calibration: str = "temperature", **kwargs: float):  # fmt: skip
        super().__init__(**kwargs)
        if model not in KINDS:
            raise RankerError(f"value_mtl: model = {model!r}: must be one of {', '.join(KINDS)}")
        self.kind, self.path, self.churn_weight = model, path, float(churn_weight)
        self.retrain = path is None if retrain is None else bool(retrain)
        self.max_rows, self.min_rows, self.rows_per_day = int(max_rows), int(min_rows), int(rows_per_day)
        self.epochs, self.calibration = int(epochs), calibration
        self.loaded = TaskModel.load(path) if path is not None else None
        self.model = self.loaded
        if path is not None:
            self.name = str(path)
            self.kind = self.loaded.kind

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a world: the loaded model (or none), no data."""
        super().reset(catalog, seed)
        self.model = self.loaded
        self._pending: list[dict[str, np.ndarray]] = []
        self._rows: list[pd.DataFrame] = []
        self._visits: list[np.ndarray] = []  # (shopper, day) of every visit, for the churn label

    def rank(self, request: RankRequest) -> RankResponse:
        """Top-K by value (buy_again's slates before there is a model); shown items are logged when retraining."""
        resp = ScoringRanker.rank(self, request) if self.model is not None else super().rank(request)
        if self.retrain:
            self._pending.append(shown_rows(self.features, request, resp))
        return resp

    def score(self, request: RankRequest) -> np.ndarray:
        """Expected value from the model; buy_again's score before there is one."""
        if self.model is None:
            return super().score(request)
        cands = request.candidates
        b, c = cands.shape
        feats = serving_features(self.features, request, cands, np.full((b, c), SERVING_POSITION))
        value = self.model.value(feats.reshape(b * c, -1), self.churn_weight).reshape(b, c)
        return np.where(self.placeable(request), value, _NEG_INF).astype(np.float32)

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Ingest the day (feature store) and label the rows served that day."""
        super().update(day_log)
        if not self.retrain:
            return
        ses = day_log["sessions"]
        self._visits.append(np.column_stack([np.asarray(ses["shopper_id"], np.int64), np.asarray(ses["day"])]))
        if self._pending:
            df = label_shown(self._pending, day_log["slates"], day_log["purchases"], bought="purchased")
            self._rows.append(self._sample_visits(df))
            self._pending = []

    def _sample_visits(self, df: pd.DataFrame) -> pd.DataFrame:
        """At most ~``rows_per_day`` rows: a seeded share of the day's visits (whole visits), when there are more."""
        if len(df) <= self.rows_per_day:
            return df
        sid = df["session_id"].to_numpy()
        u = rng.uniform(self.seed, Purpose.RANKER, sid & 0xFFFFFFFF, sid >> 32, 1)[:, 0]
        return df[u < self.rows_per_day / len(df)].reset_index(drop=True)

    def fit(self, day: int) -> None:
        """Retrain on the most recent ``max_rows`` labelled rows (churn labelled where its window has passed)."""
        if not self.retrain or not self._rows:
            return
        data = pd.concat(self._rows, ignore_index=True).iloc[-self.max_rows :]
        self._rows = [data]
        if len(data) < self.min_rows:
            return
        v = np.concatenate(self._visits)
        data = data.assign(churn_30d=absent_after(data["session_id"].to_numpy(), {"shopper_id": v[:, 0],
                                                  "day": v[:, 1]}, day + 1))  # fmt: skip
        cfg = FitConfig(kind=self.kind, seed=self.fit_seed(day), epochs=self.epochs, calibration=self.calibration)
        self.model = fit(data, cfg)
