"""The one bootstrap: percentile intervals from seeded multinomial resamples of rows, clusters, or shoppers and seeds.

Every interval the project prints that is not a t-interval comes from here, in one of three forms:

- ``bootstrap_sums``: statistics that are functions of column sums (means, self-normalised ratios), all
  computed on the same resamples of rows or of clusters (``clusters``: one id per row; a cluster's rows
  are drawn together). Off-policy estimators use it (a shopper's slates are one cluster).
- ``bootstrap_statistic``: any statistic of the resampled units, recomputed on every resample (the
  uplift metrics: curves and orderings are not functions of sums).
- ``bootstrap_seed_means``: the mean over seeds of per-seed means, resampling shoppers within each seed
  (and, ``over_seeds``, the seeds too): the reports' interval over shoppers.

One engine draws the resamples (``resample_counts``): ``numpy.random.Generator.integers(0, n, (b, n))``
per block of ``b`` resamples, each row of draws becoming a row of counts, so the figures are
reproducible bit for bit (the block size only bounds memory: the draws do not depend on it). A
percentile interval at level ``1 - alpha`` takes the ``50 alpha`` and ``100 - 50 alpha`` percentiles
(``percentile_bounds``); where a statistic is undefined in some resample (NaN) the interval is NaN,
unless ``skip_nan`` asks for the percentiles of the defined resamples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from basketgym.eval.stats.checks import check_alpha, check_n_boot
from basketgym.eval.stats.intervals import CONFIDENCE, Interval, nan_mean, seed_means

CELLS = 2_000_000  # count-matrix cells drawn at a time by default (bounds memory for long logs)
SEED_BLOCK = 250  # replicates drawn at a time by ``bootstrap_seed_means`` (its shoppers x replicates matrices)
SEEDS_STREAM = 0xB007  # ``bootstrap_seed_means`` draws from default_rng([seed, SEEDS_STREAM, over_seeds])

SumStatistic = Callable[[Mapping[str, np.ndarray]], np.ndarray]  # column sums (B[, K]) by name -> (B,) estimates


def resample_counts(n: int, n_boot: int, rng: np.random.Generator, block: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first, counts)`` blocks: ``counts`` (b, n) holds, per resample, how often each of ``n`` units was drawn."""
    for lo in range(0, n_boot, block):
        b = min(block, n_boot - lo)
        draws = rng.integers(0, n, (b, n)) + (np.arange(b) * n)[:, None]  # n draws with replacement per resample
        yield lo, np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def percentile_bounds(reps: np.ndarray, alpha: float, *, skip_nan: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``reps`` (B,) or (B, M): the ``50 alpha`` and ``100 - 50 alpha`` percentiles.

    A column with a non-finite replicate has NaN bounds (the statistic is undefined in some resample);
    with ``skip_nan``, the percentiles of its defined replicates instead. No replicates: NaN bounds.
    """
    reps = np.asarray(reps, np.float64)
    shape = reps.shape[1:]
    low, high = np.full(shape, np.nan), np.full(shape, np.nan)
    if reps.shape[0] == 0:
        return low, high
    points = [50 * alpha, 100 - 50 * alpha]
    if skip_nan:
        return tuple(np.asarray(b) for b in np.nanpercentile(reps, points, axis=0))
    ok = np.isfinite(reps).all(axis=0)
    if ok.any():
        low[ok], high[ok] = np.percentile(reps[:, ok] if shape else reps, points, axis=0)
    return low, high


def cluster_sums(columns: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """(G, M) per-cluster column sums (the units a cluster bootstrap resamples); ``columns`` itself without clusters."""
    if clusters is None:
        return columns
    ids = np.asarray(clusters)
    if ids.shape != (columns.shape[0],):
        raise ValueError(f"clusters has shape {ids.shape}, expected ({columns.shape[0]},)")
    _, inv = np.unique(ids, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inv[order]) != 0])
    return np.add.reduceat(columns[order], starts, axis=0)


def resampled_sums(columns: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, M) column sums of ``columns`` (n, M) over ``n_boot`` resamples of its n rows with replacement."""
    n, m = columns.shape
    out = np.empty((n_boot, m))
    for lo, counts in resample_counts(n, n_boot, rng, max(1, min(n_boot, CELLS // max(n, 1)))):
        out[lo : lo + len(counts)] = counts @ columns
    return out


def bootstrap_sums(
    columns: Mapping[str, np.ndarray],
    statistics: Sequence[tuple[str, SumStatistic]],
    *,
    n_boot: int,
    seed: int,
    alpha: float = 1 - CONFIDENCE,
    clusters: np.ndarray | None = None,
) -> list[tuple[str, Interval]]:
    """Each statistic on the full sample and its percentile interval over the same resamples of rows (or clusters).

    ``columns``: per-row values by name, (n,) or (n, K), stacked into one (n, M) matrix in this order;
    a statistic maps the columns' sums by name ((B,) or (B, K)) to B estimates (means divide by a
    column of ones). Resamples come from ``numpy.random.default_rng(seed)``; ``n_boot`` = 0 gives NaN bounds.
    """
    check_n_boot(n_boot)
    check_alpha(alpha)
    names = list(columns)
    blocks = [np.asarray(columns[c], np.float64).reshape(len(columns[c]), -1) for c in names]
    matrix = np.concatenate(blocks, axis=1)
    edges = np.cumsum([0, *(b.shape[1] for b in blocks)])
    wide = {c: np.asarray(columns[c]).ndim == 2 for c in names}

    def by_name(sums: np.ndarray) -> dict[str, np.ndarray]:
        return {c: sums[:, edges[i] : edges[i + 1]] if wide[c] else sums[:, edges[i]] for i, c in enumerate(names)}

    full = by_name(matrix.sum(axis=0)[None, :])
    boot = by_name(resampled_sums(cluster_sums(matrix, clusters), n_boot, np.random.default_rng(seed)))
    out = []
    for name, stat in statistics:
        low, high = percentile_bounds(stat(boot), alpha)
        out.append((name, Interval(float(stat(full)[0]), float(low), float(high))))
    return out


def bootstrap_statistic(
    stat: Callable[..., float], *arrays: np.ndarray, n_boot: int = 200, seed: int = 0, alpha: float = 1 - CONFIDENCE
) -> Interval:
    """``stat(*arrays)`` with a percentile interval over ``n_boot`` resamples of the units (rows of every array).

    The statistic is recomputed on each resample (the units in the order drawn); resamples in which
    it is undefined (NaN) are left out of the percentiles.
    """
    check_n_boot(n_boot)
    check_alpha(alpha)
    n = len(arrays[0])
    arrays = tuple(np.asarray(a) for a in arrays)
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for i in range(n_boot):  # one resample at a time: the statistic sees the units, not their counts
        idx = rng.integers(0, n, n)
        reps[i] = stat(*(a[idx] for a in arrays))
    low, high = percentile_bounds(reps, alpha, skip_nan=True)
    return Interval(float(stat(*arrays)), float(low), float(high))


def _replicates(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, M) bootstrap replicates of the column means of ``values`` (n, M), NaNs skipped."""
    n, m = values.shape
    seen = ~np.isnan(values)
    filled = np.where(seen, values, 0.0)
    weight_of_seen = seen.astype(np.float64)
    out = np.empty((n_boot, m))
    for lo, counts in resample_counts(n, n_boot, rng, SEED_BLOCK):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo : lo + len(counts)] = (counts @ filled) / (counts @ weight_of_seen)
    return out


def bootstrap_seed_means(
    per_seed: list[np.ndarray], n_boot: int, seed: int, *, over_seeds: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high), each (M,): the mean over seeds of per-seed means and its percentile interval.

    ``per_seed``: one (n_s, M) array of per-shopper values per seed (NaN: not observed). ``over_seeds``
    False resamples shoppers within each seed, seeds fixed (the reports' interval over shoppers); True
    resamples the seeds too (hierarchical; a percentile bootstrap over 3 seeds covers ~76% for a nominal
    95%: tests/eval/stats/test_intervals.py measures it, which is why the reports use t-intervals across
    seeds, ``stats.intervals.between_seeds``). ``n_boot`` = 0 gives NaN bounds.
    """
    means = seed_means(per_seed)
    mean = nan_mean(means)
    m = means.shape[1]
    if n_boot <= 0 or not per_seed:
        return mean, np.full(m, np.nan), np.full(m, np.nan)
    rng = np.random.default_rng([seed, SEEDS_STREAM, int(over_seeds)])
    reps = np.stack([_replicates(v, n_boot, rng) for v in per_seed])  # (S, B, M)
    if over_seeds:
        s = len(per_seed)
        pick = rng.integers(0, s, (n_boot, s))  # seeds drawn for each replicate
        boot = reps[pick, np.arange(n_boot)[:, None]].mean(axis=1)  # (B, S, M) -> (B, M)
    else:
        boot = reps.mean(axis=0)
    low, high = percentile_bounds(boot, 1 - CONFIDENCE)
    return mean, low, high
