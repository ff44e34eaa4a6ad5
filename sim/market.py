"""The catalog's day-dependent state (prices, stock, searchable shelves): live for a world, or a whole horizon.

Scheduled events change prices and availability between days. A ``World`` keeps one live epoch
that its events rewrite in place; a ``MarketTimeline`` replays the same events once and keeps
every distinct epoch of the horizon, so that visits on different days can run in one batch
(the envs' engine). Session code reads the catalog only through ``Market`` arrays indexed by epoch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import simpy

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.rng import Purpose
from basketgym.sim.catalog import Catalog
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.events import MarketEvents

BEFORE_SESSIONS = 0.25  # a day's events start at t + 0.0 and its sessions run at t + 0.5


@dataclass
class Market:
    """Catalog state by epoch: row ``e`` of every array is the catalog as it stands in epoch ``e``."""

    price: np.ndarray  # (E, P) float32
    available: np.ndarray  # (E, P) bool
    log_rel_price: np.ndarray  # (E, P) float64: log of price over the aisle's reference price
    search_shelf: np.ndarray  # (E, A, W) int32: each aisle's search shelf, unavailable items -1
    shelf_lrp: np.ndarray  # (E, A, W) float32: log relative price along the search shelf

    @classmethod
    def allocate(cls, epochs: int, n_products: int, shelf: np.ndarray) -> Market:
        """Empty arrays for ``epochs`` epochs of a catalog whose search shelves are ``shelf`` (A, W)."""
        return cls(
            price=np.zeros((epochs, n_products), np.float32),
            available=np.zeros((epochs, n_products), bool),
            log_rel_price=np.zeros((epochs, n_products), np.float64),
            search_shelf=np.full((epochs, *shelf.shape), -1, np.int32),
            shelf_lrp=np.zeros((epochs, *shelf.shape), np.float32),
        )

    def set_epoch(self, e: int, public: PublicCatalog, ref_price: np.ndarray, shelf: np.ndarray) -> None:
        """Fill epoch ``e`` from the live public catalog (``ref_price``: each item's aisle reference price)."""
        self.price[e] = public.price
        self.available[e] = public.available
        self.search_shelf[e] = np.where((shelf >= 0) & public.available[np.maximum(shelf, 0)], shelf, -1)
        self.log_rel_price[e] = np.log(public.price / ref_price).astype(np.float64)
        self.shelf_lrp[e] = np.where(shelf >= 0, self.log_rel_price[e][np.maximum(shelf, 0)], 0.0)

    @property
    def epochs(self) -> int:
        """Number of epochs held."""
        return len(self.price)


def featured_pool(seed: int, public: PublicCatalog, available: np.ndarray, k: int, day: int) -> np.ndarray:
    """The day's featured items (merchandising picks, sorted ids): the same for every shopper that day."""
    n = public.n_products
    k = min(k, int(available.sum()))
    u = rng.uniform(seed, Purpose.FEATURED, np.arange(n), day, 1)[:, 0]
    weight = 1.0 + public.ad_eligible + 0.5 * public.staple
    key = np.where(available, np.log(weight) + rng.gumbel_from_uniform(u), -np.inf)
    return np.sort(np.argpartition(-key, k - 1)[:k]).astype(np.int32)


class _Recorder:
    """Stands in for the world while the timeline replays events: nothing to refresh."""

    def refresh_prices(self) -> None:
        """The timeline snapshots the catalog itself."""


class MarketTimeline:
    """Every epoch of the catalog over a horizon, with the day-to-epoch map and daily featured pools.

    Built by replaying the scenario's ``MarketEvents`` (the very code a world runs) on a private
    copy of the public catalog and snapshotting it before each day's sessions, so a visit looked
    up here sees exactly the prices and stock a world would show it that day.
    """

    def __init__(self, cfg: ScenarioConfig, seed: int, catalog: Catalog, shelf: np.ndarray, days: int):
        self.seed, self.days, self.home_featured = int(seed), int(days), cfg.marketplace.home_featured
        public = copy.deepcopy(catalog.public)
        self.public = public
        events = MarketEvents(cfg.events, public, self.seed)
        ref = catalog.aisle_ref_price[public.aisle]
        env = simpy.Environment()
        for proc in events.processes(env, _Recorder()):
            env.process(proc)
        snapshots: list[tuple[np.ndarray, np.ndarray]] = []
        self.epoch_of_day = np.zeros(max(days, 1), np.int64)
        for day in range(max(days, 1)):
            env.run(until=day + BEFORE_SESSIONS)
            last = snapshots[-1] if snapshots else None
            if last is None or not (
                np.array_equal(last[0], public.price) and np.array_equal(last[1], public.available)
            ):
                snapshots.append((public.price.copy(), public.available.copy()))
            self.epoch_of_day[day] = len(snapshots) - 1
        self.market = Market.allocate(len(snapshots), public.n_products, shelf)
        for e, (price, available) in enumerate(snapshots):
            public.price[:], public.available[:] = price, available
            self.market.set_epoch(e, public, ref, shelf)
        self._featured = np.full((max(days, 1), self.home_featured), -1, np.int32)  # filled lazily
        self._featured_done = np.zeros(max(days, 1), bool)

    def featured(self, days: np.ndarray) -> np.ndarray:
        """(n, K) the featured pool of each of ``days`` (sorted ids, -1 padded at the end)."""
        days = np.asarray(days, np.int64)
        missing = days[~self._featured_done[days]]
        for day in np.unique(missing).tolist() if len(missing) else ():
            available = self.market.available[self.epoch_of_day[day]]
            pool = featured_pool(self.seed, self.public, available, self.home_featured, day)
            self._featured[day, : len(pool)] = pool
            self._featured_done[day] = True
        return self._featured[days]
