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


def choice_probability(
    utility: np.ndarray,
    exam_p: np.ndarray,
    group: np.ndarray,
    threshold: np.ndarray,
    u_exam: np.ndarray,
) -> np.ndarray:
    """P(chosen) of each placement (R, K) under Gumbel shocks, averaged over examination patterns.

    A placement is chosen when it is examined (probability ``exam_p`` (R, K), independent across
    positions), its noisy utility clears ``threshold`` (R, K; the same within a group) and it is
    the best noisy utility among the examined placements of its ``group`` (R, K; -1: competes with
    nobody) — ``decide`` for a search slate (one group), the intent rule for a home feed. With
    Gumbel shocks, P(i is the best of a set S and clears T) = softmax_i(S) x P(max_S > T), where
    max_S is Gumbel at logsumexp(S); the patterns of the *other* placements are averaged over the
    uniforms ``u_exam`` (S, R, K) (Monte Carlo; exact for placements with no competitors).
    """
    util = np.where(np.isfinite(utility), utility, -np.inf).astype(np.float64)
    top = np.max(np.where(np.isfinite(util), util, -1e300), axis=1, keepdims=True)
    top = np.where(top > -1e299, top, 0.0)  # rows with nothing placed
    e = np.exp(util - top)  # (R, K), 0 for empty slots
    rivals = (group[:, :, None] == group[:, None, :]) & (group[:, :, None] >= 0)
    rivals &= ~np.eye(group.shape[1], dtype=bool)[None]  # (R, K, K): other placements of the same group
    seen = (u_exam < exam_p[None]) * e[None]  # (S, R, K) exp-utility of examined placements
    denom = e[None] + np.einsum("srj,rij->sri", seen, rivals.astype(np.float64))  # exp(logsumexp) of {i} + rivals
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        clears = -np.expm1(-np.exp(np.minimum(np.log(denom) + top[None] - threshold[None], 50.0)))
        p = np.where(e[None] > 0, e[None] / denom * clears, 0.0).mean(axis=0)
    return exam_p * p
