"""Ranker latency from the timed calls of a run: percentiles per ranker, surface and candidate-set size.

The world times every ``rank`` call (a batch of B request rows of one surface). A row's latency
is its call's time divided by B (the cost of serving one shopper's request inside a batch);
percentiles over rows weight each call by its rows, so they describe the requests shoppers made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SURFACE_NAMES = ("home", "search")  # sim.protocol.SURFACE_NAMES, by surface code
PERCENTILES = (50, 95, 99)


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, qs: tuple[int, ...] = PERCENTILES) -> np.ndarray:
    """Percentiles of ``values`` where each value counts ``weights`` times (the inverted weighted CDF)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, np.float64)[order], np.asarray(weights, np.float64)[order]
    cdf = np.cumsum(w) / w.sum()
    idx = np.minimum(np.searchsorted(cdf, np.asarray(qs) / 100.0), len(v) - 1)
    return v[idx]


def latency_rows(latency: pd.DataFrame, ranker: str) -> pd.DataFrame:
    """One row per call with its ranker, surface name, candidates, batch, seconds and seconds per row."""
    names = [SURFACE_NAMES[int(s)] if 0 <= int(s) < len(SURFACE_NAMES) else str(s) for s in latency["surface"]]
    df = pd.DataFrame(
        {
            "ranker": ranker,
            "surface": names,
            "candidates": np.asarray(latency["candidates"], np.int64),
            "batch": np.asarray(latency["batch"], np.int64),
            "seconds": np.asarray(latency["seconds"], np.float64),
        }
    )
    df = df[df["batch"] > 0]
    return df.assign(seconds_per_row=df["seconds"] / df["batch"])


def latency_table(calls: pd.DataFrame) -> pd.DataFrame:
    """Per (ranker, surface, candidates): calls, rows, p50/p95/p99 microseconds per row, p99 ms per call.

    ``calls``: the concatenated ``latency_rows`` of a run (any number of worlds and seeds).
    """
    records = []
    for (ranker, surface, cands), g in calls.groupby(["ranker", "surface", "candidates"], sort=False):
        per_row = weighted_percentiles(g["seconds_per_row"].to_numpy(), g["batch"].to_numpy()) * 1e6
        records.append(
            {
                "ranker": ranker,
                "surface": surface,
                "candidates": int(cands),
                "calls": len(g),
                "rows": int(g["batch"].sum()),
                **{f"p{q}_us_per_row": float(x) for q, x in zip(PERCENTILES, per_row, strict=True)},
                "p99_ms_per_call": float(np.percentile(g["seconds"], 99) * 1e3),
            }
        )
    return pd.DataFrame.from_records(records)
