"""One trained ranking model, whatever its kind: fit, calibrate, predict, explain, save and load.

Kinds: the networks of ``rankers.learned.mtl`` (``shared_bottom``, ``mmoe``, ``ple``), LightGBM
per-task models (``lgbm``) and LightGBM lambdarank (``lgbm_rank``, a ranking score only). Task
heads (``click``, ``purchase``, ``margin_given_purchase``, ``churn_30d``) are recalibrated per task
on the validation fold (temperature or isotonic) and served calibrated. ``value`` turns them into
the expected value of showing an item; ``explain`` gives per-prediction feature attributions
(integrated gradients for the networks, TreeSHAP for trees) and ``gate_weights`` the MMoE/PLE
gates per task.

A saved model is a directory: ``model.json`` (kind, feature names, calibration, training facts)
next to ``weights.pt`` (a torch ``state_dict``) or ``<task>.lgb`` (LightGBM text models), written
atomically: a failed save leaves an earlier model in place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rankers.learned.calibration import Isotonic, Temperature, calibrator_from_json
from rankers.learned.dataset import FEATURE_NAMES, holdout_visits
from sim.errors import RankerError

NETWORKS = ("shared_bottom", "mmoe", "ple")
KINDS = (*NETWORKS, "lgbm", "lgbm_rank")
CALIBRATED = ("click", "purchase", "churn_30d")  # probability heads recalibrated after training
MODEL_FILE = "model.json"


@dataclass
class FitConfig:
    """What to train and how (network settings go to ``rankers.learned.mtl.TrainConfig``)."""

    kind: str = "mmoe"
    seed: int = 0
    epochs: int = 20
    rounds: int = 300  # LightGBM boosting rounds
    calibration: str = "temperature"  # or "isotonic" or "none"
    val_share: float = 0.2
    progress: bool = False
    network: dict = field(default_factory=dict)  # extra TrainConfig fields (n_experts, expert_dim, ...)


class TaskModel:
    """A trained model of one ``kind`` with its calibration maps; see the module docstring."""

    def __init__(self, kind: str, predictor: object, calibrators: dict, facts: dict):
        self.kind, self.predictor, self.calibrators, self.facts = kind, predictor, calibrators, facts

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
            meta = {"kind": self.kind, "features": list(FEATURE_NAMES), "facts": self.facts,
                    "calibration": {t: c.to_json() for t, c in self.calibrators.items()}}  # fmt: skip
            if self.kind in NETWORKS:
                import torch

                m = self.predictor
                torch.save(m.net.state_dict(), tmp / "weights.pt")
                meta["network"] = {"mean": m.mean.tolist(), "std": m.std.tolist(), "config": m.config}
            elif self.kind == "lgbm":
                for task, booster in self.predictor.boosters.items():
                    booster.save_model(str(tmp / f"{task}.lgb"))
            else:
                self.predictor.save_model(str(tmp / "rank.lgb"))
            (tmp / MODEL_FILE).write_text(json.dumps(meta, indent=1))
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
        """A model saved by ``save``; a clear error if ``path`` is not one."""
        path = Path(path)
        try:
            meta = json.loads((path / MODEL_FILE).read_text())
        except (OSError, ValueError) as e:
            raise RankerError(f"'{path}' is not a trained model directory (no readable {MODEL_FILE}: {e})") from None
        if meta.get("features") != list(FEATURE_NAMES):
            raise RankerError(f"'{path}': trained on other features than this version's; retrain it")
        kind = meta["kind"]
        if kind in NETWORKS:
            import torch

            from rankers.learned.mtl import MultiTaskNet, TrainedMTL

            net_meta = meta["network"]
            c = net_meta["config"]
            net = MultiTaskNet(len(FEATURE_NAMES), kind, c["n_experts"], c["expert_dim"], c["tower_dim"])
            net.load_state_dict(torch.load(path / "weights.pt", weights_only=True))
            mean, std = np.asarray(net_meta["mean"]), np.asarray(net_meta["std"])
            predictor: object = TrainedMTL(net, mean, std, [], np.zeros(0, np.int64), c)
        else:
            import lightgbm as lgb

            if kind == "lgbm":
                from rankers.learned.gbdt import TaskModels

                boosters = {t.stem: lgb.Booster(model_file=str(t)) for t in sorted(path.glob("*.lgb"))}
                predictor = TaskModels(boosters)
            else:
                predictor = lgb.Booster(model_file=str(path / "rank.lgb"))
        cal = {t: calibrator_from_json(d) for t, d in meta.get("calibration", {}).items()}
        return cls(kind, predictor, cal, meta.get("facts", {}))


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
    """Train a model of ``cfg.kind`` on a training table and calibrate its heads on a validation fold."""
    cfg = cfg or FitConfig()
    if cfg.kind not in KINDS:
        raise RankerError(f"model = {cfg.kind!r}: must be one of {', '.join(KINDS)}")
    if cfg.calibration not in ("temperature", "isotonic", "none"):
        raise RankerError(f"calibration = {cfg.calibration!r}: must be 'temperature', 'isotonic' or 'none'")
    t0 = time.perf_counter()
    val = holdout_visits(df["session_id"].to_numpy(), cfg.val_share, cfg.seed)
    untrained = [t for t in ("churn_30d",) if df[t].notna().sum() == 0]  # e.g. a run shorter than 30 days
    if cfg.kind in NETWORKS:
        from rankers.learned.mtl import TrainConfig, train

        tc = TrainConfig(arch=cfg.kind, epochs=cfg.epochs, seed=cfg.seed, progress=cfg.progress, **cfg.network)
        predictor: object = train(df, tc, val=val)
    elif cfg.kind == "lgbm":
        from rankers.learned.gbdt import train_tasks

        predictor = train_tasks(df, np.flatnonzero(~val), cfg.seed, cfg.rounds)
    else:
        from rankers.learned.gbdt import train_lambdarank

        predictor = train_lambdarank(df, np.flatnonzero(~val), cfg.seed, cfg.rounds)
    model = TaskModel(cfg.kind, predictor, {}, {"untrained": untrained})
    if cfg.kind != "lgbm_rank" and cfg.calibration != "none" and val.any():
        vdf = df[val]
        raw = model.predict_raw(vdf[list(FEATURE_NAMES)].to_numpy(np.float32))
        label = {"click": vdf["click"].to_numpy(), "purchase": vdf["purchase"].to_numpy(),
                 "churn_30d": vdf["churn_30d"].to_numpy()}  # fmt: skip
        method = Temperature if cfg.calibration == "temperature" else Isotonic
        for task in CALIBRATED:
            known = ~np.isnan(label[task])
            if known.sum() >= 100 and 0 < label[task][known].mean() < 1:
                model.calibrators[task] = method.fit(raw[task][known], label[task][known])
    model.facts.update(rows=int(len(df)), train_rows=int((~val).sum()), seconds=time.perf_counter() - t0,
                       config=asdict(cfg))  # fmt: skip
    return model
