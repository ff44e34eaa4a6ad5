"""Input checks: what passes comes back as float64, what fails names the argument and the rule."""

import numpy as np
import pytest

from basketgym.eval.stats.checks import (
    check_alpha,
    check_array,
    check_n_boot,
    check_positive,
    check_probabilities,
    check_propensities,
    check_units,
)


def test_arrays_pass_as_float64_and_fail_with_their_name():
    a = check_array([1, 2, 3], "reward", 1, 3)
    assert a.dtype == np.float64 and a.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"reward must be 2-dimensional, got shape \(3,\)"):
        check_array([1, 2, 3], "reward", 2)
    with pytest.raises(ValueError, match="reward has 3 rows, expected 4"):
        check_array([1, 2, 3], "reward", 1, 4)
    with pytest.raises(ValueError, match="reward has non-finite values"):
        check_array([1, np.nan], "reward", 1)


def test_units_need_a_variance():
    assert check_units([1.0, 2.0], "y_t").tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="y_t needs at least two units, got 1"):
        check_units([1.0], "y_t")


def test_propensities_and_probabilities():
    assert check_propensities([0.5, 1.0], "pscore").tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="slate_pscore must be positive: a logged slate had probability > 0"):
        check_propensities([0.5, 0.0], "slate_pscore", what="slate")
    assert check_probabilities([0.0, 1.0], "target_prob").tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="target_prob must be non-negative"):
        check_probabilities([-0.1, 1.0], "target_prob")


def test_levels_counts_and_parameters():
    assert check_alpha(0.05) == 0.05 and check_n_boot(0) == 0 and check_positive(2.0, "clip") == 2.0
    for bad in (0.0, 1.0, -0.5):
        with pytest.raises(ValueError, match=f"alpha must be in \\(0, 1\\), got {bad}"):
            check_alpha(bad)
    with pytest.raises(ValueError, match="n_boot must be non-negative, got -1"):
        check_n_boot(-1)
    with pytest.raises(ValueError, match="clip must be positive, got 0"):
        check_positive(0, "clip")
