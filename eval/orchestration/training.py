"""Train learned rankers on a scenario's exploration logs and grade them on held-out shoppers.

``train_and_grade`` runs the scenario once under an exploring logging policy (features logged at
serving time), trains each requested model on most shoppers, and grades every task on a held-out
``test_share`` of shoppers: AUC, log loss, Brier and ECE (equal-mass and equal-width) against the
labels, before and after calibration, and against the simulator's true click and purchase
probabilities (truth only the simulator has). ``sample_explanation`` explains one logged home
feed: per-item value, the strongest feature attributions and the MMoE/PLE gate weights
(``reporting.training`` prints them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from basketgym.eval.orchestration.bandit_logs import collect
from basketgym.eval.stats import reliability
from basketgym.rankers import make_ranker
from basketgym.rankers.exploration import EpsilonGreedy
from basketgym.rankers.learned.dataset import (
    FEATURE_NAMES,
    SAMPLE_COUNTER,
    SERVING_POSITION,
    TEST_COUNTER,
    FeatureLogger,
    shopper_uniform,
    training_table,
)
from basketgym.rankers.learned.model import NETWORKS, FitConfig, TaskModel, fit
from basketgym.sim.config import ScenarioConfig

GRADED = ("click", "purchase", "churn_30d")  # probability heads graded (margin: RMSE on bought rows)


@dataclass
class TrainingRun:
    """Trained models, their grades and the data they came from."""

    models: dict[str, TaskModel]
    grades: pd.DataFrame  # one row per (model, task, stage): metrics on the held-out days
    table: pd.DataFrame  # the training table (features, labels, truth)
    test: np.ndarray  # boolean mask of held-out rows
    facts: dict = field(default_factory=dict)


def logged_table(cfg: ScenarioConfig, seed: int, policy: str = "buy_again", explore: float = 0.2) -> pd.DataFrame:
    """One row per shown item of a run under ``policy`` explored with probability ``explore``, with truth."""
    logger = FeatureLogger(EpsilonGreedy(make_ranker(policy), explore))
    log = collect(cfg, logger, {}, seed, f"{policy}+eps{explore:g}")
    df = training_table(logger, log.table, log.purchases, log.sessions, cfg.days, log.click_probability)
    df["true_purchase"] = log.purchase_probability[df["slate_row"].to_numpy(), df["position"].to_numpy(np.int64)]
    return df


def grade(model: TaskModel, df: pd.DataFrame, name: str) -> list[dict]:
    """Rows of metrics for ``model`` on ``df``: per task, raw and calibrated; ranking quality for all."""
    x = df[list(FEATURE_NAMES)].to_numpy(np.float32)
    served = model.predict(_serving(x))
    relevance = served["score"] if model.kind == "lgbm_rank" else served["purchase"]
    rows = [{"model": name, "task": "ranking", "stage": "served", "ndcg@10": _ndcg(df, relevance)}]
    if model.kind == "lgbm_rank":
        return rows
    raw, cal = model.predict_raw(x), model.predict(x)
    truth = {"click": "true_click", "purchase": "true_purchase"}
    for task in GRADED:
        y = df[task].to_numpy(np.float64)
        known = ~np.isnan(y)
        t = df[truth[task]].to_numpy()[known] if truth.get(task) in df else None
        for stage, p in (("raw", raw), ("calibrated", cal)):
            if known.sum() and 0 < y[known].mean() < 1:
                grades = reliability.scores(p[task][known], y[known], t)
                rows.append({"model": name, "task": task, "stage": stage, **grades})
    bought = df["purchase"].to_numpy() > 0
    err = raw["margin_given_purchase"][bought] - df["margin"].to_numpy()[bought]
    rows.append({"model": name, "task": "margin", "stage": "raw", "rmse": float(np.sqrt(np.mean(err**2)))})
    return rows


def _serving(x: np.ndarray) -> np.ndarray:
    """Features as at serving time: the shown position replaced by the serving position (debiased scores)."""
    x = x.copy()
    x[:, FEATURE_NAMES.index("position")] = SERVING_POSITION
    return x


def _ndcg(df: pd.DataFrame, score: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over slates with a click, relevance 2 bought / 1 clicked / 0 shown, reordered by ``score``."""
    rel = (df["click"].to_numpy() > 0).astype(float) + (df["purchase"].to_numpy() > 0)
    slate = df["slate_row"].to_numpy()
    order = np.lexsort((-score, slate))
    s, r = slate[order], rel[order]
    start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    rank = np.arange(len(s)) - np.repeat(start, np.diff(np.r_[start, len(s)]))
    gain = np.where(rank < k, (2**r - 1) / np.log2(rank + 2), 0.0)
    dcg = np.add.reduceat(gain, start)
    ri = rel[np.lexsort((-rel, slate))]  # the ideal order, same slates in the same places
    igain = np.where(rank < k, (2**ri - 1) / np.log2(rank + 2), 0.0)
    idcg = np.add.reduceat(igain, start)
    has = idcg > 0
    return float((dcg[has] / idcg[has]).mean()) if has.any() else float("nan")


