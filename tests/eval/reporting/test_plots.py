"""PNG figures of a run's results: written atomically, readable, warning-free, one colour per ranker."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.image import imread

from basketgym.eval.reporting import plots

pytestmark = pytest.mark.filterwarnings("error")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RANKERS = ["popularity", "random", "ltv"]


def make_curves(rankers=RANKERS, days=30, band=True, scale=1.0) -> pd.DataFrame:
    rows = []
    for i, name in enumerate(rankers):
        for d in range(days):
            mean = scale * np.exp(-d / (30.0 + 15 * i))
            half = 0.02 + 0.001 * d if band else np.nan
            rows.append({"ranker": name, "day": d, "mean": mean, "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(rows)


def make_ltv(rankers=RANKERS, days=30) -> pd.DataFrame:
    df = make_curves(rankers, days)
    df["mean"] = df["day"] * (0.8 + 0.1 * df.groupby("ranker", sort=False).ngroup())
    df["ci_low"], df["ci_high"] = df["mean"] * 0.9, df["mean"] * 1.1
    return df


def make_latency(rankers=RANKERS, surfaces=("home", "search"), n=300, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i, name in enumerate(rankers):
        for j, surface in enumerate(surfaces):
            seconds = rng.lognormal(np.log(2e-6 * (i + 1) * (j + 1)), 0.5, n)
            parts.append(pd.DataFrame({"ranker": name, "surface": surface, "seconds_per_row": seconds}))
    return pd.concat(parts, ignore_index=True)


WRITERS = {
    "retention": lambda df, path, **kw: plots.retention_curves(df, path, **kw),
    "ltv": lambda df, path, **kw: plots.cumulative_ltv(df, path, **kw),
    "incremental": lambda df, path, **kw: plots.incremental_margin(df, path, control="popularity", **kw),
    "latency": lambda df, path, **kw: plots.latency_distribution(df, path, **kw),
}
INPUTS = {
    "retention": make_curves,
    "ltv": make_ltv,
    "incremental": lambda: make_ltv().assign(mean=lambda d: d["mean"] - d["day"] * 0.85),
    "latency": make_latency,
}


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    height, width = imread(path).shape[:2]
    assert width > height


def leftovers(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def capture_figures(monkeypatch) -> list[Figure]:
    """Make the writers hand their figures over instead of saving them."""
    figures: list[Figure] = []

    def fake_save(fig: Figure, path):
        figures.append(fig)
        return Path(path)

    monkeypatch.setattr(plots, "_save", fake_save)
    return figures


def line_colors(fig: Figure) -> dict[str, str]:
    """Legend label (first line of it) -> colour of every labelled data line of the figure's only axes."""
    (ax,) = fig.axes
    return {
        line.get_label().split(" · ")[0]: to_hex(line.get_color())
        for line in ax.get_lines()
        if not line.get_label().startswith("_") and "(control)" not in line.get_label()
    }


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_writes_a_png_figure(tmp_path, kind):
    target = tmp_path / "figs" / f"{kind}.png"  # the directory is created on demand
    written = WRITERS[kind](INPUTS[kind](), target)
    assert written == target
    assert_png(target)
    assert leftovers(target.parent) == [f"{kind}.png"]


def test_accepts_a_string_path_and_replaces_an_old_file(tmp_path):
    target = tmp_path / "retention.png"
    target.write_bytes(b"old")
    written = plots.retention_curves(make_curves(), str(target))
    assert written == target
    assert_png(target)


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_missing_column_is_named_and_leaves_nothing_behind(tmp_path, kind):
    df = INPUTS[kind]()
    missing = "seconds_per_row" if kind == "latency" else "ci_high"
    with pytest.raises((KeyError, ValueError), match=missing):
        WRITERS[kind](df.drop(columns=[missing]), tmp_path / "out.png")
    assert leftovers(tmp_path) == []


def test_failing_save_leaves_no_temp_file_and_keeps_the_old_figure(tmp_path, monkeypatch):
    target = tmp_path / "ltv.png"
    plots.cumulative_ltv(make_ltv(), target)
    before = target.read_bytes()

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"half a png")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plots.cumulative_ltv(make_ltv(), target)
    assert leftovers(tmp_path) == ["ltv.png"]
    assert target.read_bytes() == before


