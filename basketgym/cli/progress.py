"""Progress of a run's worlds on stderr: a live tqdm bar on a terminal, one plain line per finished world elsewhere.

The runner (``eval.orchestration.runner.run_scenario``) reports ``(label, seed, index, day, days, seconds)``:
``seconds`` is the time since the task started, measured where it runs (a pool worker's own clock),
so a world's line shows its real elapsed time whichever process ran it; ``day == days`` means the
task is finished (simulated, evaluated, written). The overall ETA comes from the finished worlds'
measured times and the running ones' progress, spread over the parallel jobs.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


class _Bar(tqdm):
    """tqdm without its monitor thread (no thread is left behind, none is forked into pool workers)."""

    monitor_interval = 0


def format_seconds(s: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short enough for a progress line."""
    s = max(0.0, s)
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


class RunProgress:
    """Progress of ``total`` worlds run ``jobs`` at a time, written to ``stream`` (stderr by default).

    On a terminal: a bar over all worlds (fractional while they run) with the ETA, and a line above
    it per finished world. Otherwise: one line per finished world with its elapsed time and the
    ETA, then one closing line — a few lines a log file can keep, never a flood of updates.
    """

    def __init__(self, total: int, jobs: int = 1, stream: TextIO | None = None):
        self.total = max(int(total), 1)
        self.jobs = max(int(jobs), 1)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.finished: dict[int, float] = {}  # task index -> its measured seconds
        self.running: dict[int, tuple[float, float, float]] = {}  # index -> (fraction done, seconds, received at)
        self._start: dict[int, float] = {}  # for callers without their own clock (seconds=None)
        self._last_finish = self.t0
        self._bar: _Bar | None = None
        self.closed = False

    def __call__(self, label: str, seed: int, index: int, day: int, days: int, seconds: float | None = None) -> None:
        """One report: task ``index`` has simulated ``day`` of ``days`` days, ``seconds`` after it started."""
        now = time.perf_counter()
        if seconds is None:  # an in-process caller: its task started when the previous one finished
            seconds = now - self._start.setdefault(index, self._last_finish)
        if index in self.finished:
            return  # a late tick of a finished task (pool ticks and results travel separately)
        if day < days:
            self.running[index] = (day / max(days, 1), seconds, now)
            if self.tty:
                self._bar_update(now)
            return
        self.running.pop(index, None)
        self.finished[index] = seconds
        self._last_finish = now
        n = len(self.finished)
        line = f"[{n}/{self.total}] {label:<24} seed {seed:<5} {seconds:8.2f}s"
        if n < self.total:
            line += f"   ETA {format_seconds(self.eta(now) or 0.0)}"
        if self.tty:
            self._bar_update(now)
            _Bar.write(line, file=self.stream)
        else:
            self.stream.write(line + "\n")
        if n >= self.total:
            self.close()
        self.stream.flush()

    def eta(self, now: float | None = None) -> float | None:
        """Seconds until every world is finished; None before anything has been measured.

        A world's expected time is the mean of the finished ones' (before any has finished: the
        running ones' elapsed time over their fraction done); the remaining work is that time for
        each world not started plus what the running ones still need, shared by ``jobs`` lanes, and
        never less than the longest running world's remainder.
        """
        now = time.perf_counter() if now is None else now
        left = self.total - len(self.finished)
        if left <= 0:
            return 0.0
        running = list(self.running.values())
        if self.finished:
            mean = sum(self.finished.values()) / len(self.finished)
        else:
            rates = [s / f for f, s, _ in running if f >= 0.1]  # the first days include start-up
            if not rates:
                return None
            mean = sum(rates) / len(rates)
        # a world's own pace once it is a tenth through (at its last report; its clock has gone on since)
        remainders = [max((s / f if f >= 0.1 else mean) - s - (now - at), 0.0) for f, s, at in running]
        work = (left - len(running)) * mean + sum(remainders)
        return max(work / min(self.jobs, left), max(remainders, default=0.0))

    def _bar_update(self, now: float) -> None:
        if self._bar is None:
            fmt = "{desc}{percentage:3.0f}%|{bar}| {n:.1f}/{total} worlds [{elapsed}{postfix}]"
            self._bar = _Bar(total=self.total, file=self.stream, bar_format=fmt, dynamic_ncols=True, leave=False)
        eta = self.eta(now)
        self._bar.set_postfix_str("" if eta is None else f"ETA {format_seconds(eta)}", refresh=False)
        n = len(self.finished) + sum(f for f, _, _ in self.running.values())
        self._bar.update(n - self._bar.n)  # tqdm redraws at most every 0.1 s

    def close(self) -> None:
        """Remove the bar (terminal) and write the closing line with the run's wall time."""
        if self.closed:
            return
        self.closed = True
        if self._bar is not None:
            self._bar.close()
        wall = time.perf_counter() - self.t0
        jobs = f"{self.jobs} jobs" if self.jobs > 1 else "1 job"
        self.stream.write(f"{len(self.finished)}/{self.total} worlds in {wall:.1f}s ({jobs})\n")
        self.stream.flush()

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
