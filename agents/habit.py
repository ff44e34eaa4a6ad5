"""Habit stocks: purchases raise a shopper's habit for an item, time decays it (applied lazily)."""

from __future__ import annotations

import numpy as np


def decayed(stock: np.ndarray, last_day: np.ndarray, day: int | np.ndarray, decay_days: float) -> np.ndarray:
    """Habit stock as of ``day`` given the stock at ``last_day`` (exponential decay)."""
    age = np.maximum(np.asarray(day) - last_day, 0).astype(np.float32)
    return stock * np.exp(-age / np.float32(decay_days))


def reinforced(stock_now: np.ndarray, gain: float) -> np.ndarray:
    """Stock after one more purchase: close ``gain`` of the gap to a full habit (1.0)."""
    return stock_now + np.float32(gain) * (1.0 - stock_now)
