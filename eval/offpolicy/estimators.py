"""Off-policy evaluation: IPS, SNIPS, DM, DR, SNDR and Switch-DR for single slots, and IPS estimators for slates.

Pure functions on numpy arrays of logged rounds. A round's importance weight is ``w = target_prob / pscore``: the
target policy's probability of the logged action over the logging policy's. Estimators that are means of per-round
terms return those terms (the estimate is their mean); self-normalised estimators return the estimate. The
``evaluate_*`` functions report every estimator with a percentile bootstrap interval: over clusters (``clusters``: one
id per round, e.g. the shopper — a shopper's slates share their state and are correlated, so the independent unit is
the shopper, not the slate) or, without ``clusters``, over rounds. All estimators share the same resamples, drawn from
``numpy.random.default_rng(seed)``, so intervals are reproducible, and every estimator (means too) is re-computed as a
ratio to the resample's own number of rounds; self-normalised estimators re-normalise inside every resample. A
resample in which a self-normalised estimator is undefined (zero total weight) makes that estimator's interval NaN; a
zero total weight in the data makes its value NaN. ``weight_diagnostics`` says how much the data support a target
(effective sample size, largest weight, share of the weight mass in the top 1% of rounds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_CELLS = 2_000_000  # bootstrap count-matrix cells drawn at a time (bounds memory for long logs)


@dataclass(frozen=True)
class OPEResult:
    """An estimate of a target policy's value with a bootstrap interval."""

    estimator: str
    value: float
    ci_low: float
    ci_high: float
    n: int

    def covers(self, truth: float) -> bool:
        """Whether ``truth`` lies in the closed interval ``[ci_low, ci_high]`` (False when the interval is NaN)."""
        return bool(self.ci_low <= truth <= self.ci_high)


# ---- input checks and shared helpers -------------------------------------------------------------------------------


def _array(x: np.ndarray, name: str, ndim: int, n: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} rows, expected {n}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has non-finite values")
    return a


