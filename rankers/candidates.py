"""Which candidates of a request may be placed: real ids, available today, first in their row."""

from __future__ import annotations

import numpy as np


def repeated(candidates: np.ndarray) -> np.ndarray | None:
    """(B, C) mask of repeated ids (every occurrence after the first in its row), or None if none.

    The world deduplicates its candidate sets, so the common case costs one int32 row sort.
    """
    srt = np.sort(candidates, axis=1)
    rep = srt[:, 1:] == srt[:, :-1]
    rep &= srt[:, 1:] >= 0
    if not rep.any():
        return None
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


def placeable(candidates: np.ndarray, available: np.ndarray) -> np.ndarray:
    """(B, C) mask of candidates a slate may hold: id >= 0, available, first occurrence in row."""
    ok = candidates >= 0
    ok &= np.take(available, np.maximum(candidates, 0))
    dup = repeated(candidates)
    if dup is not None:
        ok &= ~dup
    return ok
