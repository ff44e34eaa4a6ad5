"""Independent shopper lives stepped one slate at a time, many at once: the engine of the Shopper envs.

Each slot of ``ShopperLives`` hosts one shopper's life after another, from day 0 to churn (or,
with ``absence_days``, to N days without a visit) or the horizon, and a policy chooses every slate
the shopper sees. The slots are state rows of one subset ``World`` (same catalog, same physics,
same per-shopper random draws as ``basketgym run``), but their visits fall on different days, so
each visit reads the catalog of its own day from a ``MarketTimeline``. One ``step`` advances every
slot by one slate:

- home-feed answers are read at once (what the home feed sells decides which searches follow);
- search answers are stored until the visit's last one (searches of a visit do not affect each
  other, and a search's observation does not depend on them);
- every visit that has had its last slate checks out in one batch, and its slot moves on to the
  shopper's next visit (or reports churn or the horizon).

The session physics are ``sim.session``'s phase functions, shared with the world; nothing here
re-implements a shopper. What the policy observes is built in ``basketgym.envs.features``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from basketgym.agents.state import NEVER
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, Ranker, RankRequest, RankResponse
from basketgym.contract.rng import ranker_seed
from basketgym.contract.threads import one_blas_thread
from basketgym.envs.actions import shown_response, slates_from_actions
from basketgym.envs.features import SlotFeatures
from basketgym.envs.parked import ParkedVisits
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.market import MarketTimeline
from basketgym.sim.session import home, search
from basketgym.sim.session.checkout import checkout
from basketgym.sim.session.visits import Visits, begin_visits
from basketgym.sim.world import World

ONGOING, TERMINATED, TRUNCATED = 0, 1, 2


class PolicyRanked:
    """The world's ranker when a policy answers every request: it never ranks, and holds no state."""

    name = "policy"

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Nothing to prepare."""

    def rank(self, request: RankRequest) -> RankResponse:
        """Never called: the policy chooses the slates."""
        raise RuntimeError("the policy ranks these shoppers' slates")

    def update(self, day_log: dict) -> None:
        """Nothing to learn."""

    def fit(self, day: int) -> None:
        """Nothing to refit."""


@dataclass
class StepResult:
    """What one ``ShopperLives.step`` did, per slot (arrays of length N)."""

    done_visit: np.ndarray  # bool: the slot's visit checked out this step
    gtv: np.ndarray  # float64: the checked-out visit's GTV (0 otherwise)
    margin: np.ndarray
    ad_revenue: np.ndarray
    lines: np.ndarray  # int64: order lines of the checked-out visit (0 otherwise)
    day: np.ndarray  # int64: the day of the slate just answered
    status: np.ndarray  # int8: ONGOING, TERMINATED (churned, or absent N days) or TRUNCATED (beyond the horizon)
    purchases: dict[str, np.ndarray]  # the order lines of the visits checked out this step


class ShopperLives:
    """N slots of shopper lives in one world (scenario ``cfg``, world seed ``seed``), advanced one slate per step.

    Envs drive it with ``start``, ``prefetch`` and ``step`` and read it only through ``ENV_READS``
    (tested by an AST scan of ``basketgym/envs``): sizes, where each slot stands (``day``,
    ``status``, ``surface``, ``end_day``, ``cands``: arrays the envs never write), the observation
    (``query``, ``candidate_features``, ``shopper_features``), ``shopper_ids`` and ``truth``.
    """

    ENV_READS = frozenset({
        "n", "seed", "n_candidates", "slate_size", "n_products", "n_aisles", "aisle_name",
        "day", "status", "surface", "end_day", "cands", "query", "candidate_features", "shopper_features",
        "shopper_ids", "truth", "start", "prefetch", "step", "reset_ranker", "ranker_actions",
    })  # fmt: skip

    def __init__(self, cfg: ScenarioConfig, seed: int, n_slots: int, absence_days: int | None = None):
        """``absence_days``: None ends a life at churn (hidden state); N ends it after N days without a visit.

        The absence ending is observable: see ``_next_visits``.
        """
        if n_slots < 1:
            raise ValueError(f"n_slots = {n_slots}: must be at least 1")
        if absence_days is not None and (not isinstance(absence_days, int | np.integer) or absence_days < 1):
            raise ValueError(f"absence_days = {absence_days!r}: must be None or a whole number of days >= 1")
        self.cfg, self.seed, self.n = cfg, int(seed), int(n_slots)
        self.absence_days = None if absence_days is None else int(absence_days)
        self.world = World(cfg, seed, PolicyRanked(), "policy", shoppers=np.array([0]))
        w, mk = self.world, cfg.marketplace
        self.timeline = MarketTimeline(cfg, seed, w.catalog, w.shop.shelf, cfg.days)
        self.market = self.timeline.market
        # the sessions' context: the world's shoppers and catalog, the market of every epoch, no ranker
        self.ctx = dataclasses.replace(w.sessions, market=self.market, ranker=None, featured=None)
        self.k_home, self.k_search = mk.home_slate_size, mk.slate_size
        self.slate_size = max(self.k_home, self.k_search)
        self.n_home = (max(1, mk.home_order_again) + mk.home_featured) if self.k_home > 0 else 0
        self.n_candidates = max(self.n_home, w.shop.shelf.shape[1])
        n, n_int = self.n, len(w.shop.staple_aisles) + w.state.favourite_aisles.shape[1]
        self.max_intents = n_int
        # where each slot stands
        self.day = np.zeros(n, np.int64)
        self.ep = np.zeros(n, np.int64)
        self.surface = np.zeros(n, np.int8)
        self.status = np.zeros(n, np.int8)
        self.last_visit = np.zeros(n, np.int64)  # day of the last visit checked out (0 before the first)
        self.end_day = np.full(n, -1, np.int64)  # absence endings: the day the N days without a visit ran out
        self.home_cands = np.full((n, max(self.n_home, 1)), -1, np.int32)
        self.parked = ParkedVisits(n, n_int, self.k_home, self.k_search)  # the open visit of each slot
        # what the platform knows of each slot's shopper (observable)
        self.orders = np.zeros(n)
        self.lines = np.zeros(n)
        self.spend = np.zeros(n)
        self.last_order = np.full(n, -1, np.int64)
        self.status[:] = TERMINATED  # no life yet: ``start`` one
        self.cands = np.full((n, self.n_candidates), -1, np.int32)  # candidates of each slot's current slate
        self.cur_query = np.full(n, -1, np.int64)  # the searched aisle, -1 on the home feed
        self._slot0 = np.zeros(1, np.int64)
        self.features = SlotFeatures(w.public, self.market, n, self.n_candidates, cfg.days)
        self._staged: dict[int, int] = {}  # shopper id -> spare world row holding their fresh life
        self._earlier = np.tril(np.ones((self.slate_size, self.slate_size), bool), -1)[None]

    # ---- lives ---------------------------------------------------------------------------
    def start(self, slots: np.ndarray, shopper_ids: np.ndarray) -> None:
        """Begin the lives of ``shopper_ids`` in ``slots`` (from day 0) and show their first slate."""
        slots = np.asarray(slots, np.int64)
        self._new_lives(slots, shopper_ids)
        with one_blas_thread():
            self._next_visits(slots)
        self._refresh(slots)
        self._update_shopper_features(slots)

    def prefetch(self, shopper_ids: np.ndarray) -> None:
        """Initialise the lives of ``shopper_ids`` ahead of time, in one batch, in spare world rows.

        Starting a handful of lives per step costs a fixed ~0.2 ms of array calls each time; an
        environment that knows which shoppers come next stages them here and ``start`` copies them.
        """
        ids = np.asarray(shopper_ids, np.int64).reshape(-1)
        rows = self.n + np.arange(len(ids))
        self.world.reset_rows(rows, ids)
        self._staged = dict(zip(ids.tolist(), rows.tolist(), strict=True))

    def _new_lives(self, slots: np.ndarray, shopper_ids: np.ndarray) -> None:
        ids = np.asarray(shopper_ids, np.int64)
        src = np.array([self._staged.pop(i, -1) for i in ids.tolist()], np.int64)
        staged = src >= 0
        if staged.any():
            self.world.copy_rows(src[staged], slots[staged])
        if not staged.all():
            self.world.reset_rows(slots[~staged], ids[~staged])
        self.orders[slots], self.lines[slots], self.spend[slots] = 0.0, 0.0, 0.0
        self.last_order[slots] = -1
        self.last_visit[slots], self.end_day[slots] = 0, -1
        self.features.forget(slots)
        self.status[slots] = ONGOING

    def step(
        self,
        actions: np.ndarray,
        active: np.ndarray | None = None,
        start: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> StepResult:
        """Show every active slot its policy's slate (``actions``: (N, K) indices into the candidates).

        ``start=(slots, shopper_ids)`` begins new lives in those slots in the same pass (an
        autoreset): they take no action this step and show their first slate afterwards.
        """
        n = self.n
        if n == 1 and start is None:  # one life (Shopper-v0): most steps just move to the next search
            quick = self._next_search_of_one(actions, active)
            if quick is not None:
                return quick
        live = self.status == ONGOING if active is None else active & (self.status == ONGOING)
        fresh = np.zeros(0, np.int64)
        if start is not None and len(start[0]):
            fresh = np.asarray(start[0], np.int64)
            live[fresh] = False
            self._new_lives(fresh, start[1])
        slots = np.flatnonzero(live)
        slates = slates_from_actions(self.cands, np.asarray(actions, np.int64).reshape(n, -1)[slots], slots)
        day = self.day.copy()
        at_home = self.surface[slots] == SURFACE_HOME
        home, search = slots[at_home], slots[~at_home]
        done = np.zeros(0, np.int64)
        if len(search):
            self.parked.search_slates[search, self.parked.cursor[search], :] = slates[~at_home, : self.k_search]
            self.parked.cursor[search] += 1
            done = search[self.parked.cursor[search] == self.parked.n_search[search]]
        result = StepResult(
            done_visit=np.zeros(n, bool),
            gtv=np.zeros(n),
            margin=np.zeros(n),
            ad_revenue=np.zeros(n),
            lines=np.zeros(n, np.int64),
            day=day,
            status=self.status.copy(),
            purchases={},
        )
        if len(home) or len(done) or len(fresh):
            with one_blas_thread():  # entered once: each entry talks to every BLAS library loaded
                self._visits_move_on(home, slates[at_home, : self.k_home], done, fresh, result)
        self._refresh(np.concatenate([slots, fresh]) if len(fresh) else slots)
        return result

    def _visits_move_on(
        self, home: np.ndarray, home_slates: np.ndarray, done: np.ndarray, fresh: np.ndarray, result: StepResult
    ) -> None:
        """Read the home slates, check out finished visits, move slots on to their next visit."""
        if len(home):
            no_search = self._home_feed(home, home_slates)
            done = np.sort(np.concatenate([done, no_search])) if len(done) else no_search
        if len(done):
            tables = self._checkout(done)
            s = tables["sessions"]
            result.done_visit[done] = True
            result.gtv[done], result.margin[done], result.ad_revenue[done] = s["gtv"], s["margin"], s["ad_revenue"]
            result.lines[done] = s["n_lines"]
            result.purchases = tables["purchases"]
        moved = np.concatenate([done, fresh]) if len(fresh) else done  # to the next (or first) visit
        if len(moved):
            self._next_visits(moved)
            self._update_shopper_features(moved)
            result.status[done] = self.status[done]

    def _next_search_of_one(self, actions: np.ndarray, active: np.ndarray | None) -> StepResult | None:
        """``step`` for a single slot whose slate is a search but not the visit's last, in scalars.

        The same bookkeeping as the general path (store the slate, advance the cursor, refresh the
        candidates), without its dozens of tiny array calls; None when the case does not apply.
        """
        if (active is not None and not active[0]) or self.status[0] != ONGOING or self.surface[0] != SURFACE_SEARCH:
            return None
        cur = int(self.parked.cursor[0]) + 1
        if cur >= self.parked.n_search[0]:
            return None
        slate = slates_from_actions(self.cands, np.asarray(actions, np.int64).reshape(1, -1), self._slot0)
        self.parked.search_slates[0, cur - 1] = slate[0, : self.k_search]
        self.parked.cursor[0] = cur
        q = self.parked.i_aisle[0, self.parked.search_col[0, cur]]
        self.cur_query[0] = q
        shelf = self.market.search_shelf[self.ep[0], q]
        self.cands[0, : len(shelf)] = shelf
        self.cands[0, len(shelf) :] = -1
        zero = np.zeros(1)
        return StepResult(np.zeros(1, bool), zero, zero.copy(), zero.copy(), np.zeros(1, np.int64),
                          self.day.copy(), self.status.copy(), {})  # fmt: skip

    # ---- what envs read: these and the arrays named in ``ENV_READS`` (read-only for envs) -----------
    @property
    def n_products(self) -> int:
        """Products in the catalog (candidate ids are below it)."""
        return self.world.public.n_products

    @property
    def n_aisles(self) -> int:
        """Aisles in the catalog (queries are below it)."""
        return self.world.public.n_aisles

    def aisle_name(self, aisle: int) -> str:
        """The name of aisle ``aisle`` (a search's query, for rendering)."""
        return self.world.public.aisle_names[aisle]

    def shopper_ids(self) -> np.ndarray:
        """(N,) the id of the shopper living in each slot (a copy)."""
        return self.world.state.shopper_id[: self.n].copy()

    def truth(self) -> dict[str, np.ndarray]:
        """Simulator truth of each slot's shopper, for ``info["truth"]`` only (a policy must not act on it).

        ``satisfaction`` (N,) float64; ``churned`` (N,) bool: the life ended by churn (``end_on="churn"``),
        or the shopper has churned, whether or not their episode ended (absence ending).
        """
        st, n = self.world.state, self.n
        churned = self.status == TERMINATED if self.absence_days is None else st.churn_day[:n] != NEVER
        return {"satisfaction": st.satisfaction[:n].astype(np.float64), "churned": churned}

    # ---- what the policy sees ---------------------------------------------------------------
    def query(self) -> np.ndarray:
        """(N,) the searched aisle of each slot's current slate (-1 on the home feed or once a life is over)."""
        return self.cur_query

    def _refresh(self, slots: np.ndarray) -> None:
        """Bring ``cands`` and ``cur_query`` of ``slots`` to their current slate."""
        self.cands[slots] = -1
        self.cur_query[slots] = -1
        on = slots[self.status[slots] == ONGOING]
        at_home = self.surface[on] == SURFACE_HOME
        home, search = on[at_home], on[~at_home]
        self.cands[home, : self.n_home] = self.home_cands[home, : self.n_home]
        q = self.parked.i_aisle[search, self.parked.search_col[search, self.parked.cursor[search]]]
        self.cur_query[search] = q
        self.cands[search, : self.market.search_shelf.shape[2]] = self.market.search_shelf[self.ep[search], q]

    def candidate_features(self) -> np.ndarray:
        """(N, C, F) public features of each slot's candidates on its day, and whether the shopper bought them.

        Search rows copy their aisle's pre-built shelf block for the day's epoch and add the bought
        flags; home rows copy the block built when the visit started; rows without a slate are zeros.
        """
        f = self.features
        if self.n == 1:  # one life: the same, in scalars
            if self.status[0] != ONGOING:
                return np.zeros_like(f.home)
            if self.surface[0] == SURFACE_HOME:
                return f.home.copy()
            return f.search_one(self.ep[0], self.cur_query[0], self.cands)
        on = self.status == ONGOING
        home = np.flatnonzero(on & (self.surface == SURFACE_HOME))
        return f.gather(home, on & (self.surface == SURFACE_SEARCH), self.ep, self.cur_query, self.cands)

    def bought_before(self, slot: int, items: np.ndarray) -> np.ndarray:
        """Whether slot ``slot``'s shopper has bought each of ``items`` (ids >= 0)."""
        return self.features.bought_flags(np.array([slot]), np.asarray(items)[None, :])[0].astype(bool)

    def shopper_features(self) -> np.ndarray:
        """(N, 6) what the platform's log says about each slot's shopper (``features.SHOPPER_FEATURES``).

        They change only when a visit checks out or a life starts, so they are kept up to date then.
        """
        return self.features.shopper

    def _update_shopper_features(self, slots: np.ndarray) -> None:
        self.features.update_shopper(slots, self.day[slots], self.last_order[slots], self.orders[slots],
                                     self.spend[slots], self.lines[slots])  # fmt: skip

    def requests(self) -> list[tuple[np.ndarray, RankRequest]]:
        """The current requests as ranker requests, one per (surface, day): (slots, request) pairs.

        For driving the lives with an ordinary ranker (tests, baselines): its slates mapped to
        candidate indices reproduce that ranker's world.
        """
        mk, cands, query = self.cfg.marketplace, self.cands, self.cur_query
        out = []
        ongoing = np.flatnonzero(self.status == ONGOING)
        for surface, k in ((SURFACE_HOME, self.k_home), (SURFACE_SEARCH, self.k_search)):
            rows = ongoing[self.surface[ongoing] == surface]
            for day in np.unique(self.day[rows]):
                r = rows[self.day[rows] == day]
                c = cands[r, : self.n_home] if surface == SURFACE_HOME else cands[r, : self.world.shop.shelf.shape[1]]
                ids = self.world.state.shopper_id[r]
                req = RankRequest(
                    int(day), surface, ids, query[r].astype(np.int32), c, k, mk.ad_positions, mk.max_sponsored
                )
                out.append((r, req))
        return out

    def reset_ranker(self, ranker: Ranker) -> None:
        """Start ``ranker`` on this world as ``World`` does: the read-only catalog and ``ranker_seed(seed)``."""
        ranker.reset(self.world.ranker_catalog, ranker_seed(self.seed))

    def ranker_actions(self, ranker: Ranker) -> np.ndarray:
        """(N, K) actions that show what ``ranker`` would show each slot now (its slates as candidate indices).

        Drives the lives with an ordinary ranker (started with ``reset_ranker``): with a ranker whose
        slates depend only on the request row (the baselines), each shopper lives exactly their life
        in that ranker's world.
        Short slates are padded with repeats of the first pick, which the action rule drops.
        """
        out = np.zeros((self.n, self.slate_size), np.int64)
        for rows, req in self.requests():
            slate = ranker.rank(req).slate
            hit = slate[:, :, None] == self.cands[rows][:, None, :]  # candidates are distinct per row
            index = np.where(hit.any(axis=2) & (slate >= 0), hit.argmax(axis=2), -1)
            index = np.where(index >= 0, index, index[:, :1])
            out[rows, : index.shape[1]] = index
            out[rows, index.shape[1] :] = index[:, :1]
        return out

    # ---- the phases ------------------------------------------------------------------------
    def _next_visits(self, slots: np.ndarray) -> None:
        """Move ``slots`` to their shopper's next visit (or mark the life over) and prepare its first slate."""
        st, days = self.world.state, self.cfg.days
        while len(slots):
            nxt = st.next_visit[slots].astype(np.int64)
            if self.absence_days is None:  # churn: hidden state ends the life
                churned = st.churn_day[slots] != NEVER
                status = np.where(churned | (nxt == NEVER), TERMINATED, np.where(nxt >= days, TRUNCATED, ONGOING))
            else:
                # absence: no visit in the N days after the last one (or after day 0). Only the
                # next visit's day is read (what waiting N days would show), never churn state; a
                # deadline past the horizon is the horizon's truncation
                deadline = self.last_visit[slots] + self.absence_days
                away = (nxt == NEVER) | (nxt > deadline)
                gone = away & (deadline < days)
                status = np.where(gone, TERMINATED, np.where(away | (nxt >= days), TRUNCATED, ONGOING))
                self.end_day[slots] = np.where(gone, deadline, -1)
            self.status[slots] = status
            slots = slots[self.status[slots] == ONGOING]
            if not len(slots):
                return
            self.day[slots] = st.next_visit[slots]
            self.ep[slots] = self.timeline.epoch_of_day[self.day[slots]]
            if self.k_home > 0:
                self.surface[slots] = SURFACE_HOME
                self._home_candidates(slots)
                return
            # no home feed: the visit starts with its searches; a visit with none checks out at once
            self.surface[slots] = SURFACE_SEARCH
            vs = self._begin(slots)
            self.parked.keep(self.ctx, slots, vs)
            empty = slots[self.parked.n_search[slots] == 0]
            if len(empty):
                self._checkout(empty)
            slots = empty

    def _home_candidates(self, slots: np.ndarray) -> None:
        """The home feed's candidates as ``sim.session.home.request`` builds them, each slot on its own day."""
        n, p = len(slots), self.world.public.n_products
        hist = self.world.history.items[slots]
        safe = np.maximum(hist, 0)
        hist = np.where((hist >= 0) & self.market.available[self.ep[slots][:, None], safe], hist, -1)
        feat = self.timeline.featured(self.day[slots])  # (n, K): sorted pools, -1 padding last
        # featured items already in the history are not offered twice: find them with one search
        # over the pools laid end to end (row r's keys are r * (P + 1) + item, padding P)
        base = np.arange(n)[:, None] * (p + 1)
        keys = (base + np.where(feat >= 0, feat, p)).ravel()
        q = base + safe
        j = np.minimum(np.searchsorted(keys, q), keys.size - 1)
        hr, hc = np.nonzero((hist >= 0) & (keys[j] == q))
        feat[hr, j[hr, hc] - hr * feat.shape[1]] = -1
        cands = np.concatenate([hist, feat], axis=1)
        self.home_cands[slots, : self.n_home] = cands
        # their features for the visit's home slate (prices of the day, what the shopper bought so far)
        self.features.set_home(slots, self.ep[slots], cands)

    def _begin(self, slots: np.ndarray) -> Visits:
        return begin_visits(self.ctx, self.day[slots], slots, self.ep[slots], log=False)

    def _home_feed(self, slots: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """Read the home slates of ``slots``; returns the slots whose visit has no search left."""
        vs = self._begin(slots)
        resp = self._response(slates)
        home.read(self.ctx, vs, np.arange(len(slots)), self.home_cands[slots, : self.n_home], resp)
        self.parked.keep(self.ctx, slots, vs)
        self.surface[slots] = SURFACE_SEARCH
        return slots[self.parked.n_search[slots] == 0]

    def _response(self, slates: np.ndarray) -> RankResponse:
        return shown_response(slates, self.world.public.ad_eligible, self.cfg.marketplace)

    def _checkout(self, slots: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        """Run the stored searches of ``slots`` (sorted), then check their visits out together."""
        vs, offset = self.parked.reopen(slots, self.world.state, self.day[slots], self.ep[slots])
        it = vs.it
        ss, sj = np.nonzero(np.arange(self.parked.search_col.shape[1])[None, :] < self.parked.n_search[slots][:, None])
        if len(ss):
            rows = offset[ss] + self.parked.search_col[slots[ss], sj]
            order = np.argsort(it.aisle[rows], kind="stable")  # grouped by aisle, as the world does
            rows, ss, sj = rows[order], ss[order], sj[order]
            cands = self.market.search_shelf[self.ep[slots[ss]], it.aisle[rows]]
            slate = self.parked.search_slates[slots[ss], sj]
            resp = self._response(slate)
            search.read(self.ctx, vs, rows, cands, resp)
        tables = checkout(self.ctx, vs)
        s, p = tables["sessions"], tables["purchases"]
        has = s["n_lines"] > 0
        self.orders[slots] += has
        self.lines[slots] += s["n_lines"]
        self.spend[slots] += s["gtv"]
        self.last_order[slots] = np.where(has, self.day[slots], self.last_order[slots])
        self.last_visit[slots] = self.day[slots]
        # purchase lines come in visit order (the canonical log order): n_lines of each visit in turn
        self.features.record_purchases(np.repeat(slots, s["n_lines"].astype(np.int64)), p["item_id"])
        return tables
