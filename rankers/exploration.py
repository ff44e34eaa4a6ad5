"""Exploration with exact propensities: slate-level epsilon-greedy over any ranker.

With probability epsilon (a coin per request row, keyed by seed, shopper, day, surface and query)
a row keeps the base ranker's sponsored placements and fills its organic positions with a
uniformly random ordered draw from the other placeable candidates; otherwise it shows the base
slate. Every logged probability is exact, for the three kinds of estimators that need them:

- per position: ``(1 - e) * [base has this item here] + e / m`` for organic placements (m: the
  row's placeable candidates that are not sponsored), 1 for sponsored ones;
- per prefix (positions 0..p): ``(1 - e) * [base has this prefix] + e * prod_j 1 / (m - j)`` over
  the organic positions j up to p;
- per slate: the last prefix.

``EpsilonGreedy`` wraps any ranker (a logging policy for off-policy evaluation); the ``objective``
ranker uses the same code for its ``exploration`` weight. A deterministic base is assumed (its
propensities 1.0): the greedy branch's probabilities are then exact.
"""

from __future__ import annotations

import numpy as np

from rankers.candidates import candidate_index, placeable
from rankers.registry import make_ranker, register
from sim import rng
from sim.catalog import PublicCatalog
from sim.errors import RankerError
from sim.protocol import Ranker, RankRequest, RankResponse
from sim.rng import Purpose


def row_counters(request: RankRequest) -> np.ndarray:
    """(B, C) uint64 counters of per-item random words: (surface, query) in the high half, the item id low."""
    surface_query = (np.asarray(request.query, np.int64) + 1) | (int(request.surface) << 24)
    high = surface_query.astype(np.uint64)[:, None] << np.uint64(32)
    return high | np.maximum(request.candidates, 0).astype(np.uint64)


def uniform_prefix(placed: np.ndarray, fixed: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(B, K) prefix propensities of uniformly random ordered draws from ``pool`` candidates per row.

    The draw fills the placed positions that are not ``fixed`` (sponsored placements are fixed);
    a prefix's probability is the product over its drawn positions of 1 / (pool - index).
    """
    free = placed & ~fixed
    index = np.cumsum(free, axis=1) - 1  # the draw's index at each free position
    step = np.where(free, 1.0 / np.maximum(pool[:, None] - index, 1), 1.0)
    return np.where(placed, np.cumprod(step, axis=1), 0.0).astype(np.float32)


def explore(request: RankRequest, greedy: RankResponse, epsilon: float, seed: int, ok: np.ndarray) -> RankResponse:
    """Epsilon-greedy over ``greedy`` (a deterministic answer to ``request``); ``ok``: placeable mask (B, C)."""
    e, ids, day, cands = float(epsilon), request.shopper_ids, request.day, request.candidates
    m = np.add.reduce(ok, axis=1, dtype=np.int64) - np.add.reduce(greedy.sponsored, axis=1, dtype=np.int64)
    counters = row_counters(request)
    coin = rng.uniform_keyed(seed, Purpose.EXPLORATION, ids, day, counters[:, :1] >> np.uint64(32))[:, 0]
    x = np.flatnonzero(coin < e)
    slate = greedy.slate.copy()
    organic = (greedy.slate >= 0) & ~greedy.sponsored
    if len(x):
        sp_items = np.where(greedy.sponsored[x], greedy.slate[x], -1)
        is_ad = (cands[x][:, :, None] == sp_items[:, None, :]).any(axis=2) & (cands[x] >= 0)
        u = rng.uniform_keyed(seed, Purpose.EXPLORATION_ORDER, ids[x], day, counters[x])
        order = np.argsort(np.where(ok[x] & ~is_ad, u, 2.0), axis=1, kind="stable")  # the pool first, randomly
        j = np.cumsum(organic[x], axis=1) - 1  # index of each organic position among the row's organic ones
        r, p = np.nonzero(organic[x])
        slate[x[r], p] = cands[x[r], order[r, j[r, p]]]
    same = slate == greedy.slate
    prop = np.where(organic, (1 - e) * same + e / np.maximum(m, 1)[:, None], greedy.propensity)
    same_prefix = np.cumprod(same, axis=1).astype(bool)
    random_prefix = uniform_prefix(greedy.slate >= 0, greedy.sponsored, m)
    prefix = np.where(greedy.slate >= 0, (1 - e) * same_prefix + e * random_prefix, 0.0)
    return RankResponse(slate, prop.astype(np.float32), greedy.sponsored.copy(), prefix.astype(np.float32))


@register("epsilon_greedy")
class EpsilonGreedy:
    """A logging policy: ``base``'s slates, explored with probability ``epsilon`` (see the module docstring).

    ``base``: a deterministic ranker or its registry name (``make_ranker("epsilon_greedy",
    base="buy_again", epsilon=0.1)``). ``epsilon = 1`` logs uniformly random organic slates (the
    base only decides the sponsored placements and the slate length). The base ingests the logs.
    """

    def __init__(self, base: Ranker | str = "popularity", epsilon: float = 0.1, name: str | None = None):
        if not 0.0 <= float(epsilon) <= 1.0:
            raise RankerError(f"ranker 'epsilon_greedy': epsilon = {epsilon!r}: must be in [0, 1]")
        base = make_ranker(base) if isinstance(base, str) else base
        self.base, self.epsilon = base, float(epsilon)
        if name is not None:
            self.name = name
        self.label = f"{getattr(base, 'name', 'base')}+eps{self.epsilon:g}"  # for reports
        self.seed = 0
        self._catalog: PublicCatalog | None = None

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset the base; keep the live availability for the placeable mask."""
        self.base.reset(catalog, seed)
        self.seed, self._catalog = int(seed), catalog

    def rank(self, request: RankRequest) -> RankResponse:
        """The base's slates, explored."""
        if self._catalog is None:
            raise RankerError(f"ranker '{self.name}': call reset(catalog, seed) first")
        greedy = self.base.rank(request)
        if self.epsilon == 0 or request.batch_size == 0 or request.slate_size == 0:
            return greedy
        placed = greedy.slate >= 0
        if not (greedy.propensity[placed] == 1).all():
            raise RankerError(f"ranker '{self.name}': the base must be deterministic (propensities 1.0)")
        index = candidate_index(request.candidates, self._catalog.n_products)
        ok, _ = placeable(request.candidates, index, self._catalog.available)
        return explore(request, greedy, self.epsilon, self.seed, ok)

    def update(self, day_log: dict) -> None:
        """The base ingests the day's logs."""
        self.base.update(day_log)

    def fit(self, day: int) -> None:
        """The base refits."""
        self.base.fit(day)
