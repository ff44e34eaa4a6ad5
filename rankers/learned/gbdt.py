"""LightGBM baselines: a lambdarank learning-to-rank model and per-task classifiers and regressors, with SHAP.

The same training table and task definitions as the networks (``rankers.learned.mtl``): click on
all shown items, purchase given a click, margin given a purchase, churn where the 30-day window is
observable. Single-threaded and seeded (``deterministic=True``), so a model is a function of its
data and seed. ``contributions`` returns per-prediction SHAP values (LightGBM's TreeSHAP).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from basketgym.rankers.learned.dataset import FEATURE_NAMES

MIN_ROWS = 50  # a task model needs at least this many labelled rows


def _params(objective: str, seed: int, **extra: object) -> dict:
    return {
        "objective": objective, "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 50,
        "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "seed": seed,
        "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbosity": -1, **extra,
    }  # fmt: skip


@dataclass
class TaskModels:
    """Per-task boosters (``click``, ``purchase`` given click, ``margin`` given purchase, ``churn_30d``)."""

    boosters: dict[str, lgb.Booster]

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """The same keys as ``TrainedMTL.predict``; a task without a booster (no labelled rows) predicts 0."""

        def head(task: str) -> np.ndarray:
            b = self.boosters.get(task)
            return b.predict(features, num_threads=1) if b is not None else np.zeros(len(features))

        click, given = head("click"), head("purchase")
        return {
            "click": click,
            "purchase_given_click": given,
            "purchase": click * given,
            "margin_given_purchase": head("margin"),
            "churn_30d": head("churn_30d"),
        }


def train_tasks(df: pd.DataFrame, rows: np.ndarray, seed: int = 0, rounds: int = 200) -> TaskModels:
    """Fit the four task models on ``rows`` of a training table (each on its task's sample space)."""
    x = df[list(FEATURE_NAMES)].to_numpy(np.float64)[rows]
    sub = df.iloc[rows]
    spaces = {
        "click": (np.ones(len(rows), bool), "click", "binary"),
        "purchase": (sub["click"].to_numpy() > 0, "purchase", "binary"),
        "margin": (sub["purchase"].to_numpy() > 0, "margin", "regression"),
        "churn_30d": (sub["churn_30d"].notna().to_numpy(), "churn_30d", "binary"),
    }
    boosters = {}
    for task, (mask, label, objective) in spaces.items():
        y = sub[label].to_numpy(np.float64)[mask]
        if mask.sum() < MIN_ROWS or (objective == "binary" and np.unique(y).size < 2):
            continue  # nothing to learn (e.g. churn in a run shorter than its 30-day window): predicts 0
        data = lgb.Dataset(x[mask], sub[label].to_numpy(np.float64)[mask], feature_name=list(FEATURE_NAMES))
        boosters[task] = lgb.train(_params(objective, seed), data, num_boost_round=rounds)
    return TaskModels(boosters)


def train_lambdarank(df: pd.DataFrame, rows: np.ndarray, seed: int = 0, rounds: int = 200) -> lgb.Booster:
    """A lambdarank model over slates: graded relevance 2 bought, 1 clicked, 0 shown (rows grouped by slate)."""
    sub = df.iloc[rows].sort_values(["slate_row", "position"], kind="stable")
    relevance = (sub["click"].to_numpy() > 0).astype(int) + (sub["purchase"].to_numpy() > 0).astype(int)
    groups = sub.groupby("slate_row", sort=False).size().to_numpy()
    data = lgb.Dataset(sub[list(FEATURE_NAMES)].to_numpy(np.float64), relevance, group=groups,
                       feature_name=list(FEATURE_NAMES))  # fmt: skip
    return lgb.train(_params("lambdarank", seed, lambdarank_truncation_level=10), data, num_boost_round=rounds)


def contributions(booster: lgb.Booster, features: np.ndarray) -> np.ndarray:
    """(n, F + 1) SHAP values per feature, last column the expected value; each row sums to the raw score."""
    return booster.predict(features, pred_contrib=True)
