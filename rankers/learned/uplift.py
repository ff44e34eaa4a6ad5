"""Uplift learners with LightGBM base models: S-, T-, X- and DR-learners for binary and continuous outcomes.

Each learner estimates the conditional average treatment effect tau(x) = E[y | x, w=1] - E[y | x, w=0]
from randomised (or logged, with known propensities) exposure data:

- **S**: one outcome model of (x, w); tau(x) = mu(x, 1) - mu(x, 0).
- **T**: one outcome model per arm; tau(x) = mu1(x) - mu0(x).
- **X** (Kuenzel et al. 2019): imputed effects ``y1 - mu0(x)`` on treated and ``mu1(x) - y0`` on
  controls, one effect model each, blended by the propensity: e(x) tau0(x) + (1 - e(x)) tau1(x).
- **DR** (Kennedy 2020): the doubly robust pseudo-outcome
  ``mu1 - mu0 + w (y - mu1) / e - (1 - w) (y - mu0) / (1 - e)`` regressed on x.

X and DR fit their nuisance models with K-fold cross-fitting (each unit's nuisances come from
models that never saw it); propensities (known, or estimated by a classifier) are clipped to
``[clip, 1 - clip]``. Binary outcomes get classifiers as outcome models (probabilities), effect
models are regressions. Deterministic for a seed (LightGBM ``deterministic``, one thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np

LEARNERS = ("s", "t", "x", "dr")


@dataclass
class UpliftConfig:
    """Base-model and cross-fitting settings."""

    rounds: int = 150
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    folds: int = 2
    clip: float = 0.02
    seed: int = 0
    extra: dict = field(default_factory=dict)


def _params(cfg: UpliftConfig, objective: str, seed: int) -> dict:
    return {
        "objective": objective, "learning_rate": cfg.learning_rate, "num_leaves": cfg.num_leaves,
        "min_data_in_leaf": cfg.min_data_in_leaf, "seed": seed, "deterministic": True, "force_row_wise": True,
        "num_threads": 1, "verbosity": -1, **cfg.extra,
    }  # fmt: skip


class _Model:
    """One LightGBM model: a classifier (predicts probabilities) or a regressor."""

    def __init__(self, x: np.ndarray, y: np.ndarray, binary: bool, cfg: UpliftConfig, seed: int):
        self.const = None
        if binary and np.unique(y).size < 2:  # one class only: predict it
            self.const = float(y[0]) if len(y) else 0.0
            return
        obj = "binary" if binary else "regression"
        self.booster = lgb.train(_params(cfg, obj, seed), lgb.Dataset(x, y), num_boost_round=cfg.rounds)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.const is not None:
            return np.full(len(x), self.const)
        return self.booster.predict(x, num_threads=1)


def _folds(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n) % k


class UpliftLearner:
    """A fitted S-, T-, X- or DR-learner: ``predict(x)`` is the estimated effect per row."""

    def __init__(self, kind: str = "dr", cfg: UpliftConfig | None = None):
        if kind not in LEARNERS:
            raise ValueError(f"learner = {kind!r}: must be one of {', '.join(LEARNERS)}")
        self.kind, self.cfg = kind, cfg or UpliftConfig()
        self._models: list = []

    def fit(self, x: np.ndarray, w: np.ndarray, y: np.ndarray, p: np.ndarray | float | None = None) -> UpliftLearner:
        """Fit on features ``x`` (n, F), treatment ``w`` (0/1), outcome ``y``; ``p``: known P(w = 1), or None."""
        x, w, y = np.asarray(x, np.float64), np.asarray(w, bool), np.asarray(y, np.float64)
        binary = bool(np.isin(y, (0.0, 1.0)).all())
        c, s = self.cfg, self.cfg.seed
        if self.kind == "s":
            self._models = [_Model(np.column_stack([x, w]), y, binary, c, s)]
        elif self.kind == "t":
            self._models = [_Model(x[~w], y[~w], binary, c, s), _Model(x[w], y[w], binary, c, s + 1)]
        else:
            e = self._propensity(x, w, p)
            mu0, mu1 = self._cross_fitted_outcomes(x, w, y, binary)
            if self.kind == "x":
                t1 = _Model(x[w], (y - mu0)[w], False, c, s + 2)
                t0 = _Model(x[~w], (mu1 - y)[~w], False, c, s + 3)
                self._models = [t0, t1]
                self._e = None if p is None else float(np.mean(np.broadcast_to(p, len(w))))
                if p is None:
                    self._models.append(_Model(x, w.astype(float), True, c, s + 4))
            else:
                phi = mu1 - mu0 + w * (y - mu1) / e - (~w) * (y - mu0) / (1 - e)
                self._models = [_Model(x, phi, False, c, s + 2)]
        return self

    def _propensity(self, x: np.ndarray, w: np.ndarray, p: np.ndarray | float | None) -> np.ndarray:
        """Known propensities, or cross-fitted estimates; clipped."""
        if p is not None:
            e = np.broadcast_to(np.asarray(p, np.float64), len(w)).copy()
        else:
            e = np.empty(len(w))
            fold = _folds(len(w), self.cfg.folds, self.cfg.seed + 7)
            for f in range(self.cfg.folds):
                m = _Model(x[fold != f], w[fold != f].astype(float), True, self.cfg, self.cfg.seed + 10 + f)
                e[fold == f] = m(x[fold == f])
        return np.clip(e, self.cfg.clip, 1 - self.cfg.clip)

    def _cross_fitted_outcomes(self, x: np.ndarray, w: np.ndarray, y: np.ndarray,
                               binary: bool) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """mu0(x), mu1(x) for every unit from models fitted on the other folds."""
        mu0, mu1 = np.empty(len(y)), np.empty(len(y))
        fold = _folds(len(y), self.cfg.folds, self.cfg.seed + 5)
        for f in range(self.cfg.folds):
            tr, te = fold != f, fold == f
            s = self.cfg.seed + 20 + 2 * f
            mu0[te] = _Model(x[tr & ~w], y[tr & ~w], binary, self.cfg, s)(x[te])
            mu1[te] = _Model(x[tr & w], y[tr & w], binary, self.cfg, s + 1)(x[te])
        return mu0, mu1

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Estimated effect tau(x) per row."""
        x = np.asarray(x, np.float64)
        if self.kind == "s":
            m = self._models[0]
            return m(np.column_stack([x, np.ones(len(x))])) - m(np.column_stack([x, np.zeros(len(x))]))
        if self.kind == "t":
            return self._models[1](x) - self._models[0](x)
        if self.kind == "x":
            t0, t1 = self._models[0](x), self._models[1](x)
            g = np.full(len(x), self._e) if self._e is not None else self._models[2](x)
            return g * t0 + (1 - g) * t1
        return self._models[0](x)
