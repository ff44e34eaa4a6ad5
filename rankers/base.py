"""Base classes of rankers: feature-store bookkeeping; top-K + ad auction for scoring rankers."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_NAMES, SURFACE_SEARCH, RankRequest, RankResponse
from basketgym.rankers import ads, shelf, topk
from basketgym.rankers.candidates import candidate_index, item_table, lookup, placeable
from basketgym.rankers.features import FeatureStore, check_store_options

_LOWEST = np.float32(np.finfo(np.float32).min)


@dataclass
class _RequestCache:
    """What ``rank`` derives once from the request it is serving."""

    request: RankRequest
    index: np.ndarray  # candidate_index of the candidates
    ok: np.ndarray  # placeable mask
    repeats: bool  # some row repeats an id


# a scoring function: (B, C) float32 scores of a request's candidates
Score = Callable[[RankRequest], np.ndarray]
# ad columns (B, n) or None, their slate positions (n,), their ranks in the organic order or None
AdPicks = tuple[np.ndarray | None, np.ndarray, np.ndarray | None]


class BaseRanker(abc.ABC):
    """A ranker keeping a ``FeatureStore`` of the logs it is fed; ``fit`` does nothing by default.

    Arguments: ``half_life_days`` of the store's recent popularity, ``history_slots`` per shopper.
    ``reset(catalog, seed)`` starts a world; ``update(day_log)`` ingests a finished day (its
    ``slates``, ``purchases`` and ``sessions`` tables); ``rank`` refuses a request for a day whose
    logs were already ingested (that would leak the future into the slate).
    """

    name: str = "base"

    def __init__(self, *, half_life_days: float = 14.0, history_slots: int = 32):
        check_store_options(half_life_days, history_slots)  # at construction: a scenario check refuses bad options
        self.half_life_days = half_life_days
        self.history_slots = history_slots
        self.seed = 0
        self._catalog: PublicCatalog | None = None
        self._features: FeatureStore | None = None
        self._shelf: shelf.ShelfRows | None = None

    @property
    def catalog(self) -> PublicCatalog:
        """The public catalog of the current world."""
        if self._catalog is None:
            raise RankerError(f"ranker '{self.name}': call reset(catalog, seed) first")
        return self._catalog

    @property
    def features(self) -> FeatureStore:
        """The feature store of the current world."""
        if self._features is None:
            raise RankerError(f"ranker '{self.name}': call reset(catalog, seed) first")
        return self._features

    @property
    def shelf(self) -> shelf.ShelfRows:
        """The current world's shelf rows, to recognise search rows that are shelf rows."""
        if self._shelf is None:
            raise RankerError(f"ranker '{self.name}': call reset(catalog, seed) first")
        return self._shelf

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Start a new world: forget all logs."""
        self._catalog = catalog
        self.seed = int(seed)
        self._features = FeatureStore(catalog, half_life_days=self.half_life_days, history_slots=self.history_slots)
        self._ad_bid = np.where(catalog.ad_eligible, catalog.bid, 0.0).astype(np.float32)
        self._shelf = shelf.ShelfRows(catalog)
        self._live = (shelf.Watched(lambda: catalog.price), shelf.Watched(lambda: catalog.margin_rate))
        self._tables = shelf.Cached()

    def fit_seed(self, day: int) -> int:
        """A seed for a model fitted on ``day`` (LightGBM and torch want a small int; the ranker seed is 63-bit)."""
        return (self.seed % 1_000_003) * 1_000 + int(day)

    def state_version(self) -> tuple[int, ...]:
        """Versions of what answers may depend on besides the request: logs, availability, prices.

        A per-aisle table built for one state is reused while this tuple stays the same. Costs
        O(N) (a comparison of each live array with a copy).
        """
        return (self.features.version, self.shelf.version, *(w.look() for w in self._live))

    def table_key(self, request: RankRequest) -> tuple:
        """What a per-aisle table for ``request`` depends on: the ranker's state, C and the slate settings."""
        width = request.candidates.shape[1]
        return (self.state_version(), width, request.slate_size, tuple(request.ad_positions), request.max_sponsored)

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Ingest one finished day's tables into the feature store."""
        self.features.ingest(day_log)

    def fit(self, day: int) -> None:  # noqa: B027 - a deliberate no-op default, not an abstract hook
        """Refit on the scenario's cadence; static rankers have nothing to fit."""

    @abc.abstractmethod
    def rank(self, request: RankRequest) -> RankResponse:
        """Slates for a batch of requests."""

    # ------------------------------------------------------------------------------------------
    # helpers for subclasses

    def check_request(self, request: RankRequest) -> None:
        """Raise RankerError on a malformed request or one that would see its own day's logs."""
        c = request.candidates
        b = request.batch_size
        if c.ndim != 2 or c.shape[0] != b or len(request.query) != b:
            raise RankerError(
                f"ranker '{self.name}': request has {b} shoppers, query {np.shape(request.query)}, "
                f"candidates {c.shape}; expected (B,) and (B, C)"
            )
        if request.slate_size < 0:
            raise RankerError(f"ranker '{self.name}': slate_size = {request.slate_size}: must be >= 0")
        through = self.features.through_day
        if request.day <= through:
            raise RankerError(
                f"ranker '{self.name}': ranking day {request.day} with logs through day {through} "
                "already ingested (not point-in-time); call update() only after a day ends"
            )

    def _current(self, request: RankRequest) -> _RequestCache:
        cache = getattr(self, "_cache", None)
        if cache is None or cache.request is not request:
            index = candidate_index(request.candidates, self.catalog.n_products)
            ok, repeats = placeable(request.candidates, index, self.catalog.available)
            cache = self._cache = _RequestCache(request, index, ok, repeats)
        return cache

    def placeable(self, request: RankRequest) -> np.ndarray:
        """(B, C) mask of placeable candidates (real, available, first in row); cached."""
        return self._current(request).ok

    def forget_request(self) -> None:
        """Drop what was cached for the current request (call when ``rank`` returns)."""
        self._cache = None

    def item_values(self, request: RankRequest, values: np.ndarray, fill: float) -> np.ndarray:
        """(B, C) per-item ``values`` at the candidates; ``fill`` for padding and unavailable items."""
        table = item_table(values, self.catalog.available, fill)
        return lookup(table, self._current(request).index)

    def ad_bids(self, request: RankRequest) -> np.ndarray:
        """(B, C) float32 bid of each placeable ad-eligible candidate, 0 elsewhere."""
        bid = self.item_values(request, self._ad_bid, 0.0)
        cache = self._current(request)
        if cache.repeats:
            bid *= cache.ok  # only the first occurrence of a repeated id may be sponsored
        return bid

    @staticmethod
    def aisle_of_rows(request: RankRequest) -> np.ndarray | None:
        """The query aisle of each row when every candidate comes from it (search), else None."""
        return np.asarray(request.query) if request.surface == SURFACE_SEARCH else None

    @staticmethod
    def response(
        request: RankRequest,
        cols: np.ndarray,
        sponsored: np.ndarray,
        propensity: np.ndarray | None = None,
    ) -> RankResponse:
        """Slate columns (B, K) (-1 empty) -> response; propensity defaults to 1.0 where placed."""
        placed = cols >= 0
        b, c = request.candidates.shape
        flat = np.maximum(cols, 0) + (np.arange(b, dtype=np.int64) * c)[:, None]
        items = np.take(request.candidates.reshape(-1), flat)
        slate = np.where(placed, items, -1).astype(np.int32)
        if propensity is None:
            prop = placed.astype(np.float32)
        else:
            prop = np.where(placed, propensity, 0.0).astype(np.float32)
        return RankResponse(slate=slate, propensity=prop, sponsored=sponsored & placed)

    @staticmethod
    def empty_response(request: RankRequest) -> RankResponse:
        """All-empty slates (no candidates, or K = 0)."""
        shape = (request.batch_size, request.slate_size)
        return RankResponse(np.full(shape, -1, np.int32), np.zeros(shape, np.float32), np.zeros(shape, bool))


