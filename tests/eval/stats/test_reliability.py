"""Probability quality and recalibration on synthetic predictions with known true probabilities."""

import numpy as np
import pytest
from scipy import stats

from basketgym.eval.stats.reliability import auc, brier, ece, log_loss, reliability, scores
from basketgym.rankers.learned.calibration import Isotonic, Temperature


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    truth = 1 / (1 + np.exp(-rng.normal(-1.5, 1.2, 200_000)))  # true click probabilities
    y = rng.random(len(truth)) < truth
    overconfident = 1 / (1 + np.exp(-2.0 * np.log(truth / (1 - truth))))  # logit doubled
    return truth, y, overconfident


def test_hand_checked_values():
    p, y = np.array([0.9, 0.2, 0.6, 0.4]), np.array([1, 0, 0, 1])
    assert log_loss(p, y) == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.4) + np.log(0.4)) / 4)
    assert brier(p, y) == pytest.approx((0.01 + 0.04 + 0.36 + 0.36) / 4)
    assert auc(p, y) == pytest.approx(0.75)  # 3 of the 4 (positive, negative) pairs ordered right
    rng = np.random.default_rng(1)
    q, z = rng.random(500), rng.random(500) < 0.3
    u = stats.mannwhitneyu(q[z], q[~z]).statistic / (z.sum() * (~z).sum())
    assert auc(q, z) == pytest.approx(u)


def test_ece_is_zero_for_the_truth_and_large_for_an_overconfident_model(data):
    truth, y, over = data
    assert ece(truth, truth) == 0.0
    assert ece(truth, y) < 0.005  # sampling noise only: 200k labels, 15 bins
    assert ece(over, truth) > 0.03 and ece(over, truth, equal_mass=False) > 0.03
    r = reliability(over, truth, equal_mass=True)
    assert (np.diff(r.predicted) > 0).all() and r.count.sum() == len(truth)


def test_recalibration_on_one_fold_fixes_another(data):
    """Temperature recovers T = 2 (the logit was doubled); isotonic brings ECE against the truth below 0.01."""
    truth, y, over = data
    fit, test = slice(0, 100_000), slice(100_000, None)
    t = Temperature.fit(over[fit], y[fit])
    assert t.t == pytest.approx(2.0, rel=0.05)
    assert ece(t(over[test]), truth[test]) < 0.005
    iso = Isotonic.fit(over[fit], y[fit])
    assert (np.diff(iso.y) >= 0).all()
    assert ece(iso(over[test]), truth[test]) < 0.01
    before, after = scores(over[test], y[test], truth[test]), scores(t(over[test]), y[test], truth[test])
    assert after["log_loss"] < before["log_loss"] and after["brier_vs_truth"] < before["brier_vs_truth"]
    assert after["auc"] == pytest.approx(before["auc"])  # a monotone map keeps the ranking
