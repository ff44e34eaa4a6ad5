"""True purchase probabilities (Gumbel-exact, examination averaged) match brute-force simulation of the choice rule."""

import numpy as np

from basketgym.agents.choice import choice_probability, decide


def test_search_rule_matches_simulated_choices():
    """Rows of one group (a search slate): the bought position of ``decide``, simulated 200,000 times.

    Binomial standard error of a frequency <= 0.0011 at 200k draws; the function's own examination
    average uses 4,000 patterns (error <= ~0.004 on the largest probability): tolerance 0.01.
    """
    rng = np.random.default_rng(0)
    r, k, n = 3, 6, 200_000
    util = rng.normal(0, 1, (r, k))
    util[2, 4:] = -np.inf  # empty slots
    exam = np.tile(1.0 / np.arange(1, k + 1) ** 0.7, (r, 1))
    exam[2, 4:] = 0.0
    click_thr, buy_thr = np.array([0.2, -0.5, 0.8]), np.array([0.5, 0.0, 0.3])
    thr = np.broadcast_to(np.maximum(click_thr, buy_thr)[:, None], (r, k))
    p = choice_probability(util, exam, np.zeros((r, k), np.int64), thr, rng.random((4000, r, k)))
    freq = np.zeros((r, k))
    for _ in range(n // 10_000):
        shock = rng.gumbel(size=(10_000, r, k))
        examined = rng.random((10_000, r, k)) < exam
        for row in range(r):
            _, bought = decide(np.broadcast_to(util[row], (10_000, k)), shock[:, row], examined[:, row],
                               np.full(10_000, click_thr[row]), np.full(10_000, buy_thr[row]))  # fmt: skip
            np.add.at(freq[row], bought[bought >= 0], 1)
    freq /= n
    assert np.abs(p - freq).max() < 0.01
    assert p[2, 4:].sum() == 0.0


def test_items_competing_with_nobody_get_the_closed_form():
    """Group -1: examined x P(util + Gumbel > threshold), whatever the examination draws."""
    util = np.array([[0.3, -1.0, 2.0]])
    exam = np.array([[0.9, 0.5, 0.2]])
    thr = np.array([[0.0, 0.5, 1.0]])
    p = choice_probability(util, exam, np.full((1, 3), -1), thr, np.random.default_rng(1).random((7, 1, 3)))
    assert np.allclose(p, exam * -np.expm1(-np.exp(util - thr)))


def test_groups_only_compete_within_themselves():
    """Two items of one intent share the purchase; a third, alone, does not take from them."""
    util = np.array([[1.0, 1.0, 5.0]])
    exam = np.ones((1, 3))
    thr = np.full((1, 3), -10.0)  # every examined item clears the bar
    p = choice_probability(util, exam, np.array([[0, 0, -1]]), thr, np.random.default_rng(2).random((5, 1, 3)))
    assert np.allclose(p, [[0.5, 0.5, 1.0]], atol=1e-6)
