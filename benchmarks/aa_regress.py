"""False-alarm rate of ``basketgym regress`` when nothing changed: random against random with another coin.

Usage: .venv/bin/python benchmarks/aa_regress.py [--calls 100] [--seeds 3] [--days 30] [--first 0]

The candidate ranks at random like the baseline but draws from another stream (its seed is salted), so the
two differ in every world while their expected effect is exactly 0. Each call is an independent experiment
(the smoke scenario with another root seed, so other shoppers and other luck), tested on LTV and retention
with margin 0 (the strictest setting: any significant loss is an alarm) at alpha 0.05 with Holm across the
two metrics. The alarm rate must stay at or below alpha (binomial SE sqrt(0.05 * 0.95 / calls)).
"""

from __future__ import annotations

import argparse
import math

from basketgym.contract.catalog import PublicCatalog
from basketgym.eval.regression.regress import RegressSpec, regress
from basketgym.rankers.baselines import RandomRanker
from basketgym.sim.config import load_scenario


class RandomOtherCoin(RandomRanker):
    """``random`` drawing from another stream: same policy, other slates."""

    name = "random_other_coin"

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset with a salted seed."""
        super().reset(catalog, seed ^ 0x5EED_5A17)


def main() -> None:
    """Run the calls and print the alarm rate."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument(
        "--first", type=int, default=0, help="index of the first call (calls k use root seed 10000 + 100 k)"
    )
    args = ap.parse_args()
    base = load_scenario("smoke").replace(days=args.days)
    alarms = 0
    for k in range(args.first, args.first + args.calls):
        cfg = base.replace(seed=10_000 + 100 * k)
        spec = RegressSpec("__main__:RandomOtherCoin", "random", (cfg,), seeds=args.seeds, metrics=("ltv", "retention"),
                           margins={"ltv": "0", "retention": "0"})  # fmt: skip
        alarms += regress(spec).regressed
    se = math.sqrt(0.05 * 0.95 / args.calls)
    print(f"A/A: {alarms} alarm(s) in {args.calls} calls = {alarms / args.calls:.3f} (alpha 0.05, SE {se:.3f})")


if __name__ == "__main__":
    main()
