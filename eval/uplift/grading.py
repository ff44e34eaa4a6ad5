"""Uplift learners compared on exposure tests: graded against the true individual effects and the randomised data.

``compare_learners`` splits the tests by shopper (a seeded half trains, the other half is graded),
fits each learner (``rankers.learned.uplift``) on the training half's randomised log, and grades
its effect estimates on the other half: the Qini coefficient against the **true** effects (twin
worlds, ``eval.uplift.data``), the Qini coefficient and AUUC (IPW gain) from the randomised data
alone (what a platform can compute), uplift@10% (true mean effect among the top tenth) and PEHE,
each with a percentile bootstrap interval over graded tests. Reference rows: ``random`` (a random order, ~0), ``oracle``
(the true effects, 1) and ``propensity`` (P(bought | shown) from a classifier on the treated:
what a purchase-propensity ranker would put first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from basketgym.eval.stats.bootstrap import bootstrap_statistic
from basketgym.eval.stats.intervals import Interval
from basketgym.eval.uplift import metrics as um
from basketgym.eval.uplift.data import OUTCOMES, ExposureData
from basketgym.rankers.learned.dataset import FEATURE_NAMES
from basketgym.rankers.learned.uplift import LEARNERS, UpliftConfig, UpliftLearner, _Model

METRICS = ("qini_true", "qini_observed", "auuc_observed", "uplift_at_10", "pehe")
Z95 = 1.96  # the randomised effects' normal interval: mean difference +- 1.96 se


def randomised_effects(data: ExposureData) -> pd.DataFrame:
    """Per outcome: the true mean effect (twins) next to the randomised world's difference in means and its interval.

    Columns: outcome, true_effect (mean of the true individual effects), difference (treated mean
    minus control mean in the randomised log), ci_low / ci_high (difference +- ``Z95`` times the
    unpooled standard error, sqrt(var_t / n_t + var_c / n_c)), control_mean. What a platform's
    analysis of the same test would report, beside what the simulator knows.
    """
    w = data.log["treated"].to_numpy(bool)
    rows = []
    for o in OUTCOMES:
        y = data.log[o].to_numpy(np.float64)
        diff = y[w].mean() - y[~w].mean()
        se = np.sqrt(y[w].var(ddof=1) / w.sum() + y[~w].var(ddof=1) / (~w).sum())
        rows.append({"outcome": o, "true_effect": data.tau[o].mean(), "difference": diff, "ci_low": diff - Z95 * se,
                     "ci_high": diff + Z95 * se, "control_mean": y[~w].mean()})  # fmt: skip
    return pd.DataFrame(rows)


def _grades(score: np.ndarray, tau: np.ndarray, w: np.ndarray, y: np.ndarray, p: np.ndarray,
            n_boot: int, seed: int) -> dict[str, Interval]:  # fmt: skip
    contrib = um.ipw_contribution(w, y, p)
    stats = {
        "qini_true": (lambda s, t, ww, yy, c: um.qini_true(s, t)),
        "qini_observed": (lambda s, t, ww, yy, c: um.qini_coefficient(s, ww, yy)),
        "auuc_observed": (lambda s, t, ww, yy, c: um.auuc(s, c)),
        "uplift_at_10": (lambda s, t, ww, yy, c: um.uplift_at_k(s, t, 0.1)),
    }
    out = {k: bootstrap_statistic(f, score, tau, w, y, contrib, n_boot=n_boot, seed=seed) for k, f in stats.items()}
    return out


def graded_tests(log: pd.DataFrame, seed: int) -> np.ndarray:
    """(n,) bool: the tests graded (the rest train), by shopper — a seeded coin per shopper id, P(graded) = 0.5."""
    shopper = log["shopper_id"].to_numpy(np.int64)
    return np.random.default_rng(seed).random(int(shopper.max()) + 1)[shopper] < 0.5


def compare_learners(data: ExposureData, outcome: str = "bought", learners: tuple[str, ...] = LEARNERS,
                     seed: int = 0, n_boot: int = 200, cfg: UpliftConfig | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per scorer: metrics with intervals on the graded half (see the module docstring)."""
    log = data.log
    x = log[list(FEATURE_NAMES)].to_numpy(np.float64)
    w, y, p = log["treated"].to_numpy(bool), log[outcome].to_numpy(np.float64), log["p"].to_numpy(np.float64)
    tau = data.tau[outcome].to_numpy(np.float64)
    te = graded_tests(log, seed)
    tr = ~te
    cfg = cfg or UpliftConfig(seed=seed)
    scores: dict[str, np.ndarray] = {}
    for kind in learners:
        scores[f"{kind}-learner"] = UpliftLearner(kind, cfg).fit(x[tr], w[tr], y[tr], p[tr]).predict(x[te])
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    scores["propensity"] = _Model(x[tr & w], y[tr & w], binary, cfg, seed + 99)(x[te])
    scores["random"] = np.random.default_rng(seed + 1).random(int(te.sum()))
    scores["oracle"] = tau[te]
    rows = []
    curves = {name: um.gain_curve(s, tau[te]) for name, s in scores.items()}
    for name, s in scores.items():
        g = _grades(s, tau[te], w[te], y[te], p[te], n_boot, seed)
        row = {"scorer": name, "pehe": um.pehe(s, tau[te]) if name not in ("random", "propensity") else np.nan}
        for k, iv in g.items():
            row[k], row[f"{k}_low"], row[f"{k}_high"] = iv.value, iv.low, iv.high
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["graded"] = int(te.sum())
    table.attrs["curves"] = curves  # per scorer: the cumulative true effect of its top k (for plots)
    # the graded tests as they were graded (log order): ids to join on, what a peer needs to re-check every figure
    graded = log.loc[te, ["session_id", "shopper_id", "treated", "p"]].reset_index(drop=True)
    graded = graded.assign(outcome=y[te], true_effect=tau[te], **{n: s for n, s in scores.items() if n != "oracle"})
    table.attrs["scores"] = graded
    return table
