"""Slate off-policy estimators on enumerable slates with exactly known truth under three click models (fixed seeds).

Statistical checks compare the mean of an estimator over many independent logged datasets with the exact value of
the target policy: "unbiased" means within 3 standard errors of that mean, "biased" means more than 5.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from basketgym.eval.offpolicy.estimators import estimate
from basketgym.eval.offpolicy.slate import CascadeIPS, IndependentIPS, StandardIPS, slate_estimators


def _bias_in_se(estimates: np.ndarray, truth: float) -> float:
    """(mean - truth) in standard errors of the mean over independent datasets."""
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    return float((estimates.mean() - truth) / se)


def evaluate_slate(**logged) -> list:
    """The standard slate set on one log (what the ``ope`` command reports)."""
    return estimate(slate_estimators(), **logged)


# --- slates: 6 items, 3 positions, no context: every ordered slate can be enumerated --------------------------------

N_ITEMS, K = 6, 3
SLATES = np.array(list(itertools.permutations(range(N_ITEMS), K)))  # (120, 3) all ordered slates


@dataclass(frozen=True)
class SlatePolicy:
    """Exact probabilities of every ordered slate: of the slate, of its item at each position, of each prefix."""

    slate: np.ndarray  # (S,)
    position: np.ndarray  # (S, K) P(item SLATES[s, k] at position k)
    prefix: np.ndarray  # (S, K) P(positions 0..k hold SLATES[s, :k + 1])


def _plackett_luce(theta: np.ndarray) -> SlatePolicy:
    """A Plackett-Luce ranker's slate, position-marginal and prefix probabilities, by enumeration."""
    th = theta[SLATES]
    taken = np.concatenate([np.zeros((len(SLATES), 1)), np.cumsum(th, axis=1)[:, :-1]], axis=1)
    prefix = np.cumprod(th / (theta.sum() - taken), axis=1)  # each pick among the items not yet placed
    slate = prefix[:, -1]
    marginal = np.zeros((K, N_ITEMS))
    for k in range(K):
        np.add.at(marginal[k], SLATES[:, k], slate)
    return SlatePolicy(slate, marginal[np.arange(K), SLATES], prefix)


LOGGER = _plackett_luce(np.array([2.0, 1.5, 1.2, 1.0, 0.8, 0.6]))
TARGET = _plackett_luce(np.array([0.5, 0.8, 1.0, 1.5, 2.0, 3.0]))  # prefers what the logger ranks low
ATTRACTION = np.array([0.6, 0.5, 0.4, 0.3, 0.7, 0.8])
EXAMINATION = np.array([1.0, 0.6, 0.35])

# (S, K) expected click at each position of each slate under three click models
_above_unclicked = np.cumprod(
    np.concatenate([np.ones((len(SLATES), 1)), 1 - ATTRACTION[SLATES][:, :-1]], axis=1), axis=1
)
CLICK_MODELS = {
    "position_based": EXAMINATION * ATTRACTION[SLATES],
    "cascade": ATTRACTION[SLATES] * _above_unclicked,  # scan top-down, stop after the first click
    # every position's clicks drop by 60% when item 5 is anywhere in the slate, above or below
    "whole_slate": EXAMINATION * ATTRACTION[SLATES] * np.where((SLATES == 5).any(axis=1), 0.4, 1.0)[:, None],
}


def _slate_truth(model: str) -> float:
    return float(TARGET.slate @ CLICK_MODELS[model].sum(axis=1))


