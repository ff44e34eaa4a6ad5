"""A sha256 of every log table of fixed worlds: a refactor that claims bit-identical worlds prints the same lines.

Usage: .venv/bin/python benchmarks/world_digest.py [--default-days 40]

Uses only the public API (``basketgym.load_scenario``, ``basketgym.simulate``), so the same script digests any
revision of the package. Covers smoke with each baseline ranker and a default world (events inside its first
40 days) with popularity and buy_again. Latency and wall-clock facts are excluded (they are timings).
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np

from basketgym import load_scenario, simulate

TABLES = ("slates", "purchases", "sessions", "shoppers", "items")


def digest(result: object) -> str:
    """sha256 over every column of every log table, in a fixed order (name, dtype, shape, bytes)."""
    h = hashlib.sha256()
    for table in TABLES:
        for name, col in sorted(getattr(result, table).items()):
            a = np.ascontiguousarray(col)
            h.update(f"{table}.{name}:{a.dtype.str}:{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def main() -> None:
    """Print one digest line per world."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--default-days", type=int, default=40)
    args = ap.parse_args()
    smoke = load_scenario("smoke")
    default = load_scenario("default").replace(days=args.default_days)
    worlds = [(smoke, r, 3) for r in ("random", "popularity", "buy_again", "margin_greedy")]
    worlds += [(default, r, 7) for r in ("popularity", "buy_again")]
    for cfg, ranker, seed in worlds:
        print(f"{cfg.name:8s} {cfg.days:4d}d {ranker:14s} seed {seed}: {digest(simulate(cfg, ranker, seed=seed))}")


if __name__ == "__main__":
    main()
