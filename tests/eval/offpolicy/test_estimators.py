"""Single-slot off-policy estimators on synthetic bandit logs with exactly known truth (fixed seeds).

Statistical checks compare the mean of an estimator over many independent logged datasets with the exact value of
the target policy: "unbiased" means within 3 standard errors of that mean (a two-sided 0.3% chance of a false alarm
for an unbiased estimator), "biased" means more than 5 standard errors off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from basketgym.eval.offpolicy.estimators import (
    DM,
    DR,
    IPS,
    SNDR,
    SNIPS,
    BaseOffPolicyEstimator,
    OPEResult,
    SwitchDR,
    estimate,
    single_slot_estimators,
)


def evaluate_single(reward, pscore, target_prob, q_hat_logged, q_hat_target, *, clip=None, tau=None, **kw):
    """The standard single-slot set on one log (what the ``ope`` command reports)."""
    logged = {"reward": reward, "pscore": pscore, "target_prob": target_prob, "q_hat_logged": q_hat_logged,
              "q_hat_target": q_hat_target}  # fmt: skip
    return estimate(single_slot_estimators(clip, tau), **logged, **kw)


N_DATASETS = 300  # independent logged datasets per statistical check
N_ROUNDS = 2000  # logged rounds per dataset


def _bias_in_se(estimates: np.ndarray, truth: float) -> float:
    """(mean - truth) in standard errors of the mean over independent datasets."""
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    return float((estimates.mean() - truth) / se)


def _rmse(estimates: np.ndarray, truth: float) -> float:
    return float(np.sqrt(np.mean((estimates - truth) ** 2)))


# --- exact checks on a hand-made log -------------------------------------------------------------------------------

# four rounds: weights w = target / pscore = [2, 0, 0.5, 4]
R4 = np.array([1.0, 0.0, 1.0, 0.0])
P4 = np.array([0.5, 0.25, 0.8, 0.25])
T4 = np.array([1.0, 0.0, 0.4, 1.0])
QL4 = np.array([0.5, 0.5, 0.5, 0.25])
QT4 = np.array([0.6, 0.2, 0.4, 0.3])


L4 = {"reward": R4, "pscore": P4, "target_prob": T4, "q_hat_logged": QL4, "q_hat_target": QT4}


def _value(estimator: BaseOffPolicyEstimator, **logged) -> float:
    return estimator.estimate_policy_value(**{**L4, **logged})


def test_single_slot_formulas_by_hand():
    assert _value(IPS()) == pytest.approx(np.mean([2.0, 0.0, 0.5, 0.0]))
    assert _value(IPS(clip=1.0)) == pytest.approx(np.mean([1.0, 0.0, 0.5, 0.0]))
    assert _value(SNIPS()) == pytest.approx(2.5 / 6.5)
    assert _value(DM()) == pytest.approx(QT4.mean())
    # q_target + w (r - q_logged): 0.6 + 2*0.5, 0.2 + 0, 0.4 + 0.5*0.5, 0.3 + 4*(-0.25)
    assert _value(DR()) == pytest.approx(np.mean([1.6, 0.2, 0.65, -0.7]))
    assert _value(DR(clip=1.0)) == pytest.approx(np.mean([1.1, 0.2, 0.65, 0.05]))
    # mean(q_target) + (1 + 0 + 0.25 - 1) / 6.5
    assert _value(SNDR()) == pytest.approx(0.375 + 0.25 / 6.5)
    # tau = 1: rounds with w = 2 and w = 4 fall back on the model
    assert _value(SwitchDR(tau=1.0)) == pytest.approx(np.mean([0.6, 0.2, 0.65, 0.3]))


def test_switch_dr_spans_dm_and_dr():
    assert _value(SwitchDR(tau=np.inf)) == pytest.approx(_value(DR()), rel=1e-12)
    assert _value(SwitchDR(tau=-1.0)) == pytest.approx(_value(DM()), rel=1e-12)


def test_an_estimator_alone_equals_its_row_in_the_shared_bootstrap():
    """``estimate_interval`` of one estimator draws the same resamples as the whole set: the same interval."""
    together = {r.estimator: r for r in evaluate_single(R4, P4, T4, QL4, QT4, n_boot=200, seed=3)}
    for estimator in single_slot_estimators():
        alone, row = estimator.estimate_interval(**L4, n_boot=200, seed=3), together[estimator.name]
        # bit for bit (NaN where a resample has no weight: snips and sndr on four rounds)
        np.testing.assert_array_equal([alone.value, alone.ci_low, alone.ci_high], [row.value, row.ci_low, row.ci_high])


def test_the_model_based_estimators_need_the_reward_model():
    logged = {"reward": R4, "pscore": P4, "target_prob": T4}
    assert IPS().estimate_policy_value(**logged) == pytest.approx(0.625)
    for estimator in (DM(), DR(), SNDR(), SwitchDR()):
        with pytest.raises(ValueError, match="q_hat_logged and q_hat_target are needed"):
            estimator.estimate_policy_value(**logged)
    with pytest.raises(TypeError, match="position_pscore"):
        IPS().estimate_policy_value(**logged, position_pscore=P4)  # a slate array: not silently ignored


def test_evaluate_single_values_match_the_estimators():
    res = evaluate_single(R4, P4, T4, QL4, QT4, clip=1.0, tau=1.0, n_boot=200, seed=3)
    assert all(isinstance(r, OPEResult) and r.n == 4 for r in res)
    got = {r.estimator: r.value for r in res}
    assert list(got) == ["ips", "ips_clipped", "snips", "dm", "dr", "sndr", "switch_dr"]
    want = {
        "ips": _value(IPS()),
        "ips_clipped": _value(IPS(clip=1.0)),
        "snips": _value(SNIPS()),
        "dm": _value(DM()),
        "dr": _value(DR()),
        "sndr": _value(SNDR()),
        "switch_dr": _value(SwitchDR(tau=1.0)),
    }
    assert got == pytest.approx(want, rel=1e-12)
    assert "ips_clipped" not in {r.estimator for r in evaluate_single(R4, P4, T4, QL4, QT4, n_boot=10)}
    # default tau: the 95th percentile of the weights [2, 0, 0.5, 4] is 3.7, so only the w = 4 round switches
    default = {r.estimator: r.value for r in evaluate_single(R4, P4, T4, QL4, QT4, n_boot=10)}
    assert default["switch_dr"] == pytest.approx(np.mean([1.6, 0.2, 0.65, 0.3]))


def test_bootstrap_interval_of_a_constant_is_a_point():
    q = np.full(50, 0.3)
    res = {r.estimator: r for r in evaluate_single(np.ones(50), np.full(50, 0.5), np.full(50, 0.5), q, q, n_boot=100)}
    assert (res["dm"].ci_low, res["dm"].ci_high) == pytest.approx((0.3, 0.3))
    assert (res["snips"].value, res["snips"].ci_low, res["snips"].ci_high) == pytest.approx((1.0, 1.0, 1.0))


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="pscore must be positive"):
        _value(IPS(), pscore=np.array([0.5, 0.0, 0.8, 0.25]))
    with pytest.raises(ValueError, match="rows"):
        _value(IPS(), pscore=P4[:3])
    with pytest.raises(ValueError, match="target_prob must be non-negative"):
        _value(IPS(), target_prob=-T4)
    with pytest.raises(ValueError, match="clip must be positive"):
        IPS(clip=0.0)
    with pytest.raises(ValueError, match="alpha"):
        evaluate_single(R4, P4, T4, QL4, QT4, alpha=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        IPS().estimate_interval(**L4, n_boot=-1)


# --- a synthetic contextual bandit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bandit:
    """20 context types, 10 actions, exact expected rewards and policies."""

    p_x: np.ndarray  # (X,) context distribution
    q: np.ndarray  # (X, A) expected reward
    q_hat: np.ndarray  # (X, A) a biased reward model
    logging: np.ndarray  # (X, A) logging policy
    targets: dict[str, np.ndarray]  # name -> (X, A) target policy

    def truth(self, target: str) -> float:
        """Exact value E_x[sum_a pi_e(a|x) q(x, a)]."""
        return float(self.p_x @ (self.targets[target] * self.q).sum(axis=1))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _bandit() -> Bandit:
    n_x, n_a = 20, 10
    rng = np.random.default_rng(7)
    p_x = rng.dirichlet(np.full(n_x, 5.0))
    q = 0.05 + 0.9 / (1 + np.exp(-rng.normal(0.0, 1.2, (n_x, n_a))))
    # logging: softmax over a noisy score mixed with 10% uniform, so every propensity is at least 0.01
    logging = 0.9 * _softmax(4 * (q + rng.normal(0.0, 0.1, (n_x, n_a)))) + 0.1 / n_a
    near = 0.8 * logging + 0.2 * np.eye(n_a)[np.argmax(q, axis=1)]
    far = np.eye(n_a)[np.argmax(q + rng.normal(0.0, 0.5, (n_x, n_a)), axis=1)]  # greedy on a different score
    q_hat = np.clip(q + 0.1 + rng.normal(0.0, 0.1, (n_x, n_a)), 0.01, 0.99)  # too optimistic by ~0.1
    return Bandit(p_x, q, q_hat, logging, {"near": near, "far": far})


BANDIT = _bandit()


@dataclass(frozen=True)
class Log:
    """(datasets, rounds) arrays of a batch of independent logged datasets."""

    reward: np.ndarray
    pscore: np.ndarray
    target_prob: np.ndarray
    q_hat_logged: np.ndarray
    q_hat_target: np.ndarray

    def dataset(self, i: int) -> tuple[np.ndarray, ...]:
        """The i-th dataset's (reward, pscore, target_prob, q_hat_logged, q_hat_target)."""
        return self.reward[i], self.pscore[i], self.target_prob[i], self.q_hat_logged[i], self.q_hat_target[i]


