"""A team's own ranker outside the package, named by its import path ``team_ranker:CheapestFirst`` (test_plugins.py)."""

from __future__ import annotations

import numpy as np

from basketgym.contract.protocol import RankRequest
from basketgym.rankers.base import ScoringRanker


class CheapestFirst(ScoringRanker):
    """The cheapest candidates first; ``markup`` scales every price (an option a scenario can set)."""

    name = "cheapest_first"
    candidate_row_only = True

    def __init__(self, markup: float = 0.0, **kwargs: float):
        super().__init__(**kwargs)
        self.markup = float(markup)

    def score(self, request: RankRequest) -> np.ndarray:
        """Minus the (marked-up) price of each candidate."""
        return self.item_values(request, -self.catalog.price * (1.0 + self.markup), -np.inf)


class Outer:
    """Holds a nested ranker class (a qualified name after the colon)."""

    class Nested(CheapestFirst):
        """The same ranker, one level down."""


NOT_A_CLASS = CheapestFirst()
