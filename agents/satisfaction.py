"""Satisfaction and churn: how well sessions serve a shopper drives the hazard of leaving."""

from __future__ import annotations

import numpy as np

from basketgym.agents.params import ChurnConfig


def session_score(
    relevance: np.ndarray, needs_met: np.ndarray, irrelevant_ads: np.ndarray, cfg: ChurnConfig
) -> np.ndarray:
    """Score in [0, 1] of one session from what the shopper experienced.

    ``relevance``: share of examined items worth a click; ``needs_met``: share of pantry needs
    bought; ``irrelevant_ads``: share of examined placements that were sponsored and not clicked.
    """
    raw = (
        0.35 + 0.9 * relevance - cfg.unmet_need_penalty * (1.0 - needs_met) - cfg.irrelevant_ad_penalty * irrelevant_ads
    )
    return np.clip(raw, 0.0, 1.0)


def updated_satisfaction(satisfaction: np.ndarray, score: np.ndarray, cfg: ChurnConfig) -> np.ndarray:
    """Exponential moving average of session scores."""
    return (1.0 - cfg.memory) * satisfaction + cfg.memory * score


def churn_hazard(satisfaction: np.ndarray, cfg: ChurnConfig) -> np.ndarray:
    """Probability of churning after a session, log-linear in the satisfaction shortfall."""
    return np.minimum(1.0, cfg.base_hazard * np.exp(cfg.sensitivity * (cfg.reference_satisfaction - satisfaction)))


def interval_factor(satisfaction: np.ndarray, cfg: ChurnConfig) -> np.ndarray:
    """Multiplier on the habitual trip interval: unhappy shoppers come back less often."""
    return np.exp(cfg.engagement * (cfg.reference_satisfaction - satisfaction))
