"""The leaderboard published: LEADERBOARD.md, leaderboard.json and a self-contained HTML page.

The HTML page holds its tables and its plots (PNG, base64-inlined) and no reference to anything outside the
file: no scripts, fonts or stylesheets from the network. Every file is written atomically.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import asdict
from pathlib import Path

from basketgym.contract.files import write_text_atomic
from basketgym.eval.leaderboard.board import Board, ScenarioBoard

COLUMNS = (
    ("value_short", "value {short}d"),
    ("ltv_long", "LTV {long}d"),
    ("incremental_ltv", "incremental LTV {long}d over {control}"),
    ("normalised_ltv", "normalised LTV (random 0, best-known 1)"),
    ("retention_long", "retained {long}d"),
    ("ad_revenue", "ad revenue"),
)


def _num(x: float, pct: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{100 * x:.1f}%" if pct else f"{x:,.2f}"


def _cell(v: dict, pct: bool = False) -> str:
    if not math.isfinite(v["low"]):
        return _num(v["mean"], pct)
    return f"{_num(v['mean'], pct)} [{_num(v['low'], pct)}, {_num(v['high'], pct)}]"


def _share(v: dict) -> dict:
    """A share's interval clipped to [0, 1] (a t-interval over few seeds may cross the bounds)."""
    return {k: min(max(x, 0.0), 1.0) if math.isfinite(x) else x for k, x in v.items()}


def _headers(b: ScenarioBoard) -> list[str]:
    cols = [t.format(short=b.short, long=b.long, control=b.control) for _, t in COLUMNS]
    return ["#", "ranker", "seeds", *cols, "p50 µs/row", "p99 µs/row"]


def _rows(b: ScenarioBoard) -> list[list[str]]:
    out = []
    for i, r in enumerate(b.rows, 1):
        name = r["ranker"] + {"control": " (control)", "random": " (score 0)"}.get(r["role"], "")
        vals = [_cell(_share(r[k]) if k == "retention_long" else r[k], pct=k == "retention_long") for k, _ in COLUMNS]
        if r["role"] == "control":
            vals[2] = "reference"
        out.append([str(i), name, str(r["seeds"]), *vals, f"{r['latency_p50_us']:.1f}", f"{r['latency_p99_us']:.1f}"])
    return out


def _overall_rows(board: Board) -> list[list[str]]:
    out = []
    for i, r in enumerate(board.overall, 1):
        nxt = r.get("improvement_over_next")
        p = f"{_cell({'mean': nxt['p'], **nxt})} over {nxt['over']}" if nxt else "—"
        out.append([str(i), r["ranker"], str(r["scenarios"]), _cell({"mean": r["iqm"], **r}), p])
    return out


OVERALL_HEADERS = ["#", "ranker", "scenarios", "IQM of normalised LTV [95%]", "P(better than the next) [95%]"]


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _flags(b: ScenarioBoard) -> list[str]:
    verdict = {True: "significant at both horizons", False: "not significant at one horizon or both"}
    return [
        f"ranking reverses: {a} is ahead of {c} on value {b.short}d but behind on LTV {b.long}d ({verdict[sig]})"
        for a, c, sig in b.disagreements
    ]


HOW_TO_READ = (
    "Intervals are 95%: across seeds (t, S - 1 df) for absolute figures; for incrementality, across seeds of the "
    "per-seed mean paired difference between twin worlds (same shoppers, same draws). Normalised LTV puts the "
    "`random` ranker at 0 and the best-known policy of the scenario (the highest mean on this board, not an oracle) "
    "at 1. The overall IQM pools every scenario's per-seed scores; its interval is a stratified bootstrap "
    "(seeds resampled within scenarios) with a t correction. See docs/LEADERBOARD.md."
)


