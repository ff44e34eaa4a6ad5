"""Statistics of simulated A/B experiments: Welch, relative lift, CUPED, SRM and always-valid sequential tests.

Pure functions on numpy arrays of per-unit outcomes (one value per randomised unit). Intervals are two-sided at level
``1 - alpha``; p-values are two-sided against "no effect".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from basketgym.eval.stats.checks import check_alpha, check_units


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval."""

    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treatment: int
    n_control: int

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in the closed interval ``[ci_low, ci_high]`` (False when the interval is NaN)."""
        return bool(self.ci_low <= value <= self.ci_high)


@dataclass(frozen=True)
class SequentialResult:
    """Daily looks of a sequential test."""

    estimates: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    reject: np.ndarray
    first_rejection: int
    naive_p: np.ndarray
    tau: float  # the mixing scale, fixed before the first look (``planned_tau``)


def _welch_parts(
    diff: np.ndarray, v_t: np.ndarray, v_c: np.ndarray, n_t: int, n_c: int, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Welch se, half-width and p-value from the difference and the per-arm variances of the means (``var / n``).

    Where both arms have zero variance the interval collapses to the point and the p-value is 1 if the difference is 0,
    else 0 (the outcomes are deterministic).
    """
    var = v_t + v_c
    se = np.sqrt(var)
    ok = var > 0
    var_ok = np.where(ok, var, 1.0)
    w_t, w_c = v_t / var_ok, v_c / var_ok  # shares of the variance: w_t + w_c = 1 where ok, so df is well defined
    df = 1.0 / np.where(ok, w_t**2 / (n_t - 1) + w_c**2 / (n_c - 1), 1.0)
    se_ok = np.sqrt(var_ok)
    half = np.where(ok, stats.t.ppf(1.0 - alpha / 2.0, df) * se_ok, 0.0)
    p = np.where(ok, 2.0 * stats.t.sf(np.abs(diff) / se_ok, df), np.where(diff == 0, 1.0, 0.0))
    return se, half, np.minimum(p, 1.0)


def welch(y_t: np.ndarray, y_c: np.ndarray, alpha: float = 0.05) -> Estimate:
    """Difference in means (treatment - control): Welch's unequal-variance t-test and t-interval (Satterthwaite df).

    Both arms constant (zero variance): the interval is the point ``[d, d]`` and the p-value is 1 if ``d == 0`` else 0.
    """
    check_alpha(alpha)
    t, c = check_units(y_t, "y_t"), check_units(y_c, "y_c")
    diff = float(t.mean() - c.mean())
    v_t, v_c = t.var(ddof=1) / t.size, c.var(ddof=1) / c.size
    se, half, p = _welch_parts(np.asarray(diff), np.asarray(v_t), np.asarray(v_c), t.size, c.size, alpha)
    return Estimate("welch", diff, float(se), diff - float(half), diff + float(half), float(p), t.size, c.size)


def relative_lift(y_t: np.ndarray, y_c: np.ndarray, alpha: float = 0.05) -> Estimate:
    """``mean_t / mean_c - 1`` with a delta-method standard error and a normal interval.

    ``var ≈ var_t / (n_t mean_c^2) + mean_t^2 var_c / (n_c mean_c^4)``. When ``mean_c == 0`` the estimate, se,
    interval and p-value are NaN (no exception). Both arms constant: the interval is the point; p is 1 if the lift
    is 0, else 0.
    """
    check_alpha(alpha)
    t, c = check_units(y_t, "y_t"), check_units(y_c, "y_c")
    m_t, m_c = float(t.mean()), float(c.mean())
    if m_c == 0.0:
        nan = math.nan
        return Estimate("relative_lift", nan, nan, nan, nan, nan, t.size, c.size)
    lift = m_t / m_c - 1.0
    var = t.var(ddof=1) / (t.size * m_c**2) + m_t**2 * c.var(ddof=1) / (c.size * m_c**4)
    se = math.sqrt(var)
    if se == 0.0:
        return Estimate("relative_lift", lift, 0.0, lift, lift, 1.0 if lift == 0 else 0.0, t.size, c.size)
    half = float(stats.norm.ppf(1.0 - alpha / 2.0)) * se
    p = float(2.0 * stats.norm.sf(abs(lift) / se))
    return Estimate("relative_lift", lift, se, lift - half, lift + half, p, t.size, c.size)


