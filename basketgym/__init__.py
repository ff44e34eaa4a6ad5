"""basketgym: a grocery-marketplace simulator for judging rankers on long-horizon value, incrementality and latency.

Public API (imported lazily so that ``import basketgym`` stays cheap)::

    from basketgym import load_scenario, run_scenario, World, make_ranker
    cfg = load_scenario("default")
    result = run_scenario(cfg, rankers=["popularity", "buy_again"], seeds=2)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = {
    "load_scenario": ("basketgym.sim.config", "load_scenario"),
    "scenario_from_dict": ("basketgym.sim.config", "scenario_from_dict"),
    "ScenarioConfig": ("basketgym.sim.config", "ScenarioConfig"),
    "World": ("basketgym.sim.world", "World"),
    "WorldResult": ("basketgym.sim.world", "WorldResult"),
    "RankRequest": ("basketgym.contract.protocol", "RankRequest"),
    "RankResponse": ("basketgym.contract.protocol", "RankResponse"),
    "Ranker": ("basketgym.contract.protocol", "Ranker"),
    "make_ranker": ("basketgym.rankers", "make_ranker"),
    "available_rankers": ("basketgym.rankers", "available"),
    "run_scenario": ("basketgym.eval.orchestration.runner", "run_scenario"),
    "simulate": ("basketgym.eval.orchestration.runner", "simulate"),
    "evaluate_world": ("basketgym.eval.outcomes.metrics", "evaluate_world"),
}

__all__ = ["__version__", *_API]

from basketgym import envs as _envs  # noqa: E402,F401  (registers the Gymnasium environments)


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        module, attr = _API[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'basketgym' has no attribute {name!r}")
