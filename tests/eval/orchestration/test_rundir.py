"""Run directories: result names one per task label (never shared, even case-insensitively); atomic JSON files."""

import json
import math
import re

import numpy as np
import pytest

from basketgym.contract.errors import BasketgymError
from basketgym.eval.orchestration import rundir
from basketgym.eval.orchestration.rundir import result_dir_name, result_dir_names, write_json_atomic
from basketgym.eval.orchestration.runner import run_scenario
from basketgym.eval.reporting.analysis import analyze_run, load_run
from basketgym.rankers import registry
from basketgym.rankers.baselines import BuyAgainRanker, MarginGreedyRanker, PopularityRanker, RandomRanker
from basketgym.rankers.registry import register_ranker
from basketgym.sim.config import load_scenario

AWKWARD = ["a/b", "a_b", "A_B", "a..b", "a b", "a  b", "a\\b", "A/B", "models/default/mmoe", "models_default_mmoe",
           "..", ".", "", "_", "ab~buy_again", "a-0123456789", "a_b-c14cddc033", "ÄB", "a/b~no_search",
           "x" * 300]  # fmt: skip


def test_awkward_names_map_to_distinct_single_components():
    names = [result_dir_name(n) for n in AWKWARD]
    assert len({n.casefold() for n in names}) == len(AWKWARD)  # distinct on a case-insensitive file system too
    for n in names:
        assert "/" not in n and "\\" not in n and n not in ("", ".", "..") and not n.startswith(".")
        assert re.fullmatch(r"[a-z0-9_.~=+-]+", n) and len(n) <= 100


def test_plain_names_are_their_own_directories_and_others_are_readable_and_pinned():
    for plain in ("buy_again", "ab~buy_again", "buy_again~no_search", "switch~popularity", "a..b", "a_b"):
        assert result_dir_name(plain) == plain
    # slug + the first 10 hex digits of sha256 of the exact name: stable across runs and machines
    assert result_dir_name("models/default/mmoe") == "models_default_mmoe-fdbb5ca96e"
    assert result_dir_name("a/b") == "a_b-c14cddc033"
    assert result_dir_name("A_B") == "a_b-6c1908f93f"
    assert result_dir_name("a_b-c14cddc033") != "a_b-c14cddc033"  # a plain name that looks hashed is hashed again


def test_a_collision_is_refused_before_anything_is_written(monkeypatch):
    monkeypatch.setattr(rundir, "result_dir_name", lambda label: label.lower())
    with pytest.raises(BasketgymError, match="'A' and 'a' would share results directory 'a'"):
        result_dir_names(["A", "a"])


@pytest.fixture
def awkward_rankers(monkeypatch):
    monkeypatch.setattr(registry, "RANKERS", dict(registry.RANKERS))  # restored after the test
    bases = {"a/b": RandomRanker, "a_b": PopularityRanker, "A_B": BuyAgainRanker, "a..b": MarginGreedyRanker}
    for name, base in bases.items():
        register_ranker(name, type(f"Test{base.__name__}", (base,), {"name": name}))
    return list(bases)


def test_round_trip_of_awkward_names(awkward_rankers, tmp_path):
    cfg = load_scenario("smoke").replace(days=3)
    out = tmp_path / "run"
    res = run_scenario(cfg, awkward_rankers, seeds=1, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    dirs = manifest["dirs"]
    assert dirs["a/b"] == "a_b-c14cddc033" and dirs["a_b"] == "a_b" and dirs["A_B"] == "a_b-6c1908f93f"
    assert sorted(p.name for p in (out / "results").iterdir()) == sorted(set(dirs.values()))
    data = load_run(out)
    for name in awkward_rankers:  # each ranker's files hold its own world (the four rankers differ in GTV)
        row = res.per_seed[res.per_seed.ranker == name].iloc[0]
        assert data.outcomes[(name, 11)]["gtv"].sum() == pytest.approx(row["gtv"], rel=1e-4)
    assert len({round(float(v), 2) for v in res.per_seed["gtv"]}) == 4
    assert set(analyze_run(out, write=False).long_horizon["ranker"]) == set(awkward_rankers)


def test_runs_written_before_the_manifest_recorded_dirs_are_still_read(awkward_rankers, tmp_path):
    cfg = load_scenario("smoke").replace(days=3)
    out = tmp_path / "run"
    run_scenario(cfg, ["a/b"], seeds=1, out=out, write=True)
    new = load_run(out).outcomes[("a/b", 11)]
    # the old layout: flat names (a/b -> a_b) and no dirs in the manifest
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "results" / manifest.pop("dirs")["a/b"]).rename(out / "results/a_b")
    (out / "manifest.json").write_text(json.dumps(manifest))
    old = load_run(out).outcomes[("a/b", 11)]
    assert old.equals(new)


def test_write_json_atomic(tmp_path):
    path = tmp_path / "run" / "summary.json"
    write_json_atomic({"gtv": np.float32(1.5), "n": np.int64(3), "ltv": math.nan, "h": (14, 30)}, path)
    write_json_atomic({"gtv": 2.0, "ltv": float("inf"), "arr": np.arange(2)}, path)
    assert json.loads(path.read_text()) == {"gtv": 2.0, "ltv": None, "arr": [0, 1]}
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]  # no temporary left


def test_write_json_atomic_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic({"ok": 1}, path)
    with pytest.raises(TypeError):
        write_json_atomic({"bad": object()}, path)
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
