"""Run metrics: one world's outcomes and summary (``evaluate_world``), daily series, and intervals across seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
import pandas as pd

from basketgym.eval.outcomes.shoppers import active_days, last_active_day, reorder_flags, shopper_outcomes
from basketgym.eval.outcomes.tables import Table, columns
from basketgym.eval.stats.intervals import t_half_width
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.world import WorldResult

SOURCE_ORGANIC = 2  # sim.eventlog.SOURCE_ORGANIC; eval reads the logs, not the world's modules


def metric_names(horizons: Sequence[int]) -> list[str]:
    """The keys of ``summarize``, in order: the run summary JSON keys (keep them stable)."""
    names = [
        "shoppers",
        "gtv",
        "margin",
        "ad_revenue",
        "contribution",
        "gtv_per_shopper",
        "margin_per_shopper",
        "ad_revenue_per_shopper",
        "contribution_per_shopper",
        "visits_per_shopper",
        "orders_per_shopper",
        "orders_per_active_week",
        "conversion_rate",
        "slates_per_visit",
        "basket_size",
        "order_value",
        "reorder_rate",
        "organic_share",
        "sponsored_share",
        "churn_rate",
        "habit_index",
        "coverage_shown",
        "coverage_bought",
        "diversity_shown",
        "diversity_bought",
    ]
    for h in horizons:
        names += [f"retention_{h}d", f"contribution_{h}d", f"ltv_{h}d", f"observable_{h}d"]
    return names


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


def _mean_observed(col: pd.Series) -> float:
    """Mean over non-NaN values; NaN when none is observable (no warning, unlike nanmean)."""
    values = col.to_numpy(np.float64)
    seen = ~np.isnan(values)
    return float(values[seen].mean()) if seen.any() else math.nan


def effective_share(counts: np.ndarray) -> float:
    """exp(entropy) of a count distribution over the catalog, as a share of the catalog (1: uniform)."""
    c = np.asarray(counts, np.float64)
    total = c.sum()
    if total <= 0 or len(c) == 0:
        return math.nan
    p = c[c > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()) / len(c))


def habit_index(purchases: Table, staple: np.ndarray) -> float:
    """Share of orders that repeat a staple: at least one line re-orders an item of a staple aisle."""
    p = columns(purchases, "purchases", ("session_id", "item_id"))
    if len(p["session_id"]) == 0:
        return math.nan
    repeat = reorder_flags(purchases) & np.asarray(staple)[p["item_id"].astype(np.int64)]
    orders = np.unique(p["session_id"])
    return len(np.unique(p["session_id"][repeat])) / len(orders)


def summarize(
    outcomes: pd.DataFrame,
    purchases: Table,
    sessions: Table,
    days: int,
    horizons: Sequence[int],
    items: Mapping[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """Headline metrics of one world from its ``shopper_outcomes`` table and event log.

    Totals are over the run; ``*_per_shopper`` divide by every shopper who joined before the end
    (late joiners included; ``shoppers`` counts them). ``orders_per_active_week`` divides orders
    by active shopper-weeks (join to churn). Rates: ``conversion_rate`` orders / visits,
    ``basket_size`` lines / orders, ``order_value`` GTV / orders, ``reorder_rate`` re-ordered
    lines / lines, ``organic_share`` and ``sponsored_share`` of lines, ``churn_rate`` share of
    shoppers churned by the end. Per horizon ``h``: ``retention_{h}d`` share retained, and
    ``contribution_{h}d`` / ``ltv_{h}d`` means per shopper, all over the ``observable_{h}d``
    shoppers whose window fits in the run. With ``items`` (``WorldResult.items``): ``habit_index``
    (share of orders repeating a staple), ``coverage_shown`` / ``coverage_bought`` (share of the
    catalog shown / bought at least once) and ``diversity_shown`` / ``diversity_bought`` (exp of
    the entropy of exposures / purchases over products, as a share of the catalog).
    """
    p = columns(purchases, "purchases", ("source", "sponsored"))
    s = columns(sessions, "sessions", ("n_slates",))
    n = int(np.count_nonzero(outcomes["join_day"].to_numpy() < days))  # arrivals after the end
    total = {c: float(outcomes[c].sum()) for c in ("gtv", "margin", "ad_revenue", "contribution")}
    visits = int(outcomes["visits"].sum())
    orders = int(outcomes["orders"].sum())
    lines = int(outcomes["lines"].sum())
    exposure = active_days(outcomes["join_day"], outcomes["churn_day"], days).sum()
    m: dict[str, float] = {"shoppers": float(n), **total}
    for c in ("gtv", "margin", "ad_revenue", "contribution"):
        m[f"{c}_per_shopper"] = _ratio(total[c], n)
    m["visits_per_shopper"] = _ratio(visits, n)
    m["orders_per_shopper"] = _ratio(orders, n)
    m["orders_per_active_week"] = _ratio(7 * orders, exposure)
    m["conversion_rate"] = _ratio(orders, visits)
    m["slates_per_visit"] = _ratio(s["n_slates"].sum(dtype=np.int64), len(s["n_slates"]))
    m["basket_size"] = _ratio(lines, orders)
    m["order_value"] = _ratio(total["gtv"], orders)
    m["reorder_rate"] = _ratio(outcomes["reorder_lines"].sum(), lines)
    m["organic_share"] = _ratio(np.count_nonzero(p["source"] == SOURCE_ORGANIC), len(p["source"]))
    m["sponsored_share"] = _ratio(np.count_nonzero(p["sponsored"]), len(p["sponsored"]))
    m["churn_rate"] = _ratio(np.count_nonzero(outcomes["churn_day"].to_numpy() >= 0), n)
    items = items or {}
    m["habit_index"] = habit_index(purchases, items["staple"]) if "staple" in items else math.nan
    for what in ("shown", "bought"):
        counts = items.get(what)
        m[f"coverage_{what}"] = float(np.mean(counts > 0)) if counts is not None and len(counts) else math.nan
    for what in ("shown", "bought"):
        counts = items.get(what)
        m[f"diversity_{what}"] = effective_share(counts) if counts is not None else math.nan
    for h in horizons:
        m[f"retention_{h}d"] = _mean_observed(outcomes[f"retained_{h}d"])
        m[f"contribution_{h}d"] = _mean_observed(outcomes[f"contribution_{h}d"])
        m[f"ltv_{h}d"] = _mean_observed(outcomes[f"ltv_{h}d"])
        m[f"observable_{h}d"] = float(outcomes[f"retained_{h}d"].notna().sum())
    return m


def daily_series(sessions: Table, shoppers: Table, days: int) -> pd.DataFrame:
    """One row per day 0..days-1: active/joined/churned shoppers, visits, orders, lines and money.

    A shopper is active from ``join_day`` through ``last_active_day`` (the churn day included).
    """
    s = columns(sessions, "sessions", ("day", "n_lines", "gtv", "margin", "ad_revenue"))
    sh = columns(shoppers, "shoppers", ("join_day", "churn_day"))
    day = s["day"].astype(np.int64)
    if len(day) and (day.min() < 0 or day.max() >= days):
        raise ValueError(f"sessions table: days must lie in [0, {days}); found {day.min()}..{day.max()}")
    join = sh["join_day"].astype(np.int64)
    churn = sh["churn_day"].astype(np.int64)
    last = last_active_day(churn, days)
    alive = join <= last
    change = np.bincount(join[alive], minlength=days + 1)[: days + 1]
    change = change - np.bincount(last[alive] + 1, minlength=days + 1)[: days + 1]
    n_lines = s["n_lines"].astype(np.int64)

    def per_day(weights: np.ndarray | None = None, at: np.ndarray = day) -> np.ndarray:
        return np.bincount(at, weights=weights, minlength=days)[:days]

    margin = per_day(s["margin"].astype(np.float64))
    ad_revenue = per_day(s["ad_revenue"].astype(np.float64))
    return pd.DataFrame(
        {
            "day": np.arange(days),
            "active_shoppers": np.cumsum(change)[:days],
            "joined": per_day(at=join[(join >= 0) & (join < days)]),
            "churned": per_day(at=churn[(churn >= 0) & (churn < days)]),
            "visits": per_day(),
            "orders": per_day(at=day[n_lines > 0]),
            "lines": per_day(n_lines.astype(np.float64)).astype(np.int64),
            "gtv": per_day(s["gtv"].astype(np.float64)),
            "margin": margin,
            "ad_revenue": ad_revenue,
            "contribution": margin + ad_revenue,
        }
    )


def _is_number(v: object) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def across_seeds(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Mean, standard error and 95% t-interval of every numeric metric over per-seed summaries.

    One row per metric (index ``metric``, in first-seen order) with columns n (seeds with a
    non-NaN value), mean, std (ddof=1: the between-seed SD), se, half_width, ci_low, ci_high. The
    interval is ``eval.stats.intervals.t_half_width`` (t with n - 1 df on the per-seed values), the same
    formula as the report's between-seed intervals. With n = 1 the spread and interval are NaN.
    Non-numeric entries (the ranker's name) and the ``seed`` key are skipped.
    """
    names: dict[str, None] = {}
    for row in rows:
        names.update({k: None for k, v in row.items() if k != "seed" and _is_number(v)})
    records = []
    for name in names:
        v = np.array([float(r[name]) for r in rows if _is_number(r.get(name))], np.float64)
        v = v[~np.isnan(v)]
        n = len(v)
        mean = float(v.mean()) if n else math.nan
        std = float(v.std(ddof=1)) if n > 1 else math.nan
        se = std / math.sqrt(n) if n > 1 else math.nan
        half = float(t_half_width(std, n)) if n > 1 else math.nan  # the formula of every across-seeds interval
        records.append(
            {
                "metric": name,
                "n": n,
                "mean": mean,
                "std": std,
                "se": se,
                "half_width": half,
                "ci_low": mean - half,
                "ci_high": mean + half,
            }
        )
    cols = ["metric", "n", "mean", "std", "se", "half_width", "ci_low", "ci_high"]
    return pd.DataFrame.from_records(records, columns=cols).set_index("metric")


def evaluate_world(cfg: ScenarioConfig, result: WorldResult) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-shopper outcomes and the summary metrics of one finished world."""
    outcomes = shopper_outcomes(
        result.purchases,
        result.sessions,
        result.shoppers,
        cfg.days,
        cfg.run.horizons,
        cfg.run.discount_rate,
    )
    summary = summarize(outcomes, result.purchases, result.sessions, cfg.days, cfg.run.horizons, result.items)
    return outcomes, summary
