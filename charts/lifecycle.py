"""The lifecycle charts. Each function takes engine results plus localised text and returns a figure (render it
with ``charts.figure.to_svg`` or ``to_png``). No computation beyond layout happens here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from charts.figure import (
    ACCENT,
    ACCENT_LIGHT,
    BAD,
    BANDS,
    GOOD,
    GRID,
    INK,
    MUTED,
    PALETTE,
    WARN,
    new_figure,
    set_title,
    styled,
)
from charts.locale import NumberFormat

HEAT = LinearSegmentedColormap.from_list("lifecycle", ["#f4f8fc", "#9cc3ea", "#0b6bcb", "#073d75"])


@dataclass(frozen=True)
class FunnelBar:
    """One funnel step: its label, how many reached it, the population (leads/customers), the conversion from the
    previous step (None for the first of the chart), and whether it is the bottleneck."""

    label: str
    reached: int
    population: str
    conversion: float | None = None
    bottleneck: bool = False


@styled
def stage_funnel_chart(bars: Sequence[FunnelBar], nf: NumberFormat, title: str, population_labels: dict[str, str],
                       bottleneck_label: str) -> Figure:
    """Centred horizontal bars, widest first: reached count at the bar, conversion from the step above on the right;
    lead steps light, customer steps dark, the bottleneck in amber with its label."""
    figure, axis = new_figure(640, 60 + 46 * max(1, len(bars)))
    peak = max((b.reached for b in bars), default=1) or 1
    for i, bar in enumerate(bars):
        colour = WARN if bar.bottleneck else (ACCENT_LIGHT if bar.population == "leads" else ACCENT)
        axis.barh(i, bar.reached, left=(peak - bar.reached) / 2, height=0.72, color=colour)
        axis.text(peak / 2, i, nf.count(bar.reached), ha="center", va="center", fontsize=10, fontweight="bold",
                  color=INK if bar.population == "leads" and not bar.bottleneck else "white")
        if bar.conversion is not None:
            axis.text(peak * 1.03, i - 0.5, "↓ " + nf.percent(bar.conversion), ha="left", va="center", fontsize=9, color=MUTED)
        if bar.bottleneck:
            axis.text(peak * 1.03, i, "◀ " + bottleneck_label, ha="left", va="center", fontsize=9, color=WARN, fontweight="bold")
    axis.set_yticks(range(len(bars)), [f"{b.label}\n{population_labels.get(b.population, b.population)}" for b in bars], fontsize=9)
    axis.invert_yaxis()
    axis.set_xlim(0, peak * 1.32)
    axis.set_xticks([])
    axis.spines[["left", "bottom"]].set_visible(False)
    axis.tick_params(axis="y", length=0)
    set_title(figure, title)
    return figure


@styled
def stage_flow_chart(counts: Sequence[Sequence[int]], rows: Sequence[str], columns: Sequence[str], nf: NumberFormat,
                     title: str, from_label: str, to_label: str) -> Figure:
    """Transition matrix between two dates: cell colour = share of the row, text = customers."""
    grid = np.array(counts, dtype=float)
    totals = grid.sum(axis=1, keepdims=True)
    share = np.divide(grid, totals, out=np.zeros_like(grid), where=totals > 0)
    figure, axis = new_figure(640, 90 + 34 * max(1, len(rows)))
    axis.imshow(share, cmap=HEAT, vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if value:
            axis.text(j, i, nf.count(value), ha="center", va="center", fontsize=9, color="white" if share[i, j] > 0.5 else INK)
    axis.set_xticks(range(len(columns)), columns, fontsize=9, rotation=20, ha="right")
    axis.set_yticks(range(len(rows)), rows, fontsize=9)
    axis.set_xlabel(to_label)
    axis.set_ylabel(from_label)
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_visible(False)
    set_title(figure, title)
    return figure


@styled
def mrr_bridge_chart(months: Sequence[str], parts: dict[str, Sequence[float]], labels: dict[str, str], net: Sequence[float],
                     nf: NumberFormat, title: str, net_label: str) -> Figure:
    """MRR movements per month: gains (new, expansion, reactivation) stacked up, losses (contraction, churn) down, and
    the net change as a line."""
    figure, axis = new_figure(760, 340)
    x = np.arange(len(months))
    colours = {"new": PALETTE[0], "expansion": PALETTE[2], "reactivation": PALETTE[4], "contraction": PALETTE[1], "churn": BAD}
    up = np.zeros(len(months))
    down = np.zeros(len(months))
    for key in ("new", "expansion", "reactivation", "contraction", "churn"):
        values = np.asarray(parts.get(key, [0.0] * len(months)), dtype=float)
        if key in ("contraction", "churn"):
            axis.bar(x, -values, bottom=down, color=colours[key], width=0.7, label=labels[key])
            down -= values
        else:
            axis.bar(x, values, bottom=up, color=colours[key], width=0.7, label=labels[key])
            up += values
    axis.plot(x, net, color=INK, marker="o", markersize=4, linewidth=1.5, label=net_label)
    axis.axhline(0, color=MUTED, linewidth=0.8)
    axis.set_xticks(x, months, fontsize=8, rotation=45, ha="right")
    ticks = axis.get_yticks()
    axis.set_yticks(ticks, [nf.compact_money(t) for t in ticks], fontsize=8)
    axis.grid(axis="y", color=GRID)
    axis.set_axisbelow(True)
    axis.legend(ncols=6, fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.18))
    set_title(figure, title)
    return figure


@styled
def cohort_heatmap_chart(cohorts: Sequence[str], sizes: Sequence[int], values: Sequence[Sequence[float | None]],
                         nf: NumberFormat, title: str, month_label: str, size_label: str = "n") -> Figure:
    """Every cohort (rows, with its size) by months since signup (columns): retained share, coloured and written."""
    width = max((len(row) for row in values), default=1)
    grid = np.full((len(values), width), np.nan)
    for i, row in enumerate(values):
        for k, value in enumerate(row):
            if value is not None:
                grid[i, k] = value
    figure, axis = new_figure(760, 80 + 17 * max(1, len(values)))
    top = 1.0 if not np.isfinite(grid).any() else max(1.0, float(np.nanmax(grid)))
    axis.imshow(np.ma.masked_invalid(grid), cmap=HEAT, vmin=0, vmax=top, aspect="auto", interpolation="nearest")
    small = 6.5 if width > 14 else 7.5
    for (i, k), value in np.ndenumerate(grid):
        if np.isfinite(value):
            axis.text(k, i, nf.number(value * 100, 0), ha="center", va="center", fontsize=small,
                      color="white" if value > 0.55 * top else INK)
    axis.set_yticks(range(len(cohorts)), [f"{c}  ({size_label}={nf.count(s)})" for c, s in zip(cohorts, sizes)], fontsize=7.5)
    axis.set_xticks(range(width), [str(k) for k in range(width)], fontsize=7.5)
    axis.xaxis.set_ticks_position("top")
    axis.xaxis.set_label_position("top")
    axis.set_xlabel(month_label)
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_visible(False)
    set_title(figure, title)
    return figure


@styled
def health_by_segment_chart(segments: Sequence[str], bands: dict[str, Sequence[int]], band_labels: dict[str, str],
                            nf: NumberFormat, title: str) -> Figure:
    """100 % stacked bars per segment: the share of its active customers in the red, yellow and green health bands."""
    counts = np.array([bands.get(b, [0] * len(segments)) for b in ("red", "yellow", "green")], dtype=float)
    totals = counts.sum(axis=0)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    figure, axis = new_figure(640, 80 + 38 * max(1, len(segments)))
    left = np.zeros(len(segments))
    for band, row in zip(("red", "yellow", "green"), shares):
        axis.barh(range(len(segments)), row, left=left, color=BANDS[band], height=0.66, label=band_labels[band])
        for i, value in enumerate(row):
            if value >= 0.07:
                axis.text(left[i] + value / 2, i, nf.percent(value, 0), ha="center", va="center", fontsize=8.5,
                          color="white" if band != "yellow" else INK)
        left += row
    axis.set_yticks(range(len(segments)), [f"{s} (n={nf.count(t)})" for s, t in zip(segments, totals)], fontsize=9)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xticks([])
    axis.spines[["left", "bottom"]].set_visible(False)
    axis.tick_params(axis="y", length=0)
    axis.legend(ncols=3, fontsize=8.5, loc="upper left", bbox_to_anchor=(0, 0))
    set_title(figure, title)
    return figure


@dataclass(frozen=True)
class DriverPoint:
    """A signal's association with a transition: difference in rates (with − without) and its 95 % interval."""

    label: str
    difference: float
    low: float | None
    high: float | None
    n: int


