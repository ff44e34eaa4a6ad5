"""Multi-task ranking networks in torch: shared-bottom, MMoE and PLE, with masked task losses.

Tasks (``rankers.learned.dataset.LABELS``): ``click`` (all shown items), ``purchase`` given a
click (only clicked rows carry its loss; P(purchase) = P(click) x P(purchase | click)),
``margin`` given a purchase (regression on bought rows) and ``churn_30d`` (rows whose 30-day
window fits in the run). Losses are weighted by fixed weights or learned uncertainty (Kendall,
Gal & Cipolla 2018). Training is deterministic for a seed (one thread, deterministic kernels),
stops early on a validation fold, and runs on the CPU by default.

Serving does not depend on how many rows are asked at once (so a world's ``chunk_size`` cannot
change a ranking). A float32 forward pass does: measured with torch's CPU kernels (MKL, AVX-512),
a row's outputs differ at ~1e-8 with the number of rows (1-3 rows take another GEMM path) and,
inside a block of a fixed shape, with the row's position in it (the narrow gate and tower layers,
position mod 8), so fixed-shape blocks alone are not enough. ``predict`` therefore runs a float64
copy of the network, in blocks padded to a multiple of 8 rows, and rounds the outputs (logits and
values) to float32: the float64 kernels disagree only at ~1e-16, which rounding to float32 (a
relative step of 6e-8) erases unless a value lies within that ~1e-16 of a float32 rounding
boundary (odds ~1e-9 per value). Bit identity over row counts and positions is tested
(``tests/rankers/test_mtl_serving.py``), and a world's logs over chunk sizes (``tests/sim/test_world.py``).
Cost, measured against the float32 pass on one core: MMoE 1.4x at 500 rows (3.1 vs 2.3 us/row)
and 2.5x at 20,000 rows (3.4 vs 1.4 us/row); PLE 1.6x and 2.7x. The block size does not change
it (512 to 8,192 rows within noise). ``benchmarks/bench_learned.py`` has the serving figures.
Training does not depend on chunking either: ``dataset.label_shown`` puts rows in the slate log's
canonical order, not the order the requests were made in.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from basketgym.rankers.learned.dataset import FEATURE_NAMES, holdout_visits

TASKS = ("click", "purchase", "margin", "churn_30d")
BINARY = {"click": True, "purchase": True, "margin": False, "churn_30d": True}
ARCHITECTURES = ("shared_bottom", "mmoe", "ple")
PREDICT_BLOCK = 8192  # rows per forward pass at serving time
ROW_QUANTUM = 8  # serving blocks are padded to a multiple of this many rows (never the 1-3 row kernels)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread: the same bits on every machine, and fast for networks this small."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def squash(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|): counts, spend and day gaps grow with time; squashed, a network extrapolates gently."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.log1p(np.abs(x))


def _mlp(n_in: int, n_out: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out), nn.ReLU())


class MultiTaskNet(nn.Module):
    """One logit (binary tasks) or value (margin) per task from shared and task-specific experts.

    ``shared_bottom``: one bottom network feeding every tower. ``mmoe``: ``n_experts`` shared
    experts mixed per task by a softmax gate (Ma et al. 2018). ``ple``: one level of
    customised gate control (Tang et al. 2020): each task has ``n_experts`` experts of its own plus
    ``n_experts`` shared ones, mixed by its gate. ``gates`` holds the last batch's gate weights.
    """

    def __init__(self, n_features: int, arch: str = "mmoe", n_experts: int = 4, expert_dim: int = 32,
                 tower_dim: int = 16, tasks: tuple[str, ...] = TASKS):  # fmt: skip
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch = {arch!r}: must be one of {', '.join(map(repr, ARCHITECTURES))}")
        self.arch, self.tasks, self.n_experts = arch, tasks, n_experts
        if arch == "shared_bottom":
            self.bottom = _mlp(n_features, expert_dim, expert_dim * 2)
        elif arch == "mmoe":
            self.experts = nn.ModuleList(_mlp(n_features, expert_dim, expert_dim * 2) for _ in range(n_experts))
            self.gate = nn.ModuleDict({t: nn.Linear(n_features, n_experts) for t in tasks})
        else:
            self.shared = nn.ModuleList(_mlp(n_features, expert_dim, expert_dim * 2) for _ in range(n_experts))
            self.own = nn.ModuleDict(
                {
                    t: nn.ModuleList(_mlp(n_features, expert_dim, expert_dim * 2) for _ in range(n_experts))
                    for t in tasks
                }
            )
            self.gate = nn.ModuleDict({t: nn.Linear(n_features, 2 * n_experts) for t in tasks})
        self.towers = nn.ModuleDict({t: nn.Sequential(nn.Linear(expert_dim, tower_dim), nn.ReLU(),
                                                      nn.Linear(tower_dim, 1)) for t in tasks})  # fmt: skip
        self.gates: dict[str, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per task, (batch,) logits (binary tasks) or values."""
        out = {}
        if self.arch == "shared_bottom":
            h = self.bottom(x)
            return {t: self.towers[t](h).squeeze(-1) for t in self.tasks}
        shared = torch.stack([e(x) for e in (self.experts if self.arch == "mmoe" else self.shared)], dim=1)
        for t in self.tasks:
            experts = (
                shared if self.arch == "mmoe" else torch.cat([torch.stack([e(x) for e in self.own[t]], 1), shared], 1)
            )
            g = torch.softmax(self.gate[t](x), dim=-1)
            self.gates[t] = g.detach()
            out[t] = self.towers[t]((g.unsqueeze(-1) * experts).sum(dim=1)).squeeze(-1)
        return out


