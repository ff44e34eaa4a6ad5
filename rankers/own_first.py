"""Buy-again on search rows that are shelf rows: the aisle's popularity order with the shopper's own items first.

Why: buy-again scores every item the shopper bought before above all others (by count, then
recency) and the rest by popularity. On a shelf row the popularity part is the same for every
shopper of the aisle, so instead of rescoring and sorting each row, the row's organic order is
merged from the aisle's precomputed popularity order (``AisleOrder``) and the row's few own items:
own items first, in own order, then the popularity order without them. Then the standard auction
and slate assembly run on that order (``rankers.ads``), exactly as in the general path.

- Rows without own items (most rows in the simulator) take the aisle's popularity answer.
- Rows with one own item take an answer cached per item (it does not depend on the shopper or the
  day), computed the first time the item is seen while the aisle order is current; one gather
  answers both kinds.
- Other rows are merged: only the top ``PREFIX`` ranks are built; the auction over them is exact,
  as rows whose ads could lie deeper are auctioned again over their full order.

Own items are handled as a sparse list sorted by row and own order, so the work does not depend on
how many items a shopper bought before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import RankRequest, RankResponse
from basketgym.rankers import ads, shelf, topk
from basketgym.rankers.base import Score, ScoringRanker

PREFIX = 16  # organic ranks built per merged row (at least K + ad slots)


@dataclass
class AisleOrder:
    """Per aisle, the organic order of its shelf row under popularity, and what the auction needs.

    Built for one table key (ranker state, C, slate settings). ``slate`` and ``ad`` hold answers:
    row a < A for aisle a's shelf row (popularity's answer), row A + i for a row whose only own item
    is item i, filled as such rows come (``known``), so that one gather answers both kinds of rows.
    """

    items: np.ndarray  # (A, C) int32: items in organic order (placeable first, then the others as they sit)
    bid: np.ndarray  # (A, C): their auction bids, in ``ad_bids``' float type (0: not placeable or eligible)
    deeper_bid: np.ndarray  # (A, C + 1): highest bid at organic rank j or below
    rank: np.ndarray  # (A, C) int32: organic rank of the item in each column
    n_ok: np.ndarray  # (A,) int32: placeable items per row
    slate: np.ndarray  # (A + N, K) int32 answers (see above)
    ad: np.ndarray  # (A + N, K) bool: sponsored placements of the answers
    known: np.ndarray  # (N,) bool: items whose one-own-item answer is in ``slate``

    def answers(self, at: np.ndarray) -> RankResponse:
        """The answers held in rows ``at`` of ``slate`` / ``ad``."""
        slate = np.take(self.slate, at, axis=0)
        return RankResponse(slate, (slate >= 0).astype(np.float32), np.take(self.ad, at, axis=0))


@dataclass
class OwnItems:
    """Own items of some rows, sorted by row, then own order (count, then recency, then column)."""

    row: np.ndarray  # (L,) row
    item: np.ndarray  # (L,) int32 item id
    col: np.ndarray  # (L,) its column in the row (its shelf position)
    index: np.ndarray  # (L,) its place among the row's own items (0 = first)
    count: np.ndarray  # (R,) own items per row

    def first(self) -> np.ndarray:
        """(R,) index of each row's first own item in the list (meaningless where count is 0)."""
        return np.cumsum(self.count) - self.count

    def subset(self, rows: np.ndarray) -> OwnItems:
        """The own items of ``rows`` (ascending), renumbered 0..len(rows)-1."""
        local = np.full(len(self.count), -1, np.int64)
        local[rows] = np.arange(len(rows))
        sel = np.flatnonzero(local[self.row] >= 0)
        return OwnItems(local[self.row[sel]], self.item[sel], self.col[sel], self.index[sel], self.count[rows])


def aisle_order(ranker: ScoringRanker, request: RankRequest, popularity: Score) -> AisleOrder:
    """The ``AisleOrder`` of every aisle's shelf row, C as wide as ``request``'s, under ``ranker``'s ``popularity``."""
    rows, _ = ranker.shelf.rows(request.candidates.shape[1])
    table = shelf.table_request(request, rows)
    answer = ranker.rank_general(table, popularity)
    try:
        _, n_ok, s = ranker.organic_scores(table, popularity)
        bid = ranker.ad_bids(table)
    finally:
        ranker.forget_request()
    cols = topk.order(s)
    rank = np.empty_like(cols, dtype=np.int32)
    np.put_along_axis(rank, cols, np.arange(cols.shape[1], dtype=np.int32)[None, :], axis=1)
    ordered_bid = np.take_along_axis(bid, cols, axis=1)
    deeper = np.zeros((len(rows), cols.shape[1] + 1), bid.dtype)
    deeper[:, :-1] = np.maximum.accumulate(ordered_bid[:, ::-1], axis=1)[:, ::-1]
    a, n, k = len(rows), ranker.catalog.n_products, request.slate_size
    slate = np.full((a + n, k), -1, np.int32)
    ad = np.zeros((a + n, k), bool)
    slate[:a], ad[:a] = answer.slate, answer.sponsored
    return AisleOrder(
        items=np.take_along_axis(rows, cols, axis=1).astype(np.int32),
        bid=ordered_bid,
        deeper_bid=deeper,
        rank=rank,
        n_ok=n_ok,
        slate=slate,
        ad=ad,
        known=np.zeros(n, bool),
    )


