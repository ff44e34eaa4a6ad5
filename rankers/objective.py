"""A ranker whose business objective (relevance vs margin weights, ad load) can change between days.

It is the policy a controller steers (the ``basketgym/Marketplace-v0`` environment sets its
objective once per simulated day with ``set_objective``).

Score of a placeable candidate: ``relevance * r + margin * m`` (computed with the weights scaled
to sum to 1, which leaves the order unchanged), where ``r`` and ``m`` are within-row rank
normalisations of two signals: the row's best placeable candidate gets 1, its worst 0, the others
evenly in between by rank (a row with one placeable candidate gives it 1); padding, unavailable
and repeated candidates get -inf. Ties of a signal, and of the final score, go to the lower column.

- ``r`` is ordered like ``buy_again``: the shopper's own purchase count, then recency, then decayed
  popularity (then lower price, then lower item id). With ``margin = 0`` the slates are exactly
  ``buy_again``'s. With ``relevance_model`` (a directory written by ``basketgym train``), ``r`` is
  ordered by that model's calibrated purchase probability instead (its score for ``lgbm_rank``).
- ``m`` is ordered like ``margin_greedy``'s organic order: ``price x margin_rate`` at the current
  price. With ``relevance = 0`` the organic order is ``margin_greedy``'s.

Ads (``ad_load``):

- ``None``: the standard auction (``rankers.ads``) at the scenario's ``ad_positions`` below K,
  at most ``max_sponsored`` of them, exactly as every other scoring ranker.
- a number ``a`` in [0, 1]: ``n = round(a * min(max_sponsored, K))`` sponsored placements (Python's
  ``round``: halves go to the even integer). Their positions are the scenario's ``ad_positions``
  below K (ascending) first, then the remaining top positions 0, 1, 2, ... until there are n; the
  standard auction (bid x rank-based pCTR) picks the ads, the best taking the earliest of these
  positions. ``a = 0`` means no ads. A row gets fewer ads when it has fewer eligible candidates or
  is too short to hold a position.

Exploration (``exploration`` = e in [0, 1]): slate-level epsilon-greedy (``rankers.exploration``).
Each row, with probability e (a coin keyed by seed, shopper, day, surface and query), keeps its
slate's length and sponsored positions but fills them at random: ad-eligible items at the
sponsored positions, then any placeable items at the organic ones. Propensities per position,
per prefix and per slate are exact (see that module); with e = 0 the ranker is deterministic.

Every request goes through the general path (no per-aisle tables), so a ``set_objective`` call
takes effect on the next ``rank`` call.
"""

from __future__ import annotations

import math

import numpy as np

from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import RankRequest, RankResponse
from basketgym.rankers import ads, topk
from basketgym.rankers.base import AdPicks, ScoringRanker
from basketgym.rankers.baselines import BuyAgainRanker
from basketgym.rankers.exploration import explore

_LOWEST = np.float32(np.finfo(np.float32).min)
_NEG_INF = np.float32(-np.inf)


