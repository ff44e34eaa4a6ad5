"""The regression test's statistics: per (scenario, metric), a one-sided t-test of the paired effect against a margin.

For each scenario and metric, each seed s gives ``d_s``: the mean over shoppers of the per-shopper difference
candidate - baseline between twin worlds (same seed: same shoppers, same draws). The seeds are independent
worlds, so the mean of the ``d_s`` has a t-distribution with S - 1 degrees of freedom around the true effect
(the between-seed interval issue 11 showed to cover). With a non-inferiority margin ``m > 0``:

- **regression** when H0 "effect >= -m" is rejected: ``p = P(T_{S-1} <= (mean + m) / se)`` below the
  Holm-adjusted level (Holm's step-down over every scenario x metric test of the call, so the chance of any
  false alarm in one call is at most alpha);
- **non-inferior** when the lower bound of the (1 - 2 alpha) two-sided interval is above -m;
- **inconclusive** otherwise.

An effect that is exactly 0 in every seed (a candidate identical to the baseline) has p = 1: no test is needed
to see that nothing moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """One scenario x metric comparison."""

    scenario: str
    metric: str
    effect: float  # mean over seeds of the per-seed paired mean difference (candidate - baseline)
    low: float  # lower / upper bounds of the two-sided (1 - 2 alpha) t-interval
    high: float
    margin: float  # the regression allowed (> 0, in the metric's units)
    p: float  # one-sided p-value of "effect >= -margin"
    seeds: int
    baseline: float  # the baseline's mean, for reading the effect in relative terms
    verdict: str = ""


def one_sided(
    scenario: str, metric: str, per_seed: np.ndarray, margin: float, alpha: float, baseline: float
) -> Comparison:
    """The test of one scenario x metric from its per-seed paired mean differences."""
    d = np.asarray(per_seed, np.float64)
    d = d[np.isfinite(d)]
    s = len(d)
    mean = float(d.mean()) if s else math.nan
    if s and np.all(d == 0):
        return Comparison(scenario, metric, 0.0, 0.0, 0.0, margin, 1.0, s, baseline)
    if s < 2:
        return Comparison(scenario, metric, mean, math.nan, math.nan, margin, math.nan, s, baseline)
    se = float(d.std(ddof=1)) / math.sqrt(s)
    if se == 0:
        p = 0.0 if mean < -margin else 1.0
        return Comparison(scenario, metric, mean, mean, mean, margin, p, s, baseline)
    t = (mean + margin) / se
    p = float(stats.t.cdf(t, s - 1))
    half = float(stats.t.ppf(1 - alpha, s - 1)) * se
    return Comparison(scenario, metric, mean, mean - half, mean + half, margin, p, s, baseline)


def holm(tests: list[Comparison], alpha: float) -> list[Comparison]:
    """Verdicts under Holm's step-down procedure (family: every test of the call)."""
    order = sorted(range(len(tests)), key=lambda i: (math.isnan(tests[i].p), tests[i].p))
    m = sum(not math.isnan(t.p) for t in tests)
    rejected = set()
    for rank, i in enumerate(order):
        p = tests[i].p
        if math.isnan(p) or p > alpha / (m - rank):
            break
        rejected.add(i)
    out = []
    for i, t in enumerate(tests):
        if i in rejected:
            v = "regression"
        elif math.isnan(t.p):
            v = "untestable (one seed)"
        elif t.low > -t.margin or (t.low == t.high == t.effect == 0.0):
            v = "non-inferior"
        else:
            v = "inconclusive"
        out.append(Comparison(**{**t.__dict__, "verdict": v}))
    return out
