"""What the Shopper envs' policy observes of each slot: public candidate features on the visit's day, the shopper's log.

Candidate features are pre-built once per (market epoch, item) and per (epoch, aisle shelf), so an
observation is block copies rather than one gather per candidate; ``bought_before`` comes from one
bit per (slot, product). Nothing here reads hidden state: prices, stock and the platform's log only.
"""

from __future__ import annotations

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.sim.market import Market

SHOPPER_FEATURES = ("days_since_last_order", "orders", "spend", "tenure", "basket_size", "day_fraction")
CANDIDATE_FEATURES = (*PublicCatalog.FEATURE_NAMES, "bought_before")
FEATURE_BOUND = 100.0  # observation features are clipped to [-100, 100]


class SlotFeatures:
    """Observation features of N slots: candidate blocks by epoch, what each slot's shopper bought, their log."""

    def __init__(self, public: PublicCatalog, market: Market, n_slots: int, n_candidates: int, days: int):
        n, c, f = n_slots, n_candidates, len(CANDIDATE_FEATURES)
        self.n_products, self.n_aisles, self.days = public.n_products, public.n_aisles, days
        self.rows = _epoch_features(public, market)  # (E * P + 1, F) features by epoch and item, zero row last
        self.zero_row = len(self.rows) - 1
        self.home = np.zeros((n, c, f), np.float32)  # each slot's home candidates, built when its visit starts
        self.shelf = self._shelf_blocks(market, c)  # (E, A, C, F)
        e, a = self.shelf.shape[:2]
        self.shelf_flat = np.concatenate(  # (E * A + 1, C, F): block e * A + a, zero block last
            [self.shelf.reshape(e * a, c, f), np.zeros((1, c, f), np.float32)]
        )
        self.zero_block = e * a
        # what each slot's shopper has bought, one bit per product (bit P: padding, always 0); bits
        # rather than bytes keep the per-step lookups in cache
        self.bought_bits = np.zeros((n, self.n_products // 8 + 1), np.uint8)
        self.shopper = np.zeros((n, len(SHOPPER_FEATURES)), np.float32)

    def forget(self, slots: np.ndarray) -> None:
        """New lives in ``slots``: nothing bought yet."""
        self.bought_bits[slots] = 0

    def record_purchases(self, slots: np.ndarray, items: np.ndarray) -> None:
        """Slot ``slots[i]``'s shopper bought ``items[i]``."""
        items = items.astype(np.int64)
        np.bitwise_or.at(self.bought_bits, (slots, items >> 3), (1 << (items & 7)).astype(np.uint8))

    def bought_flags(self, slots: np.ndarray, cands: np.ndarray) -> np.ndarray:
        """(n, C) whether each slot's shopper bought each candidate before (0 for padding)."""
        item = np.where(cands >= 0, cands, self.n_products)
        byte = self.bought_bits[slots[:, None], item >> 3]
        return (byte >> (item & 7).astype(np.uint8)) & np.uint8(1)

    def set_home(self, slots: np.ndarray, ep: np.ndarray, cands: np.ndarray) -> None:
        """The features of ``slots``' home candidates: prices of their epochs ``ep``, what the shopper bought so far."""
        idx = ep[:, None] * self.n_products + cands
        idx[cands < 0] = self.zero_row
        block = self.rows.take(idx, axis=0)
        block[..., -1] = self.bought_flags(slots, cands)
        self.home[slots, : cands.shape[1]] = block

    def search_one(self, ep: int, query: int, cands: np.ndarray) -> np.ndarray:
        """(1, C, F) the features of slot 0's search candidates (one life: scalars)."""
        out = self.shelf[ep, query][None].copy()
        out[0, :, -1] = self.bought_flags(np.zeros(1, np.int64), cands)[0]
        return out

    def gather(
        self, home: np.ndarray, at_search: np.ndarray, ep: np.ndarray, query: np.ndarray, cands: np.ndarray
    ) -> np.ndarray:
        """(N, C, F) for every slot: ``home`` slots their visit's block, ``at_search`` ones their shelf's, others zeros.

        One gather builds the whole array: search rows take their (epoch, aisle) block, the others
        the all-zero block at the end; home rows are then overwritten with their visit's block.
        """
        search = np.flatnonzero(at_search)
        block = np.where(at_search, ep * self.n_aisles + query, self.zero_block)
        out = self.shelf_flat.take(block, axis=0)
        out[home] = self.home[home]
        out[search, :, -1] = self.bought_flags(search, cands[search])
        return out

    def update_shopper(
        self, slots: np.ndarray, day: np.ndarray, last_order: np.ndarray, orders: np.ndarray, spend: np.ndarray,
        lines: np.ndarray,
    ) -> None:  # fmt: skip
        """Refresh the log features of ``slots`` (they change only at a checkout or a new life)."""
        day = np.minimum(day, self.days).astype(np.float64)
        out = self.shopper
        out[slots, 0] = np.where(last_order >= 0, (day - last_order) / 30.0, 0.0)
        out[slots, 1] = orders / 10.0
        out[slots, 2] = spend / 1000.0
        out[slots, 3] = day / 180.0
        out[slots, 4] = lines / np.maximum(orders, 1) / 10.0
        out[slots, 5] = day / self.days
        out[slots] = np.clip(out[slots], 0.0, FEATURE_BOUND)

    def _shelf_blocks(self, market: Market, n_candidates: int) -> np.ndarray:
        """(E, A, C, F) features of every aisle's search shelf in every epoch (unavailable items: zeros)."""
        shelf = market.search_shelf  # (E, A, W)
        idx = np.arange(market.epochs)[:, None, None] * self.n_products + shelf
        idx[shelf < 0] = self.zero_row
        out = np.zeros((*shelf.shape[:2], n_candidates, len(CANDIDATE_FEATURES)), np.float32)
        out[:, :, : shelf.shape[2]] = self.rows.take(idx, axis=0)
        return out


def _epoch_features(public: PublicCatalog, market: Market) -> np.ndarray:
    """(E * P + 1, F) public features of every item in every epoch, clipped; ``bought_before`` 0; a zero row last."""
    saved = public.price.copy()
    out = []
    for e in range(market.epochs):
        public.price[:] = market.price[e]
        out.append(public.features())
    public.price[:] = saved
    rows = np.clip(np.concatenate(out), -FEATURE_BOUND, FEATURE_BOUND)
    # one more column for ``bought_before`` (filled per request), one zero row for padding
    return np.concatenate([np.pad(rows, ((0, 1), (0, 1)))]).astype(np.float32)
