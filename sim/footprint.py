"""A world's memory and work estimated from its scenario's sizes alone, before anything is allocated.

Calibrated against measured worlds (``tests/sim/test_footprint.py``; figures in docs/SCENARIOS.md):
the estimate of the default world (one seed, 180 days, full event log) is 1.06 GB against a measured
peak resident memory of 0.996 GB (+6%), smoke's 204 MB against 183 MB (+11%), and the Python-side
part (without the process) of 1,500- and 2,000-shopper worlds is within 0.99-1.25x of tracemalloc's peak.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from basketgym.contract.logs import PURCHASE_COLUMNS, SESSION_COLUMNS, SLATE_COLUMNS
from basketgym.sim.config import ScenarioConfig

#: resident memory of a worker process before its world (interpreter, numpy, pandas, pyarrow, scipy, simpy):
#: `basketgym run smoke` peaks at ~184 MB resident, nearly all of it this
PROCESS_BYTES = 200e6
#: the event log is held twice at its peak (the day buffers and their concatenation, then the result tables)
LOG_PEAK_FACTOR = 2.0
#: search slates per visit = wants_per_visit + this x the household's staple needs (measured on default and
#: smoke: 9.2 and 4.9 search slates per session, both fit by 0.44)
NEEDS_PER_STAPLE = 0.44
#: the rankers' per-shopper feature store (purchase-count slots, recency) besides the world's own state
RANKER_BYTES_PER_SHOPPER = 200
#: temporaries of one visit in flight (intents, shelf scores, slates): the residual of the measured peak over
#: state, catalog and logs, ~18 kB a visitor on both a 2,000-shopper smoke world and the default world
WORKING_BYTES_PER_VISIT = 18_000
#: estimated sessions per second and core, end to end (simulate, evaluate, write the event log): `make run`
#: (27 default worlds, 4.74 M estimated sessions) took 86.8 s on 2 cores on 2026-12-07, 27.3k a second and core;
#: the simulation alone runs at ~50k (benchmarks/README.md)
SESSIONS_PER_SECOND = 27_000.0
# state bytes per shopper besides taste, pantry and history: id 8, habits 8 x 10, favourites 8 x 2 and 33 of scalars
_SCALAR_BYTES = 8 + 8 * (4 + 4 + 2) + 8 * 2 + 33


def _row_bytes(columns: dict[str, tuple[str, str]], k: int) -> int:
    """Bytes of one logged row; ``T[K]`` columns hold K values."""
    total = 0
    for dtype, _ in columns.values():
        base, width = (dtype[:-3], k) if dtype.endswith("[K]") else (dtype, 1)
        total += np.dtype(base).itemsize * width
    return total


@dataclass(frozen=True)
class Footprint:
    """What one world of a scenario will hold and do (estimates)."""

    capacity: int  # shopper rows allocated (day-0 shoppers and expected arrivals)
    sessions: float  # expected visits over the run
    state_bytes: float  # shopper state and order-again history
    catalog_bytes: float  # catalog arrays and the per-aisle shelf blocks
    log_bytes: float  # the logged tables at their peak
    working_bytes: float  # one chunk of visits in flight: their intents against the searched shelves
    process_bytes: float  # the worker process itself

    @property
    def total_bytes(self) -> float:
        """Peak resident memory of the world's process."""
        return self.state_bytes + self.catalog_bytes + self.log_bytes + self.working_bytes + self.process_bytes

    @property
    def seconds(self) -> float:
        """Simulation time on one core at ``SESSIONS_PER_SECOND``."""
        return self.sessions / SESSIONS_PER_SECOND


def capacity(cfg: ScenarioConfig) -> int:
    """Shopper rows a world allocates: day-0 shoppers plus arrivals with a margin (as ``sim.world.World``)."""
    pop = cfg.population
    lam = pop.new_per_day * cfg.days
    return pop.shoppers + int(math.ceil(lam * 1.2 + 10 * math.sqrt(lam + 1)))


def expected_sessions(cfg: ScenarioConfig) -> float:
    """Visits over the run: the average population times days over the habitual trip interval.

    Churn and weekly routines roughly cancel on the default world (measured 0.99 of this figure).
    """
    pop = cfg.population
    mean_shoppers = pop.shoppers + pop.new_per_day * cfg.days / 2
    return mean_shoppers * cfg.days / pop.visit_interval_days


def world_footprint(cfg: ScenarioConfig) -> Footprint:
    """Estimate one world of ``cfg`` from its sizes (no catalog or shopper is generated)."""
    from basketgym.sim.catalog import aisle_sizes, aisle_staples

    cat, mk, bh = cfg.catalog, cfg.marketplace, cfg.behaviour
    n_staples = int(aisle_staples(cat).sum()) if cat.departments <= cat.aisles else cat.aisles
    per_shopper = cat.latent_dim * 4 + 2 * n_staples + max(1, mk.home_order_again) * 8 + _SCALAR_BYTES
    rows = capacity(cfg)
    shelf = int(aisle_sizes(cat, cfg.seed).max()) if cat.aisles <= cat.products else cat.products
    width = min(shelf, mk.search_candidates)
    # per product: latent + attributes (~80 B) + a name string (~90 B); per shelf slot: the latent block twice
    catalog = cat.products * (cat.latent_dim * 4 + 170) + cat.aisles * width * (cat.latent_dim * 8 + 8)
    sessions = expected_sessions(cfg)
    k = max(mk.slate_size, mk.home_slate_size)
    slates = (
        (1.0 if mk.home_slate_size > 0 else 0.0)
        + bh.wants_per_visit
        + NEEDS_PER_STAPLE * (cfg.population.staples_used * n_staples)
    )
    per_session = _row_bytes(SESSION_COLUMNS, k) + slates * _row_bytes(PURCHASE_COLUMNS, k)  # ~ a line per slate
    if cfg.run.event_log == "full":
        per_session += slates * _row_bytes(SLATE_COLUMNS, k)
    in_flight = min(cfg.run.chunk_size, sessions / max(1, cfg.days))  # one day's visitors, a chunk at a time
    working = in_flight * WORKING_BYTES_PER_VISIT
    return Footprint(
        capacity=rows,
        sessions=sessions,
        state_bytes=float(rows * (per_shopper + RANKER_BYTES_PER_SHOPPER)),
        catalog_bytes=float(catalog),
        log_bytes=LOG_PEAK_FACTOR * sessions * per_session,
        working_bytes=float(working),
        process_bytes=PROCESS_BYTES,
    )


def available_memory() -> float | None:
    """Bytes of memory available to new processes (``MemAvailable`` of /proc/meminfo), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(n: float) -> str:
    """``1.2 GB``, ``340 MB``: decimal units, three significant digits."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"