def _weights(pscore: np.ndarray, target_prob: np.ndarray, n: int) -> np.ndarray:
    """Importance weights of single-slot rounds, checking that every logged action had a positive propensity."""
    p = _array(pscore, "pscore", 1, n)
    t = _array(target_prob, "target_prob", 1, n)
    if (p <= 0).any():
        raise ValueError("pscore must be positive: a logged action had probability > 0 under the logging policy")
    if (t < 0).any():
        raise ValueError("target_prob must be non-negative")
    return t / p


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN (without a warning) where ``den`` is 0."""
    num, den = np.broadcast_arrays(np.asarray(num, np.float64), np.asarray(den, np.float64))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


MIN_ESS = 100.0  # Kish effective sample size below which an importance-weighted estimate is flagged as unsupported
MASS_Z = 2.58  # mean weight this many standard errors below 1 (the 99% level): target mass the log never shows


@dataclass(frozen=True)
class WeightDiagnostics:
    """How well the logged data support a target: its importance weights summarised."""

    weights: str  # which weights: "top slot", "slate", "position (worst)", "prefix (worst)"
    n: int  # rounds
    support: int  # rounds with weight > 0 (the logged action is one the target takes)
    max_weight: float
    ess: float  # Kish effective sample size (sum w)^2 / sum w^2; 0 when every weight is 0
    top1_share: float  # share of the total weight in the top 1% of rounds by weight (NaN when every weight is 0)
    mean_weight: float  # 1 in expectation when the logging policy covers the target; below 1: mass never logged
    mean_weight_se: float  # its standard error (over clusters when given)

    @property
    def few_effective(self) -> bool:
        """Whether an estimate from these weights rests on fewer than ``MIN_ESS`` effective rounds."""
        return self.ess < MIN_ESS

    @property
    def missing_mass(self) -> bool:
        """Whether the mean weight is below 1 by more than ``MASS_Z`` standard errors (or is 0)."""
        return self.mean_weight == 0 or (
            self.mean_weight_se > 0 and (1 - self.mean_weight) > MASS_Z * self.mean_weight_se
        )

    @property
    def unsupported(self) -> bool:
        """Whether the data do not support the target: few effective rounds, or target mass the log never shows."""
        return self.few_effective or self.missing_mass


def weight_diagnostics(w: np.ndarray, weights: str, clusters: np.ndarray | None = None) -> WeightDiagnostics:
    """Support, largest weight, ESS, top-1% mass share and mean weight (with its se) of importance weights ``w`` (n,).

    Under the logging policy E[w] = sum_a target(a) = 1 whenever every action the target takes has a
    positive logging probability; a sample mean well below 1 says that part of the target's mass sits
    on actions the log (almost) never shows, which every IPS estimate silently drops. Its se is over
    ``clusters`` (e.g. shoppers) when given, over rounds otherwise.
    """
    w = _array(w, "w", 1)
    total, sq = float(w.sum()), float(w @ w)
    top = max(1, int(np.ceil(0.01 * w.size)))
    share = float(np.sort(w)[-top:].sum() / total) if total > 0 else float("nan")
    mean = total / w.size if w.size else float("nan")
    sums = _cluster_sums(np.column_stack([w, np.ones(w.size)]), clusters)  # (G, 2): weight and rounds per cluster
    g = sums.shape[0]
    resid = sums[:, 0] - mean * sums[:, 1]
    se = float(np.sqrt(g / (g - 1) * (resid @ resid)) / w.size) if g > 1 else float("nan")
    return WeightDiagnostics(weights, int(w.size), int((w > 0).sum()), float(w.max(initial=0.0)),
                             total**2 / sq if sq > 0 else 0.0, share, mean, se)  # fmt: skip


def _worst(w: np.ndarray, valid: np.ndarray, weights: str, clusters: np.ndarray | None) -> WeightDiagnostics:
    """The diagnostics of the position (column of ``w``) with the lowest ESS among the rounds that reach it."""
    cols = [weight_diagnostics(w[valid[:, k], k], weights, None if clusters is None else clusters[valid[:, k]])
            for k in range(w.shape[1]) if valid[:, k].any()]  # fmt: skip
    return min(cols, key=lambda d: (d.ess, d.mean_weight))


def _check_bootstrap(n_boot: int, alpha: float) -> None:
    if n_boot < 0:
        raise ValueError(f"n_boot must be non-negative, got {n_boot}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def _resampled_sums(columns: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, M) column sums of ``columns`` (n, M) over ``n_boot`` resamples of its n rows with replacement."""
    n, m = columns.shape
    out = np.empty((n_boot, m))
    block = max(1, min(n_boot, _CELLS // n))
    for lo in range(0, n_boot, block):
        b = min(block, n_boot - lo)
        draws = rng.integers(0, n, (b, n)) + (np.arange(b) * n)[:, None]  # n row draws per resample
        counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
        out[lo : lo + b] = counts @ columns
    return out


Statistic = Callable[[np.ndarray], np.ndarray]  # (B, M) column sums of B samples of n rows -> (B,) estimates


def _cluster_sums(columns: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """(G, M) per-cluster column sums (rows of one cluster resampled together); ``columns`` itself without clusters."""
    if clusters is None:
        return columns
    ids = np.asarray(clusters)
    if ids.shape != (columns.shape[0],):
        raise ValueError(f"clusters has shape {ids.shape}, expected ({columns.shape[0]},)")
    _, inv = np.unique(ids, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inv[order]) != 0])
    return np.add.reduceat(columns[order], starts, axis=0)


def _results(
    columns: np.ndarray,
    statistics: list[tuple[str, Statistic]],
    *,
    n_boot: int,
    seed: int,
    alpha: float,
    clusters: np.ndarray | None = None,
) -> list[OPEResult]:
    """Each statistic's value on the full sample and its percentile interval over shared bootstrap resamples.

    A statistic maps column sums to estimates; means divide by the sum of a column of ones (the resample's rounds).
    """
    n = columns.shape[0]
    full = columns.sum(axis=0)[None, :]
    boot = _resampled_sums(_cluster_sums(columns, clusters), n_boot, np.random.default_rng(seed))
    out = []
    for name, stat in statistics:
        value = float(stat(full)[0])
        reps = stat(boot)
        if n_boot > 0 and np.isfinite(reps).all():
            low, high = np.percentile(reps, [50 * alpha, 100 - 50 * alpha])
        else:
            low, high = np.nan, np.nan
        out.append(OPEResult(name, value, float(low), float(high), n))
    return out


# ---- single-slot (contextual bandit) estimators ---------------------------------------------------------------------


def ips(reward: np.ndarray, pscore: np.ndarray, target_prob: np.ndarray, clip: float | None = None) -> np.ndarray:
    """Per-round IPS terms w*r with w = target_prob / pscore, optionally clipped at ``clip``.

    The estimate is the terms' mean. Clipping (``min(w, clip)``) trades a downward bias for lower variance.
    """
    r = _array(reward, "reward", 1)
    w = _weights(pscore, target_prob, r.size)
    if clip is not None:
        if clip <= 0:
            raise ValueError(f"clip must be positive, got {clip}")
        w = np.minimum(w, clip)
    return w * r


def snips(reward: np.ndarray, pscore: np.ndarray, target_prob: np.ndarray) -> float:
    """Self-normalised IPS: sum(w r) / sum(w); NaN (without a warning) when every weight is 0."""
    r = _array(reward, "reward", 1)
    w = _weights(pscore, target_prob, r.size)
    return float(_ratio(np.sum(w * r), np.sum(w)))


def dm(q_hat_target: np.ndarray) -> np.ndarray:
    """Per-round direct-method terms: the reward model's expected value under the target policy at each context."""
    return _array(q_hat_target, "q_hat_target", 1).copy()


def dr(
    reward: np.ndarray,
    pscore: np.ndarray,
    target_prob: np.ndarray,
    q_hat_logged: np.ndarray,
    q_hat_target: np.ndarray,
    clip: float | None = None,
) -> np.ndarray:
    """Per-round doubly robust terms ``q_hat_target + w (r - q_hat_logged)``, w optionally clipped at ``clip``.

    Unbiased when the propensities are right, whatever the reward model; the model only moves the variance.
    """
    r = _array(reward, "reward", 1)
    w = _weights(pscore, target_prob, r.size)
    if clip is not None:
        if clip <= 0:
            raise ValueError(f"clip must be positive, got {clip}")
        w = np.minimum(w, clip)
    q_l = _array(q_hat_logged, "q_hat_logged", 1, r.size)
    q_t = _array(q_hat_target, "q_hat_target", 1, r.size)
    return q_t + w * (r - q_l)


def sndr(
    reward: np.ndarray,
    pscore: np.ndarray,
    target_prob: np.ndarray,
    q_hat_logged: np.ndarray,
    q_hat_target: np.ndarray,
) -> float:
    """Self-normalised DR: mean(q_hat_target) + sum(w (r - q_hat_logged)) / sum(w); NaN when every weight is 0."""
    r = _array(reward, "reward", 1)
    w = _weights(pscore, target_prob, r.size)
    q_l = _array(q_hat_logged, "q_hat_logged", 1, r.size)
    q_t = _array(q_hat_target, "q_hat_target", 1, r.size)
    return float(np.mean(q_t) + _ratio(np.sum(w * (r - q_l)), np.sum(w)))


def switch_dr(
    reward: np.ndarray,
    pscore: np.ndarray,
    target_prob: np.ndarray,
    q_hat_logged: np.ndarray,
    q_hat_target: np.ndarray,
    tau: float,
) -> np.ndarray:
    """Switch-DR (Wang et al. 2017): DR terms where w <= tau, DM terms where w > tau.

    Per-round terms ``q_hat_target + 1[w <= tau] w (r - q_hat_logged)``: rounds whose weight would blow up the
    variance fall back on the reward model.
    """
    r = _array(reward, "reward", 1)
    w = _weights(pscore, target_prob, r.size)
    q_l = _array(q_hat_logged, "q_hat_logged", 1, r.size)
    q_t = _array(q_hat_target, "q_hat_target", 1, r.size)
    return q_t + np.where(w <= tau, w * (r - q_l), 0.0)


def evaluate_single(
    reward: np.ndarray,
    pscore: np.ndarray,
    target_prob: np.ndarray,
    q_hat_logged: np.ndarray,
    q_hat_target: np.ndarray,
    *,
    clip: float | None = None,
    tau: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    clusters: np.ndarray | None = None,
) -> list[OPEResult]:
    """Every single-slot estimator with a percentile bootstrap interval over clusters (or rounds).

    Results come in this order, named ``ips``, ``ips_clipped`` (only with ``clip``), ``snips``, ``dm``, ``dr`` (not
    clipped), ``sndr`` and ``switch_dr``. Switch-DR's ``tau`` defaults to the 95th percentile of the positive
    (unclipped) weights of the whole log and is held fixed across resamples. All estimators share the same
    ``n_boot`` resamples, drawn from ``numpy.random.default_rng(seed)`` (reproducible): of the clusters
    (``clusters``: one id per round, e.g. shopper ids; all of a cluster's rounds are drawn together) or,
    without, of the n rounds. Self-normalised estimators re-normalise inside every resample. Intervals are
    two-sided at level ``1 - alpha``; ``n_boot`` = 0 gives NaN bounds.
    """
    _check_bootstrap(n_boot, alpha)
    r = _array(reward, "reward", 1)
    n = r.size
    if n == 0:
        raise ValueError("no logged rounds")
    w = _weights(pscore, target_prob, n)
    q_l = _array(q_hat_logged, "q_hat_logged", 1, n)
    q_t = _array(q_hat_target, "q_hat_target", 1, n)
    if tau is None:  # the 95th percentile of the rounds the target can take (w > 0): zero weights never blow up
        positive = w[w > 0]
        tau = float(np.percentile(positive, 95)) if len(positive) else 0.0
    cols = {
        "wr": w * r,
        "w": w,
        "dm": q_t,
        "dr": q_t + w * (r - q_l),
        "w_res": w * (r - q_l),
        "switch_dr": q_t + np.where(w <= tau, w * (r - q_l), 0.0),
    }
    if clip is not None:
        cols["ips_clipped"] = ips(r, pscore, target_prob, clip=clip)
    cols["rounds"] = np.ones(n)
    j = {name: i for i, name in enumerate(cols)}

    def mean_of(col: str) -> Statistic:
        return lambda s: s[:, j[col]] / s[:, j["rounds"]]

    statistics: list[tuple[str, Statistic]] = [("ips", mean_of("wr"))]
    if clip is not None:
        statistics.append(("ips_clipped", mean_of("ips_clipped")))
    statistics += [
        ("snips", lambda s: _ratio(s[:, j["wr"]], s[:, j["w"]])),
        ("dm", mean_of("dm")),
        ("dr", mean_of("dr")),
        ("sndr", lambda s: s[:, j["dm"]] / s[:, j["rounds"]] + _ratio(s[:, j["w_res"]], s[:, j["w"]])),
        ("switch_dr", mean_of("switch_dr")),
    ]
    columns = np.column_stack(list(cols.values()))
    return _results(columns, statistics, n_boot=n_boot, seed=seed, alpha=alpha, clusters=clusters)


# ---- slate estimators ----------------------------------------------------------------------------------------------


def _position_weights(target: np.ndarray, pscore: np.ndarray, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) weights ``target / pscore`` (0 where pscore is 0: past the slate's end) and the (n, K) valid mask."""
    p = _array(pscore, names[1], 2)
    t = _array(target, names[0], 2)
    if t.shape != p.shape:
        raise ValueError(f"{names[0]} has shape {t.shape}, {names[1]} has shape {p.shape}")
    if (p < 0).any() or (t < 0).any():
        raise ValueError(f"{names[0]} and {names[1]} must be non-negative")
    valid = p > 0
    w = np.zeros(p.shape)
    np.divide(t, p, out=w, where=valid)
    return w, valid


def _slate_rewards(reward: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    r = _array(reward, "reward", 2)
    if r.shape != shape:
        raise ValueError(f"reward has shape {r.shape}, expected {shape}")
    return r


def slate_standard_ips(reward: np.ndarray, slate_pscore: np.ndarray, slate_target: np.ndarray) -> np.ndarray:
    """Per-slate standard IPS terms ``(slate_target / slate_pscore) * sum_k r_k``: unbiased under any click model."""
    r = _array(reward, "reward", 2)
    p = _array(slate_pscore, "slate_pscore", 1, r.shape[0])
    t = _array(slate_target, "slate_target", 1, r.shape[0])
    if (p <= 0).any():
        raise ValueError("slate_pscore must be positive: a logged slate had probability > 0 under the logging policy")
    if (t < 0).any():
        raise ValueError("slate_target must be non-negative")
    return t / p * r.sum(axis=1)


def slate_independent_ips(reward: np.ndarray, position_pscore: np.ndarray, position_target: np.ndarray) -> np.ndarray:
    """Per-slate independent IPS terms sum_k (target_k / pscore_k) r_k (Li et al. 2018, "PI").

    ``position_*`` are the probabilities of the logged item at position k. Unbiased when the reward of a position
    depends only on the item there (position-based click models), biased otherwise. Positions with pscore 0 (past the
    slate's end) are ignored.
    """
    w, valid = _position_weights(position_target, position_pscore, ("position_target", "position_pscore"))
    r = _slate_rewards(reward, w.shape)
    return np.where(valid, w * r, 0.0).sum(axis=1)


def slate_cascade_ips(reward: np.ndarray, prefix_pscore: np.ndarray, prefix_target: np.ndarray) -> np.ndarray:
    """Per-slate cascade IPS terms sum_k (prefix_target_k / prefix_pscore_k) r_k (McInerney et al. 2020, "RIPS").

    ``prefix_*`` are the probabilities of the logged items at positions 0..k. Unbiased when a position's reward
    depends only on the items at positions 0..k (cascade models), biased when it depends on items below. Positions
    with pscore 0 (past the slate's end) are ignored.
    """
    w, valid = _position_weights(prefix_target, prefix_pscore, ("prefix_target", "prefix_pscore"))
    r = _slate_rewards(reward, w.shape)
    return np.where(valid, w * r, 0.0).sum(axis=1)


def _per_position_snips(num: np.ndarray, den: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(B,) sum over positions of ``num / den`` ((B, K) sums): 0 for a position no slate reaches, NaN if unweighted."""
    return np.where(seen > 0, _ratio(num, den), 0.0).sum(axis=1)


def evaluate_slate(
    reward: np.ndarray,
    slate_pscore: np.ndarray,
    slate_target: np.ndarray,
    position_pscore: np.ndarray,
    position_target: np.ndarray,
    prefix_pscore: np.ndarray,
    prefix_target: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    clusters: np.ndarray | None = None,
) -> list[OPEResult]:
    """Standard, independent and cascade slate IPS and their self-normalised forms, with percentile bootstrap intervals.

    Self-normalised standard IPS is sum_i w_i R_i / sum_i w_i (R the slate's reward); independent and cascade IPS
    normalise per position, sum_k (sum_i w_ik r_ik / sum_i w_ik). All estimators share the same ``n_boot`` resamples
    of the clusters (``clusters``, e.g. shopper ids: a shopper's slates drawn together) or, without, of the n slates,
    drawn from ``numpy.random.default_rng(seed)``, and self-normalised ones re-normalise in every resample.

    Results come in this order, named ``standard_ips``, ``independent_ips``, ``cascade_ips``, ``standard_snips``,
    ``independent_snips``, ``cascade_snips``. Per-position normalisation runs over the slates that reach position k
    (pscore > 0); a position no (resampled) slate reaches adds 0, one reached only by slates of weight 0 makes the
    estimate NaN. Intervals are two-sided at level ``1 - alpha``; ``n_boot`` = 0 gives NaN bounds.
    """
    _check_bootstrap(n_boot, alpha)
    r = _array(reward, "reward", 2)
    n, k = r.shape
    if n == 0:
        raise ValueError("no logged slates")
    standard = slate_standard_ips(r, slate_pscore, slate_target)
    w_s = _array(slate_target, "slate_target", 1, n) / _array(slate_pscore, "slate_pscore", 1, n)
    w_i, v_i = _position_weights(position_target, position_pscore, ("position_target", "position_pscore"))
    w_c, v_c = _position_weights(prefix_target, prefix_pscore, ("prefix_target", "prefix_pscore"))
    for name, w in (("position", w_i), ("prefix", w_c)):
        if w.shape != r.shape:
            raise ValueError(f"{name} arrays have shape {w.shape}, reward has shape {r.shape}")
    # columns: 0 standard terms, 1 slate weight, then K-wide blocks of terms, weights and reach per estimator
    blocks = [standard[:, None], w_s[:, None]]
    blocks += [np.where(v_i, w_i * r, 0.0), w_i, v_i.astype(np.float64)]
    blocks += [np.where(v_c, w_c * r, 0.0), w_c, v_c.astype(np.float64), np.ones((n, 1))]  # last: the rounds
    columns = np.concatenate(blocks, axis=1)
    ind = [slice(2 + i * k, 2 + (i + 1) * k) for i in range(3)]
    cas = [slice(2 + (3 + i) * k, 2 + (4 + i) * k) for i in range(3)]
    statistics: list[tuple[str, Statistic]] = [
        ("standard_ips", lambda s: s[:, 0] / s[:, -1]),
        ("independent_ips", lambda s: s[:, ind[0]].sum(axis=1) / s[:, -1]),
        ("cascade_ips", lambda s: s[:, cas[0]].sum(axis=1) / s[:, -1]),
        ("standard_snips", lambda s: _ratio(s[:, 0], s[:, 1])),
        ("independent_snips", lambda s: _per_position_snips(s[:, ind[0]], s[:, ind[1]], s[:, ind[2]])),
        ("cascade_snips", lambda s: _per_position_snips(s[:, cas[0]], s[:, cas[1]], s[:, cas[2]])),
    ]
    return _results(columns, statistics, n_boot=n_boot, seed=seed, alpha=alpha, clusters=clusters)


def slate_diagnostics(
    slate_pscore: np.ndarray,
    slate_target: np.ndarray,
    position_pscore: np.ndarray,
    position_target: np.ndarray,
    prefix_pscore: np.ndarray,
    prefix_target: np.ndarray,
    clusters: np.ndarray | None = None,
) -> dict[str, WeightDiagnostics]:
    """Weight diagnostics of each slate estimator's weights, keyed by estimator name.

    Standard IPS (and SNIPS): the whole slate's weight; independent: the position with the lowest ESS;
    cascade: the prefix with the lowest ESS (typically the deepest).
    """
    p = _array(slate_pscore, "slate_pscore", 1)
    ids = None if clusters is None else np.asarray(clusters)
    slate = weight_diagnostics(_array(slate_target, "slate_target", 1, p.size) / p, "slate", ids)
    w_i, v_i = _position_weights(position_target, position_pscore, ("position_target", "position_pscore"))
    w_c, v_c = _position_weights(prefix_target, prefix_pscore, ("prefix_target", "prefix_pscore"))
    pos, pre = _worst(w_i, v_i, "position (worst)", ids), _worst(w_c, v_c, "prefix (worst)", ids)
    return {"standard_ips": slate, "standard_snips": slate, "independent_ips": pos, "independent_snips": pos,
            "cascade_ips": pre, "cascade_snips": pre}  # fmt: skip
