"""Realism facts: public grocery facts measured from a world's logs, with their targets and accepted bands.

``calibration_facts`` measures one world (orders from a warm-up day on); ``over_seeds`` grades several
worlds: a fact passes only if every seed's value is inside its band (a band met on average but missed
by one world is a miss). The worlds are run by ``orchestration.realism``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from basketgym.eval.outcomes.shoppers import active_days, reorder_flags
from basketgym.eval.outcomes.tables import Table, columns

INSTACART = "Instacart Online Grocery 2017"
DUNNHUMBY = "dunnhumby The Complete Journey"
POSITION_BIAS = "eye-tracking and position-bias literature"
DAYS_CAP = 30  # Instacart's days_since_prior_order stops at 30
SURFACE_NAMES = ("home", "search")  # sim.protocol.SURFACE_NAMES, by surface code
# Days before the graded facts are measured: a run starts with no order history, so its first
# weeks count no re-orders and no gaps between orders; after a month every regular shopper has
# ordered (Instacart's gaps are capped at 30 days). Never more than a quarter of a short run.
WARMUP_DAYS = 30
MIN_SEEDS = 3  # the fewest worlds a realism grade rests on


@dataclass(frozen=True)
class Fact:
    """One measured fact with its public target and the band we accept (low <= value <= high)."""

    name: str
    value: float
    target: float
    low: float | None  # None: informational, not graded
    high: float | None
    source: str
    ok: bool | None


def _fact(name: str, value: float, target: float, low: float | None, high: float | None, source: str) -> Fact:
    value = float(value)
    ok = None if low is None or high is None else bool(low <= value <= high)
    return Fact(name, value, float(target), low, high, source, ok)


def _order_rows(sessions: Table) -> dict[str, np.ndarray]:
    s = columns(sessions, "sessions", ("shopper_id", "day", "n_lines"))
    keep = s["n_lines"] > 0
    return {c: a[keep] for c, a in s.items()}


def items_per_order(sessions: Table, start_day: int = 0) -> np.ndarray:
    """Lines of every order (visit with at least one line) placed on or after ``start_day``."""
    o = _order_rows(sessions)
    return o["n_lines"][o["day"] >= start_day].astype(np.int64)


def days_between_orders(sessions: Table, cap: int = DAYS_CAP, start_day: int = 0) -> np.ndarray:
    """Days since the same shopper's previous order, capped at ``cap`` (Instacart's convention).

    One value per order except each shopper's first, for orders placed on or after ``start_day``
    (the previous order may be earlier).
    """
    o = _order_rows(sessions)
    shopper, day = o["shopper_id"].astype(np.int64), o["day"].astype(np.int64)
    order = np.lexsort((day, shopper))
    shopper, day = shopper[order], day[order]
    follows = shopper[1:] == shopper[:-1]
    gaps = (day[1:] - day[:-1])[follows & (day[1:] >= start_day)]
    return np.minimum(gaps, cap)


def ctr_by_position(slates: Table) -> pd.DataFrame:
    """Click-through per surface and slate position (0-based): shown, clicked, ctr = clicked/shown.

    A position is shown when the slate has an item there (not -1 padding).
    """
    t = columns(slates, "slates", ("surface", "slate", "clicked"))
    frames = []
    for code in np.unique(t["surface"]):
        rows = t["surface"] == code
        shown = t["slate"][rows] >= 0
        clicked = t["clicked"][rows].astype(bool) & shown
        n_shown, n_clicked = shown.sum(axis=0), clicked.sum(axis=0)
        name = SURFACE_NAMES[code] if 0 <= code < len(SURFACE_NAMES) else f"surface{code}"
        with np.errstate(invalid="ignore", divide="ignore"):
            ctr = n_clicked / n_shown
        frames.append(
            pd.DataFrame(
                {
                    "surface": name,
                    "position": np.arange(shown.shape[1]),
                    "shown": n_shown.astype(np.int64),
                    "clicked": n_clicked.astype(np.int64),
                    "ctr": ctr,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["surface", "position", "shown", "clicked", "ctr"])
    return pd.concat(frames, ignore_index=True)


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho without scipy's constant-input warning (NaN then)."""
    if len(x) < 2:
        return math.nan
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _ctr_facts(slates: Table) -> list[Fact]:
    facts = []
    table = ctr_by_position(slates)
    for surface, g in table.groupby("surface", sort=False):
        g = g[g["shown"] > 0]
        ctr = g["ctr"].to_numpy(np.float64)
        rho = _rank_correlation(g["position"].to_numpy(), ctr)
        steepness = ctr[-1] / ctr[0] if len(ctr) > 1 and ctr[0] > 0 else math.nan
        facts += [
            _fact(f"ctr_rank_correlation_{surface}", rho, -1.0, -1.0, -0.8, POSITION_BIAS),
            _fact(f"ctr_last_over_first_{surface}", steepness, math.nan, 0.0, 0.5, POSITION_BIAS),
        ]
    return facts