@pytest.mark.parametrize("kind", sorted(WRITERS))
@pytest.mark.parametrize("empty", ["no_rows", "no_columns"])
def test_empty_input_gives_a_no_data_figure(tmp_path, monkeypatch, kind, empty):
    columns = plots.LATENCY_COLUMNS if kind == "latency" else plots.CURVE_COLUMNS
    df = pd.DataFrame(columns=list(columns)) if empty == "no_rows" else pd.DataFrame()
    figures = capture_figures(monkeypatch)
    WRITERS[kind](df, tmp_path / "out.png")
    (ax,) = figures[0].axes
    assert [t.get_text() for t in ax.texts] == ["no data"]
    assert ax.get_legend() is None


def test_no_data_figure_is_a_real_png(tmp_path):
    target = tmp_path / "latency.png"
    plots.latency_distribution(pd.DataFrame(columns=list(plots.LATENCY_COLUMNS)), target)
    data = target.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    height, width = imread(target).shape[:2]
    assert width > height


def test_ranker_colors_follow_first_appearance_and_overrides():
    assert plots.ranker_colors(["b", "a", "b", "c"]) == {
        "b": plots.PALETTE[0],
        "a": plots.PALETTE[1],
        "c": plots.PALETTE[2],
    }
    # an override replaces one colour without shifting the others
    assert plots.ranker_colors(["b", "a", "c"], {"a": "#000000"}) == {
        "b": plots.PALETTE[0],
        "a": "#000000",
        "c": plots.PALETTE[2],
    }
    many = plots.ranker_colors([f"r{i}" for i in range(len(plots.PALETTE) + 1)])
    assert many[f"r{len(plots.PALETTE)}"] == plots.PALETTE[0]  # the palette cycles


