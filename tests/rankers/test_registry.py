"""Ranker registry errors and lazy registration (the wall itself: tests/rankers/test_isolation.py)."""

from __future__ import annotations

import basketgym.rankers as rankers
import pytest
from basketgym.rankers.base import BaseRanker
from basketgym.rankers.registry import register

from basketgym.contract.errors import RankerError


def test_unknown_name_suggests_the_closest():
    with pytest.raises(RankerError) as err:
        rankers.make_ranker("popularty")
    assert str(err.value) == (
        "unknown ranker 'popularty'; did you mean 'popularity'? "
        "available: buy_again, causal_value, epsilon_greedy, margin_greedy, objective, plackett_luce, popularity, "
        "propensity_value, random, value_mtl (or a trained model directory)"
    )


def test_unknown_name_without_a_close_match():
    with pytest.raises(RankerError) as err:
        rankers.make_ranker("xgboost")
    assert str(err.value) == (
        "unknown ranker 'xgboost'; available: buy_again, causal_value, epsilon_greedy, margin_greedy, objective, "
        "plackett_luce, popularity, propensity_value, random, value_mtl (or a trained model directory)"
    )


def test_a_name_cannot_be_taken_twice():
    with pytest.raises(RankerError, match="ranker name 'random' is already registered by RandomRanker"):

        @register("random")
        class Impostor(BaseRanker):
            pass


def test_constructor_arguments_pass_through():
    ranker = rankers.make_ranker("buy_again", half_life_days=7.0, history_slots=8)
    assert (ranker.half_life_days, ranker.history_slots) == (7.0, 8)


def test_importing_rankers_does_not_import_torch_or_lightgbm():
    """Learned rankers are registered lazily: the CLI and the baselines start without the ML stack."""
    import subprocess
    import sys

    code = "import sys, rankers, basketgym.cli; print(sorted({'torch', 'lightgbm'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
