"""The run grid and run directories: layout, equivalence of executors, nothing lost on failure."""

import json

import pandas as pd
import pytest

from basketgym.contract.errors import BasketgymError, RankerError
from basketgym.eval.orchestration.runner import Task, TaskResult, grid, run_scenario, throughput, world_seeds
from basketgym.sim.config import load_scenario
from basketgym.sim.eventlog import read_table


@pytest.fixture(scope="module")
def tiny():
    return load_scenario("smoke").replace(days=10)


def test_run_directory_layout_and_contents(tiny, tmp_path):
    out = tmp_path / "run"
    res = run_scenario(tiny, ["popularity", "random"], seeds=2, out=out)
    assert res.run_dir == out and not (tmp_path / "run.partial").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seeds"] == [11, 12]
    assert (out / "scenario.toml").read_text().startswith('name = "smoke"')
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rankers"]["popularity"]["gtv"]["n"] == 2
    for ranker in ("popularity", "random"):
        for seed in (11, 12):
            outcomes = pd.read_parquet(out / f"results/{ranker}/seed={seed}/outcomes.parquet")
            assert len(outcomes) == len(read_table(out / f"logs/{ranker}/seed={seed}/shoppers.parquet")["shopper_id"])
            purchases = read_table(out / f"logs/{ranker}/seed={seed}/purchases.parquet")
            assert outcomes["gtv"].sum() == pytest.approx(purchases["price"].sum(), rel=1e-4)
            row = res.per_seed[(res.per_seed.ranker == ranker) & (res.per_seed.seed == seed)].iloc[0]
            assert row["gtv"] == pytest.approx(purchases["price"].sum(), rel=1e-4)
            lat = pd.read_parquet(out / f"results/{ranker}/seed={seed}/latency.parquet")
            assert (lat["seconds"] > 0).all() and set(lat["surface"]) == {0, 1}


def test_process_pool_gives_identical_results(tiny):
    serial = run_scenario(tiny, ["buy_again", "random"], seeds=2, write=False)
    pooled = run_scenario(tiny, ["buy_again", "random"], seeds=2, write=False, jobs=2)
    pd.testing.assert_frame_equal(serial.per_seed, pooled.per_seed)


def test_unknown_ranker_fails_before_anything_is_written(tiny, tmp_path):
    with pytest.raises(RankerError, match="unknown ranker 'popularty'; did you mean 'popularity'"):
        run_scenario(tiny, ["popularty"], out=tmp_path / "x")
    assert not any(tmp_path.iterdir())


def test_existing_output_is_not_clobbered(tiny, tmp_path):
    out = tmp_path / "run"
    run_scenario(tiny, ["random"], seeds=1, out=out)
    before = (out / "summary.json").read_text()
    with pytest.raises(BasketgymError, match="already exists"):
        run_scenario(tiny, ["random"], seeds=1, out=out)
    assert (out / "summary.json").read_text() == before


def test_interrupted_run_leaves_earlier_results_intact(tiny, tmp_path):
    out = tmp_path / "run"
    run_scenario(tiny, ["random"], seeds=1, out=out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupt(ranker, seed, index, day, days, seconds):
        if index == 1 and day == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scenario(tiny, ["random", "popularity"], seeds=1, out=out, overwrite=True, progress=interrupt)
    # the earlier run is untouched, byte for byte
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    # the interrupted run's finished world is complete and readable; nothing half-written exists
    partial = tmp_path / "run.partial"
    assert json.loads((partial / "results/random/seed=11/summary.json").read_text())["ranker"] == "random"
    assert not (partial / "results/popularity").exists()
    assert not [p for p in partial.rglob("*") if p.name.startswith(".")]
    assert json.loads((partial / "manifest.json").read_text())["status"] == "running"


def test_seeds_follow_the_scenarios_seed(tiny):
    """A run's N worlds per ranker: seed, seed + 1, ... (the grid, the manifest and ``validate`` share the rule)."""
    assert world_seeds(tiny, 3) == [11, 12, 13] and world_seeds(tiny.replace(seed=40), 2) == [40, 41]
    assert sorted({t.seed for t in grid(tiny, ["random"], 3)}) == [11, 12, 13]


def test_throughput_sums_the_worlds():
    tasks = [TaskResult(Task(i, "random", 11), {}, {"sessions": s, "wall_seconds": w}) for i, (s, w) in
             enumerate([(300, 0.5), (100, 0.5)])]  # fmt: skip
    assert throughput(tasks) == (400, 400.0)
