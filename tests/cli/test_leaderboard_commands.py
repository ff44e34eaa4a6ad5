"""basketgym sweep, leaderboard and regress from the command line: results, exit codes, one-line errors."""

import json

import pytest

from basketgym.cli import main


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("basketgym: error: ") and "Traceback" not in err, err
    return err


def test_sweep_then_leaderboard(tmp_path, capsys):
    out = tmp_path / "sw"
    args = ["sweep", "--scenarios", "smoke", "--rankers", "buy_again", "--seeds", "2", "--days", "8", "--out", str(out)]
    assert main(args) == 0
    assert "sweep 'sweep': 6 cells, 0 already done, 6 run" in capsys.readouterr().out
    assert main(args) == 0  # again: nothing to run
    assert "6 cells, 6 already done, 0 run" in capsys.readouterr().out
    assert main(["leaderboard", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## smoke-v0" in text and "| buy_again |" in text.replace(" (control)", "")
    assert json.loads((out / "leaderboard.json").read_text())["scenarios"][0]["scenario_id"] == "smoke-v0"


def test_regress_exits_1_on_a_regression_and_0_otherwise(capsys):
    common = ["--scenarios", "smoke", "--seeds", "3", "--days", "30", "--metrics", "ltv"]
    assert main(["regress", "buy_again", "--baseline", "margin_greedy", *common]) == 1  # over 30 days greedy wins
    captured = capsys.readouterr()
    assert "regression" in captured.out and "REGRESSION: buy_again is worse than margin_greedy" in captured.err
    assert main(["regress", "buy_again", "--baseline", "buy_again", *common]) == 0
    assert "non-inferior" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep"], "name a sweep file, or both --scenarios and --rankers"),
        (["sweep", "--scenarios", "nowhere", "--rankers", "random"], "nowhere"),
        (["sweep", "--scenarios", "smoke", "--rankers", "random,random"], "'random' named twice"),
        (["leaderboard", "/nonexistent/sweep"], "no leaderboard database here"),
        (["regress", "random", "--baseline", "random", "--margin", "ltv"], "--margin ltv: spell it METRIC=VALUE"),
        (["regress", "random", "--baseline", "random", "--metrics", "speed"], "each must be one of"),
        (["regress", "random", "--baseline", "/nonexistent/base.parquet"], "no such stored baseline"),
        (["regress", "nope", "--baseline", "random", "--scenarios", "smoke", "--days", "5"], "unknown ranker 'nope'"),
    ],
)
def test_bad_input_is_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert message in _one_line_error(capsys)


def test_a_corrupt_database_is_one_line(tmp_path, capsys):
    (tmp_path / "leaderboard.sqlite").write_bytes(b"\x89PNG not a database at all, not at all" * 4)
    assert main(["leaderboard", str(tmp_path)]) == 2
    assert "not a leaderboard database" in _one_line_error(capsys)
