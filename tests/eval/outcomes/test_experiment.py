"""Simulated A/B tests graded against the simulator's truth: error rates, coverage, CUPED, peeking, twin precision.

One default-like world of 2,000 shoppers (seed 3, 70 days, experiment on days 35-62, margin per
shopper). Control ``random`` and treatment ``margin_greedy`` rank each shopper from public prices
only, so shoppers do not interfere: a treated shopper in the traffic-split world lives exactly
their life in the switch-everyone world (tested), which makes every re-randomisation of the
assignment a genuine new experiment with known potential outcomes, and the twin-world effect its
exact truth.
"""

import dataclasses

import numpy as np
import pytest

from basketgym.contract.rng import ranker_seed
from basketgym.eval.outcomes.experiment import analyze, eligible
from basketgym.eval.outcomes.metrics import evaluate_world
from basketgym.eval.outcomes.timeline import window_metrics
from basketgym.eval.stats import ab
from basketgym.rankers import make_ranker
from basketgym.rankers.composite import TrafficSplit, treatment_assignment
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World

SEED, START, DAYS, SHARE = 3, 35, 28, 0.5
N_EXPERIMENTS = 1000


@pytest.fixture(scope="module")
def worlds():
    base = load_scenario("smoke")
    cfg = base.replace(days=70, population=dataclasses.replace(base.population, shoppers=2000, new_per_day=0.0))

    def run(ranker):
        result = World(cfg, SEED, ranker, "x").run()
        window = window_metrics(result.sessions, result.shoppers, "margin", START, DAYS)
        return window, evaluate_world(cfg, result)[0]

    control = run(make_ranker("random"))
    switch = run(TrafficSplit(make_ranker("random"), make_ranker("margin_greedy"), 1.0, START))
    split = run(TrafficSplit(make_ranker("random"), make_ranker("margin_greedy"), SHARE, START))
    pop = eligible(control[0], control[1], START)
    ids = pop["shopper_id"].to_numpy()
    look_cols = [f"d{d}" for d in range(DAYS)]

    def looks(window):
        return window.set_index("shopper_id").loc[ids, look_cols].to_numpy(np.float64).T  # (looks, shoppers)

    return {
        "control": control, "switch": switch, "split": split, "ids": ids,
        "y0": looks(control[0]), "y1": looks(switch[0]), "pre": pop["pre"].to_numpy(np.float64),
    }  # fmt: skip


def _assignments(n, count=N_EXPERIMENTS):
    rng = np.random.default_rng(2026)
    return rng.random((count, n)) < SHARE


def test_the_split_world_lives_the_potential_outcomes(worlds):
    """No interference here: treated shoppers get the switch world's outcomes, the others the control world's."""
    ids = worlds["ids"]
    treated = treatment_assignment(ranker_seed(SEED), ids, SHARE)  # the split's coins: its ranker seed
    split = worlds["split"][0].set_index("shopper_id").loc[ids, f"d{DAYS - 1}"].to_numpy()
    expect = np.where(treated, worlds["y1"][-1], worlds["y0"][-1])
    assert np.array_equal(split, expect)
    assert 0.4 < treated.mean() < 0.6 and len(ids) > 1800


def test_aa_false_positive_rate_is_alpha(worlds):
    """1,000 A/A re-randomisations of the control world: Welch rejects at about 5% (binomial sd 0.7%)."""
    y = worlds["y0"][-1]
    rejections = [ab.welch(y[t], y[~t]).p_value < 0.05 for t in _assignments(len(y))]
    assert 0.03 <= np.mean(rejections) <= 0.07


def test_ab_interval_covers_the_twin_world_effect_and_cuped_cuts_variance(worlds):
    """Coverage of the exact effect (mean switch - control over the shoppers) over 1,000 experiments.

    Welch's variance ignores the (unknowable) covariance of the two potential outcomes, so for a
    finite population it is conservative: coverage at or a little above 95%.
    """
    y0, y1, x = worlds["y0"][-1], worlds["y1"][-1], worlds["pre"]
    truth = float((y1 - y0).mean())
    assert truth > 0.5  # margin_greedy earns more margin per shopper over four weeks than random
    plain, adjusted, covered, covered_cuped = [], [], [], []
    for t in _assignments(len(y0)):
        y = np.where(t, y1, y0)
        w, c = ab.welch(y[t], y[~t]), ab.cuped(y[t], y[~t], x[t], x[~t])
        plain.append(w.estimate)
        adjusted.append(c.estimate)
        covered.append(w.covers(truth))
        covered_cuped.append(c.covers(truth))
    assert 0.93 <= np.mean(covered) <= 0.995
    assert 0.92 <= np.mean(covered_cuped) <= 0.995
    assert abs(np.mean(plain) - truth) < 3 * np.std(plain) / np.sqrt(len(plain))  # unbiased
    # the pre-period explains part of the variance: CUPED's variance is (1 - rho^2) of the plain one
    # (rho = 0.41 here: margin over four weeks against the four weeks before); measured 0.842 vs 0.828
    rho = np.corrcoef(x, y0)[0, 1]
    assert rho > 0.3
    assert np.var(adjusted) / np.var(plain) == pytest.approx(1 - rho**2, abs=0.05)


def test_daily_peeking_sequential_keeps_alpha_naive_does_not(worlds):
    """500 A/A re-randomisations of the simulated control world, looked at every day for 28 days, tau planned.

    Binomial sd of a 5% rate at 500: 1%. tau comes from each assignment's pre-period (the four weeks
    before the start), fixed before the first look.
    """
    y, pre = worlds["y0"], worlds["pre"]
    seq, naive = [], []
    for t in _assignments(y.shape[1], 500):
        tau = ab.planned_tau(pre[t], pre[~t], DAYS, DAYS)  # planned from the four weeks before the start
        r = ab.sequential_test(y[:, t], y[:, ~t], tau=tau)
        seq.append(r.first_rejection >= 0)
        naive.append(ab.naive_peeking_rejects(r))
    assert np.mean(seq) <= 0.05
    assert np.mean(naive) >= 0.08


def test_twin_worlds_are_far_more_precise_than_the_ab_test(worlds):
    """The same effect, measured shopper by shopper in twins versus between randomised groups."""
    res = analyze(SEED, worlds["split"][0], worlds["switch"][0], worlds["control"][0], worlds["split"][1], START, SHARE)
    assert res.n_treatment + res.n_control == len(worlds["ids"]) and res.srm_p > 0.01
    assert res.width_ratio < 0.5
    assert res.covered