def cuped(y_t: np.ndarray, y_c: np.ndarray, x_t: np.ndarray, x_c: np.ndarray, alpha: float = 0.05) -> Estimate:
    """CUPED (Deng et al. 2013): Welch on outcomes adjusted by a pre-period covariate of the same units.

    ``theta = cov(x, y) / var(x)`` pooled over both arms; ``y_adj = y - theta (x - mean(x_pooled))``; then Welch on
    ``y_adj``. ``x`` must not depend on the assignment (pre-period). If ``var(x) == 0``, ``theta = 0`` (plain Welch).
    """
    t, c = check_units(y_t, "y_t"), check_units(y_c, "y_c")
    xt, xc = check_units(x_t, "x_t"), check_units(x_c, "x_c")
    if xt.shape != t.shape or xc.shape != c.shape:
        raise ValueError("x_t and x_c must have the shapes of y_t and y_c")
    x, y = np.concatenate([xt, xc]), np.concatenate([t, c])
    dx = x - x.mean()
    var_x = float(dx @ dx)
    theta = float(dx @ (y - y.mean())) / var_x if var_x > 0 else 0.0
    e = welch(t - theta * (xt - x.mean()), c - theta * (xc - x.mean()), alpha)
    return Estimate("cuped", e.estimate, e.se, e.ci_low, e.ci_high, e.p_value, e.n_treatment, e.n_control)


def srm_p_value(n_t: int, n_c: int, share_t: float = 0.5) -> float:
    """Sample-ratio-mismatch check: chi-square goodness-of-fit p-value of the observed split against the planned share.

    Pearson chi-square with 1 df; raises ValueError unless ``0 < share_t < 1`` and the total is positive.
    """
    if not 0.0 < share_t < 1.0:
        raise ValueError(f"share_t must be in (0, 1), got {share_t}")
    if n_t < 0 or n_c < 0 or n_t + n_c == 0:
        raise ValueError(f"need non-negative counts with a positive total, got {n_t}, {n_c}")
    n = n_t + n_c
    e_t, e_c = n * share_t, n * (1.0 - share_t)
    chi2 = (n_t - e_t) ** 2 / e_t + (n_c - e_c) ** 2 / e_c
    return float(stats.chi2.sf(chi2, df=1))


FALLBACK_TAU = 1.0  # metric units; used only when the pre-period has no variance (any fixed tau keeps the guarantee)


def planned_tau(pre_t: np.ndarray, pre_c: np.ndarray, horizon_days: int, pre_days: int) -> float:
    """The mixture SPRT's mixing scale, fixed before the test starts: the planned horizon's expected Welch se.

    From the pre-period only (the same metric of the same units over the ``pre_days`` days before the
    start; it cannot depend on the assignment, so the arms' variances are pooled):
    ``tau = sd(pre, pooled over both arms) * sqrt(1/n_t + 1/n_c) * horizon_days / pre_days``, the se of
    the difference a fixed-horizon test of ``horizon_days`` days would have if the test period behaves
    like the pre-period (a cumulative metric grows with the days: linear scaling). Never from a look of
    the test: a tau chosen from the last look makes every earlier look depend on the future and voids
    the any-look guarantee. With no pre-period variance, ``FALLBACK_TAU``: any tau fixed in advance keeps
    the guarantee; tau only moves the power, which is highest for effects of size about tau.
    """
    t, c = check_units(pre_t, "pre_t"), check_units(pre_c, "pre_c")
    if horizon_days < 1 or pre_days < 1:
        raise ValueError(f"horizon_days and pre_days must be >= 1, got {horizon_days} and {pre_days}")
    sd = float(np.concatenate([t, c]).std(ddof=1))
    tau = sd * math.sqrt(1.0 / t.size + 1.0 / c.size) * horizon_days / pre_days
    return tau if tau > 0 else FALLBACK_TAU


