"""Slate off-policy estimators: standard, independent (position-based) and cascade IPS, and their self-normalised forms.

The action is a whole slate of K positions; ``reward`` (n, K) holds what each position earned. The
arrays a slate estimator reads, by name: ``slate_pscore`` / ``slate_target`` (n,), the logging and
target probabilities of the whole logged slate; ``position_pscore`` / ``position_target`` (n, K), of
the logged item at position k; ``prefix_pscore`` / ``prefix_target`` (n, K), of the logged items at
positions 0..k. A position with pscore 0 is past the slate's end and is ignored.

Self-normalised standard IPS is ``sum_i w_i R_i / sum_i w_i`` (R the slate's reward); independent and
cascade IPS normalise per position, ``sum_k (sum_i w_ik r_ik / sum_i w_ik)`` over the slates that reach
position k: a position no (resampled) slate reaches adds 0, one reached only by slates of weight 0
makes the estimate NaN. Intervals: ``estimators.estimate`` (the same shared bootstrap).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

import numpy as np

from basketgym.eval.offpolicy.estimators import ROUNDS, BaseOffPolicyEstimator, Columns, nan_ratio
from basketgym.eval.stats.checks import check_array, check_probabilities, check_propensities

SLATE_KEYS = ("slate_pscore", "slate_target", "position_pscore", "position_target", "prefix_pscore", "prefix_target")


def position_weights(target: np.ndarray, pscore: np.ndarray, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) weights ``target / pscore`` (0 where pscore is 0: past the slate's end) and the (n, K) valid mask."""
    p = check_array(pscore, names[1], 2)
    t = check_array(target, names[0], 2)
    if t.shape != p.shape:
        raise ValueError(f"{names[0]} has shape {t.shape}, {names[1]} has shape {p.shape}")
    if (p < 0).any() or (t < 0).any():
        raise ValueError(f"{names[0]} and {names[1]} must be non-negative")
    valid = p > 0
    w = np.zeros(p.shape)
    np.divide(t, p, out=w, where=valid)
    return w, valid


def slate_weights(slate_pscore: np.ndarray, slate_target: np.ndarray, n: int | None = None) -> np.ndarray:
    """(n,) whole-slate weights ``slate_target / slate_pscore``; every logged slate had a positive probability."""
    p = check_propensities(slate_pscore, "slate_pscore", n, what="slate")
    return check_probabilities(slate_target, "slate_target", 1, len(p)) / p