class ScoringRanker(BaseRanker):
    """A deterministic ranker defined by ``score``: ``rank`` = top-K per row + the standard auction.

    Subclasses implement ``score(request) -> (B, C) float32`` with -inf for candidates that cannot
    be placed (``self.placeable(request)`` is False). ``rank`` enforces that mask; a placeable
    candidate scored NaN or -inf is still placed, after all others (a row is shorter than K only
    when it has fewer placeable candidates). Ties go to the lower candidate column. Propensities
    are 1.0.

    Ads: by default the standard auction (``sponsored``), which needs the organic order. A ranker
    whose ads do not depend on it overrides ``fixed_ads`` instead: they are chosen first and
    taken out of the organic order before it is sorted.

    Search rows that are shelf rows (``rankers.shelf``) are answered from a per-aisle table when
    ``candidate_row_only`` is set; everything else goes through ``rank_general``.
    """

    #: True when a row's answer depends only on its candidate row, the slate settings and the
    #: ranker's state (logs, live catalog), not on the shopper or the day: then every search row
    #: that is its aisle's shelf row gets the aisle's answer from a table built once per state. A
    #: subclass that redefines ``score``, ``fixed_ads`` or ``sponsored`` gets False unless it
    #: sets it again itself.
    candidate_row_only: bool = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        redefines = {"score", "fixed_ads", "sponsored", "rank_general"} & set(cls.__dict__)
        if redefines and "candidate_row_only" not in cls.__dict__:
            cls.candidate_row_only = False

    @abc.abstractmethod
    def score(self, request: RankRequest) -> np.ndarray:
        """(B, C) float32 scores, higher is better; -inf where a candidate cannot be placed."""

    def fixed_ads(self, request: RankRequest, n_ok: np.ndarray) -> tuple[np.ndarray | None, np.ndarray] | None:
        """Ads chosen without the organic order: columns (B, n) (-1 none) and positions (n,).

        Return None to use ``sponsored`` (the default). The picks are filtered with
        ``ads.used_ads`` (only positions that exist in the row are kept).
        """
        return None

    def sponsored(self, request: RankRequest, keys: np.ndarray, ok: np.ndarray) -> AdPicks:
        """The standard auction: ad columns (B, n), their slate positions (n,), their organic ranks.

        ``keys`` are the row-sorted organic keys, ``ok`` the placeable mask. Return
        ``(None, positions, None)`` for no ads.
        """
        positions = ads.ad_slots(request.ad_positions, request.slate_size, request.max_sponsored)
        return self.auction_at(request, keys, positions)

    def auction_at(self, request: RankRequest, keys: np.ndarray, positions: np.ndarray) -> AdPicks:
        """The standard auction's ads for the given slate ``positions`` (none if no bids)."""
        if len(positions) == 0:
            return None, positions, None
        bid = self.ad_bids(request)
        if not bid.any():
            return None, positions, None
        ad_cols, ad_rank = ads.auction(keys, bid, len(positions))
        return ad_cols, positions, ad_rank

    def rank(self, request: RankRequest) -> RankResponse:
        """Top-K of ``score`` per row with the sponsored placements of ``fixed_ads`` or ``sponsored``."""
        self.check_request(request)
        if not self.candidate_row_only:
            return self.rank_general(request)
        return shelf.answer(request, self.shelf.match(request), self.rank_shelf_rows, self.rank_general)

    def rank_shelf_rows(self, request: RankRequest) -> RankResponse:
        """Rows that are their query's shelf row: the aisle's answer from the per-aisle table."""
        return shelf.gather(self.shelf_table(request), request.query)

    def shelf_table(self, request: RankRequest, score: Score | None = None) -> RankResponse:
        """(A, K) answers of ``rank_general`` for every aisle's shelf row, C as wide as ``request``'s.

        Rebuilt only when ``state_version`` or the slate settings change. ``score`` (default
        ``self.score``) must not depend on the shopper or the day.
        """

        def build() -> RankResponse:
            rows, _ = self.shelf.rows(request.candidates.shape[1])
            return self.rank_general(shelf.table_request(request, rows), score)

        return self._tables.get(self.table_key(request), build)

    def organic_scores(
        self, request: RankRequest, score: Score | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Placeable mask (B, C), its row counts (B,) and the scores the organic order sorts.

        Scores are ``score(request)`` (default ``self.score``) where placeable, with NaN and -inf
        lifted to the lowest float32, and -inf where not placeable.
        """
        b, c = request.candidates.shape
        ok = self.placeable(request)
        n_ok = np.add.reduce(ok, axis=1, dtype=np.int32)
        scores = np.asarray((score or self.score)(request), dtype=np.float32)
        if scores.shape != (b, c):
            raise RankerError(
                f"ranker '{self.name}': score() returned shape {scores.shape} for "
                f"{SURFACE_NAMES[request.surface]} candidates {(b, c)}"
            )
        return ok, n_ok, np.where(ok, np.fmax(scores, _LOWEST), np.float32(-np.inf))

    def rank_general(self, request: RankRequest, score: Score | None = None) -> RankResponse:
        """``rank`` for any rows: score, sort, auction, assemble. ``score`` defaults to ``self.score``."""
        self.check_request(request)
        b, c = request.candidates.shape
        k = request.slate_size
        if b == 0 or c == 0 or k == 0:
            return self.empty_response(request)
        try:
            ok, n_ok, s = self.organic_scores(request, score)
            fixed = self.fixed_ads(request, n_ok)
            if fixed is not None:
                ad_cols, positions = fixed
                ad_rank = None
                if ad_cols is not None:
                    ad_cols = ads.used_ads(ad_cols, positions, n_ok, k)
                    r, i = np.nonzero(ad_cols >= 0)
                    s[r, ad_cols[r, i]] = -np.inf  # out of the organic order
                keys = topk.sorted_keys(s)
                width = min(c, k)
            else:
                keys = topk.sorted_keys(s)
                ad_cols, positions, ad_rank = self.sponsored(request, keys, ok)
                width = min(c, k + len(positions))
            organic = topk.key_columns(keys, width)
            cols, is_ad = ads.assemble(organic, n_ok, ad_cols, positions, k, ad_rank)
            return self.response(request, cols, is_ad)
        finally:
            self.forget_request()
