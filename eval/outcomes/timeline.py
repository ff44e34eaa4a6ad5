"""Outcomes over time, per shopper: the day-0 shoppers' value by week, and their days inside an experiment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from basketgym.eval.outcomes.shoppers import discount_factors
from basketgym.eval.outcomes.tables import Table, columns, row_positions

METRIC_COLUMNS = {"margin": "margin", "gtv": "gtv", "orders": "n_lines"}  # contribution: margin + ad_revenue


def checkpoints(days: int, every: int = 7) -> np.ndarray:
    """Days at which per-shopper curves are kept: every ``every`` days from day ``every - 1``, and the last day."""
    return np.unique(np.append(np.arange(every - 1, days, every), days - 1))


def cohort_cumulative(sessions: Table, shoppers: Table, days: int, discount_rate: float) -> pd.DataFrame:
    """Per shopper of the day-0 cohort: cumulative margin and LTV through each ``checkpoints`` day.

    Columns: shopper_id, churn_day, ``margin_d{d}`` and ``ltv_d{d}`` (contribution discounted to
    day 0, through day d included). Per-shopper curves let the report bootstrap over shoppers.
    """
    s = columns(sessions, "sessions", ("shopper_id", "day", "margin", "ad_revenue"))
    sh = columns(shoppers, "shoppers", ("shopper_id", "join_day", "churn_day"))
    initial = np.asarray(sh["join_day"]) == 0
    ids = np.asarray(sh["shopper_id"], np.int64)[initial]
    sid = np.asarray(s["shopper_id"], np.int64)
    keep = np.isin(sid, ids)
    pos = row_positions(ids, sid[keep], "sessions table")
    day = np.asarray(s["day"], np.int64)[keep]
    margin = np.asarray(s["margin"], np.float64)[keep]
    ltv = (margin + np.asarray(s["ad_revenue"], np.float64)[keep]) * discount_factors(day, discount_rate)
    cps = checkpoints(days)
    slot = np.searchsorted(cps, day)  # the first checkpoint at or after the session's day
    out = {"shopper_id": ids, "churn_day": np.asarray(sh["churn_day"], np.int64)[initial]}
    for name, value in (("margin", margin), ("ltv", ltv)):
        grid = np.zeros((len(ids), len(cps)))
        np.add.at(grid, (pos, slot), value)
        cum = np.cumsum(grid, axis=1).astype(np.float32)
        out.update({f"{name}_d{d}": cum[:, i] for i, d in enumerate(cps)})
    return pd.DataFrame(out)


def window_metrics(sessions: Table, shoppers: Table, metric: str, start: int, length: int) -> pd.DataFrame:
    """Per-shopper ``metric`` around an experiment that runs on days [start, start + length).

    One row per shopper who joined before ``start``: shopper_id, ``pre`` (the metric over the
    ``length`` days before the start, or as many as exist: the CUPED covariate) and ``d0`` ..
    ``d{length-1}``, the metric accumulated from the start through that day (the daily looks).
    ``metric``: margin, contribution, gtv or orders (sessions with at least one line).
    """
    s = columns(sessions, "sessions", ("shopper_id", "day", "n_lines", "gtv", "margin", "ad_revenue"))
    sh = columns(shoppers, "shoppers", ("shopper_id", "join_day"))
    keep = np.asarray(sh["join_day"], np.int64) < start
    ids = np.asarray(sh["shopper_id"], np.int64)[keep]
    if metric == "contribution":
        value = np.asarray(s["margin"], np.float64) + np.asarray(s["ad_revenue"], np.float64)
    elif metric == "orders":
        value = (np.asarray(s["n_lines"]) > 0).astype(np.float64)
    else:
        value = np.asarray(s[METRIC_COLUMNS[metric]], np.float64)
    day = np.asarray(s["day"], np.int64)
    sid = np.asarray(s["shopper_id"], np.int64)
    seen = np.isin(sid, ids) & (day >= start - length) & (day < start + length)
    pos = row_positions(ids, sid[seen], "sessions table")
    day, value = day[seen], value[seen]
    n = len(ids)
    pre = np.bincount(pos[day < start], value[day < start], minlength=n)
    inside = day >= start
    grid = np.zeros((n, length))
    np.add.at(grid, (pos[inside], day[inside] - start), value[inside])
    out = {"shopper_id": ids, "pre": pre}
    cum = np.cumsum(grid, axis=1)
    out.update({f"d{d}": cum[:, d] for d in range(length)})
    return pd.DataFrame(out)
