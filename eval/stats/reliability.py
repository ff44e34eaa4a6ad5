"""Probability quality: ECE (equal-width and equal-mass bins), Brier, log loss, AUC and reliability curves.

Every score takes predicted probabilities and either sampled labels (what a production team has)
or the simulator's true probabilities (what only a simulator has: ``*_vs_truth`` grade a model
against the probability it should have predicted, without label noise). The recalibration maps these
scores judge (temperature scaling, isotonic regression) are the rankers' own, applied at serving time:
``rankers.learned.calibration``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from basketgym.rankers.learned.calibration import EPS


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(p, np.float64), EPS, 1 - EPS)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of labels (0/1, or true probabilities: cross-entropy) under ``p``."""
    p, y = _clip(p), np.asarray(y, np.float64)
    return float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).mean())


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of ``p`` against labels or true probabilities."""
    return float(((np.asarray(p, np.float64) - np.asarray(y, np.float64)) ** 2).mean())


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties counted half); NaN with one class only."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(np.asarray(p, np.float64))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _bins(p: np.ndarray, n_bins: int, equal_mass: bool) -> np.ndarray:
    """Bin index of each prediction: equal-width bins on [0, 1], or quantile (equal-mass) bins."""
    p = np.asarray(p, np.float64)
    if equal_mass:
        order = np.argsort(p, kind="stable")
        out = np.empty(len(p), np.int64)
        out[order] = np.arange(len(p)) * n_bins // max(len(p), 1)
        return out
    return np.minimum((p * n_bins).astype(np.int64), n_bins - 1)


@dataclass(frozen=True)
class Reliability:
    """A reliability curve: per bin, mean prediction, mean outcome and count."""

    predicted: np.ndarray
    observed: np.ndarray
    count: np.ndarray


def reliability(p: np.ndarray, y: np.ndarray, n_bins: int = 15, equal_mass: bool = True) -> Reliability:
    """Mean prediction and mean outcome (labels or true probabilities) per bin, empty bins dropped."""
    p, y = np.asarray(p, np.float64), np.asarray(y, np.float64)
    b = _bins(p, n_bins, equal_mass)
    count = np.bincount(b, minlength=n_bins)
    keep = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pred = np.bincount(b, p, minlength=n_bins) / count
        obs = np.bincount(b, y, minlength=n_bins) / count
    return Reliability(pred[keep], obs[keep], count[keep])


def ece(p: np.ndarray, y: np.ndarray, n_bins: int = 15, equal_mass: bool = True) -> float:
    """Expected calibration error: the count-weighted mean |mean prediction - mean outcome| over bins."""
    r = reliability(p, y, n_bins, equal_mass)
    if r.count.sum() == 0:
        return float("nan")
    return float((r.count * np.abs(r.predicted - r.observed)).sum() / r.count.sum())


def scores(p: np.ndarray, y: np.ndarray, truth: np.ndarray | None = None, n_bins: int = 15) -> dict[str, float]:
    """AUC, log loss, Brier and both ECEs against labels; with ``truth`` also against the true probabilities."""
    out = {
        "auc": auc(p, y),
        "log_loss": log_loss(p, y),
        "brier": brier(p, y),
        "ece_equal_mass": ece(p, y, n_bins, True),
        "ece_equal_width": ece(p, y, n_bins, False),
    }
    if truth is not None:
        out.update(
            ece_vs_truth=ece(p, truth, n_bins, True),
            mae_vs_truth=float(np.abs(np.asarray(p, np.float64) - np.asarray(truth, np.float64)).mean()),
            brier_vs_truth=brier(p, truth),
        )
    return out