def calibration_facts(
    purchases: Table,
    sessions: Table,
    slates: Table,
    shoppers: Table,
    days: int,
    warmup_days: int = 0,
) -> list[Fact]:
    """The DESIGN.md realism facts measured on one run (orders from ``warmup_days`` on).

    Re-orders are still detected against the whole history, and a gap between orders may start
    before the warm-up; click-through counts every slate (position bias needs no history).
    Facts: ``reorder_share``, ``items_per_order_mean`` / ``_median``, ``days_between_orders_median``
    / ``_mean`` / ``_share_7`` / ``_share_cap`` (capped at 30),
    ``trips_per_active_week`` (orders per week a shopper is active, join to churn), and per slate
    surface ``ctr_rank_correlation_<surface>`` (Spearman rho of click-through against position)
    and ``ctr_last_over_first_<surface>`` (how steeply it decays).
    """
    p = columns(purchases, "purchases", ("day",))
    flags = reorder_flags(purchases)[p["day"] >= warmup_days]
    items = items_per_order(sessions, warmup_days)
    gaps = days_between_orders(sessions, DAYS_CAP, warmup_days)
    sh = columns(shoppers, "shoppers", ("join_day", "churn_day"))
    exposure = active_days(sh["join_day"], sh["churn_day"], days, warmup_days).sum()

    def mean(a: np.ndarray) -> float:
        return float(a.mean()) if len(a) else math.nan

    def median(a: np.ndarray) -> float:
        return float(np.median(a)) if len(a) else math.nan

    # DESIGN.md gives the bands of reorder_share, items_per_order_mean and the two
    # days_between_orders averages; the other bands are ours, wide enough for sampling noise
    facts = [
        _fact("reorder_share", mean(flags), 0.59, 0.50, 0.68, f"{INSTACART} (58.97% of lines)"),
        _fact("items_per_order_mean", mean(items), 10.1, 8.0, 12.0, INSTACART),
        _fact("items_per_order_median", median(items), 8.0, 6.0, 10.0, INSTACART),
        _fact("days_between_orders_median", median(gaps), 7.0, 5.0, 9.0, INSTACART),
        _fact("days_between_orders_mean", mean(gaps), 11.1, 8.0, 14.0, INSTACART),
        _fact("days_between_orders_share_7", mean(gaps == 7), 0.10, 0.05, 0.15, INSTACART),
        _fact("days_between_orders_share_cap", mean(gaps == DAYS_CAP), 0.115, 0.06, 0.18, INSTACART),
        _fact(
            "trips_per_active_week",
            7 * len(items) / exposure if exposure else math.nan,
            1.1,
            None,  # all store trips of a household; an online grocer with Instacart's gaps sees ~0.6
            None,
            f"{DUNNHUMBY} (all store trips; informational)",
        ),
    ]
    return facts + _ctr_facts(slates)


def warmup_days(days: int, warmup: int = WARMUP_DAYS) -> int:
    """The warm-up of a run of ``days`` days: ``warmup`` days, but at most a quarter of the run."""
    return min(int(warmup), int(days) // 4)


@dataclass(frozen=True)
class SeedFact:
    """One fact measured in several worlds; ``ok`` only if every seed's value is inside the band."""

    name: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]  # one per seed (NaN: not measurable in that world)
    target: float
    low: float | None
    high: float | None
    source: str
    ok: bool | None  # None: informational

    @property
    def inside(self) -> tuple[bool, ...]:
        """Per seed: is its value inside the band (NaN never is)."""
        if self.low is None or self.high is None:
            return ()
        return tuple(bool(self.low <= v <= self.high) for v in self.values)


def over_seeds(per_seed: Mapping[int, Sequence[Fact]]) -> list[SeedFact]:
    """The facts of several worlds, fact by fact: a graded fact is ok only if it is inside its band in every seed.

    A fact missing from a seed (e.g. no search slates in that world) counts as NaN there: not ok.
    """
    seeds = tuple(per_seed)
    by_name: dict[str, dict[int, Fact]] = {}
    for seed, facts in per_seed.items():
        for f in facts:
            by_name.setdefault(f.name, {})[seed] = f
    out = []
    for name, found in by_name.items():
        first = next(iter(found.values()))
        values = tuple(found[s].value if s in found else math.nan for s in seeds)
        graded = first.low is not None and first.high is not None
        ok = all(first.low <= v <= first.high for v in values) if graded else None
        out.append(SeedFact(name, seeds, values, first.target, first.low, first.high, first.source, ok))
    return out
