"""Rankers made of rankers: ``RankerWrapper`` around one ranker, ``RankerPair`` of two fed the same logs.

A wrapper is what ``gymnasium.Wrapper`` is to an env: it holds one ranker (``ranker``), forwards
the protocol to it and changes only what it overrides (exploration, exposure tests, feature
logging). A pair serves two rankers side by side (surface ablations, A/B traffic splits): each row
goes to one of them, both ingest every day's logs. A pair is not a wrapper of its first ranker:
it would override everything a wrapper forwards, and ``unwrapped`` would name one of two policies
(the control of an A/B split) as if it were the only one.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import Ranker, RankRequest, RankResponse


class RankerWrapper:
    """A ranker around ``ranker``: ``reset``, ``rank``, ``update``, ``fit`` and ``name`` go to it unless overridden.

    A subclass overrides what it changes and calls ``super()`` to keep forwarding the rest. Its
    ``name`` is the wrapped ranker's unless it has its own: a class attribute (the registry name
    of a logging policy) or the ``name`` argument. ``unwrapped`` is the innermost ranker, through
    any number of wrappers.

    Only the protocol is forwarded: a wrapper does not pass for what it wraps otherwise (a
    wrapper that changes the slates must not offer the wrapped ranker's ``score`` as its own).
    Reach anything else through ``ranker`` or ``unwrapped``.
    """

    _name: str | None = None  # a name of this wrapper's own, set through ``name``

    def __init__(self, ranker: Ranker, name: str | None = None):
        self.ranker = ranker
        if name is not None:
            self.name = name

    @property
    def name(self) -> str:
        """The wrapped ranker's name, unless this wrapper was given one of its own."""
        return self.ranker.name if self._name is None else self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def unwrapped(self) -> Ranker:
        """The innermost ranker (the one that is no wrapper)."""
        inner = self.ranker
        return inner.unwrapped if isinstance(inner, RankerWrapper) else inner

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a new world: the wrapped ranker resets."""
        self.ranker.reset(catalog, seed)

    def rank(self, request: RankRequest) -> RankResponse:
        """The wrapped ranker's slates."""
        return self.ranker.rank(request)

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """The wrapped ranker ingests the finished day's logs."""
        self.ranker.update(day_log)

    def fit(self, day: int) -> None:
        """The wrapped ranker refits."""
        self.ranker.fit(day)


class RankerPair(abc.ABC):
    """Two rankers fed the same logs; a subclass's ``rank`` routes each request row to one of them.

    ``reset``, ``update`` and ``fit`` go to ``first``, then to ``second``.
    """

    def __init__(self, first: Ranker, second: Ranker, name: str):
        self.first, self.second, self.name = first, second, name

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a new world: both rankers reset."""
        self.first.reset(catalog, seed)
        self.second.reset(catalog, seed)

    @abc.abstractmethod
    def rank(self, request: RankRequest) -> RankResponse:
        """Slates for a batch of requests, each row answered by one of the two rankers."""

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Both rankers ingest the finished day's logs."""
        self.first.update(day_log)
        self.second.update(day_log)

    def fit(self, day: int) -> None:
        """Both rankers refit."""
        self.first.fit(day)
        self.second.fit(day)
