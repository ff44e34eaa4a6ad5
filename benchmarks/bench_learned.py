"""Learned rankers: training time on a million logged impressions, and serving latency for 500 candidates.

Training data: the default scenario logged under buy_again explored at 20% (features logged at
serving time), the first ``--rows`` impressions. Each model kind is trained as ``basketgym
train`` does (validation fold of a fifth of the visits, early stopping, calibration), one thread.

Serving: one request of 500 candidates (one shopper) to the value ranker with a trained model,
timed end to end (point-in-time features from the feature store, the model, calibration, top-10,
auction) and the model alone on the (500, F) feature matrix; p50/p99 over ``--requests`` calls
after warm-up. Usage::

    python benchmarks/bench_learned.py [--rows 1000000] [--kinds mmoe,ple,shared_bottom,lgbm,lgbm_rank]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from basketgym.eval.orchestration.training import logged_table
from basketgym.rankers.learned.dataset import FEATURE_NAMES, SERVING_POSITION, serving_features
from basketgym.rankers.learned.model import FitConfig, TaskModel, fit
from basketgym.rankers.learned.value import ValueRanker
from basketgym.rankers.testing import home_request
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


def training(rows: int, kinds: list[str], epochs: int) -> dict[str, dict]:
    """Seconds to train each kind on ``rows`` logged impressions (and the data it was given)."""
    cfg = load_scenario("default")
    days = 4
    df = logged_table(cfg.replace(days=days), cfg.seed)
    while len(df) < rows:  # ~100,000 impressions a day in the default world
        days *= 2
        df = logged_table(cfg.replace(days=days), cfg.seed)
    df = df.iloc[:rows].reset_index(drop=True)
    out = {}
    for kind in kinds:
        t0 = time.perf_counter()
        model = fit(df, FitConfig(kind=kind, epochs=epochs, seed=0))
        sec = time.perf_counter() - t0
        n_epochs = len(getattr(model.predictor, "history", [])) or None
        out[kind] = {"seconds": sec, "epochs": n_epochs, "model": model}
        per = f"  ({sec / n_epochs:.1f} s/epoch over {n_epochs} epochs)" if n_epochs else ""
        print(f"train {kind:<14} {rows:,} impressions: {sec:7.1f} s{per}", flush=True)
    return out


def latency(models: dict[str, dict], requests: int, candidates: int = 500) -> None:
    """p50/p99 of one 500-candidate request, end to end and model only."""
    cfg = load_scenario("default").replace(days=14)
    ranker = ValueRanker(retrain=False)
    world = World(cfg, cfg.seed, ranker, "warm")  # its feature store warmed by two weeks of logs
    world.run()
    rng = np.random.default_rng(0)
    for kind, m in models.items():
        with tempfile.TemporaryDirectory() as d:
            ranker.model = TaskModel.load(m["model"].save(f"{d}/m"))  # the saved artifact, as served
        req = home_request(world.public, rng, batch=1, day=14, shoppers=cfg.population.shoppers,
                           order_again=100, featured=candidates - 100)  # fmt: skip
        feats = serving_features(ranker.features, req, req.candidates, np.full(req.candidates.shape, SERVING_POSITION))
        x = feats.reshape(-1, len(FEATURE_NAMES))
        end, alone = [], []
        for i in range(requests + 20):
            t0 = time.perf_counter()
            ranker.rank(req)
            t1 = time.perf_counter()
            ranker.model.value(x)
            t2 = time.perf_counter()
            if i >= 20:
                end.append(t1 - t0)
                alone.append(t2 - t1)
        e, a = np.array(end) * 1e3, np.array(alone) * 1e3
        print(f"serve {kind:<14} {candidates} candidates: end to end p50 {np.percentile(e, 50):.2f} ms "
              f"p99 {np.percentile(e, 99):.2f} ms | model alone p50 {np.percentile(a, 50):.2f} ms "
              f"p99 {np.percentile(a, 99):.2f} ms", flush=True)  # fmt: skip


def main() -> None:
    """Train every kind, then time serving."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--kinds", default="mmoe,ple,shared_bottom,lgbm,lgbm_rank")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for serving")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    models = training(args.rows, args.kinds.split(","), args.epochs)
    latency(models, args.requests)


if __name__ == "__main__":
    main()
