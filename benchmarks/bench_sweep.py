"""Wall time of a leaderboard sweep and of a regress call, on the machine's cores.

Usage: .venv/bin/python benchmarks/bench_sweep.py [--jobs 2] [--days 180] [--out /tmp/bench-sweep]

The sweep is issue 13's yardstick: 3 scenarios (default, ads_heavy and smoke) x 5 rankers (random,
popularity, buy_again, margin_greedy, objective) x 3 seeds; every scenario's control is among the rankers,
so the sweep is 45 cells. Then a second call of the same sweep (nothing to run: every cell is found), the
leaderboard built from it, and ``regress margin_greedy --baseline buy_again`` on the default scenario
(3 seeds: 9 worlds with the control). Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from basketgym.eval.leaderboard.board import build_board
from basketgym.eval.leaderboard.render import publish
from basketgym.eval.leaderboard.sweep import SweepSpec, sweep
from basketgym.eval.regression.regress import RegressSpec, regress


def main() -> None:
    """Time the sweep, its resumption, the board and a regress call."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument("--out", default="/tmp/bench-sweep")
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    rankers = ("random", "popularity", "buy_again", "margin_greedy", "objective")
    spec = SweepSpec("bench", ("default", "ads_heavy", "smoke"), rankers, seeds=3, days=args.days)
    r = sweep(spec, out, jobs=args.jobs)
    print(f"sweep: {r.cells} cells, {len(r.ran)} run in {r.seconds:.1f} s on {args.jobs} jobs")
    r = sweep(spec, out, jobs=args.jobs)
    print(f"resume: {r.reused} cells found, {len(r.ran)} run, {r.seconds:.2f} s")
    t0 = time.perf_counter()
    board = build_board(out)
    files = publish(board, out)
    print(f"leaderboard: {len(board.scenarios)} scenarios, {len(files)} files in {time.perf_counter() - t0:.1f} s")
    spec_r = RegressSpec("margin_greedy", "buy_again", ("default",), seeds=3, days=args.days)
    res = regress(spec_r, jobs=args.jobs)
    verdicts = ", ".join(f"{t.metric} {t.effect:+.2f} ({t.verdict})" for t in res.tests)
    print(f"regress default: {res.worlds} worlds in {res.seconds:.1f} s on {args.jobs} jobs: {verdicts}")


if __name__ == "__main__":
    main()
