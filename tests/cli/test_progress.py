"""Run progress tells the truth: each world's own elapsed time, an ETA, a few plain lines off a terminal."""

import io
import re

import pytest

from basketgym.cli.progress import RunProgress, format_seconds
from basketgym.eval.orchestration.runner import grid, run_scenario
from basketgym.sim.config import load_scenario

LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) +seed (\d+) +(\d+\.\d\d)s(?:   ETA (\S+))?$")


@pytest.fixture(scope="module")
def smoke():
    return load_scenario("smoke").replace(days=12)


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_finished_world_shows_its_own_elapsed_time_and_an_eta(smoke, tmp_path, jobs):
    """jobs=2 used to print 0.0s for every world (the parent's clock started at the pool's final callback).

    A line's seconds are the task's, measured where it ran (``TaskResult.seconds``): world
    construction + simulation + evaluation + writes. So they are at least the world's own
    ``wall_seconds`` (simulation only) — the old parent-clock 0.0s fails that — and exceed it by the
    rest of the task: measured 0.16-0.36 s for these 12-day smoke worlds on a loaded machine, so 2 s
    has a wide margin. Printed to 2 decimals: 0.005 s of rounding either way.
    """
    n = len(grid(smoke, ["random", "popularity"], 2))  # 4 worlds: two per job
    stream = io.StringIO()
    with RunProgress(n, jobs, stream) as progress:
        result = run_scenario(smoke, ["random", "popularity"], 2, tmp_path / "run", jobs=jobs, progress=progress)
    lines = stream.getvalue().splitlines()
    assert len(lines) == n + 1  # one per finished world and the closing line: no flood of updates off a terminal
    assert re.fullmatch(rf"{n}/{n} worlds in \d+\.\ds \({jobs} jobs?\)", lines[-1])
    by_label = {(r.task.label, r.task.seed): r for r in result.tasks}
    shown = [LINE.match(line) for line in lines[:-1]]
    assert all(shown), lines
    assert [int(m[1]) for m in shown] == list(range(1, n + 1)) and {int(m[2]) for m in shown} == {n}
    assert sorted((m[3], int(m[4])) for m in shown) == sorted(by_label)  # every world once
    for m in shown:
        r = by_label[(m[3], int(m[4]))]
        seconds, wall = float(m[5]), r.facts["wall_seconds"]
        assert seconds == pytest.approx(r.seconds, abs=0.005)
        assert seconds > 0 and wall - 0.005 <= seconds <= wall + 2.0
    # the worlds ran at most ``jobs`` at a time inside the run's wall time (closing line, 1 decimal)
    assert sum(float(m[5]) for m in shown) <= jobs * (float(lines[-1].split(" in ")[1].split("s")[0]) + 0.05)
    # an ETA on every line but the last world's
    assert all(m[6] is not None for m in shown[:-1]) and shown[-1][6] is None


def test_the_eta_shares_the_remaining_worlds_between_the_jobs():
    """4 worlds, 2 jobs: two finished in 2 s each, the others a quarter and half through (1 s in)."""
    p = RunProgress(4, 2, io.StringIO())
    assert p.eta(now=0.0) is None  # nothing measured yet
    p("a", 1, 0, 10, 10, 2.0)
    p("b", 1, 1, 10, 10, 2.0)
    assert p.eta() == pytest.approx(2.0)  # two 2-second worlds left, one per job
    p("c", 1, 2, 5, 20, 1.0)  # a quarter through after 1 s: its own pace says 3 s to go
    p("d", 1, 3, 10, 20, 1.0)  # half through after 1 s: 1 s to go
    now = p.running[3][2]
    assert p.eta(now) == pytest.approx(3.0, abs=1e-3)  # the longest running world's remainder bounds it
    assert p.eta(now + 0.5) == pytest.approx(2.5, abs=1e-3)  # the running worlds' clocks go on
    p("a", 1, 0, 3, 10, 0.5)  # a late tick of a finished task (ticks and results travel apart) is ignored
    assert 0 not in p.running


def test_before_any_world_finishes_the_eta_comes_from_the_running_ones():
    p = RunProgress(3, 1, io.StringIO())
    p("a", 1, 0, 1, 20, 0.4)  # 5% through: too early to extrapolate (the first days include start-up)
    assert p.eta(p.running[0][2]) is None
    p("a", 1, 0, 5, 20, 1.0)  # a quarter in 1 s: 4 s a world, 3 s left of this one, 8 s for the other two
    assert p.eta(p.running[0][2]) == pytest.approx(11.0)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_a_live_bar_and_the_finished_lines_stay():
    out = _Terminal()
    p = RunProgress(2, 1, out)
    p("a", 1, 0, 2, 4, 0.2)
    p("a", 1, 0, 4, 4, 0.5)
    p("b", 1, 1, 2, 4, 0.2)
    p("b", 1, 1, 4, 4, 0.4)
    text = out.getvalue()
    assert "\r" in text and "/2 worlds" in text  # the bar, redrawn in place
    kept = [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line.rsplit("\r", 1)[-1].strip()]
    assert [LINE.match(k)[3] for k in kept[:2]] == ["a", "b"] and kept[2].startswith("2/2 worlds in")
    assert p.closed and p._bar is not None and p._bar.disable  # closed once everything finished


def test_in_process_callers_without_a_clock_are_timed_here():
    """``basketgym validate`` reports (label, seed, index, day, days) only: the display times the world."""
    out = io.StringIO()
    p = RunProgress(1, 1, out)
    p("random", 11, 0, 3, 3)
    assert LINE.match(out.getvalue().splitlines()[0])[5] is not None


def test_format_seconds():
    assert [format_seconds(s) for s in (0.4, 59.4, 61, 3725, -1)] == ["0s", "59s", "1m01s", "1h02m", "0s"]