def markdown(board: Board) -> str:
    """LEADERBOARD.md."""
    parts = [f"# Leaderboard\n\ncode version `{board.code_version}`. {HOW_TO_READ}\n", "## Overall\n"]
    parts.append(_md_table(OVERALL_HEADERS, _overall_rows(board)) + "\n")
    for b in board.scenarios:
        parts.append(f"## {b.scenario_id}\n\nseeds {', '.join(map(str, b.seeds))}; control `{b.control}`\n")
        parts.append(_md_table(_headers(b), _rows(b)) + "\n")
        parts += [f"- ! {f}" for f in _flags(b)] + ([""] if b.disagreements else [])
    return "\n".join(parts).rstrip() + "\n"


def _clean(x: object) -> object:
    """JSON-safe: NaN and infinities become null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "tolist"):
        return _clean(x.tolist())
    return x


def as_json(board: Board) -> str:
    """leaderboard.json: every number of the page (NaN as null)."""
    doc = {"code_version": board.code_version, "overall": board.overall, "scenarios": []}
    for b in board.scenarios:
        d = asdict(b)
        d["scores"] = {k: list(v) for k, v in b.scores.items()}
        d["flags"] = _flags(b)
        doc["scenarios"].append(d)
    return json.dumps(_clean(doc), indent=1, allow_nan=False) + "\n"


def _plot(b: ScenarioBoard) -> str:
    """LTV and value of every policy with their intervals, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 0.45 * len(b.rows) + 1.4))
    names = [r["ranker"] for r in b.rows][::-1]
    for ax, key, title in ((axes[0], "value_short", f"value {b.short}d"), (axes[1], "ltv_long", f"LTV {b.long}d")):
        vals = [r[key] for r in b.rows][::-1]
        mean = [v["mean"] for v in vals]
        err = [[m - v["low"] if math.isfinite(v["low"]) else 0 for m, v in zip(mean, vals, strict=True)],
               [v["high"] - m if math.isfinite(v["high"]) else 0 for m, v in zip(mean, vals, strict=True)]]  # fmt: skip
        ax.errorbar(mean, names, xerr=err, fmt="o", color="#4c72b0", capsize=3)  # points: no baseline to cut
        ax.set_title(title + " per shopper")
        ax.grid(axis="x", alpha=0.3)
    axes[1].set_yticklabels([])
    fig.suptitle(b.scenario_id)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _html_table(headers: list[str], rows: list[list[str]], cls: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}"
    "th{background:#f3f3f3}.flag{color:#a33}img{max-width:100%}"
)


def html_page(board: Board) -> str:
    """leaderboard.html: tables and inline plots, nothing loaded from elsewhere."""
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>basketgym leaderboard</title>'
        f"<style>{STYLE}</style></head><body><h1>basketgym leaderboard</h1>",
        f"<p>code version <code>{html.escape(board.code_version)}</code>. {html.escape(HOW_TO_READ)}</p>",
        "<h2>Overall</h2>" + _html_table(OVERALL_HEADERS, _overall_rows(board), "overall"),
    ]
    for b in board.scenarios:
        parts.append(f'<h2 id="{html.escape(b.scenario_id)}">{html.escape(b.scenario_id)}</h2>')
        parts.append(f"<p>seeds {', '.join(map(str, b.seeds))}; control <code>{html.escape(b.control)}</code></p>")
        parts.append(_html_table(_headers(b), _rows(b), "scenario"))
        parts += [f'<p class="flag">! {html.escape(f)}</p>' for f in _flags(b)]
        parts.append(f'<img alt="{html.escape(b.scenario_id)} value and LTV" src="data:image/png;base64,{_plot(b)}">')
    return "".join(parts) + "</body></html>\n"


def publish(board: Board, out: str | Path) -> list[Path]:
    """Write LEADERBOARD.md, leaderboard.json and leaderboard.html into ``out``; the paths written."""
    out = Path(out)
    files = [(out / "LEADERBOARD.md", markdown(board)), (out / "leaderboard.json", as_json(board)),
             (out / "leaderboard.html", html_page(board))]  # fmt: skip
    for path, text in files:
        write_text_atomic(text, path)
    return [p for p, _ in files]