@styled
def driver_lift_chart(points: Sequence[DriverPoint], nf: NumberFormat, title: str, axis_label: str, caveat: str) -> Figure:
    """Forest plot: each signal's difference in transition rate (percentage points) with its 95 % interval."""
    figure, axis = new_figure(760, 90 + 34 * max(1, len(points)))
    for i, point in enumerate(points):
        colour = GOOD if point.difference >= 0 else BAD
        if point.low is not None and point.high is not None:
            axis.plot([point.low * 100, point.high * 100], [i, i], color=colour, linewidth=2.2, alpha=0.55, solid_capstyle="round")
        axis.plot(point.difference * 100, i, "o", color=colour, markersize=7)
        axis.text(point.difference * 100, i - 0.32, nf.points(point.difference), ha="center", va="bottom", fontsize=8, color=INK)
    axis.axvline(0, color=MUTED, linewidth=0.8)
    axis.set_yticks(range(len(points)), [f"{p.label} (n={nf.count(p.n)})" for p in points], fontsize=8.5)
    axis.invert_yaxis()
    axis.set_ylim(len(points) - 0.4, -0.8)
    axis.set_xlabel(axis_label)
    axis.grid(axis="x", color=GRID)
    axis.set_axisbelow(True)
    axis.tick_params(axis="y", length=0)
    axis.spines["left"].set_visible(False)
    set_title(figure, title)
    figure.text(0.01, 0.005, caveat, fontsize=8, color=MUTED, style="italic")
    return figure


