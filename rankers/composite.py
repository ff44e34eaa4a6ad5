"""Rankers made of rankers: one per surface (surface ablations), or one per experiment arm (A/B traffic splits).

Both route each request row to one of two rankers and merge the answers; both rankers ingest every
day's logs, as they would on a platform where they serve side by side (``rankers.wrappers.RankerPair``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import (
    SURFACE_HOME,
    SURFACE_SEARCH,
    Ranker,
    RankRequest,
    RankResponse,
    prefix_propensities,
)
from basketgym.contract.rng import Purpose
from basketgym.rankers.wrappers import RankerPair

SURFACES = {"home": SURFACE_HOME, "search": SURFACE_SEARCH}
ABLATIONS = ("search", "home", "ads")


def treatment_assignment(seed: int, shopper_ids: np.ndarray, share: float) -> np.ndarray:
    """Whether each shopper is in the treatment arm: a fixed coin per (seed, shopper), P = ``share``.

    ``seed`` is the ranker seed the world hands ``TrafficSplit`` (``sim.rng.ranker_seed`` of the
    world seed): the same function assigns traffic in the world and tells the analysis who was treated.
    """
    return rng.uniform(seed, Purpose.ASSIGNMENT, np.asarray(shopper_ids, np.int64), 0, 1)[:, 0] < share


def _rows(request: RankRequest, rows: np.ndarray) -> RankRequest:
    return dataclasses.replace(
        request, shopper_ids=request.shopper_ids[rows], query=request.query[rows], candidates=request.candidates[rows]
    )


def _merge(request: RankRequest, parts: list[tuple[np.ndarray, RankResponse]]) -> RankResponse:
    b, k = request.batch_size, request.slate_size
    slate = np.full((b, k), -1, np.int32)
    prop = np.zeros((b, k), np.float32)
    prefix = np.zeros((b, k), np.float32)
    sponsored = np.zeros((b, k), bool)
    for rows, resp in parts:
        slate[rows], prop[rows], sponsored[rows] = resp.slate, resp.propensity, resp.sponsored
        prefix[rows] = prefix_propensities(resp)
    return RankResponse(slate, prop, sponsored, prefix)


class SurfaceAblation(RankerPair):
    """The policy everywhere except on one surface: a surface ablation.

    ``search`` or ``home``: that surface is served by ``control``; ``ads``: the policy's organic
    slates with no sponsored items (max_sponsored = 0). Twin worlds with and without a surface
    attribute a policy's incremental value to that surface.
    """

    def __init__(self, policy: Ranker, control: Ranker, ablate: str, name: str | None = None):
        if ablate not in ABLATIONS:
            raise ValueError(f"ablate = {ablate!r}: must be one of {', '.join(map(repr, ABLATIONS))}")
        super().__init__(policy, control, name or f"{policy.name}~no_{ablate}")
        self.ablate = ablate

    def rank(self, request: RankRequest) -> RankResponse:
        """The policy's answer, except on the ablated surface."""
        if self.ablate == "ads":
            return self.first.rank(dataclasses.replace(request, max_sponsored=0))
        if request.surface == SURFACES[self.ablate]:
            return self.second.rank(request)
        return self.first.rank(request)


class TrafficSplit(RankerPair):
    """An A/B test's traffic, routed by shopper.

    From ``start_day`` on, treated shoppers (``treatment_assignment`` keyed by the seed ``reset``
    receives) get ``treatment``'s slates and the others ``control``'s; before it everyone gets the control.
    """

    def __init__(self, control: Ranker, treatment: Ranker, share: float, start_day: int):
        super().__init__(control, treatment, f"split({control.name},{treatment.name})")
        self.share, self.start_day, self.seed = float(share), int(start_day), 0

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset both rankers; the assignment coins are keyed by ``seed``."""
        super().reset(catalog, seed)
        self.seed = int(seed)

    def rank(self, request: RankRequest) -> RankResponse:
        """Route each row by its shopper's arm."""
        if request.day < self.start_day or request.batch_size == 0:
            return self.first.rank(request)
        treated = treatment_assignment(self.seed, request.shopper_ids, self.share)
        parts = []
        for ranker, rows in ((self.first, np.flatnonzero(~treated)), (self.second, np.flatnonzero(treated))):
            if len(rows):
                parts.append((rows, ranker.rank(_rows(request, rows))))
        return _merge(request, parts)
