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
    threshold: np.ndarray,
    click_margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Clicks and the single purchase of one intent over a slate.

    ``utility``, ``shock``, ``examined`` are (R, K); ``threshold`` (R,) is the outside option. An
    examined item is clicked when its noisy utility comes within ``click_margin`` of the outside
    option; the shopper buys the best clicked item if it beats the outside option. Returns
    (clicked (R, K) bool, bought position (R,) int, -1 for none).
    """
    noisy = utility + shock
    clicked = examined & (noisy > (threshold - click_margin)[:, None])
    best = np.where(clicked, noisy, -np.inf).argmax(axis=1)
    best_val = np.take_along_axis(noisy, best[:, None], axis=1)[:, 0]
    ok = clicked[np.arange(len(best)), best] & (best_val > threshold)
    return clicked, np.where(ok, best, -1)
