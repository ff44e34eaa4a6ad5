"""The HTML page in a real headless Chromium (Debian's chromium): renders, no console errors, tables present."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from basketgym.eval.leaderboard.board import build_board
from basketgym.eval.leaderboard.render import publish
from basketgym.eval.leaderboard.sweep import SweepSpec, sweep

SCRIPT = Path(__file__).parents[3] / "benchmarks" / "check_leaderboard_page.py"
pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)


def _checker():
    spec = importlib.util.spec_from_file_location("check_leaderboard_page", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_renders_with_its_tables_and_no_console_errors(tmp_path):
    sweep(SweepSpec("p", ("smoke",), ("buy_again",), seeds=2, days=8), tmp_path)
    publish(build_board(tmp_path, n_boot=100), tmp_path)
    assert _checker().check(tmp_path / "leaderboard.html", tmp_path / "shot.png") == []
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_the_check_fails_a_page_with_a_script_error_a_network_request_and_no_tables(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>undefinedFunction();</script><img src="http://example.com/x.png"></body>')
    problems = _checker().check(page, tmp_path / "bad.png")
    assert any(p.startswith("console:") for p in problems) and any("tables missing" in p for p in problems)