def _logs(world: Bandit, n_datasets: int, n: int, seed: int) -> dict[str, Log]:
    """Logged datasets drawn from the logging policy, with each target's probabilities of the logged actions."""
    rng = np.random.default_rng(seed)
    n_x, n_a = world.q.shape
    x = rng.choice(n_x, size=(n_datasets, n), p=world.p_x)
    cdf = np.cumsum(world.logging, axis=1)
    a = np.minimum((rng.random((n_datasets, n))[..., None] > cdf[x]).sum(axis=-1), n_a - 1)  # inverse-CDF draw
    reward = (rng.random((n_datasets, n)) < world.q[x, a]).astype(np.float64)
    return {
        name: Log(reward, world.logging[x, a], pi[x, a], world.q_hat[x, a], (pi * world.q_hat).sum(axis=1)[x])
        for name, pi in world.targets.items()
    }


@pytest.fixture(scope="module")
def estimates() -> dict[str, dict[str, np.ndarray]]:
    """Per target, per estimator: (N_DATASETS,) estimates over independent logged datasets."""
    out = {}
    for name, log in _logs(BANDIT, N_DATASETS, N_ROUNDS, seed=11).items():
        est: dict[str, list[float]] = {k: [] for k in ("ips", "snips", "dm", "dr", "switch_dr")}
        for i in range(N_DATASETS):
            r, p, t, ql, qt = log.dataset(i)
            logged = {"reward": r, "pscore": p, "target_prob": t, "q_hat_logged": ql, "q_hat_target": qt}
            switch = SwitchDR(tau=float(np.percentile(t / p, 95)))
            for key, estimator in (
                ("ips", IPS()),
                ("snips", SNIPS()),
                ("dm", DM()),
                ("dr", DR()),
                ("switch_dr", switch),
            ):
                est[key].append(estimator.estimate_policy_value(**logged))
        out[name] = {k: np.array(v) for k, v in est.items()}
    return out


