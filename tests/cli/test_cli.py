"""The command line: the main job end to end, and one-line errors with a non-zero exit."""

import re
import subprocess
import sys

import pytest

from basketgym.cli import main


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "basketgym", *args], capture_output=True, text=True, timeout=300)


def test_run_smoke_end_to_end_in_a_subprocess(tmp_path):
    out = tmp_path / "r"
    p = _cli("run", "smoke", "--days", "12", "--seeds", "1", "--out", str(out))
    assert p.returncode == 0, p.stderr
    for ranker in ("random", "popularity", "buy_again", "margin_greedy"):
        assert ranker in p.stdout
    assert "LTV 30d" in p.stdout and "retained 30d" in p.stdout
    assert "[4/4] margin_greedy" in p.stderr
    assert (out / "summary.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "nope.toml"],
            "basketgym: error: nope.toml: no such scenario file; bundled scenarios: ads_heavy, default, smoke",
        ),
        (
            ["run", "smoke", "--rankers", "popularty"],
            "basketgym: error: unknown ranker 'popularty'; did you mean 'popularity'?",
        ),
        (["run", "smoke", "--seeds", "0"], "basketgym: error: --seeds = 0: must be >= 1"),
        (["train", "smoke", "--model", "xgb", "--out", "x"], "basketgym: error: --model 'xgb': must be one of"),
        (["train", "smoke", "--explore", "2", "--out", "x"], "basketgym: error: --explore = 2.0: must be in [0, 1]"),
        (["train", "smoke", "--max-rows", "0", "--out", "x"], "basketgym: error: --max-rows = 0: must be >= 1"),
        (
            ["ope", "smoke", "--logging", "popularity", "--target", "buy_again", "--seed", "-1"],
            "basketgym: error: --seed = -1: must be between 0 and 4611686018427387904",
        ),
        # one name for the logging policy: --logging in logs, ope and train; --policy is not an alias
        (
            ["logs", "smoke", "--policy", "popularity", "--out", "x.parquet"],
            "basketgym: error: logs: the following arguments are required: --logging",
        ),
        (
            ["train", "smoke", "--policy", "popularity", "--out", "x"],
            "basketgym: error: unrecognized arguments: --policy popularity",
        ),
    ],
)
def test_errors_are_one_line_with_exit_2(args, message, capsys):
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(message)
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_malformed_scenario_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('days = 10\n[population]\nshoppers = "many"\n')
    assert main(["run", str(bad), "--no-write"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"basketgym: error: {bad}: population.shoppers = 'many': must be an integer"


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "default" in out and "margin_greedy" in out


def test_no_event_log_writes_results_but_no_logs(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(
            ["run", "smoke", "--days", "5", "--seeds", "1", "--rankers", "random", "--no-event-log", "--out", str(out)]
        )
        == 0
    )
    assert (out / "results/random/seed=11/outcomes.parquet").is_file()
    assert not (out / "logs").exists()
    assert 'event_log = "none"' in (out / "scenario.toml").read_text()


def test_train_grades_explains_and_saves_models_that_run(tmp_path, capsys):
    """``basketgym train`` prints the comparison and a sample explanation; a saved model is a ranker name."""
    out = tmp_path / "models"
    args = ["train", "smoke", "--model", "mmoe,lgbm_rank", "--days", "30", "--epochs", "3", "--rounds", "30",
            "--experts", "3", "--weighting", "fixed"]  # fmt: skip
    assert main([*args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| mmoe |" in text and "| lgbm_rank |" in text and "click ECE (truth)" in text
    assert "integrated gradients" in text and "TreeSHAP" in text and "[position 0 vs average" in text
    assert re.search(r"gate weights per task.*\n    click +(\d\.\d\d ){2}\d\.\d\d\n", text)  # MMoE: 3 experts
    for name in ("mmoe/model.json", "mmoe/weights.npz", "lgbm_rank/rank.lgb", "grades.csv", "comparison.md",
                 "reliability.png"):  # fmt: skip
        assert (out / name).is_file(), name
    assert main([*args, "--out", str(out)]) == 2  # not over earlier models without --overwrite
    assert "exists and is not empty" in capsys.readouterr().err
    run = ["run", "smoke", "--rankers", f"popularity,{out / 'mmoe'}", "--days", "8", "--seeds", "1", "--no-write"]
    assert main(run) == 0
    assert f"{out / 'mmoe'}" in capsys.readouterr().out


def test_uplift_prints_effects_and_the_learner_table(tmp_path, capsys):
    out = tmp_path / "u"
    args = ["uplift", "smoke", "--days", "45", "--start-day", "5", "--test-days", "10", "--learners", "t,dr",
            "--bootstrap", "20"]  # fmt: skip
    assert main([*args, "--outcome", "bought,margin_30d", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exposure tests" in text and "| t-learner |" in text and "| oracle | +1.000" in text
    assert "outcome 'margin_30d'" in text
    assert (out / "exposures.parquet").is_file() and (out / "uplift_bought.csv").is_file()
    assert (out / "gain_margin_30d.png").read_bytes().startswith(b"\x89PNG")
    assert main([*args, "--outcome", "clicks"]) == 2
    assert "--outcome 'clicks': must be one of" in capsys.readouterr().err
    assert main(["uplift", "smoke", "--start-day", "100"]) == 2
    assert "exposure tests need" in capsys.readouterr().err
