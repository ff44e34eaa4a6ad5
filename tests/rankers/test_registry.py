"""The ranker table: names, errors, wrappers by name, classes passed in and registered (the wall: test_isolation.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import Ranker, RankRequest
from basketgym.rankers import registry
from basketgym.rankers.base import BaseRanker, ScoringRanker
from basketgym.rankers.baselines import BuyAgainRanker, PopularityRanker
from basketgym.rankers.exploration import EpsilonGreedy
from basketgym.rankers.registry import RANKERS, make_ranker, register_ranker
from basketgym.rankers.testing import smoke_check

ALL = (
    "buy_again, causal_value, epsilon_greedy, margin_greedy, objective, plackett_luce, popularity, propensity_value, "
    "random, value_mtl"
)


class CheapestFirst(ScoringRanker):
    """A team's own ranker, defined outside rankers/: the cheapest candidates first."""

    name = "cheapest_first"

    def __init__(self, markup: float = 0.0, **kwargs: float):
        super().__init__(**kwargs)
        self.markup = markup

    def score(self, request: RankRequest) -> np.ndarray:
        return self.item_values(request, -self.catalog.price * (1.0 + self.markup), -np.inf)


class NotARanker:
    """A class without the protocol's methods."""

    name = "not_a_ranker"


@pytest.fixture
def own_table(monkeypatch):
    """The light table, restored after the test (``register_ranker`` changes it for the process)."""
    monkeypatch.setattr(registry, "RANKERS", dict(RANKERS))
    return registry.RANKERS


def test_unknown_name_suggests_the_closest():
    with pytest.raises(RankerError) as err:
        rankers.make_ranker("popularty")
    assert str(err.value) == (
        f"unknown ranker 'popularty'; did you mean 'popularity'? available: {ALL} (or a trained model directory)"
    )


def test_unknown_name_without_a_close_match():
    with pytest.raises(RankerError) as err:
        rankers.make_ranker("xgboost")
    assert str(err.value) == f"unknown ranker 'xgboost'; available: {ALL} (or a trained model directory)"


def test_one_table_names_every_ranker_and_each_class_carries_its_name():
    assert ", ".join(rankers.available()) == ALL
    assert {name: cls.name for name, cls in RANKERS.items()} == {name: name for name in RANKERS}
    assert set(registry.LOADERS) == {"value_mtl", "causal_value", "propensity_value"}
    assert not set(RANKERS) & set(registry.LOADERS)


def test_unknown_options_name_the_closest_and_stop_at_a_constructor_without_kwargs():
    with pytest.raises(RankerError) as err:
        make_ranker("epsilon_greedy", epsilom=0.2)
    assert str(err.value) == (
        "ranker 'epsilon_greedy': unknown option 'epsilom'; did you mean 'epsilon'? options: base, epsilon, name"
    )
    with pytest.raises(RankerError, match="unknown option 'ranker'"):  # RankerWrapper's own argument is not an option
        make_ranker("plackett_luce", ranker=make_ranker("popularity"))
    with pytest.raises(RankerError, match="options: half_life_days, history_slots$"):
        make_ranker("popularity", half_life=3)


def test_constructor_arguments_pass_through():
    ranker = rankers.make_ranker("buy_again", half_life_days=7.0, history_slots=8)
    assert (ranker.half_life_days, ranker.history_slots) == (7.0, 8)


def test_a_wrapper_in_the_table_takes_its_base_by_name_or_as_a_ranker():
    default = make_ranker("epsilon_greedy")
    assert isinstance(default, EpsilonGreedy) and type(default.ranker) is PopularityRanker
    by_name = make_ranker("epsilon_greedy", base="buy_again", epsilon=0.3, name="explorer")
    assert type(by_name.ranker) is BuyAgainRanker and (by_name.epsilon, by_name.name) == (0.3, "explorer")
    given = make_ranker("buy_again")
    assert make_ranker("plackett_luce", base=given).ranker is given
    with pytest.raises(RankerError, match="unknown ranker 'buy_agian'; did you mean 'buy_again'"):
        make_ranker("epsilon_greedy", base="buy_agian")


def test_a_class_passed_in_is_built_with_its_options_checked(catalog):
    ranker = make_ranker(CheapestFirst, markup=0.1, half_life_days=3.0)
    assert isinstance(ranker, Ranker) and (ranker.name, ranker.markup, ranker.half_life_days) == (
        "cheapest_first", 0.1, 3.0
    )  # fmt: skip
    smoke_check(ranker, catalog, days=2)
    with pytest.raises(RankerError, match="ranker 'CheapestFirst': unknown option 'mark_up'; did you mean 'markup'"):
        make_ranker(CheapestFirst, mark_up=0.1)
    with pytest.raises(RankerError) as err:
        make_ranker(NotARanker)
    assert str(err.value) == (
        "ranker 'NotARanker': NotARanker does not follow the ranker protocol (name, reset, rank, update, fit)"
    )


def test_register_ranker_adds_a_class_for_this_process(own_table):
    register_ranker("cheapest_first", CheapestFirst)
    register_ranker("cheapest_first", CheapestFirst)  # the same class again: nothing changes
    assert "cheapest_first" in rankers.available() and own_table["cheapest_first"] is CheapestFirst
    assert make_ranker("cheapest_first", markup=0.5).markup == 0.5
    wrapped = make_ranker("epsilon_greedy", base="cheapest_first")
    assert type(wrapped.unwrapped) is CheapestFirst


def test_a_name_cannot_be_taken_twice(own_table):
    class Impostor(BaseRanker):
        pass

    with pytest.raises(RankerError, match="ranker name 'random' is already registered by RandomRanker"):
        register_ranker("random", Impostor)
    with pytest.raises(RankerError, match="'value_mtl' is already registered by a learned ranker"):
        register_ranker("value_mtl", Impostor)
    with pytest.raises(RankerError, match="a ranker class is needed"):
        register_ranker("instance", make_ranker("random"))
    assert own_table == RANKERS and own_table["random"].__name__ == "RandomRanker"


def test_importing_rankers_does_not_import_torch_or_lightgbm():
    """Learned rankers are loaded on first use: the CLI and the baselines start without the ML stack."""
    code = (
        "import sys, basketgym.rankers, basketgym.cli\n"
        "print(len(basketgym.rankers.available()), sorted({'torch', 'lightgbm'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "10 []"
