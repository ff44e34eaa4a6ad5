"""Off-policy evaluation graded against the simulator: estimates from a logging run versus the target's true value.

``evaluate`` logs a world under a stochastic logging policy with the target in shadow
(``orchestration.bandit_logs``), runs every estimator (``estimators``, ``slate``), and runs the target on-policy in a
twin world (same seed, common random numbers). The truth is exact: every logged context is also
evaluated, in shadow, with the target's slate — same shopper state, same random draws, nothing
applied (``BanditLog.target_carted``) — so an estimator's target is known shopper by shopper.
The twin world adds the *deployed* value, where the target also changes which contexts occur
(searches depend on what the home feed sold; tomorrow on today). Two settings:

- **top slot**: the action is the item at position 0, the reward a click on it (which depends on
  that item alone: a choice would depend on the rest of the slate); estimators
  IPS, SNIPS, DM, DR, SNDR, Switch-DR with a cross-fitted tabular reward model;
- **slate**: the action is the whole slate, the reward the items chosen from it; standard,
  independent (position-based) and cascade IPS and their self-normalised forms.

Intervals are cluster bootstraps over shoppers (a shopper's slates share their state: resampling
slates would treat correlated rounds as independent and under-cover). Every estimator family
comes with its weight diagnostics (``diagnostics.weight_diagnostics``: support, largest weight, ESS,
top-1% mass, mean weight); an estimate whose ESS is below ``diagnostics.MIN_ESS``, or whose mean
weight is significantly below 1 (target mass on slates the log never shows), is flagged as
unsupported.

It also reports what session-level OPE cannot see: the target's long-horizon (LTV) effect over
the logging policy's base ranker, from the twin worlds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from basketgym.contract import rng
from basketgym.contract.rng import Purpose
from basketgym.eval.offpolicy.diagnostics import WeightDiagnostics, slate_diagnostics, weight_diagnostics
from basketgym.eval.offpolicy.estimators import OPEResult, estimate, single_slot_estimators
from basketgym.eval.offpolicy.slate import slate_estimators
from basketgym.eval.orchestration.bandit_logs import BanditLog, collect, logging_policy
from basketgym.eval.outcomes.metrics import evaluate_world
from basketgym.rankers import make_ranker
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.world import World

PRIOR = 5.0  # pseudo-observations pulling a sparse (context, item) cell of the reward model to its backoff


@dataclass
class OPEReport:
    """Estimates of one target from one log, and the truth."""

    logging: str
    target: str
    seed: int
    n_slates: int
    top_slot: list[OPEResult]
    slate: list[OPEResult]
    truth_top_slot: float  # counterfactual: the target's slates in the logged contexts, same state and draws
    truth_slate: float
    expected_top_slot: float  # the same contexts, analytic: the target's top-slot click probabilities
    logging_value_top_slot: float
    logging_value_slate: float
    deployed_top_slot: float  # the target on-policy in a twin world (its own contexts)
    deployed_slate: float
    ltv_effect: float  # target minus logging base, per shopper, longest horizon (twin worlds)
    ltv_horizon: int
    top_slot_weights: WeightDiagnostics | None = None  # the single-slot estimators' weights
    slate_weights: dict[str, WeightDiagnostics] = dataclasses.field(default_factory=dict)  # per slate estimator
    shoppers: int = 0  # clusters of the bootstrap


def _cell_means(
    keys: np.ndarray, r: np.ndarray, train: np.ndarray, query: np.ndarray, backoff: np.ndarray
) -> np.ndarray:
    """Shrunk means of ``r`` per key, fitted on ``train`` rows, evaluated at ``query`` keys."""
    uniq, inv = np.unique(np.concatenate([keys[train], query]), return_inverse=True)
    n_train = int(train.sum())
    sums = np.bincount(inv[:n_train], r[train], minlength=len(uniq))
    counts = np.bincount(inv[:n_train], minlength=len(uniq))
    at = inv[n_train:]
    return (sums[at] + PRIOR * backoff) / (counts[at] + PRIOR)


def reward_model(log: BanditLog, target_top: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted (two folds by visit) predictions of a top-slot click for the logged and the target item.

    A cell is (surface, query, item), shrunk towards the item's mean, itself shrunk to the global
    mean; a row's prediction never uses its own fold.
    """
    t = log.table
    item = t["slate"][:, 0].astype(np.int64)
    ctx = (t["surface"].astype(np.int64) << 20) | (t["query"].astype(np.int64) + 1)
    r = t["clicked"][:, 0].astype(np.float64)
    fold = rng.uniform(seed, Purpose.CROSS_FIT, t["session_id"] % (2**31), 0, 1)[:, 0] < 0.5
    q_logged, q_target = np.zeros(len(r)), np.zeros(len(r))
    for f in (False, True):
        train, rows = fold != f, np.flatnonzero(fold == f)
        g = r[train].mean() if train.any() else 0.0
        for out, items in ((q_logged, item), (q_target, target_top.astype(np.int64))):
            item_mean = _cell_means(item, r, train, items[rows], np.full(len(rows), g))
            out[rows] = _cell_means((ctx << 24) | item, r, train, (ctx[rows] << 24) | items[rows], item_mean)
    return q_logged, q_target


