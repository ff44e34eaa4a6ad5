"""The wall between rankers and the world: the scan of rankers/, and an adversarial ranker failing every bypass."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract import rng
from basketgym.contract.rng import RANKER_PURPOSES, Purpose, ranker_seed
from basketgym.eval.ranker_wall import Violation, python_files, scan, scan_source
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World

RANKERS_DIR = Path(rankers.__file__).parent
ROOT = RANKERS_DIR.parent
CHEATER = Path(__file__).parent / "cheating_ranker.py"


def _marked(kind: str) -> dict[int, str]:
    """Line -> bypass label of the cheater's lines marked ``# <kind>: <label>``."""
    out = {}
    for i, line in enumerate(CHEATER.read_text().splitlines(), start=1):
        m = re.search(rf"# {kind}: ([^#]+)", line)
        if m:
            out[i] = m.group(1).strip()
    return out


def _cheater_module():
    spec = importlib.util.spec_from_file_location("cheating_ranker", CHEATER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_file_under_rankers_passes_the_scan():
    files = python_files(RANKERS_DIR)
    assert len(files) >= 25 and any(f.parent.name == "learned" for f in files)  # recursive
    assert scan(RANKERS_DIR) == []


def test_the_scan_flags_every_static_bypass_of_the_cheater_on_its_line():
    marked = _marked("static")
    assert len(marked) >= 45
    violations = scan(CHEATER)
    flagged = {v.line for v in violations}
    missing = [f"line {line}: {label}" for line, label in marked.items() if line not in flagged]
    assert not missing, f"bypasses the scan did not flag: {missing}"
    # and nothing else: the allowed lines (``import sys`` for progress, ``import os``, the plumbing) pass
    assert sorted(flagged - set(marked)) == []
    assert all(isinstance(v, Violation) and str(v).startswith(f"{CHEATER}:{v.line}: ") for v in violations)


def test_scan_reasons_name_what_is_wrong():
    found = {v.reason for v in scan_source("import agents.state\nx = getattr(a, n)\ny = a.f_back\n")}
    assert found == {
        "import agents.state: not on the ranker import allow-list",
        "getattr() with a computed attribute name",
        ".f_back: frame or interpreter walking",
    }
    assert scan_source("def f(:\n", "bad.py") == [Violation("bad.py", 1, "does not parse: invalid syntax")]


def test_rankers_draw_only_from_ranker_purposes_and_the_world_never_does():
    def purposes(paths):
        used = set()
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Purpose":
                    used.add(Purpose[node.attr])
        return used

    ranker_side = purposes(python_files(RANKERS_DIR))
    world_files = [f for f in [*python_files(ROOT / "sim"), *python_files(ROOT / "agents")] if f.name != "rng.py"]
    world_side = purposes(world_files)
    assert ranker_side and ranker_side <= RANKER_PURPOSES
    assert not (world_side & RANKER_PURPOSES), "the world draws from a purpose rankers may use"
    assert {Purpose.UTILITY, Purpose.EXAMINE_HOME, Purpose.EXAMINE_SEARCH, Purpose.SHOPPER_TASTE} <= world_side


HIDDEN = {"latent", "quality", "aisle_centroid", "aisle_ref_price", "aisle_cycle", "taste", "habit_stock"}


def test_no_ranker_module_names_hidden_world_state():
    for path in python_files(RANKERS_DIR):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Attribute):
                assert node.attr not in HIDDEN, f"{path}:{node.lineno} reads .{node.attr}"


@pytest.fixture(scope="module")
def cheated():
    """The cheater's world and the plain popularity world it imitates (smoke scenario, 8 days)."""
    cfg = load_scenario("smoke").replace(days=8)
    cheater = _cheater_module().CheatingRanker()
    result = World(cfg, cfg.seed, cheater, "cheater").run()
    plain = World(cfg, cfg.seed, make_ranker("popularity"), "popularity").run()
    return cfg, cheater, result, plain


def test_the_cheaters_truth_hook_is_never_called_and_changes_nothing(cheated):
    _, cheater, result, plain = cheated
    assert cheater.hook.calls == 0
    for table in ("slates", "purchases", "sessions", "shoppers"):
        got, want = getattr(result, table), getattr(plain, table)
        assert got.keys() == want.keys() and all(np.array_equal(got[c], want[c]) for c in got), table
    assert len(result.slates["day"]) > 1000


def test_the_cheater_gets_a_ranker_seed_that_cannot_recompute_the_worlds_draws(cheated):
    cfg, cheater, result, _ = cheated
    assert cheater.seed_seen == ranker_seed(cfg.seed) != cfg.seed
    s = result.slates
    ids, day, items = s["shopper_id"], s["day"], np.maximum(s["slate"], 0)
    truth = rng.uniform_keyed(cfg.seed, Purpose.UTILITY, ids, day, items)
    guess = cheater.utility_guess(ids, day, items)
    assert truth.size >= 15_000 and not np.any(guess == truth)
    # independent streams: correlation ~ N(0, 1/n); 5 sd at n >= 15,000 is 0.041
    assert abs(np.corrcoef(guess.ravel(), truth.ravel())[0, 1]) < 0.045
    exam = rng.uniform(cfg.seed, Purpose.EXAMINE_HOME, ids, day, 10)
    assert not np.any(rng.uniform(cheater.seed_seen, Purpose.EXAMINE_HOME, ids, day, 10) == exam)


def test_every_write_the_cheater_tries_raises(cheated):
    _, cheater, _, _ = cheated
    assert len(_marked("runtime")) >= 10
    expected = {"catalog.price", "catalog.available", "catalog.shelf", "request.candidates", "request.shopper_ids",
                "request.query", "log.purchases", "log.sessions"}  # fmt: skip
    assert set(cheater.attempts) == expected
    assert set(cheater.attempts.values()) == {"ValueError"}, cheater.attempts
