"""The realism check's worlds: one world per seed under a ranker, measured after a warm-up and from day 0.

``realism`` simulates the worlds (``jobs`` at a time: each is a function of scenario, ranker and seed,
so ``jobs`` changes the wall time, never the figures) and grades every fact over them
(``outcomes.facts.over_seeds``): the facts after the warm-up (``WARMUP_DAYS``) are the graded table,
those from day 0 are shown for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from basketgym.eval.orchestration.runner import simulate
from basketgym.eval.outcomes.facts import Fact, SeedFact, calibration_facts, over_seeds, warmup_days
from basketgym.sim.config import ScenarioConfig, resolve_scenario


@dataclass(frozen=True)
class Realism:
    """A scenario's realism over seeds: the facts after the warm-up (graded) and from day 0."""

    scenario: str
    ranker: str
    days: int
    warmup: int
    after_warmup: list[SeedFact]
    from_day_0: list[SeedFact]

    @property
    def ok(self) -> bool:
        """True if no graded fact after the warm-up is out of its band in any seed."""
        return all(f.ok is not False for f in self.after_warmup)


def world_facts(cfg: ScenarioConfig, ranker: str, seed: int, warmup: int,
                progress: Callable[[int, int], None] | None = None) -> tuple[list[Fact], list[Fact]]:  # fmt: skip
    """Simulate one world of ``cfg`` (keeping its slates) and measure it after ``warmup`` and from day 0."""
    r = simulate(cfg, ranker, seed, progress)
    measure = (r.purchases, r.sessions, r.slates, r.shoppers, cfg.days)
    return calibration_facts(*measure, warmup_days=warmup), calibration_facts(*measure, warmup_days=0)


def _timed_world_facts(cfg: ScenarioConfig, ranker: str, seed: int, warmup: int) -> tuple[tuple, float]:
    """``world_facts`` and the seconds it took, measured where it ran (a pool worker)."""
    import time

    t0 = time.perf_counter()
    out = world_facts(cfg, ranker, seed, warmup)
    return out, time.perf_counter() - t0


def realism(cfg: ScenarioConfig, ranker: str, seeds: Sequence[int], warmup: int | None = None, jobs: int = 1,
            progress: Callable[..., None] | None = None) -> Realism:  # fmt: skip
    """Measure ``cfg`` under ``ranker`` in one world per seed, ``jobs`` worlds at a time.

    ``warmup`` defaults to ``warmup_days(cfg.days)``. The worlds are independent and each is a
    function of (scenario, ranker, seed), so ``jobs`` changes the wall time, never the figures.
    ``progress(seed, index, day, days)`` is called per simulated day when ``jobs`` is 1, and
    ``progress(seed, index, days, days, seconds)`` once per finished world otherwise, with the seconds
    the world took in its own process.
    """
    from concurrent.futures import ProcessPoolExecutor

    cfg = resolve_scenario(cfg, event_log="full")  # the click-through facts need every slate
    seeds = [int(s) for s in seeds]
    w = warmup_days(cfg.days) if warmup is None else int(warmup)
    results: dict[int, tuple[list[Fact], list[Fact]]] = {}
    if jobs <= 1:
        for i, seed in enumerate(seeds):
            tick = None if progress is None else (lambda d, n, s=seed, i=i: progress(s, i, d, n))
            results[seed] = world_facts(cfg, ranker, seed, w, tick)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {seed: pool.submit(_timed_world_facts, cfg, ranker, seed, w) for seed in seeds}
            for i, (seed, fut) in enumerate(futures.items()):
                results[seed], seconds = fut.result()
                if progress is not None:
                    progress(seed, i, cfg.days, cfg.days, seconds)
    after = over_seeds({s: results[s][0] for s in seeds})
    whole = over_seeds({s: results[s][1] for s in seeds})
    return Realism(cfg.name, ranker, cfg.days, w, after, whole)
