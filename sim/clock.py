"""The marketplace calendar: a simpy clock that orders scheduled events, daily sessions and refits.

Within a day the order is fixed by the time of day: scheduled events start or end at ``t + 0.0``
(prices and stock are set before anyone shops), all sessions of the day run at ``t + 0.5``
(vectorised in ``World.step_day``), and the ranker ingests the day's logs and refits at
``t + 0.9``. simpy orchestrates; numpy computes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:
    from basketgym.sim.world import World

SESSIONS_AT, END_OF_DAY_AT = 0.5, 0.9


class Calendar:
    """A world's simpy calendar that can be advanced a day at a time (for environments) or run out.

    ``advance(n)`` simulates the next ``n`` whole days, events and end-of-day work included, and
    returns the last day's logs; ``days_done`` counts finished days.
    """

    def __init__(self, world: World, days: int, progress: Callable[[int, int], None] | None = None):
        self.env = simpy.Environment()
        self.days = days
        self.days_done = 0
        self.last_log: dict = {}
        for proc in world.events.processes(self.env, world):
            self.env.process(proc)
        self.env.process(self._daily(world, progress))

    def _daily(self, world: World, progress: Callable[[int, int], None] | None) -> Generator:
        day = 0
        while day < self.days:
            yield self.env.timeout(day + SESSIONS_AT - self.env.now)
            day_log = world.step_day(day)
            yield self.env.timeout(day + END_OF_DAY_AT - self.env.now)
            world.end_day(day, day_log)
            self.last_log = day_log
            self.days_done = day + 1
            if progress is not None:
                progress(day + 1, self.days)
            day += 1

    def advance(self, n: int = 1) -> dict:
        """Simulate the next ``n`` days (not beyond the horizon); the last day's logged tables."""
        until = min(self.days_done + n, self.days)
        if until > self.days_done:
            self.env.run(until=until)
        return self.last_log

    def run_until(self, time: float) -> None:
        """Run to simulation time ``time`` (e.g. ``day + 0.25``: that day's events applied, no sessions yet)."""
        if time > self.env.now:
            self.env.run(until=min(time, self.days))

    @property
    def now(self) -> float:
        """Current simulation time in days."""
        return float(self.env.now)

    @property
    def finished(self) -> bool:
        """True once the horizon is reached."""
        return self.days_done >= self.days


def run_calendar(world: World, days: int, progress: Callable[[int, int], None] | None = None) -> None:
    """Run ``days`` simulated days of ``world`` with its scheduled events."""
    Calendar(world, days, progress).advance(days)
