"""``basketgym run --seed``: the first world seed, as if the scenario said so; its worlds are the scenario's own."""

import json
import tomllib

import pandas as pd
import pytest

from basketgym.cli import main
from basketgym.contract.errors import ScenarioError
from basketgym.eval.orchestration.plan import plan_scenario

RUN = ["run", "smoke", "--days", "3", "--rankers", "random,buy_again", "--no-event-log"]


def _per_seed(out):
    return pd.DataFrame(json.loads((out / "summary.json").read_text())["per_seed"]).set_index(["ranker", "seed"])


def test_seed_is_the_first_of_the_runs_seeds(tmp_path, capsys):
    assert main([*RUN, "--seeds", "2", "--out", str(tmp_path / "both")]) == 0  # the scenario's seeds: 11, 12
    assert main([*RUN, "--seeds", "1", "--seed", "12", "--out", str(tmp_path / "second")]) == 0
    capsys.readouterr()
    manifest = json.loads((tmp_path / "second/manifest.json").read_text())
    assert manifest["seeds"] == [12] and {t["seed"] for t in manifest["tasks"]} == {12}
    assert tomllib.loads((tmp_path / "second/scenario.toml").read_text())["seed"] == 12  # rerunnable as is
    # the world of seed 12 is the same whether the run starts there or reaches it second
    both, second = _per_seed(tmp_path / "both"), _per_seed(tmp_path / "second")
    pd.testing.assert_frame_equal(second, both.loc[second.index])


def test_the_scenarios_own_seed_changes_nothing(tmp_path, capsys):
    assert main([*RUN, "--seeds", "1", "--no-write"]) == 0
    default = capsys.readouterr().out
    assert main([*RUN, "--seeds", "1", "--seed", "11", "--no-write"]) == 0
    assert capsys.readouterr().out.split("simulated")[0] == default.split("simulated")[0]  # up to the timings


@pytest.mark.parametrize("seed", ["-1", str(2**62 + 1)])
def test_a_seed_out_of_range_is_one_line(seed, capsys):
    assert main([*RUN, "--seed", seed]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"basketgym: error: --seed = {seed}: must be between 0 and {2**62}"


def test_the_library_checks_the_seed_as_a_scenario_key():
    assert plan_scenario("smoke", seed=40, seeds=2).cfg.seed == 40
    with pytest.raises(ScenarioError, match=r"smoke with --seed -3: seed = -3: must be between 0 and"):
        plan_scenario("smoke", seed=-3)
