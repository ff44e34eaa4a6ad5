"""The training report: the models' comparison table, a sample home feed explained, and train's output directory.

``write_training`` saves each model in its own directory and the report beside them (``TRAIN_FILES``);
``check_models_out`` refuses, before anything is trained, a directory whose contents ``--overwrite``
must not delete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from basketgym.contract.errors import OutputPathError
from basketgym.contract.files import atomic_path, check_writable, write_text_atomic
from basketgym.eval.orchestration.rundir import write_json_atomic
from basketgym.eval.orchestration.training import TrainingRun, reliability_curves
from basketgym.eval.reporting.plots import reliability_diagram
from basketgym.rankers.learned.model import KINDS, MODEL_FILE

TRAIN_FILES = ("grades.csv", "training.json", "comparison.md", "reliability.png")  # beside the model directories


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


def check_models_out(out: str | Path, overwrite: bool) -> None:
    """Refuse, before training, an output directory that cannot be written or holds what ``overwrite`` must not delete.

    ``overwrite`` replaces only what ``write_training`` writes: model directories (a ``model.json``
    object with a ``kind``), its report files and their hidden temporaries; anything else in ``out``
    (a user's files, a model directory with a broken ``model.json``) is refused and kept.
    """
    out = Path(out)
    check_writable(out, directory=True)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not overwrite:
        raise OutputPathError(f"--out {out}: exists and is not empty (pass --overwrite to replace its models)")
    ours = {*KINDS, *(f.split(".")[0] for f in TRAIN_FILES)}
    for entry in sorted(out.iterdir()):
        if entry.name.startswith("."):  # temporaries of atomic writes and model saves: .<name>.<random>
            if entry.name[1:].split(".")[0] in ours:
                continue
            why = "a hidden entry that train does not write"
        elif entry.name in TRAIN_FILES and entry.is_file() and not entry.is_symlink():
            continue
        elif entry.is_dir() and not entry.is_symlink() and (entry / MODEL_FILE).is_file():
            try:
                meta = json.loads((entry / MODEL_FILE).read_bytes().decode("utf-8"))
                if isinstance(meta, dict) and meta.get("kind") in KINDS:
                    continue
                why = f"its {MODEL_FILE} is not a model description"
            except (OSError, ValueError):  # ValueError covers undecodable bytes and JSON that does not parse
                why = f"its {MODEL_FILE} is not readable JSON"
        else:
            why = "not a model directory or a file that train writes"
        raise OutputPathError(
            f"--overwrite {out}: refused, {entry.name} is not basketgym's ({why}); nothing was deleted"
        )


def write_training(out: str | Path, run: TrainingRun, explanations: dict[str, Any], scenario: str, seed: int) -> None:
    """Save each model in ``out/<kind>/`` (its facts name the scenario, logging policy and seed) and the report.

    Beside the models (``TRAIN_FILES``): the grades (CSV), the facts and ``explanations`` (JSON), the
    comparison table (markdown) and, when a model predicts probabilities, the reliability diagram.
    Every file is written atomically.
    """
    out = Path(out)
    for kind, model in run.models.items():
        model.facts.update(scenario=scenario, logging=run.facts["policy"], seed=seed)
        model.save(out / kind)
    with atomic_path(out / "grades.csv") as tmp:
        run.grades.to_csv(tmp, index=False)
    write_json_atomic({"facts": run.facts, "explanations": explanations}, out / "training.json")
    write_text_atomic(comparison_table(run) + "\n", out / "comparison.md")
    curves = reliability_curves(run)
    if any(curves.values()):
        title = f"{scenario}: calibrated predictions vs the simulator's true probabilities (held-out shoppers)"
        reliability_diagram(curves, out / "reliability.png", title=title)
