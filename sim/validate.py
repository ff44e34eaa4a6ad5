"""Cheap checks the world applies to every ranker response before a shopper sees it."""

from __future__ import annotations

import numpy as np

from sim.catalog import PublicCatalog
from sim.errors import RankerError
from sim.protocol import RankRequest, RankResponse


def check_response(request: RankRequest, response: RankResponse, catalog: PublicCatalog, ranker: str) -> None:
    """Raise RankerError naming the ranker and the broken rule if the response is not a valid slate.

    Checks shapes, item range and availability, propensities in (0, 1], and the sponsored rules.
    Membership in the candidate set and distinctness are checked by
    ``rankers.validation.check_response`` in the test suite (too costly per call here).
    """
    b, k = request.batch_size, request.slate_size
    for name in ("slate", "propensity", "sponsored"):
        a = getattr(response, name)
        if not isinstance(a, np.ndarray) or a.shape != (b, k):
            shape = getattr(a, "shape", type(a).__name__)
            raise RankerError(f"ranker '{ranker}': response.{name} has shape {shape}, expected ({b}, {k})")
    s = response.slate
    placed = s >= 0
    if (s >= catalog.n_products).any():
        raise RankerError(f"ranker '{ranker}': slate holds item ids >= {catalog.n_products}")
    if not catalog.available[np.maximum(s, 0)][placed].all():
        raise RankerError(f"ranker '{ranker}': slate holds unavailable items")
    p = response.propensity[placed]
    if p.size and not ((p > 0) & (p <= 1)).all():
        raise RankerError(f"ranker '{ranker}': propensities must lie in (0, 1]")
    sp = response.sponsored & placed
    if (sp.sum(axis=1) > request.max_sponsored).any():
        raise RankerError(f"ranker '{ranker}': more than {request.max_sponsored} sponsored placements in a slate")
    if not catalog.ad_eligible[np.maximum(s, 0)][sp].all():
        raise RankerError(f"ranker '{ranker}': sponsored placement of an item that is not ad-eligible")
