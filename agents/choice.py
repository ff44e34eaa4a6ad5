"""How a shopper reads a slate: position-biased examination, clicks and the purchase decision."""

from __future__ import annotations

import numpy as np


def examination_probability(k: int, position_bias: float) -> np.ndarray:
    """(k,) probability that positions 0..k-1 are examined: (1/(rank))**position_bias."""
    return (1.0 / np.arange(1, k + 1, dtype=np.float64)) ** position_bias


def item_utility(
    taste_dot: np.ndarray,
    quality: np.ndarray,
    log_rel_price: np.ndarray,
    price_sensitivity: np.ndarray,
    habit: np.ndarray,
    taste_weight: float,
    habit_weight: float,
) -> np.ndarray:
    """Deterministic utility of items: taste match + appeal - price + habit (all broadcastable)."""
    return taste_weight * taste_dot + quality - price_sensitivity * log_rel_price + habit_weight * habit


def decide(
    utility: np.ndarray,
    shock: np.ndarray,
    examined: np.ndarray,
    click_threshold: np.ndarray,
    buy_threshold: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Clicks and the single purchase of one intent over a slate.

    ``utility``, ``shock``, ``examined`` are (R, K); thresholds are (R,). An examined item is
    clicked when its noisy utility clears ``click_threshold``; the shopper buys the best clicked
    item if it also clears ``buy_threshold`` (the outside option: keep looking, or go without).
    Returns (clicked (R, K) bool, bought position (R,) int, -1 for none).
    """
    noisy = utility + shock
    clicked = examined & (noisy > click_threshold[:, None])
    best = np.where(clicked, noisy, -np.inf).argmax(axis=1)
    rows = np.arange(len(best))
    ok = clicked[rows, best] & (noisy[rows, best] > buy_threshold)
    return clicked, np.where(ok, best, -1)
