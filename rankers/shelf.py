"""Search rows that are their query aisle's shelf row: found exactly, answered from per-aisle tables.

Why: the world builds a search row as ``catalog.shelf[query]`` cut to the request's width C, with
unavailable items set to -1 (``sim/session/search.py``), so all rows of one aisle share one candidate row.
A ranker whose answer depends only on the candidate row (popularity, margin-greedy) can then answer
them all with one gather from a table of one answer per aisle, computed by its general path; the
table only changes when the ranker's inputs change (ingested logs, live prices, availability): a
few times a simulated day. Buy-again starts from such a table and merges in the shopper's own items.

Correctness first: a row is answered from a table only if it is, exactly, the current shelf row of
its query (one vectorised comparison per request). A row whose unavailable items were left in is
accepted too: unavailable candidates cannot be placed, so its answer is the same. Every other row
takes the ranker's general path.

What a table depends on is checked on every call: the live arrays (availability, prices, margin
rates) by comparison with a copy, the logs by the feature store's version. The shelf layout
(``shelf``, ``shelf_pos``, ``aisle``) and the bids are taken as fixed for a world, as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import SURFACE_SEARCH, RankRequest, RankResponse, prefix_propensities

T = TypeVar("T")


class Watched:
    """A live array (``catalog.price``, ``catalog.available``) and a version bumped when its content changes.

    Why a copy and not a flag: events change the live arrays in place and tell nobody; comparing
    with a private copy costs O(N) per look, about a microsecond per thousand products.
    """

    def __init__(self, get: Callable[[], np.ndarray]):
        self._get = get
        self._seen = np.array(get(), copy=True)
        self.version = 0

    def look(self) -> int:
        """The version of the array's current content."""
        live = self._get()
        if live.shape != self._seen.shape or not np.array_equal(live, self._seen):
            self._seen = np.array(live, copy=True)
            self.version += 1
        return self.version


