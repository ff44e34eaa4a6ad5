"""Run directories: where a scenario run's results live, written so that a failure loses nothing earlier.

Layout of ``runs/<name>-<timestamp>/`` (see docs/ARCHITECTURE.md):

    manifest.json            package version, git revision, command, seeds, rankers, timings
    scenario.toml            the fully resolved scenario (rerunnable as is)
    summary.json             per-ranker metrics across seeds (mean, interval) and per-seed rows
    results/<ranker>/seed=<s>/outcomes.parquet   per-shopper outcomes (one row per shopper)
    results/<ranker>/seed=<s>/summary.json       that world's metrics and run facts
    results/<ranker>/seed=<s>/latency.parquet    every ranker call: surface, batch, candidates, seconds
    logs/<ranker>/seed=<s>/{slates,purchases,sessions,shoppers}.parquet   the event log

A run is written into ``<dir>.partial`` and renamed to ``<dir>`` only when it completes; every
file inside is written to a temporary name and renamed. An interrupted run therefore leaves
earlier runs untouched and its own completed (ranker, seed) results readable in ``.partial``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sim.errors import BasketgymError

PARTIAL_SUFFIX = ".partial"


def package_version() -> str:
    """Installed basketgym version, or 'unknown' when running from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("basketgym")
    except PackageNotFoundError:
        return "unknown"


def git_revision() -> str:
    """The source tree's git revision (with '-dirty' if modified), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def new_run_dir(out: str | Path | None, scenario_name: str, overwrite: bool = False) -> tuple[Path, Path]:
    """(final, partial) directories for a new run; refuses to clobber an existing run unless asked."""
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        final = Path("runs") / f"{scenario_name}-{stamp}"
    else:
        final = Path(out)
    if final.exists() and not overwrite:
        raise BasketgymError(f"{final}: already exists; choose another --out or pass --overwrite")
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    return final, partial


def finish_run_dir(final: Path, partial: Path) -> None:
    """Publish a completed run: replace ``final`` (if overwriting) only now that all is written."""
    if final.exists():
        trash = final.with_name(final.name + ".old")
        if trash.exists():
            shutil.rmtree(trash)
        os.replace(final, trash)
        os.replace(partial, final)
        shutil.rmtree(trash)
    else:
        os.replace(partial, final)


def task_dir(root: Path, kind: str, ranker: str, seed: int) -> Path:
    """``root/<kind>/<ranker>/seed=<seed>``; a ranker named by a path (a trained model) gets a flat, safe name."""
    return root / kind / safe_name(ranker) / f"seed={seed}"


def safe_name(ranker: str) -> str:
    """``ranker`` as one path component: separators and odd characters become ``_`` (``a/mmoe`` -> ``a_mmoe``)."""
    return re.sub(r"[^A-Za-z0-9_.~=+-]+", "_", ranker).strip("_.") or "_"
