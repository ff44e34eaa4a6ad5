"""A simulated A/B test read like a real one, then graded against the twin-world truth.

The experiment world (``rankers.composite.TrafficSplit``) randomises shoppers between the control
and the treatment from ``start_day``. The analysis sees only what an experimenter would: each
shopper's arm and their metric over the experiment (and before it, for CUPED). The truth comes
from twin worlds with the same draws: everyone switched to the treatment on ``start_day`` versus
everyone kept on the control, shopper by shopper. The two differ by sampling noise and by
interference (arms share rankers that learn from everyone's logs, and a market), which is what an
A/B test cannot see and the simulator can.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from basketgym.contract import rng
from basketgym.eval.stats import ab
from basketgym.rankers.composite import treatment_assignment


@dataclass(frozen=True)
class ExperimentResult:
    """One seed's experiment: the estimates an experimenter gets, and the truth."""

    seed: int
    n_treatment: int
    n_control: int
    welch: ab.Estimate
    lift: ab.Estimate
    cuped: ab.Estimate
    srm_p: float
    sequential: ab.SequentialResult
    naive_peeking_rejects: bool
    truth: float  # twin worlds: mean per-shopper effect of switching everyone
    truth_low: float  # its 95% interval over shoppers (paired t)
    truth_high: float
    units: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)  # UNIT_COLUMNS per shopper

    @property
    def width_ratio(self) -> float:
        """Twin-world interval width over the A/B (Welch) interval width for the same effect."""
        return (self.truth_high - self.truth_low) / (self.welch.ci_high - self.welch.ci_low)

    @property
    def covered(self) -> bool:
        """Whether the A/B interval covers the twin-world effect."""
        return self.welch.covers(self.truth)


UNIT_COLUMNS = ("seed", "shopper_id", "treated", "pre", "outcome")  # the per-unit arrays behind Welch and CUPED


def eligible(window: pd.DataFrame, outcomes: pd.DataFrame, start: int) -> pd.DataFrame:
    """The experiment's population: shoppers who joined before the start and had not churned before it."""
    churn = outcomes.set_index("shopper_id")["churn_day"].reindex(window["shopper_id"]).to_numpy()
    return window[(churn < 0) | (churn >= start)].reset_index(drop=True)


def analyze(
    seed: int,
    window_ab: pd.DataFrame,
    window_switch: pd.DataFrame,
    window_control: pd.DataFrame,
    outcomes_ab: pd.DataFrame,
    start: int,
    share: float,
    alpha: float = 0.05,
) -> ExperimentResult:
    """Estimate the effect from the experiment world and the truth from its twins (``window_metrics`` tables).

    ``units`` holds what the estimates are computed from, one row per eligible shopper: the arm
    (``treated``), the pre-period covariate (``pre``) and the outcome over the whole test
    (``outcome``, the last look): ``welch(outcome[treated], outcome[~treated])`` and
    ``cuped(..., pre[treated], pre[~treated])`` reproduce the result exactly.
    """
    pop = eligible(window_ab, outcomes_ab, start)
    ids = pop["shopper_id"].to_numpy()
    treated = treatment_assignment(rng.ranker_seed(seed), ids, share)  # the split's coins: its ranker seed
    looks = np.column_stack([pop[c].to_numpy(np.float64) for c in pop.columns if c.startswith("d")]).T  # (L, n)
    y, x = looks[-1], pop["pre"].to_numpy(np.float64)
    # tau is planned before the first look, from the pre-period (min(length, start) days before the start)
    tau = ab.planned_tau(x[treated], x[~treated], looks.shape[0], min(looks.shape[0], start))
    seq = ab.sequential_test(looks[:, treated], looks[:, ~treated], alpha, tau=tau)
    sw = window_switch.set_index("shopper_id").reindex(ids)
    ct = window_control.set_index("shopper_id").reindex(ids)
    last = f"d{looks.shape[0] - 1}"
    effect = sw[last].to_numpy(np.float64) - ct[last].to_numpy(np.float64)
    mean = float(effect.mean())
    sd = float(effect.std(ddof=1)) if len(effect) > 1 else np.nan
    half = float(stats.t.ppf(1 - alpha / 2, max(len(effect) - 1, 1))) * sd / np.sqrt(max(len(effect), 1))
    return ExperimentResult(
        seed=seed,
        n_treatment=int(treated.sum()),
        n_control=int((~treated).sum()),
        welch=ab.welch(y[treated], y[~treated], alpha),
        lift=ab.relative_lift(y[treated], y[~treated], alpha),
        cuped=ab.cuped(y[treated], y[~treated], x[treated], x[~treated], alpha),
        srm_p=ab.srm_p_value(int(treated.sum()), int((~treated).sum()), share),
        sequential=seq,
        naive_peeking_rejects=ab.naive_peeking_rejects(seq, alpha),
        truth=mean,
        truth_low=mean - half,
        truth_high=mean + half,
        units=pd.DataFrame(
            {"seed": np.full(len(ids), seed, np.int64), "shopper_id": ids, "treated": treated, "pre": x, "outcome": y}
        ),  # fmt: skip
    )
