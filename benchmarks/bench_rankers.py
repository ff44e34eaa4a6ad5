"""Throughput of the baseline rankers' rank() and of their hot paths (top-K, per-pair history, ingestion).

Usage: .venv/bin/python benchmarks/bench_rankers.py [--rounds 15] [--only rankers|topk|features|ingest]

Cases (catalog of 4,000 products, shelves 48 wide, ~3% of products out of stock; K = 10, ad
positions (0, 4), at most 3 sponsored):

- ``search shelf``: B = 50,000 search rows as the world sends them: each row's candidates are its
  query aisle's shelf row (C = 48, ~31 valid), unavailable items -1; queries drawn over the
  shoppers' favourite aisles, so buy-again finds the shopper's own items in ~90% of rows.
- ``search generic``: the same rows with every row's columns shuffled: not shelf rows, so every
  ranker takes its general path (what any other retrieval would get).
- ``home``: B = 4,096 rows of 24 order-again + 40 featured candidates (C = 64), the featured part
  shared by all rows (-1 where it repeats the row's own items), as the world builds them.

Feature stores are warmed with 28 days of purchases by 200,000 shoppers (285,710 lines a day), so
buy-again histories are full. Variants are timed interleaved, round-robin; tables show medians (and
min) per call and microseconds per row at the median.

Measured 2026-11-27 on the 2-core machine (numpy 2.4, one thread), ``--rounds 11``, medians in
microseconds per row; before = commit ff2d618 (general paths only), after = per-aisle tables for
shelf rows, buy-again's own-item merge, the transposed slate assembly (``rankers/shelf.py``,
``rankers/own_first.py``). Before and after were run back to back; the machine drifts ~10%.

    ranker          search shelf      search generic     home
                    before  after     before  after      before  after
    popularity      0.848   0.051     0.878   0.929      0.705   0.703
    margin_greedy   0.761   0.051     0.916   0.893      0.700   0.665
    buy_again       1.041   0.508     1.290   1.318      1.793   1.770
    random          1.042   0.619     1.335   1.161      0.861   0.793

    FeatureStore.ingest   72 -> 55 ms a day at 200,000 shoppers (285,710 lines),
                          381 -> 280 ms a day at 1,000,000 shoppers (1,428,570 lines; --ingest-shoppers)
    top-10 of 50,000 x 48 packed int64 row sort 7.0 ms | argpartition + argsort 19.9 ms

Buy-again's shelf rows here are a stress case (random purchases: 68% of rows hold several own
items, which are merged row by row); in the default scenario 58% of search rows hold none and 30%
one, and ranking per session (1 home row + ~9 search rows, 100,000 shoppers, 30 days) went from
7.07 to 0.95 us (popularity), 5.88 to 0.92 (margin_greedy), 7.02 to 2.44 (buy_again) and 7.38 to
4.11 (random; most of its cost is the random words themselves). Home rows are now most of it.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Iterator

import numpy as np

import basketgym.rankers as rankers
from basketgym.contract import slots
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest
from basketgym.rankers import topk
from basketgym.rankers.features import FeatureStore
from basketgym.rankers.testing import day_log
from basketgym.sim.catalog import generate_catalog
from basketgym.sim.config import CatalogConfig


def timed(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, np.ndarray]:
    """Per-call seconds of each variant, interleaved round-robin so machine drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for f in variants.values():
        f()  # warm-up
    for _ in range(rounds):
        for name, f in variants.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: np.array(t) for name, t in times.items()}


