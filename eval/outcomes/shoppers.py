"""Per-shopper outcomes of one world run: orders, money, re-orders, horizon LTV and retention."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from basketgym.eval.outcomes.tables import Table, columns, row_positions

DAYS_PER_YEAR = 365


def reorder_flags(purchases: Table) -> np.ndarray:
    """For each order line, True when the same shopper bought the same item in an earlier session.

    Sessions are ordered by (day, session_id). Several lines of one item within a shopper's first
    session with it are all first purchases, not re-orders (Instacart's ``reordered`` flag).
    """
    p = columns(purchases, "purchases", ("session_id", "shopper_id", "day", "item_id"))
    n = len(p["item_id"])
    if n == 0:
        return np.zeros(0, bool)
    # one int64 key per (shopper, item) pair: a 3-key sort is ~3x faster than a 4-key one
    item = p["item_id"].astype(np.int64)
    item -= item.min()
    pair = p["shopper_id"].astype(np.int64) * (int(item.max()) + 1) + item
    session = p["session_id"].astype(np.int64)
    order = np.lexsort((session, p["day"], pair))
    s_pair, s_session = pair[order], session[order]
    new_group = np.ones(n, bool)
    new_group[1:] = s_pair[1:] != s_pair[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    flags = np.empty(n, bool)
    flags[order] = s_session != s_session[group_start]
    return flags


def discount_factors(days_since_join: np.ndarray, discount_rate: float) -> np.ndarray:
    """Present-value factor of money earned ``t`` days after joining: (1 + r/365) ** -t."""
    return (1.0 + discount_rate / DAYS_PER_YEAR) ** -np.asarray(days_since_join, np.float64)


def shopper_outcomes(
    purchases: Table,
    sessions: Table,
    shoppers: Table,
    days: int,
    horizons: Sequence[int],
    discount_rate: float,
) -> pd.DataFrame:
    """One row per shopper (in the order of ``shoppers``) with what the shopper was worth.

    Columns: shopper_id, join_day, churn_day, visits, orders (visits with at least one line),
    lines, reorder_lines (see ``reorder_flags``), gtv, margin, ad_revenue, contribution
    (margin + ad_revenue), and for every horizon ``h`` over the window [join_day, join_day + h):
    ``contribution_{h}d`` and ``margin_{h}d`` (undiscounted), ``ltv_{h}d`` (contribution
    discounted to the join day at the annual ``discount_rate`` compounded daily) and
    ``retained_{h}d`` (1.0 if churn_day is -1 or >= join_day + h, else 0.0).

    A horizon is observable for a shopper only when join_day + h <= days; otherwise its four
    horizon columns are NaN, whatever the shopper did, so that means over the observable shoppers
    are not biased towards early churners.
    """
    s = columns(sessions, "sessions", ("shopper_id", "day", "n_lines", "gtv", "margin", "ad_revenue"))
    sh = columns(shoppers, "shoppers", ("shopper_id", "join_day", "churn_day"))
    ids = sh["shopper_id"].astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise ValueError("shoppers table: shopper_id values must be unique")
    join = sh["join_day"].astype(np.int64)
    churn = sh["churn_day"].astype(np.int64)
    n = len(ids)

    pos = row_positions(ids, s["shopper_id"], "sessions table")
    day = s["day"].astype(np.int64)
    since_join = day - join[pos]
    if len(day) and since_join.min() < 0:
        i = int(np.argmin(since_join))
        raise ValueError(
            f"sessions table: shopper {int(ids[pos[i]])} has a session on day {int(day[i])}, "
            f"before joining on day {int(join[pos[i]])}"
        )
    if len(day) and (day.min() < 0 or day.max() >= days):
        raise ValueError(f"sessions table: days must lie in [0, {days}); found {int(day.min())}..{int(day.max())}")
    n_lines = s["n_lines"].astype(np.int64)
    gtv = s["gtv"].astype(np.float64)
    margin = s["margin"].astype(np.float64)
    ad_revenue = s["ad_revenue"].astype(np.float64)
    contribution = margin + ad_revenue

    flags = reorder_flags(purchases)
    p_pos = row_positions(ids, np.asarray(purchases["shopper_id"]), "purchases table")
    if len(flags) != n_lines.sum():
        raise ValueError(f"purchases table has {len(flags)} lines but sessions.n_lines sums to {n_lines.sum()}")

    def total(weights: np.ndarray, at: np.ndarray = pos) -> np.ndarray:
        return np.bincount(at, weights=weights, minlength=n)

    out = {
        "shopper_id": sh["shopper_id"],
        "join_day": sh["join_day"],
        "churn_day": sh["churn_day"],
        "visits": np.bincount(pos, minlength=n).astype(np.int64),
        "orders": np.bincount(pos[n_lines > 0], minlength=n).astype(np.int64),
        "lines": total(n_lines).astype(np.int64),
        "reorder_lines": total(flags.astype(np.float64), p_pos).astype(np.int64),
        "gtv": total(gtv),
        "margin": total(margin),
        "ad_revenue": total(ad_revenue),
        "contribution": total(contribution),
    }
    discounted = contribution * discount_factors(since_join, discount_rate)
    for h in horizons:
        within = since_join < h
        unobservable = join + h > days
        out[f"contribution_{h}d"] = np.where(unobservable, np.nan, total(contribution * within))
        out[f"margin_{h}d"] = np.where(unobservable, np.nan, total(margin * within))
        out[f"ltv_{h}d"] = np.where(unobservable, np.nan, total(discounted * within))
        retained = ((churn < 0) | (churn >= join + h)).astype(np.float64)
        out[f"retained_{h}d"] = np.where(unobservable, np.nan, retained)
    return pd.DataFrame(out)


def last_active_day(churn_day: np.ndarray, days: int) -> np.ndarray:
    """Last day each shopper was active: the churn day, or ``days - 1`` if they never churned.

    The churn day counts as active: it is the day of the visit after which the shopper left.
    """
    churn_day = np.asarray(churn_day, np.int64)
    return np.where(churn_day < 0, days - 1, np.minimum(churn_day, days - 1))


def active_days(join_day: np.ndarray, churn_day: np.ndarray, days: int, start: int = 0) -> np.ndarray:
    """Days each shopper was active within [start, days): from joining to ``last_active_day``."""
    first = np.maximum(np.asarray(join_day, np.int64), start)
    return np.maximum(last_active_day(churn_day, days) - first + 1, 0)
