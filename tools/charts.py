"""PNG charts for the MCP tools (``chart: true`` → ImageContent): cohort heatmap, customers per stage, health components.

Thin adapters over :mod:`charts.lifecycle` — the same figures the HTML report embeds as SVG — rendered as PNG with
English labels, fixed size and no metadata, so the same result gives the same bytes. Matplotlib is loaded on the first
chart drawn, not when the server starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from charts.locale import NumberFormat

if TYPE_CHECKING:
    from lifecycle.metrics.cohorts import CohortTable

ENGLISH = NumberFormat("en")


def cohort_heatmap(table: CohortTable) -> bytes:
    """Every cohort of a retention triangle (rows, with sizes) by months since signup, in percent."""
    from charts.figure import to_png
    from charts.lifecycle import cohort_heatmap_chart

    title = f"Cohort retention — {table.mode}, {table.basis} (%)"
    return to_png(cohort_heatmap_chart(table.cohorts, table.sizes, table.values, ENGLISH, title, "months since signup"))


def stage_funnel(counts: Sequence[tuple[str, int]], title: str = "Customers by lifecycle stage") -> bytes:
    """Horizontal bars, one per stage in lifecycle order, labelled with count and share."""
    from charts.figure import to_png
    from charts.lifecycle import stage_counts_chart

    return to_png(stage_counts_chart(counts, ENGLISH, title))


def health_breakdown(components: Sequence[tuple[str, float | None, float]], total: float | None, title: str) -> bytes:
    """Bars of component scores (0–100) with their effective weights; the total score in the title."""
    from charts.figure import to_png
    from charts.lifecycle import health_components_chart

    heading = f"{title} — health {total:.0f}/100" if total is not None else title
    return to_png(health_components_chart(components, ENGLISH, heading))
