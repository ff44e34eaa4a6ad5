"""Full check of a ranker's response against its request: every invariant, first bad row named.

``sim.validate.check_response`` is the world's cheap per-call subset; this one also checks
membership in the row's candidates, distinctness and slate length, and is used by the tests.
"""

from __future__ import annotations

import numpy as np

from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_NAMES, RankRequest, RankResponse


def _where(request: RankRequest, row: int) -> str:
    surface = SURFACE_NAMES[request.surface] if 0 <= request.surface < len(SURFACE_NAMES) else request.surface
    return f"row {row} (shopper {int(request.shopper_ids[row])}, day {request.day}, {surface})"


def _fail(request: RankRequest, bad: np.ndarray, what: str, slate: np.ndarray | None = None) -> None:
    """Raise for the first True of a (B,) or (B, K) mask; ``what`` may hold {pos}."""
    if not bad.any():
        return
    if bad.ndim == 1:
        row = int(np.argmax(bad))
        msg = what
    else:
        row, pos = (int(i) for i in np.unravel_index(np.argmax(bad), bad.shape))
        msg = what.format(pos=pos)
        if slate is not None:
            msg += f" (item {int(slate[row, pos])})"
    raise RankerError(f"invalid ranker response: {_where(request, row)}: {msg}")


def distinct_count(ids: np.ndarray) -> np.ndarray:
    """(B,) number of distinct non-negative ids per row of a (B, C) array."""
    s = np.sort(ids, axis=1)
    real = s >= 0
    repeat = np.zeros_like(real)
    repeat[:, 1:] = (s[:, 1:] == s[:, :-1]) & real[:, 1:]
    return real.sum(axis=1) - repeat.sum(axis=1)


def _check_arrays(response: RankResponse, b: int, k: int) -> None:
    """Shapes (B, K) and dtypes: int32 slate, float propensity, bool sponsored."""
    slate, prop, sp = response.slate, response.propensity, response.sponsored
    for name, a in (("slate", slate), ("propensity", prop), ("sponsored", sp)):
        if not isinstance(a, np.ndarray) or a.shape != (b, k):
            shape = getattr(a, "shape", type(a).__name__)
            raise RankerError(f"invalid ranker response: {name} has shape {shape}, expected ({b}, {k})")
    if slate.dtype != np.int32:
        raise RankerError(f"invalid ranker response: slate has dtype {slate.dtype}, expected int32")
    if not np.issubdtype(prop.dtype, np.floating):
        raise RankerError(f"invalid ranker response: propensity has dtype {prop.dtype}, expected a float type")
    if sp.dtype != np.bool_:
        raise RankerError(f"invalid ranker response: sponsored has dtype {sp.dtype}, expected bool")


def check_response(request: RankRequest, response: RankResponse, catalog: PublicCatalog | None = None) -> None:
    """Raise RankerError with a clear message if ``response`` breaks a slate invariant.

    Checked: shapes and dtypes ((B, K) int32 slate, float propensity, bool sponsored); every
    placed item comes from its row's candidates and appears once; -1 only after the placed items;
    a row is shorter than K only when it has fewer valid candidates; propensities in (0, 1] where
    placed; sponsored only on placed items, at most ``max_sponsored`` per row. With ``catalog``
    also: valid candidates and placed items must be available, sponsored items ad-eligible.
    """
    b, k = request.batch_size, request.slate_size
    cands = np.asarray(request.candidates)
    slate, prop, sp = response.slate, response.propensity, response.sponsored
    _check_arrays(response, b, k)
    if b == 0 or k == 0:
        return

    _fail(request, slate < -1, "slate holds an id < -1 at position {pos}")
    placed = slate >= 0
    _fail(request, placed[:, 1:] & ~placed[:, :-1], "-1 at position {pos} is followed by an item")

    valid = cands >= 0
    if catalog is not None:
        _fail(
            request,
            slate >= catalog.n_products,
            f"item id >= {catalog.n_products} at position {{pos}}",
        )
        valid &= catalog.available[np.maximum(cands, 0)]
        unavailable = placed & ~catalog.available[np.clip(slate, 0, catalog.n_products - 1)]
        _fail(request, unavailable, "unavailable item at position {pos}", slate)
    in_row = np.zeros((b, k), bool)
    for j in range(k):
        in_row[:, j] = (cands == slate[:, j : j + 1]).any(axis=1)
    _fail(
        request,
        placed & ~in_row,
        "the item at position {pos} is not among the row's candidates",
        slate,
    )

    fill = -1 - np.arange(k)[None, :]  # distinct negative fillers for empty positions
    _fail(
        request,
        distinct_count(np.where(placed, slate, fill)) < placed.sum(axis=1),
        "an item appears twice",
    )

    n_valid = distinct_count(np.where(valid, cands, -1))
    expected = np.minimum(n_valid, k)
    got = placed.sum(axis=1)
    if (got != expected).any():
        row = int(np.argmax(got != expected))
        raise RankerError(
            f"invalid ranker response: {_where(request, row)}: {got[row]} items placed but the "
            f"row has {n_valid[row]} valid candidates and slate size {k} (expected {expected[row]})"
        )

    p = prop.astype(np.float64)
    _fail(
        request,
        placed & ~((p > 0) & (p <= 1)),
        "propensity at position {pos} is not in (0, 1]",
        prop,
    )
    _fail(request, sp & ~placed, "sponsored flag on the empty position {pos}")
    _fail(
        request,
        sp.sum(axis=1) > request.max_sponsored,
        f"more than {request.max_sponsored} sponsored placements",
    )
    if catalog is not None:
        not_eligible = sp & ~catalog.ad_eligible[np.clip(slate, 0, catalog.n_products - 1)]
        _fail(request, not_eligible, "sponsored item at position {pos} is not ad-eligible", slate)
