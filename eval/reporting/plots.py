"""Matplotlib figures of a run's results (retention, LTV, incremental margin, latency), written atomically as PNG."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from basketgym.contract.files import atomic_path

# Matplotlib's "tab10": ranker i (in order of first appearance) gets PALETTE[i % 10].
PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
CURVE_COLUMNS = ("ranker", "day", "mean", "ci_low", "ci_high")
LATENCY_COLUMNS = ("ranker", "surface", "seconds_per_row")
FIGSIZE = (9.0, 5.0)  # inches; at DPI this is 990 x 550 pixels
DPI = 110
BAND_ALPHA = 0.2
SURFACE_STYLES = ("-", "--", ":", "-.")  # latency: line style by surface, colour by ranker
ECDF_POINTS = 2000  # a latency CDF over more rows is drawn through this many of its points
_BAND_LABEL = "95% confidence band"


def ranker_colors(names: Iterable[str], colors: Mapping[str, str] | None = None) -> dict[str, str]:
    """Colour of each distinct ranker in ``names``: ``colors[name]`` if given, else PALETTE by first appearance.

    An override does not shift the others: the i-th distinct name gets ``PALETTE[i % len(PALETTE)]`` unless overridden.
    """
    colors = colors or {}
    return {name: colors.get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(dict.fromkeys(map(str, names)))}


def retention_curves(
    curves: pd.DataFrame, path: str | Path, *, title: str = "Retention", colors: dict[str, str] | None = None
) -> Path:
    """Share of shoppers still active by day, one line per ranker with its 95% band.

    ``curves`` columns: ranker (str), day (int), mean, ci_low, ci_high (shares in [0, 1]). Y axis as percent.
    """
    fig = _curve_figure(
        curves,
        title=title,
        xlabel="Day of the run",
        ylabel="Shoppers still active (%)",
        colors=colors,
        percent=True,
        what="retention curves",
    )
    return _save(fig, path)


def cumulative_ltv(
    curves: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "Cumulative LTV per shopper",
    colors: dict[str, str] | None = None,
) -> Path:
    """Cumulative discounted contribution per shopper over days since the start, one line + band per ranker.

    Same columns as retention_curves (values in currency units).
    """
    fig = _curve_figure(
        curves,
        title=title,
        xlabel="Days since the start",
        ylabel="Discounted contribution per shopper\n(currency units, cumulative)",
        colors=colors,
        what="cumulative LTV curves",
    )
    return _save(fig, path)


def incremental_margin(
    curves: pd.DataFrame,
    path: str | Path,
    *,
    control: str,
    title: str | None = None,
    colors: dict[str, str] | None = None,
) -> Path:
    """Cumulative incremental margin per shopper versus the control ranker (twin worlds), one line + band per ranker.

    Same columns as retention_curves (values = policy minus control), with a horizontal zero line in the control's
    colour. Rows of the control itself (identically zero) are not drawn, but the control keeps the first colour slot,
    so the other rankers get the same colours as in figures where the control is listed first.
    """
    if title is None:
        title = f"Cumulative incremental margin per shopper vs {control}"
    fig = _curve_figure(
        curves,
        title=title,
        xlabel="Days since the start",
        ylabel=f"Margin per shopper minus {control}\n(currency units, cumulative)",
        colors=colors,
        control=str(control),
        what="incremental margin curves",
    )
    return _save(fig, path)


def latency_distribution(
    latency: pd.DataFrame, path: str | Path, *, title: str = "Ranker latency", colors: dict[str, str] | None = None
) -> Path:
    """Distribution of per-row ranking latency per ranker and surface: an empirical CDF on a log-scaled µs axis.

    ``latency`` columns: ranker (str), surface (str, e.g. 'home' / 'search'), seconds_per_row (float). One line per
    (ranker, surface): colour by ranker, line style by surface; p50 and p99 are marked on each line and listed in the
    legend. Non-positive and non-finite latencies are dropped before plotting.
    """
    fig = _latency_figure(latency, title=title, colors=colors)
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------------------------------


def _checked(df: pd.DataFrame, wanted: tuple[str, ...], what: str) -> pd.DataFrame | None:
    """``df`` with its columns checked, or None for a frame without any columns (``pd.DataFrame()``: no data)."""
    if len(df.columns) == 0:
        return None
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns))
        names = ", ".join(f"'{c}'" for c in missing)
        raise ValueError(f"{what}: missing column {names} (has: {have})")
    return df


def _new_figure(title: str) -> tuple[Figure, Axes]:
    """A figure with one styled axes, on the Agg canvas (no display, not registered with pyplot)."""
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.grid(True, alpha=0.3, linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _no_data(ax: Axes) -> None:
    """Mark an axes as having nothing to show."""
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", fontsize=14, color="0.4")
    ax.set_axis_off()


def _legend(fig: Figure, ax: Axes, handles: list, *, max_rows: int, column_width: float, **kwargs: object) -> None:
    """Legend to the right of the axes (never over the data; explicit ``loc``, so no slow 'best' search).

    Past ``max_rows`` entries it takes more columns and the figure widens by ``column_width`` inches per extra column,
    so that the legend fits at the figure's height and the plot keeps its size.
    """
    ncols = -(-len(handles) // max_rows)
    if ncols > 1:
        fig.set_size_inches(FIGSIZE[0] + column_width * (ncols - 1), FIGSIZE[1])
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, ncols=ncols, **kwargs)


def _curve_figure(
    curves: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    colors: Mapping[str, str] | None,
    what: str,
    percent: bool = False,
    control: str | None = None,
) -> Figure:
    """Line + 95% band per ranker of a (ranker, day, mean, ci_low, ci_high) frame."""
    df = _checked(curves, CURVE_COLUMNS, what)
    fig, ax = _new_figure(title)
    rankers = [] if df is None else list(pd.unique(df["ranker"].astype(str)))
    palette = ranker_colors(([control] if control is not None else []) + rankers, colors)

    handles: list = []
    banded = False
    if df is not None and len(df):
        data = pd.DataFrame({"ranker": df["ranker"].astype(str)})
        for c in CURVE_COLUMNS[1:]:
            data[c] = pd.to_numeric(df[c], errors="raise").astype(float)
        data = data[np.isfinite(data["day"]) & np.isfinite(data["mean"])]
        dup = data.duplicated(["ranker", "day"])
        if dup.any():
            r, d = data.loc[dup, ["ranker", "day"]].iloc[0]
            raise ValueError(f"{what}: ranker '{r}' has more than one row for day {d:g}")
        for name in rankers:
            if name == control:
                continue
            g = data[data["ranker"] == name].sort_values("day")
            if g.empty:
                continue
            x, y = g["day"].to_numpy(), g["mean"].to_numpy()
            lo, hi = g["ci_low"].to_numpy(), g["ci_high"].to_numpy()
            color = palette[name]
            (line,) = ax.plot(x, y, color=color, linewidth=1.8, label=name, marker="o" if len(x) == 1 else None)
            handles.append(line)
            ok = np.isfinite(lo) & np.isfinite(hi)
            if ok.sum() >= 2:  # a single seed has NaN bounds: the line alone
                ax.fill_between(
                    x, np.where(ok, lo, y), np.where(ok, hi, y), where=ok, color=color, alpha=BAND_ALPHA, linewidth=0
                )
                banded = True

    if not handles:
        _no_data(ax)
        return fig
    if control is not None:
        handles.append(
            ax.axhline(0.0, color=palette[control], linestyle="--", linewidth=1.2, label=f"{control} (control)")
        )
    if banded:
        handles.append(Patch(facecolor="0.5", alpha=BAND_ALPHA, label=_BAND_LABEL))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    first, last = data["day"].min(), data["day"].max()
    if last - first < 2:  # one or two days: whole-day ticks need some room
        ax.set_xlim(first - 1, last + 1)
    if percent:
        ax.set_ylim(0.0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    _legend(fig, ax, handles, max_rows=16, column_width=1.8)
    return fig


def _ecdf_points(us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step vertices of the empirical CDF of sorted ``us`` (thinned to about ECDF_POINTS), starting at 0."""
    n = len(us)
    idx = np.unique(np.linspace(0, n - 1, min(n, ECDF_POINTS)).round().astype(np.int64))
    x = np.concatenate([us[:1], us[idx]])
    y = np.concatenate([[0.0], (idx + 1) / n])
    return x, y


