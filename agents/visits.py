"""Trip rhythm: a habitual interval (some households keep a weekly routine), pulled forward when the pantry runs low."""

from __future__ import annotations

import numpy as np

PULL_PROBABILITY = 0.15  # share of trips a pending run of needs brings forward
AWAY_PROBABILITY = 0.15  # share of gaps with a spell of shopping elsewhere (travel, a store trip)
AWAY_MEAN_DAYS = 18.0


def next_gap(
    interval: np.ndarray,
    weekly: np.ndarray,
    u: np.ndarray,
    days_to_need: np.ndarray,
    u_pull: np.ndarray,
    u_away: np.ndarray,
) -> np.ndarray:
    """Days until the next trip (>= 1).

    The habitual gap is ``interval`` times a log-logistic noise (median 1, from uniform ``u``);
    households with a ``weekly`` routine round it to whole weeks. A household about to run out
    of several staples comes back sooner on a share of trips (``u_pull``). On a few gaps the
    household shops elsewhere for a while (``u_away``: one uniform picks the gap, the next its
    length), which gives the long right tail of days between orders seen in real data.
    """
    habitual = interval * np.exp(0.18 * np.log(u / (1.0 - u)))
    habitual = np.where(weekly, 7.0 * np.maximum(1.0, np.rint(habitual / 7.0)), habitual)
    pulled = np.where(u_pull < PULL_PROBABILITY, days_to_need, np.iinfo(np.int32).max).astype(np.float64)
    gap = np.minimum(habitual, pulled)
    away = np.where(u_away < AWAY_PROBABILITY, -np.log(u_away / AWAY_PROBABILITY) * AWAY_MEAN_DAYS, 0.0)
    return np.maximum(1, np.rint(gap + away)).astype(np.int32)
