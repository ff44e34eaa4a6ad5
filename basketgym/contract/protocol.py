"""The ranker protocol: batch-first requests and responses exchanged between the world and a ranker.

It lives in ``sim/`` because the world speaks it; ``rankers/`` implements it. A request holds B
sessions' worth of one surface; a response holds a slate of K item ids per row with the
propensity of each placement and which placements are sponsored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from basketgym.contract.catalog import PublicCatalog, read_only

SURFACE_HOME, SURFACE_SEARCH = 0, 1
SURFACE_NAMES = ("home", "search")


@dataclass(frozen=True)
class RankRequest:
    """B ranking requests of one surface on one day.

    ``candidates`` holds the retrieval set per row (-1 padding may appear anywhere). For search,
    ``query`` is the aisle the typed query names (its tokens are ``catalog.aisle_names[query]``);
    for the home feed it is -1. The arrays are read-only views (a ranker writing into them gets
    a ValueError); a ranker that needs to change one works on a copy.
    """

    day: int
    surface: int
    shopper_ids: np.ndarray  # (B,) int64
    query: np.ndarray  # (B,) int32
    candidates: np.ndarray  # (B, C) int32
    slate_size: int
    ad_positions: tuple[int, ...]  # where the standard ad auction places sponsored items
    max_sponsored: int  # most sponsored placements allowed per slate

    def __post_init__(self) -> None:
        # the ranker reads the arrays through non-writeable views: writing into a request raises
        for name in ("shopper_ids", "query", "candidates"):
            object.__setattr__(self, name, read_only(getattr(self, name)))
        object.__setattr__(self, "ad_positions", tuple(self.ad_positions))

    @property
    def batch_size(self) -> int:
        """Number of rows B."""
        return len(self.shopper_ids)


@dataclass(frozen=True)
class RankResponse:
    """Slates for a request: item ids (-1 where fewer valid candidates), propensities, ad flags.

    ``propensity[b, p]``: probability that the policy put this item at position p (the marginal
    that position-based estimators need). ``prefix_propensity[b, p]``: probability that positions
    0..p are exactly these items (cascade estimators); at the last placed position it is the
    probability of the whole slate (standard slate IPS). None means a deterministic policy: 1.0
    wherever an item is placed (``prefix_propensities`` fills it in).
    """

    slate: np.ndarray  # (B, K) int32
    propensity: np.ndarray  # (B, K) float32 in (0, 1]; 1.0 for deterministic policies
    sponsored: np.ndarray  # (B, K) bool
    prefix_propensity: np.ndarray | None = None  # (B, K) float32, non-increasing along placed positions


def prefix_propensities(response: RankResponse) -> np.ndarray:
    """(B, K) prefix propensities of a response: its own, or 1.0 where placed for a deterministic one."""
    if response.prefix_propensity is not None:
        return response.prefix_propensity
    return (response.slate >= 0).astype(np.float32)


@runtime_checkable
class Ranker(Protocol):
    """What every ranker provides. ``update`` and ``fit`` may do nothing (static rankers)."""

    name: str

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a new world: the public catalog (read-only views) and the ranker's own seed.

        The seed is ``sim.rng.ranker_seed`` of the world seed, never the world seed itself.
        """

    def rank(self, request: RankRequest) -> RankResponse:
        """Slates for a batch of requests."""

    def update(self, day_log: dict[str, np.ndarray]) -> None:
        """The day's logged tables (``slates``, ``purchases``, ``sessions``; read-only arrays), after the day ends."""

    def fit(self, day: int) -> None:
        """Refit on the scenario's cadence, from what ``update`` has accumulated."""
