"""The training report as text: the models' comparison table and a sample home feed explained."""

from __future__ import annotations

import pandas as pd
from basketgym.eval.orchestration.training import TrainingRun


def comparison_table(run: TrainingRun) -> str:
    """One markdown row per model: held-out ranking quality, per-task AUC and calibration (raw -> calibrated)."""
    g = run.grades

    def cell(model: str, task: str, stage: str, col: str, fmt: str = ".3f") -> str:
        hit = g[(g["model"] == model) & (g["task"] == task) & (g["stage"] == stage)]
        return "—" if hit.empty or col not in hit or pd.isna(hit[col].iloc[0]) else format(hit[col].iloc[0], fmt)

    def arrow(model: str, task: str, col: str, fmt: str = ".4f") -> str:
        raw, cal = cell(model, task, "raw", col, fmt), cell(model, task, "calibrated", col, fmt)
        return raw if raw == "—" else f"{raw} → {cal}"

    head = ("| model | train s | NDCG@10 | click AUC | click ECE (labels) | click ECE (truth) | purchase AUC "
            "| purchase ECE (truth) | purchase log loss | churn AUC | margin RMSE |")  # fmt: skip
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, model in run.models.items():
        lines.append(
            f"| {name} | {model.facts.get('seconds', float('nan')):.0f} | {cell(name, 'ranking', 'served', 'ndcg@10')} "
            f"| {cell(name, 'click', 'raw', 'auc')} | {arrow(name, 'click', 'ece_equal_mass')} "
            f"| {arrow(name, 'click', 'ece_vs_truth')} | {cell(name, 'purchase', 'raw', 'auc')} "
            f"| {arrow(name, 'purchase', 'ece_vs_truth')} | {arrow(name, 'purchase', 'log_loss')} "
            f"| {cell(name, 'churn_30d', 'raw', 'auc')} | {cell(name, 'margin', 'raw', 'rmse', '.2f')} |"
        )
    return "\n".join(lines)


def format_explanation(name: str, ex: dict, items: int = 5) -> str:
    """A readable explanation of one sample home feed (``sample_explanation``)."""
    what = "integrated gradients" if ex["network"] else "TreeSHAP"
    out = [f"{name}: home feed of shopper {ex['shopper']} on day {ex['day']} — value order, "
           f"{what} of the {ex['task']} output (relative to the baseline):"]  # fmt: skip
    for it in ex["items"][:items]:
        attr = ", ".join(f"{k} {v:+.2f}" for k, v in it["attributions"].items())
        mark = "bought" if it["bought"] else "clicked" if it["clicked"] else "shown"
        out.append(f"  value {it['value']:.3f}  (shown at {it['position_shown']}, {mark:<7})  {attr}"
                   f"  [position 0 vs average {it['position']:+.2f}]")  # fmt: skip
    split = ex["kind"] == "ple"
    if ex["gates"]:
        out.append("  gate weights per task, mean over the feed" + (" (own | shared experts):" if split else ":"))
    for task, w in ex["gates"].items():
        cells = [f"{x:.2f}" for x in w]
        if split:
            cells.insert(len(cells) // 2, "|")
        out.append(f"    {task:<10} " + " ".join(cells))
    return "\n".join(out)
