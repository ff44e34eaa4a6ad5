"""Baseline rankers: random, popularity, buy-again and myopic margin-greedy."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.rankers import ads, own_first, shelf
from basketgym.rankers.base import BaseRanker, ScoringRanker
from basketgym.rankers.exploration import row_counters, uniform_prefix

_NEG_INF = np.float32(-np.inf)


class RandomRanker(BaseRanker):
    """Uniformly random order of the placeable candidates, with exact placement propensities.

    The organic order of a row is a pure function of (seed, shopper, day, surface, query) and the
    candidate item ids: it does not depend on the batch the row comes in, nor on the columns the
    items sit in.

    Ads: the standard auction ranks ad-eligible candidates by bid x pCTR, with a rank-based pCTR.
    Under a uniformly random organic order every candidate has the same expected rank, so the
    auction reduces to the highest bids (ties: lower column), placed at ``request.ad_positions``.
    This keeps ads deterministic and every propensity exact: 1.0 for a sponsored placement, and
    ``1 / (n - a)`` for an organic one, where n is the row's placeable candidates and a its ads.
    """

    name = "random"

    def rank(self, request: RankRequest) -> RankResponse:
        """Random slates; see the class docstring for ads and propensities."""
        self.check_request(request)
        return shelf.answer(request, self.shelf.match(request), self.rank_shelf_rows, self.rank_general)

    def rank_general(self, request: RankRequest) -> RankResponse:
        """``rank`` for any rows."""
        self.check_request(request)
        b, c = request.candidates.shape
        if b == 0 or c == 0 or request.slate_size == 0:
            return self.empty_response(request)
        ok, n_ok, ad_cols, positions = self._placeable_and_ads(request)
        keys = self.random_keys(request, self.key_tails(ok, ad_cols))
        return self.slates(request, keys, n_ok, ad_cols, positions)

    def rank_shelf_rows(self, request: RankRequest) -> RankResponse:
        """Rows that are their query's shelf row: all but the random bits from a per-aisle table.

        The table holds each aisle's key tails, ads and counters: the counters of the masked shelf
        row serve an unmasked one too, as they differ only where a candidate cannot be placed, and
        such keys never reach the slate.
        """
        if request.slate_size == 0:
            return self.empty_response(request)
        table = self._tables.get(self.table_key(request), lambda: self._shelf_table(request))
        q = np.asarray(request.query, np.intp)
        tails, n_ok, ad_cols, positions, counters = table
        keys = self.random_keys(request, np.take(tails, q, axis=0), np.take(counters, q, axis=0))
        ad_cols = None if ad_cols is None else np.take(ad_cols, q, axis=0)
        return self.slates(request, keys, np.take(n_ok, q), ad_cols, positions)

    def _placeable_and_ads(self, request: RankRequest) -> tuple:
        """Placeable mask, its row counts, and the sponsored columns and positions of the request."""
        try:
            ok = self.placeable(request)
            n_ok = np.add.reduce(ok, axis=1, dtype=np.int32)
            ad_cols, positions = self.random_ads(request, n_ok)
        finally:
            self.forget_request()
        return ok, n_ok, ad_cols, positions

    def _shelf_table(self, request: RankRequest) -> tuple:
        rows, _ = self.shelf.rows(request.candidates.shape[1])
        table = shelf.table_request(request, rows)
        ok, n_ok, ad_cols, positions = self._placeable_and_ads(table)
        return self.key_tails(ok, ad_cols), n_ok, ad_cols, positions, self.counters(table)

    def slates(
        self,
        request: RankRequest,
        keys: np.ndarray,
        n_ok: np.ndarray,
        ad_cols: np.ndarray | None,
        positions: np.ndarray,
    ) -> RankResponse:
        """The response, given the rows' sort keys, placeable counts and ads (see ``random_ads``)."""
        c, k = request.candidates.shape[1], request.slate_size
        keys.sort(axis=1)
        col_bits = np.uint64(max(1, int(c - 1).bit_length()))
        organic = keys[:, : min(c, k)] & ((np.uint64(1) << col_bits) - np.uint64(1))
        cols, is_ad = ads.assemble(organic.astype(np.int64), n_ok, ad_cols, positions, k)
        n_organic = n_ok - is_ad.sum(axis=1)
        propensity = np.where(is_ad, 1.0, 1.0 / np.maximum(n_organic, 1)[:, None])
        resp = self.response(request, cols, is_ad, propensity)
        return dataclasses.replace(resp, prefix_propensity=uniform_prefix(resp.slate >= 0, resp.sponsored, n_organic))

    def random_ads(self, request: RankRequest, n_ok: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Ad columns (B, n) (-1 none; None when no row has one) and the positions they go to.

        The highest bids, placed where the position exists in the row; not random, so for shelf
        rows they come from a per-aisle table.
        """
        k = request.slate_size
        positions = ads.ad_slots(request.ad_positions, k, request.max_sponsored)
        if len(positions) == 0:
            return None, positions
        bid = self.ad_bids(request)
        if not bid.any():
            return None, positions
        return ads.used_ads(ads.pick_best(bid, len(positions))[0], positions, n_ok, k), positions

    @staticmethod
    def key_tails(ok: np.ndarray, ad_cols: np.ndarray | None) -> np.ndarray:
        """(B, C) uint64 low bits of the sort keys: the column, and the top bit for what sorts last.

        Candidates that cannot be placed sort last, and so do the ads: they leave the organic
        order, so the rest is a uniform permutation of the others.
        """
        b, c = ok.shape
        tails = (~ok).astype(np.uint64) << np.uint64(63)
        tails |= np.arange(c, dtype=np.uint64)
        if ad_cols is not None:
            r, i = np.nonzero(ad_cols >= 0)
            tails[r, ad_cols[r, i]] |= np.uint64(1) << np.uint64(63)
        return tails

    @staticmethod
    def counters(request: RankRequest) -> np.ndarray:
        """(B, C) uint64 counters of the random words: (surface, query) in the high half, the item id low."""
        return row_counters(request)

    def random_keys(self, request: RankRequest, tails: np.ndarray, counters: np.ndarray | None = None) -> np.ndarray:
        """(B, C) uint64 sort keys: random bits per (row, item) above the ``key_tails``."""
        c = request.candidates.shape[1]
        col_bits = np.uint64(max(1, int(c - 1).bit_length()))
        if counters is None:
            counters = self.counters(request)
        w = rng.words(self.seed, Purpose.RANKER, request.shopper_ids, request.day, counters)
        w >>= np.uint64(1) + col_bits  # top bit clear: placeable keys sort before the others
        w <<= col_bits
        w |= tails
        return w


class _PopularityTable:
    """Global popularity order as a score in (-1, 0): recent purchases, lower price, lower id."""

    def __init__(self) -> None:
        self.score = np.zeros(0, np.float32)
        self._price = np.zeros(0, np.float32)

    def refresh(self, recent: np.ndarray, price: np.ndarray) -> None:
        n = len(recent)
        order = np.lexsort((np.arange(n), price, -recent))
        self.score = np.empty(n, np.float32)
        self.score[order] = -(np.arange(n) + 1.0) / (n + 1.0)
        self._price = np.array(price, copy=True)

    def stale(self, price: np.ndarray) -> bool:
        return not np.array_equal(price, self._price)


class PopularityRanker(ScoringRanker):
    """Items ordered by their decayed purchase count (half-life 14 days), the same for everyone.

    Cold start and ties: the lower current price first, then the lower item id. The order is
    recomputed after each ``update`` and whenever a price changed since. The same for everyone:
    search rows that are shelf rows are answered from a per-aisle table.
    """

    name = "popularity"

    candidate_row_only = True

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a world with no purchases: cheapest first."""
        super().reset(catalog, seed)
        self._popularity = _PopularityTable()
        self._popularity.refresh(self.features.item_recent, catalog.price)

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Ingest the day and recompute the popularity order."""
        super().update(day_log)
        self._popularity.refresh(self.features.item_recent, self.catalog.price)

    def popularity(self) -> np.ndarray:
        """(N,) float32 popularity score in (-1, 0), higher is more popular."""
        if self._popularity.stale(self.catalog.price):
            self._popularity.refresh(self.features.item_recent, self.catalog.price)
        return self._popularity.score

    def score(self, request: RankRequest) -> np.ndarray:
        """Popularity of each candidate."""
        return self.item_values(request, self.popularity(), _NEG_INF)


class BuyAgainRanker(PopularityRanker):
    """The shopper's own purchases first (most bought, then most recent), then popularity.

    Score of an item bought before: ``1 + count + (last_day + 1) / (day + 2)`` (> 1; the fraction
    breaks count ties by recency); of an item never bought (or evicted from the shopper's 32 history
    slots): its popularity score in (-1, 0).
    """

    name = "buy_again"

    def rank(self, request: RankRequest) -> RankResponse:
        """Search rows that are shelf rows by merging own items into the aisle's popularity order."""
        self.check_request(request)
        return shelf.answer(request, self.shelf.match(request), self.rank_shelf_rows, self.rank_general)

    def rank_shelf_rows(self, request: RankRequest) -> RankResponse:
        """Rows that are their query's shelf row (see ``rankers.own_first``)."""

        def build() -> own_first.AisleOrder:
            return own_first.aisle_order(self, request, self.popularity_score)

        return own_first.rank_shelf_rows(self, request, self._tables.get(self.table_key(request), build))

    def popularity_score(self, request: RankRequest) -> np.ndarray:
        """Popularity of each candidate (the score of items never bought)."""
        return super().score(request)

    def score(self, request: RankRequest) -> np.ndarray:
        """Own purchase counts, recency, then popularity."""
        s = self.item_values(request, self.popularity(), _NEG_INF)
        row, col, count, last = self.features.pair_history_sparse(
            request.shopper_ids, request.candidates, self.aisle_of_rows(request)
        )
        at = row * s.shape[1] + col
        own = 1.0 + count + (last + 1.0) / (request.day + 2.0)
        flat = s.reshape(-1)
        flat[at] = np.where(flat[at] > _NEG_INF, own, _NEG_INF)  # unavailable stays -inf
        return s


class MarginGreedyRanker(ScoringRanker):
    """Myopic revenue: sponsored slots at the top, then the highest margin per unit.

    It ignores the standard auction: the first ``min(max_sponsored, K)`` positions go to the
    ad-eligible candidates with the highest bids (ties: higher margin, then lower column); the rest
    of the slate is ordered by ``price x margin_rate`` (current price). The same for everyone:
    search rows that are shelf rows are answered from a per-aisle table.
    """

    name = "margin_greedy"

    candidate_row_only = True

    def _margin(self) -> np.ndarray:
        return (self.catalog.price * self.catalog.margin_rate).astype(np.float32)

    def score(self, request: RankRequest) -> np.ndarray:
        """Margin per unit of each candidate."""
        return self.item_values(request, self._margin(), _NEG_INF)

    def fixed_ads(self, request: RankRequest, n_ok: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Highest bids at the top of the slate."""
        positions = np.arange(min(max(0, request.max_sponsored), request.slate_size), dtype=np.int64)
        if len(positions) == 0 or not self._ad_bid.any():
            return None, positions
        # bid, then margin: a relative nudge below half a float32 ulp never reorders distinct bids
        margin = self._margin().astype(np.float64)
        nudge = margin / max(float(margin.max()), 1e-12) * 2.0**-25
        value = self._ad_bid * (1.0 + nudge)  # float64
        bid = self.item_values(request, value, 0.0)
        if self._current(request).repeats:
            bid *= self.placeable(request)
        if not bid.any():
            return None, positions
        pick, _ = ads.pick_best(bid, len(positions), overwrite=True)
        return pick, positions
