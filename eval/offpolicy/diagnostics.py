"""How well logged data support a target: importance-weight diagnostics (support, ESS, top-1% mass, mean weight).

Every estimator family comes with the diagnostics of its weights (``weight_diagnostics``; slates:
``slate_diagnostics``); an estimate whose effective sample size is below ``MIN_ESS``, or whose mean
weight is significantly below 1 (target mass on actions the log never shows), is flagged as
unsupported (``WeightDiagnostics.unsupported``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from basketgym.eval.offpolicy.slate import position_weights, slate_weights
from basketgym.eval.stats.bootstrap import cluster_sums
from basketgym.eval.stats.checks import check_array

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
    w = check_array(w, "w", 1)
    total, sq = float(w.sum()), float(w @ w)
    top = max(1, int(np.ceil(0.01 * w.size)))
    share = float(np.sort(w)[-top:].sum() / total) if total > 0 else float("nan")
    mean = total / w.size if w.size else float("nan")
    sums = cluster_sums(np.column_stack([w, np.ones(w.size)]), clusters)  # (G, 2): weight and rounds per cluster
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
    ids = None if clusters is None else np.asarray(clusters)
    slate = weight_diagnostics(slate_weights(slate_pscore, slate_target), "slate", ids)
    w_i, v_i = position_weights(position_target, position_pscore, ("position_target", "position_pscore"))
    w_c, v_c = position_weights(prefix_target, prefix_pscore, ("prefix_target", "prefix_pscore"))
    pos, pre = _worst(w_i, v_i, "position (worst)", ids), _worst(w_c, v_c, "prefix (worst)", ids)
    return {"standard_ips": slate, "standard_snips": slate, "independent_ips": pos, "independent_snips": pos,
            "cascade_ips": pre, "cascade_snips": pre}  # fmt: skip
