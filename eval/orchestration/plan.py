"""What a run of a scenario would do, checked before any world or output exists: its grid, memory and time.

``plan_run`` resolves the run's rankers (names and options through the registry), applies the rules that
depend on the run rather than the file (the A/B test within the run's days, objective weights), counts the
grid's worlds by kind and estimates memory and time from the scenario's sizes (``sim.footprint``);
``Plan.check`` refuses, in one line, a run that cannot fit in the machine's available memory.
``basketgym check`` prints the plan; ``basketgym run`` and ``eval.orchestration.runner.run_scenario`` check it first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from basketgym.contract.errors import RankerError, ScenarioError
from basketgym.plugins import resolve_ranker
from basketgym.sim.config import ScenarioConfig, key_name
from basketgym.sim.footprint import Footprint, available_memory, human_bytes, world_footprint
from basketgym.sim.scenario_rules import check_rules, shortened_run_notes

KIND_NAMES = {"world": "ranker worlds", "ablation": "surface ablations", "experiment": "A/B split",
              "switch": "A/B switch-everyone"}  # fmt: skip
#: objective weights are equal to 1 within this (they are read from TOML decimals)
WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Plan:
    """A run's worlds, their estimated memory and time, and notes on what a shortened run leaves out."""

    cfg: ScenarioConfig
    rankers: list[str]
    seeds: int
    jobs: int
    worlds: dict[str, int]  # grid tasks by kind (world, ablation, experiment, switch)
    world: Footprint
    available: float | None  # bytes (MemAvailable), None where unknown
    notes: list[str] = field(default_factory=list)

    @property
    def n_worlds(self) -> int:
        """Worlds in the grid."""
        return sum(self.worlds.values())

    @property
    def parallel(self) -> int:
        """Worlds simulated at the same time."""
        return max(1, min(self.jobs, self.n_worlds))

    @property
    def total_bytes(self) -> float:
        """Peak memory of the run: ``parallel`` worlds, plus the parent process when worlds run in a pool."""
        return self.parallel * self.world.total_bytes + (self.world.process_bytes if self.jobs > 1 else 0.0)

    @property
    def sessions(self) -> float:
        """Expected sessions over every world of the grid."""
        return self.n_worlds * self.world.sessions

    @property
    def seconds(self) -> float:
        """Estimated wall time: every world's sessions at the benchmark rate, ``parallel`` at a time."""
        return math.ceil(self.n_worlds / self.parallel) * self.world.seconds

    def check(self) -> None:
        """Refuse a run whose estimated memory exceeds what the machine has available."""
        if self.available is not None and self.total_bytes > self.available:
            raise ScenarioError(
                f"scenario '{self.cfg.name}': estimated memory {human_bytes(self.total_bytes)} "
                f"({human_bytes(self.world.total_bytes)} per world x {self.parallel} at --jobs {self.jobs}, "
                f"{self.cfg.population.shoppers:,} shoppers, {self.cfg.days} days) exceeds the "
                f"{human_bytes(self.available)} available; reduce population.shoppers, days or --jobs"
                + (", or set run.event_log = 'none'" if self.cfg.run.event_log == "full" else "")
            )

    def lines(self) -> list[str]:
        """What the run would do, for ``basketgym check``."""
        c, w = self.cfg, self.world
        kinds = ", ".join(f"{n} {KIND_NAMES[k]}" for k, n in self.worlds.items())
        avail = human_bytes(self.available) if self.available is not None else "unknown"
        out = [
            f"scenario '{c.name}': {c.days} days, {c.population.shoppers:,} shoppers "
            f"(+{c.population.new_per_day:g}/day), {c.catalog.products:,} products, event log {c.run.event_log}",
            f"rankers: {', '.join(self.rankers)}; control {c.rankers.control}"
            + ("" if c.rankers.control in self.rankers else " (an extra twin world)"),
            f"worlds: {self.n_worlds} ({kinds}) over {self.seeds} seed(s)",
            f"memory (estimate): {human_bytes(w.total_bytes)} per world, {human_bytes(self.total_bytes)} at "
            f"--jobs {self.jobs} ({self.parallel} at a time); available {avail}",
            f"sessions (estimate): {w.sessions:,.0f} per world, {self.sessions:,.0f} in all",
            f"time (estimate at ~{w.sessions / max(w.seconds, 1e-9):,.0f} sessions/s per core): "
            f"{_duration(self.seconds)}",
        ]
        return out + [f"note: {n}" for n in self.notes]


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def grid_counts(cfg: ScenarioConfig, rankers: list[str], n_seeds: int, *, twins: bool = True) -> dict[str, int]:
    """Worlds of ``eval.orchestration.runner.grid`` by kind, counted without building it (tested equal to the grid)."""
    names = list(dict.fromkeys([*rankers, cfg.rankers.control])) if twins else list(rankers)
    counts = {"world": len(names) * n_seeds}
    if twins and cfg.evaluation.attribution:
        counts["ablation"] = 3 * len(cfg.evaluation.attribution) * n_seeds  # no search, no home, no ads
    if twins and cfg.experiment.treatment:
        counts["experiment"] = counts["switch"] = n_seeds
    return counts


