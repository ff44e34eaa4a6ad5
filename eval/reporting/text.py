"""Number formats and fixed-width text tables: the run's summary tables and the table every report prints."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from basketgym.eval.outcomes.metrics import across_seeds

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


def _cells(mean: float, half: float, fmt: Callable[[float], str]) -> tuple[str, str]:
    """The mean text and the half-width text ('' when there is no interval)."""
    if math.isnan(mean):
        return MISSING, ""
    return fmt(mean), "" if math.isnan(half) else fmt(half)


def format_summary_table(df: pd.DataFrame, columns: Sequence[Column] = SUMMARY_COLUMNS, footnote: bool = True) -> str:
    """Fixed-width comparison table, one row per ranker, from per-seed summaries.

    ``df`` holds one row per (ranker, seed): a ``ranker`` column plus the ``summarize`` keys.
    A cell reads "mean ± half-width" of the 95% t-interval across seeds, or the value alone when
    there is one seed; a metric absent from the runs prints as "—". Rankers keep their order.
    ``footnote``: with several seeds, a last line saying what ± is (a report stating it once leaves it out).
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
    if footnote and any(int(s) > 1 for s in seeds):
        out.append(
            "± : half-width of the 95% t-interval across seeds (t with seeds - 1 df on the per-seed values;"
            " the between-seed SD is `std` in summary.json)"
        )
    return "\n".join(out)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A fixed-width table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        return "  ".join([first, *(str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])
