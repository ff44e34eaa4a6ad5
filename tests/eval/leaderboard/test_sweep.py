"""Sweeps: resumable after a kill, versioned scenario ids, no stale cells, the published board."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from basketgym.contract.errors import ScenarioError
from basketgym.eval.leaderboard.board import build_board
from basketgym.eval.leaderboard.render import publish
from basketgym.eval.leaderboard.store import CellKey, Store
from basketgym.eval.leaderboard.sweep import SweepSpec, load_sweep, sweep

SPEC = SweepSpec("t", ("smoke",), ("buy_again", "margin_greedy"), seeds=2, days=12)
SCRIPT = """
import sys
from basketgym.eval.leaderboard.sweep import SweepSpec, sweep
spec = SweepSpec("t", ("smoke",), ("buy_again", "margin_greedy"), seeds=2, days=12)
sweep(spec, sys.argv[1], progress=lambda line: print(line, flush=True))
"""


def _rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def _snapshot(root: Path, timings: bool = True) -> dict[tuple, tuple]:
    """Every cell's key, metrics and outcome table; ``timings`` False drops the latency figures (wall clock)."""
    store = Store(root / "leaderboard.sqlite")
    try:
        out = {}
        for c in store.cells():
            outcomes = pd.read_parquet(root / c["path"] / "outcomes.parquet")
            key = (c["scenario_id"], c["ranker"], c["ranker_hash"], c["seed"], c["code_version"], c["role"], c["path"])
            metrics = {k: v for k, v in c["metrics"].items() if timings or not k.startswith("latency_")}
            out[key] = (json.dumps(metrics, sort_keys=True), outcomes.to_json())
        return out
    finally:
        store.close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("whole") / "sweep"
    result = sweep(SPEC, root)
    assert result.cells == 8 and result.reused == 0 and len(result.ran) == 8  # (2 policies + control + random) x 2
    return root


def test_a_sweep_killed_half_way_resumes_to_the_uninterrupted_results(uninterrupted, tmp_path):
    root = tmp_path / "sweep"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(root)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _rows(root / "leaderboard.sqlite") < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _rows(root / "leaderboard.sqlite")
    assert 3 <= done < 8, f"the kill came too late to interrupt anything ({done} cells)"
    before = _snapshot(root)
    result = sweep(SPEC, root)
    assert result.reused == done and len(result.ran) == 8 - done  # finished cells are not recomputed ...
    after = _snapshot(root)
    assert {k: after[k] for k in before} == before  # ... nor touched
    assert _snapshot(root, timings=False) == _snapshot(uninterrupted, timings=False)  # = a sweep never interrupted


def test_a_changed_scenario_is_a_new_id_and_keeps_the_old_cells(tmp_path):
    text = (Path(__file__).parents[3] / "scenarios" / "smoke.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(text.replace('name = "smoke"', 'name = "mine"'))
    spec = SweepSpec("v", (str(path),), ("buy_again",), seeds=1, days=6)
    sweep(spec, tmp_path / "s")
    path.write_text(path.read_text().replace('description = "', 'description = "edited: '))
    assert sweep(spec, tmp_path / "s").reused == 3  # a new description changes no world: same id, nothing to run
    path.write_text(path.read_text() + "\n[marketplace]\nhome_slate_size = 8\n")
    result = sweep(spec, tmp_path / "s")
    assert result.reused == 0 and len(result.ran) == 3
    store = Store(tmp_path / "s" / "leaderboard.sqlite")
    ids = sorted({c["scenario_id"] for c in store.cells()})
    store.close()
    assert ids == ["mine-v0", "mine-v1"]


def test_cells_of_other_code_are_never_on_the_board(uninterrupted, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(uninterrupted, root)
    store = Store(root / "leaderboard.sqlite")
    c = store.cells()[0]
    stale = CellKey(c["scenario_hash"], c["ranker"], c["ranker_hash"], c["seed"], "0.0.1+oldcode")
    store.add(stale, c["role"], c["path"], {**c["metrics"], "ltv_14d": 1e9}, 1.0)
    store.close()
    board = build_board(root, n_boot=100)
    assert all(r["ltv_long"]["mean"] < 1e6 for b in board.scenarios for r in b.rows)


def test_the_board_is_published_as_markdown_json_and_self_contained_html(uninterrupted, tmp_path):
    board = build_board(uninterrupted, n_boot=200)
    (sb,) = board.scenarios
    assert sb.scenario_id == "smoke-v0" and sb.control == "popularity" and (sb.short, sb.long) == (7, 7)
    assert [r["ranker"] for r in sb.rows][0] in {"buy_again", "margin_greedy", "random", "popularity"}
    control = next(r for r in sb.rows if r["ranker"] == "popularity")
    assert control["role"] == "control" and control["incremental_ltv"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    best = max(r["ltv_long"]["mean"] for r in sb.rows)
    assert next(r for r in sb.rows if r["ltv_long"]["mean"] == best)["normalised_ltv"]["mean"] == pytest.approx(1.0)
    assert next(r for r in sb.rows if r["ranker"] == "random")["normalised_ltv"]["mean"] == pytest.approx(0.0)
    assert all(len(d) == 3 and isinstance(d[2], bool) for d in sb.disagreements)
    md, js, page = publish(board, tmp_path)
    assert "| 1 | " in md.read_text() and "## smoke-v0" in md.read_text()
    doc = json.loads(js.read_text())
    assert doc["scenarios"][0]["scenario_id"] == "smoke-v0" and len(doc["overall"]) == 4
    text = page.read_text()
    assert "<table" in text and "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text and "<script" not in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('scenarios = []\nrankers = ["random"]', "sweep scenarios = (): must be a non-empty list"),
        ('scenarios = ["smoke"]\nrankers = ["random", "random"]', "'random' named twice"),
        ('scenarios = ["smoke"]\nrankers = ["random"]\nseeds = 0', "sweep seeds = 0: must be a whole number"),
        ('scenarios = ["smoke"]\nrankers = ["random"]\nseed = 3', "sweep 'seed': unknown key"),
    ],
)
def test_a_bad_sweep_file_is_refused_in_one_line(body, message, tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(body + "\n")
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_sweep(p)
