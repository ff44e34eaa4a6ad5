"""The feature store: observable shopper and item features built only from the logged tables.

Point-in-time: it holds exactly what was ingested, day by day, through ``update``; the world calls
``update`` after a day ends, so a ranker serving day t sees data through day t-1 and nothing later.
It never reads hidden world state: only the public catalog and the ``slates`` / ``purchases`` /
``sessions`` tables of ``sim.eventlog``.

Memory: 360 bytes per shopper with the default 32 history slots (8 scalars + 32 x (item int32,
count uint16, last day int32)); arrays grow (doubling) when ingested logs hold new shopper ids.
Lookups of ids never ingested read an always-empty row and allocate nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from basketgym.contract import slots
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError

SHOPPER_FEATURE_NAMES = (
    "n_orders", "n_visits", "total_spend", "avg_order_value", "tenure_days",
    "days_since_last_visit", "days_since_last_order", "has_ordered",
)  # fmt: skip
ITEM_FEATURE_NAMES = PublicCatalog.FEATURE_NAMES + (
    "log_purchases", "log_recent_purchases", "log_impressions", "ctr",
)  # fmt: skip

DAYS_CAP = 365  # "days since" features are capped here; a shopper never seen or never ordering gets it
CTR_PRIOR_WEIGHT = 20.0  # impressions' worth of the global CTR mixed into each item's CTR
_COUNT_MAX = np.iinfo(np.uint16).max
_NEVER = np.iinfo(np.int32).max  # first-day sentinel inside the store; exposed as -1
_SCRATCH_CELLS = 1 << 22  # byte budget of the (rows x items) scratch map used by pair lookups

_REQUIRED = {
    "purchases": ("shopper_id", "day", "item_id"),
    "sessions": ("shopper_id", "day", "n_lines", "gtv"),
    "slates": ("day", "slate"),
}


def _aisle_id_ranges(item_aisle: np.ndarray, n_aisles: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Per aisle, the id range [lo, hi) its items fill, when every aisle's items are consecutive ids.

    The generated catalog numbers products aisle by aisle, so "is item i in aisle a" becomes
    ``lo[a] <= i < hi[a]``. The arrays have one more entry, an empty range, for "no aisle".
    None when the ids are not laid out that way.
    """
    if len(item_aisle) and (np.diff(item_aisle.astype(np.int64)) < 0).any():
        return None
    a = np.arange(n_aisles)
    lo = np.append(np.searchsorted(item_aisle, a, "left"), 0)
    hi = np.append(np.searchsorted(item_aisle, a, "right"), 0)
    return lo.astype(np.int32), hi.astype(np.int32)


