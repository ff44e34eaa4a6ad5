"""Trained models of every kind: calibration on its own fold, explanations that add up, gates, verified save/load."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from basketgym.cli import main
from basketgym.contract.errors import ModelError
from basketgym.eval.stats import reliability
from basketgym.rankers.learned.calibration import Temperature
from basketgym.rankers.learned.dataset import FEATURE_NAMES
from basketgym.rankers.learned.model import FitConfig, TaskModel, _sha256, fit


@pytest.fixture(scope="module")
def models(logged):
    small = {"n_experts": 2, "expert_dim": 16, "tower_dim": 8}  # PLE: only its gates are tested
    return {
        kind: fit(logged, FitConfig(kind=kind, seed=2, epochs=12, rounds=60, network=small if kind == "ple" else {}))
        for kind in ("mmoe", "ple", "lgbm", "lgbm_rank")
    }


@pytest.fixture(scope="module")
def x(logged):
    return logged[list(FEATURE_NAMES)].to_numpy(np.float32)


@pytest.mark.parametrize("kind", ["mmoe", "lgbm"])
def test_calibrated_heads_match_the_true_probabilities(models, logged, x, kind):
    """ECE against the simulator's true P(click) and P(purchase) on all rows stays below 0.015 after calibration.

    Measured: MMoE 0.004 (click) and 0.004 (purchase), LightGBM 0.009 and 0.006; an under-trained
    network (6 epochs, 2 small experts) sits at 0.019 before calibration.
    """
    p = models[kind].predict(x)
    assert reliability.ece(p["click"], logged["true_click"].to_numpy()) < 0.015
    assert reliability.ece(p["purchase"], logged["true_purchase"].to_numpy()) < 0.015
    assert set(models[kind].calibrators) == {"click", "purchase", "churn_30d"}


def test_integrated_gradients_add_up_to_the_logit_change(models, x):
    """Completeness: attributions sum to output minus baseline output (up to the 64-step integration error)."""
    m = models["mmoe"]
    attr, base = m.explain(x[:200], "click", steps=64)
    raw = m.predict_raw(x[:200])["click"]
    logit = np.log(raw) - np.log1p(-raw)
    assert attr.shape == (200, len(FEATURE_NAMES))
    assert np.abs(attr.sum(axis=1) + base - logit).max() < 0.02
    assert np.abs(attr).sum() > 0


@pytest.mark.parametrize("kind", ["lgbm", "lgbm_rank"])
def test_tree_shap_adds_up_to_the_raw_score(models, x, kind):
    m = models[kind]
    attr, base = m.explain(x[:100], "click")
    booster = m.predictor if kind == "lgbm_rank" else m.predictor.boosters["click"]
    assert np.allclose(attr.sum(axis=1) + base, booster.predict(x[:100], raw_score=True), atol=1e-6)


def test_gate_weights_are_distributions_per_task(models, x):
    mmoe, ple = models["mmoe"].gate_weights(x[:50]), models["ple"].gate_weights(x[:50])
    assert set(mmoe) == {"click", "purchase", "margin", "churn_30d"}
    assert mmoe["click"].shape == (50, 4) and ple["click"].shape == (50, 4)  # PLE: own + shared experts
    for g in (*mmoe.values(), *ple.values()):
        assert np.allclose(g.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(mmoe["click"], mmoe["churn_30d"])  # tasks mix the experts differently
    assert models["lgbm"].gate_weights(x[:5]) == {}


@pytest.mark.parametrize("kind", ["mmoe", "lgbm", "lgbm_rank"])
def test_a_saved_model_predicts_the_same_after_loading(models, x, kind, tmp_path):
    m = models[kind]
    m.save(tmp_path / kind)
    again = TaskModel.load(tmp_path / kind)
    assert again.kind == kind
    assert np.allclose(again.value(x[:500], 0.5), m.value(x[:500], 0.5), rtol=1e-6, atol=1e-7)


def test_saving_over_a_model_replaces_it_and_a_bad_directory_is_a_clear_error(models, tmp_path):
    models["lgbm_rank"].save(tmp_path / "m")
    models["mmoe"].save(tmp_path / "m")
    assert TaskModel.load(tmp_path / "m").kind == "mmoe"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary leftovers
    with pytest.raises(ModelError, match="not a trained model directory"):
        TaskModel.load(tmp_path / "missing")


# ---- calibration on a fold of its own ------------------------------------------------------


def test_calibration_never_sees_an_early_stopping_row(models, logged):
    """Three folds of whole shoppers; the network stopped on exactly its fold, the map was fitted on exactly its own."""
    m = models["mmoe"]
    folds = m.folds
    shopper = logged["session_id"].to_numpy() & 0xFFFFFFFF
    es, cal, train = (np.flatnonzero(f) for f in (folds.early_stopping, folds.calibration, folds.train))
    assert np.array_equal(np.sort(m.predictor.val_rows), es)  # the rows the training loop stopped on
    assert not set(es) & set(cal) and len(es) + len(cal) + len(train) == len(logged)
    assert not set(shopper[es]) & set(shopper[cal]) and not set(shopper[cal]) & set(shopper[train])
    assert not set(shopper[es]) & set(shopper[train])
    # a fifth of the shoppers held out, half of them to calibrate: ~35 of ~350 each (binomial sd 5.6: +-3 sd)
    assert 18 < len(set(shopper[cal])) < 52 and 18 < len(set(shopper[es])) < 52

    def temperature_on(rows: np.ndarray) -> Temperature:  # features taken as ``fit`` takes them (same memory order)
        part = logged.iloc[rows]
        return Temperature.fit(m.predict_raw(part[list(FEATURE_NAMES)].to_numpy(np.float32))["click"], part["click"])

    assert m.calibrators["click"] == temperature_on(cal)  # bit for bit: fitted on exactly those rows
    assert m.calibrators["click"] != temperature_on(es)  # and the test tells the folds apart
    assert m.facts["calibration_rows"] == len(cal) and m.facts["early_stopping_rows"] == len(es)


def test_calibration_improves_held_out_ece_against_the_truth(logged):
    """An under-trained MMoE (one epoch) recalibrated (isotonic) on its own fold, graded on other shoppers.

    Measured ECE vs the true probabilities, raw -> calibrated, seeds 0/1/2: click 0.064 -> 0.013,
    0.062 -> 0.017, 0.049 -> 0.025; purchase 0.026 -> 0.011, 0.029 -> 0.009, 0.023 -> 0.011. Each
    seed must improve, and the mean by at least 40% (measured: 68% click, 59% purchase).
    """
    shopper = logged["session_id"].to_numpy() & 0xFFFFFFFF
    test = shopper % 5 == 0
    train, held = logged[~test].reset_index(drop=True), logged[test]
    x = held[list(FEATURE_NAMES)].to_numpy(np.float32)
    ratios = {"click": [], "purchase": []}
    for seed in (0, 1, 2):
        m = fit(train, FitConfig(kind="mmoe", seed=seed, epochs=1, calibration="isotonic"))
        raw, cal = m.predict_raw(x), m.predict(x)
        for task, r in ratios.items():
            truth = held[f"true_{task}"].to_numpy()
            before, after = reliability.ece(raw[task], truth), reliability.ece(cal[task], truth)
            assert after < before, (seed, task, before, after)
            r.append(after / before)
    assert np.mean(ratios["click"]) < 0.6 and np.mean(ratios["purchase"]) < 0.6


# ---- verified loading ------------------------------------------------------------------------


def _rewrite_meta(model: Path, change) -> None:  # noqa: ANN001 - a function editing the JSON dict
    meta = json.loads((model / "model.json").read_text())
    change(meta)
    (model / "model.json").write_text(json.dumps(meta))


def _flip_a_byte(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0x01
    file.write_bytes(bytes(data))


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[:-100])


def _nan_tensor(model: Path) -> None:
    """A NaN in a tensor, with model.json's checksum updated: consistent, but not a usable network."""
    weights = model / "weights.npz"
    with np.load(weights, allow_pickle=False) as z:
        arrays = {k: z[k].copy() for k in z.files}
    arrays["towers.click.2.bias"][0] = np.nan
    with open(weights, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)
    _reseal(weights)


