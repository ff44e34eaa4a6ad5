"""What every surface does with slates it has shown: ad revenue, the slate log rows, the visits' counters."""

from __future__ import annotations

import numpy as np

from basketgym.contract.protocol import RankResponse, prefix_propensities
from basketgym.sim.session.context import VisitContext, at, day_column
from basketgym.sim.session.visits import Visits


def ad_revenue(ctx: VisitContext, resp: RankResponse, clicked: np.ndarray) -> np.ndarray:
    """Cost-per-click revenue of each slate: only sponsored placements that were clicked pay (few)."""
    r, c = np.nonzero(clicked & resp.sponsored)
    paid = ctx.shop.public.bid[resp.slate[r, c]].astype(np.float64) * ctx.marketplace.cpc_scale
    return np.bincount(r, paid, minlength=len(resp.slate))


def bought_mask(bought: np.ndarray, k: int) -> np.ndarray:
    """(R, k) bool from each row's bought position (-1: none)."""
    out = np.zeros((len(bought), k), bool)
    hit = bought >= 0
    out[np.flatnonzero(hit), bought[hit]] = True
    return out


def slate_log(
    ctx: VisitContext,
    day: int | np.ndarray,
    shopper: np.ndarray,
    surface: int,
    query: np.ndarray,
    n_cand: np.ndarray,
    resp: RankResponse,
    clicked: np.ndarray,
    purchased: np.ndarray,
    ad_rev: np.ndarray,
) -> dict[str, np.ndarray]:
    """Slate log rows (``contract.logs.SLATE_COLUMNS``) of shown slates, padded to the log's slate width."""
    k_log = ctx.shop.log_slate_width
    b, k = resp.slate.shape
    prefix = prefix_propensities(resp)
    placed = resp.slate >= 0
    # the whole slate's probability: the last (smallest) prefix; 0 for an empty slate
    slate_prop = np.where(placed.any(axis=1), np.where(placed, prefix, np.inf).min(axis=1), 0.0).astype(np.float32)

    def pad(a: np.ndarray, fill: object) -> np.ndarray:
        if k == k_log:
            return a
        out = np.full((b, k_log), fill, a.dtype)
        out[:, :k] = a
        return out

    return {
        "session_id": (np.asarray(day, np.int64) << 32) | shopper.astype(np.int64),
        "shopper_id": shopper.astype(np.int32),
        "day": day_column(day, b),
        "surface": np.full(b, surface, np.int8),
        "query": query.astype(np.int16),
        "n_candidates": n_cand.astype(np.int16),
        "slate": pad(resp.slate.astype(np.int32), -1),
        "propensity": pad(resp.propensity.astype(np.float32), 0.0),
        "prefix_propensity": pad(prefix.astype(np.float32), 0.0),
        "slate_propensity": slate_prop,
        "sponsored": pad(resp.sponsored.astype(bool), False),
        "clicked": pad(clicked, False),
        "purchased": pad(purchased, False),
        "ad_revenue": ad_rev.astype(np.float32),
    }


def record_slates(
    ctx: VisitContext,
    vs: Visits,
    surface: int,
    source: int,
    visit: np.ndarray,
    query: np.ndarray,
    cands: np.ndarray,
    resp: RankResponse,
    examined: np.ndarray,
    clicked: np.ndarray,
    purchased: np.ndarray,
) -> None:
    """Count slates shown to visits ``visit`` (one per row) into ``vs``, and log them when ``vs`` is logged.

    Purchases here are carted: checkout clears ``purchased`` for lines the budget removes. Log rows
    are in request order; checkout puts every surface's rows into the canonical order.
    """
    ad_rev = ad_revenue(ctx, resp, clicked)
    if vs.logged is not None:
        day = at(vs.day, visit)
        log = slate_log(
            ctx, day, vs.ids[visit], surface, query, (cands >= 0).sum(1), resp, clicked, purchased, ad_rev
        )  # fmt: skip
        vs.logged[source] = (log, visit)
    n = len(vs.v)
    vs.examined += np.bincount(visit, examined.sum(1), minlength=n)
    vs.clicked += np.bincount(visit, clicked.sum(1), minlength=n)
    vs.bad_ads += np.bincount(visit, (examined & resp.sponsored & ~clicked).sum(1), minlength=n)
    vs.slates += np.bincount(visit, minlength=n)
    vs.ad_revenue += np.bincount(visit, ad_rev.astype(np.float32), minlength=n)