def test_the_world_is_as_described():
    assert BANDIT.logging.min() >= 0.01
    np.testing.assert_allclose(BANDIT.logging.sum(axis=1), 1.0)
    np.testing.assert_allclose(BANDIT.targets["near"].sum(axis=1), 1.0)
    weights = (BANDIT.targets["far"] / BANDIT.logging)[BANDIT.targets["far"] > 0]
    assert weights.max() > 20  # the far target takes actions the logger rarely takes
    assert BANDIT.truth("near") == pytest.approx(0.6244, abs=1e-4)
    assert BANDIT.truth("far") == pytest.approx(0.5657, abs=1e-4)


@pytest.mark.parametrize("target", ["near", "far"])
@pytest.mark.parametrize("estimator", ["ips", "dr"])
def test_ips_and_dr_with_a_biased_model_are_unbiased(estimates, target, estimator):
    # measured bias in se: ips near +0.52, ips far +1.10, dr near -0.86, dr far -0.28
    assert abs(_bias_in_se(estimates[target][estimator], BANDIT.truth(target))) < 3


def test_far_target_snips_and_dr_beat_ips(estimates):
    # measured RMSE: ips 0.0514, snips 0.0395, dr 0.0380 (SNIPS 23% and DR 26% lower)
    e, truth = estimates["far"], BANDIT.truth("far")
    assert _rmse(e["snips"], truth) < 0.9 * _rmse(e["ips"], truth)
    assert _rmse(e["dr"], truth) < 0.9 * _rmse(e["ips"], truth)