def _objective_weights(cfg: ScenarioConfig, name: str, ranker: object) -> None:
    """A ranker with ``relevance``/``margin`` weights given in the scenario must have them sum to 1."""
    opts = cfg.rankers.options.get(name, {})
    objective = getattr(ranker, "objective", None)
    if objective is None or not ({"relevance", "margin"} & set(opts)):
        return
    r, m = objective[0], objective[1]
    if abs(r + m - 1.0) > WEIGHT_TOLERANCE:
        raise ScenarioError(
            f"rankers.options.{key_name(name)}: relevance ({r:g}) + margin ({m:g}) = {r + m:g}: must sum to 1 "
            "(unset weights take their defaults, relevance 1 and margin 0)"
        )


def plan_run(
    cfg: ScenarioConfig,
    rankers: list[str] | None = None,
    seeds: int | None = None,
    jobs: int = 1,
    *,
    write: bool = True,
    rules: bool = True,
) -> Plan:
    """Check a run of ``cfg`` and describe it, without simulating (well under a second).

    ``rankers``/``seeds`` override the scenario's; ``write`` False: only the rankers' own worlds
    (``run --no-write`` still analyses, so the CLI plans the full grid). ``rules`` False skips the
    scenario's cross-field rules (``eval.orchestration.runner.run_scenario`` on a config built in code, which may be a
    deliberately shortened one).
    """
    from basketgym.rankers import (
        make_ranker,  # not eval.orchestration.runner: pandas and scipy would cost more than the whole check
    )

    names = list(rankers or cfg.rankers.names)
    n_seeds = int(seeds or cfg.run.seeds)
    run_cfg = cfg if rankers is None else cfg.replace(rankers=_names(cfg, names))
    if rules:
        check_rules(run_cfg, seeds=n_seeds)
    ex = cfg.experiment
    if ex.treatment and ex.start_day + ex.days > cfg.days:
        raise ScenarioError(
            f"experiment: days {ex.start_day}-{ex.start_day + ex.days - 1} do not fit a {cfg.days}-day run "
            f"(experiment.start_day + experiment.days must be <= {cfg.days}); run at least "
            f"{ex.start_day + ex.days} days"
        )
    for name in [*names, cfg.rankers.control, *cfg.evaluation.attribution, *filter(None, [ex.treatment])]:
        # as eval.orchestration.runner.scenario_ranker: unknown names and bad options fail here, naming the scenario key
        options = cfg.rankers.options.get(name, {})
        try:
            ranker = make_ranker(resolve_ranker(name), **options)
        except RankerError as e:
            if not options:
                raise
            raise ScenarioError(f"rankers.options.{name}: {e}") from None
        _objective_weights(cfg, name, ranker)
    notes = shortened_run_notes(cfg)
    plan = Plan(cfg, names, n_seeds, int(jobs), grid_counts(cfg, names, n_seeds, twins=write), world_footprint(cfg),
                available_memory(), notes)  # fmt: skip
    plan.check()
    return plan


def plan_scenario(
    scenario: str,
    *,
    days: int | None = None,
    rankers: list[str] | None = None,
    seeds: int | None = None,
    jobs: int = 1,
    event_log: str | None = None,
    seed: int | None = None,
) -> Plan:
    """Read a scenario with the command line's overrides and plan its run (``basketgym check`` and ``run``).

    ``seed``: the run's first world seed, as if the scenario file said ``seed = <seed>`` (its worlds
    are ``seed, seed + 1, ...``: ``runner.world_seeds``); the run's resolved scenario.toml records it.
    """
    from basketgym.sim.config import resolve_scenario, scenario_from_dict

    cfg = resolve_scenario(scenario, days=days, event_log=event_log, rankers=rankers)
    if seed is not None:  # validated as a scenario key: the same range and the same one-line error
        cfg = scenario_from_dict({**cfg.to_dict(), "seed": seed}, f"{scenario} with --seed {seed}")
    return plan_run(cfg, rankers, seeds, jobs)


def scenario_problems(
    scenario: str, *, days: int | None = None, rankers: list[str] | None = None, seeds: int | None = None
) -> list[str]:
    """Every cross-field problem of a scenario file with the overrides (after its keys are valid), one line each."""
    import tomllib

    from basketgym.scenarios import scenario_path
    from basketgym.sim.config import ScenarioConfig, build, resolve_scenario
    from basketgym.sim.scenario_rules import problems

    p = scenario_path(scenario)
    cfg = build(ScenarioConfig, tomllib.loads(p.read_text()), "")
    final = resolve_scenario(cfg, days=days, rankers=rankers)
    return [f"{p}: {x}" for x in problems(final, seeds=seeds)]


def _names(cfg: ScenarioConfig, names: list[str]):  # noqa: ANN202 - a RankersConfig
    import dataclasses

    return dataclasses.replace(cfg.rankers, names=tuple(names))
