"""The open visits of the Shopper envs' slots, parked between slates: intents, open searches, home purchases.

A visit's home feed is read at once; its searches are answered one slate per step and read together at
checkout (a visit's searches do not affect each other). Between the two, ``ParkedVisits`` holds each slot's
visit in fixed-width arrays: ``keep`` parks the visit a home feed left open, ``reopen`` rebuilds it as
``sim.session``'s ``Visits`` batch for the searches and the checkout.
"""

from __future__ import annotations

import numpy as np

from basketgym.agents.state import ShopperState
from basketgym.contract.logs import SOURCE_HOME
from basketgym.sim.session import search
from basketgym.sim.session.context import VisitContext
from basketgym.sim.session.intents import Intents
from basketgym.sim.session.visits import Lines, Visits


class ParkedVisits:
    """Per slot: the open visit's intents, its searches in order with their slates, home purchases, counters."""

    def __init__(self, n: int, n_int: int, k_home: int, k_search: int):
        self.n_int = np.zeros(n, np.int64)
        self.i_aisle = np.zeros((n, n_int), np.int64)
        self.i_need = np.zeros((n, n_int), bool)
        self.i_affinity = np.zeros((n, n_int))
        self.i_buy = np.zeros((n, n_int))
        self.i_resolved = np.zeros((n, n_int), bool)
        self.n_search = np.zeros(n, np.int64)
        self.cursor = np.zeros(n, np.int64)
        self.search_col = np.zeros((n, n_int), np.int64)  # intent column of each search, in order
        self.search_slates = np.full((n, n_int, max(k_search, 1)), -1, np.int32)
        kh = max(k_home, 1)
        self.h_item = np.full((n, kh), -1, np.int64)
        self.h_intent = np.full((n, kh), -1, np.int64)
        self.h_prio = np.zeros((n, kh), np.int64)
        self.h_sponsored = np.zeros((n, kh), bool)
        self.counters = np.zeros((5, n))  # examined, clicked, bad ads, slates, ad revenue

    def keep(self, ctx: VisitContext, slots: np.ndarray, vs: Visits) -> None:
        """Park an open visit in the slots' arrays: intents, open searches (by aisle), home purchases, counters."""
        it, m = vs.it, len(vs.it.session)
        counts = np.bincount(it.session, minlength=len(slots))
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        col = np.arange(m) - first[it.session]
        row = slots[it.session]
        self.n_int[slots] = counts
        self.i_aisle[row, col], self.i_need[row, col] = it.aisle, it.need
        self.i_affinity[row, col], self.i_buy[row, col] = it.affinity, it.buy
        self.i_resolved[row, col] = vs.resolved
        rows = search.rows(ctx, vs)
        rows = rows[np.argsort(it.session[rows], kind="stable")]  # by visit, aisles in order within it
        per = np.bincount(it.session[rows], minlength=len(slots))
        start = np.concatenate([[0], np.cumsum(per)[:-1]])
        j = np.arange(len(rows)) - start[it.session[rows]]
        self.search_col[slots[it.session[rows]], j] = col[rows]
        self.n_search[slots], self.cursor[slots] = per, 0
        self.h_item[slots] = -1
        if len(vs.lines) > 1:  # the home feed's purchase lines (one per position at most)
            sold = vs.lines[1]
            at = (slots[sold.session], sold.position)
            self.h_item[at] = sold.item
            self.h_intent[at] = np.where(sold.intent >= 0, col[np.maximum(sold.intent, 0)], -1) if m else -1
            self.h_prio[at] = sold.priority
            self.h_sponsored[at] = sold.sponsored
        self.counters[:, slots] = [vs.examined, vs.clicked, vs.bad_ads, vs.slates, vs.ad_revenue]

    def reopen(
        self, slots: np.ndarray, state: ShopperState, day: np.ndarray, ep: np.ndarray
    ) -> tuple[Visits, np.ndarray]:
        """The parked visits of ``slots`` as a ``Visits`` batch, and each visit's first intent row."""
        n = len(slots)
        mask = np.arange(self.i_aisle.shape[1])[None, :] < self.n_int[slots][:, None]
        sess, col = np.nonzero(mask)
        offset = np.concatenate([[0], np.cumsum(self.n_int[slots])[:-1]])
        r = slots[sess]
        it = Intents(session=sess, aisle=self.i_aisle[r, col], need=self.i_need[r, col],
                     affinity=self.i_affinity[r, col], buy=self.i_buy[r, col])  # fmt: skip
        lines = [Lines.empty()]
        hs, hp = np.nonzero(self.h_item[slots] >= 0)
        if len(hs):
            hi = self.h_intent[slots[hs], hp]
            lines.append(Lines(hs, self.h_item[slots[hs], hp], np.full(len(hs), SOURCE_HOME), hp,
                               self.h_sponsored[slots[hs], hp], np.where(hi >= 0, offset[hs] + hi, -1),
                               self.h_prio[slots[hs], hp], hs))  # fmt: skip
        st = state
        ex, cl, bad, sl, ad = self.counters[:, slots]
        vs = Visits(
            v=slots, ids=st.shopper_id[slots], day=day, ep=ep,
            taste=st.taste[slots], alpha=st.price_sensitivity[slots].astype(np.float64), aisle_aff=np.zeros((n, 0)),
            it=it, resolved=self.i_resolved[r, col], examined=ex, clicked=cl, bad_ads=bad, slates=sl.astype(np.int64),
            ad_revenue=ad, lines=lines, logged=None,
        )  # fmt: skip
        return vs, offset