@dataclass
class TrainConfig:
    """Training settings with CPU-friendly defaults."""

    arch: str = "mmoe"
    n_experts: int = 4
    expert_dim: int = 32
    tower_dim: int = 16
    epochs: int = 20
    batch_size: int = 2048
    lr: float = 3e-3
    weighting: str = "uncertainty"  # or "fixed"
    weights: dict[str, float] = field(default_factory=lambda: {t: 1.0 for t in TASKS})
    val_share: float = 0.2
    patience: int = 3
    seed: int = 0
    progress: bool = False


@dataclass
class TrainedMTL:
    """A trained network with its feature scaling and training history."""

    net: MultiTaskNet
    mean: np.ndarray
    std: np.ndarray
    history: list[dict[str, float]]
    val_rows: np.ndarray  # rows of the training frame held out for early stopping (calibration has a fold of its own)
    config: dict = field(default_factory=dict)  # the network's shape: n_experts, expert_dim, tower_dim
    _serving: MultiTaskNet | None = field(default=None, repr=False, compare=False)

    def scale(self, features: np.ndarray) -> np.ndarray:
        """Network input: ``squash``ed features, standardised with the training fold's mean and spread."""
        return (squash(features) - self.mean) / self.std

    def serving_net(self) -> MultiTaskNet:
        """The float64 copy of the network that ``predict`` runs (made once)."""
        if self._serving is None:
            self._serving = copy.deepcopy(self.net).double().eval()
        return self._serving

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Per task: probabilities (click; purchase = P(click) x P(purchase | click); churn) or values (margin).

        float32, and the same bits for a row whatever the other rows asked with it (module docstring).
        """
        net = self.serving_net()
        x = torch.as_tensor(self.scale(features), dtype=torch.float64)
        parts: dict[str, list[torch.Tensor]] = {t: [] for t in net.tasks}
        with torch.inference_mode(), one_thread():
            for lo in range(0, len(x), PREDICT_BLOCK):  # blocks that stay in cache: ~5x faster than one batch
                block = x[lo : lo + PREDICT_BLOCK]
                rows, pad = len(block), -len(block) % ROW_QUANTUM
                if pad:
                    block = torch.cat([block, block.new_zeros(pad, block.shape[1])])
                for t, v in net(block).items():
                    parts[t].append(v[:rows])
        out = {t: (torch.cat(v) if v else torch.zeros(0, dtype=torch.float64)).numpy() for t, v in parts.items()}
        click, given = _sigmoid32(out["click"]), _sigmoid32(out["purchase"])
        return {
            "click": click,
            "purchase_given_click": given,
            "purchase": click * given,
            "margin_given_purchase": out["margin"].astype(np.float32),
            "churn_30d": _sigmoid32(out["churn_30d"]),
        }


def _sigmoid32(logit: np.ndarray) -> np.ndarray:
    """float32 probabilities from float64 logits rounded to float32 first (numpy's elementwise exp)."""
    z = logit.astype(np.float32).astype(np.float64)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def _losses(out: dict[str, torch.Tensor], y: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    bce = nn.functional.binary_cross_entropy_with_logits
    clicked = y["click"] > 0
    bought = y["purchase"] > 0
    churn_known = ~torch.isnan(y["churn_30d"])

    def masked(loss: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (loss * mask).sum() / mask.sum().clamp(min=1)

    return {
        "click": bce(out["click"], y["click"]),
        "purchase": masked(bce(out["purchase"], y["purchase"], reduction="none"), clicked),  # given a click
        "margin": masked((out["margin"] - y["margin"]) ** 2, bought),  # given a purchase
        "churn_30d": masked(bce(out["churn_30d"], torch.nan_to_num(y["churn_30d"]), reduction="none"), churn_known),
    }


def train(df: pd.DataFrame, cfg: TrainConfig | None = None, val: np.ndarray | None = None) -> TrainedMTL:
    """Train on a ``training_table``; the validation fold ``val`` (a row mask) defaults to a seeded share of visits."""
    cfg = cfg or TrainConfig()
    if val is None:
        val = holdout_visits(df["session_id"].to_numpy(), cfg.val_share, cfg.seed)
    torch.manual_seed(cfg.seed)
    with one_thread():
        return _train(df, cfg, np.asarray(val, bool))


def _train(df: pd.DataFrame, cfg: TrainConfig, val: np.ndarray) -> TrainedMTL:
    x_all = squash(df[list(FEATURE_NAMES)].to_numpy(np.float64))
    mean, std = x_all[~val].mean(axis=0), x_all[~val].std(axis=0) + 1e-6
    x = torch.as_tensor((x_all - mean) / std, dtype=torch.float32)
    y = {t: torch.tensor(df[t].to_numpy(np.float32, copy=True)) for t in TASKS}
    net = MultiTaskNet(x.shape[1], cfg.arch, cfg.n_experts, cfg.expert_dim, cfg.tower_dim)
    log_var = nn.Parameter(torch.zeros(len(TASKS)))
    params = list(net.parameters()) + ([log_var] if cfg.weighting == "uncertainty" else [])
    opt = torch.optim.Adam(params, lr=cfg.lr)
    train_idx, val_idx = np.flatnonzero(~val), np.flatnonzero(val)
    best, best_state, waited, history = np.inf, None, 0, []
    gen = torch.Generator().manual_seed(cfg.seed)
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        net.train()
        order = train_idx[torch.randperm(len(train_idx), generator=gen).numpy()]
        for lo in range(0, len(order), cfg.batch_size):
            b = torch.as_tensor(order[lo : lo + cfg.batch_size])
            losses = _losses(net(x[b]), {t: v[b] for t, v in y.items()})
            if cfg.weighting == "uncertainty":
                total = sum(losses[t] * torch.exp(-log_var[i]) + log_var[i] for i, t in enumerate(TASKS))
            else:
                total = sum(losses[t] * cfg.weights.get(t, 1.0) for t in TASKS)
            opt.zero_grad()
            total.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            v = torch.as_tensor(val_idx)
            val_out = _losses(net(x[v]), {t: yy[v] for t, yy in y.items()})
            val_losses = {t: float(loss) for t, loss in val_out.items()}
        score = sum(val_losses.values())
        history.append({"epoch": epoch, "val_loss": score, **{f"val_{t}": loss for t, loss in val_losses.items()}})
        if cfg.progress:
            print(f"\r[{cfg.arch}] epoch {epoch + 1}/{cfg.epochs}  val loss {score:.4f}  "
                  f"{time.perf_counter() - t0:5.1f}s", end="", file=sys.stderr)  # fmt: skip
        if score < best - 1e-5:
            best, waited = score, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    if cfg.progress:
        print(file=sys.stderr)
    net.load_state_dict(best_state)
    shape = {"n_experts": cfg.n_experts, "expert_dim": cfg.expert_dim, "tower_dim": cfg.tower_dim}
    return TrainedMTL(net, mean, std, history, val_idx, shape)
