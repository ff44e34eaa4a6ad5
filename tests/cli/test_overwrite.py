"""``--overwrite`` replaces only what basketgym wrote: a run (run), models (train); anything else is refused intact."""

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from basketgym.cli import main
from basketgym.contract.errors import OutputPathError
from basketgym.eval.orchestration.runner import run_scenario
from basketgym.eval.reporting.training import check_models_out
from basketgym.sim.config import load_scenario

RUN = ["run", "smoke", "--days", "2", "--seeds", "1", "--rankers", "random", "--no-event-log"]


def _snapshot(root: Path) -> dict[str, bytes | str | None]:
    def content(p: Path) -> bytes | str | None:
        if p.is_symlink():
            return "-> " + os.readlink(p)
        return p.read_bytes() if p.is_file() else None

    return {str(p.relative_to(root)): content(p) for p in sorted(root.rglob("*"))}


def _refused(args: list, capsys, *words: str) -> str:
    assert main([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("basketgym: error: "), err
    for w in words:
        assert w in err, err
    return err


@pytest.fixture(scope="module")
def tiny():
    return load_scenario("smoke").replace(days=2, run=dataclasses.replace(load_scenario("smoke").run, event_log="none"))


@pytest.fixture(scope="module")
def earlier_run(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    run_scenario(tiny, ["random"], seeds=1, out=out)
    return out


def _user_dir(tmp_path: Path) -> Path:
    d = tmp_path / "thesis"
    (d / "chapters").mkdir(parents=True)
    (d / "chapters/one.md").write_text("six months of work\n")
    (d / "data.bin").write_bytes(bytes(range(256)))
    return d


def _foreign_manifest(tmp_path: Path) -> Path:
    d = _user_dir(tmp_path)
    (d / "manifest.json").write_text('{"name": "my project"}')
    return d


def _binary_manifest(tmp_path: Path) -> Path:
    d = _user_dir(tmp_path)
    (d / "manifest.json").write_bytes(b"\x00\xff")
    return d


def _a_file(tmp_path: Path) -> Path:
    f = tmp_path / "notes.txt"
    f.write_text("mine\n")
    return f


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_user_dir, "no manifest.json"),
        (_foreign_manifest, "not a run manifest (basketgym_version = None"),
        (_binary_manifest, "is not UTF-8 text"),
        (_a_file, "a file, not a directory"),
    ],
    ids=["user directory", "foreign manifest", "binary manifest", "a file"],
)
def test_overwrite_refuses_what_is_not_a_run(make, why, tmp_path, capsys):
    target = make(tmp_path)
    before = _snapshot(tmp_path)
    _refused([*RUN, "--out", target, "--overwrite"], capsys, str(target), "not a basketgym run", why)
    assert _snapshot(tmp_path) == before  # byte for byte; no .partial either


def test_overwrite_refuses_a_run_holding_a_users_file(earlier_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(earlier_run, run)
    (run / "my_notes.md").write_text("keep me\n")
    before = _snapshot(tmp_path)
    _refused([*RUN, "--out", run, "--overwrite"], capsys, "my_notes.md, which no run writes")
    assert _snapshot(tmp_path) == before


def test_overwrite_refuses_a_symbolic_link(earlier_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(earlier_run, run)
    (tmp_path / "link").symlink_to(run)
    before = _snapshot(tmp_path)
    _refused([*RUN, "--out", tmp_path / "link", "--overwrite"], capsys, "a symbolic link")
    assert _snapshot(tmp_path) == before


def test_overwrite_replaces_an_earlier_run_and_touches_nothing_beside_it(tiny, earlier_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(earlier_run, run)
    old_manifest = json.loads((run / "manifest.json").read_text())
    (tmp_path / "run.old").mkdir()  # a user's directory named like the old trash name: must survive
    (tmp_path / "run.old/keep.txt").write_text("mine\n")
    run_scenario(tiny, ["popularity"], seeds=1, out=run, overwrite=True)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["rankers"] == ["popularity"] != old_manifest["rankers"]
    assert not (run / "results/random").exists()  # replaced, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.old"]
    assert (tmp_path / "run.old/keep.txt").read_text() == "mine\n"


def test_a_partial_that_is_not_a_runs_leftover_is_refused(tmp_path, capsys):
    d = _user_dir(tmp_path)
    d.rename(tmp_path / "run.partial")
    before = _snapshot(tmp_path)
    _refused([*RUN, "--out", tmp_path / "run"], capsys, "run.partial", "not a basketgym run's leftover")
    assert _snapshot(tmp_path) == before


def test_a_leftover_partial_of_an_interrupted_run_is_replaced(tiny, earlier_run, tmp_path):
    shutil.copytree(earlier_run, tmp_path / "run.partial")
    manifest = json.loads((tmp_path / "run.partial/manifest.json").read_text())
    (tmp_path / "run.partial/manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    (tmp_path / "run.partial/summary.json").unlink()
    run_scenario(tiny, ["random"], seeds=1, out=tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert json.loads((tmp_path / "run/manifest.json").read_text())["status"] == "complete"


def _model_dir(root: Path, kind: str = "mmoe") -> None:
    (root / kind).mkdir(parents=True)
    (root / kind / "model.json").write_text(json.dumps({"kind": kind, "features": []}))
    (root / kind / "weights.npz").write_bytes(b"\x00" * 16)


def test_train_overwrite_accepts_its_own_outputs(tmp_path):
    _model_dir(tmp_path)
    _model_dir(tmp_path, "lgbm_rank")
    for name in ("grades.csv", "training.json", "comparison.md", "reliability.png", ".grades.csv.x1y2.tmp"):
        (tmp_path / name).write_text("x")
    (tmp_path / ".mmoe.old").mkdir()  # an interrupted model save
    check_models_out(tmp_path, overwrite=True)
    with pytest.raises(OutputPathError, match="exists and is not empty"):
        check_models_out(tmp_path, overwrite=False)
    check_models_out(tmp_path / "new", overwrite=False)
    (tmp_path / "empty").mkdir()
    check_models_out(tmp_path / "empty", overwrite=False)


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (lambda d: (d / "notes.txt").write_text("mine"), "notes.txt is not basketgym's"),
        (lambda d: (d / "mmoe/model.json").write_text("{"), "mmoe is not basketgym's (its model.json is not readable"),
        (lambda d: (d / "mmoe/model.json").write_text('{"kind": "svm"}'), "not a model description"),
        (lambda d: (d / "photos").mkdir(), "photos is not basketgym's"),
        (lambda d: (d / ".git").mkdir(), ".git is not basketgym's"),
        (lambda d: (d / "grades.csv").mkdir(), "grades.csv is not basketgym's"),
    ],
)
def test_train_overwrite_refuses_what_train_did_not_write(spoil, why, tmp_path, capsys):
    out = tmp_path / "models"
    _model_dir(out)
    spoil(out)
    before = _snapshot(tmp_path)
    _refused(["train", "smoke", "--out", out, "--overwrite"], capsys, f"--overwrite {out}: refused", why)
    assert _snapshot(tmp_path) == before


def test_an_empty_partial_is_replaced(tiny, tmp_path):
    (tmp_path / "run.partial").mkdir()  # a run interrupted before it wrote its manifest
    run_scenario(tiny, ["random"], seeds=1, out=tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