def _latency_figure(latency: pd.DataFrame, *, title: str, colors: Mapping[str, str] | None) -> Figure:
    """Empirical CDF per (ranker, surface) of per-row latency in microseconds, log x."""
    df = _checked(latency, LATENCY_COLUMNS, "latency")
    groups: list[tuple[str, str, np.ndarray]] = []
    rankers: list[str] = []
    if df is not None and len(df):
        data = pd.DataFrame(
            {
                "ranker": df["ranker"].astype(str),
                "surface": df["surface"].astype(str),
                "us": pd.to_numeric(df["seconds_per_row"], errors="raise").astype(float) * 1e6,
            }
        )
        rankers = list(pd.unique(data["ranker"]))
        data = data[np.isfinite(data["us"]) & (data["us"] > 0)]
        for (name, surface), g in data.groupby(["ranker", "surface"], sort=False):
            groups.append((name, surface, np.sort(g["us"].to_numpy())))
    palette = ranker_colors(rankers, colors)
    surfaces = list(dict.fromkeys(s for _, s, _ in groups))
    styles = {s: SURFACE_STYLES[i % len(SURFACE_STYLES)] for i, s in enumerate(surfaces)}

    fig, ax = _new_figure(title)
    if not groups:
        _no_data(ax)
        return fig
    handles = []
    for name, surface, us in groups:
        color = palette[name]
        p50, p99 = np.quantile(us, [0.5, 0.99])
        x, y = _ecdf_points(us)
        label = f"{name} · {surface}\np50 {p50:.3g} µs · p99 {p99:.3g} µs"
        (line,) = ax.step(x, y, where="post", color=color, linestyle=styles[surface], linewidth=1.6, label=label)
        handles.append(line)
        ax.plot([p50, p99], [0.5, 0.99], linestyle="none", marker="o", markersize=5, color=color)
    for q, text, dy, va in ((0.5, "p50", 2, "bottom"), (0.99, "p99", -2, "top")):
        ax.axhline(q, color="0.6", linewidth=0.8, linestyle=":")
        ax.annotate(
            text,
            (0.0, q),
            xycoords=("axes fraction", "data"),
            xytext=(3, dy),
            textcoords="offset points",
            fontsize=8,
            color="0.4",
            va=va,
        )
    ax.set_xscale("log")
    lo = min(us[0] for _, _, us in groups)
    hi = max(us[-1] for _, _, us in groups)
    ax.set_xlim(lo / 1.5, hi * 1.5)  # also keeps a single distinct value from giving a singular axis
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlabel("Latency per request row (µs, log scale)")
    ax.set_ylabel("Request rows at or below (%)")
    _legend(fig, ax, handles, max_rows=9, column_width=2.3, fontsize="small", labelspacing=0.9)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return path


