"""Off-policy estimators: a common base, and IPS, SNIPS, DM, DR, SNDR and Switch-DR for single slots.

An estimator is a small class (Open Bandit Pipeline's shape): ``estimate_policy_value(**logged)`` and
``estimate_interval(**logged, n_boot=, seed=, alpha=, clusters=)``, with the logged arrays passed by
their well-known names and checked where they enter (``stats.checks``). A round's importance weight
is ``w = target_prob / pscore``: the target policy's probability of the logged action over the
logging policy's.

Every estimator here is a function of per-round column sums (``columns`` and ``statistic``): means
divide a column's sum by the number of rounds, self-normalised estimators divide by the sum of the
weights. ``estimate`` runs several estimators on the same data and the same bootstrap resamples
(``stats.bootstrap.bootstrap_sums``): over clusters (``clusters``: one id per round, e.g. the shopper —
a shopper's slates share their state, so the independent unit is the shopper, not the slate) or,
without, over rounds; self-normalised estimators re-normalise inside every resample. A resample in
which a self-normalised estimator is undefined (zero total weight) makes its interval NaN; a zero
total weight in the data makes its value NaN. Columns are keyed by what they hold (``wr``: w r), so
estimators that share a column share it in the bootstrap's matrix.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from basketgym.eval.stats.bootstrap import bootstrap_sums
from basketgym.eval.stats.checks import (
    check_alpha,
    check_array,
    check_n_boot,
    check_positive,
    check_probabilities,
    check_propensities,
)

Columns = dict[str, np.ndarray]  # per-round values by name: (n,) or (n, K)
ROUNDS = "rounds"  # the column of ones every estimate gets: its sum is the (resampled) number of rounds


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


def nan_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN (without a warning) where ``den`` is 0."""
    num, den = np.broadcast_arrays(np.asarray(num, np.float64), np.asarray(den, np.float64))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


class BaseOffPolicyEstimator(ABC):
    """An estimator of a target policy's value whose estimate is a function of per-round column sums.

    Subclasses give the per-round ``columns`` (checked) and the ``statistic`` of their sums; the
    base turns them into a value and a percentile bootstrap interval.
    """

    name: str = ""

    @abstractmethod
    def columns(self, **logged: np.ndarray) -> Columns:
        """Per-round columns of the logged arrays, checked; the estimate is ``statistic`` of their sums."""

    @abstractmethod
    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """(B,) estimates from B samples' column sums (``ROUNDS``: the number of rounds in each)."""

    def estimate_policy_value(self, **logged: np.ndarray) -> float:
        """The estimate of the target's value from the logged arrays."""
        return estimate([self], n_boot=0, **logged)[0].value

    def estimate_interval(
        self,
        *,
        n_boot: int = 1000,
        seed: int = 0,
        alpha: float = 0.05,
        clusters: np.ndarray | None = None,
        **logged: np.ndarray,
    ) -> OPEResult:
        """The estimate with its percentile bootstrap interval at level ``1 - alpha`` (see ``estimate``)."""
        return estimate([self], n_boot=n_boot, seed=seed, alpha=alpha, clusters=clusters, **logged)[0]


def estimate(
    estimators: Sequence[BaseOffPolicyEstimator],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    clusters: np.ndarray | None = None,
    **logged: np.ndarray,
) -> list[OPEResult]:
    """Every estimator on the same logged arrays, with percentile intervals over the same bootstrap resamples.

    Resamples of the clusters (``clusters``: one id per round; all of a cluster's rounds are drawn
    together) or, without, of the rounds, drawn from ``numpy.random.default_rng(seed)`` (reproducible).
    Intervals are two-sided at level ``1 - alpha``; ``n_boot`` = 0 gives NaN bounds.
    """
    check_n_boot(n_boot)
    check_alpha(alpha)
    columns: Columns = {}
    for e in estimators:
        columns.update(e.columns(**logged))
    n = len(next(iter(columns.values())))
    columns[ROUNDS] = np.ones(n)
    found = bootstrap_sums(columns, [(e.name, e.statistic) for e in estimators], n_boot=n_boot, seed=seed,
                           alpha=alpha, clusters=clusters)  # fmt: skip
    return [OPEResult(name, iv.value, iv.low, iv.high, n) for name, iv in found]


# ---- single-slot (contextual bandit) estimators ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Rounds:
    """Single-slot rounds, checked: rewards, importance weights, and the reward model's predictions if given."""

    r: np.ndarray
    w: np.ndarray
    q_logged: np.ndarray | None
    q_target: np.ndarray | None


def _rounds(reward: np.ndarray, pscore: np.ndarray, target_prob: np.ndarray, q_hat_logged: np.ndarray | None = None,
            q_hat_target: np.ndarray | None = None, *, model: bool = False) -> _Rounds:  # fmt: skip
    r = check_array(reward, "reward", 1)
    if r.size == 0:
        raise ValueError("no logged rounds")
    p = check_propensities(pscore, "pscore", r.size)
    w = check_probabilities(target_prob, "target_prob", 1, r.size) / p
    if model and (q_hat_logged is None or q_hat_target is None):
        raise ValueError("q_hat_logged and q_hat_target are needed: this estimator uses a reward model")
    q_l = None if q_hat_logged is None else check_array(q_hat_logged, "q_hat_logged", 1, r.size)
    q_t = None if q_hat_target is None else check_array(q_hat_target, "q_hat_target", 1, r.size)
    return _Rounds(r, w, q_l, q_t)


