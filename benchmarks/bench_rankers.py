"""Throughput of the baseline rankers' rank() and of their hot paths (top-K, per-pair history lookup).

Usage: .venv/bin/python benchmarks/bench_rankers.py [--rounds 15] [--only rankers|topk|features]

Search rows: a catalog of 4,000 products whose shelves are 48 wide (C = 48, ~32 valid per row),
K = 10, 2 ad positions; home rows: 24 order-again + 40 featured candidates (C = 64). Feature
stores are warmed with 28 days of purchases by 200,000 shoppers so buy-again histories are full.
Variants are timed interleaved, round-robin; the table shows medians (and min) in ms per call.

Measured 2026-11-27 (2-core machine, numpy 2.4, one thread), ``--rounds 15``, medians:

    top-10 of 50,000 x 48          packed int64 row sort 9.6 ms | argpartition + argsort 21.9 ms
    rank() search 50,000 x 48      popularity 45-47 ms (1.06-1.11 M rows/s)
                                   margin_greedy 46 ms (1.08 M rows/s)
                                   buy_again 57-60 ms (0.83-0.87 M rows/s)
                                   random 59-63 ms (0.79-0.84 M rows/s)
    rank() home 4,096 x 64         popularity 3.4 ms (1.2 M rows/s), margin_greedy 3.4-3.5 ms,
                                   buy_again 6.7-6.9 ms (0.6 M rows/s), random 4.6-4.7 ms
    pair counts, search 50,000     aisle filter 11 ms | scratch map 23 ms | slots.find 108 ms
    pair counts, home 4,096        scratch map 3.6 ms | slots.find 11 ms
    update()                       97 ms per day of 285,710 purchase lines (28,571 shoppers)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import rankers
from rankers import topk
from rankers.testing import day_log, home_request
from sim import slots
from sim.catalog import PublicCatalog, generate_catalog
from sim.config import CatalogConfig
from sim.protocol import SURFACE_SEARCH, RankRequest


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


def warm_logs(catalog: PublicCatalog, shoppers: int, days: int, seed: int) -> list[dict]:
    """Synthetic purchase days: each shopper buys from ~12 favourite aisles, 10 lines per visit."""
    rng = np.random.default_rng(seed)
    fav = rng.integers(0, catalog.n_aisles, (shoppers, 12))
    logs = []
    for day in range(days):
        visitors = rng.choice(shoppers, shoppers // 7, replace=False)
        shopper = np.repeat(visitors, 10)
        aisle = fav[shopper, rng.integers(0, 12, len(shopper))]
        width = (catalog.shelf[aisle] >= 0).sum(axis=1)
        item = catalog.shelf[aisle, (rng.random(len(shopper)) * width).astype(np.int64)]
        logs.append(day_log(catalog, day, shopper, item))
    return logs


def search_rows(
    catalog: PublicCatalog, rng: np.random.Generator, batch: int, day: int, shoppers: int, fav_aisle: np.ndarray
) -> RankRequest:
    """Search rows over the shoppers' favourite aisles (so their histories hit the query aisle)."""
    shopper = rng.integers(0, shoppers, batch)
    query = fav_aisle[shopper, rng.integers(0, fav_aisle.shape[1], batch)].astype(np.int32)
    cands = catalog.shelf[query]
    cands = np.where((cands >= 0) & catalog.available[np.maximum(cands, 0)], cands, -1)
    return RankRequest(day, SURFACE_SEARCH, shopper, query, cands.astype(np.int32), 10, (0, 4), 3)


def table(title: str, rows: list[tuple[str, np.ndarray, int]]) -> None:
    """Print median / min ms per call and rows per second at the median."""
    print(f"\n{title}")
    print(f"{'':34s} {'median ms':>10s} {'min ms':>8s} {'rows/s':>12s}")
    for name, t, b in rows:
        med = np.median(t)
        print(f"{name:34s} {med * 1e3:10.2f} {t.min() * 1e3:8.2f} {b / med:12,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--search-rows", type=int, default=50_000)
    ap.add_argument("--home-rows", type=int, default=4_096)
    ap.add_argument("--shoppers", type=int, default=200_000)
    ap.add_argument("--only", choices=("rankers", "topk", "features"), default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    catalog = generate_catalog(CatalogConfig(products=4000), args.seed).public
    catalog.available[rng.random(catalog.n_products) < 0.03] = False
    print(f"catalog: {catalog.n_products} products, shelf width {catalog.shelf.shape[1]}")

    if args.only in (None, "topk"):
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

    need_store = args.only in (None, "rankers", "features")
    if not need_store:
        return
    logs = warm_logs(catalog, args.shoppers, 28, args.seed)
    fav = np.random.default_rng(args.seed).integers(0, catalog.n_aisles, (args.shoppers, 12))
    search = search_rows(catalog, rng, args.search_rows, 28, args.shoppers, fav)
    home = home_request(catalog, rng, batch=args.home_rows, day=28, shoppers=args.shoppers)
    valid = (search.candidates >= 0).sum(axis=1).mean()
    print(f"search rows: C={search.candidates.shape[1]}, {valid:.1f} valid candidates on average")

    ranker_objs = {}
    for name in rankers.available():
        r = rankers.make_ranker(name)
        r.reset(catalog, args.seed)
        t0 = time.perf_counter()
        for log in logs:
            r.update(log)
        ranker_objs[name] = r
        if name == "buy_again":
            print(f"update(): {(time.perf_counter() - t0) / len(logs) * 1e3:.1f} ms per day "
                  f"({len(logs[0]['purchases']['item_id']):,} purchase lines)")  # fmt: skip

    if args.only in (None, "features"):
        store = ranker_objs["buy_again"].features
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

    if args.only in (None, "rankers"):
        variants = {}
        for name, r in ranker_objs.items():
            variants[f"{name} search"] = lambda r=r: r.rank(search)
            variants[f"{name} home"] = lambda r=r: r.rank(home)
        t = timed(variants, args.rounds)
        sizes = {"search": args.search_rows, "home": args.home_rows}
        table(
            f"rank(): search B={args.search_rows:,} C=48 K=10; home B={args.home_rows:,} C=64 K=10",
            [(n, v, sizes[n.split()[-1]]) for n, v in t.items()],
        )


if __name__ == "__main__":
    main()
