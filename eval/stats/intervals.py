"""Intervals across seeds: the t-interval of per-seed means (the headline of every report) and the between-seed SD.

A run has S seeds (independent worlds) of n shoppers each. The quantity reported is the mean over
seeds of each seed's per-shopper mean. The S per-seed means are independent draws of the same
distribution (seed effect + the mean of that world's shopper noise), so the t-interval on them with
S - 1 degrees of freedom (``between_seeds``) is valid whatever the split between seed and shopper
variance (exact for normal per-seed means; each is a mean over hundreds of shoppers): how much the
figure would move in other worlds, with other shoppers, the interval to compare rankers by. With one
seed no between-seed interval exists: its bounds and SD are NaN, never a shopper-only interval in
disguise. How much a figure would move with other shoppers in the same worlds is the bootstrap over
shoppers (``stats.bootstrap.bootstrap_seed_means``). Values may be NaN (a horizon not observable for a
shopper): a seed's mean is over its observed values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval."""

    value: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2


def seed_means(per_seed: list[np.ndarray]) -> np.ndarray:
    """(S, M) per-seed column means over observed values (NaN where a seed observed none)."""
    out = []
    for v in per_seed:
        seen = ~np.isnan(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(seen, v, 0.0).sum(axis=0) / seen.sum(axis=0))
    return np.array(out)


def nan_mean(values: np.ndarray) -> np.ndarray:
    """Column means over finite values; NaN (without a warning) where a column has none."""
    seen = np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen, values, 0.0).sum(axis=0) / seen.sum(axis=0)


def t_half_width(sd: np.ndarray | float, n: np.ndarray | int) -> np.ndarray:
    """Half-width of the 95% t-interval of a mean of ``n`` independent values with sample SD ``sd`` (NaN if n < 2).

    The one formula behind every across-seeds interval the project prints (``between_seeds``, the
    run table's ``eval.outcomes.metrics.across_seeds``): ``t_{0.975, n-1} * sd / sqrt(n)``.
    """
    sd, n = np.broadcast_arrays(np.asarray(sd, np.float64), np.asarray(n, np.float64))
    out = np.full(sd.shape, np.nan)
    ok = n >= 2
    out[ok] = stats.t.ppf(0.5 + CONFIDENCE / 2, n[ok] - 1) * sd[ok] / np.sqrt(n[ok])
    return out


@dataclass(frozen=True)
class SeedIntervals:
    """Per column: the mean over seeds of per-seed means, its 95% t-interval across seeds, the between-seed SD."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sd: np.ndarray  # SD (ddof=1) of the per-seed means: the spread of worlds; NaN with fewer than two seeds
    n_seeds: np.ndarray  # seeds with an observed mean in that column


def between_seeds(per_seed: list[np.ndarray]) -> SeedIntervals:
    """The t-interval across seeds of per-seed column means, with S - 1 degrees of freedom.

    ``per_seed``: one (n_s, M) array of per-shopper values per seed (NaN: not observed). A column
    observed in fewer than two seeds has NaN bounds and SD: no between-seed interval exists.
    """
    means = seed_means(per_seed)  # (S, M)
    seen = np.isfinite(means)
    n = seen.sum(axis=0)
    mean = nan_mean(means)
    dev = np.where(seen, means - mean, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(n >= 2, np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1)), np.nan)
    half = t_half_width(sd, n)
    return SeedIntervals(mean, mean - half, mean + half, sd, n)


def t_interval(values: np.ndarray) -> Interval:
    """Mean and 95% t-interval of independent values (e.g. one per seed); NaN bounds with fewer than two."""
    v = np.asarray(values, np.float64)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return Interval(np.nan, np.nan, np.nan)
    mean = float(v.mean())
    if len(v) < 2:
        return Interval(mean, np.nan, np.nan)
    half = float(t_half_width(float(v.std(ddof=1)), len(v)))
    return Interval(mean, mean - half, mean + half)
