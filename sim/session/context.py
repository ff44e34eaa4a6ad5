"""What a batch of sessions reads and writes of its world: the narrow context every session phase takes.

A ``World`` builds one ``VisitContext`` for its sessions and the Shopper envs' engine builds its own
(the same shoppers and catalog, but every epoch of the market), so the phases never see a whole
world: only the catalog as shoppers meet it, the market, the shoppers' state, the platform's
order-again history, the draws' seed, the behaviour parameters, the ranker call and the observer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from basketgym.agents.choice import examination_probability
from basketgym.agents.params import BehaviourConfig, ChurnConfig
from basketgym.agents.state import ShopperState
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import Ranker
from basketgym.sim.catalog import Catalog
from basketgym.sim.config import MarketplaceConfig, ScenarioConfig
from basketgym.sim.market import Market

if TYPE_CHECKING:
    from basketgym.sim.session.home import FeaturedPools


class Observer(Protocol):
    """Sees the truth in shadow (``eval.bandit_logs.ShadowRecorder``): a world argument only ``eval/`` passes.

    After each answered request the session asks ``pending()`` for alternative slates (name ->
    (rows, K) item ids) and ``record``s the shown slate's and each alternative's clicks, choices and
    true probabilities, same shopper state and draws, nothing applied. Never reachable from the ranker.
    """

    def pending(self) -> dict[str, np.ndarray]:
        """The alternative slates for the request just answered."""

    def record(self, session_id: np.ndarray, surface: int, query: np.ndarray, shown: tuple[np.ndarray, ...],
               alt: dict[str, tuple[np.ndarray, ...]]) -> None:  # fmt: skip
        """The shown slate's outcomes and each alternative's."""


@dataclass
class OrderHistory:
    """The platform's order-again history: per state row, items bought recently and how often (slots)."""

    items: np.ndarray  # (P, H) int32, -1 in empty slots
    counts: np.ndarray  # (P, H) float32

    @classmethod
    def allocate(cls, capacity: int, width: int) -> OrderHistory:
        """Empty history for ``capacity`` rows of ``width`` slots."""
        return cls(np.full((capacity, width), -1, np.int32), np.zeros((capacity, width), np.float32))

    def grow(self, capacity: int) -> None:
        """Reallocate to ``capacity`` rows, keeping existing ones (in place: holders keep this object)."""
        items, counts = self.items, self.counts
        self.items = np.full((capacity, items.shape[1]), -1, items.dtype)
        self.counts = np.zeros((capacity, counts.shape[1]), counts.dtype)
        self.items[: len(items)], self.counts[: len(counts)] = items, counts

    def clear_rows(self, rows: np.ndarray) -> None:
        """Forget what rows ``rows`` bought."""
        self.items[rows], self.counts[rows] = -1, 0

    def copy_rows(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Copy the history of rows ``src`` into rows ``dst``."""
        self.items[dst], self.counts[dst] = self.items[src], self.counts[src]

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self.items.nbytes + self.counts.nbytes


@dataclass(frozen=True)
class ShopView:
    """The catalog as shoppers meet it in sessions: the full catalog (hidden truth included) and blocks derived once."""

    catalog: Catalog
    staple_aisles: np.ndarray  # (S,) aisles with a replenishment cycle (a pantry slot each)
    staple_index: np.ndarray  # (A,) each aisle's pantry slot, -1 for non-staples
    shelf: np.ndarray  # (A, W) int: each aisle's search shelf, cut to ``search_candidates``
    shelf_latent_t: np.ndarray  # (A, D, W) float32: per-aisle embedding blocks, one matrix product a searched aisle
    shelf_quality: np.ndarray  # (A, W) float32
    centroid_t: np.ndarray  # (D, A) float32: aisle centroids, for every visitor's taste of every aisle at once
    exam_p: np.ndarray  # (K,) examination probability by position
    log_slate_width: int  # slate columns of the slate log: the wider of the two surfaces

    @classmethod
    def build(cls, cfg: ScenarioConfig, catalog: Catalog) -> ShopView:
        """Derive the blocks for scenario ``cfg`` from its generated ``catalog``."""
        public = catalog.public
        staple_aisles = np.flatnonzero(catalog.aisle_cycle > 0)
        staple_index = np.full(public.n_aisles, -1, np.int64)
        staple_index[staple_aisles] = np.arange(len(staple_aisles))
        shelf = public.shelf[:, : min(public.shelf.shape[1], cfg.marketplace.search_candidates)]
        sh = np.maximum(shelf, 0)
        latent = np.where((shelf >= 0)[:, :, None], catalog.latent[sh], 0).astype(np.float32)
        width = max(cfg.marketplace.slate_size, cfg.marketplace.home_slate_size)
        return cls(
            catalog=catalog,
            staple_aisles=staple_aisles,
            staple_index=staple_index,
            shelf=shelf,
            shelf_latent_t=np.ascontiguousarray(latent.transpose(0, 2, 1)),
            shelf_quality=np.where(shelf >= 0, catalog.quality[sh], 0).astype(np.float32),
            centroid_t=np.ascontiguousarray(catalog.aisle_centroid.T),
            exam_p=examination_probability(width, cfg.behaviour.position_bias),
            log_slate_width=width,
        )

    @property
    def public(self) -> PublicCatalog:
        """The public part of the catalog (live: events change its prices and stock)."""
        return self.catalog.public

    @property
    def n_aisles(self) -> int:
        """Number of aisles."""
        return self.catalog.public.n_aisles


@dataclass
class VisitContext:
    """Everything the session phases need of a world, and nothing else.

    ``market`` holds the catalog by epoch (a world: its one live epoch; the envs' engine: every
    epoch of the horizon). ``state`` and ``history`` are written by checkout. ``ranker`` is None
    where a policy chooses the slates (the envs' engine), and ``observer`` None unless ``eval/``
    asked for counterfactual truth. ``featured`` (home feed's daily pools) is None where home
    candidates come from elsewhere (the engine reads them from its ``MarketTimeline``).
    """

    seed: int  # the world seed: keys every draw of the shoppers
    behaviour: BehaviourConfig
    marketplace: MarketplaceConfig
    churn: ChurnConfig
    shop: ShopView
    market: Market
    state: ShopperState
    history: OrderHistory
    ranker: Ranker | None = None
    ranker_name: str = ""
    featured: FeaturedPools | None = None
    observer: Observer | None = None
    # per ranker call: (surface, batch, candidates, seconds)
    latency: list[tuple[int, int, int, float]] = field(default_factory=list)
    # truth diagnostics summed over sessions: count, relevance, needs met, irrelevant ads, score
    experience: np.ndarray = field(default_factory=lambda: np.zeros(5))


# ---- per-visit values: an int when a batch shares one day (a world's), an array over visits otherwise ----
def at(x: int | np.ndarray, idx: np.ndarray) -> int | np.ndarray:
    """A per-visit value (a shared int, or an array over visits) for the rows ``idx`` index."""
    return x if isinstance(x, int | np.integer) else x[idx]


def col(x: int | np.ndarray) -> int | np.ndarray:
    """A per-visit value shaped to broadcast against (visits, k) arrays."""
    return x if isinstance(x, int | np.integer) else x[:, None]


def day_column(x: int | np.ndarray, n: int) -> np.ndarray:
    """A day column of length ``n`` for a log table."""
    return np.full(n, x, np.int32) if isinstance(x, int | np.integer) else x.astype(np.int32)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of small non-negative ints: numpy radix-sorts 16-bit keys (~7x faster here)."""
    if len(keys) and keys.max() < 2**16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")
