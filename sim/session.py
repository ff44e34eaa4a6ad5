"""One day's sessions for a chunk of visitors, vectorised: intents, home feed, search, organic finds, checkout.

The flow of a visit (DESIGN.md "A session"): pantry needs plus exploratory wants become intents;
the home feed is shown first and may satisfy intents or trigger impulse buys; every intent still
open is searched (query = the aisle's name), the ranker orders the aisle's shelf and the shopper
reads the slate with position bias; a need still unmet may be found anyway by browsing (organic);
the budget trims the cart; checkout updates pantry, habits, order history, satisfaction, churn and
the next trip. All arrays are over the chunk's sessions or intents, never per shopper objects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from basketgym.agents import choice, habit, pantry, satisfaction, visits
from basketgym.agents.state import NEVER
from basketgym.sim.validate import check_response

from basketgym.contract import rng, slots
from basketgym.contract.logs import SOURCE_HOME, SOURCE_ORGANIC, SOURCE_SEARCH
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest, RankResponse, prefix_propensities
from basketgym.contract.rng import Purpose

if TYPE_CHECKING:
    from basketgym.sim.market import Market
    from basketgym.sim.world import World

PRIORITY_NEED, PRIORITY_WANT, PRIORITY_IMPULSE = 0, 1, 2


@dataclass
class Intents:
    """Flattened intents of a chunk, sorted by session, needs first."""

    session: np.ndarray  # (M,) index into the chunk's visitors
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


def _poisson_inverse(u: np.ndarray, lam: float, cap: int) -> np.ndarray:
    """Poisson(lam) draws by inverting the CDF on uniforms, capped at ``cap``."""
    return np.searchsorted(_poisson_cdf(float(lam), int(cap)), u).astype(np.int64)


def form_intents(w: World, day: int | np.ndarray, v: np.ndarray, aisle_affinity: np.ndarray) -> Intents:
    """Needs from the pantry and wants from favourite aisles: one intent per aisle, needs first.

    ``aisle_affinity`` (n, A) is each visitor's taste for every aisle (weighted). The order within
    a visit is needs (by staple) then wants (by how much they are wanted); it is built from
    per-visit counts, without sorting.
    """
    st, b = w.state, w.cfg.behaviour
    n = len(v)
    need_mask = pantry.needs(st.pantry_runout[v], _col(day), b.need_lookahead_days)
    n_sess, n_staple = np.nonzero(need_mask)  # row-major: grouped by visit
    n_aisle = w.staple_aisles[n_staple]

    fav = st.favourite_aisles[v]  # (n, F), distinct aisles
    f = fav.shape[1]
    u = rng.uniform(w.seed, Purpose.WANTS, st.shopper_id[v], day, f + 1)
    count = _poisson_inverse(u[:, 0], b.wants_per_visit, f)
    # sample `count` favourites without replacement, weight 1/(rank+1): the top keys of Gumbel + log w
    key = rng.gumbel_from_uniform(u[:, 1:]) - np.log(np.arange(1, f + 1))[None, :]
    kth = (-np.sort(-key, axis=1))[np.arange(n), np.maximum(count - 1, 0)][:, None]
    w_sess, w_col = np.nonzero((key >= kth) & (count > 0)[:, None])
    w_aisle = fav[w_sess, w_col].astype(np.int64)
    k = w.staple_index[w_aisle]
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


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of small non-negative ints: numpy radix-sorts 16-bit keys (~7x faster here)."""
    if len(keys) and keys.max() < 2**16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


def _rank(w: World, request: RankRequest) -> RankResponse:
    t0 = time.perf_counter()
    response = w.ranker.rank(request)
    w.latency.append((request.surface, request.batch_size, request.candidates.shape[1], time.perf_counter() - t0))
    # search rows are shelf rows; home rows hold the featured pool at fixed columns after the order history
    if request.surface == SURFACE_SEARCH:
        check_response(request, response, w.public, w.ranker_name, w.public.shelf_pos)
    else:
        check_response(request, response, w.public, w.ranker_name, w.home_column, w.order_history_items.shape[1])
    return response


