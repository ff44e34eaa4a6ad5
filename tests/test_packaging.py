"""The distribution ships every package of the source tree (a non-editable install must work too)."""

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_shipped():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_packages(str(ROOT), include=cfg["include"]))
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in ROOT.glob("*/**/__init__.py")
        if p.parts[len(ROOT.parts)] in {"basketgym", "sim", "agents", "rankers", "eval", "scenarios"}
    }
    assert on_disk <= shipped, f"not shipped: {sorted(on_disk - shipped)}"
    assert "basketgym.envs" in shipped
    assert not any(p.startswith(("tests", "benchmarks")) for p in shipped)