def _slate_logs(model: str, n_datasets: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """(datasets, n[, K]) arrays of slates drawn from the logger, with clicks drawn from the click model."""
    rng = np.random.default_rng(seed)
    s = rng.choice(len(SLATES), size=(n_datasets, n), p=LOGGER.slate)
    u = rng.random((n_datasets, n, K))
    if model == "cascade":
        attracted = u < ATTRACTION[SLATES[s]]
        reward = attracted & (np.cumsum(attracted, axis=-1) == 1)  # the first attractive item is clicked
    else:
        reward = u < CLICK_MODELS[model][s]
    return {
        "reward": reward.astype(np.float64),
        "slate_pscore": LOGGER.slate[s],
        "slate_target": TARGET.slate[s],
        "position_pscore": LOGGER.position[s],
        "position_target": TARGET.position[s],
        "prefix_pscore": LOGGER.prefix[s],
        "prefix_target": TARGET.prefix[s],
    }


def _one(logs: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    return {k: v[i] for k, v in logs.items()}


def test_slate_probabilities_are_consistent():
    for policy in (LOGGER, TARGET):
        assert policy.slate.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(policy.prefix[:, -1], policy.slate)
        for k in range(K):  # each position holds exactly one item
            per_item = np.zeros(N_ITEMS)
            np.add.at(per_item, SLATES[:, k], policy.slate)
            np.testing.assert_allclose(per_item[SLATES[:, k]], policy.position[:, k])
            assert per_item.sum() == pytest.approx(1.0)
    # the cascade simulation's click rates match the model's expectation
    logs = _slate_logs("cascade", 1, 50_000, seed=20)
    expected = LOGGER.slate @ CLICK_MODELS["cascade"]
    # binomial se of a rate near 0.3 over 50,000 slates is ~0.002: 0.01 is 5 se
    np.testing.assert_allclose(logs["reward"][0].mean(axis=0), expected, atol=0.01)


# (click model, estimator, unbiased?): slate IPS is unbiased under any click model; independent IPS only when a
# position's reward depends on its own item alone; cascade IPS only when it depends on the items above (and its own).
# Measured bias in se (200 datasets of 2,000 slates) after each case.
SLATE_CASES = [
    ("position_based", "standard", True),  # +0.79
    ("position_based", "independent", True),  # +0.47
    ("position_based", "cascade", True),  # +0.68
    ("cascade", "standard", True),  # +0.91
    ("cascade", "cascade", True),  # +1.46
    ("cascade", "independent", False),  # +41.5 (1.014 vs truth 0.940)
    ("whole_slate", "standard", True),  # +0.09
    ("whole_slate", "cascade", False),  # +59.9 (0.698 vs truth 0.575)
    ("whole_slate", "independent", False),  # +137.0 (0.788 vs truth 0.575)
]


@pytest.fixture(scope="module")
def slate_estimates() -> dict[tuple[str, str], np.ndarray]:
    """Per (click model, estimator): (200,) estimates over independent datasets of 2,000 logged slates."""
    out = {}
    for model in CLICK_MODELS:
        logs = _slate_logs(model, 200, 2000, seed=21)
        for i in range(200):
            d = _one(logs, i)
            for name, estimator in (("standard", StandardIPS()), ("independent", IndependentIPS()),
                                    ("cascade", CascadeIPS())):  # fmt: skip
                out.setdefault((model, name), []).append(estimator.estimate_policy_value(**d))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize(("model", "estimator", "unbiased"), SLATE_CASES)
def test_slate_estimators_are_unbiased_exactly_under_their_click_models(slate_estimates, model, estimator, unbiased):
    bias = _bias_in_se(slate_estimates[(model, estimator)], _slate_truth(model))
    if unbiased:
        assert abs(bias) < 3
    else:
        assert abs(bias) > 5


def test_self_normalised_slate_estimators_are_finite_and_inside_their_intervals():
    d = _one(_slate_logs("position_based", 1, 2000, seed=22), 0)
    res = evaluate_slate(**d, n_boot=1000, seed=4)
    names = ["standard_ips", "independent_ips", "cascade_ips", "standard_snips", "independent_snips", "cascade_snips"]
    assert [r.estimator for r in res] == names
    got = {r.estimator: r for r in res}
    w = d["slate_target"] / d["slate_pscore"]
    assert got["standard_ips"].value == pytest.approx(np.mean(w * d["reward"].sum(axis=1)))
    wk = d["position_target"] / d["position_pscore"]
    assert got["independent_ips"].value == pytest.approx(np.mean((wk * d["reward"]).sum(axis=1)))
    wp = d["prefix_target"] / d["prefix_pscore"]
    assert got["cascade_ips"].value == pytest.approx(np.mean((wp * d["reward"]).sum(axis=1)))
    # each estimator alone reads only its own arrays
    assert IndependentIPS().estimate_policy_value(
        reward=d["reward"], position_pscore=d["position_pscore"], position_target=d["position_target"]
    ) == pytest.approx(got["independent_ips"].value, rel=1e-12)
    assert got["standard_snips"].value == pytest.approx(np.sum(w * d["reward"].sum(axis=1)) / np.sum(w))
    assert got["independent_snips"].value == pytest.approx(np.sum((wk * d["reward"]).sum(0) / wk.sum(0)))
    for r in res:
        assert np.isfinite([r.value, r.ci_low, r.ci_high]).all() and r.n == 2000
        assert r.ci_low <= r.value <= r.ci_high, r
    assert res == evaluate_slate(**d, n_boot=1000, seed=4)
    assert res != evaluate_slate(**d, n_boot=1000, seed=5)


def test_positions_past_the_slate_end_are_ignored():
    d = _one(_slate_logs("position_based", 1, 300, seed=23), 0)
    short = {k: v[:, :2] if v.ndim == 2 else v for k, v in d.items()}  # the same slates cut to two positions
    short["slate_pscore"], short["slate_target"] = d["prefix_pscore"][:, 1], d["prefix_target"][:, 1]
    padded = {k: np.concatenate([v, np.zeros((300, 1))], axis=1) if v.ndim == 2 else v for k, v in short.items()}
    padded["position_target"][:, 2] = 0.7  # whatever the target says past the end, pscore 0 means ignore it
    padded["prefix_target"][:, 2] = 0.7
    for estimator, p, t in ((IndependentIPS(), "position_pscore", "position_target"),
                            (CascadeIPS(), "prefix_pscore", "prefix_target")):  # fmt: skip
        longer = estimator.estimate_policy_value(reward=padded["reward"], **{p: padded[p], t: padded[t]})
        assert longer == estimator.estimate_policy_value(reward=short["reward"], **{p: short[p], t: short[t]})
    # the same slates and resamples: every value and interval is unchanged by the padding (up to rounding)
    for a, b in zip(
        evaluate_slate(**padded, n_boot=200, seed=1), evaluate_slate(**short, n_boot=200, seed=1), strict=True
    ):
        assert a.estimator == b.estimator
        assert (a.value, a.ci_low, a.ci_high) == pytest.approx((b.value, b.ci_low, b.ci_high), rel=1e-12)
    # mixed lengths: half the slates end after two positions
    mixed = {k: v.copy() for k, v in d.items()}
    for key in ("reward", "position_pscore", "prefix_pscore"):
        mixed[key][::2, 2] = 0.0
    for r in evaluate_slate(**mixed, n_boot=200, seed=1):
        assert np.isfinite([r.value, r.ci_low, r.ci_high]).all(), r


def test_a_slate_estimator_names_what_it_misses():
    d = _one(_slate_logs("position_based", 1, 50, seed=24), 0)
    with pytest.raises(ValueError, match="cascade_ips needs prefix_pscore, prefix_target"):
        CascadeIPS().estimate_policy_value(reward=d["reward"], slate_pscore=d["slate_pscore"])
    with pytest.raises(TypeError, match="unknown logged arrays \\['pscore'\\]"):
        StandardIPS().estimate_policy_value(reward=d["reward"], pscore=d["slate_pscore"])
    with pytest.raises(ValueError, match="slate_pscore must be positive: a logged slate"):
        StandardIPS().estimate_policy_value(reward=d["reward"], slate_pscore=0 * d["slate_pscore"],
                                            slate_target=d["slate_target"])  # fmt: skip
