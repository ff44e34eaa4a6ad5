"""The run report as text: long-horizon value, reversals, incrementality, attribution, A/B tests and latency."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from basketgym.eval.reporting.text import MISSING, decimal, money_cents, percent, text_table


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


def _metric_label(metric: str) -> tuple[str, Callable[[float], str]]:
    name, _, h = metric.rpartition("_")
    label = {"contribution": "value", "ltv": "LTV", "retained": "retained"}.get(name, name)
    return f"{label} {h}", percent if name == "retained" else money_cents


# long: the report's sections in print order, sharing the interval columns chosen once (~120 lines)
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
            verdict = "not significant at one horizon or both"
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
