"""Uplift metrics: the oracle scores 1 and a random order about 0; IPW curves are unbiased; ties form blocks."""

import numpy as np
import pytest

from basketgym.eval.uplift.metrics import (
    auuc,
    gain_curve,
    ipw_contribution,
    pehe,
    qini_coefficient,
    qini_true,
    uplift_at_k,
)


@pytest.fixture(scope="module")
def data():
    """20,000 units, heterogeneous binary-outcome effects, randomised at p = 0.3."""
    rng = np.random.default_rng(0)
    n = 20_000
    base = rng.uniform(0.05, 0.3, n)
    tau = np.where(rng.random(n) < 0.3, rng.uniform(0.1, 0.4, n), rng.uniform(-0.02, 0.02, n))
    w = rng.random(n) < 0.3
    y = (rng.random(n) < base + w * tau).astype(float)
    return tau, w, y


def test_the_oracle_scores_one_and_random_orders_about_zero(data):
    """Against true effects: oracle exactly 1; 20 random scorers average within 0.02 of 0.

    The random AUUC's spread across scorers is 0.007 at n = 20,000 (measured), so 0.02 is ~13
    standard errors of the mean of 20; the observed Qini curve is built from sampled outcomes and
    spreads more, so its mean of 20 is held to 0.05.
    """
    tau, w, y = data
    assert auuc(tau, tau) == pytest.approx(1.0)
    assert qini_true(tau, tau) == pytest.approx(1.0)
    assert qini_coefficient(np.where(w, y, -y), w, y) == pytest.approx(1.0)  # the data's best order
    rng = np.random.default_rng(1)
    rand = [auuc(rng.random(len(tau)), tau) for _ in range(20)]
    assert abs(np.mean(rand)) < 0.02 and np.std(rand) < 0.05
    assert auuc(np.zeros(len(tau)), tau) == pytest.approx(0.0, abs=1e-12)  # one tied block: the random line itself
    rand_q = [qini_coefficient(rng.random(len(tau)), w, y) for _ in range(20)]
    assert abs(np.mean(rand_q)) < 0.05


def test_observed_curves_rank_a_good_scorer_above_a_bad_one(data):
    """From the randomised data alone: the true effect as a score beats noise, on AUUC (IPW) and Qini."""
    tau, w, y = data
    contrib = ipw_contribution(w, y, 0.3)
    noisy = tau + np.random.default_rng(2).normal(0, 0.3, len(tau))
    assert auuc(tau, contrib) > auuc(noisy, contrib) > auuc(-tau, contrib)
    assert qini_coefficient(tau, w, y) > 0.1 > qini_coefficient(-tau, w, y)


def test_the_ipw_gain_curve_ends_at_the_total_effect(data):
    """Its end point estimates the sum of effects (unbiased): within 3 standard errors here."""
    tau, w, y = data
    contrib = ipw_contribution(w, y, 0.3)
    end = gain_curve(np.zeros(len(tau)), contrib)[-1]
    se = contrib.std() * np.sqrt(len(tau))
    assert abs(end - tau.sum()) < 3 * se


def test_uplift_at_k_and_pehe(data):
    tau, w, y = data
    assert uplift_at_k(tau, tau, 0.1) == pytest.approx(np.sort(tau)[::-1][:2000].mean())
    assert uplift_at_k(tau, tau, 0.1) > tau.mean()
    assert pehe(tau, tau) == 0.0 and pehe(tau + 0.1, tau) == pytest.approx(0.1)


def test_tied_scores_are_one_block_whatever_the_units_order(data):
    """Scores rounded to 5 levels: every metric is the same for any order of the units (up to rounding in the sums).

    A tied block enters the curves as a straight line between its ends, so uplift@k takes a block
    pro rata: with one block of all units it is the mean effect.
    """
    tau, w, y = data
    coarse = np.round(tau * 10) / 10  # 5 distinct values
    perm = np.random.default_rng(5).permutation(len(tau))
    for f, args in ((auuc, (tau,)), (qini_coefficient, (w, y)), (uplift_at_k, (tau,))):
        a = f(coarse, *args)
        b = f(coarse[perm], *(x[perm] for x in args))
        assert a == pytest.approx(b, abs=1e-12)
    assert uplift_at_k(np.zeros(len(tau)), tau, 0.1) == pytest.approx(tau.mean(), abs=1e-12)
    assert qini_coefficient(np.zeros(len(tau)), w, y) == pytest.approx(0.0, abs=1e-12)
    curve = gain_curve(np.zeros(4), np.array([1.0, 0.0, 3.0, 0.0]))
    assert curve.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]  # one block: the straight line to the total
