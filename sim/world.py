"""The world: catalog, shoppers, platform plumbing and logs for one (scenario, seed, ranker) run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from basketgym.agents.choice import examination_probability
from basketgym.agents.population import init_shoppers
from basketgym.agents.state import ShopperState
from basketgym.sim.catalog import Catalog, generate_catalog
from basketgym.sim.clock import run_calendar
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.eventlog import LogBuffer
from basketgym.sim.events import MarketEvents
from basketgym.sim.market import Market, featured_pool
from basketgym.sim.session import simulate_chunk
from scipy import stats

from basketgym.contract import rng
from basketgym.contract.catalog import read_only
from basketgym.contract.logs import PURCHASE_COLUMNS, SESSION_COLUMNS, SLATE_COLUMNS
from basketgym.contract.protocol import SURFACE_HOME, Ranker, RankRequest
from basketgym.contract.rng import Purpose
from basketgym.contract.threads import one_blas_thread

N_FAVOURITES = 8
N_HABITS = 8
INIT_BLOCK = 65_536  # shoppers initialised at a time


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
class WorldResult:
    """Everything a run produced: logged tables, truth about shoppers, latency and run facts."""

    ranker: str
    seed: int
    days: int
    slates: dict[str, np.ndarray]
    purchases: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    shoppers: dict[str, np.ndarray]
    latency: dict[str, np.ndarray]
    facts: dict[str, float] = field(default_factory=dict)
    # per product: public ``staple`` flag, times ``shown`` in any slate and ``bought`` (order lines)
    items: dict[str, np.ndarray] = field(default_factory=dict)


class World:
    """A marketplace world for one scenario, seed and ranker.

    Build it, then ``run()``; or drive it day by day with ``step_day`` (the Gymnasium envs do).
    Everything random derives from ``seed`` through ``sim.rng``; two worlds with the same scenario
    and seed but different rankers meet the same shocks (common random numbers). The ranker gets
    ``sim.rng.ranker_seed(seed)``, never ``seed``. ``observer`` (keyword only, ``eval/`` code):
    receives true counterfactual outcomes; nothing the ranker defines is ever asked for it.
    """

    def __init__(
        self,
        cfg: ScenarioConfig,
        seed: int,
        ranker: Ranker,
        ranker_name: str | None = None,
        *,
        chunk_size: int | None = None,
        keep_slates: bool | None = None,
        shoppers: np.ndarray | None = None,
        observer: Observer | None = None,
    ):
        self.cfg, self.seed = cfg, int(seed)
        self.ranker = ranker
        self.ranker_name = ranker_name or getattr(ranker, "name", type(ranker).__name__)
        self.chunk_size = int(chunk_size or cfg.run.chunk_size)
        self.keep_slates = cfg.run.event_log == "full" if keep_slates is None else keep_slates
        self.catalog: Catalog = generate_catalog(cfg.catalog, self.seed)
        self.public = self.catalog.public
        self.events = MarketEvents(cfg.events, self.public, self.seed)
        self.n_aisles = self.public.n_aisles

        self.staple_aisles = np.flatnonzero(self.catalog.aisle_cycle > 0)
        self.staple_index = np.full(self.n_aisles, -1, np.int64)
        self.staple_index[self.staple_aisles] = np.arange(len(self.staple_aisles))
        width = min(self.public.shelf.shape[1], cfg.marketplace.search_candidates)
        self.shelf = self.public.shelf[:, :width]
        sh = np.maximum(self.shelf, 0)
        # per-aisle blocks for one small matrix product per searched aisle: (A, D, W) float32
        latent = np.where((self.shelf >= 0)[:, :, None], self.catalog.latent[sh], 0).astype(np.float32)
        self.shelf_latent_t = np.ascontiguousarray(latent.transpose(0, 2, 1))
        self.shelf_quality = np.where(self.shelf >= 0, self.catalog.quality[sh], 0).astype(np.float32)
        self.centroid_t = np.ascontiguousarray(self.catalog.aisle_centroid.T)  # (D, A) float32
        self._ref_price = self.catalog.aisle_ref_price[self.public.aisle]
        self.market = Market.allocate(1, self.public.n_products, self.shelf)  # the live epoch, index 0
        self.refresh_prices()
        mk = cfg.marketplace
        self.log_slate_width = max(mk.slate_size, mk.home_slate_size)
        self.exam_p = examination_probability(self.log_slate_width, cfg.behaviour.position_bias)

        pop = cfg.population
        # a world may hold a subset of the scenario's shoppers (envs, shards): each keeps its id,
        # so its draws, and its life under a population-independent ranker, are the full world's
        self.subset = None if shoppers is None else np.unique(np.asarray(shoppers, np.int64))
        if self.subset is not None and (len(self.subset) == 0 or self.subset[0] < 0 or self.subset[-1] >= pop.shoppers):
            raise ValueError(f"shoppers: ids must be in [0, {pop.shoppers}) and not empty")
        if self.subset is None:
            capacity = pop.shoppers + int(
                np.ceil(pop.new_per_day * cfg.days * 1.2 + 10 * np.sqrt(pop.new_per_day * cfg.days + 1))
            )
        else:
            capacity = len(self.subset)
        self.state = ShopperState.allocate(
            capacity, cfg.catalog.latent_dim, len(self.staple_aisles), N_FAVOURITES, N_HABITS
        )
        hh = max(1, mk.home_order_again)
        self.order_history_items = np.full((capacity, hh), -1, np.int32)
        self.order_history_counts = np.zeros((capacity, hh), np.float32)
        self.next_id = pop.shoppers  # id of the next arriving shopper
        self._add_shoppers(np.arange(pop.shoppers) if self.subset is None else self.subset, 0)

        self.day = 0
        self._featured_day = -1
        self._featured_cache = np.zeros(0, np.int32)
        self._featured_pos_cache = np.zeros(0, np.int64)
        self.home_column = np.full(self.public.n_products, -1, np.int64)
        self.latency: list[tuple[int, int, int, float]] = []
        self._day_logs: dict[str, LogBuffer] = {}
        self._run_logs = {
            "slates": LogBuffer(SLATE_COLUMNS),
            "purchases": LogBuffer(PURCHASE_COLUMNS),
            "sessions": LogBuffer(SESSION_COLUMNS),
        }
        self.n_sessions = 0
        # the observer of counterfactual outcomes (truth): only eval/ passes one, never the ranker
        self.observer = observer
        self.shown = np.zeros(self.public.n_products, np.int64)  # exposure per product, for coverage
        self.bought = np.zeros(self.public.n_products, np.int64)
        # truth diagnostics summed over sessions: count, relevance, needs met, irrelevant ads, score
        self.experience = np.zeros(5)
        # the ranker's catalog: read-only views of the live one (events still change prices and stock)
        self.ranker_catalog = self.public.read_only()
        self.ranker.reset(self.ranker_catalog, rng.ranker_seed(self.seed))

    # ---- set-up --------------------------------------------------------------------------
    def refresh_prices(self) -> None:
        """Recompute price- and stock-derived arrays after an event changed the live catalog."""
        self.market.set_epoch(0, self.public, self._ref_price, self.shelf)

    def _add_shoppers(self, ids: np.ndarray, day: int) -> None:
        """New rows for shoppers ``ids`` joining on ``day``; their draws are keyed by id."""
        count = len(ids)
        if count <= 0:
            return
        start = self.state.size
        self._reserve(start + count)
        self._init_rows(np.arange(start, start + count), np.asarray(ids), day)
        self.state.size = start + count

    def reset_rows(self, rows: np.ndarray, ids: np.ndarray) -> None:
        """Put shoppers ``ids`` (from day 0, as in the full world) into state ``rows``, replacing whoever was there.

        For independent lives (``sim.lives``): a row is a slot that hosts one shopper's life after
        another; the same id may sit in several rows.
        """
        rows = np.asarray(rows, np.int64)
        self._reserve(int(rows.max()) + 1)
        self._init_rows(rows, np.asarray(ids, np.int64), 0)
        self.state.size = max(self.state.size, int(rows.max()) + 1)
        self.order_history_items[rows] = -1
        self.order_history_counts[rows] = 0

    def copy_rows(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Copy the shoppers of rows ``src`` into rows ``dst`` (state and order history)."""
        self.state.copy_rows(src, dst)
        self.order_history_items[dst] = self.order_history_items[src]
        self.order_history_counts[dst] = self.order_history_counts[src]

    def _reserve(self, capacity: int) -> None:
        st = self.state
        if capacity > st.capacity:
            new_cap = max(capacity, int(st.capacity * 1.5))
            st.grow(new_cap)
            for name in ("order_history_items", "order_history_counts"):
                old = getattr(self, name)
                grown = np.full((new_cap, old.shape[1]), -1 if old.dtype == np.int32 else 0, old.dtype)
                grown[: len(old)] = old
                setattr(self, name, grown)

    def _init_rows(self, rows: np.ndarray, ids: np.ndarray, day: int) -> None:
        st = self.state
        d = self.cfg.catalog.latent_dim
        staple_cycle = self.catalog.aisle_cycle[self.staple_aisles]
        centroid = self.catalog.aisle_centroid.astype(np.float64)
        st.shopper_id[rows] = ids
        # in blocks: the (shoppers x aisles) temporaries of a million shoppers would need gigabytes
        for lo in range(0, len(rows), INIT_BLOCK):
            block = rows[lo : lo + INIT_BLOCK]
            key = st.shopper_id[block]
            u = rng.uniform(self.seed, Purpose.SHOPPER_INIT, key, 0, 8)
            z = rng.normal(self.seed, Purpose.SHOPPER_TASTE, key, 0, d + 4)
            ua = rng.uniform(self.seed, Purpose.PANTRY_INIT, key, 0, self.n_aisles)
            init_shoppers(
                st, block, day, self.cfg.population, self.cfg.churn.initial_satisfaction,
                centroid, self.staple_aisles, staple_cycle, u, z, ua,
            )  # fmt: skip

    def home_request(self, day: int, rows: np.ndarray) -> RankRequest:
        """The home-feed request of visitors ``rows`` on ``day``: order-again history + featured pool.

        Built from what the platform knows (its order history, the live catalog), so environments
        can show it to an agent before the session runs.
        """
        mk, pub = self.cfg.marketplace, self.public
        featured, featured_pos = self._featured(day)
        n = len(rows)
        hist = self.order_history_items[rows]
        hist = np.where((hist >= 0) & pub.available[np.maximum(hist, 0)], hist, -1)
        # featured items already in the shopper's history are not offered twice
        feat = np.broadcast_to(featured, (n, len(featured))).copy()
        j = featured_pos[np.maximum(hist, 0)]
        hr, hc = np.nonzero((hist >= 0) & (j >= 0))
        feat[hr, j[hr, hc]] = -1
        cands = np.concatenate([hist, feat], axis=1).astype(np.int32)
        ids = self.state.shopper_id[rows]
        return RankRequest(
            day,
            SURFACE_HOME,
            ids,
            np.full(n, -1, np.int32),
            cands,
            mk.home_slate_size,
            mk.ad_positions,
            mk.max_sponsored,
        )

    def _featured(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The day's featured pool and each item's position in it (-1 if absent), computed once a day."""
        if self._featured_day != day:
            self._featured_cache = featured_pool(
                self.seed, self.public, self.public.available, self.cfg.marketplace.home_featured, day
            )
            pos = np.full(self.public.n_products, -1, np.int64)
            pos[self._featured_cache] = np.arange(len(self._featured_cache))
            self._featured_pos_cache = pos
            # where each featured item sits in a home request's candidates (after the order history)
            self.home_column = np.where(pos >= 0, self.order_history_items.shape[1] + pos, -1)
            self._featured_day = day
        return self._featured_cache, self._featured_pos_cache

    # ---- the day ---------------------------------------------------------------------------
    def log_slates(self, t: dict[str, np.ndarray]) -> None:
        """Append a batch of slate rows to today's log."""
        self._day_logs["slates"].append(t)

    def log_purchases(self, t: dict[str, np.ndarray]) -> None:
        """Append a batch of order lines to today's log."""
        self._day_logs["purchases"].append(t)

    def log_sessions(self, t: dict[str, np.ndarray]) -> None:
        """Append a batch of sessions to today's log."""
        self._day_logs["sessions"].append(t)

    def step_day(self, day: int) -> dict[str, dict[str, np.ndarray]]:
        """Simulate all sessions of ``day``; returns the day's logged tables."""
        self.day = day
        self._day_logs = {
            "slates": LogBuffer(SLATE_COLUMNS),
            "purchases": LogBuffer(PURCHASE_COLUMNS),
            "sessions": LogBuffer(SESSION_COLUMNS),
        }
        st = self.state
        visitors = np.flatnonzero(st.next_visit[: st.size] == day)
        for s in range(0, len(visitors), self.chunk_size):
            simulate_chunk(self, day, visitors[s : s + self.chunk_size])
        self.n_sessions += len(visitors)
        day_log = {name: buf.concat() for name, buf in self._day_logs.items()}
        n = self.public.n_products
        shown = day_log["slates"]["slate"].ravel()
        self.shown += np.bincount(shown[shown >= 0], minlength=n)[:n]
        self.bought += np.bincount(day_log["purchases"]["item_id"], minlength=n)[:n]
        for name, table in day_log.items():
            if len(table["day"]) and (name != "slates" or self.keep_slates):
                self._run_logs[name].append(table)
        return day_log

    def end_day(self, day: int, day_log: dict[str, dict[str, np.ndarray]]) -> None:
        """After the day: the ranker ingests the logs, refits on cadence; new shoppers arrive."""
        self.ranker.update({name: {c: read_only(a) for c, a in t.items()} for name, t in day_log.items()})
        if (day + 1) % self.cfg.rankers.refit_every_days == 0:
            self.ranker.fit(day)
        lam = self.cfg.population.new_per_day
        if lam > 0 and self.subset is None:
            u = rng.uniform(self.seed, Purpose.ARRIVALS, np.array([day]), 0, 1)[0, 0]
            arrivals = int(stats.poisson.ppf(u, lam))
            before = self.state.size
            self._add_shoppers(np.arange(self.next_id, self.next_id + arrivals), day + 1)
            self.next_id += arrivals
            self.state.next_visit[before : self.state.size] = np.maximum(
                self.state.next_visit[before : self.state.size], day + 1
            )

    def run(self, progress: Callable[[int, int], None] | None = None) -> WorldResult:
        """Run the scenario's calendar to the horizon and collect the results."""
        t0 = time.perf_counter()
        with one_blas_thread():
            run_calendar(self, self.cfg.days, progress)
        return self.result(time.perf_counter() - t0)

    def result(self, wall: float = float("nan")) -> WorldResult:
        """The results so far: logged tables, shopper truth, latencies and run facts.

        ``run`` returns it at the horizon; a world stepped with ``sim.clock.Calendar`` can ask
        for it at any time.
        """
        st = self.state
        lat = np.array(self.latency, dtype=np.float64).reshape(-1, 4)
        items = {"staple": self.public.staple.copy(), "shown": self.shown.copy(), "bought": self.bought.copy()}
        return WorldResult(
            ranker=self.ranker_name,
            seed=self.seed,
            days=self.cfg.days,
            items=items,
            slates=self._run_logs["slates"].concat(),
            purchases=self._run_logs["purchases"].concat(),
            sessions=self._run_logs["sessions"].concat(),
            shoppers={
                "shopper_id": st.shopper_id[: st.size].astype(np.int32),
                "join_day": st.join_day[: st.size].copy(),
                "churn_day": st.churn_day[: st.size].copy(),
            },
            latency={
                "surface": lat[:, 0].astype(np.int8),
                "batch": lat[:, 1].astype(np.int32),
                "candidates": lat[:, 2].astype(np.int32),
                "seconds": lat[:, 3],
            },
            facts={
                "wall_seconds": wall,
                "sessions": float(self.n_sessions),
                "sessions_per_second": self.n_sessions / max(wall, 1e-9),
                "state_bytes_per_shopper": st.nbytes_per_shopper()
                + (self.order_history_items.nbytes + self.order_history_counts.nbytes) / max(1, st.capacity),
                "shoppers": float(st.size),
                **{
                    f"mean_{k}": float(v / max(self.experience[0], 1))
                    for k, v in zip(
                        ("relevance", "needs_met", "irrelevant_ads", "session_score"), self.experience[1:], strict=True
                    )
                },
            },
        )
