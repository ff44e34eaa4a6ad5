"""Causal-value ranking: order the home feed by what showing each item changes, learned from its own exposure tests.

``causal_value`` serves buy_again's slates until it has a model. On a share ``explore`` of home
feeds it runs a randomised exposure test (``rankers.treatment.expose``: a random candidate shown
in the top slot or withheld, P(shown) = ``share``) and labels each test from the day's logs with
the margin earned from the focal item in that visit (any surface) and, once its 30-day window has
passed, whether the shopper came back. On every refit it fits an uplift learner
(``rankers.learned.uplift``, X by default) on its most recent ``max_rows`` tests and scores each
home-feed candidate by its value function

    tau_margin(x)  +  retention_value x tau_retained_30d(x)

the predicted incremental margin of showing the item, plus (``retention_value`` > 0) the
predicted change in 30-day retention priced in margin (LTV-aware ranking; its learner is fitted
once enough tests have a matured window). ``relevance_weight`` in [0, 1] blends the within-row
rank of that value with the rank of buy_again's order; ``relevant_slots`` = m is a relevance
constraint: buy_again's top m items keep the first m positions (in its order), the rest of the feed
goes by value. Search results stay buy_again's (the tests
measure home-feed exposure).

``propensity_value`` is the same machine with ``objective = "propensity"``: it scores the
expected margin of the item *if shown*, E[margin | shown, x], ignoring what the shopper would
have bought anyway — the purchase-propensity ranker the causal one is compared with.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_HOME, RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.rankers.base import ScoringRanker
from basketgym.rankers.baselines import BuyAgainRanker
from basketgym.rankers.learned.dataset import CHURN_DAYS, FEATURE_NAMES, SERVING_POSITION, serving_features
from basketgym.rankers.learned.uplift import LEARNERS, UpliftConfig, UpliftLearner, _Model
from basketgym.rankers.objective import rank_normalised
from basketgym.rankers.treatment import expose

_NEG_INF = np.float32(-np.inf)
OBJECTIVES = ("uplift", "propensity")


class CausalValueRanker(BuyAgainRanker):
    """Home feed by predicted incremental value, learned from its own exposure tests; see the module docstring."""

    name = "causal_value"

    candidate_row_only = False

    def __init__(self, objective: str = "uplift", learner: str = "x", explore: float = 0.1, share: float = 0.5,
                 relevance_weight: float = 0.0, relevant_slots: int = 0, retention_value: float = 0.0,
                 max_rows: int = 100_000, min_rows: int = 2_000, rounds: int = 100, **kwargs: float):  # fmt: skip
        super().__init__(**kwargs)
        if objective not in OBJECTIVES:
            raise RankerError(f"{self.name}: objective = {objective!r}: must be one of {', '.join(OBJECTIVES)}")
        if learner not in LEARNERS:
            raise RankerError(f"{self.name}: learner = {learner!r}: must be one of {', '.join(LEARNERS)}")
        for key, v, lo, hi in (("explore", explore, 0, 1), ("share", share, 0, 1), ("relevance_weight",
                               relevance_weight, 0, 1)):  # fmt: skip
            if not lo <= float(v) <= hi or (key == "share" and not 0 < float(v) < 1):
                raise RankerError(f"{self.name}: {key} = {v!r}: must be in [{lo}, {hi}]")
        self.objective, self.learner = objective, learner
        self.explore, self.share = float(explore), float(share)
        self.relevance_weight, self.retention_value = float(relevance_weight), float(retention_value)
        self.max_rows, self.min_rows, self.rounds = int(max_rows), int(min_rows), int(rounds)
        if int(relevant_slots) < 0:
            raise RankerError(f"{self.name}: relevant_slots = {relevant_slots!r}: must be >= 0")
        self.relevant_slots = int(relevant_slots)

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a world: no model, no tests."""
        super().reset(catalog, seed)
        self.margin_model = self.retention_model = None
        self._pending: list[dict[str, np.ndarray]] = []
        self._tests: list[pd.DataFrame] = []
        self._visits: list[np.ndarray] = []

    @property
    def has_model(self) -> bool:
        """True once a value model has been fitted."""
        return self.margin_model is not None

    def _plain(self, request: RankRequest) -> RankResponse:
        if request.surface != SURFACE_HOME or not self.has_model:
            return BuyAgainRanker.rank(self, request)
        return ScoringRanker.rank(self, request)

    def rank(self, request: RankRequest) -> RankResponse:
        """Home feeds by value (buy_again's before a model), exposure tests on a share of them; search: buy_again."""
        resp = self._plain(request)
        if request.surface != SURFACE_HOME or self.explore == 0 or request.batch_size == 0:
            return resp
        ids = np.asarray(request.shopper_ids, np.int64)
        u = rng.uniform(self.seed, Purpose.EXPOSURE_TEST, ids, request.day, 3)
        cands = request.candidates
        ok = (cands >= 0) & self.catalog.available[np.maximum(cands, 0)]
        rows = np.flatnonzero((u[:, 0] < self.explore) & ok.any(axis=1))
        if len(rows) == 0:
            return resp
        treated = u[rows, 2] < self.share
        resp, record = expose(request, resp, rows, u[rows, 1], treated, self.share, ok, self._plain, self.features)
        self._pending.append(record)
        return resp

    def score(self, request: RankRequest) -> np.ndarray:
        """Home: the value function of each candidate (blended with buy_again's rank); search: buy_again's score."""
        relevance = super().score(request)
        if request.surface != SURFACE_HOME or not self.has_model:
            return relevance
        cands = request.candidates
        b, c = cands.shape
        x = serving_features(self.features, request, cands, np.full((b, c), SERVING_POSITION)).reshape(b * c, -1)
        value = self._value(x).reshape(b, c)
        ok = self.placeable(request)
        if self.relevance_weight > 0:
            w = self.relevance_weight
            value = (1 - w) * rank_normalised(value, ok) + w * rank_normalised(relevance, ok)
        if self.relevant_slots:  # the constraint: buy_again's top m items keep the first m positions, in its order
            rel = rank_normalised(relevance, ok)
            m = np.minimum(self.relevant_slots, ok.sum(axis=1))[:, None]
            kept = ok & (rel >= 1.0 - (m - 1) / np.maximum(ok.sum(axis=1, keepdims=True) - 1, 1) - 1e-6) & (m > 0)
            value = np.where(kept, np.abs(value).max(initial=0.0) + 2.0 + rel, value)
        return np.where(ok, value, _NEG_INF).astype(np.float32)

    def _value(self, x: np.ndarray) -> np.ndarray:
        v = self.margin_model(x) if self.objective == "propensity" else self.margin_model.predict(x)
        if self.retention_value and self.retention_model is not None:
            v = v + self.retention_value * self.retention_model.predict(x)
        return v

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Ingest the day; label the day's tests with the focal item's margin in that visit."""
        super().update(day_log)
        ses = day_log["sessions"]
        self._visits.append(np.column_stack([np.asarray(ses["shopper_id"], np.int64), np.asarray(ses["day"])]))
        if not self._pending:
            return
        t = {c: np.concatenate([r[c] for r in self._pending]) for c in ("session_id", "item_id", "treated", "p")}
        feats = np.concatenate([r["features"] for r in self._pending])
        self._pending = []
        pur = day_log["purchases"]
        lines = pd.DataFrame({"session_id": pur["session_id"], "item_id": pur["item_id"], "margin": pur["margin"]})
        money = lines.groupby(["session_id", "item_id"])["margin"].sum()
        key = pd.MultiIndex.from_arrays([t["session_id"], t["item_id"]])
        df = pd.DataFrame(feats, columns=list(FEATURE_NAMES))
        df["session_id"], df["treated"], df["p"] = t["session_id"], t["treated"], t["p"]
        df["margin"] = money.reindex(key).fillna(0.0).to_numpy(np.float64)
        self._tests.append(df)

    def fit(self, day: int) -> None:
        """Refit the value model(s) on the most recent ``max_rows`` tests."""
        if not self._tests:
            return
        data = pd.concat(self._tests, ignore_index=True).iloc[-self.max_rows :]
        self._tests = [data]
        if len(data) < self.min_rows:
            return
        x = data[list(FEATURE_NAMES)].to_numpy(np.float64)
        w, p, y = data["treated"].to_numpy(bool), data["p"].to_numpy(), data["margin"].to_numpy()
        cfg = UpliftConfig(rounds=self.rounds, seed=self.fit_seed(day))
        if self.objective == "propensity":
            self.margin_model = _Model(x[w], y[w], False, cfg, cfg.seed)
        else:
            self.margin_model = UpliftLearner(self.learner, cfg).fit(x, w, y, p)
        if self.retention_value:
            self._fit_retention(data, x, w, p, day, cfg)

    def _fit_retention(self, data: pd.DataFrame, x: np.ndarray, w: np.ndarray, p: np.ndarray, day: int,
                       cfg: UpliftConfig) -> None:  # fmt: skip
        """The 30-day retention learner, on tests whose window has passed (a visit within 30 days after)."""
        from basketgym.rankers.learned.dataset import absent_after

        v = np.concatenate(self._visits)
        absent = absent_after(data["session_id"].to_numpy(), {"shopper_id": v[:, 0], "day": v[:, 1]}, day + 1)
        known = ~np.isnan(absent)
        if known.sum() >= self.min_rows and (day - CHURN_DAYS) > 0:
            self.retention_model = UpliftLearner(self.learner, cfg).fit(x[known], w[known], 1.0 - absent[known],
                                                                        p[known])  # fmt: skip


class PropensityValueRanker(CausalValueRanker):
    """The purchase-propensity counterpart: expected margin of an item if shown (``objective = "propensity"``)."""

    name = "propensity_value"

    def __init__(self, **kwargs: float):
        kwargs.setdefault("objective", "propensity")
        super().__init__(**kwargs)
