"""Uplift metrics: gain (uplift) and Qini curves, normalised AUUC and Qini coefficients, uplift@k, PEHE.

Every curve orders units by a model's score (highest first) and accumulates an effect over the
top fraction. Two sources of effect:

- **observed** randomised data (treatment ``w``, outcome ``y``, known assignment probability
  ``p``): the gain curve accumulates the unbiased per-unit estimate ``w y / p - (1 - w) y / (1 - p)``
  (inverse-propensity weighting); the Qini curve is the classic ``Y_T(k) - Y_C(k) N_T(k) / N_C(k)``
  (Radcliffe 2007);
- **true** individual effects ``tau`` (what only a simulator has): the gain curve accumulates them.

Coefficients are normalised so that a random order scores 0 and the oracle 1: (area under the
curve - area under the random line) / (oracle's area - the random line's), areas by the trapezoid
rule over k = 0..n. Against true effects the oracle orders by them (``qini_true``, ``auuc``); on
observed data by the best order of these data (``qini_coefficient``; ``auuc`` of the IPW
contributions). Tied scores form one block: a curve is evaluated at the ends of each block and is
a straight line inside it (scikit-uplift's convention; for a gain curve, the mean over every order
of the tied units), so no order among tied units is chosen and a constant scorer scores exactly 0.
docs/UPLIFT.md states every formula precisely enough to re-check the figures.
"""

from __future__ import annotations

import numpy as np


def _order(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices by descending score, and the curve points k (0..n) that end a block of tied scores."""
    score = np.asarray(score, np.float64)
    order = np.argsort(-score, kind="stable")
    ends = np.r_[0, np.flatnonzero(np.diff(score[order]) != 0) + 1, len(score)]
    return order, ends


def _untie(curve: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The curve at the ends of the tied blocks (there it does not depend on the order inside), linear in between."""
    return np.interp(np.arange(len(curve), dtype=np.float64), ends, curve[ends])


def ipw_contribution(w: np.ndarray, y: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Per-unit unbiased effect estimate ``w y / p - (1 - w) y / (1 - p)`` (its mean is the average effect)."""
    w, y, p = np.asarray(w, np.float64), np.asarray(y, np.float64), np.broadcast_to(np.asarray(p, np.float64), len(w))
    return w * y / p - (1 - w) * y / (1 - p)


def gain_curve(score: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """(n + 1,) cumulative effect over the top k units by score, k = 0..n (``effect``: true or IPW per unit)."""
    o, ends = _order(score)
    return _untie(np.r_[0.0, np.cumsum(np.asarray(effect, np.float64)[o])], ends)


def qini_curve(score: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n + 1,) Qini curve: treated outcomes minus control outcomes scaled to the treated count, top k by score."""
    o, ends = _order(score)
    w, y = np.asarray(w, bool)[o], np.asarray(y, np.float64)[o]
    n_t, n_c = np.r_[0, np.cumsum(w)], np.r_[0, np.cumsum(~w)]
    y_t, y_c = np.r_[0.0, np.cumsum(y * w)], np.r_[0.0, np.cumsum(y * ~w)]
    curve = np.where(n_c > 0, y_t - y_c * n_t / np.maximum(n_c, 1), y_t)
    return _untie(curve, ends)


def _normalised_area(curve: np.ndarray, oracle: np.ndarray) -> float:
    """(area - random line's area) / (oracle's area - random line's area); random and oracle share the end point."""
    n = len(curve) - 1
    line = np.linspace(0.0, curve[-1], n + 1)
    line_o = np.linspace(0.0, oracle[-1], n + 1)
    denom = _area(oracle - line_o)
    return float(_area(curve - line) / denom) if denom > 0 else float("nan")


def _area(c: np.ndarray) -> float:
    """Trapezoid area under points spaced 1 apart."""
    return float((c[:-1] + c[1:]).sum() / 2.0)


def auuc(score: np.ndarray, effect: np.ndarray) -> float:
    """Normalised area under the gain curve of per-unit ``effect`` (true effects or ``ipw_contribution``)."""
    return _normalised_area(gain_curve(score, effect), gain_curve(effect, effect))


def qini_coefficient(score: np.ndarray, w: np.ndarray, y: np.ndarray) -> float:
    """Normalised Qini coefficient of randomised data: the Qini curve against the best order of these data.

    The best order puts treated units by descending outcome first and control units by ascending
    outcome last (for binary outcomes: treated responders first, control responders last; the
    rest, scored 0, form one tied block).
    """
    y, w = np.asarray(y, np.float64), np.asarray(w, bool)
    return _normalised_area(qini_curve(score, w, y), qini_curve(np.where(w, y, -y), w, y))


def qini_true(score: np.ndarray, tau: np.ndarray) -> float:
    """The Qini coefficient against true effects: normalised area under the cumulative true effect (= ``auuc``).

    With every unit's effect known, the Qini curve *is* the cumulative effect of the top k; random 0, oracle 1.
    """
    return auuc(score, tau)


def uplift_at_k(score: np.ndarray, effect: np.ndarray, k: float = 0.1) -> float:
    """Mean per-unit ``effect`` among the top ``round(k n)`` units by score (a tied block enters pro rata)."""
    top = max(1, int(round(k * len(score))))
    return float(gain_curve(score, effect)[top] / top)


def pehe(tau_hat: np.ndarray, tau: np.ndarray) -> float:
    """Precision in estimating heterogeneous effects: root mean squared error of the estimated effects."""
    return float(np.sqrt(np.mean((np.asarray(tau_hat, np.float64) - np.asarray(tau, np.float64)) ** 2)))
