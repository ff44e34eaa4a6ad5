"""A team's ranker by import path: resolved outside rankers/, built by make_ranker, run by a scenario and the CLI."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from basketgym.contract.errors import RankerError, ScenarioError
from basketgym.contract.protocol import Ranker
from basketgym.eval.orchestration.runner import run_scenario
from basketgym.plugins import is_import_path, ranker_class, resolve_ranker
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario

HERE = Path(__file__).parent
PATH = "team_ranker:CheapestFirst"  # tests/team_ranker.py


@pytest.fixture
def importable(monkeypatch):
    """``team_ranker`` importable as a team's package would be (and imported afresh by each test)."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.delitem(sys.modules, "team_ranker", raising=False)


def test_import_paths_are_told_from_names_and_model_directories():
    assert is_import_path(PATH) and is_import_path("my_pkg.sub.module:Outer.Inner")
    for name in ("buy_again", "models/default/mmoe", "./models:x", "a:b:c", ":X", "pkg:", "pkg.:X"):
        assert not is_import_path(name), name
    assert resolve_ranker("buy_again") == "buy_again"
    assert resolve_ranker("models/default/mmoe") == "models/default/mmoe"


def test_an_import_path_names_a_class_that_make_ranker_builds(importable):
    cls = resolve_ranker(PATH)
    assert (cls.__module__, cls.__qualname__) == ("team_ranker", "CheapestFirst")
    assert ranker_class("team_ranker:Outer.Nested").__qualname__ == "Outer.Nested"
    ranker = make_ranker(cls, markup=0.5, half_life_days=3.0)
    assert isinstance(ranker, Ranker) and (ranker.name, ranker.markup, ranker.half_life_days) == (
        "cheapest_first", 0.5, 3.0
    )  # fmt: skip


def test_what_cannot_be_resolved_is_a_one_line_error(importable):
    expected = {
        "team_ranker": "ranker 'team_ranker': an import path is spelled package.module:Class",
        "no_such_team.rankers:X": "ranker 'no_such_team.rankers:X': cannot import no_such_team.rankers: "
        "No module named 'no_such_team'",
        "team_ranker:Missing": "ranker 'team_ranker:Missing': module 'team_ranker' has no 'Missing'",
        "team_ranker:Outer.Missing": "ranker 'team_ranker:Outer.Missing': module 'team_ranker' has no 'Outer.Missing'",
        "team_ranker:NOT_A_CLASS": "ranker 'team_ranker:NOT_A_CLASS': 'NOT_A_CLASS' is a CheapestFirst, not a class",
    }
    for path, message in expected.items():
        with pytest.raises(RankerError) as err:
            ranker_class(path)
        assert str(err.value) == message


def test_a_scenario_runs_a_ranker_named_by_its_import_path_with_its_options(importable):
    cfg = load_scenario("smoke").replace(days=4)
    cfg = cfg.replace(rankers=dataclasses.replace(cfg.rankers, options={PATH: {"markup": 0.2}}))
    res = run_scenario(cfg, ["popularity", PATH], seeds=1, write=False)
    gtv = res.per_seed.set_index("ranker")["gtv"]
    assert set(gtv.index) == {"popularity", PATH} and gtv[PATH] > 0 and gtv[PATH] != gtv["popularity"]
    bad = cfg.replace(rankers=dataclasses.replace(cfg.rankers, options={PATH: {"mark_up": 0.2}}))
    with pytest.raises((RankerError, ScenarioError), match="unknown option 'mark_up'; did you mean 'markup'"):
        run_scenario(bad, [PATH], seeds=1, write=False)


def test_the_cli_runs_it_in_worker_processes():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "basketgym", "run", "smoke", "--days", "3", "--seeds", "1", "--jobs", "2",
           "--no-write", "--rankers", f"popularity,{PATH}"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert PATH in out.stdout and "popularity" in out.stdout
