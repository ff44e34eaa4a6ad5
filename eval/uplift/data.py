"""Treatment logs and true individual effects from randomised exposure tests in twin worlds.

``exposure_data`` runs three worlds with the same seed and the same exposure test
(``rankers.treatment.ExposureTest``: one focal item per shopper, shown in the top home-feed slot or
withheld): one with the randomised assignment (the treatment log a platform would have), one with
every test treated and one with none. Everything before a shopper's test is identical in the three
worlds (common random numbers), so each shopper's outcome in the all-treated world minus the
none-treated world is the true individual effect of that one exposure, including its consequences
over the following days. The base ranker is frozen from the first test on (``freeze``), so other
shoppers' tests cannot reach a shopper through the ranker's popularity counts: the randomised
world's outcome of every test then equals its twin's (``ExposureData.consistency`` = 1, tested).

Outcomes per test, all observable in the logs: ``bought`` (the focal item bought in that visit,
from any surface), ``basket_margin`` (the visit's margin), ``margin_30d`` (the shopper's margin
over the 30 days from the visit) and ``retained_30d`` (a visit in the 30 days after).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from basketgym.rankers import make_ranker
from basketgym.rankers.learned.dataset import FEATURE_NAMES
from basketgym.rankers.treatment import ExposureTest
from basketgym.sim.config import ScenarioConfig
from basketgym.sim.world import World

OUTCOMES = ("bought", "basket_margin", "margin_30d", "retained_30d")
WINDOW = 30


def days_needed(start_day: int, test_days: int) -> int:
    """Days a scenario needs for exposure tests on days [start_day, start_day + test_days) and their 30-day windows."""
    return start_day + test_days + WINDOW


@dataclass
class ExposureData:
    """The randomised treatment log with outcomes, and the true effects of every test."""

    log: pd.DataFrame  # one row per test: ids, treated, p, features, observed outcomes
    tau: pd.DataFrame  # true individual effects per outcome (all-treated minus none-treated), aligned with ``log``
    consistency: float  # share of tests whose observed outcomes equal the matching twin's (1.0: no interference)


def _outcomes(tests: dict[str, np.ndarray], purchases: dict, sessions: dict) -> pd.DataFrame:
    """Per test: bought, basket margin, 30-day margin and 30-day retention from a world's logs."""
    sid, shopper, day = tests["session_id"], tests["shopper_id"], tests["day"].astype(np.int64)
    p = pd.DataFrame({"session_id": purchases["session_id"], "item_id": purchases["item_id"]})
    bought_keys = set(zip(p["session_id"].tolist(), p["item_id"].tolist(), strict=True))
    bought = np.fromiter(((s, i) in bought_keys for s, i in zip(sid.tolist(), tests["item_id"].tolist(),
                                                                  strict=True)), bool, len(sid))  # fmt: skip
    s = pd.DataFrame({
        "shopper": np.asarray(sessions["shopper_id"], np.int64), "day": np.asarray(sessions["day"]),
        "session_id": sessions["session_id"], "margin": np.asarray(sessions["margin"], np.float64),
    })  # fmt: skip
    basket = s.set_index("session_id")["margin"].reindex(sid).fillna(0.0).to_numpy()
    s = s.sort_values(["shopper", "day"])
    key = s["shopper"].to_numpy() * 100_000 + s["day"].to_numpy()
    cum = np.r_[0.0, np.cumsum(s["margin"].to_numpy())]
    lo = np.searchsorted(key, shopper * 100_000 + day, side="left")
    hi = np.searchsorted(key, shopper * 100_000 + day + WINDOW, side="left")
    after = np.searchsorted(key, shopper * 100_000 + day, side="right")
    back = np.searchsorted(key, shopper * 100_000 + day + WINDOW, side="right")
    return pd.DataFrame({"bought": bought.astype(float), "basket_margin": basket, "margin_30d": cum[hi] - cum[lo],
                         "retained_30d": (back > after).astype(float)})  # fmt: skip


def _world(cfg: ScenarioConfig, seed: int, base: str, share: float, start: int, end: int, assign: str,
           freeze: bool) -> tuple:  # fmt: skip
    test = ExposureTest(make_ranker(base), share, start, end, assign, freeze)
    res = World(cfg, seed, test, f"{base}~exposure_{assign}").run()
    tests = test.table()
    return tests, _outcomes(tests, res.purchases, res.sessions)


def exposure_data(cfg: ScenarioConfig, seed: int, base: str = "buy_again", share: float = 0.5,
                  start_day: int = 30, test_days: int = 14, freeze: bool = True) -> ExposureData:  # fmt: skip
    """Run the randomised, all-treated and none-treated worlds (days up to start + test_days + 30).

    ``freeze`` (default): the base ranker stops learning at ``start_day``, so there is no
    interference between shoppers and the twins' difference is exactly each shopper's own effect.
    """
    end, need = start_day + test_days, days_needed(start_day, test_days)
    cfg = cfg.replace(days=min(cfg.days, need)) if cfg.days >= need else cfg
    if cfg.days < need:
        raise ValueError(f"exposure tests need {need} days (start {start_day} + {test_days} + {WINDOW})")
    tests, observed = _world(cfg, seed, base, share, start_day, end, "random", freeze)
    t_all, y_all = _world(cfg, seed, base, share, start_day, end, "all", freeze)
    t_none, y_none = _world(cfg, seed, base, share, start_day, end, "none", freeze)
    for other in (t_all, t_none):  # the same tests (same shoppers, days and focal items) in every world
        if not (np.array_equal(other["session_id"], tests["session_id"]) and
                np.array_equal(other["item_id"], tests["item_id"])):  # fmt: skip
            raise RuntimeError("exposure twins diverged before their tests: the worlds are not twins")
    log = pd.DataFrame({c: tests[c] for c in ("session_id", "shopper_id", "day", "item_id", "treated", "p")})
    log = pd.concat([log, pd.DataFrame(tests["features"], columns=list(FEATURE_NAMES)), observed], axis=1)
    tau = y_all - y_none
    twin = np.where(tests["treated"][:, None], y_all.to_numpy(), y_none.to_numpy())
    consistency = float(np.isclose(observed.to_numpy(), twin).all(axis=1).mean())
    return ExposureData(log, tau, consistency)
