"""The world: catalog, shoppers, platform plumbing and logs for one (scenario, seed, ranker) run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from basketgym.agents.population import init_shoppers
from basketgym.agents.state import ShopperState
from basketgym.contract import rng
from basketgym.contract.catalog import read_only
from basketgym.contract.logs import PURCHASE_COLUMNS, SESSION_COLUMNS, SLATE_COLUMNS
from basketgym.contract.protocol import Ranker
from basketgym.contract.rng import Purpose
from basketgym.contract.threads import one_blas_thread
from basketgym.sim.catalog import Catalog, generate_catalog
from basketgym.sim.clock import run_calendar
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.eventlog import LogBuffer
from basketgym.sim.events import MarketEvents
from basketgym.sim.market import Market
from basketgym.sim.session.context import Observer, OrderHistory, ShopView, VisitContext
from basketgym.sim.session.home import FeaturedPools
from basketgym.sim.session.steps import simulate_chunk

N_FAVOURITES = 8
N_HABITS = 8
INIT_BLOCK = 65_536  # shoppers initialised at a time


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
        self.shop = ShopView.build(cfg, self.catalog)
        self._ref_price = self.catalog.aisle_ref_price[self.public.aisle]
        self.market = Market.allocate(1, self.public.n_products, self.shop.shelf)  # the live epoch, index 0
        self.refresh_prices()

        pop, mk = cfg.population, cfg.marketplace
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
            capacity, cfg.catalog.latent_dim, len(self.shop.staple_aisles), N_FAVOURITES, N_HABITS
        )
        self.history = OrderHistory.allocate(capacity, max(1, mk.home_order_again))
        self.next_id = pop.shoppers  # id of the next arriving shopper
        self._add_shoppers(np.arange(pop.shoppers) if self.subset is None else self.subset, 0)

        self.day = 0
        # what the sessions see of this world; the observer of counterfactual outcomes (truth) is
        # passed only by eval/, never to the ranker
        self.sessions = VisitContext(
            seed=self.seed,
            behaviour=cfg.behaviour,
            marketplace=mk,
            churn=cfg.churn,
            shop=self.shop,
            market=self.market,
            state=self.state,
            history=self.history,
            ranker=ranker,
            ranker_name=self.ranker_name,
            featured=FeaturedPools(self.seed, self.public, mk.home_featured, self.history.items.shape[1]),
            observer=observer,
        )
        self._day_logs: dict[str, LogBuffer] = {}
        self._run_logs = {
            "slates": LogBuffer(SLATE_COLUMNS),
            "purchases": LogBuffer(PURCHASE_COLUMNS),
            "sessions": LogBuffer(SESSION_COLUMNS),
        }
        self.n_sessions = 0
        self.shown = np.zeros(self.public.n_products, np.int64)  # exposure per product, for coverage
        self.bought = np.zeros(self.public.n_products, np.int64)
        # the ranker's catalog: read-only views of the live one (events still change prices and stock)
        self.ranker_catalog = self.public.read_only()
        self.ranker.reset(self.ranker_catalog, rng.ranker_seed(self.seed))

    # ---- set-up --------------------------------------------------------------------------
    def refresh_prices(self) -> None:
        """Recompute price- and stock-derived arrays after an event changed the live catalog."""
        self.market.set_epoch(0, self.public, self._ref_price, self.shop.shelf)

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

        For independent lives (the envs' engine, ``basketgym.envs.engine``): a row is a slot that
        hosts one shopper's life after another; the same id may sit in several rows.
        """
        rows = np.asarray(rows, np.int64)
        self._reserve(int(rows.max()) + 1)
        self._init_rows(rows, np.asarray(ids, np.int64), 0)
        self.state.size = max(self.state.size, int(rows.max()) + 1)
        self.history.clear_rows(rows)

    def copy_rows(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Copy the shoppers of rows ``src`` into rows ``dst`` (state and order history)."""
        self.state.copy_rows(src, dst)
        self.history.copy_rows(src, dst)

    def _reserve(self, capacity: int) -> None:
        st = self.state
        if capacity > st.capacity:
            new_cap = max(capacity, int(st.capacity * 1.5))
            st.grow(new_cap)
            self.history.grow(new_cap)

    def _init_rows(self, rows: np.ndarray, ids: np.ndarray, day: int) -> None:
        st = self.state
        d = self.cfg.catalog.latent_dim
        staple_cycle = self.catalog.aisle_cycle[self.shop.staple_aisles]
        centroid = self.catalog.aisle_centroid.astype(np.float64)
        st.shopper_id[rows] = ids
        # in blocks: the (shoppers x aisles) temporaries of a million shoppers would need gigabytes
        for lo in range(0, len(rows), INIT_BLOCK):
            block = rows[lo : lo + INIT_BLOCK]
            key = st.shopper_id[block]
            u = rng.uniform(self.seed, Purpose.SHOPPER_INIT, key, 0, 8)
            z = rng.normal(self.seed, Purpose.SHOPPER_TASTE, key, 0, d + 4)
            ua = rng.uniform(self.seed, Purpose.PANTRY_INIT, key, 0, self.shop.n_aisles)
            init_shoppers(
                st, block, day, self.cfg.population, self.cfg.churn.initial_satisfaction,
                centroid, self.shop.staple_aisles, staple_cycle, u, z, ua,
            )  # fmt: skip

    # ---- the day ---------------------------------------------------------------------------
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
            tables = simulate_chunk(self.sessions, day, visitors[s : s + self.chunk_size])
            for name, table in tables.items():
                self._day_logs[name].append(table)
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

    # ---- what environments read (``ENV_READS``): truth, for ``info["truth"]`` and privileged endings ----
    ENV_READS = frozenset({"active_shoppers", "mean_satisfaction"})

    def active_shoppers(self) -> int:
        """Shoppers who have joined and not churned (truth: churn is hidden state)."""
        st = self.state
        return int((st.churn_day[: st.size] < 0).sum())

    def mean_satisfaction(self) -> float:
        """Mean satisfaction of every shopper who has joined (truth)."""
        st = self.state
        return float(st.satisfaction[: st.size].mean())

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
        st, experience = self.state, self.sessions.experience
        lat = np.array(self.sessions.latency, dtype=np.float64).reshape(-1, 4)
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
                "state_bytes_per_shopper": st.nbytes_per_shopper() + self.history.nbytes / max(1, st.capacity),
                "shoppers": float(st.size),
                **{
                    f"mean_{k}": float(v / max(experience[0], 1))
                    for k, v in zip(
                        ("relevance", "needs_met", "irrelevant_ads", "session_score"), experience[1:], strict=True
                    )
                },
            },
        )