def _reseal(file: Path) -> None:
    """Record a changed weights file's size and sha256 in model.json: a consistent directory with bad content."""
    _rewrite_meta(file.parent, lambda m: m["files"].update({file.name: {"bytes": file.stat().st_size,
                                                                         "sha256": _sha256(file)}}))  # fmt: skip


def _wider_experts(model: Path) -> None:
    _rewrite_meta(model, lambda m: m["network"]["config"].update(expert_dim=64))


CORRUPTIONS = {
    "a flipped byte": (lambda d: _flip_a_byte(d / "weights.npz"), "weights.npz", "sha256 differs"),
    "a truncated file": (lambda d: _truncate(d / "weights.npz"), "weights.npz", "truncated or replaced"),
    "a NaN tensor": (_nan_tensor, "weights.npz", "tensor 'towers.click.2.bias' holds non-finite"),
    "a shape mismatch": (_wider_experts, "weights.npz",  # an expert's hidden layer is 2 x expert_dim wide
                         r"tensor .experts.0.0.weight. has shape \(64, 25\); the architecture in model.json "
                         r"needs \(128, 25\)"),
    "a missing file": (lambda d: (d / "weights.npz").unlink(), "weights.npz", "missing"),
    "model.json not JSON": (lambda d: (d / "model.json").write_bytes(b"\x80{kind"), "model.json",
                            "not a readable JSON"),
    "a NaN temperature": (lambda d: _rewrite_meta(d, lambda m: m["calibration"]["click"].update(t=float("nan"))),
                          "model.json", "calibration of 'click': non-finite"),
    "an old format (torch pickles)": (lambda d: _rewrite_meta(d, lambda m: m.pop("format")), "model.json",
                                      "format = 1: this version reads format 2; an older basketgym .*: retrain it"),
    "a future format": (lambda d: _rewrite_meta(d, lambda m: m.update(format=99)), "model.json",
                        "format = 99: this version reads format 2; a newer basketgym"),
}  # fmt: skip


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_model_directory_is_one_line_naming_the_file_and_the_problem(models, tmp_path, corruption):
    change, file, problem = CORRUPTIONS[corruption]
    d = models["mmoe"].save(tmp_path / "m")
    TaskModel.load(d)  # intact, it loads
    change(d)
    with pytest.raises(ModelError) as e:
        TaskModel.load(d)
    message = str(e.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(str(d / file)) and re.search(problem, message), message


def test_a_tampered_lightgbm_model_is_refused(models, tmp_path):
    d = models["lgbm"].save(tmp_path / "g")
    assert set(json.loads((d / "model.json").read_text())["files"]) == {f"{t}.lgb" for t in
                                                                        models["lgbm"].predictor.boosters}  # fmt: skip
    text = (d / "click.lgb").read_text()
    (d / "click.lgb").write_text(text.replace("num_leaves", "num_leafs", 1))
    with pytest.raises(ModelError, match=r"click\.lgb: \d+ bytes, model.json says \d+|click\.lgb: sha256 differs"):
        TaskModel.load(d)


def test_a_lightgbm_model_with_a_nan_leaf_is_refused_even_when_its_checksum_fits(models, tmp_path):
    d = models["lgbm"].save(tmp_path / "g")
    lines = (d / "purchase.lgb").read_text().splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith("leaf_value="))
    lines[i] = "leaf_value=nan" + lines[i][lines[i].index(" ") :]
    (d / "purchase.lgb").write_text("".join(lines))
    _reseal(d / "purchase.lgb")
    with pytest.raises(ModelError, match=r"purchase\.lgb: a tree has non-finite leaf values$"):
        TaskModel.load(d)