def target_probabilities(log: BanditLog, target: str) -> dict[str, np.ndarray]:
    """A deterministic target's probabilities of the logged events: 1 where it shows the same thing, else 0."""
    shown, logged = log.targets[target], log.table["slate"]
    same = (shown == logged) | ((shown < 0) & (logged < 0))
    placed = logged >= 0
    prefix = np.cumprod(same, axis=1).astype(np.float64) * placed
    return {
        "position": (same & placed).astype(np.float64),
        "prefix": prefix,
        "slate": same.all(axis=1).astype(np.float64),
    }


def _deployed(cfg: ScenarioConfig, ranker_name: str, seed: int) -> tuple[float, float, float, int]:
    """A ranker's twin world on-policy: top-slot click rate, purchases per slate, LTV per shopper and its horizon."""
    res = World(cfg, seed, make_ranker(ranker_name), ranker_name, keep_slates=True).run()
    bought = np.asarray(res.slates["purchased"])
    top_clicks = np.asarray(res.slates["clicked"])[:, 0]
    outcomes, _ = evaluate_world(cfg, res)
    fits = [h for h in cfg.run.horizons if h <= cfg.days]
    h = max(fits) if fits else cfg.days
    ltv = outcomes[f"ltv_{h}d"].mean() if fits else outcomes["contribution"].mean()
    return float(top_clicks.mean()), float(bought.sum(axis=1).mean()), float(ltv), h


def evaluate(
    cfg: ScenarioConfig,
    logging_base: str,
    epsilon: float,
    target: str,
    seed: int,
    n_boot: int = 1000,
    temperature: float | None = None,
) -> OPEReport:
    """Log ``cfg`` under ``logging_policy`` with ``target`` in shadow; estimate; compare with the truth."""
    if temperature is not None:  # Plackett–Luce keeps the base's sponsored items: without them, full support
        cfg = cfg.replace(marketplace=dataclasses.replace(cfg.marketplace, max_sponsored=0))
    logger, policy = logging_policy(logging_base, epsilon, temperature)
    log = collect(cfg, logger, {target: make_ranker(target)}, seed, policy)
    t = log.table
    probs = target_probabilities(log, target)
    q_logged, q_target = reward_model(log, log.targets[target][:, 0], seed)
    reward = t["carted"].astype(np.float64)
    clicked = t["clicked"][:, 0].astype(np.float64)
    shoppers = t["shopper_id"]  # the bootstrap's unit: a shopper's slates are correlated
    p0 = t["propensity"][:, 0].astype(np.float64)
    bootstrap = {"n_boot": n_boot, "seed": seed, "clusters": shoppers}
    top = estimate(single_slot_estimators(), reward=clicked, pscore=p0, target_prob=probs["position"][:, 0],
                   q_hat_logged=q_logged, q_hat_target=q_target, **bootstrap)  # fmt: skip
    slate_args = {
        "slate_pscore": t["slate_propensity"].astype(np.float64), "slate_target": probs["slate"],
        "position_pscore": t["propensity"].astype(np.float64), "position_target": probs["position"],
        "prefix_pscore": t["prefix_propensity"].astype(np.float64), "prefix_target": probs["prefix"],
    }  # fmt: skip
    slate = estimate(slate_estimators(), reward=reward, **slate_args, **bootstrap)
    truth = log.target_carted[target]
    deployed_top, deployed_slate, ltv_target, h = _deployed(cfg, target, seed)
    _, _, ltv_base, _ = _deployed(cfg, logging_base, seed)
    return OPEReport(
        logging=policy,
        target=target,
        seed=seed,
        n_slates=len(reward),
        top_slot=top,
        slate=slate,
        truth_top_slot=float(log.target_clicked[target][:, 0].mean()),
        truth_slate=float(truth.sum(axis=1).mean()),
        expected_top_slot=float(log.target_click_probability[target][:, 0].mean()),
        logging_value_top_slot=float(clicked.mean()),
        logging_value_slate=float(reward.sum(axis=1).mean()),
        deployed_top_slot=deployed_top,
        deployed_slate=deployed_slate,
        ltv_effect=ltv_target - ltv_base,
        ltv_horizon=h,
        top_slot_weights=weight_diagnostics(probs["position"][:, 0] / p0, "top slot", shoppers),
        slate_weights=slate_diagnostics(*slate_args.values(), clusters=shoppers),
        shoppers=len(np.unique(shoppers)),
    )
