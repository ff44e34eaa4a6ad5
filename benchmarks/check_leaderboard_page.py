"""Open the leaderboard's HTML page in a real headless Chromium: screenshot, console errors, tables, no network.

Usage: .venv/bin/python benchmarks/check_leaderboard_page.py SWEEP_DIR [--png leaderboard.png]

Needs Debian's ``chromium`` (``apt-get install chromium``); without it, says so and exits 0 (nothing checked).
Chromium runs with the network closed to the page (``--proxy-server`` to a dead port: a page that tried to
load anything from the network would log a failed request, which counts as an error here). Checks: the
screenshot is written and non-empty, the console shows no error or warning, the DOM holds the overall table
and one table per scenario. Exits 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0"]  # fmt: skip


def chromium() -> str | None:
    """The Chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def check(page: Path, png: Path) -> list[str]:
    """Problems found with ``page`` (empty: all good); writes the screenshot to ``png``."""
    exe = chromium()
    assert exe is not None
    url = page.resolve().as_uri()
    problems = []
    with tempfile.TemporaryDirectory() as profile:
        base = [exe, *FLAGS, f"--user-data-dir={profile}"]
        shot = subprocess.run([*base, f"--screenshot={png}", "--window-size=1400,2000", url],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    console = [ln for ln in (shot.stderr + dom.stderr).splitlines() if "CONSOLE" in ln or "ERR_" in ln]
    if console:
        problems.append("console: " + " | ".join(console[:5]))
    if not png.is_file() or png.stat().st_size < 1000:
        problems.append(f"no screenshot ({png})")
    tables = len(re.findall(r"<table", dom.stdout))
    scenarios = len(re.findall(r'<table class="scenario"', dom.stdout))
    if 'class="overall"' not in dom.stdout or scenarios < 1:
        problems.append(f"tables missing: {tables} table(s), {scenarios} scenario table(s)")
    if "data:image/png;base64," not in dom.stdout:
        problems.append("no inline plot")
    return problems


def main() -> int:
    """Check the page of a sweep directory; 0 if fine or Chromium is absent."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--png", type=Path, default=Path("leaderboard.png"))
    args = ap.parse_args()
    if chromium() is None:
        print("chromium is not installed (apt-get install chromium): the page was not checked")
        return 0
    page = args.sweep_dir / "leaderboard.html"
    problems = check(page, args.png)
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    print(f"{page}: {'ok' if not problems else 'FAILED'}; screenshot {args.png}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
