"""Charts as PNG bytes, readable at chat size: cohort heatmap, stage funnel, health breakdown.

Pure presentation over engine results (no computation here beyond layout). Rendered with matplotlib's
Agg backend, fixed size and DPI, so the same result gives the same picture. Used by the MCP tools
(``chart: true`` → ImageContent) and by ``lifecycle plan`` documents.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lifecycle.metrics.cohorts import CohortTable  # noqa: E402

SIZE = (8.0, 5.0)
DPI = 100
_METADATA = {"Software": None}  # no matplotlib version string in the PNG: identical bytes across runs


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata=_METADATA)
    plt.close(figure)
    return buffer.getvalue()


def cohort_heatmap(table: CohortTable, max_months: int = 13) -> bytes:
    """Heatmap of a retention triangle: rows = signup-month cohorts (size in the label), columns = months since signup."""
    rows = table.values[-18:]
    labels = [f"{c} (n={s})" for c, s in zip(table.cohorts[-18:], table.sizes[-18:])]
    width = min(max_months, max((len(r) for r in rows), default=1))
    grid = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        for k, value in enumerate(row[:width]):
            if value is not None:
                grid[i, k] = value * 100
    figure, axis = plt.subplots(figsize=(SIZE[0], max(3.0, 0.32 * len(rows) + 1.5)))
    image = axis.imshow(grid, aspect="auto", cmap="YlGnBu", vmin=0, vmax=100 if table.basis == "logo" else max(100, np.nanmax(grid) if np.isfinite(grid).any() else 100))
    for (i, k), value in np.ndenumerate(grid):
        if np.isfinite(value):
            axis.text(k, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color="white" if value > 60 else "black")
    axis.set_yticks(range(len(labels)), labels, fontsize=7)
    axis.set_xticks(range(width), [str(k) for k in range(width)], fontsize=7)
    axis.set_xlabel("months since signup")
    axis.set_title(f"Cohort retention — {table.mode}, {table.basis} (%)")
    figure.colorbar(image, ax=axis, fraction=0.03, pad=0.02)
    return _png(figure)


def stage_funnel(counts: Sequence[tuple[str, int]], title: str = "Customers by lifecycle stage") -> bytes:
    """Horizontal bars, one per stage in lifecycle order, labelled with count and share."""
    names = [name for name, _ in counts]
    values = np.array([value for _, value in counts], dtype=float)
    total = values.sum() or 1.0
    figure, axis = plt.subplots(figsize=SIZE)
    bars = axis.barh(range(len(names)), values, color="#3b7dd8")
    axis.invert_yaxis()
    axis.set_yticks(range(len(names)), names)
    for bar, value in zip(bars, values):
        axis.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,.0f} ({value / total:.0%})", va="center", fontsize=9)
    axis.set_xlim(0, max(values.max(initial=1) * 1.25, 1))
    axis.set_title(title)
    axis.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def health_breakdown(components: Sequence[tuple[str, float | None, float]], total: float | None, title: str) -> bytes:
    """Bars of component scores (0–100) with their effective weights; the total score in the title."""
    names = [f"{name} ({weight:.0f}%)" for name, _, weight in components]
    scores = [score if score is not None else 0.0 for _, score, _ in components]
    colours = ["#bbbbbb" if score is None else ("#d9534f" if score <= 50 else "#f0ad4e" if score <= 75 else "#5cb85c")
               for _, score, _ in components]
    figure, axis = plt.subplots(figsize=SIZE)
    axis.barh(range(len(names)), scores, color=colours)
    axis.invert_yaxis()
    axis.set_yticks(range(len(names)), names)
    axis.set_xlim(0, 100)
    for i, (_, score, _) in enumerate(components):
        axis.text(min(scores[i], 100) + 1, i, "no data" if score is None else f"{score:.0f}", va="center", fontsize=9)
    axis.set_xlabel("component score (0–100)")
    axis.set_title(f"{title} — health {total:.0f}/100" if total is not None else title)
    axis.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def plan_charts(dataset: object) -> list:
    """Charts embedded in strategy documents: the stage funnel and the logo cohort-retention heatmap."""
    from lifecycle.metrics.cohorts import cohort_retention
    from prompts.documents import Chart

    charts = []
    counts = _stage_counts(dataset)
    if counts:
        charts.append(Chart("Customers by lifecycle stage", stage_funnel(counts)))
    table = cohort_retention(dataset, mode="recurring", basis="logo")  # type: ignore[arg-type]
    if table.cohorts:
        charts.append(Chart("Cohort retention (logo, recurring)", cohort_heatmap(table)))
    return charts


def _stage_counts(dataset: object) -> list[tuple[str, int]]:
    """Customers per lifecycle stage on as_of, in model order, then churned (from ``stage_distribution``)."""
    from lifecycle.stages import model_for, stage_distribution

    table = stage_distribution(dataset, model_for(dataset))  # type: ignore[arg-type]
    rows = table[table["population"] == "customers"]
    return [(str(row.name), int(row.count)) for row in rows.itertuples(index=False)]
