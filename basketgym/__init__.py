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
    "load_scenario": ("sim.config", "load_scenario"),
    "scenario_from_dict": ("sim.config", "scenario_from_dict"),
    "ScenarioConfig": ("sim.config", "ScenarioConfig"),
    "World": ("sim.world", "World"),
    "WorldResult": ("sim.world", "WorldResult"),
    "RankRequest": ("sim.protocol", "RankRequest"),
    "RankResponse": ("sim.protocol", "RankResponse"),
    "Ranker": ("sim.protocol", "Ranker"),
    "make_ranker": ("rankers", "make_ranker"),
    "available_rankers": ("rankers", "available"),
    "run_scenario": ("eval.runner", "run_scenario"),
    "simulate": ("eval.runner", "simulate"),
    "evaluate_world": ("eval.runner", "evaluate_world"),
}

__all__ = ["__version__", *_API]

from basketgym import envs as _envs  # noqa: E402,F401  (registers the Gymnasium environments)


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        module, attr = _API[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'basketgym' has no attribute {name!r}")