def _at(x: int | np.ndarray, idx: np.ndarray) -> int | np.ndarray:
    """A per-visit value (a shared int, or an array over visits) for the rows ``idx`` index."""
    return x if isinstance(x, int | np.integer) else x[idx]


def _col(x: int | np.ndarray) -> int | np.ndarray:
    """A per-visit value shaped to broadcast against (visits, k) arrays."""
    return x if isinstance(x, int | np.integer) else x[:, None]


def _days(x: int | np.ndarray, n: int) -> np.ndarray:
    """A day column of length ``n`` for a log table."""
    return np.full(n, x, np.int32) if isinstance(x, int | np.integer) else x.astype(np.int32)


def _habit_for(w: World, shopper_rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Current habit stock of each shopper for each item (rows must be refreshed to today)."""
    slot = slots.find(w.state.habit_item, shopper_rows, items)
    stock = w.state.habit_stock[shopper_rows[:, None], np.maximum(slot, 0).reshape(len(shopper_rows), -1)]
    return np.where(slot >= 0, stock.reshape(slot.shape), 0.0)


def _ad_revenue(w: World, resp: RankResponse, clicked: np.ndarray) -> np.ndarray:
    """Cost-per-click revenue of each slate: only sponsored placements that were clicked pay (few)."""
    r, c = np.nonzero(clicked & resp.sponsored)
    paid = w.public.bid[resp.slate[r, c]].astype(np.float64) * w.cfg.marketplace.cpc_scale
    return np.bincount(r, paid, minlength=len(resp.slate))


def _slate_log(
    w: World,
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
    k_log = w.log_slate_width
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
        "day": _days(day, b),
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


@dataclass
class Visits:
    """A batch of visits in progress: who and when, their intents, and what they saw and bought so far.

    ``day`` and ``ep`` (the market epoch each visit sees) are ints when all visits share a day (a
    world's day), or (n,) arrays when they do not (independent lives, ``sim.lives``).
    """

    v: np.ndarray  # (n,) state rows
    ids: np.ndarray  # (n,) shopper ids: key the draws, go to the ranker and the logs
    day: int | np.ndarray
    ep: int | np.ndarray
    market: Market
    taste: np.ndarray  # (n, D) float32
    alpha: np.ndarray  # (n,) float64 price sensitivity
    aisle_aff: np.ndarray  # (n, A) taste for every aisle (weighted)
    it: Intents
    resolved: np.ndarray  # (m,) bool: intent met
    examined: np.ndarray  # (n,) items examined over the visit's slates
    clicked: np.ndarray  # (n,)
    bad_ads: np.ndarray  # (n,) sponsored items examined and not clicked
    slates: np.ndarray  # (n,) int64 slates shown
    ad_revenue: np.ndarray  # (n,)
    # purchase lines: session idx, item, source, position, sponsored, intent (-1 impulse), priority
    lines: list[tuple[np.ndarray, ...]]
    # source -> (slate log, log row of each intent or visit, visit of each log row); None: not logged
    logged: dict[int, tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]] | None


def begin_visits(
    w: World, day: int | np.ndarray, v: np.ndarray, market: Market, ep: int | np.ndarray = 0, log: bool = True
) -> Visits:
    """Start the visits of state rows ``v``: habits brought to today, aisle tastes, intents."""
    st, b = w.state, w.cfg.behaviour
    n = len(v)
    # lazy habit decay: bring the visitors' habit stocks to today (only visitors are touched)
    st.habit_stock[v] = habit.decayed(st.habit_stock[v], st.habit_day[v], _col(day), b.habit_decay_days)
    st.habit_day[v] = _col(day)
    taste_v = st.taste[v]
    aisle_aff = (taste_v @ w.centroid_t) * np.float32(b.taste_weight)  # (n, A): one BLAS product
    it = form_intents(w, day, v, aisle_aff)
    e = np.zeros(0, np.int64)
    return Visits(
        v=v,
        ids=st.shopper_id[v],
        day=day,
        ep=ep,
        market=market,
        taste=taste_v,
        alpha=st.price_sensitivity[v].astype(np.float64),
        aisle_aff=aisle_aff,
        it=it,
        resolved=np.zeros(len(it.session), bool),
        examined=np.zeros(n),
        clicked=np.zeros(n),
        bad_ads=np.zeros(n),
        slates=np.zeros(n, np.int64),
        ad_revenue=np.zeros(n),
        lines=[(e, e, e, e, np.zeros(0, bool), e, e)],
        logged={} if log else None,
    )


def simulate_chunk(w: World, day: int, v: np.ndarray) -> None:
    """Simulate the sessions of visitors ``v`` (sorted state rows) on ``day`` with the world's ranker."""
    steps = session_steps(w, day, v)
    try:
        request = next(steps)
        while True:
            request = steps.send(_rank(w, request))
    except StopIteration:
        pass


def session_steps(w: World, day: int, v: np.ndarray) -> Generator[RankRequest, RankResponse, None]:
    """The sessions of visitors ``v`` on ``day`` as a coroutine yielding each ranking request.

    It yields the home-feed request, then the request of every open search, takes each response,
    then checks out and logs. ``simulate_chunk`` answers with the world's ranker.
    """
    mk = w.cfg.marketplace
    vs = begin_visits(w, day, v, w.market)
    if mk.home_slate_size > 0:
        req = w.home_request(day, v)
        home_feed(w, vs, req.candidates, (yield req))
    rows = open_searches(vs)
    if len(rows):
        q = vs.it.aisle[rows]
        cands = w.market.search_shelf[0, q]
        sid = vs.ids[vs.it.session[rows]]
        req = RankRequest(
            day, SURFACE_SEARCH, sid, q.astype(np.int32), cands, mk.slate_size, mk.ad_positions, mk.max_sponsored
        )
        search_feed(w, vs, rows, cands, (yield req))
    tables = checkout(w, vs)
    w.log_purchases(tables["purchases"])
    w.log_sessions(tables["sessions"])
    if "slates" in tables:
        w.log_slates(tables["slates"])


def _click_probability(exam: np.ndarray, util: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """P(examined and clicked): examination times P(util + Gumbel shock > threshold) (an expected reward)."""
    with np.errstate(over="ignore"):
        return exam * -np.expm1(-np.exp(np.minimum(util - threshold, 50.0)))


TRUTH_SAMPLES = 64  # examination patterns averaged for true purchase probabilities (shadow observers only)


def _truth_draws(w: World, ids: np.ndarray, day: np.ndarray | int, k: int) -> np.ndarray:
    """(TRUTH_SAMPLES, n, k) uniforms for Monte Carlo examination patterns, keyed by shopper and day.

    Position-major columns (position j's samples are columns j*S..j*S+S-1), so a position's draws do
    not depend on the slate width k.
    """
    u = rng.uniform(w.seed, Purpose.TRUTH_EXAMINE, ids, day, TRUTH_SAMPLES * k)
    return u.reshape(len(ids), k, TRUTH_SAMPLES).transpose(2, 0, 1)


def _home_choice(w: World, vs: Visits, slate: np.ndarray, expected: bool = False) -> tuple[np.ndarray, ...]:
    """How the visitors read home slates ``slate`` (n, K): (examined, clicked, purchased, intent served).

    ``expected``: also each placement's click and purchase (carted) probabilities given the shopper's
    state, before the shocks (purchase: Monte Carlo over the other placements' examination).
    """
    b, cat, pub = w.cfg.behaviour, w.catalog, w.public
    v, ids, day, it, n = vs.v, vs.ids, vs.day, vs.it, len(vs.v)
    m = len(it.session)
    kh = slate.shape[1]
    valid = slate >= 0
    items = np.maximum(slate, 0)
    taste_dot = np.einsum("nkd,nd->nk", cat.latent[items], vs.taste)
    item_aff = vs.aisle_aff[np.arange(n)[:, None], pub.aisle[items]]
    util = choice.item_utility(
        taste_dot,
        cat.quality[items],
        vs.market.log_rel_price[_col(vs.ep), items],
        vs.alpha[:, None],
        _habit_for(w, v, items),
        b.taste_weight,
        b.habit_weight,
    )
    shock = rng.gumbel_from_uniform(rng.uniform_keyed(w.seed, Purpose.UTILITY, ids, day, items))
    examined = valid & (rng.uniform(w.seed, Purpose.EXAMINE_HOME, ids, day, kh) < w.exam_p[:kh][None, :])
    # which open intent (if any) each shown item serves
    ikey = it.session * w.n_aisles + it.aisle
    korder = np.argsort(ikey, kind="stable")
    ksorted = ikey[korder]
    skey = np.arange(n)[:, None] * w.n_aisles + pub.aisle[items].astype(np.int64)
    pos = np.minimum(np.searchsorted(ksorted, skey), max(m - 1, 0))
    match = valid & (ksorted[pos] == skey) if m else np.zeros_like(valid)
    intent = np.where(match, korder[pos], -1) if m else np.full(valid.shape, -1)
    buy_thr = np.where(match, it.buy[np.maximum(intent, 0)] if m else 0.0, b.impulse_threshold)
    noisy = util + shock
    clicked = examined & (noisy > item_aff + b.click_threshold)
    want = clicked & (noisy > buy_thr)
    # at most one purchase per intent: the best noisy utility among the items serving it
    r, c = np.nonzero(want & match)
    best = np.full(m, -np.inf)
    np.maximum.at(best, intent[r, c], noisy[r, c])
    keep = noisy[r, c] >= best[intent[r, c]]
    purchased = want & ~match
    purchased[r[keep], c[keep]] = True
    if expected:
        exam = valid * w.exam_p[:kh][None, :]
        p_click = _click_probability(exam, util, item_aff + b.click_threshold)
        thr = np.maximum(item_aff + b.click_threshold, buy_thr)
        p_buy = choice.choice_probability(util, exam, intent, thr, _truth_draws(w, ids, day, kh))
        return examined, clicked, purchased, intent, p_click, p_buy
    return examined, clicked, purchased, intent


Outcome = tuple[np.ndarray, ...]  # (clicked, carted, P(click), P(carted)) of a batch of slates


def _shadow(w: World, vs: Visits, surface: int, query: np.ndarray, rows: np.ndarray, shown: Outcome,
            choose: Callable[[np.ndarray], Outcome]) -> None:  # fmt: skip
    """Counterfactual outcomes for an observer (``w.observer``): what the shadow targets' slates would have done.

    Same shopper state, same random draws, nothing applied. ``shown``: (clicked, carted, click
    probabilities) of the shown slate (carted: chosen, before the budget); ``choose(slate)``: the
    same for another slate.
    """
    sid = vs.ids[rows]
    day = _at(vs.day, rows)
    w.observer.record(
        (np.asarray(day, np.int64) << 32) | sid.astype(np.int64), surface, query, shown,
        {name: choose(slate) for name, slate in w.observer.pending().items()},
    )  # fmt: skip


def home_feed(w: World, vs: Visits, cands: np.ndarray, resp: RankResponse) -> None:
    """The shoppers read their home-feed slates: clicks, purchases that meet intents, impulse buys."""
    ids, day, it, n = vs.ids, vs.day, vs.it, len(vs.v)
    m = len(it.session)
    slate = resp.slate
    examined, clicked, purchased, intent = _home_choice(w, vs, slate)
    if w.observer is not None:

        def choose(alt: np.ndarray) -> Outcome:
            _, alt_clicked, alt_purchased, _, p_click, p_buy = _home_choice(w, vs, alt, expected=True)
            return alt_clicked, alt_purchased, p_click, p_buy

        _shadow(w, vs, SURFACE_HOME, np.full(n, -1), np.arange(n), choose(slate), choose)
    pr, pc = np.nonzero(purchased)
    p_int = intent[pr, pc]
    vs.resolved[p_int[p_int >= 0]] = True
    p_need = it.need[np.maximum(p_int, 0)] if m else np.zeros(len(p_int), bool)
    prio = np.where(p_int >= 0, np.where(p_need, PRIORITY_NEED, PRIORITY_WANT), PRIORITY_IMPULSE)
    vs.lines.append((pr, slate[pr, pc], np.full(len(pr), SOURCE_HOME), pc, resp.sponsored[pr, pc], p_int, prio))
    ad_rev = _ad_revenue(w, resp, clicked)
    if vs.logged is not None:
        log = _slate_log(
            w, day, ids, SURFACE_HOME, np.full(n, -1), (cands >= 0).sum(1), resp, clicked, purchased, ad_rev
        )
        vs.logged[SOURCE_HOME] = (log, np.arange(n), np.arange(n))  # home rows are visits
    vs.examined += examined.sum(1)
    vs.clicked += clicked.sum(1)
    vs.bad_ads += (examined & resp.sponsored & ~clicked).sum(1)
    vs.slates += 1
    vs.ad_revenue += ad_rev.astype(np.float32)


def open_searches(vs: Visits) -> np.ndarray:
    """Intents still open after the home feed, grouped by aisle: one search each (per-aisle blocks)."""
    rows = np.flatnonzero(~vs.resolved)
    return rows[_stable_order(vs.it.aisle[rows])]


def _search_choice(
    w: World, vs: Visits, rows: np.ndarray, full: np.ndarray, slate: np.ndarray, expected: bool = False
) -> tuple[np.ndarray, ...]:
    """How the searches of intents ``rows`` read slates ``slate`` (R, K): (examined, clicked, bought position or -1).

    ``expected``: also each placement's click and purchase probabilities given the shopper's state,
    before the shocks (purchase: Monte Carlo over the other placements' examination).
    """
    b, pub, it = w.cfg.behaviour, w.public, vs.it
    q = it.aisle[rows]
    sess = it.session[rows]
    sid = vs.ids[sess]
    day = _at(vs.day, sess)
    k = slate.shape[1]
    valid = slate >= 0
    items = np.maximum(slate, 0)
    util = full[np.arange(len(rows))[:, None], pub.shelf_pos[items]]
    shock = rng.gumbel_from_uniform(rng.uniform_keyed(w.seed, Purpose.UTILITY, sid, day, items))
    ukey = q[:, None] * 128 + np.arange(k)[None, :]
    u_exam = rng.uniform_keyed(w.seed, Purpose.EXAMINE_SEARCH, sid, day, ukey)
    p = w.exam_p[None, :k] + b.need_persistence * it.need[rows][:, None] * (1.0 - w.exam_p[None, :k])
    examined = valid & (u_exam < p)
    util = np.where(valid, util, -np.inf)
    clicked, bought = choice.decide(util, shock, examined, it.affinity[rows] + b.click_threshold, it.buy[rows])
    if expected:
        click_thr = it.affinity[rows] + b.click_threshold
        p_click = _click_probability(valid * p, util, click_thr[:, None])
        thr = np.broadcast_to(np.maximum(click_thr, it.buy[rows])[:, None], util.shape)
        group = np.zeros(util.shape, np.int64)  # one purchase per search: every placement competes
        p_buy = choice.choice_probability(util, valid * p, group, thr, _truth_draws(w, sid, day, k))
        return examined, clicked, bought, p_click, p_buy
    return examined, clicked, bought


def _bought_mask(bought: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(bought), k), bool)
    hit = bought >= 0
    out[np.flatnonzero(hit), bought[hit]] = True
    return out


def search_feed(w: World, vs: Visits, rows: np.ndarray, cands: np.ndarray, resp: RankResponse) -> None:
    """The searches of intents ``rows`` (from ``open_searches``): read each slate, buy, or find it anyway."""
    b, it = w.cfg.behaviour, vs.it
    m = len(it.session)
    q = it.aisle[rows]
    sess = it.session[rows]
    shopper = vs.v[sess]  # state rows
    sid = vs.ids[sess]  # shopper ids
    day = _at(vs.day, sess)
    full = _shelf_utility(w, vs.market, _at(vs.ep, sess), shopper, q, vs.alpha[sess], vs.taste[sess])
    full = np.where(cands >= 0, full, -np.inf)
    slate = resp.slate
    valid = slate >= 0
    examined, clicked, bought = _search_choice(w, vs, rows, full, slate)
    if w.observer is not None:
        k = slate.shape[1]

        def choose(alt: np.ndarray) -> Outcome:
            _, alt_clicked, alt_bought, p_click, p_buy = _search_choice(w, vs, rows, full, alt, expected=True)
            return alt_clicked, _bought_mask(alt_bought, k), p_click, p_buy

        _shadow(w, vs, SURFACE_SEARCH, q, sess, choose(slate), choose)
    hit = bought >= 0
    purchased = np.zeros_like(valid)
    purchased[np.flatnonzero(hit), bought[hit]] = True
    vs.resolved[rows[hit]] = True
    hr = np.flatnonzero(hit)
    prio = np.where(it.need[rows[hr]], PRIORITY_NEED, PRIORITY_WANT)
    vs.lines.append(
        (
            sess[hr],
            slate[hr, bought[hr]],
            np.full(len(hr), SOURCE_SEARCH),
            bought[hr],
            resp.sponsored[hr, bought[hr]],
            rows[hr],
            prio,
        )
    )
    ad_rev = _ad_revenue(w, resp, clicked)
    if vs.logged is not None:
        log = _slate_log(w, day, sid, SURFACE_SEARCH, q, (cands >= 0).sum(1), resp, clicked, purchased, ad_rev)
        row_of_intent = np.full(m, -1, np.int64)
        row_of_intent[rows] = np.arange(len(rows))
        vs.logged[SOURCE_SEARCH] = (log, row_of_intent, sess)
    n = len(vs.v)
    vs.examined += np.bincount(sess, examined.sum(1), minlength=n)
    vs.clicked += np.bincount(sess, clicked.sum(1), minlength=n)
    vs.bad_ads += np.bincount(sess, (examined & resp.sponsored & ~clicked).sum(1), minlength=n)
    vs.slates += np.bincount(sess, minlength=n)
    vs.ad_revenue += np.bincount(sess, ad_rev.astype(np.float32), minlength=n)

    # ---- organic: a need still open may be found anyway by browsing the aisle ----------
    o = np.flatnonzero(~hit & it.need[rows])
    if len(o):
        u_org = rng.uniform_keyed(w.seed, Purpose.ORGANIC, sid[o], _at(day, o), q[o][:, None])[:, 0]
        col = full[o].argmax(axis=1)
        item = cands[o, col]
        fine = (item >= 0) & (u_org < b.organic_find)
        o_shock = rng.gumbel_from_uniform(
            rng.uniform_keyed(w.seed, Purpose.UTILITY, sid[o], _at(day, o), np.maximum(item, 0)[:, None])[:, 0]
        )
        ok = fine & (full[o, col] + o_shock > it.buy[rows[o]])
        oo = o[ok]
        vs.resolved[rows[oo]] = True
        vs.lines.append(
            (
                sess[oo],
                item[ok],
                np.full(len(oo), SOURCE_ORGANIC),
                np.full(len(oo), -1),
                np.zeros(len(oo), bool),
                rows[oo],
                np.full(len(oo), PRIORITY_NEED),
            )
        )


def _shelf_utility(
    w: World,
    market: Market,
    ep: int | np.ndarray,
    shopper: np.ndarray,
    q: np.ndarray,
    alpha: np.ndarray,
    taste: np.ndarray,
) -> np.ndarray:
    """(R, W) deterministic utility of every product on each searched aisle's shelf.

    ``q`` must be sorted (requests grouped by aisle): one small matrix product per aisle on a
    contiguous block, instead of per-row gathers of item embeddings (measured ~4x faster);
    habits are added sparsely afterwards.
    """
    b = w.cfg.behaviour
    r, width = len(q), w.shelf.shape[1]
    out = np.empty((r, width), np.float32)
    alpha32 = alpha.astype(np.float32)
    bounds = np.flatnonzero(np.diff(q)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [r]]).tolist()
    for s, e in zip(starts, ends, strict=True):
        np.matmul(taste[s:e], w.shelf_latent_t[q[s]], out=out[s:e])
    # the elementwise rest over all rows at once (the same float32 operations in the same order)
    out *= np.float32(b.taste_weight)
    out += w.shelf_quality[q]
    out -= alpha32[:, None] * market.shelf_lrp[ep, q]
    # habits: add the stock of habit items that sit on this aisle's shelf
    h_items = w.state.habit_item[shopper]
    h_stock = w.state.habit_stock[shopper]
    hpos = w.public.shelf_pos[np.maximum(h_items, 0)]
    on = (h_items >= 0) & (w.public.aisle[np.maximum(h_items, 0)] == q[:, None]) & (hpos < width)
    rr, hh = np.nonzero(on)
    out[rr, hpos[rr, hh]] += np.float32(b.habit_weight) * h_stock[rr, hh]
    return out


def checkout(w: World, vs: Visits) -> dict[str, dict[str, np.ndarray]]:
    """Budget trim, state updates (pantry, habits, order history, satisfaction, churn, next trip), logs."""
    st, b, pub = w.state, w.cfg.behaviour, w.public
    v, it, resolved, logged = vs.v, vs.it, vs.resolved, vs.logged or {}
    n = len(v)
    sess, item, source, position, sponsored, intent, prio = (np.concatenate(x) for x in zip(*vs.lines, strict=True))
    sess = sess.astype(np.int64)
    item = item.astype(np.int64)
    price = vs.market.price[_at(vs.ep, sess), item].astype(np.float64)
    # budget: needs first, then wants, then impulse buys, cheapest first; the first line always fits.
    # The sorted order (visit, priority, price) is also the canonical order of the purchase log.
    cents = np.minimum(np.rint(price * 100), 2**24 - 1).astype(np.int64)
    order = np.argsort((sess * 3 + prio) * 2**24 + cents, kind="stable")
    ss = sess[order]
    cum = np.cumsum(price[order])
    start = np.searchsorted(ss, ss)  # first line of each session in sorted order
    spend = cum - np.concatenate([[0.0], cum])[start]
    keep_sorted = (np.arange(len(ss)) == start) | (spend <= st.budget[v[ss]])
    dropped = order[~keep_sorted]
    if len(dropped):
        di = intent[dropped]
        resolved[di[di >= 0]] = False
        # carted but not bought: clear ``purchased`` in the slate logs for lines the budget removed
        for src, (log, row_of, _) in logged.items():
            sel = dropped[source[dropped] == src]
            row = sess[sel] if src == SOURCE_HOME else row_of[intent[sel]]
            log["purchased"][row, position[sel]] = False
    kept = order[keep_sorted]
    sess, item, source, position, sponsored, price = (
        sess[kept],
        item[kept],
        source[kept],
        position[kept],
        sponsored[kept],
        price[kept],
    )
    shopper = v[sess]
    line_day = _at(vs.day, sess)
    margin = price * pub.margin_rate[item]

    # pantry refill for used staples
    k = w.staple_index[pub.aisle[item]]
    sl = k >= 0
    if sl.any():
        ps, pk, pi = shopper[sl], k[sl], item[sl]
        cycle = w.catalog.aisle_cycle[pub.aisle[pi]] * pub.size[pi] * st.consumption[ps]
        st.pantry_runout[ps, pk] = pantry.refill(st.pantry_runout[ps, pk], _at(line_day, sl), cycle)

    # habits and the platform's order-again history
    # a visit buys an item at most once (one line per intent; impulse buys are outside every intent)
    hs, hi = shopper, item
    slot, new = slots.assign(st.habit_item, st.habit_stock, hs, hi, rows_sorted=True)
    ok = slot >= 0
    cur = np.where(new[ok], 0.0, st.habit_stock[hs[ok], slot[ok]])
    st.habit_stock[hs[ok], slot[ok]] = habit.reinforced(cur, b.habit_gain)
    st.habit_day[hs[ok], slot[ok]] = _at(line_day, ok)
    slot, new = slots.assign(w.order_history_items, w.order_history_counts, hs, hi, rows_sorted=True)
    ok = slot >= 0
    w.order_history_counts[hs[ok][new[ok]], slot[ok][new[ok]]] = 0
    w.order_history_counts[hs[ok], slot[ok]] += 1

    # satisfaction and churn
    n_need = np.bincount(it.session, weights=it.need, minlength=n)
    met = np.bincount(it.session, weights=it.need & resolved, minlength=n)
    needs_met = np.where(n_need > 0, met / np.maximum(n_need, 1), 1.0)
    ex = np.maximum(vs.examined, 1)
    relevance = np.where(vs.examined > 0, vs.clicked / ex, 0.0)
    score = satisfaction.session_score(relevance, needs_met, vs.bad_ads / ex, w.cfg.churn)
    w.experience += np.array([n, relevance.sum(), needs_met.sum(), (vs.bad_ads / ex).sum(), score.sum()])
    st.satisfaction[v] = satisfaction.updated_satisfaction(st.satisfaction[v], score, w.cfg.churn)
    day = vs.day  # each visit's day
    u = rng.uniform(w.seed, Purpose.CHURN, st.shopper_id[v], day, 4)
    churned = u[:, 0] < satisfaction.churn_hazard(st.satisfaction[v].astype(np.float64), w.cfg.churn)
    to_need = pantry.days_until_needs(st.pantry_runout[v], day, b.need_lookahead_days, b.needs_per_trip)
    interval = st.interval[v] * satisfaction.interval_factor(st.satisfaction[v], w.cfg.churn)
    gap = visits.next_gap(interval.astype(np.float64), st.weekly[v], u[:, 1], to_need, u[:, 2], u[:, 3])
    st.next_visit[v] = np.where(churned, NEVER, day + gap)
    st.churn_day[v] = np.where(churned, day, NEVER)

    # logs
    tables = {
        "purchases": {
            "session_id": (np.asarray(line_day, np.int64) << 32) | st.shopper_id[shopper],
            "shopper_id": st.shopper_id[shopper].astype(np.int32),
            "day": _days(line_day, len(item)),
            "item_id": item.astype(np.int32),
            "aisle": pub.aisle[item],
            "price": price.astype(np.float32),
            "margin": margin.astype(np.float32),
            "source": source.astype(np.int8),
            "position": position.astype(np.int8),
            "sponsored": sponsored.astype(bool),
        },
        "sessions": {
            "session_id": (np.asarray(day, np.int64) << 32) | st.shopper_id[v],
            "shopper_id": st.shopper_id[v].astype(np.int32),
            "day": _days(day, n),
            "n_slates": vs.slates.astype(np.int16),
            "n_lines": np.bincount(sess, minlength=n).astype(np.int16),
            "gtv": np.bincount(sess, weights=price, minlength=n).astype(np.float32),
            "margin": np.bincount(sess, weights=margin, minlength=n).astype(np.float32),
            "ad_revenue": vs.ad_revenue.astype(np.float32),
        },
    }
    # slate log in canonical order: by visit (session ids grow with shopper id), home feed first
    if logged:
        parts = [log for log, _, _ in logged.values()]
        table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = _stable_order(np.concatenate([visits for _, _, visits in logged.values()]))
        tables["slates"] = {k: col[order] for k, col in table.items()}
    return tables
