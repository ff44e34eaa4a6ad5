"""basketgym regress: verdicts in twin worlds, Holm's correction, stored baselines."""

import dataclasses
import math

import numpy as np
import pytest

from basketgym.contract.errors import ScenarioError
from basketgym.eval.regression.regress import RegressSpec, regress, save_baseline
from basketgym.eval.regression.stats import Comparison, holm, one_sided
from basketgym.sim.config import load_scenario

DEFAULT_SMALL = load_scenario("default").replace(
    population=dataclasses.replace(load_scenario("default").population, shoppers=2_000)
)


def test_one_sided_test_against_the_margin():
    d = np.array([-1.0, -1.2, -0.8])  # mean -1, sd 0.2, se 0.1155
    t = one_sided("s", "ltv", d, margin=0.5, alpha=0.05, baseline=10.0)
    from scipy import stats

    assert t.p == pytest.approx(stats.t.cdf((-1.0 + 0.5) / (0.2 / math.sqrt(3)), 2))
    assert t.low == pytest.approx(-1 - stats.t.ppf(0.95, 2) * 0.2 / math.sqrt(3))
    assert one_sided("s", "ltv", np.zeros(5), 0.1, 0.05, 1.0).p == 1.0  # nothing moved: no test needed


def test_holm_rejects_step_down_and_labels_the_rest():
    def t(p: float, low: float) -> Comparison:
        return Comparison("s", "m", -1.0, low, 0.0, 0.5, p, 3, 1.0)

    out = holm([t(0.01, -2), t(0.015, -2), t(0.04, -2), t(0.3, -0.1)], alpha=0.05)
    # 0.01 <= 0.05/4, 0.015 <= 0.05/3, 0.04 > 0.05/2: stop
    assert [x.verdict for x in out] == ["regression", "regression", "inconclusive", "non-inferior"]


def test_a_candidate_identical_to_the_baseline_never_raises_an_alarm():
    """20 seeds of smoke: every paired difference is exactly 0, so every test passes (p = 1), whatever alpha."""
    r = regress(RegressSpec("buy_again", "buy_again", ("smoke",), seeds=20, days=10, alpha=0.2), jobs=2)
    assert not r.regressed and {t.verdict for t in r.tests} == {"non-inferior"} and all(t.p == 1 for t in r.tests)


def test_margin_greedy_regresses_against_buy_again_on_ltv_180d():
    spec = RegressSpec("margin_greedy", "buy_again", (DEFAULT_SMALL,), seeds=3, metrics=("ltv", "value"))
    r = regress(spec, jobs=2)
    ltv, value = r.tests
    assert ltv.metric == "ltv" and ltv.verdict == "regression" and r.regressed
    assert ltv.high < -ltv.margin and ltv.effect < -0.1 * ltv.baseline  # a large, certain loss of lifetime value
    assert value.verdict == "non-inferior" and value.effect > 0  # while it wins the first 14 days


def test_a_stored_baseline_gives_the_same_verdicts_without_rerunning_it(tmp_path):
    path = save_baseline("popularity", ["smoke"], 3, tmp_path / "base.parquet", days=10)
    live = regress(RegressSpec("buy_again", "popularity", ("smoke",), seeds=3, days=10))
    stored = regress(RegressSpec("buy_again", str(path), ("smoke",), seeds=3, days=10))
    assert stored.stored_baseline and stored.worlds == 3 and live.worlds == 6  # control = popularity = baseline
    assert [(t.metric, t.effect, t.low, t.high, t.p, t.verdict) for t in stored.tests] == [
        (t.metric, t.effect, t.low, t.high, t.p, t.verdict) for t in live.tests
    ]
    with pytest.raises(ScenarioError, match="no worlds of scenario 'smoke' with this content"):
        regress(RegressSpec("buy_again", str(path), ("smoke",), seeds=3, days=11))
    with pytest.raises(ScenarioError, match="holds 3 seeds, 4 asked for"):
        regress(RegressSpec("buy_again", str(path), ("smoke",), seeds=4, days=10))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RegressSpec("a", "b", metrics=("ltv", "speed")), "metrics = ['ltv', 'speed']: each must be one of"),
        (RegressSpec("a", "b", margins={"ltv": "two"}), "margin ltv=two: must be a number or a percentage"),
        (RegressSpec("a", "b", margins={"ltv": "-1%"}), "margin ltv=-1%: must be a finite number >= 0"),
        (RegressSpec("a", "b", seeds=1), "seeds = 1: must be a whole number in [2, 1000]"),
        (RegressSpec("a", "b", alpha=0.7), "alpha = 0.7: must be in (0, 0.5)"),
    ],
)
def test_bad_arguments_are_refused_before_any_world(spec, message):
    with pytest.raises(ScenarioError) as e:
        regress(spec)
    assert message in str(e.value)
