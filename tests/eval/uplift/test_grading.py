"""A peer can re-check ``basketgym uplift``: its printed coefficients recomputed from the exported Parquet alone.

The re-computation below is written from docs/UPLIFT.md ("Re-checking the figures"), not from
``eval.uplift.metrics``: curves are built per block of tied scores (np.unique groups, not a sort
and a cumulative sum per unit) and integrated by the trapezoid rule over the block ends.
"""

import numpy as np
import pandas as pd
import pytest

from basketgym.cli import main
from basketgym.eval.reporting.uplift import write_scores
from basketgym.eval.uplift.data import exposure_data
from basketgym.eval.uplift.grading import compare_learners
from basketgym.rankers.learned.uplift import UpliftConfig
from basketgym.sim.config import load_scenario


def _blocks(score):
    """Tied scores as blocks in descending order: the inverse index of every unit, and the block sizes."""
    _, inverse, counts = np.unique(-np.asarray(score, np.float64), return_inverse=True, return_counts=True)
    return inverse, counts


def _cum(inverse, counts, values):
    """Totals of ``values`` over the top blocks: (blocks + 1,) starting at 0."""
    return np.r_[0.0, np.cumsum(np.bincount(inverse, weights=values, minlength=len(counts)))]


def _trapezoid(x, c):
    return float(((x[1:] - x[:-1]) * (c[1:] + c[:-1]) / 2).sum())


def _normalised(x, curve, x_oracle, oracle):
    """(area - random line's) / (oracle's area - random line's); the line runs from (0, 0) to (n, end)."""
    line = x[-1] * curve[-1] / 2
    return (_trapezoid(x, curve) - line) / (_trapezoid(x_oracle, oracle) - line)


def _gain(score, effect):
    inverse, counts = _blocks(score)
    return np.r_[0, np.cumsum(counts)].astype(float), _cum(inverse, counts, effect)


def _qini(score, w, y):
    inverse, counts = _blocks(score)
    n_t, n_c = _cum(inverse, counts, w.astype(float)), _cum(inverse, counts, (~w).astype(float))
    y_t, y_c = _cum(inverse, counts, y * w), _cum(inverse, counts, y * ~w)
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    return np.r_[0, np.cumsum(counts)].astype(float), y_t - y_c * ratio


def _auuc(score, effect):
    return _normalised(*_gain(score, effect), *_gain(effect, effect))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("uplift")
    argv = ["uplift", "smoke", "--days", "80", "--start-day", "20", "--test-days", "28", "--learners", "s,t",
            "--bootstrap", "5", "--seed", "3", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    return out


def test_the_split_and_the_scores_join_on_the_exposure_log(exported):
    log = pd.read_parquet(exported / "exposures.parquet")
    split = pd.read_parquet(exported / "split.parquet")
    scores = pd.read_parquet(exported / "scores_bought.parquet")
    assert split["session_id"].tolist() == log["session_id"].tolist() and 0.3 < split["graded"].mean() < 0.7
    graded = log[split["graded"].to_numpy()]
    assert scores["session_id"].tolist() == graded["session_id"].tolist()  # the graded tests, in log order
    assert np.array_equal(scores["true_effect"], graded["true_bought"])
    assert np.array_equal(scores["treated"], graded["treated"]) and np.array_equal(scores["outcome"], graded["bought"])
    assert {"s-learner", "t-learner", "propensity", "random"} <= set(scores.columns)
    # a shopper is either trained on or graded, never both
    assert not set(log.loc[~split["graded"].to_numpy(), "shopper_id"]) & set(scores["shopper_id"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The comparison the command prints, with leaves small enough that ~150 training tests give varied scores.

    (With the command's defaults, 100 tests a leaf, the smoke world's learners are constant: every
    score one tied block.)
    """
    data = exposure_data(load_scenario("smoke").replace(days=80), 3, start_day=20, test_days=28)
    table = compare_learners(data, "bought", ("s", "t", "x"), 3, 5, UpliftConfig(rounds=40, min_data_in_leaf=10))
    path = tmp_path_factory.mktemp("scores") / "scores_bought.parquet"
    write_scores(table, path)
    return pd.read_parquet(path), table.set_index("scorer")


def test_the_printed_coefficients_are_recomputed_from_the_parquet_alone(graded):
    scores, printed = graded
    w, y, p = scores["treated"].to_numpy(bool), scores["outcome"].to_numpy(float), scores["p"].to_numpy(float)
    tau = scores["true_effect"].to_numpy(float)
    contribution = w * y / p - (1 - w) * y / (1 - p)
    n = len(tau)
    top = max(1, round(0.1 * n))
    ties = 0
    for scorer in ("s-learner", "t-learner", "x-learner", "propensity", "random"):
        s = scores[scorer].to_numpy(float)
        ties += n - len(np.unique(s))
        x, gain = _gain(s, tau)
        recomputed = {
            "qini_true": _auuc(s, tau),
            "qini_observed": _normalised(*_qini(s, w, y), *_qini(np.where(w, y, -y), w, y)),
            "auuc_observed": _auuc(s, contribution),
            "uplift_at_10": float(np.interp(top, x, gain) / top),
        }
        for metric, value in recomputed.items():
            assert value == pytest.approx(printed.loc[scorer, metric], abs=1e-12), (scorer, metric)
        assert abs(recomputed["qini_true"]) > 0.01  # not a constant scorer (that would be 0 by construction)
    assert ties > 0  # tree learners' scores tie: the tie rule is exercised
    assert printed.loc["oracle", "qini_true"] == pytest.approx(1.0, abs=1e-12)


def test_the_command_writes_what_it_printed(exported):
    """The command's CSV (full precision) is the table it printed; its Parquet holds the same graded tests."""
    printed = pd.read_csv(exported / "uplift_bought.csv").set_index("scorer")
    scores = pd.read_parquet(exported / "scores_bought.parquet")
    tau = scores["true_effect"].to_numpy(float)
    for scorer in ("s-learner", "t-learner", "propensity", "random"):
        assert _auuc(scores[scorer].to_numpy(float), tau) == pytest.approx(printed.loc[scorer, "qini_true"], abs=1e-12)
