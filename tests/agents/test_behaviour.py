"""Shopper behaviour functions: pure, vectorised, with the shapes and monotonicity they promise."""

import numpy as np

from basketgym.agents import choice, habit, pantry, satisfaction, visits
from basketgym.agents.params import ChurnConfig
from basketgym.agents.state import NO_STOCK, ShopperState


def test_examination_decays_with_rank():
    p = choice.examination_probability(10, 0.9)
    assert p[0] == 1.0 and (np.diff(p) < 0).all()


def test_decide_buys_the_best_clicked_item_above_the_outside_option():
    util = np.array([[1.0, 3.0, 2.0], [0.0, 0.0, 0.0]])
    shock = np.zeros_like(util)
    examined = np.array([[True, True, False], [True, True, True]])
    clicked, bought = choice.decide(util, shock, examined, np.array([0.5, 0.5]), np.array([2.5, 0.5]))
    assert clicked.tolist() == [[True, True, False], [False, False, False]]
    assert bought.tolist() == [1, -1]  # item 2 is better but was not examined


def test_habits_decay_and_saturate():
    assert np.isclose(habit.decayed(np.float32(1.0), np.array(0), 45, 45.0), np.exp(-1))
    s = np.float32(0.0)
    for _ in range(20):
        s = habit.reinforced(s, 0.5)
    assert 0.99 < s <= 1.0


def test_pantry_needs_refill_and_unused_staples():
    runout = np.array([[10, 30, NO_STOCK]], np.int16)
    assert pantry.needs(runout, 8, 2).tolist() == [[True, False, False]]
    new = pantry.refill(runout, 12, np.array([[7.0, 7.0, 7.0]]))
    assert new.tolist() == [[19, 37, NO_STOCK]]  # overdue: from today; in stock: added on
    assert pantry.days_until_needs(np.array([[20, 30, NO_STOCK]], np.int16), 10, 2, 2).tolist() == [18]


def test_satisfaction_drives_hazard_and_trip_interval():
    cfg = ChurnConfig()
    low, high = np.array([0.3]), np.array([0.9])
    assert satisfaction.churn_hazard(low, cfg) > satisfaction.churn_hazard(high, cfg)
    assert np.isclose(satisfaction.churn_hazard(np.array([cfg.reference_satisfaction]), cfg), cfg.base_hazard)
    assert satisfaction.interval_factor(low, cfg) > 1 > satisfaction.interval_factor(high, cfg)
    score = satisfaction.session_score(np.array([0.6, 0.6]), np.array([1.0, 0.5]), np.array([0.0, 0.2]), cfg)
    assert score[0] > score[1]


def test_weekly_routines_round_to_weeks():
    u = np.full(5, 0.5)
    gap = visits.next_gap(np.full(5, 9.0), np.ones(5, bool), u, np.full(5, 99), np.ones(5), np.ones(5))
    assert (gap == 7).all()


def test_state_is_compact_and_grows():
    st = ShopperState.allocate(100, 16, 50, 8, 8)
    assert st.nbytes_per_shopper() < 400
    st.taste[3] = 1.0
    st.grow(250)
    assert st.capacity == 250 and st.taste[3].sum() == 16 and st.taste[200].sum() == 0