@pytest.mark.parametrize("target", ["near", "far"])
def test_dm_with_a_biased_model_is_biased(estimates, target):
    # the model is ~0.08 too optimistic under either target: measured bias near +647 se, far +284 se
    assert _bias_in_se(estimates[target]["dm"], BANDIT.truth(target)) > 5


def test_switch_dr_beats_ips_on_the_far_target(estimates):
    # measured RMSE: switch-DR 0.0448 vs IPS 0.0514 (biased by the model on the switched rounds: +48 se, but less
    # variable)
    e, truth = estimates["far"], BANDIT.truth("far")
    assert _rmse(e["switch_dr"], truth) < _rmse(e["ips"], truth)


def test_dr_bootstrap_interval_covers_the_truth():
    n_datasets = 200
    truth = BANDIT.truth("far")
    log = _logs(BANDIT, n_datasets, N_ROUNDS, seed=12)["far"]
    covered = []
    for i in range(n_datasets):
        res = {r.estimator: r for r in evaluate_single(*log.dataset(i), n_boot=1000, seed=i)}
        covered.append(res["dr"].covers(truth))
    # nominal 0.95; 200 datasets give a binomial se of 0.015, so 0.90-0.99 is about +-3 se. Measured: 0.965
    assert 0.90 <= np.mean(covered) <= 0.99


def test_self_normalised_intervals_renormalise_in_every_resample():
    r, p, t, ql, qt = _logs(BANDIT, 1, N_ROUNDS, seed=13)["far"].dataset(0)
    res = {e.estimator: e for e in evaluate_single(r, p, t, ql, qt, n_boot=4000, seed=1)}
    # an independent, naive bootstrap of the same statistics (another generator, one resample at a time)
    rng, w = np.random.default_rng(99), t / p
    reps: dict[str, list[float]] = {"snips": [], "sndr": [], "fixed": []}
    for _ in range(4000):
        i = rng.integers(0, len(r), len(r))
        reps["snips"].append(np.sum(w[i] * r[i]) / np.sum(w[i]))
        reps["sndr"].append(qt[i].mean() + np.sum(w[i] * (r[i] - ql[i])) / np.sum(w[i]))
        reps["fixed"].append(np.sum(w[i] * r[i]) / np.sum(w))  # wrong: the full sample's normaliser
    for name in ("snips", "sndr"):
        low, high = np.percentile(reps[name], [2.5, 97.5])
        width = res[name].ci_high - res[name].ci_low
        # with 4000 resamples each endpoint has a Monte Carlo sd of ~1.5% of the width: 7% is ~4.5 sd
        assert abs(res[name].ci_low - low) < 0.07 * width
        assert abs(res[name].ci_high - high) < 0.07 * width
    fixed_low, fixed_high = np.percentile(reps["fixed"], [2.5, 97.5])
    # measured: the fixed-normaliser interval is 1.20 times as wide, so the check above tells the two apart
    assert fixed_high - fixed_low > 1.1 * (res["snips"].ci_high - res["snips"].ci_low)


def test_single_slot_intervals_are_reproducible():
    data = _logs(BANDIT, 1, 500, seed=14)["near"].dataset(0)
    first = evaluate_single(*data, clip=5.0, n_boot=300, seed=5)
    assert first == evaluate_single(*data, clip=5.0, n_boot=300, seed=5)
    assert first != evaluate_single(*data, clip=5.0, n_boot=300, seed=6)
    for r in first:
        assert r.ci_low <= r.value <= r.ci_high, r


# --- edge cases: zero weights ------------------------------------------------------------------------------------


def test_zero_total_weight_gives_nan_without_warnings():
    r, p, t, q = np.ones(5), np.full(5, 0.5), np.zeros(5), np.full(5, 0.4)
    logged = {"reward": r, "pscore": p, "target_prob": t, "q_hat_logged": q, "q_hat_target": q}
    assert np.isnan(SNIPS().estimate_policy_value(**logged))
    assert np.isnan(SNDR().estimate_policy_value(**logged))
    res = {e.estimator: e for e in evaluate_single(r, p, t, q, q, n_boot=50)}
    assert np.isnan([res["snips"].value, res["snips"].ci_low, res["snips"].ci_high]).all()
    assert np.isnan(res["sndr"].value)
    assert not res["snips"].covers(0.0)
    assert res["ips"].value == 0.0 and res["dr"].value == pytest.approx(0.4)


