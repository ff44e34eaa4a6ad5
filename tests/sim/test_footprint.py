"""Memory estimates from a scenario's sizes: close to a measured world; a too-big scenario refused before allocation."""

import dataclasses
import time
import tracemalloc

import pytest

from basketgym.contract.errors import ScenarioError
from basketgym.sim.config import load_scenario
from basketgym.sim.footprint import available_memory, capacity, world_footprint


def _measured_ratio(log: str) -> None:
    from basketgym.eval.orchestration.runner import simulate
    from basketgym.eval.outcomes.metrics import evaluate_world

    base = load_scenario("smoke")
    cfg = base.replace(
        days=8,
        population=dataclasses.replace(base.population, shoppers=1500),
        run=dataclasses.replace(base.run, event_log=log),
    )
    f = world_footprint(cfg)
    tracemalloc.start()
    try:
        result = simulate(cfg, "popularity", cfg.seed)
        evaluate_world(cfg, result)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 1 / 1.6 < (f.total_bytes - f.process_bytes) / peak < 1.6, log
    # sessions: the population's trips over the run, within 25% (churn and weekly routines)
    assert 0.75 < f.sessions / result.facts["sessions"] < 1.25
    assert f.capacity == capacity(cfg) >= result.facts["shoppers"]


def test_estimate_is_within_a_factor_of_a_measured_small_world():
    """The estimate (without the process itself) against the Python-side peak of a 1,500-shopper world.

    Measured ratios (estimate / tracemalloc peak): 1.25 with the full event log, 0.99 without it, 1.11 on
    smoke; the bounds allow a factor of 1.6 either way for numpy and Python version differences.
    """
    _measured_ratio("full")


@pytest.mark.slow
def test_estimate_without_the_event_log_is_within_a_factor_of_a_measured_world():
    _measured_ratio("none")


def test_state_bytes_match_the_world_s_own_count():
    """Per-shopper state (plus the rankers' store) equals what ``World`` reports on the default world (497 B)."""
    from basketgym.sim.footprint import RANKER_BYTES_PER_SHOPPER

    f = world_footprint(load_scenario("default"))
    assert f.state_bytes / f.capacity == 497 + RANKER_BYTES_PER_SHOPPER


def test_fifty_million_shoppers_are_refused_in_one_line_without_allocating(monkeypatch):
    from basketgym.eval.orchestration import plan

    monkeypatch.setattr(plan, "available_memory", lambda: 16e9)
    cfg = load_scenario("default")
    big = cfg.replace(population=dataclasses.replace(cfg.population, shoppers=50_000_000))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ScenarioError) as e:
            plan.plan_run(big, jobs=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("scenario 'default': estimated memory 7.84 TB (3.92 TB per world x 2 at --jobs 2")
    assert "exceeds the 16 GB available; reduce population.shoppers, days or --jobs" in msg
    assert peak < 20e6  # nothing of the world was allocated
    assert time.perf_counter() - t0 < 30  # generous: a hang or an allocation would take far longer


def test_available_memory_reads_the_machine():
    avail = available_memory()
    assert avail is None or avail > 0
