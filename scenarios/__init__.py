"""Bundled scenario files (TOML data); ``scenario_path`` resolves a name or a path."""

from __future__ import annotations

from pathlib import Path

from basketgym.contract.errors import ScenarioError

HERE = Path(__file__).resolve().parent


def bundled() -> list[str]:
    """Names of the scenarios shipped with basketgym."""
    return sorted(p.stem for p in HERE.glob("*.toml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file path from a path or a bundled name such as ``default``."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    if p.is_dir():
        raise ScenarioError(f"{name_or_path}: is a directory, not a scenario file")
    candidate = HERE / f"{p.name if p.suffix == '.toml' else p.name + '.toml'}"
    if p.parent == Path(".") and candidate.is_file():
        return candidate
    raise ScenarioError(f"{name_or_path}: no such scenario file; bundled scenarios: {', '.join(bundled())}")
