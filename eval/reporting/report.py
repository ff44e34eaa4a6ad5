"""Readable reports of run results: the ranker comparison table and atomic JSON summaries."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from basketgym.eval.offpolicy.diagnostics import MIN_ESS
from basketgym.eval.outcomes.metrics import across_seeds

from basketgym.contract.files import write_text_atomic

MISSING = "—"


def money(v: float) -> str:
    """Whole currency units with thousands separators: 1,234,568."""
    return f"{v:,.0f}"


def money_cents(v: float) -> str:
    """Currency with cents and thousands separators: 1,234.57."""
    return f"{v:,.2f}"


def percent(v: float) -> str:
    """A rate as a percentage with one decimal: 59.1%."""
    return f"{v:.1%}"


def decimal(v: float) -> str:
    """A plain number with two decimals: 10.14."""
    return f"{v:,.2f}"


@dataclass(frozen=True)
class Column:
    """One column of the summary table: its header, the metric key and how to print a value."""

    label: str
    key: str
    fmt: Callable[[float], str]


SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("GTV", "gtv", money),
    Column("margin", "margin", money),
    Column("ad revenue", "ad_revenue", money),
    Column("orders/shopper", "orders_per_shopper", decimal),
    Column("basket size", "basket_size", decimal),
    Column("reorder rate", "reorder_rate", percent),
    Column("retention 30d", "retention_30d", percent),
    Column("retention 90d", "retention_90d", percent),
    Column("retention 180d", "retention_180d", percent),
    Column("LTV 180d", "ltv_180d", money_cents),
)


def summary_tables(horizons: Sequence[int]) -> list[tuple[str, tuple[Column, ...]]]:
    """The run report for a scenario's horizons: (title, columns) of a value table and a behaviour table."""
    hs = sorted(horizons)
    value = (
        Column("GTV", "gtv_per_shopper", money_cents),
        Column("margin", "margin_per_shopper", money_cents),
        Column("ad revenue", "ad_revenue_per_shopper", money_cents),
        Column(f"value {hs[0]}d", f"contribution_{hs[0]}d", money_cents),
        Column(f"LTV {hs[-1]}d", f"ltv_{hs[-1]}d", money_cents),
    )
    behaviour = (
        Column("orders", "orders_per_shopper", decimal),
        Column("basket", "basket_size", decimal),
        Column("reorder", "reorder_rate", percent),
        Column("habit", "habit_index", percent),
        Column("catalog bought", "coverage_bought", percent),
        *(Column(f"retained {h}d", f"retention_{h}d", percent) for h in hs if h >= 30 or h == hs[-1]),
    )
    return [
        (
            f"value per shopper (value {hs[0]}d: margin + ad revenue in a shopper's first {hs[0]} days;"
            f" LTV {hs[-1]}d: the same over {hs[-1]} days, discounted)",
            value,
        ),
        (
            "behaviour (per shopper; reorder: share of lines bought before; habit: share of orders re-buying a"
            " staple; catalog bought: share of products bought at least once)",
            behaviour,
        ),
    ]


def summary_columns(horizons: Sequence[int]) -> tuple[Column, ...]:
    """All columns of the run report in one tuple (for a single wide table)."""
    return tuple(c for _, cols in summary_tables(horizons) for c in cols)


def _cells(mean: float, half: float, fmt: Callable[[float], str]) -> tuple[str, str]:
    """The mean text and the half-width text ('' when there is no interval)."""
    if math.isnan(mean):
        return MISSING, ""
    return fmt(mean), "" if math.isnan(half) else fmt(half)


