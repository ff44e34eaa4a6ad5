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

from basketgym.contract.files import atomic_path


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
