"""The uplift report: the learners' comparison as text, and the files a peer re-checks every figure from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from basketgym.eval.uplift.grading import graded_tests

from basketgym.contract.files import atomic_path


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
