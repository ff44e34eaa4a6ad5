"""The ranker comparison table: cells, intervals across seeds, missing metrics."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from basketgym.eval.reporting.text import SUMMARY_COLUMNS, format_summary_table


def per_seed_rows():
    base = {
        "margin": 250_000.0,
        "ad_revenue": 12_345.0,
        "orders_per_shopper": 4.5,
        "basket_size": 10.14,
        "reorder_rate": 0.5912,
        "retention_30d": 0.9,
        "retention_90d": 0.8,
        "retention_180d": 0.7,
        "ltv_180d": 1234.5,
    }
    rows = [
        {"ranker": "popularity", "seed": s, **base, "gtv": g}
        for s, g in enumerate([1_000_000.0, 1_100_000.0, 1_200_000.0])
    ]
    rows.append({"ranker": "buy_again", "seed": 0, **base, "gtv": 2_000_000.0})
    return pd.DataFrame(rows)


def test_summary_table_rows_columns_and_numbers():
    text = format_summary_table(per_seed_rows())
    lines = text.splitlines()
    assert lines[0].startswith("ranker") and "seeds" in lines[0]
    for col in SUMMARY_COLUMNS:
        assert col.label in lines[0]
    assert lines[2].startswith("popularity") and lines[3].startswith("buy_again")
    half = stats.t.ppf(0.975, 2) * 100_000 / math.sqrt(3)  # sd of the three GTVs is 100,000
    assert f"1,100,000 ± {half:,.0f}" in lines[2]
    assert "2,000,000" in lines[3] and "±" not in lines[3]  # one seed: no interval
    assert "250,000" in lines[2] and "12,345" in lines[2]
    assert "4.50 ± 0.00" in lines[2] and "10.14" in lines[3]
    assert "59.1% ± 0.0%" in lines[2] and "70.0%" in lines[3] and "1,234.50" in lines[3]
    assert lines[-1].startswith("± : half-width of the 95% t-interval")
    # a report that says once what ± is leaves the footnote out; the table is otherwise the same
    assert format_summary_table(per_seed_rows(), footnote=False) == "\n".join(lines[:-1])


def test_summary_table_is_fixed_width():
    lines = format_summary_table(per_seed_rows()).splitlines()[:4]
    assert len(lines[0]) == len(lines[1]) == len(lines[2])  # the single-seed row stops early
    gtv_end = lines[0].index("GTV") + len("GTV")
    assert lines[2][gtv_end - 1] != " " and lines[3][gtv_end - 1] == " "  # ± parts line up


def test_summary_table_marks_missing_metrics():
    df = per_seed_rows().drop(columns="retention_180d")
    df.loc[df["ranker"] == "buy_again", "ltv_180d"] = math.nan
    lines = format_summary_table(df).splitlines()
    assert lines[3].rstrip().endswith("—")
    assert lines[2].count("—") == 1 and lines[3].count("—") == 2


def test_summary_table_needs_the_ranker_column():
    with pytest.raises(ValueError, match="missing column 'ranker'"):
        format_summary_table(pd.DataFrame({"gtv": [1.0]}))