def sequential_test(
    y_t_looks: np.ndarray,
    y_c_looks: np.ndarray,
    alpha: float = 0.05,
    *,
    tau: float,
    intersect: bool = False,
) -> SequentialResult:
    """Always-valid inference under continuous monitoring (peeking at every look).

    ``y_t_looks`` (L, n_t) and ``y_c_looks`` (L, n_c): each unit's cumulative metric as of each look (row l = look l;
    units are fixed; values typically grow over looks). At each look the difference in means d_l and its Welch se s_l
    are computed. The mixture SPRT with a normal mixing distribution N(0, tau^2) over the effect (Johari, Pekelis &
    Walsh, "Always valid inference", the normal-mixture boundary) gives the statistic
        Lambda_l(theta0) = sqrt(s^2/(s^2+tau^2)) * exp( tau^2 (d - theta0)^2 / (2 s^2 (s^2+tau^2)) )
    and rejects theta0 when Lambda >= 1/alpha; the confidence sequence is its inversion
        d ± s * sqrt( 2 (s^2+tau^2)/tau^2 * log( sqrt((s^2+tau^2)/s^2) / alpha ) ).
    ``reject[l]`` is True once 0 has left the sequence at any look <= l (so it never switches back off).

    Validity: when ``d_l - theta_l`` has independent (approximately Gaussian) increments across looks, e.g. iid daily
    increments per unit, ``(d/s^2, 1/s^2)`` is a time-inverted Brownian motion and Ville's inequality makes
    ``P(some look's interval misses theta_l) <= alpha`` even though ``s_l`` grows over looks and the per-look
    estimand ``theta_l`` (the true difference of cumulative means at look l) changes. Hence by default the per-look
    intervals are *not* intersected: with a cumulative metric the true difference grows over looks, and intersecting
    would carry early, small-effect upper bounds forward past the later truth. ``intersect=True`` takes the running
    max of the lower and running min of the upper bounds (the interval only shrinks); only valid when the estimand is
    the same at every look. Rejection of 0 is the same either way (0 is a constant null).

    ``tau`` (required): the mixing scale, fixed before the first look — from the pre-period or the planned horizon
    (``planned_tau``), never from the data of the looks, so the result at look l does not depend on later looks
    (tested). Looks with zero variance in both arms (se == 0) give an infinite interval (no rejection) rather than an
    error. ``naive_p`` holds fixed-horizon Welch p-values per look (what naive peeking uses).
    """
    check_alpha(alpha)
    t, c = np.asarray(y_t_looks, dtype=np.float64), np.asarray(y_c_looks, dtype=np.float64)
    if t.ndim != 2 or c.ndim != 2 or t.shape[0] != c.shape[0] or t.shape[0] == 0:
        raise ValueError(f"need (L, n_t) and (L, n_c) arrays with the same L >= 1, got {t.shape} and {c.shape}")
    n_t, n_c = t.shape[1], c.shape[1]
    if n_t < 2 or n_c < 2:
        raise ValueError(f"each arm needs at least two units, got {n_t} and {n_c}")
    if not (np.isfinite(t).all() and np.isfinite(c).all()):
        raise ValueError("y_t_looks and y_c_looks must be finite")
    diff = t.mean(axis=1) - c.mean(axis=1)
    se, _, naive_p = _welch_parts(diff, t.var(axis=1, ddof=1) / n_t, c.var(axis=1, ddof=1) / n_c, n_t, n_c, alpha)

    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive finite number, got {tau}")
    ok = se > 0
    s2 = np.where(ok, se, 1.0) ** 2
    ratio = (s2 + tau**2) / s2
    half = np.sqrt(s2 * 2.0 * (s2 + tau**2) / tau**2 * (0.5 * np.log(ratio) - math.log(alpha)))
    half = np.where(ok, half, np.inf)
    low, high = diff - half, diff + half
    if intersect:
        low, high = np.maximum.accumulate(low), np.minimum.accumulate(high)
    reject = np.logical_or.accumulate((low > 0) | (high < 0))
    first = int(np.argmax(reject)) if reject.any() else -1
    return SequentialResult(diff, se, low, high, reject, first, naive_p, float(tau))


def naive_peeking_rejects(result: SequentialResult, alpha: float = 0.05) -> bool:
    """True when any look's fixed-horizon p-value is below alpha (the error naive daily peeking makes)."""
    return bool(np.any(result.naive_p < alpha))
