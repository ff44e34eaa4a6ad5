"""Rankers by name: ``register`` a class, ``make_ranker`` an instance, ``available`` names.

Rankers with heavy dependencies (torch, LightGBM) are registered lazily, by ``"module:Class"``:
``import rankers`` stays light and the module is imported on first use. A trained model
directory (``basketgym train --out DIR``) is a ranker name too: ``make_ranker("DIR")`` serves it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from inspect import signature
from pathlib import Path
from typing import Any, TypeVar

from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import Ranker

T = TypeVar("T", bound=type)


def _value() -> type:
    from basketgym.rankers.learned.value import ValueRanker

    return ValueRanker


def _causal() -> type:
    from basketgym.rankers.learned.causal import CausalValueRanker

    return CausalValueRanker


def _propensity() -> type:
    from basketgym.rankers.learned.causal import PropensityValueRanker

    return PropensityValueRanker


_REGISTRY: dict[str, type | str] = {}
# imported on first use, by literal imports (no importlib: rankers/ is scanned for it)
_LOADERS: dict[str, Callable[[], type]] = {
    "value_mtl": _value,
    "causal_value": _causal,
    "propensity_value": _propensity,
}
_LAZY = {
    "value_mtl": "basketgym.rankers.learned.value:ValueRanker",
    "causal_value": "basketgym.rankers.learned.causal:CausalValueRanker",
    "propensity_value": "basketgym.rankers.learned.causal:PropensityValueRanker",
}
_MODEL_FILE = "model.json"  # what marks a trained model directory (rankers.learned.model)


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make the ranker class available as ``name`` (and set its ``name``)."""

    def deco(cls: T) -> T:
        known = _REGISTRY.get(name)
        if known is not None and known is not cls and _LAZY.get(name) != f"{cls.__module__}:{cls.__qualname__}":
            owner = known if isinstance(known, str) else known.__qualname__
            raise RankerError(f"ranker name '{name}' is already registered by {owner}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


_REGISTRY.update(_LAZY)


def available() -> list[str]:
    """Registered ranker names, sorted."""
    return sorted(_REGISTRY)


def is_model_dir(name: str) -> bool:
    """True when ``name`` is a directory holding a trained model."""
    return (Path(name) / _MODEL_FILE).is_file()


def make_ranker(name: str, **kwargs: Any) -> Ranker:
    """A new ranker instance by registry name (or trained model directory); keyword arguments go to its constructor."""
    cls = _REGISTRY.get(name)
    if isinstance(cls, str):
        try:
            cls = _LOADERS[name]()
        except ImportError as e:
            raise RankerError(f"ranker '{name}' needs {e.name}: pip install 'basketgym[ml]'") from None
    if cls is None and is_model_dir(name):
        from basketgym.rankers.learned.value import ValueRanker

        cls, kwargs = ValueRanker, {"path": name, **kwargs}
    if cls is None:
        names = available()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ";"
        raise RankerError(f"unknown ranker '{name}'{hint} available: {', '.join(names)} (or a trained model directory)")
    bad = sorted(set(kwargs) - _options(cls)) if not _takes_any(cls) else []
    if bad:
        allowed = sorted(_options(cls))
        close = difflib.get_close_matches(bad[0], allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise RankerError(f"ranker '{name}': unknown option '{bad[0]}'; {hint}options: {', '.join(allowed)}")
    return cls(**kwargs)


def _options(cls: type) -> set[str]:
    """Keyword arguments the constructors along ``cls``'s MRO accept."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = _own_init(klass)
        if init is not None:
            names |= {p.name for p in signature(init).parameters.values()
                      if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}  # fmt: skip
    return names


def _own_init(cls: type) -> Callable | None:
    """The constructor ``cls`` defines itself, or None."""
    return cls.__dict__.get("__init__")


def _takes_any(cls: type) -> bool:
    """True if the first explicit constructor passes arbitrary keywords on to something other than its base."""
    init = next((i for i in map(_own_init, cls.__mro__) if i is not None), None)
    return init is None or init is object.__init__