def warm_days(catalog: PublicCatalog, shoppers: int, days: int, seed: int) -> Iterator[dict]:
    """Synthetic purchase days: each shopper buys from 12 favourite aisles, 10 lines per visit, a visit a week."""
    rng = np.random.default_rng(seed)
    fav = favourite_aisles(catalog, shoppers, seed)
    for day in range(days):
        visitors = rng.choice(shoppers, shoppers // 7, replace=False)
        shopper = np.repeat(visitors, 10)
        aisle = fav[shopper, rng.integers(0, 12, len(shopper))]
        width = (catalog.shelf[aisle] >= 0).sum(axis=1)
        item = catalog.shelf[aisle, (rng.random(len(shopper)) * width).astype(np.int64)]
        yield day_log(catalog, day, shopper, item)


def favourite_aisles(catalog: PublicCatalog, shoppers: int, seed: int) -> np.ndarray:
    """(shoppers, 12) favourite aisles: where ``warm_days`` buys and ``search_rows`` searches."""
    return np.random.default_rng(seed + 1).integers(0, catalog.n_aisles, (shoppers, 12))


def search_rows(
    catalog: PublicCatalog, rng: np.random.Generator, batch: int, day: int, shoppers: int, fav: np.ndarray
) -> RankRequest:
    """Search rows as the world builds them: the query aisle's shelf row, unavailable items -1."""
    shopper = rng.integers(0, shoppers, batch)
    query = fav[shopper, rng.integers(0, fav.shape[1], batch)].astype(np.int32)
    cands = catalog.shelf[query]
    cands = np.where((cands >= 0) & catalog.available[np.maximum(cands, 0)], cands, -1)
    return RankRequest(day, SURFACE_SEARCH, shopper, query, cands.astype(np.int32), 10, (0, 4), 3)


def home_rows(
    catalog: PublicCatalog, rng: np.random.Generator, batch: int, day: int, store: FeatureStore
) -> RankRequest:
    """Home rows as the world builds them: the shopper's most bought items + the day's featured pool."""
    shopper = rng.integers(0, store.n_shoppers, batch)
    items, count, _ = store.history(shopper)
    top = np.argsort(-count, axis=1, kind="stable")[:, :24]
    hist = np.take_along_axis(items, top, axis=1)
    hist = np.where((hist >= 0) & catalog.available[np.maximum(hist, 0)], hist, -1)
    pool = np.flatnonzero(catalog.available)
    feat = np.sort(rng.choice(pool, 40, replace=False)).astype(np.int32)
    dup = (feat[None, :, None] == hist[:, None, :]).any(axis=2)
    cands = np.concatenate([hist, np.where(dup, -1, feat[None, :])], axis=1).astype(np.int32)
    return RankRequest(day, SURFACE_HOME, shopper, np.full(batch, -1, np.int32), cands, 10, (0, 4), 3)


def table(title: str, rows: list[tuple[str, np.ndarray, int]]) -> None:
    """Print median / min ms per call, microseconds per row and rows per second at the median."""
    print(f"\n{title}")
    print(f"{'':34s} {'median ms':>10s} {'min ms':>8s} {'us/row':>8s} {'rows/s':>12s}")
    for name, t, b in rows:
        med = np.median(t)
        print(f"{name:34s} {med * 1e3:10.2f} {t.min() * 1e3:8.2f} {med / b * 1e6:8.3f} {b / med:12,.0f}")


def bench_topk(args: argparse.Namespace, rng: np.random.Generator) -> None:
    """The packed-key row sort against argpartition."""
    b, c, k = args.search_rows, 48, 10
    s = rng.random((b, c)).astype(np.float32)
    s[rng.random((b, c)) < 0.3] = -np.inf
    s[:, :8] = np.round(s[:, :8] * 4) / 4  # ties
    t = timed(
        {
            "packed int64 row sort": lambda: topk.topk(s, k),
            "argpartition + argsort": lambda: topk.topk_argpartition(s, k),
            "argsort (no tie rule)": lambda: np.argsort(-s, axis=1)[:, :k],
        },
        args.rounds,
    )
    table(f"top-{k} of B={b:,} x C={c}", [(n, v, b) for n, v in t.items()])


def bench_ingest(args: argparse.Namespace, catalog: PublicCatalog) -> None:
    """FeatureStore.ingest per day; days are generated one at a time (a 1M-shopper day is ~1.4M lines)."""
    store = FeatureStore(catalog)
    times, lines = [], 0
    for log in warm_days(catalog, args.ingest_shoppers, args.ingest_days, args.seed):
        lines = len(log["purchases"]["item_id"])
        t0 = time.perf_counter()
        store.ingest(log)
        times.append(time.perf_counter() - t0)
    t = np.array(times[len(times) // 2 :])  # once histories have filled up
    print(
        f"\nFeatureStore.ingest, {args.ingest_shoppers:,} shoppers, {lines:,} purchase lines a day: "
        f"median {np.median(t) * 1e3:.1f} ms a day (min {t.min() * 1e3:.1f}), "
        f"{np.median(t) / lines * 1e9:.0f} ns per line"
    )


def bench_features(args: argparse.Namespace, store: FeatureStore, search: RankRequest, home: RankRequest) -> None:
    """Per-pair purchase counts: the aisle filter, the scratch map and brute force."""
    ids, cands, q = search.shopper_ids, search.candidates, search.query
    count, _ = store.pair_history(ids, cands, q)
    print(f"search rows with a bought candidate: {(count > 0).any(axis=1).mean():.0%}")

    def brute(ids: np.ndarray, cands: np.ndarray) -> np.ndarray:
        return slots.find(store.hist_item, ids, cands)

    t = timed(
        {
            "search: aisle filter": lambda: store.pair_history(ids, cands, q),
            "search: scratch map": lambda: store.pair_history(ids, cands),
            "search: slots.find (B,C,H)": lambda: brute(ids, cands),
            "home: scratch map": lambda: store.pair_history(home.shopper_ids, home.candidates),
            "home: slots.find (B,C,H)": lambda: brute(home.shopper_ids, home.candidates),
        },
        args.rounds,
    )
    table(
        "per-pair purchase counts (FeatureStore.pair_history)",
        [(n, v, len(ids) if n.startswith("search") else len(home.shopper_ids)) for n, v in t.items()],
    )


def bench_rank(args: argparse.Namespace, ranker_objs: dict, requests: dict[str, RankRequest]) -> None:
    """rank() of every ranker on every case, interleaved."""
    variants = {}
    for name, r in ranker_objs.items():
        for case, req in requests.items():
            variants[f"{name} {case}"] = lambda r=r, req=req: r.rank(req)
    t = timed(variants, args.rounds)
    sizes = {n: req.batch_size for n, req in requests.items()}
    table(
        f"rank(): search B={args.search_rows:,} C=48 K=10; home B={args.home_rows:,} C=64 K=10",
        [(n, v, sizes[n.split(" ", 1)[1]]) for n, v in t.items()],
    )


def main() -> None:
    """Run the ranker benchmarks and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--search-rows", type=int, default=50_000)
    ap.add_argument("--home-rows", type=int, default=4_096)
    ap.add_argument("--shoppers", type=int, default=200_000)
    ap.add_argument("--ingest-shoppers", type=int, default=200_000, help="1,000,000 gives ~1.4M lines a day")
    ap.add_argument("--ingest-days", type=int, default=28)
    ap.add_argument("--only", choices=("rankers", "topk", "features", "ingest"), default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    catalog = generate_catalog(CatalogConfig(products=4000), args.seed).public
    catalog.available[rng.random(catalog.n_products) < 0.03] = False
    print(f"catalog: {catalog.n_products} products, shelf width {catalog.shelf.shape[1]}")

    if args.only in (None, "topk"):
        bench_topk(args, rng)
    if args.only in (None, "ingest"):
        bench_ingest(args, catalog)
    if args.only not in (None, "rankers", "features"):
        return

    ranker_objs = {}
    for name in rankers.available():
        r = rankers.make_ranker(name)
        r.reset(catalog, args.seed)
        ranker_objs[name] = r
    for log in warm_days(catalog, args.shoppers, 28, args.seed):
        for r in ranker_objs.values():
            r.update(log)
    store = ranker_objs["buy_again"].features
    fav = favourite_aisles(catalog, args.shoppers, args.seed)
    shelf = search_rows(catalog, rng, args.search_rows, 28, args.shoppers, fav)
    generic = dataclasses.replace(shelf, candidates=rng.permuted(shelf.candidates, axis=1))
    home = home_rows(catalog, rng, args.home_rows, 28, store)
    valid = (shelf.candidates >= 0).sum(axis=1).mean()
    print(f"search rows: C={shelf.candidates.shape[1]}, {valid:.1f} valid candidates on average")

    if args.only in (None, "features"):
        bench_features(args, store, shelf, home)
    if args.only in (None, "rankers"):
        bench_rank(args, ranker_objs, {"search shelf": shelf, "search generic": generic, "home": home})


if __name__ == "__main__":
    main()
