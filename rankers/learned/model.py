"""One trained ranking model, whatever its kind: fit, calibrate, predict, explain, save and load.

Kinds: the networks of ``rankers.learned.mtl`` (``shared_bottom``, ``mmoe``, ``ple``), LightGBM
per-task models (``lgbm``) and LightGBM lambdarank (``lgbm_rank``, a ranking score only). Task
heads (``click``, ``purchase``, ``margin_given_purchase``, ``churn_30d``) are recalibrated per task
(temperature or isotonic) on a calibration fold of shoppers that early stopping never saw
(``rankers.learned.dataset.shopper_folds``) and served calibrated. ``value`` turns them into
the expected value of showing an item; ``explain`` gives per-prediction feature attributions
(integrated gradients for the networks, TreeSHAP for trees) and ``gate_weights`` the MMoE/PLE
gates per task.

A saved model is a directory: ``model.json`` (format version, kind, feature names, calibration,
training facts, and the size and sha256 of every weights file) next to ``weights.npz`` (the
network's tensors as plain numpy arrays, no pickle) or ``<task>.lgb`` (LightGBM text models),
written atomically: a failed save leaves an earlier model in place. ``load`` verifies every file
against ``model.json``, rejects non-finite tensors and shapes that do not fit the architecture,
and answers a bad directory with one ``ModelError`` line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from basketgym.contract.errors import ModelError, RankerError
from basketgym.rankers.learned.calibration import Isotonic, Temperature, calibrator_from_json
from basketgym.rankers.learned.dataset import FEATURE_NAMES, Folds, shopper_folds

NETWORKS = ("shared_bottom", "mmoe", "ple")
KINDS = (*NETWORKS, "lgbm", "lgbm_rank")
CALIBRATED = ("click", "purchase", "churn_30d")  # probability heads recalibrated after training
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
FORMAT_VERSION = 2  # 1: torch pickles (weights.pt) and no checksums, refused; 2: npz and sha256 per file


@dataclass
class FitConfig:
    """What to train and how (network settings go to ``rankers.learned.mtl.TrainConfig``)."""

    kind: str = "mmoe"
    seed: int = 0
    epochs: int = 20
    rounds: int = 300  # LightGBM boosting rounds
    calibration: str = "temperature"  # or "isotonic" or "none"
    val_share: float = 0.2  # shoppers held out of training: early stopping and calibration
    calibration_share: float = 0.5  # of the held-out shoppers, those that calibrate (the others stop early)
    progress: bool = False
    network: dict = field(default_factory=dict)  # extra TrainConfig fields (n_experts, expert_dim, ...)


class TaskModel:
    """A trained model of one ``kind`` with its calibration maps; see the module docstring."""

    def __init__(self, kind: str, predictor: object, calibrators: dict, facts: dict):
        self.kind, self.predictor, self.calibrators, self.facts = kind, predictor, calibrators, facts
        self.folds: Folds | None = None  # of the table ``fit`` trained on (not saved)

    # ---- predictions ------------------------------------------------------------------------

    def predict_raw(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Uncalibrated task heads (``score`` only for ``lgbm_rank``); heads trained on no rows predict 0."""
        x = np.asarray(features, np.float32)
        if self.kind == "lgbm_rank":
            return {"score": self.predictor.predict(x, num_threads=1)}
        out = self.predictor.predict(x)
        for task in self.facts.get("untrained", ()):
            out[task] = np.zeros(len(x))
        return out

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Task heads as served: probabilities recalibrated (``click``, ``purchase``, ``churn_30d``)."""
        out = self.predict_raw(features)
        for task, cal in self.calibrators.items():
            out[task] = cal(out[task])
        return out

    def value(self, features: np.ndarray, churn_weight: float = 0.0) -> np.ndarray:
        """Expected value of showing each row: P(purchase) x margin given purchase - churn_weight x P(churn).

        ``lgbm_rank`` has no heads: its ranking score.
        """
        p = self.predict(features)
        if self.kind == "lgbm_rank":
            return p["score"]
        v = p["purchase"] * np.maximum(p["margin_given_purchase"], 0.0)
        return v - churn_weight * p["churn_30d"] if churn_weight else v

    # ---- explanations -----------------------------------------------------------------------

    def explain(self, features: np.ndarray, task: str = "click", steps: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Per-prediction attributions (n, F) of ``task``'s raw output and the baseline output (n,).

        Rows add up (to integration error for the networks) to raw output minus baseline: logit
        for binary tasks, value for margin, the score for ``lgbm_rank``. Networks: integrated
        gradients from the training mean (Sundararajan et al. 2017, ``steps`` trapezoid steps);
        trees: TreeSHAP (``pred_contrib``).
        """
        x = np.asarray(features, np.float64)
        if self.kind in NETWORKS:
            return _integrated_gradients(self.predictor, x, _head(task), steps)
        booster = self.predictor if self.kind == "lgbm_rank" else self.predictor.boosters[_head(task)]
        contrib = booster.predict(x, pred_contrib=True, num_threads=1)
        return contrib[:, :-1], contrib[:, -1]

    def gate_weights(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """MMoE/PLE: per task, (n, experts) softmax gate weights (PLE: the task's own experts, then shared)."""
        if self.kind not in ("mmoe", "ple"):
            return {}
        import torch

        net = self.predictor.net
        net.eval()
        with torch.inference_mode():
            net(torch.as_tensor(self.predictor.scale(features), dtype=torch.float32))
        return {t: g.numpy().copy() for t, g in net.gates.items()}

    # ---- persistence ------------------------------------------------------------------------

    def save(self, out: str | Path) -> Path:
        """Write the model directory ``out`` atomically (replacing an earlier model there)."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            meta = {"format": FORMAT_VERSION, "kind": self.kind, "features": list(FEATURE_NAMES), "facts": self.facts,
                    "calibration": {t: c.to_json() for t, c in self.calibrators.items()}}  # fmt: skip
            if self.kind in NETWORKS:
                m = self.predictor
                arrays = {k: v.detach().cpu().numpy() for k, v in m.net.state_dict().items()}
                with open(tmp / WEIGHTS_FILE, "wb") as f:
                    np.savez(f, allow_pickle=False, **arrays)
                meta["network"] = {"mean": m.mean.tolist(), "std": m.std.tolist(), "config": m.config}
            elif self.kind == "lgbm":
                for task, booster in self.predictor.boosters.items():
                    booster.save_model(str(tmp / f"{task}.lgb"))
            else:
                self.predictor.save_model(str(tmp / "rank.lgb"))
            meta["files"] = {p.name: _file_facts(p) for p in sorted(tmp.iterdir())}
            (tmp / MODEL_FILE).write_text(json.dumps(meta, indent=1))
            for p in tmp.iterdir():
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
            old = out.with_name(f".{out.name}.old")
            if out.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

    @classmethod
    def load(cls, path: str | Path) -> TaskModel:
        """A model saved by ``save``, verified file by file; ``ModelError`` (one line) if ``path`` is not one."""
        path = Path(path)
        meta = _read_meta(path)
        kind = meta["kind"]
        if kind in NETWORKS:
            predictor: object = _load_network(path, kind, meta)
        else:
            import lightgbm as lgb

            names = sorted(n for n in meta["files"] if n.endswith(".lgb"))
            if kind == "lgbm_rank" and names != ["rank.lgb"]:
                raise ModelError(f"{path / MODEL_FILE}: a lambdarank model lists {names}, not ['rank.lgb']")
            boosters = {}
            for name in names:
                text = (path / name).read_text(encoding="utf-8", errors="replace")
                if _NON_FINITE_LEAF.search(text):
                    raise ModelError(f"{path / name}: a tree has non-finite leaf values")
                try:
                    boosters[name[: -len(".lgb")]] = lgb.Booster(model_str=text)
                except lgb.basic.LightGBMError as e:
                    raise ModelError(f"{path / name}: not a LightGBM text model ({_one_line(e)})") from None
            if kind == "lgbm":
                from basketgym.rankers.learned.gbdt import TaskModels

                predictor = TaskModels(boosters)
            else:
                predictor = boosters["rank"]
        try:
            cal = {t: calibrator_from_json(d) for t, d in meta.get("calibration", {}).items()}
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{path / MODEL_FILE}: unreadable calibration map ({_one_line(e)})") from None
        for task, c in cal.items():
            if isinstance(c, Temperature):
                params, shaped = np.atleast_1d(c.t), c.t > 0
            else:
                params, shaped = np.r_[c.x, c.y], c.x.shape == c.y.shape and c.x.ndim == 1
            if not params.size or not np.isfinite(params).all() or not shaped:
                raise ModelError(f"{path / MODEL_FILE}: calibration of {task!r}: non-finite, empty or misshapen map")
        return cls(kind, predictor, cal, meta.get("facts", {}))


_NON_FINITE_LEAF = re.compile(r"^leaf_value=.*\b(nan|inf)", re.M | re.I)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_facts(path: Path) -> dict:
    """What ``model.json`` records of a weights file: its size and sha256."""
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _read_meta(path: Path) -> dict:
    """``model.json`` of ``path``, checked: format version, kind, features, and every listed file's size and sha256."""
    file = path / MODEL_FILE
    if not path.is_dir() or not file.is_file():
        raise ModelError(f"'{path}' is not a trained model directory (no {MODEL_FILE})")
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ModelError(f"{file}: not a readable JSON model description ({_one_line(e)})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{file}: not a model description (a JSON {type(meta).__name__}, not an object)")
    version = meta.get("format", 1)
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version < FORMAT_VERSION:
            why = "an older basketgym (torch pickle weights, no checksums): retrain it"
        else:
            why = "a newer basketgym or not basketgym: upgrade basketgym or retrain it"
        raise ModelError(f"{file}: format = {version!r}: this version reads format {FORMAT_VERSION}; {why}")
    if meta.get("kind") not in KINDS:
        raise ModelError(f"{file}: kind = {meta.get('kind')!r}: must be one of {', '.join(KINDS)}")
    if meta.get("features") != list(FEATURE_NAMES):
        raise ModelError(f"{file}: trained on other features than this version's; retrain it")
    files = meta.get("files")
    if not isinstance(files, dict) or not files:
        raise ModelError(f"{file}: files = {files!r}: must list every weights file with its bytes and sha256")
    for name, want in files.items():
        weights = path / name
        if Path(name).name != name or name == MODEL_FILE or not isinstance(want, dict):
            raise ModelError(f"{file}: files entry {name!r}: must be a file name in the model directory")
        if not weights.is_file():
            raise ModelError(f"{weights}: missing (listed in {MODEL_FILE})")
        size = weights.stat().st_size
        if size != want.get("bytes"):
            raise ModelError(f"{weights}: {size} bytes, {MODEL_FILE} says {want.get('bytes')}: truncated or replaced")
        if _sha256(weights) != want.get("sha256"):
            raise ModelError(f"{weights}: sha256 differs from {MODEL_FILE}'s: the file was changed after saving")
    return meta


def _load_network(path: Path, kind: str, meta: dict) -> object:
    """The network of a verified model directory: every tensor present, finite and of the architecture's shape."""
    import torch

    from basketgym.rankers.learned.mtl import MultiTaskNet, TrainedMTL

    file, weights = path / MODEL_FILE, path / WEIGHTS_FILE
    if WEIGHTS_FILE not in meta["files"]:
        raise ModelError(f"{file}: a {kind} network must list {WEIGHTS_FILE} in files")
    try:
        net_meta = meta["network"]
        c = net_meta["config"]
        net = MultiTaskNet(len(FEATURE_NAMES), kind, int(c["n_experts"]), int(c["expert_dim"]), int(c["tower_dim"]))
        mean, std = np.asarray(net_meta["mean"], np.float64), np.asarray(net_meta["std"], np.float64)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise ModelError(f"{file}: network = unreadable architecture ({_one_line(e)})") from None
    n = len(FEATURE_NAMES)
    finite = np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()
    if mean.shape != (n,) or std.shape != (n,) or not finite:
        raise ModelError(f"{file}: network mean and std: must be {n} finite values each (std > 0)")
    try:
        with np.load(weights, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ModelError(f"{weights}: not a readable numpy .npz of tensors ({_one_line(e)})") from None
    expected = net.state_dict()
    if set(arrays) != set(expected):
        extra, missing = sorted(set(arrays) - set(expected)), sorted(set(expected) - set(arrays))
        raise ModelError(f"{weights}: tensors do not fit the {kind} architecture of {MODEL_FILE} "
                         f"(missing {missing[:3]}, unexpected {extra[:3]})")  # fmt: skip
    for k, t in expected.items():
        a = arrays[k]
        if a.shape != tuple(t.shape):
            raise ModelError(f"{weights}: tensor {k!r} has shape {a.shape}; the architecture in {MODEL_FILE} "
                             f"needs {tuple(t.shape)}")  # fmt: skip
        if a.dtype.kind != "f" or not np.isfinite(a).all():
            raise ModelError(f"{weights}: tensor {k!r} holds non-finite or non-float values ({a.dtype})")
    net.load_state_dict({k: torch.from_numpy(np.array(a, np.float32)) for k, a in arrays.items()})
    return TrainedMTL(net, mean, std, [], np.zeros(0, np.int64), c)


def _head(task: str) -> str:
    """The network/booster output behind a served task name."""
    return {"margin_given_purchase": "margin", "purchase_given_click": "purchase"}.get(task, task)


def _integrated_gradients(model: object, x: np.ndarray, task: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    net = model.net
    net.eval()
    z = torch.as_tensor(model.scale(x), dtype=torch.float32)
    base = torch.zeros_like(z)  # the training mean, standardised
    alphas = (torch.arange(steps + 1, dtype=torch.float32) / steps).view(-1, 1, 1)
    path = (base + alphas * (z - base)).reshape(-1, z.shape[1]).requires_grad_(True)
    out = net(path)[task].sum()
    (grad,) = torch.autograd.grad(out, path)
    g = grad.reshape(steps + 1, *z.shape)
    avg = (g[:-1] + g[1:]).mean(dim=0) / 2.0  # trapezoid rule
    with torch.no_grad():
        baseline = net(base)[task].numpy().astype(np.float64)
    return ((z - base) * avg).numpy().astype(np.float64), baseline


def fit(df: pd.DataFrame, cfg: FitConfig | None = None) -> TaskModel:
    """Train a model of ``cfg.kind`` on a training table; calibrate its heads on a fold early stopping never saw.

    Folds by shopper (``shopper_folds``): networks train on the training fold and stop early on
    the early-stopping fold; LightGBM (a fixed number of rounds, no early stopping) trains on
    both; the calibration maps are fitted on the calibration fold only. ``model.folds`` keeps
    the row masks.
    """
    cfg = cfg or FitConfig()
    if cfg.kind not in KINDS:
        raise RankerError(f"model = {cfg.kind!r}: must be one of {', '.join(KINDS)}")
    if cfg.calibration not in ("temperature", "isotonic", "none"):
        raise RankerError(f"calibration = {cfg.calibration!r}: must be 'temperature', 'isotonic' or 'none'")
    if not 0.0 < cfg.val_share < 1.0 or not 0.0 < cfg.calibration_share < 1.0:
        raise RankerError(f"val_share = {cfg.val_share}, calibration_share = {cfg.calibration_share}: "
                          "both must be in (0, 1)")  # fmt: skip
    t0 = time.perf_counter()
    folds = shopper_folds(df["session_id"].to_numpy(), cfg.val_share, cfg.calibration_share, cfg.seed)
    fitted = ~folds.calibration  # the rows any training step may read
    untrained = [t for t in ("churn_30d",) if df[t].notna().sum() == 0]  # e.g. a run shorter than 30 days
    if cfg.kind in NETWORKS:
        from basketgym.rankers.learned.mtl import TrainConfig, train

        tc = TrainConfig(arch=cfg.kind, epochs=cfg.epochs, seed=cfg.seed, progress=cfg.progress, **cfg.network)
        sub = df[fitted].reset_index(drop=True)
        predictor: object = train(sub, tc, val=folds.early_stopping[fitted])
        predictor.val_rows = np.flatnonzero(fitted)[predictor.val_rows]  # rows of ``df``, not of ``sub``
    elif cfg.kind == "lgbm":
        from basketgym.rankers.learned.gbdt import train_tasks

        predictor = train_tasks(df, np.flatnonzero(fitted), cfg.seed, cfg.rounds)
    else:
        from basketgym.rankers.learned.gbdt import train_lambdarank

        predictor = train_lambdarank(df, np.flatnonzero(fitted), cfg.seed, cfg.rounds)
    model = TaskModel(cfg.kind, predictor, {}, {"untrained": untrained})
    model.folds = folds
    if cfg.kind != "lgbm_rank" and cfg.calibration != "none" and folds.calibration.any():
        cdf = df[folds.calibration]
        raw = model.predict_raw(cdf[list(FEATURE_NAMES)].to_numpy(np.float32))
        label = {"click": cdf["click"].to_numpy(), "purchase": cdf["purchase"].to_numpy(),
                 "churn_30d": cdf["churn_30d"].to_numpy()}  # fmt: skip
        method = Temperature if cfg.calibration == "temperature" else Isotonic
        for task in CALIBRATED:
            known = ~np.isnan(label[task])
            if known.sum() >= 100 and 0 < label[task][known].mean() < 1:
                model.calibrators[task] = method.fit(raw[task][known], label[task][known])
    model.facts.update(rows=int(len(df)), train_rows=int(folds.train.sum()),
                       early_stopping_rows=int(folds.early_stopping.sum()),
                       calibration_rows=int(folds.calibration.sum()), seconds=time.perf_counter() - t0,
                       config=asdict(cfg))  # fmt: skip
    return model
