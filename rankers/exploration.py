"""Exploration with exact propensities: slate-level epsilon-greedy over any ranker, Plackett–Luce over its scores.

With probability epsilon (a coin per request row, keyed by seed, shopper, day, surface and query)
a row keeps the base slate's length and sponsored positions and fills them at random: the
sponsored positions with a uniformly random ordered draw of ad-eligible items, then the organic
positions with one of the placeable items left; otherwise it shows the base slate. Every logged
probability is exact, for the three kinds of estimators that need them:

- per prefix (positions 0..p): ``(1 - e) * [base has this prefix] + e * q_p``, q_p the product of
  the draw probabilities of its items (1 / ad-eligible left at a sponsored position, 1 / items
  left after the sponsored draws at an organic one) times the probability that none of its
  organic items is taken by a sponsored position after p (a ratio of binomial coefficients);
- per slate: the last prefix;
- per position: ``(1 - e) * [base has this item here] + e * q``; q is 1 / (ad-eligible
  candidates) at a sponsored position and (1 - [ad-eligible] x ads / ad-eligible) / (placeable -
  ads) at an organic one.

``EpsilonGreedy`` wraps any ranker (a logging policy for off-policy evaluation); the ``objective``
ranker uses the same code for its ``exploration`` weight. A deterministic base is assumed (its
propensities 1.0): the greedy branch's probabilities are then exact.
"""

from __future__ import annotations

import numpy as np

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import Ranker, RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.rankers.candidates import candidate_index, placeable
from basketgym.rankers.wrappers import RankerWrapper


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


def explore(
    request: RankRequest, greedy: RankResponse, epsilon: float, seed: int, ok: np.ndarray, eligible: np.ndarray
) -> RankResponse:
    """Epsilon-greedy over ``greedy`` (a deterministic answer to ``request``).

    ``ok``: placeable candidates (B, C); ``eligible``: those that may be sponsored. An explored
    row keeps the greedy slate's length and which positions are sponsored; its sponsored
    positions take a uniformly random ordered draw of ad-eligible items, then its organic
    positions a uniformly random ordered draw of the placeable items left. Every target slate with
    the same sponsored positions is therefore in the support.
    """
    e, ids, day, cands = float(epsilon), request.shopper_ids, request.day, request.candidates
    b, k = greedy.slate.shape
    placed = greedy.slate >= 0
    ad = greedy.sponsored & placed
    organic = placed & ~ad
    n_ok = np.add.reduce(ok, axis=1, dtype=np.int64)
    n_el = np.add.reduce(ok & eligible, axis=1, dtype=np.int64)
    n_ad = np.add.reduce(ad, axis=1, dtype=np.int64)
    counters = row_counters(request)
    coin = rng.uniform_keyed(seed, Purpose.EXPLORATION, ids, day, counters[:, :1] >> np.uint64(32))[:, 0]
    x = np.flatnonzero(coin < e)
    slate = greedy.slate.copy()
    if len(x):
        # one uniformly random order of the placeable candidates: the sponsored positions take its first
        # ad-eligible items, the organic positions then its first items not yet shown
        u = rng.uniform_keyed(seed, Purpose.EXPLORATION_ORDER, ids[x], day, counters[x])
        rank = np.where(ok[x], u, np.inf)
        used = np.zeros(rank.shape, bool)
        for kind, only_eligible in ((ad[x], True), (organic[x], False)):
            for p in range(k):
                rows = np.flatnonzero(kind[:, p])
                allowed = eligible[x[rows]] if only_eligible else True
                pick = np.where(allowed & ~used[rows], rank[rows], np.inf).argmin(axis=1)
                slate[x[rows], p] = cands[x[rows], pick]
                used[rows, pick] = True
    # the random branch's exact probabilities
    cols = _column_of(cands, slate)
    el = eligible[np.arange(b)[:, None], np.maximum(cols, 0)] & (slate >= 0)
    ads_before = np.cumsum(ad, axis=1) - ad  # sponsored positions before p
    org_before = np.cumsum(organic, axis=1) - organic
    pool_ad = np.maximum(n_el[:, None] - ads_before, 1)
    pool_org = np.maximum(n_ok[:, None] - n_ad[:, None] - org_before, 1)
    step = np.where(ad, 1.0 / pool_ad, np.where(organic, 1.0 / pool_org, 1.0))
    # a prefix's organic items must not be among the sponsored draws still to come (after the prefix)
    a_in = np.cumsum(ad, axis=1)  # sponsored positions up to p
    e_org = np.cumsum(organic & el, axis=1)  # eligible items among the prefix's organic ones
    later = n_ad[:, None] - a_in
    spare = _comb_ratio(n_el[:, None] - a_in - e_org, n_el[:, None] - a_in, later)
    random_prefix = np.cumprod(step, axis=1) * spare
    not_taken_by_ads = 1.0 - el * (n_ad / np.maximum(n_el, 1))[:, None]
    marg = np.where(ad, 1.0 / np.maximum(n_el, 1)[:, None], not_taken_by_ads / np.maximum(n_ok - n_ad, 1)[:, None])
    same = slate == greedy.slate
    prop = np.where(placed, (1 - e) * same + e * marg, 0.0)
    same_prefix = np.cumprod(same, axis=1).astype(bool)
    prefix = np.where(placed, (1 - e) * same_prefix + e * random_prefix, 0.0)
    return RankResponse(slate, prop.astype(np.float32), greedy.sponsored.copy(), prefix.astype(np.float32))