def test_saved_networks_are_plain_arrays_without_pickle(models, tmp_path):
    d = models["mmoe"].save(tmp_path / "m")
    assert sorted(p.name for p in d.iterdir()) == ["model.json", "weights.npz"]
    with np.load(d / "weights.npz", allow_pickle=False) as z:  # an object array would raise here
        assert set(z.files) == set(models["mmoe"].predictor.net.state_dict())
        assert all(z[k].dtype == np.float32 for k in z.files)


def test_no_pickle_in_the_package_sources():
    """Nothing basketgym ships loads or writes pickles (torch.save/load pickle; npz is read with allow_pickle=False)."""
    root = Path(__file__).resolve().parents[2]
    banned = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|dill|cloudpickle|joblib)\b|torch\.(load|save)\(|"
                        r"allow_pickle\s*=\s*True|pd\.read_pickle|\.to_pickle\(", re.M)  # fmt: skip
    packages = ("agents", "basketgym", "eval", "rankers", "sim", "scenarios", "benchmarks")
    files = [p for pkg in packages for p in (root / pkg).rglob("*.py")]
    assert len(files) > 50
    hits = [str(p.relative_to(root)) for p in files if banned.search(p.read_text(encoding="utf-8"))]
    assert hits == []


def test_run_with_a_bad_model_directory_prints_one_line_and_exits_2(models, tmp_path, capsys):
    d = models["mmoe"].save(tmp_path / "m")
    _flip_a_byte(d / "weights.npz")
    code = main(["run", "smoke", "--rankers", str(d), "--days", "2", "--seeds", "1", "--no-write"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"basketgym: error: {d / 'weights.npz'}: sha256 differs from model.json's: the file was changed "
                   "after saving"]  # fmt: skip


def test_value_is_expected_margin_minus_the_churn_term(models, x):
    m = models["mmoe"]
    p = m.predict(x[:100])
    expected = p["purchase"] * np.maximum(p["margin_given_purchase"], 0) - 2.0 * p["churn_30d"]
    assert np.allclose(m.value(x[:100], 2.0), expected)
