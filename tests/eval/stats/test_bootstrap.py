"""The one bootstrap: its draws are pinned (reproducible figures), its three forms agree with naive loops."""

import numpy as np
import pytest

from basketgym.eval.stats.bootstrap import (
    bootstrap_seed_means,
    bootstrap_statistic,
    bootstrap_sums,
    cluster_sums,
    percentile_bounds,
    resample_counts,
)
from basketgym.eval.uplift.metrics import auuc


def test_resample_counts_do_not_depend_on_the_block_size():
    """The block only bounds memory: blocks of 1, 7 or all resamples give the same counts, each row n draws."""
    blocks = {}
    for block in (1, 7, 50):
        rows = [c for _, c in resample_counts(13, 50, np.random.default_rng(8), block)]
        blocks[block] = np.concatenate(rows)
    assert blocks[1].shape == (50, 13) and (blocks[1].sum(axis=1) == 13).all()
    np.testing.assert_array_equal(blocks[1], blocks[7])
    np.testing.assert_array_equal(blocks[1], blocks[50])
    # the draws themselves: row b counts the units of rng.integers(0, n, n), the b-th call of one generator
    rng = np.random.default_rng(8)
    np.testing.assert_array_equal(blocks[1][0], np.bincount(rng.integers(0, 13, 13), minlength=13))
    np.testing.assert_array_equal(blocks[1][1], np.bincount(rng.integers(0, 13, 13), minlength=13))


def test_percentile_bounds():
    reps = np.arange(101, dtype=float)
    assert percentile_bounds(reps, 0.1) == (pytest.approx(5.0), pytest.approx(95.0))
    two = np.column_stack([reps, np.where(reps == 3, np.nan, reps)])
    low, high = percentile_bounds(two, 0.1)
    assert low[0] == pytest.approx(5.0) and np.isnan(low[1]) and np.isnan(high[1])  # undefined in one resample
    low, high = percentile_bounds(two, 0.1, skip_nan=True)
    assert low[1] == pytest.approx(np.percentile(np.delete(reps, 3), 5))
    assert np.isnan(percentile_bounds(np.empty(0), 0.05)).all()


def test_cluster_sums_add_each_clusters_rows():
    columns = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    np.testing.assert_array_equal(cluster_sums(columns, np.array([7, 3, 7])), [[2.0, 20.0], [5.0, 50.0]])
    assert cluster_sums(columns, None) is columns
    with pytest.raises(ValueError, match="clusters has shape"):
        cluster_sums(columns, np.array([1, 2]))


def test_bootstrap_sums_is_a_naive_bootstrap_of_the_means():
    x = np.random.default_rng(1).normal(size=57)
    [(name, iv)] = bootstrap_sums({"x": x, "one": np.ones(57)}, [("mean", lambda s: s["x"] / s["one"])],
                                  n_boot=300, seed=5)  # fmt: skip
    rng = np.random.default_rng(5)
    naive = [x[rng.integers(0, 57, 57)].mean() for _ in range(300)]
    assert name == "mean" and iv.value == pytest.approx(x.mean(), rel=1e-12)
    assert (iv.low, iv.high) == pytest.approx(tuple(np.percentile(naive, [2.5, 97.5])), rel=1e-9)
    # clusters of one row each: the row bootstrap, bit for bit
    [(_, same)] = bootstrap_sums({"x": x, "one": np.ones(57)}, [("mean", lambda s: s["x"] / s["one"])],
                                 n_boot=300, seed=5, clusters=np.arange(57))  # fmt: skip
    assert same == iv


def test_bootstrap_statistic_recomputes_any_statistic_per_resample():
    rng = np.random.default_rng(2)
    tau = rng.normal(size=400)
    score = tau + rng.normal(0, 0.1, 400)
    iv = bootstrap_statistic(auuc, score, tau, n_boot=50, seed=0)
    assert iv.value == auuc(score, tau) and iv.low <= iv.value <= iv.high and 0 < iv.low and iv.high < 1
    draws = np.random.default_rng(0)
    naive = []
    for _ in range(50):
        i = draws.integers(0, 400, 400)
        naive.append(auuc(score[i], tau[i]))
    assert (iv.low, iv.high) == tuple(np.percentile(naive, [2.5000000000000022, 97.5]))  # 50 alpha, 100 - 50 alpha


def test_seed_means_bootstrap_is_reproducible_and_none_without_resamples():
    per_seed = [np.random.default_rng(s).normal(size=(80, 2)) for s in range(3)]
    a = bootstrap_seed_means(per_seed, 200, 4, over_seeds=False)
    b = bootstrap_seed_means(per_seed, 200, 4, over_seeds=False)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(a[0], np.mean([v.mean(axis=0) for v in per_seed], axis=0))
    assert (a[1] < a[0]).all() and (a[0] < a[2]).all()
    mean, low, high = bootstrap_seed_means(per_seed, 0, 4, over_seeds=False)
    np.testing.assert_array_equal(mean, a[0])
    assert np.isnan(low).all() and np.isnan(high).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_boot must be non-negative"):
        bootstrap_statistic(np.mean, np.ones(3), n_boot=-1)
    with pytest.raises(ValueError, match="alpha must be in"):
        bootstrap_sums({"x": np.ones(3)}, [], n_boot=10, seed=0, alpha=0.0)