def _weight(name: str, value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RankerError(f"ranker 'objective': {name} = {value!r}: must be a number") from None
    if not math.isfinite(v) or v < 0:
        raise RankerError(f"ranker 'objective': {name} = {value!r}: must be finite and >= 0")
    return v


def rank_normalised(raw: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(B, C) float32 within-row rank normalisation of ``raw`` over the placeable mask ``ok``.

    The best placeable candidate of a row gets 1, the worst 0, rank i of n gets
    ``1 - i / (n - 1)`` (1 when n = 1); ties go to the lower column; not placeable: -inf.
    """
    b, c = raw.shape
    s = np.where(ok, np.fmax(np.asarray(raw, np.float32), _LOWEST), _NEG_INF)
    order = topk.order(s)  # placeable candidates first, best first
    rank = np.empty((b, c), np.int64)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(c, dtype=np.int64), (b, c)), axis=1)
    n_ok = np.add.reduce(ok, axis=1, dtype=np.int64)
    span = np.maximum(n_ok - 1, 1).astype(np.float64)[:, None]
    return np.where(ok, 1.0 - rank / span, -np.inf).astype(np.float32)


def ad_load_positions(ad_positions: tuple[int, ...], slate_size: int, max_sponsored: int, load: float) -> np.ndarray:
    """Ascending slate positions of ``round(load * min(max_sponsored, K))`` sponsored placements.

    The scenario's ``ad_positions`` below K come first, then the remaining positions 0, 1, 2, ...
    """
    k = max(0, int(slate_size))
    n = round(load * min(max(0, int(max_sponsored)), k))
    chosen = ads.ad_slots(ad_positions, k, n).tolist()
    taken = set(chosen)
    for p in range(k):
        if len(chosen) >= n:
            break
        if p not in taken:
            chosen.append(p)
    return np.array(sorted(chosen), np.int64)


class ObjectiveRanker(BuyAgainRanker):
    """``relevance * r + margin * m`` with a settable ad load; see the module docstring.

    A ``ScoringRanker`` (through ``BuyAgainRanker``, whose score and popularity bookkeeping give
    ``r``). Arguments: the initial objective, plus ``half_life_days`` and ``history_slots`` of the
    feature store.
    """

    name = "objective"

    #: answers depend on the shopper and on the objective: always the general path
    candidate_row_only = False

    def __init__(
        self,
        relevance: float = 1.0,
        margin: float = 0.0,
        ad_load: float | None = None,
        exploration: float = 0.0,
        relevance_model: str | None = None,
        **kwargs: float,
    ):
        super().__init__(**kwargs)
        self.set_objective(relevance, margin, ad_load, exploration)
        self.relevance_model = None
        if relevance_model is not None:  # torch / LightGBM only when asked for
            from basketgym.rankers.learned.model import TaskModel

            self.relevance_model = TaskModel.load(relevance_model)

    @property
    def objective(self) -> tuple[float, float, float | None, float]:
        """The current (relevance, margin, ad_load, exploration)."""
        return self._relevance, self._margin_weight, self._ad_load, self._exploration

    def set_objective(self, relevance: float, margin: float, ad_load: float | None, exploration: float = 0.0) -> None:
        """Set the weights, ad load and exploration used from the next ``rank`` call on; RankerError if invalid."""
        r = _weight("relevance", relevance)
        m = _weight("margin", margin)
        if r == 0 and m == 0:
            raise RankerError("ranker 'objective': relevance and margin are both 0: at least one must be > 0")
        a = None
        if ad_load is not None:
            try:
                a = float(ad_load)
            except (TypeError, ValueError):
                a = math.nan
            if not 0.0 <= a <= 1.0:  # also refuses NaN
                raise RankerError(f"ranker 'objective': ad_load = {ad_load!r}: must be None or in [0, 1]")
        e = _weight("exploration", exploration)
        if e > 1:
            raise RankerError(f"ranker 'objective': exploration = {exploration!r}: must be in [0, 1]")
        self._relevance, self._margin_weight, self._ad_load, self._exploration = r, m, a, e

    def rank(self, request: RankRequest) -> RankResponse:
        """Top-K of the weighted score with the ad load's sponsored placements, explored with probability e."""
        greedy = ScoringRanker.rank(self, request)
        if self._exploration == 0 or request.batch_size == 0 or request.slate_size == 0:
            return greedy
        try:
            return self._explore(request, greedy)
        finally:
            self.forget_request()

    def _explore(self, request: RankRequest, greedy: RankResponse) -> RankResponse:
        """Slate-level epsilon-greedy over the organic positions (``rankers.exploration``)."""
        cands = request.candidates
        eligible = self.catalog.ad_eligible[np.maximum(cands, 0)] & (cands >= 0)
        return explore(request, greedy, self._exploration, self.seed, self.placeable(request), eligible)

    def relevance_signal(self, request: RankRequest) -> np.ndarray:
        """(B, C) ``r``: buy_again's order (or the relevance model's P(purchase)), rank-normalised to [0, 1] per row."""
        if self.relevance_model is None:
            return rank_normalised(super().score(request), self.placeable(request))
        from basketgym.rankers.learned.dataset import SERVING_POSITION, serving_features

        cands = request.candidates
        b, c = cands.shape
        x = serving_features(self.features, request, cands, np.full((b, c), SERVING_POSITION)).reshape(b * c, -1)
        p = self.relevance_model.predict(x)
        raw = p["score"] if "score" in p else p["purchase"]  # lambdarank models have a score only
        return rank_normalised(raw.reshape(b, c), self.placeable(request))

    def margin_signal(self, request: RankRequest) -> np.ndarray:
        """(B, C) ``m``: margin per unit at the current price, rank-normalised to [0, 1] per row."""
        unit = (self.catalog.price * self.catalog.margin_rate).astype(np.float32)
        return rank_normalised(self.item_values(request, unit, _NEG_INF), self.placeable(request))

    def score(self, request: RankRequest) -> np.ndarray:
        """``relevance * r + margin * m`` (weights scaled to sum to 1); -inf where not placeable."""
        total = self._relevance + self._margin_weight
        w_r, w_m = self._relevance / total, self._margin_weight / total
        if w_m == 0:
            return self.relevance_signal(request)
        if w_r == 0:
            return self.margin_signal(request)
        s = w_r * self.relevance_signal(request).astype(np.float64)
        s += w_m * self.margin_signal(request)
        return s.astype(np.float32)

    def sponsored(self, request: RankRequest, keys: np.ndarray, ok: np.ndarray) -> AdPicks:
        """The standard auction; with an ad load, at the ad-load positions (see the module docstring)."""
        if self._ad_load is None:
            return super().sponsored(request, keys, ok)
        positions = ad_load_positions(request.ad_positions, request.slate_size, request.max_sponsored, self._ad_load)
        return self.auction_at(request, keys, positions)
