"""The distribution ships every package of the source tree (a non-editable install must work too)."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
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


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return {Requirement(r).name: Requirement(r) for r in reqs}


@pytest.mark.parametrize(
    ("package", "last_flawed", "first_fixed"),
    [
        ("torch", "2.5.1", "2.6.0"),  # CVE-2025-32434: torch.load(weights_only=True) runs code before 2.6.0
        ("pyarrow", "14.0.0", "14.0.1"),  # CVE-2023-47248: Parquet/IPC deserialisation runs code in 14.0.0
    ],
)
def test_dependency_floors_exclude_releases_whose_loading_executes_code(package, last_flawed, first_fixed):
    spec = _requirements()[package].specifier
    assert not spec.contains(last_flawed) and not spec.contains("1.0") and spec.contains(first_fixed)


def test_cpu_constraints_satisfy_the_floors():
    reqs = _requirements()
    for line in (ROOT / "constraints/cpu.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pin = Requirement(line)
            (version,) = (s.version for s in pin.specifier)
            assert reqs[pin.name].specifier.contains(version), line
