"""What makes two worlds the same: content hashes of a scenario, of the code and of a ranker.

A sweep cell, a stored regression baseline and any cache of results key their worlds by these, so a result
computed from another scenario content, other simulation code or another version of a ranker is never taken
for the current one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
from pathlib import Path

import basketgym
from basketgym.eval.orchestration.runner import scenario_ranker
from basketgym.sim.config import ScenarioConfig, to_toml

#: folders of the package whose code decides a cell's numbers (presentation code is left out)
_CODE_PACKAGES = ("contract", "sim", "agents", "rankers", "eval")
_NOT_CODE = ("leaderboard", "reporting", "cli")


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()


def scenario_hash(cfg: ScenarioConfig) -> str:
    """sha256 of the resolved scenario, its description and seed count left out (they change no world)."""
    text = to_toml(cfg.replace(description="", run=dataclasses.replace(cfg.run, seeds=1)))
    return _sha(text)


def code_version() -> str:
    """``<package version>+<12 hex of the simulation, ranking and evaluation code's sha256>``."""
    files: dict[str, Path] = {}  # "<layer>/<path inside it>" -> file: the same names whatever the install
    for name in _CODE_PACKAGES:
        for root in importlib.import_module(f"basketgym.{name}").__path__:
            for p in Path(root).rglob("*.py"):
                rel = p.relative_to(root)
                if not set(rel.parts) & set(_NOT_CODE):
                    files[f"{name}/{rel.as_posix()}"] = p
    digest = _sha(*(part for name in sorted(files) for part in (name, files[name].read_bytes())))
    return f"{basketgym.__version__}+{digest[:12]}"


def ranker_hash(cfg: ScenarioConfig, name: str) -> str:
    """sha256 of a ranker's identity beyond the package code: name, scenario options, own source, model files.

    Built-in rankers' code is part of every cell's code version already; a ranker from another package
    (an import path) adds the source of each module of its class hierarchy outside basketgym; a trained
    model directory adds its ``model.json`` (which holds the sha256 of every weights file).
    """
    h = hashlib.sha256(json.dumps([name, cfg.rankers.options.get(name, {})], sort_keys=True, default=str).encode())
    ranker = scenario_ranker(cfg, name)
    for klass in type(ranker).__mro__:
        module = klass.__module__
        if module.split(".")[0] not in ("basketgym", "builtins", "typing", "abc"):
            try:
                h.update(Path(inspect.getsourcefile(klass) or "").read_bytes())
            except (OSError, TypeError):
                h.update(module.encode())
    model = Path(name) / "model.json"
    if model.is_file():
        h.update(model.read_bytes())
    return h.hexdigest()
