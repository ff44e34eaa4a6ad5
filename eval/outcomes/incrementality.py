"""Twin-world incrementality: a ranker's exact causal effect over the control, shopper by shopper, and by surface.

Worlds with the same seed share every random draw (common random numbers) and the same shoppers
(arrivals are drawn per day, not per ranker), so a shopper's outcome under the policy minus their
outcome under the control is that shopper's effect of the policy — no estimator needed. The mean
over shoppers is the incremental value; its intervals (``eval.stats.intervals``) say how much it
depends on which shoppers and worlds were drawn: the headline one is the t-interval across seeds
of the per-seed paired means (S - 1 df; tight because a seed's paired effect varies far less
between worlds than either twin's level), the other a bootstrap over shoppers with seeds fixed.
A ranker against itself gives exactly zero.

Surface attribution: worlds where the policy serves every surface but one (``rankers.composite.
SurfaceAblation``: search or home served by the control; ads: no sponsored placements) measure
what that surface adds: ``policy - policy_without_surface`` per shopper. What the three do not
explain is their interaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from basketgym.eval.stats.bootstrap import bootstrap_seed_means
from basketgym.eval.stats.intervals import between_seeds

Outcomes = Mapping[tuple[str, int], pd.DataFrame]  # (label, seed) -> shopper_outcomes table


def incremental_columns(horizons: Sequence[int]) -> list[str]:
    """Per-shopper outcomes whose paired differences are reported."""
    hs = sorted(horizons)
    return ["gtv", "margin", "ad_revenue", "contribution", "orders", f"ltv_{hs[-1]}d", f"retained_{hs[-1]}d"]


def paired_differences(policy: pd.DataFrame, control: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """(n, M) per-shopper ``policy - control`` of ``cols``, matched on shopper_id (the same shoppers)."""
    a = policy.set_index("shopper_id")[list(cols)]
    b = control.set_index("shopper_id")[list(cols)]
    if len(a) != len(b) or not a.index.equals(b.index):
        missing = a.index.symmetric_difference(b.index)
        raise ValueError(f"twin worlds hold different shoppers (e.g. {list(missing[:3])}): not twins")
    return a.to_numpy(np.float64) - b.to_numpy(np.float64)


def _summary(per_seed: list[np.ndarray], cols: Sequence[str], n_boot: int, boot_seed: int) -> pd.DataFrame:
    _, lo_s, hi_s = bootstrap_seed_means(per_seed, n_boot, boot_seed, over_seeds=False)
    b = between_seeds(per_seed)
    return pd.DataFrame(
        {"metric": list(cols), "mean": b.mean, "ci_low": b.low, "ci_high": b.high, "seed_sd": b.sd,
         "seeds": b.n_seeds, "shoppers_ci_low": lo_s, "shoppers_ci_high": hi_s}
    )  # fmt: skip


def incrementality(
    outcomes: Outcomes,
    rankers: Sequence[str],
    control: str,
    seeds: Sequence[int],
    cols: Sequence[str],
    n_boot: int,
    boot_seed: int,
) -> pd.DataFrame:
    """Per ranker and metric: mean incremental value per shopper over ``control`` with 95% intervals.

    Columns: ranker, metric, mean, ci_low/ci_high (t-interval across seeds of the per-seed paired
    means; NaN with one seed), seed_sd (their between-seed SD), seeds, shoppers_ci_low/high
    (bootstrap over shoppers only, seeds fixed), exact_zero (every shopper's difference is 0 — a
    ranker against itself).
    """
    frames = []
    for r in rankers:
        diffs = [paired_differences(outcomes[(r, s)], outcomes[(control, s)], cols) for s in seeds]
        df = _summary(diffs, cols, n_boot, boot_seed)
        df.insert(0, "ranker", r)
        df["exact_zero"] = [bool(all(np.all(np.nan_to_num(d[:, j]) == 0) for d in diffs)) for j in range(len(cols))]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def attribution(
    outcomes: Outcomes,
    ranker: str,
    control: str,
    seeds: Sequence[int],
    surfaces: Sequence[str],
    n_boot: int,
    boot_seed: int,
    metric: str = "gtv",
) -> pd.DataFrame:
    """Incremental ``metric`` per shopper of ``ranker`` over ``control``, split by surface.

    Rows: total (policy - control), one per surface (policy - policy without it), interaction
    (total minus the surfaces' sum); each with mean and 95% intervals as in ``incrementality``.
    """
    parts: dict[str, list[np.ndarray]] = {"total": []}
    for s in seeds:
        policy = outcomes[(ranker, s)]
        total = paired_differences(policy, outcomes[(control, s)], [metric])[:, 0]
        parts["total"].append(total)
        rest = total.copy()
        for surface in surfaces:
            d = paired_differences(policy, outcomes[(f"{ranker}~no_{surface}", s)], [metric])[:, 0]
            parts.setdefault(surface, []).append(d)
            rest -= d
        parts.setdefault("interaction", []).append(rest)
    names = list(parts)
    per_seed = [np.column_stack([parts[n][i] for n in names]) for i in range(len(seeds))]
    df = _summary(per_seed, names, n_boot, boot_seed)
    df = df.rename(columns={"metric": "part"})
    df.insert(0, "ranker", ranker)
    return df
