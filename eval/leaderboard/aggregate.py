"""Scores across scenarios: normalised scores, IQM with a stratified bootstrap, probability of improvement.

The vocabulary is rliable's (Agarwal et al., "Deep RL at the edge of the statistical precipice", 2021):

- a policy's **normalised score** in a scenario is ``(x - random) / (reference - random)``: the ``random``
  ranker is 0 and the reference is 1. The reference is the best-known policy's mean in that scenario (the
  highest mean of any policy on the board, labelled "best-known", not a true oracle: a simulator's oracle would
  need the hidden tastes, which no ranker may read);
- the **IQM** (interquartile mean: the mean of the middle 50% of the pooled per-seed scores across scenarios)
  is robust to one scenario's outlier and less noisy than the median;
- its interval comes from a **stratified bootstrap**: seeds are resampled within each scenario (strata) and the
  IQM recomputed. rliable's percentile interval covers only ~81% for a nominal 95% with 3 scenarios x 3 seeds
  (measured: tests/eval/leaderboard/test_aggregate.py), for the reason issue 11 found for seed intervals: a
  few resampled seeds under-represent the spread of worlds. So the printed interval is ``point +- t * se``:
  ``se`` the bootstrap SD inflated by ``sqrt(S / (S - 1))`` (a bootstrap over S values underestimates the
  variance by (S - 1) / S) and ``t`` the 97.5% quantile with ``sum(S_k - 1)`` degrees of freedom (the
  pooled within-scenario df), which covers 0.92-0.98 in the same simulations;
- **probability of improvement** P(X > Y) of policy X over Y: within each scenario the Mann-Whitney
  probability over seed pairs (ties count 1/2), averaged over scenarios, with the same interval (clipped to
  [0, 1]).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
from scipy import stats

from basketgym.eval.stats.bootstrap import resample_counts

CONFIDENCE = 0.95


def normalised(x: np.ndarray | float, low: float, high: float) -> np.ndarray:
    """``(x - low) / (high - low)``; NaN when the reference does not beat the floor (nothing to normalise by)."""
    x = np.asarray(x, np.float64)
    if not np.isfinite(high - low) or high <= low:
        return np.full(x.shape, np.nan)
    return (x - low) / (high - low)


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of the values between the 25th and 75th percentiles (scipy's trim_mean 0.25).

    With n values, ``floor(0.25 n)`` are cut from each end (so 1-3 values keep all of them), as
    ``scipy.stats.trim_mean`` does; NaN values are dropped first.
    """
    v = np.sort(np.asarray(values, np.float64).ravel())
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    cut = int(0.25 * v.size)
    return float(v[cut : v.size - cut].mean())


def _stratified(groups: list[np.ndarray], n_boot: int, seed: int) -> Iterator[list[np.ndarray]]:
    """``n_boot`` stratified replicates: each group's values redrawn with replacement, group sizes kept.

    The draws come from the project's one bootstrap engine (``eval.stats.bootstrap.resample_counts``), one
    stream per group in order, so a replicate is reproducible bit for bit.
    """
    rng = np.random.default_rng(seed)
    counts = [next(resample_counts(len(g), n_boot, rng, n_boot))[1].astype(np.int64) if len(g) else None
              for g in groups]  # fmt: skip
    for b in range(n_boot):
        yield [np.repeat(g, c[b]) if c is not None else g for g, c in zip(groups, counts, strict=True)]


def _t_interval(point: float, reps: np.ndarray, sizes: list[int]) -> tuple[float, float, float]:
    """``point +- t_{df} * se``: se the replicates' SD inflated for small strata, df the pooled within-stratum df."""
    sizes_ = np.array([s for s in sizes if s > 1], np.float64)
    reps = reps[np.isfinite(reps)]
    if not np.isfinite(point) or sizes_.size == 0 or reps.size < 2:
        return point, float("nan"), float("nan")
    se = float(reps.std(ddof=1)) * float(np.sqrt(np.mean(sizes_ / (sizes_ - 1))))
    if se <= 1e-12 * max(
        1.0, abs(point)
    ):  # every resample agrees (complete separation in every scenario): no interval can be claimed
        return point, float("nan"), float("nan")
    half = float(stats.t.ppf((1 + CONFIDENCE) / 2, (sizes_ - 1).sum())) * se
    return point, point - half, point + half


def stratified_iqm(scores: Mapping[str, np.ndarray], n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """IQM of all per-seed scores pooled over scenarios, and its stratified-bootstrap t-interval (module docstring)."""
    groups = [np.asarray(v, np.float64)[np.isfinite(v)] for v in scores.values()]
    point = iqm(np.concatenate(groups)) if groups else float("nan")
    reps = np.array([iqm(np.concatenate(r)) for r in _stratified(groups, n_boot, seed)])
    return _t_interval(point, reps, [len(g) for g in groups])


def _p_improve(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y) / 2 over all pairs of one X value and one Y value."""
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    d = x[:, None] - y[None, :]
    return float(((d > 0) + 0.5 * (d == 0)).mean())


def probability_of_improvement(
    x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray], n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """P(X > Y) averaged over the scenarios both have, with a stratified-bootstrap percentile interval."""
    common = [s for s in x if s in y]
    xs = [np.asarray(x[s], np.float64) for s in common]
    ys = [np.asarray(y[s], np.float64) for s in common]
    if not common:
        return float("nan"), float("nan"), float("nan")
    point = float(np.mean([_p_improve(a, b) for a, b in zip(xs, ys, strict=True)]))
    k = len(xs)
    reps = np.array([np.mean([_p_improve(a, b) for a, b in zip(r[:k], r[k:], strict=True)])
                     for r in _stratified([*xs, *ys], n_boot, seed)])  # fmt: skip
    point, lo, hi = _t_interval(point, reps, [min(len(a), len(b)) for a, b in zip(xs, ys, strict=True)])
    return point, (max(lo, 0.0) if np.isfinite(lo) else lo), (min(hi, 1.0) if np.isfinite(hi) else hi)


def rank_disagreements(short: Mapping[str, float], long: Mapping[str, float]) -> list[tuple[str, str]]:
    """Pairs (a, b) where a is ahead of b at the short horizon and behind at the long one."""
    names = [n for n in short if n in long and np.isfinite(short[n]) and np.isfinite(long[n])]
    return [(a, b) for a in names for b in names if short[a] > short[b] and long[a] < long[b]]
