"""Input checks at the boundary of the statistics: arrays, propensities, levels and resample counts.

Each ``check_*`` returns the checked value (arrays as float64) or raises a ``ValueError`` that names
the argument, what it was and what is allowed, so that a wrong input fails where it enters
(Open Bandit Pipeline's validators are the model) instead of as a NaN three functions later.
"""

from __future__ import annotations

import numpy as np


def check_array(x: np.ndarray, name: str, ndim: int, n: int | None = None) -> np.ndarray:
    """``x`` as a finite float64 array of ``ndim`` dimensions (and ``n`` rows, when given)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} rows, expected {n}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has non-finite values")
    return a


def check_units(y: np.ndarray, name: str) -> np.ndarray:
    """One value per randomised unit: a finite 1-dimensional array of at least two units (a variance exists)."""
    a = check_array(y, name, 1)
    if a.size < 2:
        raise ValueError(f"{name} needs at least two units, got {a.size}")
    return a


def check_propensities(pscore: np.ndarray, name: str, n: int | None = None, what: str = "action") -> np.ndarray:
    """Logging probabilities of the logged actions: every one positive (a logged action had probability > 0)."""
    p = check_array(pscore, name, 1, n)
    if (p <= 0).any():
        raise ValueError(f"{name} must be positive: a logged {what} had probability > 0 under the logging policy")
    return p


def check_probabilities(prob: np.ndarray, name: str, ndim: int = 1, n: int | None = None) -> np.ndarray:
    """A policy's probabilities of the logged events: finite and non-negative."""
    t = check_array(prob, name, ndim, n)
    if (t < 0).any():
        raise ValueError(f"{name} must be non-negative")
    return t


def check_alpha(alpha: float) -> float:
    """A significance level: two-sided intervals at ``1 - alpha``, in (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return alpha


def check_n_boot(n_boot: int) -> int:
    """A number of bootstrap resamples: 0 (no interval) or more."""
    if n_boot < 0:
        raise ValueError(f"n_boot must be non-negative, got {n_boot}")
    return n_boot


def check_positive(value: float, name: str) -> float:
    """A strictly positive parameter (a clipping threshold, a mixing scale)."""
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value
