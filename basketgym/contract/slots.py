"""Fixed-width per-row item slots: a sparse, bounded map row -> {item: value}, updated in batches.

Used for shoppers' habit stocks (agents), the platform's order-again history (sim) and the
feature store's per-shopper purchase counts (rankers). One row is one shopper; ``H`` slots per row.
"""

from __future__ import annotations

import numpy as np


def find(slot_items: np.ndarray, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Slot index of ``items[l]`` in row ``rows[l]``, or -1 where absent. Shapes: (L,) -> (L,).

    ``items`` may also be 2-D (L, K): the result is then (L, K).
    """
    held = np.take(slot_items, rows, axis=0)  # (L, H)
    if items.ndim == 1:
        idx = (held == items[:, None]).argmax(axis=1)
        hit = held[np.arange(len(idx)), idx] == items
    else:
        idx = (held[:, None, :] == items[:, :, None]).argmax(axis=-1)  # (L, K)
        hit = held[np.arange(len(idx))[:, None], idx] == items
    return np.where(hit & (items >= 0), idx, -1)


def assign(
    slot_items: np.ndarray, slot_score: np.ndarray, rows: np.ndarray, items: np.ndarray, *, rows_sorted: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Slot for each (row, item) line, allocating a slot for new items by evicting the lowest score.

    ``slot_items`` (R, H) int is updated in place for newly allocated slots (their previous
    content is evicted: the caller resets those slots' values). ``slot_score`` (R, H) ranks
    eviction candidates (empty slots hold item -1 and are used first). Lines must be unique
    (row, item) pairs. Returns (L,) slot indices and a bool mask of lines that got a new slot.
    A row with more new items than slots keeps the first H of them (in line order).
    ``rows_sorted`` skips a sort when the caller's lines are already grouped by ascending row.
    """
    slot = find(slot_items, rows, items)
    new = np.flatnonzero(slot < 0)
    is_new = np.zeros(len(rows), bool)
    if len(new) == 0:
        return slot, is_new
    nrows = rows[new]
    if not rows_sorted:
        order = np.argsort(nrows, kind="stable")
        new, nrows = new[order], nrows[order]
    first = np.flatnonzero(np.concatenate([[True], nrows[1:] != nrows[:-1]]))
    urows = nrows[first]
    counts = np.empty_like(first)
    counts[:-1] = first[1:] - first[:-1]
    counts[-1] = len(nrows) - first[-1]
    k = np.arange(len(new)) - np.repeat(first, counts)  # rank of a new line within its row
    # eviction order per affected row: empty slots first, then lowest score; slots matched today are kept
    held = slot_items[urows]
    score = np.where(held < 0, -np.inf, slot_score[urows].astype(np.float64))
    kept = np.zeros(held.shape, bool)
    old = np.flatnonzero(slot >= 0)
    if len(old):
        pos = np.searchsorted(urows, rows[old])
        hit = (pos < len(urows)) & (urows[np.minimum(pos, len(urows) - 1)] == rows[old])
        kept[pos[hit], slot[old][hit]] = True
    score[kept] = np.inf
    evict = np.argsort(score, axis=1, kind="stable")
    row_of = np.repeat(np.arange(len(urows)), counts)
    ok = k < held.shape[1] - kept.sum(axis=1)[row_of]
    chosen = evict[row_of[ok], k[ok]]
    slot[new[ok]] = chosen
    slot_items[nrows[ok], chosen] = items[new[ok]]
    is_new[new[ok]] = True
    return slot, is_new
