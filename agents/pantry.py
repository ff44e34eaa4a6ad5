"""Pantry: each used staple has a run-out day; a staple running out soon becomes a need."""

from __future__ import annotations

import numpy as np

from basketgym.agents.state import NO_STOCK


def needs(runout: np.ndarray, day: int, lookahead: int) -> np.ndarray:
    """(n, S) bool: staples that run out within ``lookahead`` days of ``day``."""
    return runout <= day + lookahead


def refill(runout: np.ndarray, day: int, cycle_days: np.ndarray) -> np.ndarray:
    """New run-out days after buying: stock lasts ``cycle_days`` from today or from the old run-out."""
    base = np.maximum(runout.astype(np.int64), day)
    out = base + np.maximum(np.rint(cycle_days), 1).astype(np.int64)
    return np.where(runout == NO_STOCK, NO_STOCK, np.minimum(out, NO_STOCK - 1)).astype(np.int16)


def days_until_needs(runout: np.ndarray, day: int | np.ndarray, lookahead: int, k: int) -> np.ndarray:
    """(n,) days until ``k`` used staples (not already overdue) have become needs.

    A household does not drive to the store for one yoghurt: the trip is pulled forward when
    several staples run low together.
    """
    big = np.iinfo(np.int32).max
    day = np.asarray(day, np.int64)  # one day, or each row's day
    future = np.where(
        (runout > (day[:, None] if day.ndim else day)) & (runout != NO_STOCK), runout.astype(np.int64), big
    )
    k = min(k, runout.shape[1])
    kth = np.partition(future, k - 1, axis=1)[:, k - 1]
    return np.where(kth == big, big, np.maximum(kth - lookahead - day, 0))
