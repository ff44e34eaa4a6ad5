"""Randomised exposure tests: one focal item per shopper, shown in the top home-feed slot or withheld.

``ExposureTest`` serves a deterministic ``base`` ranker's slates. On each shopper's first home
feed on or after ``start_day`` (and before ``end_day``) it draws a focal item uniformly from the
row's placeable candidates and a treatment coin with P(treated) = ``share`` (both keyed by seed,
shopper and day). Treated: the focal item at position 0, followed by the base's slate for the
candidates without it. Control: the base's slate without it (the focal item is not shown on the
home feed; the shopper may still buy it from search or find it anyway). Every other request is
the base's. ``assign = "all"`` or ``"none"`` forces the coin, which makes the twin worlds whose
difference is each shopper's true individual effect (``eval.uplift_data``). ``freeze`` stops the
base learning from the logs from ``start_day`` on, so one shopper's test cannot reach another
shopper's slates through the ranker (no interference: the twins' difference is exactly each
shopper's own effect).

Each test is recorded with its features as they were when it was served (``rankers.learned.dataset``
features at position 0, from the test's own point-in-time feature store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_HOME, Ranker, RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.rankers.features import FeatureStore
from basketgym.rankers.learned.dataset import SERVING_POSITION, serving_features
from basketgym.rankers.wrappers import RankerWrapper

ASSIGNMENTS = ("random", "all", "none")


def expose(request: RankRequest, resp: RankResponse, rows: np.ndarray, u_pick: np.ndarray, treated: np.ndarray,
           share: float, ok: np.ndarray, rank: Callable[[RankRequest], RankResponse],
           store: FeatureStore) -> tuple[RankResponse, dict[str, np.ndarray]]:  # fmt: skip
    """Apply exposure tests to ``rows`` of ``resp``: the record of each test and the new response.

    The focal item of a row is its ``floor(u_pick * n)``-th placeable candidate (``ok``); treated
    rows show it at position 0 followed by ``rank``'s slate for the candidates without it, control
    rows show that slate alone. The record holds the focal item's features at serving time.
    """
    ids = np.asarray(request.shopper_ids, np.int64)
    cands = request.candidates
    n_ok = ok[rows].sum(axis=1)
    pick = np.minimum((u_pick * n_ok).astype(np.int64), n_ok - 1)  # the pick-th placeable column
    col = np.argmax(np.cumsum(ok[rows], axis=1) > pick[:, None], axis=1)
    focal = cands[rows, col]
    masked = cands[rows].copy()
    masked[np.arange(len(rows)), col] = -1
    sub = RankRequest(request.day, request.surface, ids[rows], np.asarray(request.query)[rows], masked,
                      request.slate_size, request.ad_positions, request.max_sponsored)  # fmt: skip
    alt = rank(sub)
    slate, sponsored, prop = resp.slate.copy(), resp.sponsored.copy(), resp.propensity.copy()
    k = slate.shape[1]
    slate[rows], sponsored[rows], prop[rows] = alt.slate, alt.sponsored, alt.propensity
    t = rows[treated]
    slate[t, 1:], sponsored[t, 1:], prop[t, 1:] = alt.slate[treated, : k - 1], alt.sponsored[treated, : k - 1], 1.0
    slate[t, 0], sponsored[t, 0], prop[t, 0] = focal[treated], False, share
    feats = serving_features(store, sub, focal[:, None], np.full((len(rows), 1), SERVING_POSITION))
    record = {
        "session_id": (np.int64(request.day) << 32) | ids[rows], "shopper_id": ids[rows],
        "day": np.full(len(rows), request.day, np.int32), "item_id": focal.astype(np.int32),
        "treated": np.asarray(treated, bool), "p": np.full(len(rows), share), "features": feats[:, 0],
    }  # fmt: skip
    return RankResponse(slate, prop.astype(np.float32), sponsored, None), record


class ExposureTest(RankerWrapper):
    """Serves ``base``; runs one randomised exposure per shopper (see the module docstring)."""

    def __init__(self, base: Ranker, share: float = 0.5, start_day: int = 0, end_day: int = 10**9,
                 assign: str = "random", freeze: bool = False):  # fmt: skip
        if assign not in ASSIGNMENTS:
            raise RankerError(f"exposure test: assign = {assign!r}: must be one of {', '.join(ASSIGNMENTS)}")
        if not 0.0 < share < 1.0:
            raise RankerError(f"exposure test: share = {share!r}: must be in (0, 1)")
        super().__init__(base)
        self.share, self.assign = float(share), assign
        self.start_day, self.end_day, self.freeze = int(start_day), int(end_day), bool(freeze)
        self.seed = 0

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset the base; start an empty feature store and no tests."""
        super().reset(catalog, seed)
        self.catalog, self.seed = catalog, int(seed)
        self.store = FeatureStore(catalog)
        self.tested = np.zeros(0, bool)  # by shopper id, grown on demand
        self.records: list[dict[str, np.ndarray]] = []

    def rank(self, request: RankRequest) -> RankResponse:
        """The base's slates, with this request's exposure tests applied."""
        resp = self.ranker.rank(request)
        if request.surface != SURFACE_HOME or not self.start_day <= request.day < self.end_day:
            return resp
        ids = np.asarray(request.shopper_ids, np.int64)
        if len(ids) and ids.max() >= len(self.tested):
            self.tested = np.r_[self.tested, np.zeros(int(ids.max()) + 1 - len(self.tested), bool)]
        cands = request.candidates
        ok = (cands >= 0) & self.catalog.available[np.maximum(cands, 0)]
        rows = np.flatnonzero(~self.tested[ids] & ok.any(axis=1))
        if len(rows) == 0:
            return resp
        self.tested[ids[rows]] = True
        u = rng.uniform(self.seed, Purpose.EXPOSURE_TEST, ids[rows], request.day, 2)
        coin = {"random": u[:, 1] < self.share, "all": np.ones(len(rows), bool), "none": np.zeros(len(rows), bool)}
        treated = coin[self.assign]
        resp, record = expose(request, resp, rows, u[:, 0], treated, self.share, ok, self.ranker.rank, self.store)
        self.records.append(record)
        return resp

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """The test's feature store ingests the day; the base too, unless frozen from ``start_day`` on."""
        days = np.asarray(day_log["sessions"]["day"])
        if not (self.freeze and len(days) and days.max() >= self.start_day):
            super().update(day_log)
        self.store.ingest(day_log)

    def fit(self, day: int) -> None:
        """The base refits (not once frozen)."""
        if not (self.freeze and day >= self.start_day):
            super().fit(day)

    def table(self) -> dict[str, np.ndarray]:
        """Every test so far: session, shopper, day, focal item, treated, P(treated) and features (n, F)."""
        if not self.records:
            return {}
        return {c: np.concatenate([r[c] for r in self.records]) for c in self.records[0]}
