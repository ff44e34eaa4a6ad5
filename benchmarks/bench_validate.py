"""Cost of the world's per-response check (``sim.validate.check_response``), candidate membership included.

Usage: taskset -c 1 .venv/bin/python benchmarks/bench_validate.py [--rounds 31] [--world 3]

The rows are ``bench_rankers``'s (catalog of 4,000 products, ~3% out of stock, K = 10): search
rows are shelf rows (C = 48), home rows hold 24 order-again + 40 featured candidates (C = 64).
The slates are popularity's. Timed per call, interleaved round-robin; medians in ns per slate.
``--world R``: also the default scenario's world (popularity, buy_again) with the membership test
on and off (replaced by an all-True stub), R runs each, interleaved: the check's share of a session.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_rankers import favourite_aisles, home_rows, search_rows, timed, warm_days

import basketgym.rankers as rankers
from basketgym.rankers.features import FeatureStore
from basketgym.sim import validate as validate_module
from basketgym.sim.catalog import generate_catalog
from basketgym.sim.config import CatalogConfig, load_scenario
from basketgym.sim.validate import check_response, in_candidates


def main() -> None:
    """Time the check on search and home batches of the sizes a world sends."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--world", type=int, default=0, help="also time the default world R times with the test on/off")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    catalog = generate_catalog(CatalogConfig(products=4000), args.seed).public
    catalog.available[rng.random(catalog.n_products) < 0.03] = False
    shoppers = 20_000
    store = FeatureStore(catalog)
    for log in warm_days(catalog, shoppers, 14, args.seed):
        store.ingest(log)
    ranker = rankers.make_ranker("popularity")
    ranker.reset(catalog.read_only(), 1)
    fav = favourite_aisles(catalog, shoppers, args.seed)
    cases = {}
    for b in (256, 4096):
        req = search_rows(catalog, rng, b, 0, shoppers, fav)
        cases[f"search B={b}"] = (req, ranker.rank(req), catalog.shelf_pos, None)
        req = home_rows(catalog, rng, b, 0, store)
        column = np.full(catalog.n_products, -1, np.int64)  # as the world's: featured items' columns
        feat = req.candidates[:, 24:].max(axis=0)
        column[feat[feat >= 0]] = 24 + np.flatnonzero(feat >= 0)
        cases[f"home   B={b}"] = (req, ranker.rank(req), column, 24)
    variants = {}
    for name, (req, resp, column, loose) in cases.items():
        variants[f"{name}  check_response"] = lambda r=req, s=resp, c=column, h=loose: check_response(
            r, s, catalog, "x", c, h
        )
        variants[f"{name}  membership only"] = lambda r=req, s=resp, c=column, h=loose: in_candidates(
            r.candidates, s.slate, c, h
        )
        variants[f"{name}  membership, full row compare"] = lambda r=req, s=resp: in_candidates(r.candidates, s.slate)
    t = timed(variants, args.rounds)
    print(f"{'':50s} {'median us':>10s} {'ns/slate':>9s}")
    for name, times in t.items():
        b = int(name.split("B=")[1].split()[0])
        med = float(np.median(times))
        print(f"{name:50s} {med * 1e6:10.1f} {med / b * 1e9:9.0f}")
    if args.world:
        bench_world(args.world)


def bench_world(repeat: int) -> None:
    """Sessions per second of the default world with the membership test on and off, interleaved."""
    from basketgym.sim.world import World

    cfg = load_scenario("default")
    real = validate_module.in_candidates

    def off(candidates: np.ndarray, slate: np.ndarray, column: object = None, loose: object = None) -> np.ndarray:
        return np.ones(slate.shape, bool)

    for name in ("popularity", "buy_again"):
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(repeat):
            for variant, fn in (("on", real), ("off", off)):
                validate_module.in_candidates = fn
                t0 = time.perf_counter()
                res = World(cfg, cfg.seed, rankers.make_ranker(name), name).run()
                rates[variant].append(res.facts["sessions"] / (time.perf_counter() - t0))
        validate_module.in_candidates = real
        on, off_ = np.median(rates["on"]), np.median(rates["off"])
        print(
            f"world default/{name}: {on:,.0f} sessions/s with the membership test, {off_:,.0f} without "
            f"({(off_ / on - 1) * 100:+.1f}% time; {1e6 / on - 1e6 / off_:.2f} us per session)"
        )


if __name__ == "__main__":
    main()
