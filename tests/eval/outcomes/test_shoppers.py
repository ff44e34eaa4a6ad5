"""Per-shopper outcomes against values worked out by hand from the conftest world."""

from __future__ import annotations

import numpy as np
import pytest

from basketgym.eval.outcomes.shoppers import active_days, discount_factors, reorder_flags, shopper_outcomes

RATE = 0.365  # 0.1% a day: easy to write down by hand
HORIZONS = (7, 8, 14, 16)


def outcomes(world, days, **kw):
    args = dict(days=days, horizons=HORIZONS, discount_rate=RATE) | kw
    return shopper_outcomes(world["purchases"], world["sessions"], world["shoppers"], **args)


def test_reorder_needs_an_earlier_session_of_the_same_shopper(world):
    p = world["purchases"]
    np.testing.assert_array_equal(reorder_flags(p), p["expected_reorder"])


def test_reorder_flags_of_an_empty_log():
    empty = {c: np.zeros(0, np.int64) for c in ("session_id", "shopper_id", "day", "item_id")}
    assert reorder_flags(empty).shape == (0,)


def test_totals_per_shopper(world, days):
    o = outcomes(world, days)
    assert list(o["shopper_id"]) == [0, 1, 2]
    assert list(o["visits"]) == [3, 2, 2]
    assert list(o["orders"]) == [3, 1, 2]  # shopper 1's day-4 visit bought nothing
    assert list(o["lines"]) == [6, 2, 2]
    assert list(o["reorder_lines"]) == [3, 0, 1]
    assert list(o["gtv"]) == [30.0, 4.0, 6.0]
    assert list(o["margin"]) == [6.0, 0.75, 1.0]
    assert list(o["ad_revenue"]) == [1.5, 0.25, 0.0]
    assert list(o["contribution"]) == [7.5, 1.0, 1.0]


def test_horizon_windows_start_at_the_join_day(world, days):
    o = outcomes(world, days)
    # shopper 0: days 0 and 3 fall in 7 days; shopper 2 joined on day 5, its day-19 order is day 14
    assert list(o["contribution_7d"]) == [5.5, 1.0, 0.5]
    assert list(o["margin_7d"]) == [5.0, 0.75, 0.5]
    assert list(o["contribution_14d"]) == [7.5, 1.0, 0.5]
    assert list(o["margin_14d"]) == [6.0, 0.75, 0.5]


def test_ltv_discounts_daily_from_the_join_day(world, days):
    o = outcomes(world, days)
    d = 1 + RATE / 365
    assert o["ltv_7d"][0] == pytest.approx(2.5 + 3.0 / d**3, rel=1e-12)
    assert o["ltv_14d"][0] == pytest.approx(2.5 + 3.0 / d**3 + 2.0 / d**10, rel=1e-12)
    assert o["ltv_14d"][1] == pytest.approx(0.75 / d**2 + 0.25 / d**4, rel=1e-12)
    assert o["ltv_14d"][2] == 0.5  # bought on its join day: not discounted


def test_no_discounting_at_a_zero_rate(world, days):
    o = outcomes(world, days, discount_rate=0.0)
    for h in HORIZONS:
        np.testing.assert_array_equal(o[f"ltv_{h}d"], o[f"contribution_{h}d"])


def test_discount_factors():
    np.testing.assert_allclose(discount_factors(np.array([0, 1, 365]), 0.365), [1, 1 / 1.001, 1.001**-365])


def test_retention_and_its_observability(world, days):
    o = outcomes(world, days)
    assert list(o["retained_7d"]) == [1.0, 1.0, 1.0]
    assert list(o["retained_8d"]) == [1.0, 1.0, 1.0]  # churned on day 8 = join + 8: still there
    assert list(o["retained_14d"]) == [1.0, 0.0, 1.0]
    # shopper 2 joined on day 5: 5 + 16 > 20 days, so no 16-day column can be known for it
    assert list(o["retained_16d"][:2]) == [1.0, 0.0]
    for col in ("retained_16d", "contribution_16d", "margin_16d", "ltv_16d"):
        assert np.isnan(o[col][2]), col
    assert o["contribution_16d"][0] == 7.5


def test_unobservable_even_when_the_churn_is_known(world, days):
    world["shoppers"]["churn_day"][2] = 6
    o = outcomes(world, days, horizons=(16,))
    assert np.isnan(o["retained_16d"][2])  # else late joiners would count only when they churn


def test_shopper_ids_need_not_be_positions(world, days):
    new_ids = np.array([100, 7, 42])
    for table in world.values():
        table["shopper_id"] = new_ids[table["shopper_id"]]
    world["shoppers"]["shopper_id"] = new_ids
    o = outcomes(world, days)
    assert list(o["shopper_id"]) == [100, 7, 42]
    assert list(o["reorder_lines"]) == [3, 0, 1]
    assert list(o["contribution_7d"]) == [5.5, 1.0, 0.5]


def test_shopper_without_sessions_has_zero_outcomes(world, days):
    sh = world["shoppers"]
    for c, v in (("shopper_id", 3), ("join_day", 1), ("churn_day", 2)):
        sh[c] = np.append(sh[c], v)
    last = outcomes(world, days).iloc[3]
    assert (last["visits"], last["orders"], last["gtv"], last["ltv_14d"]) == (0, 0, 0.0, 0.0)
    assert last["retained_7d"] == 0.0


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda w: w["sessions"]["day"].__setitem__(5, 4), "before joining"),
        (lambda w: w["sessions"]["day"].__setitem__(6, 20), "must lie in"),
        (lambda w: w["sessions"]["shopper_id"].__setitem__(0, 9), "shopper 9 is not"),
        (lambda w: w["sessions"]["n_lines"].__setitem__(0, 3), "sums to 11"),
        (lambda w: w["shoppers"]["shopper_id"].__setitem__(2, 1), "unique"),
        (lambda w: w["purchases"].pop("item_id"), "missing column 'item_id'"),
    ],
)
def test_inconsistent_logs_are_refused(world, days, break_it, message):
    break_it(world)
    with pytest.raises(ValueError, match=message):
        outcomes(world, days)


def test_active_days_count_the_churn_day():
    join, churn = np.array([0, 0, 5, 3]), np.array([-1, 8, -1, 3])
    assert list(active_days(join, churn, 20)) == [20, 9, 15, 1]
    assert list(active_days(join, churn, 20, start=6)) == [14, 3, 14, 0]
