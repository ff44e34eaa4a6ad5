"""Run directories: where a scenario run's results live, written so that a failure loses nothing earlier.

Layout of ``runs/<name>-<timestamp>/`` (see docs/ARCHITECTURE.md):

    manifest.json            package version, git revision, command, seeds, rankers, timings
    scenario.toml            the fully resolved scenario (rerunnable as is)
    summary.json             per-ranker metrics across seeds (mean, interval) and per-seed rows
    results/<ranker>/seed=<s>/outcomes.parquet   per-shopper outcomes (one row per shopper)
    results/<ranker>/seed=<s>/summary.json       that world's metrics and run facts
    results/<ranker>/seed=<s>/latency.parquet    every ranker call: surface, batch, candidates, seconds
    logs/<ranker>/seed=<s>/{slates,purchases,sessions,shoppers}.parquet   the event log

``<ranker>`` is the task label itself when it is a plain lowercase name, otherwise a slug with a
hash of the exact label (``result_dir_name``); the manifest's ``dirs`` records the mapping.

A run is written into ``<dir>.partial`` and renamed to ``<dir>`` only when it completes; every
file inside is written to a temporary name and renamed. An interrupted run therefore leaves
earlier runs untouched and its own completed (ranker, seed) results readable in ``.partial``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from basketgym.contract.errors import BasketgymError, InputFileError, OutputPathError
from basketgym.contract.files import check_writable, os_error_line, read_json, write_text_atomic

PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
# What a run directory holds at its top level (``run_dir_problem``: anything else is not ours to delete).
RUN_ENTRIES = frozenset(
    {MANIFEST, "scenario.toml", "summary.json", "analysis.json", "ab_units.parquet", "plots", "results", "logs"}
)


def package_version() -> str:
    """Installed basketgym version, or 'unknown' when running from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("basketgym")
    except PackageNotFoundError:
        return "unknown"


def git_revision() -> str:
    """The source tree's git revision (with '-dirty' if modified), or 'unknown'."""
    root = Path(__file__).resolve().parents[2]  # the source tree: eval/orchestration/ is two levels down
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _manifest_problem(manifest: object) -> str:
    """What makes a parsed manifest.json not a run's ('' if nothing)."""
    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    for key, kind in (("basketgym_version", str), ("status", str), ("rankers", list), ("seeds", list),
                      ("tasks", list)):  # fmt: skip
        if not isinstance(manifest.get(key), kind):
            return f"{key} = {manifest.get(key)!r}: must be a {'string' if kind is str else 'list'}"
    if not all(isinstance(s, int) for s in manifest["seeds"]):
        return f"seeds = {manifest['seeds']!r}: must be integers"
    for t in manifest["tasks"]:
        if not (isinstance(t, dict) and isinstance(t.get("label"), str) and isinstance(t.get("seed"), int)):
            return f"tasks entry {t!r}: must be an object with a string label and an integer seed"
    dirs = manifest.get("dirs", {})
    if not (isinstance(dirs, dict) and all(isinstance(v, str) and v == Path(v).name for v in dirs.values())):
        return f"dirs = {dirs!r}: must map each task label to a directory name"
    return ""