def _rewards(reward: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    r = check_array(reward, "reward", 2)
    if r.shape[0] == 0:
        raise ValueError("no logged slates")
    if shape is not None and r.shape != shape:
        raise ValueError(f"reward has shape {r.shape}, expected {shape}")
    return r


class SlateEstimator(BaseOffPolicyEstimator):
    """An estimator of logged slates: ``reward`` (n, K) and the probabilities it weighs by (module docstring)."""

    def columns(self, *, reward: np.ndarray, **probabilities: np.ndarray) -> Columns:
        """Per-slate columns of the checked arrays; unknown array names are refused."""
        unknown = sorted(set(probabilities) - set(SLATE_KEYS))
        if unknown:
            raise TypeError(f"{self.name}: unknown logged arrays {unknown}; slate arrays are {', '.join(SLATE_KEYS)}")
        return self.slate_columns(reward, probabilities)

    @abstractmethod
    def slate_columns(self, reward: np.ndarray, probabilities: Mapping[str, np.ndarray]) -> Columns:
        """Per-slate columns from the rewards and the probabilities this estimator needs."""

    def _need(self, probabilities: Mapping[str, np.ndarray], *keys: str) -> list[np.ndarray]:
        missing = [k for k in keys if k not in probabilities]
        if missing:
            raise ValueError(f"{self.name} needs {', '.join(missing)}")
        return [probabilities[k] for k in keys]


class _Standard(SlateEstimator):
    def slate_columns(self, reward: np.ndarray, probabilities: Mapping[str, np.ndarray]) -> Columns:
        """The slate's weight times its total reward, and the weight."""
        r = _rewards(reward)
        w = slate_weights(*self._need(probabilities, "slate_pscore", "slate_target"), r.shape[0])
        return {"slate_terms": w * r.sum(axis=1), "slate_weight": w}


class StandardIPS(_Standard):
    """Standard slate IPS: the mean of ``(slate_target / slate_pscore) sum_k r_k``; unbiased under any click model."""

    name = "standard_ips"

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """The mean of the weighted slate rewards."""
        return sums["slate_terms"] / sums[ROUNDS]


class StandardSNIPS(_Standard):
    """Self-normalised standard IPS: ``sum_i w_i R_i / sum_i w_i``."""

    name = "standard_snips"

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """Weighted rewards over weights."""
        return nan_ratio(sums["slate_terms"], sums["slate_weight"])


class _PerPosition(SlateEstimator):
    """Weights per position: of the item at k alone (``position``) or of the items at 0..k (``prefix``)."""

    kind = ""

    def slate_columns(self, reward: np.ndarray, probabilities: Mapping[str, np.ndarray]) -> Columns:
        """Per position: weighted rewards, weights and whether the slate reaches it."""
        k = self.kind
        pscore, target = self._need(probabilities, f"{k}_pscore", f"{k}_target")
        w, valid = position_weights(target, pscore, (f"{k}_target", f"{k}_pscore"))
        r = _rewards(reward)
        if w.shape != r.shape:
            raise ValueError(f"{k} arrays have shape {w.shape}, reward has shape {r.shape}")
        return {f"{k}_terms": np.where(valid, w * r, 0.0), f"{k}_weights": w, f"{k}_reach": valid.astype(np.float64)}

    def ips(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """``sum_k w_k r_k`` per slate, averaged."""
        return sums[f"{self.kind}_terms"].sum(axis=1) / sums[ROUNDS]

    def snips(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """``sum_k (sum_i w_ik r_ik / sum_i w_ik)``: 0 for a position no slate reaches, NaN if reached unweighted."""
        k = self.kind
        ratio = nan_ratio(sums[f"{k}_terms"], sums[f"{k}_weights"])
        return np.where(sums[f"{k}_reach"] > 0, ratio, 0.0).sum(axis=1)


class IndependentIPS(_PerPosition):
    """Independent IPS (Li et al. 2018, "PI"): ``sum_k (target_k / pscore_k) r_k`` with the position marginals.

    Unbiased when a position's reward depends only on the item there (position-based click models).
    """

    name, kind = "independent_ips", "position"

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """See ``_PerPosition.ips``."""
        return self.ips(sums)


class IndependentSNIPS(_PerPosition):
    """Independent IPS normalised per position."""

    name, kind = "independent_snips", "position"

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """See ``_PerPosition.snips``."""
        return self.snips(sums)


class CascadeIPS(_PerPosition):
    """Cascade IPS (McInerney et al. 2020, "RIPS"): ``sum_k (prefix_target_k / prefix_pscore_k) r_k``.

    Unbiased when a position's reward depends only on the items at positions 0..k (cascade models).
    """

    name, kind = "cascade_ips", "prefix"

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """See ``_PerPosition.ips``."""
        return self.ips(sums)


class CascadeSNIPS(_PerPosition):
    """Cascade IPS normalised per position."""

    name, kind = "cascade_snips", "prefix"

    def statistic(self, sums: Mapping[str, np.ndarray]) -> np.ndarray:
        """See ``_PerPosition.snips``."""
        return self.snips(sums)


def slate_estimators() -> list[SlateEstimator]:
    """The standard slate set, in report order: standard, independent and cascade IPS, then their SNIPS forms."""
    return [StandardIPS(), IndependentIPS(), CascadeIPS(), StandardSNIPS(), IndependentSNIPS(), CascadeSNIPS()]
