"""What the progress display costs: a run's wall time without it, with it off a terminal and on one (tqdm bar).

The runs alternate (none, plain, terminal; then rotated) so that drift on a noisy machine falls on
every mode alike; medians are quoted. The streams are in memory, so terminal speed is not measured,
only the display's own work (callbacks, queue ticks from pool workers, ETA, tqdm). Usage::

    python benchmarks/bench_progress.py [--scenario smoke] [--jobs 1] [--seeds 2] [--repeat 7]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from basketgym.cli.progress import RunProgress
from basketgym.eval.orchestration.runner import grid, run_scenario
from basketgym.sim.config import resolve_scenario


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def per_call_us(stream: io.StringIO, calls: int = 20_000) -> float:
    """Microseconds per progress callback (a day of one of 8 worlds, 2 jobs), display work included."""
    p = RunProgress(8, 2, stream)
    t0 = time.perf_counter()
    for i in range(calls):
        p("popularity", 7, i % 2, 1 + i % 179, 180, i * 1e-3)
    return (time.perf_counter() - t0) / calls * 1e6


def main() -> None:
    """Print the median wall time of each mode and its ratio to the run without progress."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="smoke")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    cfg = resolve_scenario(args.scenario)
    names = list(cfg.rankers.names)
    n = len(grid(cfg, names, args.seeds, twins=False))
    modes = {"none": lambda: None, "plain": lambda: RunProgress(n, args.jobs, io.StringIO()),
             "terminal": lambda: RunProgress(n, args.jobs, _Terminal())}  # fmt: skip
    times: dict[str, list[float]] = {m: [] for m in modes}
    order = list(modes)
    for rep in range(args.repeat):
        for mode in order[rep % 3 :] + order[: rep % 3]:
            progress = modes[mode]()
            t0 = time.perf_counter()
            run_scenario(cfg, names, args.seeds, write=False, jobs=args.jobs, progress=progress)
            times[mode].append(time.perf_counter() - t0)
    base = statistics.median(times["none"])
    calls = {"plain": per_call_us(io.StringIO()), "terminal": per_call_us(_Terminal())}
    print(f"per callback: plain {calls['plain']:.1f} us, terminal {calls['terminal']:.1f} us")
    print(f"{args.scenario}: {n} worlds, {cfg.days} days, jobs {args.jobs}, {args.repeat} runs per mode")
    for mode, ts in times.items():
        med = statistics.median(ts)
        print(f"  {mode:<9} median {med:7.3f}s  ratio {med / base:5.3f}  runs {', '.join(f'{t:.2f}' for t in ts)}")


if __name__ == "__main__":
    main()
