"""Why shoppers come: needs from the pantry and wants from favourite aisles, one intent per aisle per visit."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from basketgym.agents import pantry
from basketgym.contract import rng
from basketgym.contract.rng import Purpose
from basketgym.sim.session.context import VisitContext, col


@dataclass
class Intents:
    """Flattened intents of a batch of visits, sorted by visit, needs first."""

    session: np.ndarray  # (M,) index into the batch's visits
    aisle: np.ndarray  # (M,) int
    need: np.ndarray  # (M,) bool
    affinity: np.ndarray  # (M,) the shopper's taste for the aisle (the reference utility)
    buy: np.ndarray  # (M,) utility a clicked item must clear to be bought (outside option)


@lru_cache(maxsize=64)
def _poisson_cdf(lam: float, cap: int) -> np.ndarray:
    """CDF of Poisson(lam) at 0..cap, with the tail folded into cap."""
    k = np.arange(cap + 1)
    logp = k * np.log(max(lam, 1e-12)) - lam - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(logp))
    cdf[-1] = 1.0
    return cdf


def poisson_inverse(u: np.ndarray, lam: float, cap: int) -> np.ndarray:
    """Poisson(lam) draws by inverting the CDF on uniforms, capped at ``cap``."""
    return np.searchsorted(_poisson_cdf(float(lam), int(cap)), u).astype(np.int64)


def form_intents(ctx: VisitContext, day: int | np.ndarray, v: np.ndarray, aisle_affinity: np.ndarray) -> Intents:
    """Needs from the pantry and wants from favourite aisles of state rows ``v``: one intent per aisle, needs first.

    ``aisle_affinity`` (n, A) is each visitor's taste for every aisle (weighted). The order within
    a visit is needs (by staple) then wants (by how much they are wanted); it is built from
    per-visit counts, without sorting.
    """
    st, b, shop = ctx.state, ctx.behaviour, ctx.shop
    n = len(v)
    need_mask = pantry.needs(st.pantry_runout[v], col(day), b.need_lookahead_days)
    n_sess, n_staple = np.nonzero(need_mask)  # row-major: grouped by visit
    n_aisle = shop.staple_aisles[n_staple]

    fav = st.favourite_aisles[v]  # (n, F), distinct aisles
    f = fav.shape[1]
    u = rng.uniform(ctx.seed, Purpose.WANTS, st.shopper_id[v], day, f + 1)
    count = poisson_inverse(u[:, 0], b.wants_per_visit, f)
    # sample `count` favourites without replacement, weight 1/(rank+1): the top keys of Gumbel + log w
    key = rng.gumbel_from_uniform(u[:, 1:]) - np.log(np.arange(1, f + 1))[None, :]
    kth = (-np.sort(-key, axis=1))[np.arange(n), np.maximum(count - 1, 0)][:, None]
    w_sess, w_col = np.nonzero((key >= kth) & (count > 0)[:, None])
    w_aisle = fav[w_sess, w_col].astype(np.int64)
    k = shop.staple_index[w_aisle]
    dup = (k >= 0) & need_mask[w_sess, np.maximum(k, 0)]  # already a need
    w_sess, w_aisle = w_sess[~dup], w_aisle[~dup]

    # place needs then wants of each visit contiguously, visits in order
    nn = np.bincount(n_sess, minlength=n)
    nw = np.bincount(w_sess, minlength=n)
    start = np.concatenate([[0], np.cumsum(nn + nw)[:-1]])
    first_n = np.concatenate([[0], np.cumsum(nn)[:-1]])
    first_w = np.concatenate([[0], np.cumsum(nw)[:-1]])
    m = len(n_sess) + len(w_sess)
    pos_n = start[n_sess] + np.arange(len(n_sess)) - first_n[n_sess]
    pos_w = start[w_sess] + nn[w_sess] + np.arange(len(w_sess)) - first_w[w_sess]
    sess = np.empty(m, np.int64)
    aisle = np.empty(m, np.int64)
    need = np.zeros(m, bool)
    sess[pos_n], aisle[pos_n], need[pos_n] = n_sess, n_aisle, True
    sess[pos_w], aisle[pos_w] = w_sess, w_aisle

    aff = aisle_affinity[sess, aisle].astype(np.float64)
    buy = aff + np.where(need, b.need_threshold, b.want_threshold)
    return Intents(session=sess, aisle=aisle, need=need, affinity=aff, buy=buy)
