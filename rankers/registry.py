"""Rankers by name: ``register`` a class, ``make_ranker`` an instance, ``available`` names."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from sim.errors import RankerError
from sim.protocol import Ranker

T = TypeVar("T", bound=type)

_REGISTRY: dict[str, type] = {}


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make the ranker class available as ``name`` (and set its ``name``)."""

    def deco(cls: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise RankerError(f"ranker name '{name}' is already registered by {_REGISTRY[name].__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def available() -> list[str]:
    """Registered ranker names, sorted."""
    return sorted(_REGISTRY)


def make_ranker(name: str, **kwargs: Any) -> Ranker:
    """A new ranker instance by registry name; keyword arguments go to its constructor."""
    cls = _REGISTRY.get(name)
    if cls is None:
        names = available()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ";"
        raise RankerError(f"unknown ranker '{name}'{hint} available: {', '.join(names)}")
    return cls(**kwargs)
