"""Checked access to the event-log tables (dicts of numpy arrays or DataFrames) for eval/."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

Table = Mapping[str, Any]


def columns(table: Table, name: str, wanted: Iterable[str]) -> dict[str, np.ndarray]:
    """The ``wanted`` columns of ``table`` as numpy arrays; a missing one is named in the error."""
    out = {}
    for c in wanted:
        if c not in table:
            have = ", ".join(map(str, table.keys())) or "no columns"
            raise ValueError(f"{name} table: missing column '{c}' (has: {have})")
        out[c] = np.asarray(table[c])
    lengths = {len(a) for a in out.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{c}={len(a)}" for c, a in out.items())
        raise ValueError(f"{name} table: columns differ in length ({sizes})")
    return out


def row_positions(ids: np.ndarray, query: np.ndarray, what: str) -> np.ndarray:
    """Row of each ``query`` id in ``ids`` (ids unique); an id absent from ``ids`` is an error."""
    ids = np.asarray(ids, np.int64)
    query = np.asarray(query, np.int64)
    if len(ids) and ids[0] == 0 and ids[-1] == len(ids) - 1 and np.all(np.diff(ids) == 1):
        pos = query  # shopper ids are 0..N-1: the common case, no search needed
        bad = (pos < 0) | (pos >= len(ids))
    else:
        order = np.argsort(ids, kind="stable")
        idx = np.searchsorted(ids, query, sorter=order)
        idx = np.minimum(idx, max(len(ids) - 1, 0))
        pos = order[idx] if len(ids) else idx
        bad = ids[pos] != query if len(ids) else np.ones(len(query), bool)
    if bad.any():
        raise ValueError(f"{what}: shopper {int(query[bad][0])} is not in the shoppers table")
    return pos
