"""The uplift report: effects and the learners' comparison as text, and the files a peer re-checks every figure from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from basketgym.contract.files import atomic_path
from basketgym.eval.reporting.plots import gain_curves
from basketgym.eval.uplift.data import OUTCOMES, ExposureData
from basketgym.eval.uplift.grading import graded_tests


def format_effects(effects: pd.DataFrame) -> str:
    """``grading.randomised_effects`` as a markdown table: true mean effect, difference in means [interval], control."""
    lines = ["| outcome | true mean effect | difference in means (randomised) | control mean |", "|---|---|---|---|"]
    for r in effects.itertuples():
        lines.append(f"| {r.outcome} | {r.true_effect:+.4f} | {r.difference:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}] "
                     f"| {r.control_mean:.4f} |")  # fmt: skip
    return "\n".join(lines)


def format_comparison(table: pd.DataFrame, outcome: str, n_graded: int) -> str:
    """The comparison as a markdown table: value [low, high] per metric."""

    def cell(r: pd.Series, k: str, fmt: str = "+.3f") -> str:
        return f"{r[k]:{fmt}} [{r[k + '_low']:{fmt}}, {r[k + '_high']:{fmt}}]"

    head = "| scorer | Qini vs true effects | Qini (observed) | AUUC (observed, IPW) | uplift@10% (true) | PEHE |"
    lines = [f"outcome '{outcome}', {n_graded:,} graded tests (95% bootstrap intervals)", "", head,
             "|" + "---|" * 6]  # fmt: skip
    for _, r in table.iterrows():
        pehe = "—" if pd.isna(r["pehe"]) else f"{r['pehe']:.3f}"
        cells = [cell(r, k) for k in ("qini_true", "qini_observed", "auuc_observed", "uplift_at_10")]
        lines.append(f"| {r['scorer']} | " + " | ".join(cells) + f" | {pehe} |")
    return "\n".join(lines)


def write_scores(table: pd.DataFrame, path: str | Path) -> None:
    """The graded tests of a comparison as Parquet, atomically: ids, treatment, outcome, true effect, every scorer."""
    with atomic_path(path) as tmp:
        table.attrs["scores"].to_parquet(tmp, index=False)


def write_split(log: pd.DataFrame, seed: int, path: str | Path) -> None:
    """Which exposure tests trained the learners and which were graded, by session and shopper id, as Parquet."""
    split = log[["session_id", "shopper_id"]].assign(graded=graded_tests(log, seed))
    with atomic_path(path) as tmp:
        split.to_parquet(tmp, index=False)


def write_uplift(out: str | Path, data: ExposureData, tables: Mapping[str, pd.DataFrame], seed: int,
                 scenario: str) -> None:  # fmt: skip
    """Every file of ``basketgym uplift --out``, atomically (docs/UPLIFT.md: how to re-check the figures from them).

    ``exposures.parquet`` (the treatment log with the TRUE effects as ``true_*`` columns),
    ``split.parquet`` (graded or training, by session), and per outcome of ``tables``:
    ``uplift_<outcome>.csv`` (the comparison), ``scores_<outcome>.parquet`` (every scorer on the
    graded tests) and ``gain_<outcome>.png`` (the uplift curves).
    """
    out = Path(out)
    full = data.log.assign(**{f"true_{o}": data.tau[o].to_numpy() for o in OUTCOMES})
    with atomic_path(out / "exposures.parquet") as tmp:
        full.to_parquet(tmp, index=False)
    write_split(data.log, seed, out / "split.parquet")
    for o, t in tables.items():
        with atomic_path(out / f"uplift_{o}.csv") as tmp:
            t.to_csv(tmp, index=False)
        write_scores(t, out / f"scores_{o}.parquet")
        gain_curves(t.attrs["curves"], out / f"gain_{o}.png", title=f"{scenario}: uplift curves, outcome '{o}'",
                    ylabel=f"cumulative true effect on {o}")  # fmt: skip