def _shopper_item_pairs(
    shopper: np.ndarray, item: np.ndarray, day: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (shopper, item) pairs of purchase lines, sorted: shopper, item, count, last day.

    One day's lines (the world's case) need one value sort and run lengths; otherwise ``unique``
    with its inverse gives each pair's last day.
    """
    key = shopper * n + item
    if day.min() == day.max():
        key = np.sort(key)
        new = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        count = np.diff(np.append(new, len(key)))
        key = key[new]
        last = np.full(len(key), day[0], np.int64)
    else:
        key, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
        last = np.full(len(key), -1, np.int64)
        np.maximum.at(last, inverse, day)
    return key // n, key % n, count, last


def check_store_options(half_life_days: object, history_slots: object) -> None:
    """RankerError unless ``half_life_days`` is a finite number > 0 and ``history_slots`` a whole number in [1, 254]."""
    real = isinstance(half_life_days, (int, float, np.integer, np.floating)) and not isinstance(half_life_days, bool)
    if not (real and math.isfinite(half_life_days) and half_life_days > 0):
        raise RankerError(f"half_life_days = {half_life_days!r}: must be a finite number > 0")
    whole = isinstance(history_slots, (int, np.integer)) and not isinstance(history_slots, bool)
    if not (whole and 1 <= history_slots <= 254):
        raise RankerError(f"history_slots = {history_slots!r}: must be a whole number in [1, 254]")


class FeatureStore:
    """Per-item and per-shopper aggregates of the event log, updated one day at a time.

    Items: all-time purchases, an exponentially decayed recent purchase count (``half_life_days``),
    impressions and clicks from slates. Shoppers: visits, orders, first/last visit and order day,
    spend, and a bounded history of their most-bought items (``history_slots`` per shopper via
    ``sim.slots``: item, count, last day bought; the lowest count, then the oldest, is evicted).
    """

    def __init__(
        self,
        catalog: PublicCatalog,
        *,
        half_life_days: float = 14.0,
        history_slots: int = 32,
        capacity: int = 1024,
    ):
        check_store_options(half_life_days, history_slots)
        self.catalog = catalog
        self.half_life_days = float(half_life_days)
        self.history_slots = int(history_slots)
        n = catalog.n_products
        self._item_aisle = np.asarray(catalog.aisle)
        self._aisle_range = _aisle_id_ranges(self._item_aisle, catalog.n_aisles)
        self.through_day = -1  # last day ingested; -1 before any data
        self.version = 0  # bumped by every ingest that changed something (caches built on the store compare it)
        self.item_purchases = np.zeros(n, np.int64)
        self.item_recent = np.zeros(n, np.float64)  # decayed purchase count as of ``through_day``
        self.item_impressions = np.zeros(n, np.int64)
        self.item_clicks = np.zeros(n, np.int64)
        self.n_shoppers = 0  # one more than the largest shopper id ingested
        self._cap = 0
        self._alloc(max(1, int(capacity)))
        self._scratch = np.zeros(0, np.uint8)

    # ------------------------------------------------------------------------------------------
    # storage

    def _alloc(self, cap: int) -> None:
        """Grow the per-shopper arrays to ``cap`` rows (+ one that stays empty), keeping their content."""
        h, old = self.history_slots, self._cap

        def grown(a: np.ndarray | None, fill: object, dtype: type, width: int = 0) -> np.ndarray:
            out = np.full((cap + 1, width) if width else cap + 1, fill, dtype)
            if old:
                out[:old] = a[:old]
            return out

        # explicit attributes (no getattr/setattr by computed name: rankers/ is scanned for those)
        first = not old
        self._n_visits = grown(None if first else self._n_visits, 0, np.int32)
        self._n_orders = grown(None if first else self._n_orders, 0, np.int32)
        self._first_visit = grown(None if first else self._first_visit, _NEVER, np.int32)
        self._last_visit = grown(None if first else self._last_visit, -1, np.int32)
        self._first_order = grown(None if first else self._first_order, _NEVER, np.int32)
        self._last_order = grown(None if first else self._last_order, -1, np.int32)
        self._spend = grown(None if first else self._spend, 0.0, np.float64)
        # bit (aisle % 64) of every aisle in the history slots
        self._aisle_bits = grown(None if first else self._aisle_bits, 0, np.uint64)
        self.hist_item = grown(None if first else self.hist_item, -1, np.int32, h)
        self.hist_count = grown(None if first else self.hist_count, 0, np.uint16, h)
        self.hist_last = grown(None if first else self.hist_last, -1, np.int32, h)
        self._cap = cap

    def _ensure(self, n: int) -> None:
        if n > self._cap:
            self._alloc(max(n, 2 * self._cap))

    # ------------------------------------------------------------------------------------------
    # ingest

    def ingest(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Add one day's tables (``{"slates": ..., "purchases": ..., "sessions": ...}``).

        Each table is a dict of numpy columns as in ``sim.eventlog``; a missing or empty table is
        skipped. Days must arrive in order: rows older than the last ingested day raise RankerError.
        """
        tables = {}
        for name, cols in _REQUIRED.items():
            t = day_log.get(name)
            if t is None:
                continue
            missing = [c for c in cols if c not in t]
            if missing:
                raise RankerError(f"day_log['{name}'] lacks column '{missing[0]}' (see sim.eventlog)")
            if len(t["day"]):
                tables[name] = t
        unknown = sorted(set(day_log) - set(_REQUIRED) - {"shoppers"})
        if unknown:
            raise RankerError(f"day_log has unknown table '{unknown[0]}'; expected slates, purchases, sessions")
        if not tables:
            return
        lo = min(int(np.min(t["day"])) for t in tables.values())
        hi = max(int(np.max(t["day"])) for t in tables.values())
        if lo < self.through_day:
            raise RankerError(
                f"day_log holds day {lo} but day {self.through_day} was already ingested: "
                "update() must follow day order"
            )
        self.version += 1
        self._decay_to(hi)
        if "purchases" in tables:
            self._ingest_purchases(tables["purchases"], hi)
        if "sessions" in tables:
            self._ingest_sessions(tables["sessions"])
        if "slates" in tables:
            self._ingest_slates(tables["slates"])
        self.through_day = hi

    def _decay_to(self, day: int) -> None:
        if self.through_day >= 0 and day > self.through_day:
            self.item_recent *= 0.5 ** ((day - self.through_day) / self.half_life_days)

    def _ingest_purchases(self, t: Mapping[str, np.ndarray], hi: int) -> None:
        n = self.catalog.n_products
        shopper = np.asarray(t["shopper_id"], np.int64)
        item = np.asarray(t["item_id"], np.int64)
        day = np.asarray(t["day"], np.int64)
        if item.min() < 0 or item.max() >= n:
            raise RankerError(f"day_log['purchases'] holds item ids outside [0, {n})")
        self._ensure(int(shopper.max()) + 1)
        self.n_shoppers = max(self.n_shoppers, int(shopper.max()) + 1)
        bought = np.bincount(item, minlength=n)
        self.item_purchases += bought
        if day.min() == hi:  # one day (the world's case): every weight is exactly 1.0
            self.item_recent += bought
        else:
            weight = 0.5 ** ((hi - day) / self.half_life_days)
            self.item_recent += np.bincount(item, weights=weight, minlength=n)
        self._admit(*_shopper_item_pairs(shopper, item, day, n))

    def _admit(self, rows: np.ndarray, items: np.ndarray, count: np.ndarray, last: np.ndarray) -> None:
        """Merge per (shopper, item) counts and last days (sorted by shopper) into the history slots."""
        first = np.ones(len(rows), bool)
        first[1:] = rows[1:] != rows[:-1]
        starts = np.flatnonzero(first)
        if np.diff(np.append(starts, len(rows))).max() > self.history_slots:
            # a shopper bought more distinct items than slots: admit the most bought, most recent
            order = np.lexsort((items, -last, -count, rows))
            rows, items, count, last = rows[order], items[order], count[order], last[order]
        urows = rows[starts]
        local = np.cumsum(first) - 1
        sub_item = np.take(self.hist_item, urows, axis=0)
        sub_count = np.take(self.hist_count, urows, axis=0).astype(np.int64)
        sub_last = np.take(self.hist_last, urows, axis=0).astype(np.int64)
        evict_score = sub_count.astype(np.float64) * 2.0**32 + (sub_last + 1)  # lowest count, then oldest
        # int32 items like the slots: the (lines x slots) comparison then needs no conversion
        slot, is_new = slots.assign(sub_item, evict_score, local, items.astype(np.int32))
        at = local * self.history_slots + slot  # flat index of each line's slot (where slot >= 0)
        flat_count, flat_last = sub_count.reshape(-1), sub_last.reshape(-1)
        flat_count[at[is_new]] = 0
        flat_last[at[is_new]] = -1
        ok = slot >= 0
        at, count, last = at[ok], count[ok], last[ok]
        flat_count[at] = np.minimum(np.take(flat_count, at) + count, _COUNT_MAX)
        flat_last[at] = np.maximum(np.take(flat_last, at), last)
        self.hist_item[urows] = sub_item
        self.hist_count[urows] = sub_count
        self.hist_last[urows] = sub_last
        self._aisle_bits[urows] = self._aisle_bits_of(sub_item)

    def _aisle_bits_of(self, held: np.ndarray) -> np.ndarray:
        """(R,) uint64: bit (aisle % 64) set for the aisle of every held item (R, H) (-1 empty)."""
        aisle = np.take(self._item_aisle, np.maximum(held, 0)).astype(np.uint64) & np.uint64(63)
        bits = np.where(held >= 0, np.uint64(1) << aisle, np.uint64(0))
        return np.bitwise_or.reduce(bits, axis=1)

    def _ingest_sessions(self, t: Mapping[str, np.ndarray]) -> None:
        shopper = np.asarray(t["shopper_id"], np.int64)
        day = np.asarray(t["day"], np.int32)
        self._ensure(int(shopper.max()) + 1)
        self.n_shoppers = max(self.n_shoppers, int(shopper.max()) + 1)
        np.add.at(self._n_visits, shopper, 1)
        np.minimum.at(self._first_visit, shopper, day)
        np.maximum.at(self._last_visit, shopper, day)
        order = np.asarray(t["n_lines"]) > 0
        s, d = shopper[order], day[order]
        np.add.at(self._n_orders, s, 1)
        np.add.at(self._spend, s, np.asarray(t["gtv"], np.float64)[order])
        np.minimum.at(self._first_order, s, d)
        np.maximum.at(self._last_order, s, d)

    def _ingest_slates(self, t: Mapping[str, np.ndarray]) -> None:
        n = self.catalog.n_products
        slate = np.asarray(t["slate"])
        if slate.size and slate.max() >= n:
            raise RankerError(f"day_log['slates'] holds item ids >= {n}")
        # empty places (any negative id) count at index 0, which is dropped: no masked copy
        self.item_impressions += np.bincount((np.maximum(slate, -1) + 1).reshape(-1), minlength=n + 1)[1:]
        shown = slate >= 0
        if "clicked" in t:
            clicked = np.asarray(t["clicked"], bool)[:, : slate.shape[1]] & shown
            self.item_clicks += np.bincount(slate[clicked].astype(np.int64), minlength=n)

    # ------------------------------------------------------------------------------------------
    # items

    def recent_purchases(self, day: int | None = None) -> np.ndarray:
        """(N,) decayed purchase counts as of ``day`` (default: the last ingested day)."""
        if day is None or self.through_day < 0 or day <= self.through_day:
            return self.item_recent.copy()
        return self.item_recent * 0.5 ** ((day - self.through_day) / self.half_life_days)

    def ctr(self) -> np.ndarray:
        """(N,) clicks per impression, shrunk towards the global CTR (0.05 before any data)."""
        imp = self.item_impressions.sum()
        prior = self.item_clicks.sum() / imp if imp else 0.05
        return (self.item_clicks + CTR_PRIOR_WEIGHT * prior) / (self.item_impressions + CTR_PRIOR_WEIGHT)

    def item_features(self, day: int | None = None) -> np.ndarray:
        """(N, F) float32: public attributes, then popularity and CTR (``ITEM_FEATURE_NAMES``)."""
        public = self.catalog.features()
        logged = np.column_stack(
            [
                np.log1p(self.item_purchases),
                np.log1p(self.recent_purchases(day)),
                np.log1p(self.item_impressions),
                self.ctr(),
            ]
        )
        return np.concatenate([public, logged.astype(np.float32)], axis=1)

    # ------------------------------------------------------------------------------------------
    # shoppers

    def _rows(self, shopper_ids: np.ndarray) -> np.ndarray:
        """Row of each shopper for lookups: ids never ingested read the always-empty last row."""
        ids = np.asarray(shopper_ids, np.int64)
        if len(ids) and ids.min() < 0:
            raise RankerError("shopper ids must be >= 0")
        return np.minimum(ids, self._cap)

    def shopper_features(self, shopper_ids: np.ndarray, day: int) -> np.ndarray:
        """(B, F) float32 observable shopper features as of ``day`` (``SHOPPER_FEATURE_NAMES``).

        Recency (days since last visit), frequency (orders), monetary (total spend and average
        order value), tenure (days since the first visit); "days since" features are capped at
        ``DAYS_CAP``, which is also their value for a shopper never seen or never ordering.
        """
        ids = self._rows(shopper_ids)
        n_orders = self._n_orders[ids].astype(np.float64)
        spend = self._spend[ids]
        first_visit = self._first_visit[ids]
        last_visit = self._last_visit[ids]
        last_order = self._last_order[ids]
        seen = last_visit >= 0
        ordered = last_order >= 0
        tenure = np.where(seen, day - np.where(seen, first_visit, day), 0)
        since_visit = np.where(seen, day - last_visit, DAYS_CAP)
        since_order = np.where(ordered, day - last_order, DAYS_CAP)
        return np.column_stack(
            [
                n_orders,
                self._n_visits[ids],
                spend,
                np.where(ordered, spend / np.maximum(n_orders, 1), 0.0),
                tenure,
                np.minimum(since_visit, DAYS_CAP),
                np.minimum(since_order, DAYS_CAP),
                ordered,
            ]
        ).astype(np.float32)

    def first_order_day(self, shopper_ids: np.ndarray) -> np.ndarray:
        """(B,) first order day, -1 for shoppers who never ordered."""
        d = self._first_order[self._rows(shopper_ids)]
        return np.where(d == _NEVER, -1, d)

    def last_order_day(self, shopper_ids: np.ndarray) -> np.ndarray:
        """(B,) last order day, -1 for shoppers who never ordered."""
        return self._last_order[self._rows(shopper_ids)].copy()

    def n_orders(self, shopper_ids: np.ndarray) -> np.ndarray:
        """(B,) number of orders (visits with at least one line)."""
        return self._n_orders[self._rows(shopper_ids)].copy()

    def total_spend(self, shopper_ids: np.ndarray) -> np.ndarray:
        """(B,) gross spend over all orders."""
        return self._spend[self._rows(shopper_ids)].copy()

    def history(self, shopper_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The shoppers' history slots (B, H): item (-1 empty), purchase count, last day bought."""
        ids = self._rows(shopper_ids)
        return self.hist_item[ids], self.hist_count[ids].astype(np.int32), self.hist_last[ids]

    # ------------------------------------------------------------------------------------------
    # (shopper, candidate) pairs

    def pair_history(
        self, shopper_ids: np.ndarray, candidates: np.ndarray, aisle: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """How often shopper b bought ``candidates[b, c]`` and the last day: (B, C) int32 each.

        Items outside the shopper's history slots (and padding) read 0 purchases, last day -1.
        See ``pair_history_sparse`` for ``aisle``.
        """
        b, c = np.shape(candidates)
        row, col, count, last = self.pair_history_sparse(shopper_ids, candidates, aisle)
        out_count = np.zeros(b * c, np.int32)
        out_last = np.full(b * c, -1, np.int32)
        at = row * c + col
        out_count[at] = count
        out_last[at] = last
        return out_count.reshape(b, c), out_last.reshape(b, c)

    def pair_history_sparse(
        self, shopper_ids: np.ndarray, candidates: np.ndarray, aisle: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The (row, column) of every candidate the row's shopper bought before, with count and last day.

        ``aisle`` (B,) tells that every candidate of row b lies in aisle ``aisle[b]`` (a search over
        an aisle's shelf; -1 for rows without that promise): only the shopper's items of that
        aisle are then looked up, which makes search rows cheap. Other rows use a (rows x items)
        scratch map. Cost at 50,000 search rows x 48 candidates: see benchmarks/bench_rankers.py.
        """
        ids = self._rows(shopper_ids)
        cands = np.asarray(candidates)
        h = self.history_slots
        held = np.take(self.hist_item, ids, axis=0)  # (B, H)
        if aisle is None:
            row_b, col, slot = self._locate_scratch(held, cands)
        else:
            aisle = np.asarray(aisle)
            free = aisle < 0
            row_b, slot, items = self._aisle_slots(held, aisle)
            col = self._locate_in_rows(row_b, items, cands)
            if free.any():
                fr = np.flatnonzero(free)
                r2, c2, s2 = self._locate_scratch(held[fr], cands[fr])
                row_b = np.concatenate([row_b, fr[r2]])
                col = np.concatenate([col, c2])
                slot = np.concatenate([slot, s2])
            found = col >= 0
            row_b, col, slot = row_b[found], col[found], slot[found]
        flat_slot = ids[row_b] * h + slot
        count = np.take(self.hist_count.reshape(-1), flat_slot).astype(np.int32)
        last = np.take(self.hist_last.reshape(-1), flat_slot)
        return row_b, col, count, last

    def aisle_history(self, shopper_ids: np.ndarray, aisle: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every history slot of row b's shopper holding an item of aisle ``aisle[b]``, row by row.

        Returns (row, item, slot), each (L,), ``slot`` a flat index for ``slot_history``; rows
        whose aisle is out of range (e.g. -1) hold none. Within a row, entries follow slot order.
        """
        ids = self._rows(shopper_ids)
        aisle = np.asarray(aisle)
        # read only the histories that may hold the aisle (a 64-bit summary per shopper rules out most)
        bit = (aisle.astype(np.int64) & 63).astype(np.uint64)
        rows = np.flatnonzero(((np.take(self._aisle_bits, ids) >> bit) & np.uint64(1)) != 0)
        held = np.take(self.hist_item, ids[rows], axis=0)  # (R, H)
        row, slot, item = self._aisle_slots(held, aisle[rows])
        row = rows[row]
        return row, item, np.take(ids, row) * self.history_slots + slot

    def slot_history(self, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Purchase count (int32) and last day bought of history slots given as flat indices."""
        count = np.take(self.hist_count.reshape(-1), slot).astype(np.int32)
        return count, np.take(self.hist_last.reshape(-1), slot)

    def _aisle_slots(self, held: np.ndarray, aisle: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, slot, item) of the held items (B, H) that lie in their row's aisle, row-major."""
        n_aisles = self.catalog.n_aisles
        q = np.where((aisle >= 0) & (aisle < n_aisles), aisle, n_aisles).astype(np.intp)  # n_aisles: none
        if self._aisle_range is not None:  # two comparisons per slot instead of a lookup
            lo, hi = self._aisle_range
            m = held >= np.take(lo, q)[:, None]
            m &= held < np.take(hi, q)[:, None]
        else:
            m = np.take(self._item_aisle, held) == q[:, None]  # -1 reads the last item: masked
            m &= held >= 0
        idx = np.flatnonzero(m)
        h = self.history_slots
        return idx // h, idx % h, np.take(held, idx)

    def _locate_in_rows(self, row_b: np.ndarray, items: np.ndarray, cands: np.ndarray) -> np.ndarray:
        """Column of ``items[l]`` in ``cands[row_b[l]]`` (-1 if absent); shelf position first."""
        c = cands.shape[1]
        col = np.take(self.catalog.shelf_pos, items).astype(np.int64)
        ok = col < c
        ok[ok] = cands[row_b[ok], col[ok]] == items[ok]
        miss = np.flatnonzero(~ok)
        col[miss] = -1
        if len(miss):  # candidates not laid out as the shelf: compare against the row
            eq = cands[row_b[miss]] == items[miss, None]
            col[miss] = np.where(eq.any(axis=1), eq.argmax(axis=1), -1)
        return col

    def _locate_scratch(self, held: np.ndarray, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, slot) of every candidate found in its row's history slots.

        A (G x N) uint8 map of slot+1 per (row, item) is filled for G rows at a time, read at the
        candidates and cleared again, so the cost is linear in B x (H + C).
        """
        n = self.catalog.n_products
        b = held.shape[0]
        g = max(1, min(b, _SCRATCH_CELLS // max(n, 1)))
        sink, zero = g * n, g * n + 1  # padding (-1) writes to the sink and reads the cell that stays 0
        if len(self._scratch) < g * n + 2:
            self._scratch = np.zeros(g * n + 2, np.uint8)
        buf = self._scratch
        slot_no = np.arange(1, held.shape[1] + 1, dtype=np.uint8)
        out_r, out_c, out_s = [], [], []
        for start in range(0, b, g):
            hb = held[start : start + g]
            cb = cands[start : start + g]
            off = (np.arange(len(hb), dtype=np.int64) * n)[:, None]
            at = np.where(hb >= 0, hb + off, sink)
            buf[at] = slot_no
            got = np.take(buf, np.where(cb >= 0, cb + off, zero))
            buf[at] = 0
            idx = np.flatnonzero(got != 0)  # on a bool array: 5x faster than on the uint8 one
            out_r.append(idx // cb.shape[1] + start)
            out_c.append(idx % cb.shape[1])
            out_s.append(got.reshape(-1)[idx].astype(np.int64) - 1)
        if not out_r:
            e = np.zeros(0, np.int64)
            return e, e, e
        return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_s)