def train_and_grade(cfg: ScenarioConfig, kinds: list[str], seed: int, policy: str = "buy_again",
                    explore: float = 0.2, test_share: float = 0.2, fit_cfg: FitConfig | None = None,
                    table: pd.DataFrame | None = None, max_rows: int | None = None) -> TrainingRun:  # fmt: skip
    """Log, train each of ``kinds`` on most shoppers, grade on a held-out ``test_share`` of shoppers.

    Shoppers, not days, are held out: every day is on both sides (no extrapolation in time, and
    the 30-day churn label is observable for the held-out rows as for the others). ``max_rows``:
    keep a seeded share of shoppers (whole histories) when the log has more impressions. Both
    splits and the models' own folds (``rankers.learned.dataset.shopper_folds``) are independent
    counter-based draws per shopper from ``seed``.
    """
    df = logged_table(cfg, seed, policy, explore) if table is None else table
    logged = len(df)
    if max_rows is not None and len(df) > max_rows:  # a seeded share of shoppers, whole histories
        df = df[shopper_uniform(df["session_id"].to_numpy(), seed, SAMPLE_COUNTER) < max_rows / len(df)]
    test = shopper_uniform(df["session_id"].to_numpy(), seed, TEST_COUNTER) < test_share  # held-out shoppers
    train_df, test_df = df[~test].reset_index(drop=True), df[test].reset_index(drop=True)
    models, rows = {}, []
    base = fit_cfg or FitConfig()
    for kind in kinds:
        fc = FitConfig(**{**base.__dict__, "kind": kind, "seed": seed})
        models[kind] = fit(train_df, fc)
        rows += grade(models[kind], test_df, kind)
    facts = {"logged": logged, "rows": len(df), "train_rows": int((~test).sum()), "test_rows": int(test.sum()),
             "policy": f"{policy}+eps{explore:g}", "seed": seed}  # fmt: skip
    return TrainingRun(models, pd.DataFrame(rows), df, test, facts)


def reliability_curves(run: TrainingRun, n_bins: int = 15) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per task (click, purchase) and model: calibrated predictions against the true probabilities on held-out rows."""
    test = run.table[run.test]
    x = test[list(FEATURE_NAMES)].to_numpy(np.float32)
    out: dict[str, dict] = {"click": {}, "purchase": {}}
    for name, model in run.models.items():
        if model.kind == "lgbm_rank":
            continue
        p = model.predict(x)
        for task in out:
            r = reliability.reliability(p[task], test[f"true_{task}"].to_numpy(), n_bins)
            out[task][name] = (r.predicted, r.observed)
    return out


def sample_explanation(model: TaskModel, df: pd.DataFrame, top: int = 3) -> dict:
    """Explain one logged home feed of ``df``: values, the strongest attributions, gates.

    The sample: the first home feed from the second half of the log with a purchase, shown to a
    shopper with a purchase history. Position is served at 0 for every candidate, so its
    attribution (serving position against the baseline's average position) is the same kind of
    shift for every item: it is reported apart (``position``), not among the strongest features.
    """
    day = df["session_id"].to_numpy() >> 32
    home = df[(df["surface"] == 0) & (df["purchase"] > 0) & (df["n_orders"] > 0) & (day >= day.max() // 2)]
    sid = int(home["session_id"].iloc[0]) if len(home) else int(df["session_id"].iloc[0])
    rows = df[(df["session_id"] == sid) & (df["surface"] == 0)]
    x = _serving(rows[list(FEATURE_NAMES)].to_numpy(np.float32))
    value = model.value(x)
    order = np.argsort(-value, kind="stable")
    task = "score" if model.kind == "lgbm_rank" else "click"
    attr, base = model.explain(x, task)
    items = []
    pos = FEATURE_NAMES.index("position")
    for i in order:
        strongest = [j for j in np.argsort(-np.abs(attr[i]), kind="stable") if j != pos][:top]
        items.append({
            "position_shown": int(rows["position"].iloc[i]), "value": float(value[i]),
            "clicked": bool(rows["click"].iloc[i]), "bought": bool(rows["purchase"].iloc[i]),
            "baseline": float(base[i] if np.ndim(base) else base), "position": float(attr[i, pos]),
            "attributions": {FEATURE_NAMES[j]: float(attr[i, j]) for j in strongest},
        })  # fmt: skip
    gates = {t: g.mean(axis=0).round(3).tolist() for t, g in model.gate_weights(x).items()}
    return {"session_id": sid, "day": sid >> 32, "shopper": sid & 0xFFFFFFFF, "task": task, "items": items,
            "gates": gates, "network": model.kind in NETWORKS, "kind": model.kind}  # fmt: skip
