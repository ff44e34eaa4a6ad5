"""The event log: what the platform observes, as columnar tables with an explicit schema.

Three observable tables (see docs/EVENT_LOG.md for the full description):

- ``slates``: one row per slate shown (a ranker's answer to one request), with what was clicked
  and bought at each position;
- ``purchases``: one row per order line, attributed to the surface and position that sold it, or to
  ``organic`` when the shopper found the item without the ranker's help;
- ``sessions``: one row per visit (a checkout), with its totals.

A fourth table, ``shoppers``, is simulator truth (join day, churn day) and is read only by ``eval/``.
Rankers receive the observable tables, day by day, through ``Ranker.update``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from basketgym.sim.files import atomic_path

SOURCE_HOME, SOURCE_SEARCH, SOURCE_ORGANIC = 0, 1, 2
SOURCE_NAMES = ("home", "search", "organic")

# column name -> (numpy dtype, description); list columns have one entry per slate position
SLATE_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "(day << 32) | shopper_id: unique per visit, stable across rankers"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "surface": ("int8", "0 home feed, 1 search"),
    "query": ("int16", "search: aisle id the query names (tokens = aisle name); home: -1"),
    "n_candidates": ("int16", "size of the retrieval set the ranker chose from"),
    "slate": ("int32[K]", "item ids by position, -1 where the slate is shorter"),
    "propensity": ("float32[K]", "probability the ranker placed this item at this position"),
    "prefix_propensity": ("float32[K]", "probability the ranker placed exactly these items at positions 0..p"),
    "slate_propensity": ("float32", "probability the ranker showed exactly this slate (the last prefix)"),
    "sponsored": ("bool[K]", "placement is a sponsored (paid) slot"),
    "clicked": ("bool[K]", "the shopper clicked the item"),
    "purchased": ("bool[K]", "the shopper bought the item from this placement"),
    "ad_revenue": ("float32", "cost-per-click revenue earned by sponsored clicks on this slate"),
}

PURCHASE_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "visit"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "item_id": ("int32", "product bought (one unit)"),
    "aisle": ("int16", "product's aisle"),
    "price": ("float32", "price paid"),
    "margin": ("float32", "margin earned = price x margin rate"),
    "source": ("int8", "0 home feed, 1 search slate, 2 organic (found without the ranker)"),
    "position": ("int8", "slate position it was bought from, -1 for organic"),
    "sponsored": ("bool", "bought from a sponsored placement"),
}

SESSION_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "visit"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "n_slates": ("int16", "slates shown"),
    "n_lines": ("int16", "order lines (items bought)"),
    "gtv": ("float32", "gross transaction value of the order"),
    "margin": ("float32", "margin of the order"),
    "ad_revenue": ("float32", "ad revenue earned during the visit"),
}

SHOPPER_COLUMNS: dict[str, tuple[str, str]] = {
    "shopper_id": ("int32", "shopper"),
    "join_day": ("int32", "day the shopper arrived (0 for the initial population)"),
    "churn_day": ("int32", "TRUTH: day the shopper churned, -1 if still active at the end"),
}

TABLES = {
    "slates": SLATE_COLUMNS,
    "purchases": PURCHASE_COLUMNS,
    "sessions": SESSION_COLUMNS,
    "shoppers": SHOPPER_COLUMNS,
}


class LogBuffer:
    """Accumulates one table's daily column arrays; ``concat`` joins them at the end of a run."""

    def __init__(self, columns: dict[str, tuple[str, str]]):
        self.columns = columns
        self.parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}

    def append(self, arrays: dict[str, np.ndarray]) -> None:
        """Append one batch; every column must be present."""
        for c in self.columns:
            self.parts[c].append(arrays[c])

    def concat(self) -> dict[str, np.ndarray]:
        """All batches joined, one array per column (2-D for list columns)."""
        if not next(iter(self.parts.values()), []):
            return _empty(self.columns)
        out = {}
        for c, (dtype, _) in self.columns.items():
            base = dtype.split("[")[0]
            parts = self.parts[c]
            if parts:
                out[c] = np.concatenate(parts).astype(base, copy=False)
            else:
                out[c] = np.zeros((0, 0) if "[" in dtype else 0, base)
        return out


_EMPTY: dict[int, dict[str, np.ndarray]] = {}


def _empty(columns: dict[str, tuple[str, str]]) -> dict[str, np.ndarray]:
    """A shared, read-only empty table for ``columns`` (days without sessions are common in envs)."""
    key = id(columns)
    if key not in _EMPTY:
        table = {}
        for c, (dtype, _) in columns.items():
            a = np.zeros((0, 0) if "[" in dtype else 0, dtype.split("[")[0])
            a.flags.writeable = False
            table[c] = a
        _EMPTY[key] = table
    return dict(_EMPTY[key])


def to_arrow(
    table: dict[str, np.ndarray], columns: dict[str, tuple[str, str]], extra: dict[str, str] | None = None
) -> pa.Table:
    """Columnar dict -> Arrow table; 2-D columns become fixed-size lists; ``extra`` adds constant columns."""
    arrays, names = [], []
    n = len(next(iter(table.values()))) if table else 0
    for c in columns:
        a = table[c]
        if a.ndim == 2:
            k = a.shape[1]
            flat = pa.array(a.reshape(-1))
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, k))
        else:
            arrays.append(pa.array(a))
        names.append(c)
    for c, v in (extra or {}).items():
        arrays.append(pa.array([v] * n, pa.string()).dictionary_encode())
        names.append(c)
    return pa.Table.from_arrays(arrays, names=names)


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write Parquet (zstd) atomically: readers never see a half-written file."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_table(path: Path) -> dict[str, np.ndarray]:
    """Read a log table back as numpy columns (fixed-size list columns as 2-D arrays)."""
    t = pq.read_table(path)
    out = {}
    for name, col in zip(t.column_names, t.columns, strict=True):
        col = col.combine_chunks()
        if pa.types.is_fixed_size_list(col.type):
            k = col.type.list_size
            out[name] = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, k)
        elif pa.types.is_dictionary(col.type):
            out[name] = col.cast(pa.string()).to_numpy(zero_copy_only=False)
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out