def reliability_diagram(
    curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]], path: str | Path, *, title: str = "Reliability"
) -> Path:
    """One panel per task: mean outcome against mean prediction per bin, one line per model, the diagonal.

    ``curves[task][model] = (predicted, observed)`` bin means (``eval.stats.reliability.reliability``).
    """
    tasks = list(curves)
    fig = Figure(figsize=(4.2 * max(len(tasks), 1), 4.2))
    FigureCanvasAgg(fig)
    models = ranker_colors(m for per in curves.values() for m in per)
    for i, task in enumerate(tasks):
        ax = fig.add_subplot(1, len(tasks), i + 1)
        top = max([0.05] + [float(np.max(np.r_[p, o])) for p, o in curves[task].values() if len(p)])
        ax.plot([0, top], [0, top], color="#999999", lw=1, ls="--", label="perfect")
        for model, (pred, obs) in curves[task].items():
            ax.plot(pred, obs, marker="o", ms=3, color=models[model], label=model)
        ax.set_title(task)
        ax.set_xlabel("mean predicted probability")
        if i == 0:
            ax.set_ylabel("mean true probability")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def gain_curves(curves: Mapping[str, np.ndarray], path: str | Path, *, title: str = "Uplift (gain) curves",
                ylabel: str = "cumulative true effect") -> Path:  # fmt: skip
    """Cumulative effect of the top share of units by each scorer's order (``eval.uplift.metrics.gain_curve``)."""
    fig = Figure(figsize=FIGSIZE)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colors = ranker_colors(curves)
    for name, c in curves.items():
        x = np.linspace(0.0, 1.0, len(c))
        ax.plot(x, c, color=colors[name], lw=1.5, label=name, ls="--" if name in ("random", "oracle") else "-")
    ax.set_xlabel("share of units targeted (highest score first)")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
