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
    from sim.world import World

SESSIONS_AT, END_OF_DAY_AT = 0.5, 0.9


def _daily(env: simpy.Environment, world: World, days: int, progress: Callable[[int, int], None] | None) -> Generator:
    for day in range(days):
        yield env.timeout(day + SESSIONS_AT - env.now)
        day_log = world.step_day(day)
        yield env.timeout(day + END_OF_DAY_AT - env.now)
        world.end_day(day, day_log)
        if progress is not None:
            progress(day + 1, days)


def run_calendar(world: World, days: int, progress: Callable[[int, int], None] | None = None) -> None:
    """Run ``days`` simulated days of ``world`` with its scheduled events."""
    env = simpy.Environment()
    for proc in world.events.processes(env, world):
        env.process(proc)
    env.process(_daily(env, world, days, progress))
    env.run(until=days)
