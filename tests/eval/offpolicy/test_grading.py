"""Off-policy evaluation in the simulator, graded against each logged context's exact counterfactual.

Logs: the smoke world for 15 days (sponsored slots included: the exploration draws them too),
logged by epsilon-greedy(popularity, 0.3), with ``margin_greedy`` (far from the logger: it ranks
by margin, not demand) in shadow. For
every logged slate the world also evaluates the target's slate with the same shopper state and
the same random draws, so each seed's truth is exact and the estimators' errors are measurable.
"""

import dataclasses

import numpy as np
import pyarrow.parquet as pq
import pytest

from basketgym.cli import main
from basketgym.eval.offpolicy.diagnostics import weight_diagnostics
from basketgym.eval.offpolicy.estimators import DR, IPS, SNIPS, estimate, single_slot_estimators
from basketgym.eval.offpolicy.grading import reward_model, target_probabilities
from basketgym.eval.offpolicy.slate import IndependentIPS
from basketgym.eval.orchestration.bandit_logs import BANDIT_COLUMNS, bandit_log_arrow, collect
from basketgym.rankers import make_ranker
from basketgym.rankers.exploration import EpsilonGreedy, PlackettLuce
from basketgym.sim.config import load_scenario

SEEDS = range(30)


@pytest.fixture(scope="module")
def cfg():
    return load_scenario("smoke").replace(days=15)


def _log(cfg, seed, target="margin_greedy"):
    return collect(
        cfg, EpsilonGreedy(make_ranker("popularity"), 0.3), {target: make_ranker(target)}, seed, "popularity+eps0.3"
    )


@pytest.fixture(scope="module")
def errors(cfg):
    """Per seed: each estimator's error against that seed's exact truth."""
    keys = ("ips", "snips", "dr", "independent_ips", "truth", "covers_ips", "covers_dr", "expected", "rows_covers_ips",
            "rows_covers_dr", "width_ratio_dr", "ess", "max_weight", "top1_share")  # fmt: skip
    out = {k: [] for k in keys}
    for seed in SEEDS:
        log = _log(cfg, seed)
        t, p = log.table, target_probabilities(log, "margin_greedy")
        q_logged, q_target = reward_model(log, log.targets["margin_greedy"][:, 0], seed)
        click, ps = t["clicked"][:, 0].astype(float), t["propensity"][:, 0].astype(float)
        truth = log.target_clicked["margin_greedy"][:, 0].mean()
        out["truth"].append(truth)
        out["expected"].append(log.target_click_probability["margin_greedy"][:, 0].mean() - truth)
        logged = {"reward": click, "pscore": ps, "target_prob": p["position"][:, 0], "q_hat_logged": q_logged,
                  "q_hat_target": q_target}  # fmt: skip
        for name, estimator in (("ips", IPS()), ("snips", SNIPS()), ("dr", DR())):
            out[name].append(estimator.estimate_policy_value(**logged) - truth)
        shoppers = single_slot_estimators()
        res = {r.estimator: r for r in estimate(shoppers, **logged, n_boot=300, seed=seed, clusters=t["shopper_id"])}
        rows = {r.estimator: r for r in estimate(shoppers, **logged, n_boot=300, seed=seed)}  # the slate bootstrap
        out["covers_ips"].append(res["ips"].covers(truth))
        out["covers_dr"].append(res["dr"].covers(truth))
        out["rows_covers_ips"].append(rows["ips"].covers(truth))
        out["rows_covers_dr"].append(rows["dr"].covers(truth))
        out["width_ratio_dr"].append((res["dr"].ci_high - res["dr"].ci_low) / (rows["dr"].ci_high - rows["dr"].ci_low))
        w = weight_diagnostics(p["position"][:, 0] / ps, "top slot", t["shopper_id"])
        out["ess"].append(w.ess)
        out["max_weight"].append(w.max_weight)
        out["top1_share"].append(w.top1_share)
        carted = t["carted"].astype(float)
        slate_truth = log.target_carted["margin_greedy"].sum(axis=1).mean()
        pi = IndependentIPS().estimate_policy_value(
            reward=carted, position_pscore=t["propensity"].astype(float), position_target=p["position"]
        )
        out["independent_ips"].append(pi - slate_truth)
    return {k: np.array(v) for k, v in out.items()}


def test_ips_is_unbiased_against_the_exact_counterfactual(errors):
    e = errors["ips"]
    se = e.std(ddof=1) / np.sqrt(len(e))
    assert abs(e.mean()) < 3 * se  # measured: -0.0115 with se 0.0093 over 30 seeds


def test_bootstrap_intervals_cover_the_truth(errors):
    """30 seeds; 95% intervals should miss about 1.5 times (binomial sd of 0.95 at 30: 0.04).

    Bootstrap over shoppers (a shopper's slates resampled together), measured: DR 0.967, IPS 0.900;
    the slate bootstrap it replaces: DR 0.933, IPS 0.900. Over these 14-day logs a shopper has few
    slates, so the two widths are close (cluster / slate width for DR: mean 0.99, range 0.83–1.11);
    the widening under strong within-shopper correlation is tested on synthetic clustered data in
    tests/eval/offpolicy/test_estimators.py. IPS has heavy weights: a few explored rows carry weights of 27–113 (a
    sponsored top slot drawn among ~20 ad-eligible items at epsilon 0.3; ESS 126–238 of ~2,900
    slates, the top 1% of rows holding 27–39% of the weight), which a percentile bootstrap cannot
    see when it never drew them: the diagnostics the ``ope`` output prints. 0.85 is 2.5 sd below 0.95.
    """
    assert errors["covers_dr"].mean() >= 0.85
    assert errors["covers_ips"].mean() >= 0.7
    assert errors["covers_dr"].mean() >= errors["rows_covers_dr"].mean()
    assert errors["ess"].max() < 400 and errors["max_weight"].min() > 20 and errors["top1_share"].min() > 0.2