def own_items(ranker: ScoringRanker, request: RankRequest) -> OwnItems:
    """The placeable candidates each row's shopper bought before, in buy-again's order.

    Own score as in ``BuyAgainRanker.score``: ``1 + count + (last + 1) / (day + 2)`` in float64,
    rounded to float32 (so equal float32 scores tie, and ties go to the lower column). Only rows
    with several own items need it: the others keep their one item.
    """
    catalog = ranker.catalog
    b, c = request.candidates.shape
    row, item, slot = ranker.features.aisle_history(request.shopper_ids, request.query)
    col = np.take(catalog.shelf_pos, item).astype(np.int64)
    keep = np.take(catalog.available, item)
    keep &= col < c
    row, item, col, slot = row[keep], item[keep], col[keep], slot[keep]
    n_own = np.bincount(row, minlength=b)
    several = np.flatnonzero(n_own[row] > 1)  # entries are grouped by row: sort within those rows only
    if len(several):
        count, last = ranker.features.slot_history(slot[several])
        own = (1.0 + count + (last + 1.0) / (request.day + 2.0)).astype(np.float32)
        order = several[_row_then_key(row[several], topk.descending_high(own), col[several], b, c)]
        item[several], col[several] = item[order], col[order]
    index = np.arange(len(row)) - (np.cumsum(n_own) - n_own)[row]
    return OwnItems(row, item.astype(np.int32), col, index, n_own)


def _row_then_key(row: np.ndarray, high: np.ndarray, col: np.ndarray, b: int, c: int) -> np.ndarray:
    """Order of entries by (row, high, col): one stable sort of packed uint64 keys when they fit.

    The entries come grouped by row, so the keys are nearly sorted already (cheap for a stable sort).
    """
    col_bits = max(1, int(c - 1).bit_length())
    row_bits = max(1, int(b - 1).bit_length())
    if row_bits + 32 + col_bits > 64:
        return np.lexsort((col, high, row))
    key = row.astype(np.uint64) << np.uint64(32 + col_bits)
    key |= (high.view(np.uint32) ^ np.uint32(0x80000000)).astype(np.uint64) << np.uint64(col_bits)  # signed order
    key |= col.astype(np.uint64)
    return np.argsort(key, kind="stable")


def rank_shelf_rows(ranker: ScoringRanker, request: RankRequest, order: AisleOrder) -> RankResponse:
    """Buy-again's answers for search rows that are all their query's shelf row."""
    query = np.asarray(request.query, np.intp)
    at = query.copy()  # the row of ``order``'s answers: the aisle's, unless the row has own items
    if request.batch_size == 0 or request.slate_size == 0:
        return order.answers(at)
    own = own_items(ranker, request)
    settings = Settings.of(request)
    single = np.flatnonzero(own.count == 1)
    if len(single):
        item = own.item[own.first()[single]]
        add_single_item_answers(order, item, ranker.catalog, settings)
        at[single] = len(order.items) + item
    out = order.answers(at)
    multi = np.flatnonzero(own.count > 1)
    if len(multi):
        slate, is_ad = merged_answers(order, query[multi], own.subset(multi), settings)
        placed = slate >= 0
        out.slate[multi] = slate
        out.propensity[multi] = placed
        out.sponsored[multi] = is_ad & placed
    return out


@dataclass(frozen=True)
class Settings:
    """The request's slate settings: K, the auction's ad positions, C."""

    k: int
    positions: np.ndarray
    c: int

    @classmethod
    def of(cls, request: RankRequest) -> Settings:
        """Settings of a request."""
        positions = ads.ad_slots(request.ad_positions, request.slate_size, request.max_sponsored)
        return cls(request.slate_size, positions, request.candidates.shape[1])


def add_single_item_answers(order: AisleOrder, item: np.ndarray, catalog: PublicCatalog, settings: Settings) -> None:
    """Make sure ``order`` holds the answer for each row whose only own item is one of ``item``.

    The ones not known yet are answered as merged rows of their own (one per distinct item).
    """
    new = np.unique(item[~order.known[item]])
    if len(new):
        u = len(new)
        col = np.take(catalog.shelf_pos, new).astype(np.int64)
        alone = OwnItems(np.arange(u), new, col, np.zeros(u, np.int64), np.ones(u, np.int64))
        slate, is_ad = merged_answers(order, np.take(catalog.aisle, new).astype(np.intp), alone, settings)
        at = len(order.items) + new
        order.slate[at] = slate
        order.ad[at] = is_ad & (slate >= 0)
        order.known[new] = True