class Cached:
    """One value kept for the last key it was built for (e.g. a per-aisle table and its inputs' versions)."""

    def __init__(self) -> None:
        self._key: Hashable = None
        self._value: object = None

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key``, rebuilt by ``build()`` when the key changed."""
        if self._value is None or key != self._key:
            self._value = build()
            self._key = key
        return self._value  # type: ignore[return-value]


def _consistent(catalog: PublicCatalog) -> bool:
    """Whether the shelf lists each product once, in its own aisle's row, at its ``shelf_pos``.

    The fast paths rely on it (an item of aisle a sits at column ``shelf_pos`` of row a); the
    generated catalog always is; any other catalog simply keeps the general paths.
    """
    shelf = np.asarray(catalog.shelf)
    n = catalog.n_products
    if shelf.ndim != 2 or shelf.shape[0] != catalog.n_aisles or n == 0:
        return False
    on = shelf >= 0
    if (shelf >= n).any() or on.sum() != n:
        return False
    row, col = np.nonzero(on)
    item = shelf[row, col]
    listed_once = np.bincount(item, minlength=n).max() == 1
    return bool(
        listed_once
        and (np.asarray(catalog.aisle)[item] == row).all()
        and (np.asarray(catalog.shelf_pos)[item] == col).all()
    )


class ShelfRows:
    """The catalog's shelf rows as the world sends them (C wide, unavailable items -1), and matching.

    ``version`` changes whenever availability does (tables built on shelf rows depend on it).
    """

    def __init__(self, catalog: PublicCatalog):
        self.catalog = catalog
        self._available = Watched(lambda: catalog.available)
        self.usable = _consistent(catalog)
        self._rows = Cached()

    @property
    def version(self) -> int:
        """Version of the catalog's availability."""
        return self._available.look()

    def rows(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(A, width) int32 shelf rows with unavailable items -1, and the same rows as they are (unmasked)."""

        def build() -> tuple[np.ndarray, np.ndarray]:
            raw = np.ascontiguousarray(self.catalog.shelf[:, :width], dtype=np.int32)
            ok = (raw >= 0) & self.catalog.available[np.maximum(raw, 0)]
            return np.where(ok, raw, -1).astype(np.int32), raw

        return self._rows.get((self.version, width), build)

    def match(self, request: RankRequest) -> np.ndarray | None:
        """(B,) bool: rows that are exactly their query aisle's shelf row; None when no row can be one."""
        cands = request.candidates
        b, c = cands.shape
        n_aisles = self.catalog.shelf.shape[0]
        if request.surface != SURFACE_SEARCH or not self.usable or b == 0 or not 0 < c <= self.catalog.shelf.shape[1]:
            return None
        query = np.asarray(request.query)
        valid = (query >= 0) & (query < n_aisles)
        q = np.where(valid, query, 0).astype(np.intp)
        masked, raw = self.rows(c)
        expect = np.take(masked, q, axis=0)
        if np.array_equal(expect, cands):  # the world's case: one pass, no per-row reduction
            return valid
        # otherwise compare in full only the rows whose first candidate fits (cheap rejection)
        first = cands[:, 0]
        maybe = np.flatnonzero(valid & ((first == masked[q, 0]) | (first == raw[q, 0])))
        sub, qs = cands[maybe], q[maybe]
        fits = (expect[maybe] == sub).all(axis=1) | (np.take(raw, qs, axis=0) == sub).all(axis=1)
        hit = np.zeros(b, bool)
        hit[maybe[fits]] = True
        return hit


def take_rows(request: RankRequest, rows: np.ndarray) -> RankRequest:
    """The request restricted to ``rows`` (in that order)."""
    return dataclasses.replace(
        request,
        shopper_ids=np.asarray(request.shopper_ids)[rows],
        query=np.asarray(request.query)[rows],
        candidates=request.candidates[rows],
    )


def gather(table: RankResponse, rows: np.ndarray) -> RankResponse:
    """Rows of a per-aisle answer table, e.g. ``gather(table, request.query)``."""
    at = np.asarray(rows, np.intp)
    return RankResponse(
        slate=np.take(table.slate, at, axis=0),
        propensity=np.take(table.propensity, at, axis=0),
        sponsored=np.take(table.sponsored, at, axis=0),
        prefix_propensity=None if table.prefix_propensity is None else np.take(table.prefix_propensity, at, axis=0),
    )


def answer(
    request: RankRequest,
    hit: np.ndarray | None,
    shelf_rows: Callable[[RankRequest], RankResponse],
    other_rows: Callable[[RankRequest], RankResponse],
) -> RankResponse:
    """Rows where ``hit`` is True from ``shelf_rows``, the others from ``other_rows``, in request order.

    Both must answer a row the same way whatever batch it comes in (every ranker does; tested).
    """
    if hit is None or not hit.any():
        return other_rows(request)
    if hit.all():
        return shelf_rows(request)
    on, off = np.flatnonzero(hit), np.flatnonzero(~hit)
    parts = ((on, shelf_rows(take_rows(request, on))), (off, other_rows(take_rows(request, off))))
    b, k = request.batch_size, request.slate_size
    out = RankResponse(
        np.empty((b, k), np.int32), np.empty((b, k), np.float32), np.empty((b, k), bool), np.empty((b, k), np.float32)
    )
    for rows, part in parts:
        out.slate[rows] = part.slate
        out.propensity[rows] = part.propensity
        out.sponsored[rows] = part.sponsored
        out.prefix_propensity[rows] = prefix_propensities(part)
    return out


def table_request(request: RankRequest, shelf_rows: np.ndarray) -> RankRequest:
    """A request of one row per aisle (its shelf row), with ``request``'s day and slate settings.

    Every row's shopper is 0: only rankers whose answer ignores the shopper may use such a table.
    """
    a = len(shelf_rows)
    return RankRequest(
        day=request.day,
        surface=SURFACE_SEARCH,
        shopper_ids=np.zeros(a, np.int64),
        query=np.arange(a, dtype=np.int32),
        candidates=shelf_rows,
        slate_size=request.slate_size,
        ad_positions=tuple(request.ad_positions),
        max_sponsored=request.max_sponsored,
    )