def test_analytic_expected_clicks_agree_with_the_realised_counterfactuals(errors):
    """The click probabilities the simulator computes from the shoppers' states average to the realised clicks."""
    e = errors["expected"]
    assert abs(e.mean()) < 3 * e.std(ddof=1) / np.sqrt(len(e))


def test_snips_and_dr_beat_ips_on_rmse_for_a_far_target(errors):
    rmse = {k: np.sqrt((errors[k] ** 2).mean()) for k in ("ips", "snips", "dr")}
    assert rmse["snips"] < rmse["ips"] and rmse["dr"] < rmse["ips"]  # measured 0.039, 0.036 vs 0.052


def test_position_based_ips_is_biased_where_choices_depend_on_the_whole_slate(errors):
    """Shoppers buy the best item they clicked in a slate: not a position-based model, so PI IPS is biased."""
    e = errors["independent_ips"]
    assert abs(e.mean()) > 3 * e.std(ddof=1) / np.sqrt(len(e))  # measured -0.173, se 0.011


def test_shadow_outcomes_agree_with_the_log_where_the_target_showed_the_same_slate(cfg):
    log = _log(cfg, 3, "popularity")  # the logger's own base: same slate whenever it did not explore
    same = (log.targets["popularity"] == log.table["slate"]).all(axis=1)
    assert 0.6 < same.mean() < 0.8  # about 1 - epsilon
    assert np.array_equal(log.target_carted["popularity"][same], log.carted[same])
    assert np.array_equal(log.target_clicked["popularity"][same], log.table["clicked"][same])
    t = log.table
    assert np.all(~t["purchased"] | t["carted"])  # bought implies chosen (the budget only removes)
    assert np.array_equal(t["revenue"] > 0, t["purchased"].any(axis=1))
    placed = t["slate"] >= 0
    assert np.all((t["propensity"][placed] > 0) & (t["propensity"][placed] <= 1))
    assert np.allclose(t["slate_propensity"], np.where(placed, t["prefix_propensity"], np.inf).min(axis=1))


def test_logs_export_has_the_documented_schema(cfg, tmp_path):
    log = _log(cfg, 1)
    path = tmp_path / "log.parquet"
    pq.write_table(bandit_log_arrow(log, "0.1.0"), path)
    table = pq.read_table(path)
    assert [*BANDIT_COLUMNS, "target_margin_greedy", "logging_policy", "logging_version"] == table.column_names
    assert table.num_rows == len(log.table["day"]) and set(table.column("logging_policy").to_pylist()) == {
        "popularity+eps0.3"
    }


def test_logs_and_ope_commands(tmp_path, capsys):
    out = tmp_path / "logs.parquet"
    assert main(["logs", "smoke", "--logging", "popularity", "--explore", "0.2", "--target", "buy_again",
                 "--days", "6", "--out", str(out)]) == 0  # fmt: skip
    assert pq.read_table(out).num_rows > 500
    truth = pq.read_table(tmp_path / "logs.truth.parquet")
    assert truth.num_rows == pq.read_table(out).num_rows and "target_buy_again_carted" in truth.column_names
    assert main(["ope", "smoke", "--logging", "popularity", "--target", "buy_again", "--days", "8"]) == 0
    text = capsys.readouterr().out
    assert "top slot" in text and "standard_ips" in text and "covers truth" in text
    assert "bootstrap over" in text and "shoppers (a shopper's slates resampled together)" in text
    # buy_again differs from the logger's slate in a share of the contexts: the whole-slate weights miss that mass
    # and say so (the top slot's mean weight, 0.949 +- 0.016 here, is flagged too at 3 se below 1; the synthetic
    # supported / unsupported pair in tests/eval/offpolicy/test_estimators.py pins the rule's both sides)
    assert "! standard_ips, standard_snips: unsupported target (slate weights: mean weight" in text
    assert "importance weights" in text and "mean weight" in text
    assert main(["logs", "smoke", "--logging", "popularity", "--explore", "1.5", "--out", str(out)]) == 2


def test_ips_is_unbiased_under_plackett_luce_logging(cfg):
    """Plackett–Luce(popularity, T = 0.3) logging, 8 days, 12 seeds: the top slot's IPS against exact truth.

    Its position propensities come from the numerical integral (rankers.exploration.rank_marginals);
    a wrong marginal would bias IPS. Measured: +0.025 with se 0.025.
    """
    short = cfg.replace(days=8)  # PL keeps the base's sponsored items: no sponsored slots, full support
    short = short.replace(marketplace=dataclasses.replace(short.marketplace, max_sponsored=0))
    errs = []
    for seed in range(12):
        logging = PlackettLuce(make_ranker("popularity"), 0.3)
        log = collect(short, logging, {"margin_greedy": make_ranker("margin_greedy")}, seed, "popularity+pl0.3")
        t, p = log.table, target_probabilities(log, "margin_greedy")
        est = IPS().estimate_policy_value(
            reward=t["clicked"][:, 0].astype(float),
            pscore=t["propensity"][:, 0].astype(float),
            target_prob=p["position"][:, 0],
        )
        errs.append(est - log.target_clicked["margin_greedy"][:, 0].mean())
    e = np.array(errs)
    assert abs(e.mean()) < 3 * e.std(ddof=1) / np.sqrt(len(e))
