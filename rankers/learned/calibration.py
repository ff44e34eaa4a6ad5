"""Post-hoc calibration maps for task heads: temperature scaling and isotonic regression, saved with a model.

Fitted on a held-out fold (labels or probabilities) and applied at serving time; ``eval.reliability``
grades them. Both serialise to plain JSON (``to_json`` / ``from_json``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

EPS = 1e-7


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(p, np.float64), EPS, 1 - EPS)


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p, y = _clip(p), np.asarray(y, np.float64)
    return float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).mean())


@dataclass(frozen=True)
class Temperature:
    """Temperature scaling: sigmoid(logit(p) / T), T fitted by maximum likelihood on a held-out fold."""

    t: float

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray) -> Temperature:
        """The T minimising log loss of ``y`` (labels or probabilities) under the rescaled ``p``."""
        z = np.log(_clip(p)) - np.log1p(-_clip(p))

        def loss(log_t: float) -> float:
            return _log_loss(1 / (1 + np.exp(-z / np.exp(log_t))), y)

        res = optimize.minimize_scalar(loss, bounds=(-4.0, 4.0), method="bounded")
        return cls(float(np.exp(res.x)))

    def to_json(self) -> dict:
        """A JSON-ready description."""
        return {"kind": "temperature", "t": self.t}

    def __call__(self, p: np.ndarray) -> np.ndarray:
        """Recalibrated probabilities."""
        z = np.log(_clip(p)) - np.log1p(-_clip(p))
        return 1 / (1 + np.exp(-z / self.t))


@dataclass(frozen=True)
class Isotonic:
    """Isotonic regression (pool-adjacent-violators): a non-decreasing step map from prediction to outcome."""

    x: np.ndarray  # block upper edges (predictions), increasing
    y: np.ndarray  # block means (outcomes), non-decreasing

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray) -> Isotonic:
        """Fit on predictions ``p`` and outcomes ``y`` (labels or probabilities)."""
        order = np.argsort(np.asarray(p, np.float64), kind="stable")
        xs, ys = np.asarray(p, np.float64)[order], np.asarray(y, np.float64)[order]
        # pool adjacent violators over blocks (value, weight, right edge)
        val, wt, edge = [], [], []
        for xi, yi in zip(xs.tolist(), ys.tolist(), strict=True):
            val.append(yi)
            wt.append(1.0)
            edge.append(xi)
            while len(val) > 1 and val[-2] > val[-1]:
                w = wt[-2] + wt[-1]
                v = (val[-2] * wt[-2] + val[-1] * wt[-1]) / w
                e = edge[-1]
                val[-2:], wt[-2:], edge[-2:] = [v], [w], [e]
        return cls(np.array(edge), np.array(val))

    def to_json(self) -> dict:
        """A JSON-ready description."""
        return {"kind": "isotonic", "x": self.x.tolist(), "y": self.y.tolist()}

    def __call__(self, p: np.ndarray) -> np.ndarray:
        """Recalibrated probabilities: the value of the block each prediction falls in (clipped at the ends)."""
        idx = np.minimum(np.searchsorted(self.x, np.asarray(p, np.float64), side="left"), len(self.x) - 1)
        return np.clip(self.y[idx], EPS, 1 - EPS)


def calibrator_from_json(d: dict) -> Temperature | Isotonic:
    """The map a ``to_json`` dict describes."""
    if d["kind"] == "temperature":
        return Temperature(float(d["t"]))
    return Isotonic(np.asarray(d["x"], np.float64), np.asarray(d["y"], np.float64))