def _comb_ratio(top: np.ndarray, bottom: np.ndarray, r: np.ndarray) -> np.ndarray:
    """C(top, r) / C(bottom, r) elementwise (top <= bottom): prod_{i<r} (top - i) / (bottom - i); 0 if top < r."""
    out = np.ones(np.broadcast(top, bottom, r).shape)
    for i in range(int(np.max(r, initial=0))):
        live = r > i
        out = np.where(live, out * np.maximum(top - i, 0) / np.maximum(bottom - i, 1), out)
    return out


def _column_of(cands: np.ndarray, slate: np.ndarray) -> np.ndarray:
    """(B, K) column of each slate item among its row's candidates (-1 for empty slots)."""
    hit = cands[:, None, :] == slate[:, :, None]
    return np.where((slate >= 0) & hit.any(axis=2), hit.argmax(axis=2), -1)


class EpsilonGreedy(RankerWrapper):
    """A logging policy: ``base``'s slates, explored with probability ``epsilon`` (see the module docstring).

    ``base``: a deterministic ranker (by name through the registry, popularity if not given:
    ``make_ranker("epsilon_greedy", base="buy_again", epsilon=0.1)``). ``epsilon = 1`` logs
    uniformly random organic slates (the base only decides the sponsored placements and the slate
    length). The base ingests the logs.
    """

    name = "epsilon_greedy"

    def __init__(self, base: Ranker, epsilon: float = 0.1, name: str | None = None):
        if not 0.0 <= float(epsilon) <= 1.0:
            raise RankerError(f"ranker 'epsilon_greedy': epsilon = {epsilon!r}: must be in [0, 1]")
        super().__init__(base, name)
        self.epsilon = float(epsilon)
        self.seed = 0
        self._catalog: PublicCatalog | None = None

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset the base; keep the live availability for the placeable mask."""
        super().reset(catalog, seed)
        self.seed, self._catalog = int(seed), catalog

    def rank(self, request: RankRequest) -> RankResponse:
        """The base's slates, explored."""
        if self._catalog is None:
            raise RankerError(f"ranker '{self.name}': call reset(catalog, seed) first")
        greedy = self.ranker.rank(request)
        if self.epsilon == 0 or request.batch_size == 0 or request.slate_size == 0:
            return greedy
        placed = greedy.slate >= 0
        if not (greedy.propensity[placed] == 1).all():
            raise RankerError(f"ranker '{self.name}': the base must be deterministic (propensities 1.0)")
        index = candidate_index(request.candidates, self._catalog.n_products)
        ok, _ = placeable(request.candidates, index, self._catalog.available)
        eligible = self._catalog.ad_eligible[np.maximum(request.candidates, 0)] & (request.candidates >= 0)
        return explore(request, greedy, self.epsilon, self.seed, ok, eligible)


# Plackett–Luce position marginals: P(item i has exactly r pool items above it) is an integral over
# item i's Gumbel perturbation; with t = exp(-g) it is  int_0^inf e^-t PB_r(t) dt, where PB_r is the
# Poisson-binomial probability that r others exceed, each with q_j(t) = 1 - exp(-t w_j / w_i).
# A uniform grid in s = log t makes the integrand smooth and decaying at both ends, where the
# trapezoid rule converges spectrally: errors below 1e-9 against enumeration (tested).
_S = np.linspace(-28.0, 5.0, 133)
_T = np.exp(_S)
_W = np.exp(-_T) * _T * (_S[1] - _S[0])
_W[[0, -1]] *= 0.5