def test_same_ranker_same_colour_across_figures(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.retention_curves(make_curves(), tmp_path / "a.png")
    plots.cumulative_ltv(make_ltv(), tmp_path / "b.png")
    # the control is not drawn as a line here, yet keeps its slot: the others keep their colours
    plots.incremental_margin(make_ltv(RANKERS[1:]), tmp_path / "c.png", control="popularity")
    plots.latency_distribution(make_latency(), tmp_path / "d.png")
    expected = plots.ranker_colors(RANKERS)
    retention, ltv, incremental, latency = map(line_colors, figures)
    assert retention == expected
    assert ltv == expected
    assert incremental == {k: v for k, v in expected.items() if k != "popularity"}
    assert latency == expected
    zero_line = next(ln for ln in figures[2].axes[0].get_lines() if "(control)" in ln.get_label())
    assert to_hex(zero_line.get_color()) == expected["popularity"]
    assert list(zero_line.get_ydata()) == [0, 0]


def test_explicit_colors_are_used(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.retention_curves(make_curves(), tmp_path / "a.png", colors={"ltv": "#123456"})
    assert line_colors(figures[0])["ltv"] == "#123456"


def test_bands_and_their_absence(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.retention_curves(make_curves(), tmp_path / "a.png")
    plots.retention_curves(make_curves(band=False), tmp_path / "b.png")  # a single seed: NaN bounds
    partial = make_curves()
    partial.loc[partial["day"] < 5, ["ci_low", "ci_high"]] = np.nan
    plots.retention_curves(partial, tmp_path / "c.png")
    banded, bare, part = (fig.axes[0] for fig in figures)
    assert len(banded.collections) == len(RANKERS)
    assert len(bare.collections) == 0
    assert "95% confidence band" not in [t.get_text() for t in bare.get_legend().get_texts()]
    assert len(part.collections) == len(RANKERS)


def test_retention_axis_is_percent(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.retention_curves(make_curves(), tmp_path / "a.png", title="Retention, scenario X")
    ax = figures[0].axes[0]
    assert ax.get_title() == "Retention, scenario X"
    assert "%" in ax.get_ylabel()
    assert ax.yaxis.get_major_formatter().format_data(0.5).endswith("%")


def test_incremental_default_title_names_the_control(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.incremental_margin(INPUTS["incremental"](), tmp_path / "a.png", control="popularity")
    assert "popularity" in figures[0].axes[0].get_title()


def test_awkward_curves_draw_without_warnings(tmp_path):
    one_day = make_curves(days=1)
    plots.retention_curves(one_day, tmp_path / "one_day.png")
    unsorted = make_curves().sample(frac=1.0, random_state=0)
    unsorted["ranker"] = unsorted["ranker"].astype("category")
    plots.cumulative_ltv(unsorted, tmp_path / "unsorted.png")
    many = make_curves([f"ranker_{i}" for i in range(12)], days=10)
    plots.retention_curves(many, tmp_path / "many.png")
    only_control = make_curves(["popularity"]).assign(mean=0.0, ci_low=0.0, ci_high=0.0)
    plots.incremental_margin(only_control, tmp_path / "only_control.png", control="popularity")
    assert leftovers(tmp_path) == ["many.png", "one_day.png", "only_control.png", "unsorted.png"]


def test_long_legends_widen_the_figure_instead_of_overflowing(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.retention_curves(make_curves(days=3), tmp_path / "few.png")
    plots.retention_curves(make_curves([f"ranker_{i}" for i in range(20)], days=3), tmp_path / "many.png")
    plots.latency_distribution(make_latency([f"ranker_{i}" for i in range(10)], n=20), tmp_path / "lat.png")
    few, many, latency = figures
    assert tuple(few.get_size_inches()) == plots.FIGSIZE
    assert many.get_size_inches()[0] > plots.FIGSIZE[0]
    assert latency.get_size_inches()[0] > plots.FIGSIZE[0]
    for fig in figures:
        assert fig.get_size_inches()[1] == plots.FIGSIZE[1]
        fig.savefig(tmp_path / "check.png", format="png", dpi=plots.DPI)  # constrained layout fits: no warning


def test_one_day_has_whole_day_ticks(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    plots.retention_curves(make_curves(days=1), tmp_path / "a.png")
    ax = figures[0].axes[0]
    assert ax.get_xlim() == (-1.0, 1.0)
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_duplicate_days_are_refused(tmp_path):
    df = make_curves()
    with pytest.raises(ValueError, match="'random'.*day 3"):
        plots.retention_curves(pd.concat([df, df[(df["ranker"] == "random") & (df["day"] == 3)]]), tmp_path / "x.png")
    assert leftovers(tmp_path) == []


def test_latency_drops_non_positive_values_and_reports_quantiles(tmp_path, monkeypatch):
    figures = capture_figures(monkeypatch)
    us = np.arange(1, 101, dtype=float)  # 1..100 µs
    df = pd.DataFrame(
        {
            "ranker": "popularity",
            "surface": "home",
            "seconds_per_row": np.concatenate([us * 1e-6, [0.0, -1e-6, np.nan, np.inf]]),
        }
    )
    plots.latency_distribution(df, tmp_path / "a.png")
    ax = figures[0].axes[0]
    assert ax.get_xscale() == "log"
    assert "µs" in ax.get_xlabel()
    (label,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "popularity · home" in label
    assert f"p50 {np.quantile(us, 0.5):.3g} µs" in label
    assert f"p99 {np.quantile(us, 0.99):.3g} µs" in label
    lo, hi = ax.get_xlim()
    assert 0 < lo < 1 and hi > 100


def test_awkward_latency_draws_without_warnings(tmp_path, monkeypatch):
    single = pd.DataFrame({"ranker": ["a"], "surface": ["home"], "seconds_per_row": [5e-6]})
    plots.latency_distribution(single, tmp_path / "single.png")
    constant = pd.DataFrame({"ranker": "a", "surface": "search", "seconds_per_row": np.full(50, 3e-6)})
    plots.latency_distribution(constant, tmp_path / "constant.png")
    figures = capture_figures(monkeypatch)
    nonpositive = pd.DataFrame({"ranker": ["a", "b"], "surface": ["home", "home"], "seconds_per_row": [0.0, -1.0]})
    plots.latency_distribution(nonpositive, tmp_path / "nonpositive.png")
    assert [t.get_text() for t in figures[0].axes[0].texts] == ["no data"]
    big = make_latency(n=50_000)  # drawn through a thinned CDF
    plots.latency_distribution(big, tmp_path / "big.png")
    assert max(len(line.get_xdata()) for line in figures[1].axes[0].get_lines()) <= plots.ECDF_POINTS + 1
    many = make_latency([f"ranker_{i}" for i in range(10)], n=50)
    plots.latency_distribution(many, tmp_path / "many.png")
    for fig in figures[1:]:
        fig.savefig(tmp_path / "check.png", format="png", dpi=plots.DPI)  # layout and draw: no warnings


def test_thinned_ecdf_keeps_the_ends():
    us = np.sort(np.random.default_rng(1).lognormal(0, 1, 10_000))
    x, y = plots._ecdf_points(us)
    assert len(x) <= plots.ECDF_POINTS + 1
    assert (x[0], y[0]) == (us[0], 0.0)
    assert (x[-1], y[-1]) == (us[-1], 1.0)
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) > 0)
