"""Every command fed corrupt inputs and unwritable outputs: one `basketgym: error:` line, a failing exit, no damage."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from basketgym.cli import main
from basketgym.eval.orchestration.runner import run_scenario
from basketgym.sim.config import load_scenario

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root writes into read-only directories unless told not to


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _fails_in_one_line(args: list[str], capsys, names: str | None = None) -> str:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    err = captured.err
    assert code != 0, (args, captured.out[-500:])
    assert len(err.splitlines()) == 1, err
    assert err.startswith("basketgym: error: ") and "Traceback" not in err + captured.out, err
    if names is not None:
        assert names in err, err
    return err


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    files = {
        "binary": (d / "binary.toml", PNG),
        "latin1": (d / "latin1.toml", b'# caf\xe9 au lait\nname = "x"\n'),
        "syntax": (d / "syntax.toml", b'name = "x"\ndays = = 3\n'),
        "unclosed": (d / "unclosed.toml", b'name = "x\n[population\n'),
    }
    for path, data in files.values():
        path.write_bytes(data)
    (d / "dir.toml").mkdir()
    return {**{k: p for k, (p, _) in files.items()}, "directory": d / "dir.toml", "missing": d / "missing.toml"}


# every command that reads a scenario, with the arguments it needs besides the scenario and --out
SCENARIO_COMMANDS = {
    "run": ["--days", "2", "--seeds", "1"],
    "logs": ["--logging", "popularity", "--days", "2"],
    "ope": ["--logging", "popularity", "--target", "buy_again", "--days", "2"],
    "train": ["--days", "2"],
    "uplift": ["--days", "2"],
    "validate": ["--days", "2"],
}
OUT = {"run": "out", "logs": "out.parquet", "train": "out", "uplift": "out"}  # what each writes, if anything


@pytest.mark.parametrize("command", sorted(SCENARIO_COMMANDS))
@pytest.mark.parametrize("kind", ["binary", "latin1", "syntax", "unclosed", "directory", "missing"])
def test_corrupt_scenario_files(command, kind, bad_files, tmp_path, capsys):
    path = bad_files[kind]
    args = [command, path, *SCENARIO_COMMANDS[command]]
    if command in OUT:
        args += ["--out", tmp_path / OUT[command]]
    _fails_in_one_line(args, capsys, names=str(path))
    assert not any(tmp_path.iterdir())  # nothing written


def _file(tmp_path: Path) -> Path:
    f = tmp_path / "a_file"
    f.write_text("mine\n")
    return f


@pytest.mark.parametrize(
    ("command", "out"),
    [
        ("run", lambda t: _file(t) / "run"),  # --out under a file
        ("run", lambda t: _file(t)),  # --out a file (exists: refused without --overwrite)
        ("logs", lambda t: t),  # a directory where the Parquet file goes
        ("logs", lambda t: _file(t) / "x.parquet"),
        ("train", lambda t: _file(t)),
        ("train", lambda t: _file(t) / "models"),
        ("uplift", lambda t: _file(t)),
        ("uplift", lambda t: _file(t) / "u"),
    ],
)
def test_unwritable_outputs_fail_before_any_work(command, out, tmp_path, capsys):
    target = out(tmp_path)
    before = _snapshot(tmp_path)
    _fails_in_one_line([command, "smoke", *SCENARIO_COMMANDS[command], "--out", target], capsys)
    assert _snapshot(tmp_path) == before


SETPRIV = shutil.which("setpriv")


def _fails_in_one_line_without_dac_override(args: list[str], names: str) -> None:
    """Root ignores directory permissions through CAP_DAC_OVERRIDE: run the command in a process without it."""
    cmd = [SETPRIV, "--bounding-set", "-dac_override", "--", sys.executable, "-m", "basketgym", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0, proc.stdout[-500:]
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("basketgym: error: ") and "Traceback" not in proc.stderr + proc.stdout
    assert names in proc.stderr, proc.stderr


@pytest.mark.skipif(AS_ROOT and SETPRIV is None, reason="as root, needs util-linux's setpriv to drop CAP_DAC_OVERRIDE")
@pytest.mark.parametrize("command", sorted(OUT))
def test_read_only_directory(command, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    args = [command, "smoke", *SCENARIO_COMMANDS[command], "--out", ro / OUT[command]]
    try:
        if AS_ROOT:
            _fails_in_one_line_without_dac_override(args, str(ro))
        else:
            _fails_in_one_line(args, capsys, str(ro))
        assert not any(ro.iterdir())
    finally:
        ro.chmod(0o755)


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    cfg = load_scenario("smoke").replace(days=2)
    run_scenario(cfg.replace(run=dataclasses.replace(cfg.run, event_log="none")), ["random"], seeds=1, out=out)
    return out


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


RUN_DAMAGE = {
    "manifest not JSON": ("manifest.json", lambda p: p.write_text('{"status": "complete", ')),
    "manifest binary": ("manifest.json", lambda p: p.write_bytes(PNG)),
    "manifest a list": ("manifest.json", lambda p: p.write_text("[1, 2]")),
    "manifest without tasks": (
        "manifest.json",
        lambda p: p.write_text(json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "tasks"})),
    ),
    "manifest with a bad task": (
        "manifest.json",
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "tasks": [{"label": 3}]})),
    ),
    "manifest a directory": ("manifest.json", lambda p: (p.unlink(), p.mkdir())),
    "summary truncated": ("summary.json", _truncate),
    "summary missing": ("summary.json", lambda p: p.unlink()),
    "scenario not TOML": ("scenario.toml", lambda p: p.write_bytes(b"name = [\n")),
    "outcomes truncated": ("results/random/seed=11/outcomes.parquet", _truncate),
    "latency truncated": ("results/popularity/seed=11/latency.parquet", _truncate),
    "cumulative empty": ("results/random/seed=11/cumulative.parquet", lambda p: p.write_bytes(b"")),
    "outcomes missing": ("results/random/seed=11/outcomes.parquet", lambda p: p.unlink()),
    "outcomes a directory": ("results/random/seed=11/outcomes.parquet", lambda p: (p.unlink(), p.mkdir())),
    "outcomes not Parquet": ("results/random/seed=11/outcomes.parquet", lambda p: p.write_bytes(PNG * 10)),
}


@pytest.mark.parametrize("damage", sorted(RUN_DAMAGE))
def test_report_on_a_damaged_run(damage, earlier_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(earlier_run, run)
    name, spoil = RUN_DAMAGE[damage]
    spoil(run / name)
    before = _snapshot(run)
    err = _fails_in_one_line(["report", run], capsys)
    assert str(run) in err
    assert _snapshot(run) == before  # analysis.json and plots not rewritten from a damaged run


@pytest.mark.parametrize("target", ["file", "missing", "empty dir"])
def test_report_on_what_is_not_a_run(target, tmp_path, capsys):
    path = {"file": _file(tmp_path), "missing": tmp_path / "nope", "empty dir": tmp_path}[target]
    _fails_in_one_line(["report", path], capsys, names=str(path))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "m"
    args = ["train", "smoke", "--model", "mmoe,lgbm_rank", "--days", "4", "--epochs", "1", "--rounds", "5",
            "--experts", "2", "--out", out]  # fmt: skip
    assert main([str(a) for a in args]) == 0
    return out


def _model_copy(trained: Path, kind: str, tmp_path: Path) -> Path:
    d = tmp_path / kind
    shutil.copytree(trained / kind, d)
    return d


MODEL_DAMAGE = {
    "model.json not JSON": lambda d: (d / "model.json").write_text('{"kind": '),
    "model.json binary": lambda d: (d / "model.json").write_bytes(PNG),
    "model.json of other features": lambda d: (d / "model.json").write_text(
        json.dumps({**json.loads((d / "model.json").read_text()), "features": ["x"]})
    ),
}


@pytest.mark.parametrize("kind", ["mmoe", "lgbm_rank"])
@pytest.mark.parametrize("damage", sorted(MODEL_DAMAGE))
@pytest.mark.parametrize("command", ["run", "ope"])
def test_bad_model_directories_as_rankers(command, damage, kind, trained, tmp_path, capsys):
    model = _model_copy(trained, kind, tmp_path)
    MODEL_DAMAGE[damage](model)
    args = {
        "run": ["run", "smoke", "--rankers", f"popularity,{model}", "--days", "2", "--seeds", "1", "--no-write"],
        "ope": ["ope", "smoke", "--logging", "popularity", "--target", model, "--days", "2"],
    }[command]
    _fails_in_one_line(args, capsys, names=str(model))


def _truncate_weights(d: Path) -> None:
    for weights in (p for p in d.iterdir() if p.name != "model.json"):
        _truncate(weights)


@pytest.mark.parametrize(
    ("damage", "kind"),
    [
        ("model.json a list", "mmoe"),
        ("model.json a list", "lgbm_rank"),
        ("weights truncated", "mmoe"),
        # LightGBM aborts the whole process on a truncated model file: the sha256 check must come first
        ("weights truncated", "lgbm_rank"),
    ],
)
def test_bad_model_directories(damage, kind, trained, tmp_path, capsys):
    model = _model_copy(trained, kind, tmp_path)
    {"model.json a list": lambda d: (d / "model.json").write_text("[]"), "weights truncated": _truncate_weights}[
        damage
    ](model)
    args = ["run", "smoke", "--rankers", f"popularity,{model}", "--days", "2", "--seeds", "1", "--no-write"]
    _fails_in_one_line(args, capsys, names=str(model))


@pytest.mark.parametrize(
    "args",
    [
        [],  # no command
        ["nope"],
        ["list", "extra"],
        ["run"],
        ["run", "smoke", "--seeds", "two"],
        ["report"],
        ["logs", "smoke"],  # --logging and --out are required
        ["ope", "smoke", "--logging", "popularity"],
        ["train", "smoke"],
        ["uplift", "smoke", "--share", "half"],
        ["validate"],
        ["train", "smoke", "--weighting", "equal", "--out", "x"],
    ],
)
def test_usage_errors_are_one_line_too(args, capsys):
    err = _fails_in_one_line(args, capsys)
    assert err.rstrip().endswith("--help')")


def test_help_still_exits_0(capsys):
    assert main(["run", "--help"]) == 0
    assert "--overwrite" in capsys.readouterr().out


def test_no_traceback_from_a_real_process(earlier_run, tmp_path):
    """The console entry point itself, on a results file cut in half: one line, exit 2."""
    run = tmp_path / "run"
    shutil.copytree(earlier_run, run)
    _truncate(run / "results/random/seed=11/outcomes.parquet")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    p = subprocess.run([sys.executable, "-m", "basketgym", "report", str(run)], capture_output=True, text=True,
                       env=env, timeout=120)  # fmt: skip
    assert p.returncode == 2 and "Traceback" not in p.stderr + p.stdout, p.stderr
    head = f"basketgym: error: {run}/results/random/seed=11/outcomes.parquet: not a readable Parquet file ("
    assert p.stderr.startswith(head) and p.stderr.count("\n") == 1, p.stderr  # pyarrow's reason varies by version