@styled
def distribution_chart(values: Sequence[float], nf: NumberFormat, title: str, x_label: str, y_label: str, as_percent: bool,
                       bins: int = 20) -> Figure:
    """Histogram of a per-customer quantity (P(alive) as percent, or CLV as money) with its median marked."""
    data = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    figure, axis = new_figure(640, 300)
    if data.size:
        axis.hist(data, bins=bins, color=ACCENT, edgecolor="white")
        median = float(np.median(data))
        axis.axvline(median, color=WARN, linewidth=1.5)
        text = nf.percent(median) if as_percent else nf.money(median)
        axis.text(median, axis.get_ylim()[1] * 0.95, f" median {text}", color=WARN, fontsize=8.5, va="top")
    ticks = axis.get_xticks()
    axis.set_xticks(ticks, [nf.percent(t, 0) if as_percent else nf.compact_money(t) for t in ticks], fontsize=8)
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    axis.grid(axis="y", color=GRID)
    axis.set_axisbelow(True)
    set_title(figure, title)
    return figure


@styled
def stage_counts_chart(counts: Sequence[tuple[str, int]], nf: NumberFormat, title: str) -> Figure:
    """Horizontal bars, one per stage in lifecycle order, labelled with count and share of the total."""
    names = [name for name, _ in counts]
    values = np.array([value for _, value in counts], dtype=float)
    total = values.sum() or 1.0
    figure, axis = new_figure(640, 60 + 40 * max(1, len(names)))
    bars = axis.barh(range(len(names)), values, color=ACCENT, height=0.66)
    for bar, value in zip(bars, values):
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f"  {nf.count(value)} ({nf.percent(value / total, 0)})",
                  va="center", fontsize=9, color=INK)
    axis.invert_yaxis()
    axis.set_yticks(range(len(names)), names, fontsize=9)
    axis.set_xlim(0, max(values.max(initial=1) * 1.3, 1))
    axis.set_xticks([])
    axis.spines[["left", "bottom"]].set_visible(False)
    axis.tick_params(axis="y", length=0)
    set_title(figure, title)
    return figure


@styled
def health_components_chart(components: Sequence[tuple[str, float | None, float]], nf: NumberFormat, title: str,
                            no_data: str = "no data") -> Figure:
    """Bars of component scores (0–100) with their effective weights, coloured by band (≤ 50 red, ≤ 75 amber)."""
    names = [f"{name} ({weight:.0f}%)" for name, _, weight in components]
    scores = [score if score is not None else 0.0 for _, score, _ in components]
    colours = [GRID if s is None else (BAD if s <= 50 else WARN if s <= 75 else GOOD) for _, s, _ in components]
    figure, axis = new_figure(640, 60 + 40 * max(1, len(names)))
    axis.barh(range(len(names)), scores, color=colours, height=0.66)
    for i, (_, score, _) in enumerate(components):
        axis.text(min(scores[i], 100) + 1, i, no_data if score is None else nf.number(score, 0), va="center", fontsize=9)
    axis.invert_yaxis()
    axis.set_yticks(range(len(names)), names, fontsize=9)
    axis.set_xlim(0, 108)
    axis.spines[["left"]].set_visible(False)
    axis.tick_params(axis="y", length=0)
    set_title(figure, title)
    return figure