class SingleSlotEstimator(BaseOffPolicyEstimator):
    """An estimator of single-slot rounds: ``reward``, ``pscore``, ``target_prob`` and a reward model's predictions.

    All (n,); model-based estimators also read ``q_hat_logged`` (the model at the logged action) and
    ``q_hat_target`` (its expected value under the target at the round's context).
    """

    uses_model = False

    def columns(
        self,
        *,
        reward: np.ndarray,
        pscore: np.ndarray,
        target_prob: np.ndarray,
        q_hat_logged: np.ndarray | None = None,
        q_hat_target: np.ndarray | None = None,
    ) -> Columns:
        """Per-round columns of the checked rounds."""
        return self.round_columns(_rounds(reward, pscore, target_prob, q_hat_logged, q_hat_target,
                                          model=self.uses_model))  # fmt: skip

    @abstractmethod
    def round_columns(self, rounds: _Rounds) -> Columns:
        """Per-round columns of checked rounds."""


class _Clipped(SingleSlotEstimator):
    """An estimator whose importance weights may be clipped at ``clip`` (``min(w, clip)``)."""

    def __init__(self, name: str, key: str, clip: float | None):
        self.clip = None if clip is None else check_positive(clip, "clip")
        self.name = name if clip is None else f"{name}_clipped"
        self.key = key if clip is None else f"{key}(clip={clip!r})"

    def weights(self, rounds: _Rounds) -> np.ndarray:
        """The rounds' importance weights, clipped when asked."""
        return rounds.w if self.clip is None else np.minimum(rounds.w, self.clip)


class IPS(_Clipped):
    """Inverse propensity scoring: the mean of ``w r``, w optionally clipped at ``clip`` (``min(w, clip)``).

    Unbiased when the propensities are right and the target's actions all have positive logging
    probability; clipping trades a downward bias for lower variance.
    """

    def __init__(self, clip: float | None = None):
        super().__init__("ips", "wr", clip)

    def round_columns(self, rounds: _Rounds) -> Columns:
        """``w r`` per round (w clipped when asked)."""
        return {self.key: self.weights(rounds) * rounds.r}

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """The mean of ``w r``."""
        return sums[self.key] / sums[ROUNDS]


class SNIPS(SingleSlotEstimator):
    """Self-normalised IPS: ``sum(w r) / sum(w)``; NaN when every weight is 0."""

    name = "snips"

    def round_columns(self, rounds: _Rounds) -> Columns:
        """``w r`` and ``w`` per round."""
        return {"wr": rounds.w * rounds.r, "w": rounds.w}

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """``sum(w r) / sum(w)``."""
        return nan_ratio(sums["wr"], sums["w"])


class DM(SingleSlotEstimator):
    """Direct method: the mean of the reward model's expected value under the target at each context."""

    name = "dm"
    uses_model = True

    def round_columns(self, rounds: _Rounds) -> Columns:
        """The model's expected reward under the target per round."""
        return {"dm": rounds.q_target}

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """Its mean."""
        return sums["dm"] / sums[ROUNDS]


class DR(_Clipped):
    """Doubly robust: the mean of ``q_hat_target + w (r - q_hat_logged)``, w optionally clipped at ``clip``.

    Unbiased when the propensities are right, whatever the reward model; the model only moves the variance.
    """

    uses_model = True

    def __init__(self, clip: float | None = None):
        super().__init__("dr", "dr", clip)

    def round_columns(self, rounds: _Rounds) -> Columns:
        """``q_hat_target + w (r - q_hat_logged)`` per round."""
        return {self.key: rounds.q_target + self.weights(rounds) * (rounds.r - rounds.q_logged)}

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """Their mean."""
        return sums[self.key] / sums[ROUNDS]


class SNDR(SingleSlotEstimator):
    """Self-normalised DR: ``mean(q_hat_target) + sum(w (r - q_hat_logged)) / sum(w)``; NaN when every weight is 0."""

    name = "sndr"
    uses_model = True

    def round_columns(self, rounds: _Rounds) -> Columns:
        """The model's term, the weighted residual and the weight per round."""
        return {"dm": rounds.q_target, "w_res": rounds.w * (rounds.r - rounds.q_logged), "w": rounds.w}

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """``mean(q_hat_target) + sum(w (r - q_hat_logged)) / sum(w)``."""
        return sums["dm"] / sums[ROUNDS] + nan_ratio(sums["w_res"], sums["w"])


class SwitchDR(SingleSlotEstimator):
    """Switch-DR (Wang et al. 2017): DR terms where ``w <= tau``, DM terms where ``w > tau``.

    Per-round terms ``q_hat_target + 1[w <= tau] w (r - q_hat_logged)``: rounds whose weight would blow
    up the variance fall back on the reward model. ``tau`` defaults to the 95th percentile of the
    positive weights of the whole log (zero weights never blow up), held fixed across resamples.
    """

    name = "switch_dr"
    uses_model = True

    def __init__(self, tau: float | None = None):
        self.tau = tau
        self.key = "switch_dr" if tau is None else f"switch_dr(tau={tau!r})"

    def round_columns(self, rounds: _Rounds) -> Columns:
        """The switched DR/DM term per round."""
        tau = self.tau
        if tau is None:
            positive = rounds.w[rounds.w > 0]
            tau = float(np.percentile(positive, 95)) if len(positive) else 0.0
        return {self.key: rounds.q_target + np.where(rounds.w <= tau, rounds.w * (rounds.r - rounds.q_logged), 0.0)}

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """Their mean."""
        return sums[self.key] / sums[ROUNDS]


def single_slot_estimators(clip: float | None = None, tau: float | None = None) -> list[SingleSlotEstimator]:
    """The standard single-slot set in report order: IPS, IPS clipped (with ``clip``), SNIPS, DM, DR, SNDR, Switch-DR.

    ``tau``: Switch-DR's threshold (by default from the log).
    """
    clipped = [] if clip is None else [IPS(clip)]
    return [IPS(), *clipped, SNIPS(), DM(), DR(), SNDR(), SwitchDR(tau)]