def format_summary_table(df: pd.DataFrame, columns: Sequence[Column] = SUMMARY_COLUMNS) -> str:
    """Fixed-width comparison table, one row per ranker, from per-seed summaries.

    ``df`` holds one row per (ranker, seed): a ``ranker`` column plus the ``summarize`` keys.
    A cell reads "mean ± half-width" of the 95% t-interval across seeds, or the value alone when
    there is one seed; a metric absent from the runs prints as "—". Rankers keep their order.
    """
    if "ranker" not in df.columns:
        raise ValueError(f"summary frame: missing column 'ranker' (has: {', '.join(df.columns)})")
    body: list[list[tuple[str, str]]] = []
    names, seeds = [], []
    for ranker, group in df.groupby("ranker", sort=False):
        stats = across_seeds(group.drop(columns="ranker").to_dict("records"))
        names.append(str(ranker))
        seeds.append(str(len(group)))
        row = []
        for col in columns:
            if col.key in stats.index:
                row.append(_cells(stats.at[col.key, "mean"], stats.at[col.key, "half_width"], col.fmt))
            else:
                row.append((MISSING, ""))
        body.append(row)

    header = ["ranker", "seeds", *(c.label for c in columns)]
    text_rows = [[n, s] for n, s in zip(names, seeds, strict=True)]
    widths = [max([len(header[0]), *map(len, names)]), max([len(header[1]), *map(len, seeds)])]
    for j in range(len(columns)):
        mean_w = max((len(r[j][0]) for r in body), default=0)
        half_w = max((len(r[j][1]) for r in body), default=0)
        for i, r in enumerate(body):
            mean_txt, half_txt = r[j]
            cell = mean_txt.rjust(mean_w)
            if half_w:
                cell += f" ± {half_txt.rjust(half_w)}" if half_txt else " " * (half_w + 3)
            text_rows[i].append(cell)
        widths.append(max([len(header[j + 2]), *(len(t[j + 2]) for t in text_rows)]))

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in text_rows)]
    if any(int(s) > 1 for s in seeds):
        out.append(
            "± : half-width of the 95% t-interval across seeds (t with seeds - 1 df on the per-seed values;"
            " the between-seed SD is `std` in summary.json)"
        )
    return "\n".join(out)


