"""The distribution ships every package of the source tree (a non-editable install must work too)."""

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


LAYERS = ("sim", "agents", "rankers", "eval", "scenarios")  # top-level folders installed as basketgym.<layer>


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory) -> Path:
    """The package built as a wheel (as ``pip install .`` does) and unpacked into a folder of its own."""
    out = tmp_path_factory.mktemp("wheel")
    src = out / "src"  # a copy, so that the build's scratch folders never land in the working tree
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "basketgym", *LAYERS):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(
            ROOT / name,
            src / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}),
        )
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, src]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("basketgym-*.whl")
    target = out / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return target


def test_the_wheel_ships_every_package_under_one_import_root(wheel_dir):
    on_disk = {
        ".".join(("basketgym", *p.parent.relative_to(ROOT).parts)).replace("basketgym.basketgym", "basketgym")
        for p in ROOT.glob("*/**/__init__.py")
        if p.parts[len(ROOT.parts)] in {"basketgym", *LAYERS}
    }
    shipped = {".".join(p.parent.relative_to(wheel_dir).parts) for p in wheel_dir.glob("**/__init__.py")}
    assert on_disk == shipped, (sorted(on_disk - shipped), sorted(shipped - on_disk))
    assert {f"basketgym.{layer}" for layer in LAYERS} <= shipped and "basketgym.envs" in shipped
    assert sorted(p.name for p in (wheel_dir / "basketgym/scenarios").glob("*.toml")) == sorted(
        p.name for p in (ROOT / "scenarios").glob("*.toml")
    )
    assert not any((wheel_dir / name).exists() for name in (*LAYERS, "tests", "benchmarks"))  # no bare roots


def test_the_wheel_imports_and_runs_from_its_own_files(wheel_dir, tmp_path):
    code = (
        "import basketgym, basketgym.sim.world as w, basketgym.rankers.registry as r\n"
        "import basketgym.eval.orchestration.runner as e\n"
        "from basketgym import load_scenario, simulate\n"
        "import importlib.util as u\n"
        "assert all(u.find_spec(m) is None for m in ('sim', 'agents', 'rankers', 'eval', 'scenarios'))\n"
        "res = simulate(load_scenario('smoke').replace(days=2), 'random', seed=1)\n"
        "print(w.__file__, r.__file__, e.__file__, len(res.purchases['item_id']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(wheel_dir)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    files = out.stdout.split()[:3]
    assert all(f.startswith(str(wheel_dir)) for f in files), files


def test_the_editable_install_maps_the_layers_to_the_top_level_folders(tmp_path):
    code = "import basketgym.sim.world as w, basketgym.agents.state as a; print(w.__file__, a.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(ROOT / "sim/world.py"), str(ROOT / "agents/state.py")]


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