def rank_marginals(z_item: np.ndarray, z_pool: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """(R,) probability that an item with logit ``z_item`` is at ``rank`` in a Plackett–Luce draw over ``z_pool``.

    ``z_pool`` (R, n): the logits of the other candidates of the row (-inf: absent). Cost O(n x
    rank x 133) per row.
    """
    r_rows = len(z_item)
    kmax = int(rank.max()) + 1 if r_rows else 1
    ratio = np.exp(z_pool - z_item[:, None])
    dist = np.zeros((r_rows, kmax, len(_T)))
    dist[:, 0, :] = 1.0
    for j in range(z_pool.shape[1]):
        q = -np.expm1(-_T[None, :] * ratio[:, j : j + 1])  # (R, Q): other j ranks above
        dist[:, 1:, :] = dist[:, 1:, :] * (1 - q[:, None, :]) + dist[:, :-1, :] * q[:, None, :]
        dist[:, 0, :] *= 1 - q
    return dist[np.arange(r_rows), rank, :] @ _W


class PlackettLuce(RankerWrapper):
    """A logging policy: organic positions drawn without replacement from softmax(score / temperature).

    ``base``: a scoring ranker (by name through the registry, popularity if not given:
    ``make_ranker("plackett_luce", base="margin_greedy")``). Its ``score`` gives the logits; its own
    answer fixes the sponsored placements and the slate length, as in epsilon-greedy. Candidates
    the base scores -inf but may place get a logit 20 below the row's lowest, so every slate keeps
    support. The draw is keyed like every other
    (seed, shopper, day, surface, query, item). Propensities, exact: the slate and each prefix as
    products of softmax steps over the candidates left; each item at its position by
    ``rank_marginals`` (numerical integration, ~1e-9). Logging cost grows with candidates x
    positions (about 1.5 ms a slate of 10 from 48).
    """

    name = "plackett_luce"

    def __init__(self, base: Ranker, temperature: float = 1.0, name: str | None = None):
        if not float(temperature) > 0:
            raise RankerError(f"ranker 'plackett_luce': temperature = {temperature!r}: must be > 0")
        if not hasattr(base, "score"):
            raise RankerError(f"ranker 'plackett_luce': base '{base.name}' has no score to sample from")
        super().__init__(base, name)
        self.temperature = float(temperature)
        self.seed = 0
        self._catalog: PublicCatalog | None = None

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset the base; keep the live availability for the placeable mask."""
        super().reset(catalog, seed)
        self.seed, self._catalog = int(seed), catalog

    def rank(self, request: RankRequest) -> RankResponse:
        """Sampled organic slates with their exact slate, prefix and position propensities."""
        if self._catalog is None:
            raise RankerError(f"ranker '{self.name}': call reset(catalog, seed) first")
        greedy = self.ranker.rank(request)
        if request.batch_size == 0 or request.slate_size == 0:
            return greedy
        scores = np.asarray(self.ranker.score(request), np.float64)
        self.ranker.forget_request()
        cands = request.candidates
        index = candidate_index(cands, self._catalog.n_products)
        ok, _ = placeable(cands, index, self._catalog.available)
        sp_items = np.where(greedy.sponsored, greedy.slate, -1)
        is_ad = (cands[:, :, None] == sp_items[:, None, :]).any(axis=2) & (cands >= 0)
        pool = ok & ~is_ad
        z = scores / self.temperature
        finite = np.isfinite(z) & pool
        low = np.where(finite, z, np.inf).min(axis=1, keepdims=True)
        z = np.where(finite, z, np.where(np.isfinite(low), low, 0.0) - 20.0)  # placeable but unscored: tiny weight
        top = np.where(pool, z, -np.inf).max(axis=1, keepdims=True)
        z = np.where(pool, z - np.where(np.isfinite(top), top, 0.0), -np.inf)  # logits relative to the row's best
        g = rng.gumbel_from_uniform(
            rng.uniform_keyed(self.seed, Purpose.PLACKETT_LUCE, request.shopper_ids, request.day, row_counters(request))
        )
        order = np.argsort(-np.where(pool, z + g, -np.inf), axis=1, kind="stable")
        organic = (greedy.slate >= 0) & ~greedy.sponsored
        j = np.cumsum(organic, axis=1) - 1  # draw index of each organic position
        slate = greedy.slate.copy()
        prop = greedy.propensity.astype(np.float64).copy()
        step = np.ones(slate.shape)
        w = np.where(pool, np.exp(z), 0.0)
        remaining = w.sum(axis=1)
        drawn_before = np.zeros(len(slate))
        for p in range(slate.shape[1]):
            r = np.flatnonzero(organic[:, p])
            if not len(r):
                continue
            col = order[r, j[r, p]]
            slate[r, p] = cands[r, col]
            w_pick = w[r, col]
            step[r, p] = w_pick / (remaining[r] - drawn_before[r])
            drawn_before[r] += w_pick
            others = np.where(np.arange(cands.shape[1])[None, :] == col[:, None], -np.inf, z[r])
            prop[r, p] = rank_marginals(z[r, col], others, j[r, p])
        placed = slate >= 0
        prefix = np.where(placed, np.cumprod(step, axis=1), 0.0)
        return RankResponse(slate, prop.astype(np.float32), greedy.sponsored.copy(), prefix.astype(np.float32))