def merged_answers(
    order: AisleOrder, aisle: np.ndarray, own: OwnItems, settings: Settings
) -> tuple[np.ndarray, np.ndarray]:
    """Slates and ad flags (R, K) of rows of ``aisle`` (R,) with own items ``own`` (at least one each)."""
    k, positions, c = settings.k, settings.positions, settings.c
    n = len(positions)
    items, bid = merged_prefix(order, aisle, own, min(c, max(PREFIX, k + n)))
    ad_items = ad_rank = None
    if n:
        ad_items, ad_rank = _auction(order, aisle, own, items, bid, n, c)
    return ads.assemble(items[:, : min(c, k + n)], order.n_ok[aisle], ad_items, positions, k, ad_rank)


def merged_prefix(order: AisleOrder, aisle: np.ndarray, own: OwnItems, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``width`` organic items (R, width) of merged rows and their bids."""
    rho = order.rank[aisle[own.row], own.col].astype(np.intp)  # own items' popularity ranks
    ranks = merged_ranks(rho, own.row, own.index, own.count, width)
    ranks += (aisle * order.items.shape[1])[None, :]  # flat index into the (A, C) tables
    items = np.take(order.items, ranks).T
    bid = np.take(order.bid, ranks).T
    return np.ascontiguousarray(items), np.ascontiguousarray(bid)


def merged_ranks(rho: np.ndarray, row: np.ndarray, index: np.ndarray, m: np.ndarray, width: int) -> np.ndarray:
    """(width, R): ranks, in the aisle's popularity order, of each merged row's first ``width`` organic items.

    Per own item (sorted by row): ``rho`` its popularity rank, ``row`` its row in 0..R-1,
    ``index`` its place among the row's own items; ``m`` (R,) own items per row. Slot s < m holds
    own item s; slot s >= m holds the t-th (t = s - m) popularity item that is not an own item, of
    rank ``t + #{own items i: g_i <= t}`` where g_i counts the non-own items ranked above own item
    i. That count is a histogram summed over slots: transposed (slots x rows), the running sum is a
    few contiguous vector additions (a row-wise ``cumsum`` over 16 slots is 30x slower).
    """
    r, c = len(m), int(rho.max(initial=0)) + 1
    by_rank = np.argsort(row * c + rho, kind="stable")  # grouped by row already: nearly sorted, cheap
    rr, rho_r = row[by_rank], rho[by_rank]
    g = rho_r - (np.arange(len(rr)) - (np.cumsum(m) - m)[rr])  # non-own items ranked above it
    h = g + m[rr]  # the first slot whose popularity item it precedes
    inside = h < width
    shifts = np.bincount(h[inside] * r + rr[inside], minlength=width * r).reshape(width, r)
    ranks = np.empty((width, r), np.intp)
    count = np.zeros(r, np.intp)
    for slot in range(width):
        count += shifts[slot]
        np.subtract(count + slot, m, out=ranks[slot])
    first = index < width
    ranks[index[first], row[first]] = rho[first]  # own items in own order
    return ranks


def _auction(
    order: AisleOrder,
    aisle: np.ndarray,
    own: OwnItems,
    items: np.ndarray,
    bid: np.ndarray,
    n: int,
    c: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The standard auction over the merged order: ad items (R, n) best first (-1 none), their ranks.

    Run on the prefix. Below it lie only popularity items ranked ``width - m`` or lower, so a
    row whose n-th pick is worth less than the most such an item could be worth below the prefix
    (``ads.beyond_window``) is auctioned again over its full order.
    """
    width = items.shape[1]
    rank, best = ads.pick_best(bid * ads.rank_pctr(width), n, overwrite=True)
    ad_items = np.where(rank >= 0, np.take_along_axis(items, np.maximum(rank, 0), axis=1), -1)
    if width < c:
        top_below = order.deeper_bid[aisle, np.maximum(width - own.count, 0)]
        redo = np.flatnonzero(best[:, n - 1] < ads.beyond_window(top_below, width))
        if len(redo):
            full_items, full_bid = merged_prefix(order, aisle[redo], own.subset(redo), c)
            r2, _ = ads.pick_best(full_bid * ads.rank_pctr(c), n, overwrite=True)
            rank[redo] = r2
            ad_items[redo] = np.where(r2 >= 0, np.take_along_axis(full_items, np.maximum(r2, 0), axis=1), -1)
    return ad_items, rank
