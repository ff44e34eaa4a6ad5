"""Intervals are claims: the between-seed t-interval's coverage measured on hierarchical data with a known mean."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from basketgym.eval.outcomes.metrics import across_seeds
from basketgym.eval.reporting.analysis import _reversals
from basketgym.eval.stats.bootstrap import bootstrap_seed_means
from basketgym.eval.stats.intervals import between_seeds, t_half_width

TRUE_MEAN = 2.0
REPS = 2000  # replications, one per column: binomial SE of a 0.95 coverage is sqrt(0.95 * 0.05 / 2000) = 0.0049


def _hierarchical(seed: int, seeds: int, shoppers: int, seed_sd: float, shopper_sd: float, skewed: bool = False):
    """Per seed an (n, REPS) array: column j is replication j's world (seed effect + shopper noise) around TRUE_MEAN."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0.0, seed_sd, (seeds, REPS))
    out = []
    for s in range(seeds):
        noise = rng.lognormal(0, 1, (shoppers, REPS)) - np.exp(0.5) if skewed else rng.normal(0, 1, (shoppers, REPS))
        out.append(TRUE_MEAN + effect[s] + shopper_sd * noise)
    return out


def _coverage(low: np.ndarray, high: np.ndarray) -> float:
    return float(np.mean((low <= TRUE_MEAN) & (TRUE_MEAN <= high)))


@pytest.mark.parametrize(
    ("seeds", "seed_sd", "shopper_sd", "skewed"),
    [(3, 1.0, 1.0, False), (3, 0.1, 1.0, False), (3, 0.0, 1.0, False), (2, 1.0, 1.0, False), (5, 0.3, 3.0, True)],
)
def test_between_seed_interval_covers_at_its_nominal_level(seeds, seed_sd, shopper_sd, skewed):
    """2,000 replications: measured 0.958, 0.949, 0.950, 0.950, 0.941 (nominal 0.95).

    0.93 is 4 binomial SE below 0.95 and 0.97 four above: a valid interval passes, neither an
    under-covering one nor a needlessly wide one does. Cases: seed-dominated, shopper-dominated,
    no seed effect at all, two seeds, skewed (lognormal) shoppers.
    """
    b = between_seeds(_hierarchical(seeds * 100 + int(seed_sd * 10), seeds, 200, seed_sd, shopper_sd, skewed))
    assert 0.93 <= _coverage(b.low, b.high) <= 0.97
    assert (b.n_seeds == seeds).all()


def test_the_old_percentile_bootstrap_over_three_seeds_under_covers():
    """The method the reports used: 3 seeds, world-to-world spread dominant. Measured 0.758 (t-interval: 0.958)."""
    per_seed = _hierarchical(310, 3, 200, 1.0, 1.0)
    _, lo, hi = bootstrap_seed_means(per_seed, 1000, 0, over_seeds=True)
    assert _coverage(lo, hi) < 0.85  # 0.85 is 20 binomial SE below 0.95
    b = between_seeds(per_seed)
    assert _coverage(b.low, b.high) > _coverage(lo, hi) + 0.1


def test_between_seeds_is_the_t_interval_of_the_per_seed_means():
    rng = np.random.default_rng(4)
    per_seed = [rng.normal(m, 1.0, (300, 2)) for m in (1.0, 1.5, 0.7)]
    per_seed[1][:40, 1] = np.nan  # unobserved values do not count in their seed's mean
    b = between_seeds(per_seed)
    means = np.array([[np.nanmean(v[:, j]) for j in range(2)] for v in per_seed])
    sd = means.std(axis=0, ddof=1)
    half = 4.302652729911275 * sd / np.sqrt(3)  # t_{0.975, 2}
    assert b.mean == pytest.approx(means.mean(axis=0), rel=1e-12)
    assert b.sd == pytest.approx(sd, rel=1e-12) and b.high - b.mean == pytest.approx(half, rel=1e-9)
    # the run table's across_seeds prints the same half-width for the same per-seed values
    table = across_seeds([{"x": float(m)} for m in means[:, 0]])
    assert table.at["x", "half_width"] == pytest.approx(b.high[0] - b.mean[0], rel=1e-12)
    assert float(t_half_width(sd[0], 3)) == pytest.approx(b.high[0] - b.mean[0], rel=1e-12)


def test_one_seed_has_no_between_seed_interval():
    b = between_seeds([np.arange(10.0)[:, None]])
    assert b.mean[0] == 4.5 and np.isnan(b.low[0]) and np.isnan(b.high[0]) and np.isnan(b.sd[0])
    # a column observed in one seed only is the same: no interval rather than a shopper-only one
    b = between_seeds([np.array([[1.0, np.nan], [2.0, np.nan]]), np.array([[2.0, 3.0], [3.0, 5.0]])])
    assert np.isfinite(b.high[0]) and np.isnan(b.high[1]) and b.n_seeds.tolist() == [2, 1] and b.mean[1] == 4.0


def _twins(short_gaps, long_gaps, rng):
    """Outcomes of rankers a and b over seeds whose paired per-seed mean gaps are given (tiny shopper noise)."""
    outcomes = {}
    for s, (gs, gl) in enumerate(zip(short_gaps, long_gaps, strict=True)):
        ids = np.arange(400)
        base = rng.normal(10, 1, (400, 2))
        noise = rng.normal(0, 0.01, (400, 2))
        outcomes[("b", s)] = pd.DataFrame({"shopper_id": ids, "short": base[:, 0], "long": base[:, 1]})
        outcomes[("a", s)] = pd.DataFrame(
            {"shopper_id": ids, "short": base[:, 0] + gs + noise[:, 0], "long": base[:, 1] + gl + noise[:, 1]}
        )
    return SimpleNamespace(rankers=["a", "b"], seeds=list(range(len(short_gaps))), outcomes=outcomes)


def test_reversal_is_significant_only_when_the_seeds_agree():
    """a ahead at the short horizon, behind at the long one, in every seed: significant only if the seeds agree.

    Three seeds whose gaps differ sixfold: every bootstrap resample of seeds keeps the signs (the old flag
    said "significant"), but the t-interval across the three seeds includes 0.
    """
    rng = np.random.default_rng(0)
    agree = _reversals(_twins([1.0, 1.1, 0.9], [-1.0, -1.2, -0.9], rng), "short", "long")
    assert len(agree) == 1 and agree[0]["significant"] and agree[0]["ahead_short"] == "a"
    for r in agree:  # intervals oriented like their gaps (ahead minus behind): both positive here
        assert r["short_ci"][0] <= r["short_gap"] <= r["short_ci"][1] and r["short_ci"][0] > 0
        assert r["long_ci"][0] <= r["long_gap"] <= r["long_ci"][1] and r["long_ci"][0] > 0
    spread = _reversals(_twins([0.5, 0.6, 3.0], [-0.5, -0.6, -3.0], rng), "short", "long")
    assert len(spread) == 1 and not spread[0]["significant"]
    lo, hi = spread[0]["short_ci"]
    assert lo < 0 < hi
    one = _reversals(_twins([1.0], [-1.0], rng), "short", "long")
    assert len(one) == 1 and not one[0]["significant"] and one[0]["seeds"] == 1
