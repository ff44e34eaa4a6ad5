"""Cheap checks the world applies to every ranker response before a shopper sees it."""

from __future__ import annotations

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_NAMES, RankRequest, RankResponse


def in_candidates(
    candidates: np.ndarray, slate: np.ndarray, column: np.ndarray | None = None, loose: int | None = None
) -> np.ndarray:
    """(B, K) bool: each slate item is among its row's candidates (-1 placements count as True).

    ``column`` (N,), optional: the column where an item usually sits in a candidate row, -1 if
    nowhere in particular (search rows are shelf rows: ``shelf_pos``; home rows hold the day's
    featured pool at fixed columns). An item found there costs one gather, O(B·K); any other
    placement is compared with the row's first ``loose`` columns (default all: where items without
    a fixed column sit), O(loose) each. Never a false positive: a placement counts only if some
    candidate column holds exactly that item.
    """
    b, c = candidates.shape
    if c == 0:
        return slate < 0
    if column is None:
        return (slate < 0) | (candidates[:, None, :] == slate[:, :, None]).any(axis=2)
    col = column.take(np.maximum(slate, 0))
    np.clip(col, 0, c - 1, out=col)
    at = np.ascontiguousarray(candidates).ravel().take(col + np.arange(0, b * c, c)[:, None])
    found = (at == slate) | (slate < 0)
    r, k = np.nonzero(~found)
    if len(r):
        found[r, k] = (candidates[r, : c if loose is None else loose] == slate[r, k][:, None]).any(axis=1)
    return found


def check_response(
    request: RankRequest,
    response: RankResponse,
    catalog: PublicCatalog,
    ranker: str,
    column: np.ndarray | None = None,
    loose: int | None = None,
) -> None:
    """Raise RankerError naming the ranker and the broken rule if the response is not a valid slate.

    Checks shapes, item range and availability, that every placed item is among its row's
    candidates (``in_candidates``; ``column`` and ``loose`` make it O(B·K)), propensities in (0, 1], and the
    sponsored rules. Distinctness and padding order are checked by ``rankers.validation.check_response``
    in the test suite.
    """
    b, k = request.batch_size, request.slate_size
    for name in ("slate", "propensity", "sponsored"):
        a = getattr(response, name)
        if not isinstance(a, np.ndarray) or a.shape != (b, k):
            shape = getattr(a, "shape", type(a).__name__)
            raise RankerError(f"ranker '{ranker}': response.{name} has shape {shape}, expected ({b}, {k})")
    s = response.slate
    placed = s >= 0
    if (s >= catalog.n_products).any() or (s < -1).any():
        raise RankerError(f"ranker '{ranker}': slate holds item ids outside [-1, {catalog.n_products})")
    ok = in_candidates(request.candidates, s, column, loose)
    if not ok.all():
        row, pos = (int(x[0]) for x in np.nonzero(~ok))
        query = int(request.query[row])
        where = SURFACE_NAMES[request.surface] + (f" (query aisle {query})" if query >= 0 else "")
        raise RankerError(
            f"ranker '{ranker}': {where} row {row} (shopper {int(request.shopper_ids[row])}) places item "
            f"{int(s[row, pos])} at position {pos}, which is not among the row's candidates"
        )
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
