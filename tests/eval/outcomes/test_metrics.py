"""Run summaries, daily series and across-seed intervals on hand-checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from basketgym.eval.outcomes.metrics import across_seeds, daily_series, metric_names, summarize
from basketgym.eval.outcomes.shoppers import shopper_outcomes

HORIZONS = (7, 14, 16)


@pytest.fixture
def summary(world, days):
    o = shopper_outcomes(world["purchases"], world["sessions"], world["shoppers"], days, HORIZONS, 0.0)
    return summarize(o, world["purchases"], world["sessions"], days, HORIZONS)


def test_summary_keys_are_the_documented_names(summary):
    assert list(summary) == metric_names(HORIZONS)
    assert all(isinstance(v, float) for v in summary.values())


def test_summary_values(summary):
    expected = {
        "shoppers": 3,
        "gtv": 40.0,
        "margin": 7.75,
        "ad_revenue": 1.75,
        "contribution": 9.5,
        "gtv_per_shopper": 40 / 3,
        "contribution_per_shopper": 9.5 / 3,
        "visits_per_shopper": 7 / 3,
        "orders_per_shopper": 2.0,
        "orders_per_active_week": 7 * 6 / (20 + 9 + 15),  # shopper 1 active days 0..8
        "conversion_rate": 6 / 7,
        "slates_per_visit": 14 / 7,
        "basket_size": 10 / 6,
        "order_value": 40 / 6,
        "reorder_rate": 4 / 10,
        "organic_share": 2 / 10,
        "sponsored_share": 2 / 10,
        "churn_rate": 1 / 3,
        "retention_7d": 1.0,
        "retention_14d": 2 / 3,
        "retention_16d": 1 / 2,  # shopper 2 is not observable at 16 days
        "contribution_7d": (5.5 + 1.0 + 0.5) / 3,
        "contribution_16d": (7.5 + 1.0) / 2,
        "ltv_14d": (7.5 + 1.0 + 0.5) / 3,  # discount rate 0
        "observable_14d": 3,
        "observable_16d": 2,
    }
    for key, value in expected.items():
        assert summary[key] == pytest.approx(value, rel=1e-12), key


def test_rates_without_orders_are_nan(world, days):
    for t in ("sessions", "purchases"):
        world[t] = {c: a[:0] for c, a in world[t].items()}
    o = shopper_outcomes(world["purchases"], world["sessions"], world["shoppers"], days, (30,), 0.1)
    m = summarize(o, world["purchases"], world["sessions"], days, (30,))
    assert m["gtv"] == 0.0 and m["orders_per_shopper"] == 0.0
    for key in ("basket_size", "reorder_rate", "conversion_rate", "retention_30d", "ltv_30d"):
        assert math.isnan(m[key]), key
    assert m["observable_30d"] == 0.0


def test_daily_series(world, days):
    d = daily_series(world["sessions"], world["shoppers"], days)
    assert len(d) == days and list(d["day"]) == list(range(days))
    assert list(d["active_shoppers"][[0, 4, 5, 8, 9, 19]]) == [2, 2, 3, 3, 2, 2]
    assert list(d["joined"][[0, 5]]) == [2, 1] and d["joined"].sum() == 3
    assert d["churned"][8] == 1 and d["churned"].sum() == 1
    assert (d["visits"][4], d["orders"][4], d["ad_revenue"][4]) == (1, 0, 0.25)
    assert (d["orders"][3], d["lines"][3], d["gtv"][3], d["margin"][3]) == (1, 3, 15.0, 3.0)
    assert d["contribution"][0] == 2.5
    assert d["gtv"].sum() == 40.0 and d["orders"].sum() == 6


def test_across_seeds_t_interval():
    rows = [
        {"ranker": "a", "seed": 0, "gtv": 1.0, "rate": 0.5},
        {"ranker": "a", "seed": 1, "gtv": 2.0, "rate": math.nan},
        {"ranker": "a", "seed": 2, "gtv": 4.0, "rate": 0.7},
    ]
    s = across_seeds(rows)
    assert list(s.index) == ["gtv", "rate"]  # the ranker name and the seed are not metrics
    x = np.array([1.0, 2.0, 4.0])
    se = x.std(ddof=1) / math.sqrt(3)
    lo, hi = stats.t.interval(0.95, df=2, loc=x.mean(), scale=se)
    g = s.loc["gtv"]
    assert g["n"] == 3 and g["mean"] == pytest.approx(7 / 3)
    assert g["std"] == pytest.approx(math.sqrt(7 / 3)) and g["se"] == pytest.approx(se)
    assert (g["ci_low"], g["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert g["half_width"] == pytest.approx(4.303 * se, rel=1e-3)  # t(0.975, 2) = 4.303
    r = s.loc["rate"]  # the NaN seed is left out
    assert r["n"] == 2 and r["mean"] == pytest.approx(0.6)
    assert r["half_width"] == pytest.approx(stats.t.ppf(0.975, 1) * 0.1)  # sd 0.1414, se 0.1


def test_across_seeds_single_seed_has_no_interval():
    s = across_seeds([{"gtv": 5.0, "orders": 3}])
    assert s.loc["gtv", "mean"] == 5.0 and s.loc["orders", "n"] == 1
    for col in ("std", "se", "half_width", "ci_low", "ci_high"):
        assert math.isnan(s.loc["gtv", col]), col


def test_across_seeds_constant_metric_has_zero_width():
    s = across_seeds([{"x": 2.0}, {"x": 2.0}])
    assert (s.loc["x", "ci_low"], s.loc["x", "ci_high"]) == (2.0, 2.0)


def test_shoppers_arriving_after_the_last_day_do_not_count(world, days):
    sh = world["shoppers"]
    for c, v in (("shopper_id", 3), ("join_day", days), ("churn_day", -1)):
        sh[c] = np.append(sh[c], v)
    o = shopper_outcomes(world["purchases"], world["sessions"], sh, days, (7,), 0.0)
    m = summarize(o, world["purchases"], world["sessions"], days, (7,))
    assert (m["shoppers"], m["orders_per_shopper"], m["churn_rate"]) == (3.0, 2.0, 1 / 3)


def test_habit_index_coverage_and_diversity(world, days):
    """Habit index, coverage and diversity on the hand-made world.

    Staples: item 10 only. Orders (sessions with lines): 6; those re-ordering item 10: shopper 0 on
    day 3 and shopper 2 on day 19 (shopper 0's day-10 re-order is item 11, not a staple): 2 / 6.
    """
    o = shopper_outcomes(world["purchases"], world["sessions"], world["shoppers"], days, HORIZONS, 0.0)
    n = 20
    staple = np.zeros(n, bool)
    staple[10] = True
    shown, bought = np.zeros(n, np.int64), np.zeros(n, np.int64)
    shown[[10, 11, 12, 3]] = [5, 3, 2, 1]
    bought[[10, 11, 12]] = [6, 2, 1]
    m = summarize(o, world["purchases"], world["sessions"], days, HORIZONS, {"staple": staple, "shown": shown,
                                                                            "bought": bought})  # fmt: skip
    assert m["habit_index"] == pytest.approx(2 / 6)
    assert m["coverage_shown"] == pytest.approx(4 / 20) and m["coverage_bought"] == pytest.approx(3 / 20)
    p = np.array([6, 2, 1]) / 9
    assert m["diversity_bought"] == pytest.approx(np.exp(-(p * np.log(p)).sum()) / 20)
    assert math.isnan(summarize(o, world["purchases"], world["sessions"], days, HORIZONS)["habit_index"])