def _plain(obj: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays to Python, NaN and infinities to null."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json_atomic(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON beside ``path`` and rename it into place (no torn files).

    NaN and infinities become null (strict JSON); numpy values become plain numbers.
    """
    write_text_atomic(json.dumps(_plain(obj), indent=2, allow_nan=False, ensure_ascii=False) + "\n", path)


# ---- the long-horizon report (eval.reporting.analysis) ---------------------------------------------------


def _ci(mean: float, low: float, high: float, fmt: Callable[[float], str], sign: bool = False) -> str:
    """``mean [low, high]`` (the interval omitted when it is not available)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return MISSING
    head = ("+" if sign and mean > 0 else "") + fmt(mean)
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return head
    return f"{head} [{fmt(low)}, {fmt(high)}]"


def _sd(v: float, fmt: Callable[[float], str]) -> str:
    return MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else fmt(v)


def _interval_note(seeds: Sequence[int], paired: bool = False) -> str:
    """What the brackets of the analysis tables are: across seeds, or (one seed) over shoppers only."""
    if len(seeds) < 2:
        return "one seed: no between-seed interval exists; brackets: 95% bootstrap over this world's shoppers only"
    what = "per-seed paired means" if paired else "per-seed means"
    return f"95% t-intervals across {len(seeds)} seeds of the {what}, {len(seeds) - 1} df"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A fixed-width table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        return "  ".join([first, *(str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _metric_label(metric: str) -> tuple[str, Callable[[float], str]]:
    name, _, h = metric.rpartition("_")
    label = {"contribution": "value", "ltv": "LTV", "retained": "retained"}.get(name, name)
    return f"{label} {h}", percent if name == "retained" else money_cents


def format_analysis(a: Any) -> str:
    """The long-horizon report of an ``eval.reporting.analysis.Analysis`` as text."""
    out = []
    one_seed = len(a.seeds) < 2
    lo_col, hi_col = ("shoppers_ci_low", "shoppers_ci_high") if one_seed else ("ci_low", "ci_high")
    lh = a.long_horizon
    metrics = list(dict.fromkeys(lh["metric"]))
    rows, sd_rows = [], []
    for r in a.rankers:
        g = lh[lh["ranker"] == r].set_index("metric")
        rows.append([r, *(_ci(g.at[m, "mean"], g.at[m, lo_col], g.at[m, hi_col], _metric_label(m)[1])
                          for m in metrics)])  # fmt: skip
        sd_rows.append([r, *(_sd(g.at[m, "seed_sd"], _metric_label(m)[1]) for m in metrics)])
    out += [
        f"long-horizon value per shopper (value: margin + ad revenue; LTV discounted; {_interval_note(a.seeds)})",
        text_table(["ranker", *(_metric_label(m)[0] for m in metrics)], rows),
    ]
    if not one_seed:
        out += [
            "between-seed SD of the per-seed means (the spread of worlds behind the intervals above)",
            text_table(["ranker", *(_metric_label(m)[0] for m in metrics)], sd_rows),
        ]
    for rev in a.reversals:
        if one_seed:
            verdict = "one seed: not testable (no between-seed interval)"
        elif rev["significant"]:
            verdict = "significant at both horizons"
        else:
            verdict = "not significant at both horizons"
        short, long = rev["short"].split("_")[-1], rev["long"].split("_")[-1]
        out.append(
            f"! ranking reverses: {rev['ahead_short']} is ahead of {rev['ahead_long']} over {short}"
            f" (+{rev['short_gap']:.2f}/shopper) but behind over {long}"
            f" ({-rev['long_gap']:+.2f} LTV/shopper): {verdict}"
        )
    if not a.reversals:
        out.append("no ranking reverses between the short and the long horizon")

    inc = a.incremental
    cols = list(dict.fromkeys(inc["metric"]))
    rows = []
    for r in dict.fromkeys(inc["ranker"]):
        g = inc[inc["ranker"] == r].set_index("metric")
        if r == a.control:  # the reference row (its difference with itself is 0 by construction: no evidence)
            rows.append([f"{r} (the control)", *(["reference"] + [""] * (len(cols) - 1))])
            continue
        fmts = [percent if c.startswith("retained") else decimal if c == "orders" else money_cents for c in cols]
        rows.append([r, *(_ci(g.at[c, "mean"], g.at[c, lo_col], g.at[c, hi_col], f, sign=True)
                          for c, f in zip(cols, fmts, strict=True))])  # fmt: skip
    labels = [c.replace("_", " ").replace("retained", "retained").replace("ltv", "LTV") for c in cols]
    out += [
        "",
        f"incrementality over the control '{a.control}' per shopper (twin worlds: same shoppers, same draws; "
        f"{_interval_note(a.seeds, paired=True)})",
        text_table(["ranker", *labels], rows),
    ]

    if len(a.attribution):
        for r in dict.fromkeys(a.attribution["ranker"]):
            g = a.attribution[a.attribution["ranker"] == r]
            rows = [[p, _ci(m, lo, hi, money_cents, sign=True)]
                    for p, m, lo, hi in zip(g["part"], g["mean"], g[lo_col], g[hi_col], strict=True)]  # fmt: skip
            out += [
                "",
                f"incremental GTV per shopper of {r} by surface (ablation worlds: the control serves that surface;"
                " ads: no sponsored items)",
                text_table(["part", "GTV"], rows),
            ]

    if a.experiments:
        ex = a.cfg.experiment
        rows = []
        for e in a.experiments:
            seq = e.sequential
            first = "—" if seq.first_rejection < 0 else f"day {seq.first_rejection + 1}"
            rows.append([
                str(e.seed), f"{e.n_treatment:,}/{e.n_control:,}",
                _ci(e.welch.estimate, e.welch.ci_low, e.welch.ci_high, money_cents, sign=True),
                _ci(e.lift.estimate, e.lift.ci_low, e.lift.ci_high, percent, sign=True),
                _ci(e.cuped.estimate, e.cuped.ci_low, e.cuped.ci_high, money_cents, sign=True),
                f"{e.srm_p:.2f}", f"{first}; [{seq.ci_low[-1]:+.2f}, {seq.ci_high[-1]:+.2f}]",
                _ci(e.truth, e.truth_low, e.truth_high, money_cents, sign=True), "yes" if e.covered else "no",
                f"{e.width_ratio:.2f}",
            ])  # fmt: skip
        out += [
            "",
            f"simulated A/B test: {ex.treatment} vs {a.control}, days {ex.start_day}-{ex.start_day + ex.days - 1}, "
            f"{ex.share:.0%} of shoppers treated, {ex.metric} per shopper over the test",
            text_table(
                [
                    "seed",
                    "T/C",
                    "A/B diff (Welch)",
                    "lift",
                    "CUPED",
                    "SRM p",
                    "sequential (reject; final CS)",
                    "twin-world truth",
                    "covers",
                    "twin/AB width",
                ],
                rows,
            ),  # fmt: skip
        ]

    lat = a.latency
    if len(lat):
        rows = [[r.ranker, r.surface, str(r.candidates), f"{r.calls:,}", f"{r.rows:,}", f"{r.p50_us_per_row:.2f}",
                 f"{r.p95_us_per_row:.2f}", f"{r.p99_us_per_row:.2f}", f"{r.p99_ms_per_call:.1f}"]
                for r in lat.itertuples()]  # fmt: skip
        out += [
            "",
            "ranker latency (every call timed; per request row in µs, rows weighted; p99 of a batched call in ms)",
            text_table(["ranker", "surface", "candidates", "calls", "rows", "p50", "p95", "p99", "p99/call"], rows),
        ]
    if a.plots:
        out += ["", "plots: " + ", ".join(f"plots/{p.name}" for p in a.plots)]
    return "\n".join(out)


def format_ope(r: Any) -> str:
    """An ``eval.offpolicy.grading.OPEReport`` as text: every estimator against the truth."""

    def block(title: str, results: Sequence[Any], truth: float, logged: float, deployed: float,
              weights: Callable[[str], Any]) -> list[str]:  # fmt: skip
        rows, flagged = [], {}
        for e in results:
            rel = (e.value - truth) / truth if truth else math.nan
            covers = "yes" if e.ci_low <= truth <= e.ci_high else "no"
            w = weights(e.estimator)
            ess = "—" if w is None else f"{w.ess:,.1f}"
            if w is not None and w.unsupported:
                flagged.setdefault(w, []).append(e.estimator)
            rows.append([e.estimator, f"{e.value:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}]", f"{rel:+.1%}", covers, ess])
        out = [
            "",
            f"{title}: truth {truth:.4f} (the target's slates in the logged contexts, same draws); logging policy"
            f" {logged:.4f}; target deployed in a twin world {deployed:.4f}",
            text_table(["estimator", "estimate [95% CI]", "rel. error", "covers truth", "ESS"], rows),
        ]
        for w, names in flagged.items():
            why = []
            if w.few_effective:
                why.append(f"ESS {w.ess:,.1f} of {w.n:,} rounds, below {MIN_ESS:.0f}")
            if w.missing_mass:
                why.append(f"mean weight {w.mean_weight:.3f} ± {w.mean_weight_se:.3f}, not 1: part of the target's"
                           " slates are ones the logging policy (almost) never shows")  # fmt: skip
            out.append(
                f"! {', '.join(names)}: unsupported target ({w.weights} weights: {'; '.join(why)}): these estimates"
                " and their intervals do not describe the target"
            )
        return out

    def diagnostics(ws: Sequence[Any]) -> list[str]:
        rows = [[w.weights, f"{w.support:,} of {w.n:,}", f"{w.max_weight:,.1f}", f"{w.ess:,.1f}",
                 MISSING if math.isnan(w.top1_share) else percent(w.top1_share),
                 f"{w.mean_weight:.3f} ± {w.mean_weight_se:.3f}"] for w in ws]  # fmt: skip
        return [
            "",
            "importance weights (target / logging probability; ESS: Kish effective sample size (sum w)^2 / sum w^2;"
            " top 1%: share of the total weight on the heaviest 1% of rounds; mean: 1 in expectation when the log"
            " covers the target, ± its se over shoppers)",
            text_table(["weights", "weight > 0", "max weight", "ESS", "top 1%", "mean weight"], rows),
        ]

    top_w, slate_w = getattr(r, "top_slot_weights", None), getattr(r, "slate_weights", {}) or {}
    out = [f"off-policy evaluation of '{r.target}' from {r.n_slates:,} slates logged by '{r.logging}' (seed {r.seed});"
           f" 95% intervals: bootstrap over {getattr(r, 'shoppers', 0):,} shoppers (a shopper's slates resampled"
           " together)"]  # fmt: skip
    out += block("top slot (action: the item at position 0; reward: a click on it)", r.top_slot,
                 r.truth_top_slot, r.logging_value_top_slot, r.deployed_top_slot,
                 lambda e: None if e == "dm" else top_w)  # fmt: skip
    out.append(
        f"(the same contexts' expected top-slot clicks, analytic from the shoppers' states: {r.expected_top_slot:.4f})"
    )
    out += block("slate (action: the whole slate; reward: items chosen from it)", r.slate, r.truth_slate,
                 r.logging_value_slate, r.deployed_slate, slate_w.get)  # fmt: skip
    if top_w is not None:
        out += diagnostics([top_w, *dict.fromkeys(slate_w.values())])
    out += [
        "",
        f"what session-level OPE cannot see: '{r.target}' changes LTV over {r.ltv_horizon} days by "
        f"{r.ltv_effect:+.2f} per shopper against the logging policy's base ranker (twin worlds)",
    ]
    return "\n".join(out)
