"""Every ranker by name, in one table: ``make_ranker`` builds one, ``available`` lists the names.

``RANKERS`` maps a name to its class; ``LOADERS`` maps the rankers that need torch or LightGBM to a
function importing their class on first use, so ``import basketgym.rankers`` stays light. A
wrapper in the table (a logging policy, ``rankers.wrappers.RankerWrapper``) takes the ranker it
wraps as ``base``: a ranker or a name, ``WRAPPED_BY_DEFAULT`` when not given. A trained model
directory (``basketgym train --out DIR``) is a ranker name too: ``make_ranker("DIR")`` serves it.

A team's own ranker needs no fork: ``make_ranker(MyRanker, ...)`` builds any ranker class, and
``register_ranker("mine", MyRanker)`` adds it to the table for this process. Import paths
(``"my_pkg.module:MyRanker"``) are resolved outside ``rankers/`` (``basketgym.plugins``), which
may not import modules by name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from inspect import signature
from pathlib import Path
from typing import Any

from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import Ranker
from basketgym.rankers.baselines import BuyAgainRanker, MarginGreedyRanker, PopularityRanker, RandomRanker
from basketgym.rankers.exploration import EpsilonGreedy, PlackettLuce
from basketgym.rankers.objective import ObjectiveRanker
from basketgym.rankers.wrappers import RankerWrapper


def _value_ranker() -> type:
    from basketgym.rankers.learned.value import ValueRanker

    return ValueRanker


def _causal_value_ranker() -> type:
    from basketgym.rankers.learned.causal import CausalValueRanker

    return CausalValueRanker


def _propensity_value_ranker() -> type:
    from basketgym.rankers.learned.causal import PropensityValueRanker

    return PropensityValueRanker


# name -> class; each class's ``name`` is its key here (tested)
RANKERS: dict[str, type] = {
    "random": RandomRanker,
    "popularity": PopularityRanker,
    "buy_again": BuyAgainRanker,
    "margin_greedy": MarginGreedyRanker,
    "objective": ObjectiveRanker,
    "epsilon_greedy": EpsilonGreedy,  # wrappers: ``base`` names the ranker they explore around
    "plackett_luce": PlackettLuce,
}
# name -> loader of the class, for rankers needing torch or LightGBM: literal imports on first use
# (rankers/ may not use importlib)
LOADERS: dict[str, Callable[[], type]] = {
    "value_mtl": _value_ranker,
    "causal_value": _causal_value_ranker,
    "propensity_value": _propensity_value_ranker,
}
WRAPPED_BY_DEFAULT = "popularity"  # the ``base`` of a wrapper in the table when none is given
_MODEL_FILE = "model.json"  # what marks a trained model directory (rankers.learned.model)


def available() -> list[str]:
    """Every ranker name in the table, sorted."""
    return sorted([*RANKERS, *LOADERS])


def register_ranker(name: str, cls: type) -> None:
    """Add a ranker class to the table as ``name`` (for this process); RankerError if the name is taken.

    Registering the same class under the same name again does nothing.
    """
    if not isinstance(cls, type):
        raise RankerError(f"register_ranker('{name}', {cls!r}): a ranker class is needed")
    if name in LOADERS or RANKERS.get(name, cls) is not cls:
        owner = RANKERS[name].__qualname__ if name in RANKERS else "a learned ranker (torch or LightGBM)"
        raise RankerError(f"ranker name '{name}' is already registered by {owner}")
    RANKERS[name] = cls


def is_model_dir(name: str) -> bool:
    """True when ``name`` is a directory holding a trained model."""
    return (Path(name) / _MODEL_FILE).is_file()


def make_ranker(ranker: str | type, /, **kwargs: Any) -> Ranker:
    """A new ranker: by name in the table, by trained model directory, or of a class; keyword arguments go to it.

    Unknown names and options are one-line RankerErrors naming the closest accepted ones.
    """
    name, cls = (ranker.__qualname__, ranker) if isinstance(ranker, type) else (ranker, _class_of(ranker))
    if cls is None and is_model_dir(name):
        cls, kwargs = _class_of("value_mtl"), {"path": name, **kwargs}
    if cls is None:
        names = available()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ";"
        raise RankerError(f"unknown ranker '{name}'{hint} available: {', '.join(names)} (or a trained model directory)")
    allowed = _options(cls)
    bad = sorted(set(kwargs) - allowed)
    if bad:
        close = difflib.get_close_matches(bad[0], sorted(allowed), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise RankerError(f"ranker '{name}': unknown option '{bad[0]}'; {hint}options: {', '.join(sorted(allowed))}")
    if issubclass(cls, RankerWrapper) and "base" in allowed:
        base = kwargs.get("base", WRAPPED_BY_DEFAULT)
        kwargs["base"] = make_ranker(base) if isinstance(base, str) else base
    made = cls(**kwargs)
    if not isinstance(made, Ranker):
        needs = "name, reset, rank, update, fit"
        raise RankerError(f"ranker '{name}': {cls.__qualname__} does not follow the ranker protocol ({needs})")
    return made


def _class_of(name: str) -> type | None:
    """The class registered as ``name`` (its module imported first if it is a heavy one), or None."""
    if name in LOADERS:
        try:
            return LOADERS[name]()
        except ImportError as e:
            raise RankerError(f"ranker '{name}' needs {e.name}: pip install 'basketgym[ml]'") from None
    return RANKERS.get(name)


def _options(cls: type) -> set[str]:
    """Keyword arguments ``cls`` accepts: its constructor's, and its bases' while each passes ``**kwargs`` on."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = _own_init(klass)
        if init is None:
            continue
        if init is object.__init__:
            break
        params = signature(init).parameters.values()
        names |= {p.name for p in params if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def _own_init(cls: type) -> Callable | None:
    """The constructor ``cls`` defines itself, or None."""
    return cls.__dict__.get("__init__")
