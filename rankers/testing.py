"""Test helpers any ranker can use: realistic requests, synthetic day logs, and a smoke check."""

from __future__ import annotations

import dataclasses

import numpy as np

from basketgym.contract.catalog import PublicCatalog, read_only
from basketgym.contract.logs import PURCHASE_COLUMNS, SESSION_COLUMNS, SLATE_COLUMNS, SOURCE_ORGANIC
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, Ranker, RankRequest
from basketgym.rankers.validation import check_response


def search_request(
    catalog: PublicCatalog,
    rng: np.random.Generator,
    *,
    batch: int,
    day: int,
    shoppers: int = 1000,
    slate_size: int = 10,
    ad_positions: tuple[int, ...] = (0, 4),
    max_sponsored: int = 3,
    mask_unavailable: bool = True,
) -> RankRequest:
    """Search rows as the world builds them: a random aisle's shelf, unavailable items set to -1.

    With ``mask_unavailable=False`` unavailable items stay in the candidates (the ranker must skip
    them). Shoppers are drawn from ``range(shoppers)``.
    """
    query = rng.integers(0, catalog.n_aisles, batch).astype(np.int32)
    cands = catalog.shelf[query]
    if mask_unavailable:
        cands = np.where((cands >= 0) & catalog.available[np.maximum(cands, 0)], cands, -1)
    return RankRequest(
        day=day,
        surface=SURFACE_SEARCH,
        shopper_ids=rng.integers(0, shoppers, batch).astype(np.int64),
        query=query,
        candidates=cands.astype(np.int32),
        slate_size=slate_size,
        ad_positions=ad_positions,
        max_sponsored=max_sponsored,
    )


def home_request(
    catalog: PublicCatalog,
    rng: np.random.Generator,
    *,
    batch: int,
    day: int,
    shoppers: int = 1000,
    order_again: int = 24,
    featured: int = 40,
    slate_size: int = 10,
    ad_positions: tuple[int, ...] = (0, 4),
    max_sponsored: int = 3,
) -> RankRequest:
    """Home rows: up to ``order_again`` past items (-1 padded anywhere) + the day's featured items.

    Featured items already among a row's past items are set to -1, as the world does.
    """
    n = catalog.n_products
    hist = rng.integers(0, n, (batch, order_again))
    hist[rng.random((batch, order_again)) < 0.3] = -1
    srt = np.sort(hist, axis=1)  # drop repeats inside the history part
    dup = np.zeros_like(hist, bool)
    dup[:, 1:] = (srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 0)
    hist = np.where(dup, -1, srt)
    hist = rng.permuted(hist, axis=1)
    feat = rng.choice(n, featured, replace=False)
    feat_rows = np.broadcast_to(feat, (batch, featured))
    clash = (feat_rows[:, :, None] == hist[:, None, :]).any(axis=2)
    cands = np.concatenate([hist, np.where(clash, -1, feat_rows)], axis=1)
    return RankRequest(
        day=day,
        surface=SURFACE_HOME,
        shopper_ids=rng.integers(0, shoppers, batch).astype(np.int64),
        query=np.full(batch, -1, np.int32),
        candidates=cands.astype(np.int32),
        slate_size=slate_size,
        ad_positions=ad_positions,
        max_sponsored=max_sponsored,
    )


def take_rows(request: RankRequest, rows: np.ndarray | slice) -> RankRequest:
    """The request restricted to some rows (in the given order): to check batch independence."""
    return dataclasses.replace(
        request,
        shopper_ids=request.shopper_ids[rows],
        query=request.query[rows],
        candidates=request.candidates[rows],
    )


def day_log(
    catalog: PublicCatalog, day: int, shopper_ids: np.ndarray, item_ids: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """A consistent day log for purchase lines (shopper, item): organic purchases, one session each.

    Slates are empty. Columns and dtypes follow ``sim.eventlog``.
    """
    shopper = np.asarray(shopper_ids, np.int64)
    item = np.asarray(item_ids, np.int64)
    price = catalog.price[item]
    purchases = {
        "session_id": (np.int64(day) << 32) | shopper,
        "shopper_id": shopper,
        "day": np.full(len(item), day),
        "item_id": item,
        "aisle": catalog.aisle[item],
        "price": price,
        "margin": price * catalog.margin_rate[item],
        "source": np.full(len(item), SOURCE_ORGANIC),
        "position": np.full(len(item), -1),
        "sponsored": np.zeros(len(item), bool),
    }
    visitors, lines = np.unique(shopper, return_counts=True)
    gtv = np.bincount(np.searchsorted(visitors, shopper), weights=price, minlength=len(visitors))
    margin = np.bincount(np.searchsorted(visitors, shopper), weights=purchases["margin"], minlength=len(visitors))
    sessions = {
        "session_id": (np.int64(day) << 32) | visitors,
        "shopper_id": visitors,
        "day": np.full(len(visitors), day),
        "n_slates": np.zeros(len(visitors)),
        "n_lines": lines,
        "gtv": gtv,
        "margin": margin,
        "ad_revenue": np.zeros(len(visitors)),
    }
    k = 10
    slates = {c: np.zeros((0, k) if "[K]" in t else 0) for c, (t, _) in SLATE_COLUMNS.items()}
    tables = {"slates": slates, "purchases": purchases, "sessions": sessions}
    for table, columns in (
        ("slates", SLATE_COLUMNS),
        ("purchases", PURCHASE_COLUMNS),
        ("sessions", SESSION_COLUMNS),
    ):
        for c, (dtype, _) in columns.items():
            tables[table][c] = np.asarray(tables[table][c]).astype(dtype.split("[")[0])
    return tables


def smoke_check(ranker: Ranker, catalog: PublicCatalog, *, days: int = 3, seed: int = 0) -> None:
    """Reset, then for a few days rank home and search batches, validate, and feed back a day log.

    Raises RankerError on the first invalid response (and numpy's ValueError if the ranker writes
    into its catalog, a request or a log: all read-only, as in a world). Unavailable items and -1
    padding included.
    """
    rng = np.random.default_rng(seed)
    ranker.reset(catalog.read_only(), seed)
    for day in range(days):
        for request in (
            home_request(catalog, rng, batch=64, day=day),
            search_request(catalog, rng, batch=256, day=day),
            search_request(catalog, rng, batch=64, day=day, mask_unavailable=False),
        ):
            check_response(request, ranker.rank(request), catalog)
        buyers = rng.integers(0, 1000, 300)
        log = day_log(catalog, day, buyers, rng.integers(0, catalog.n_products, 300))
        ranker.update({name: {c: read_only(a) for c, a in t.items()} for name, t in log.items()})
        ranker.fit(day)