# --- clustered logs: a shopper's rounds are correlated, the bootstrap resamples shoppers ---------------------------

SHOPPER_SD, SHOPPERS, ROUNDS_PER_SHOPPER = 2.0, 150, 20  # logit sd of a shopper's click propensity; strong clustering
ARM_LOGITS = np.array([-1.0, -0.5, 0.0, 0.5])  # click logit of each of 4 actions, added to the shopper's
NODES, NODE_W = np.polynomial.hermite_e.hermegauss(80)  # Gauss–Hermite quadrature over the shopper effect


def _clustered_truth(action: int) -> float:
    """E over shoppers of P(click | action): the value of 'always take action' in the shopper population."""
    p = 1 / (1 + np.exp(-(SHOPPER_SD * NODES + ARM_LOGITS[action])))
    return float((NODE_W * p).sum() / NODE_W.sum())


def _clustered_log(rng: np.random.Generator):
    """Uniform logging over 4 actions; each shopper's rounds share their propensity (an effect drawn per shopper)."""
    shopper = np.repeat(np.arange(SHOPPERS), ROUNDS_PER_SHOPPER)
    effect = rng.normal(0, SHOPPER_SD, SHOPPERS)[shopper]
    action = rng.integers(0, 4, shopper.size)
    reward = (rng.random(shopper.size) < 1 / (1 + np.exp(-(effect + ARM_LOGITS[action])))).astype(float)
    target_prob = (action == 3).astype(float)
    q = np.full(shopper.size, reward.mean())  # a constant reward model: DR's correction carries the shopper effects
    return reward, np.full(shopper.size, 0.25), target_prob, q, shopper


def test_cluster_bootstrap_is_wider_than_the_round_bootstrap_under_shopper_correlation():
    rng = np.random.default_rng(40)
    reward, ps, tp, q, shopper = _clustered_log(rng)
    rows = {r.estimator: r for r in evaluate_single(reward, ps, tp, q, q, n_boot=500, seed=1)}
    shoppers = {r.estimator: r for r in evaluate_single(reward, ps, tp, q, q, n_boot=500, seed=1, clusters=shopper)}
    for name in ("ips", "dr", "snips"):
        assert rows[name].value == shoppers[name].value  # the same estimate; only the interval changes
        width = shoppers[name].ci_high - shoppers[name].ci_low
        assert width > 1.3 * (rows[name].ci_high - rows[name].ci_low)  # measured 1.43x (IPS), 1.58x (DR, SNIPS)
    # without clustering (one round per cluster) the cluster bootstrap is the round bootstrap, bit for bit
    same = evaluate_single(reward, ps, tp, q, q, n_boot=200, seed=2, clusters=np.arange(reward.size))
    assert [(r.ci_low, r.ci_high) for r in same] == [
        (r.ci_low, r.ci_high) for r in evaluate_single(reward, ps, tp, q, q, n_boot=200, seed=2)
    ]


def test_cluster_bootstrap_covers_the_population_value():
    """300 clustered datasets: the shopper bootstrap covers ~0.95, the round bootstrap does not.

    Binomial SE of 0.95 at 300 is 0.0126: 0.92 is 2.4 SE below. Measured: shoppers IPS 0.947, DR 0.963;
    rounds IPS 0.813, DR 0.760 (the round bootstrap treats 20 correlated rounds of a shopper as 20 shoppers).
    """
    truth = _clustered_truth(3)
    rng = np.random.default_rng(41)
    covers = {k: [] for k in ("ips_shoppers", "dr_shoppers", "ips_rounds", "dr_rounds")}
    for i in range(300):
        reward, ps, tp, q, shopper = _clustered_log(rng)
        for tag, cl in (("shoppers", shopper), ("rounds", None)):
            res = {r.estimator: r for r in evaluate_single(reward, ps, tp, q, q, n_boot=200, seed=i, clusters=cl)}
            covers[f"ips_{tag}"].append(res["ips"].covers(truth))
            covers[f"dr_{tag}"].append(res["dr"].covers(truth))
    rate = {k: float(np.mean(v)) for k, v in covers.items()}
    assert rate["ips_shoppers"] >= 0.92 and rate["dr_shoppers"] >= 0.92
    assert rate["ips_rounds"] < 0.88 and rate["dr_rounds"] < 0.88
