"""Which candidates of a request may be placed (real, available, first in row), and item lookups.

Per-item values are read for a (B, C) candidate array through a table of N + 1 entries whose last
entry is the padding value, at ``candidate_index`` (the id, or N for -1 padding): computed once
per request, it makes every later lookup one ``np.take`` with in-range int64 indices, the fast
path (a take with negative indices is ~4x slower; see benchmarks/bench_rankers.py).
"""

from __future__ import annotations

import numpy as np


def item_table(values: np.ndarray, available: np.ndarray, fill: float | bool) -> np.ndarray:
    """(N + 1,) table: ``values`` of available items, ``fill`` for unavailable ones and padding."""
    table = np.empty(len(values) + 1, np.result_type(values, np.asarray(fill)))
    np.copyto(table[:-1], values)
    table[:-1][~available] = fill
    table[-1] = fill
    return table


def candidate_index(candidates: np.ndarray, n_items: int) -> np.ndarray:
    """(B, C) intp index into an ``item_table``: the item id, or ``n_items`` for -1 padding."""
    c = np.asarray(candidates)
    if c.dtype.kind != "i":
        c = c.astype(np.int64)
    unsigned = c.view(np.dtype(f"u{c.dtype.itemsize}"))  # -1 -> the largest unsigned value
    return np.minimum(unsigned, n_items).astype(np.intp)


def lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(B, C) values of an ``item_table`` at a ``candidate_index``."""
    return np.take(table, index)


def repeated(candidates: np.ndarray) -> np.ndarray | None:
    """(B, C) mask of repeated ids (every occurrence after the first in its row), or None if none.

    The world deduplicates its candidate sets, so the common case costs one int32 row sort.
    """
    b, c = candidates.shape
    srt = np.sort(candidates, axis=1).reshape(-1)
    rep = srt[1:] == srt[:-1]  # flat, so the passes are contiguous; row boundaries cleared below
    rep &= srt[1:] >= 0
    rep[c - 1 :: c] = False
    if not rep.any():
        return None
    rep = np.concatenate([rep, [False]]).reshape(b, c)
    rows = np.flatnonzero(rep.any(axis=1))
    sub = candidates[rows]
    order = np.argsort(sub, axis=1, kind="stable")  # equal ids keep column order: first one wins
    ids = np.take_along_axis(sub, order, axis=1)
    later = np.zeros(sub.shape, bool)
    later[:, 1:] = (ids[:, 1:] == ids[:, :-1]) & (ids[:, 1:] >= 0)
    sub_mask = np.zeros(sub.shape, bool)
    np.put_along_axis(sub_mask, order, later, axis=1)
    mask = np.zeros(candidates.shape, bool)
    mask[rows] = sub_mask
    return mask


def placeable(candidates: np.ndarray, index: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, bool]:
    """(B, C) mask of candidates a slate may hold (id >= 0, available, first in row); any repeats?

    ``index`` is the ``candidate_index`` of ``candidates``.
    """
    ok = lookup(item_table(available, available, False), index)
    dup = repeated(candidates)
    if dup is not None:
        ok &= ~dup
    return ok, dup is not None