def read_manifest(run_dir: str | Path) -> dict:
    """A run directory's manifest.json, checked; one ``InputFileError`` line if ``run_dir`` is not a run."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not run_dir.is_dir():
        why = "a file, not a directory" if run_dir.exists() else "no such directory"
        raise InputFileError(f"{run_dir}: not a run directory ({why})")
    if not path.exists():
        raise InputFileError(f"{run_dir}: not a run directory (no {MANIFEST})")
    manifest = read_json(path, "run manifest")
    why = _manifest_problem(manifest)
    if why:
        raise InputFileError(f"{path}: not a run manifest ({why})")
    return manifest


def run_dir_problem(path: Path) -> str:
    """Why ``path`` is not a run directory that ``--overwrite`` may delete ('' if it is one).

    A run is a directory holding a valid manifest.json and nothing a run does not write (so a
    user's own files beside a manifest are never deleted either); symbolic links are not followed.
    """
    if path.is_symlink():
        return "a symbolic link"
    if not path.is_dir():
        return "a file, not a directory"
    try:
        read_manifest(path)
    except InputFileError as e:
        return str(e)
    strange = sorted(p.name for p in path.iterdir() if p.name not in RUN_ENTRIES and not _is_temporary(p.name))
    if strange:
        return f"it holds {', '.join(strange[:3])}{', ...' if len(strange) > 3 else ''}, which no run writes"
    return ""


def _is_temporary(name: str) -> bool:
    """A temporary file of ``sim.files.atomic_path`` left by an interrupted write."""
    return name.startswith(".") and name.endswith(".tmp")


def check_run_out(out: str | Path | None, scenario_name: str, overwrite: bool = False) -> tuple[Path, Path]:
    """(final, partial) directories of a new run, refused (``OutputPathError``) before anything is written.

    An existing ``out`` needs ``overwrite``, and ``overwrite`` replaces only a basketgym run
    (``run_dir_problem``): anything else is refused and left as it is. A leftover
    ``<out>.partial`` of an interrupted run will be replaced; a ``.partial`` that is not a run's
    is refused too. Nothing is created or deleted here.
    """
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        final = Path("runs") / f"{scenario_name}-{stamp}"
    else:
        final = Path(out)
    if final.name in ("", ".", ".."):
        final = final.resolve()
    if final.exists() or final.is_symlink():
        if not overwrite:
            raise OutputPathError(f"{final}: already exists; choose another --out or pass --overwrite")
        why = run_dir_problem(final)
        if why:
            raise OutputPathError(f"--overwrite {final}: refused, not a basketgym run ({why}); nothing was deleted")
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    if partial.exists() or partial.is_symlink():
        empty = partial.is_dir() and not partial.is_symlink() and not any(partial.iterdir())  # interrupted at once
        why = "" if empty else run_dir_problem(partial)
        if why:
            raise OutputPathError(f"{partial}: in the way of this run and not a basketgym run's leftover ({why})")
    check_writable(partial, "--out", directory=True)
    return final, partial


def new_run_dir(out: str | Path | None, scenario_name: str, overwrite: bool = False) -> tuple[Path, Path]:
    """(final, partial) directories for a new run (``check_run_out``); creates ``partial``, empty."""
    final, partial = check_run_out(out, scenario_name, overwrite)
    if partial.exists():
        shutil.rmtree(partial)
    try:
        partial.mkdir(parents=True)
    except OSError as e:
        raise OutputPathError(f"--out {final}: cannot be created ({os_error_line(e, partial)})") from None
    return final, partial


def finish_run_dir(final: Path, partial: Path) -> None:
    """Publish a completed run: replace ``final`` (if overwriting) only now that all is written.

    The earlier run moves into a fresh hidden directory before it is deleted, so no other name
    beside ``final`` is touched; it is checked again in case something else took its place meanwhile.
    """
    if final.exists() or final.is_symlink():
        why = run_dir_problem(final)
        if why:
            raise OutputPathError(f"{final}: no longer a basketgym run ({why}); this run is complete in {partial}")
        trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        os.replace(final, trash / final.name)
        os.replace(partial, final)
        shutil.rmtree(trash)
    else:
        os.replace(partial, final)


def task_dir(root: Path, kind: str, label: str, seed: int, dirs: dict[str, str] | None = None) -> Path:
    """``root/<kind>/<directory of label>/seed=<seed>``: ``dirs`` (a run's manifest) or ``result_dir_name``."""
    return root / kind / (dirs[label] if dirs is not None else result_dir_name(label)) / f"seed={seed}"


_PLAIN = re.compile(r"[a-z0-9_~=+-][a-z0-9_.~=+-]{0,99}")
_HASHED = re.compile(r".*-[0-9a-f]{10}")


def result_dir_name(label: str) -> str:
    """A task label as one path component; distinct labels get distinct names, even case-insensitively.

    A plain lowercase label (``buy_again``, ``ab~buy_again``) is its own name. Any other
    (``models/default/mmoe``, ``a b``, ``A_B``, ``..``) gets a readable slug and 10 hex digits of
    the sha256 of the exact label: ``models_default_mmoe-<hash>``. A plain name never ends like a
    hashed one, so the two kinds never meet; ``result_dir_names`` checks a run's names are distinct.
    """
    if _PLAIN.fullmatch(label) and not _HASHED.fullmatch(label):
        return label
    slug = re.sub(r"[^a-z0-9_.~=+-]+", "_", label.lower()).strip("_.")[:80] or "_"
    return f"{slug}-{hashlib.sha256(label.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def result_dir_names(labels: list[str]) -> dict[str, str]:
    """``{label: directory name}`` of a run (recorded in its manifest); refuses names that would share a directory."""
    dirs = {label: result_dir_name(label) for label in dict.fromkeys(labels)}
    seen: dict[str, str] = {}
    for label, name in dirs.items():
        other = seen.setdefault(name.casefold(), label)
        if other != label:
            raise BasketgymError(f"rankers {other!r} and {label!r} would share results directory {name!r}; rename one")
    return dirs


def manifest_dirs(manifest: dict) -> dict[str, str]:
    """A run's ``{label: directory name}``: recorded in its manifest, or the flat names of runs written before that."""
    recorded = manifest.get("dirs")
    if recorded is not None:
        return recorded
    return {t["label"]: _legacy_dir_name(t["label"]) for t in manifest["tasks"]}


def _legacy_dir_name(label: str) -> str:
    """The directory names of runs written before ``dirs`` in the manifest (not injective: ``a/b`` and ``a_b`` met)."""
    return re.sub(r"[^A-Za-z0-9_.~=+-]+", "_", label).strip("_.") or "_"


def _plain(obj: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays to Python, NaN and infinities to null."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json_atomic(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON beside ``path`` and rename it into place (no torn files).

    NaN and infinities become null (strict JSON); numpy values become plain numbers.
    """
    write_text_atomic(json.dumps(_plain(obj), indent=2, allow_nan=False, ensure_ascii=False) + "\n", path)
