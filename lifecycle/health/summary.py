"""A scope's health at a glance: how many customers in each band, segment and trend, each component's mean score
and how often it is the one to fix first, and how far the bands can be trusted (``coverage_summary``).

``summarize_health(table)`` reads a ``HealthTable`` (``lifecycle.health.score.score_health``); its records are plain
dataclasses, so the MCP tool listing derives its output schema from them (``tools.records.wire_model``) without
loading pandas or NumPy, which this module imports only on the first summary (``lifecycle.lazy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.lazy import deferred_module
from lifecycle.metrics.results import finite_or_none

if TYPE_CHECKING:
    import numpy as np

    from lifecycle.health.score import HealthTable
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")

TRENDS = ("up", "flat", "down")


@dataclass(frozen=True)
class HealthCount:
    """How many scored customers have one value (a band, a segment, a trend)."""

    name: str
    count: int


@dataclass(frozen=True)
class ComponentSummary:
    """One component over the scope: its declared weight (percent), the mean of its scores over the customers who
    have one (``None`` when nobody has) and for how many customers it is the component to fix first."""

    name: str
    weight: float
    mean_score: float | None
    most_impactful_for: int


@dataclass(frozen=True)
class HealthSummary:
    """The health of a scope's scored customers (signed up by as_of, not churned).

    ``bands`` in the order red, yellow, green (every band, zero included); ``segments`` sorted by name (those present);
    ``trends`` up, flat, down (against the earlier snapshot); ``components`` in the profile's order; ``coverage`` the
    mean share of the profile's designed weight backed by data (0-1), ``bands_calibrated`` and ``caveat`` from
    ``lifecycle.health.score.coverage_summary``."""

    customers: int
    mean_health: float | None
    bands: tuple[HealthCount, ...]
    segments: tuple[HealthCount, ...]
    trends: tuple[HealthCount, ...]
    components: tuple[ComponentSummary, ...]
    coverage: float | None
    bands_calibrated: bool
    caveat: str | None


def _counts(series: Any, order: tuple[str, ...] | None = None) -> tuple[HealthCount, ...]:
    counts = series.astype("string").value_counts()
    names = list(order) if order else sorted(str(k) for k in counts.index)
    return tuple(HealthCount(name=n, count=int(counts.get(n, 0))) for n in names)


def summarize_health(table: HealthTable) -> HealthSummary:
    """The scope summary of ``table``: counts per band, segment and trend; per component the mean of the non-missing
    scores and the customers whose ``most_impactful`` component it is; the mean health (``None`` without customers)
    and the coverage figures of ``coverage_summary``."""
    from lifecycle.health.score import BANDS, coverage_summary

    frame = table.frame
    most = frame["most_impactful"].astype("string")
    components = tuple(
        ComponentSummary(name=c.name, weight=c.weight,
                         mean_score=finite_or_none(float(np.nanmean(table.components[c.name].to_numpy(dtype=float))))
                         if table.components[c.name].notna().any() else None,
                         most_impactful_for=int((most == c.name).sum()))
        for c in table.profile.components)
    coverage = coverage_summary(table)
    return HealthSummary(
        customers=len(frame), mean_health=finite_or_none(frame["health"].mean()) if len(frame) else None,
        bands=_counts(frame["band"], BANDS), segments=_counts(frame["segment"].dropna()),
        trends=_counts(frame["trend"].dropna(), TRENDS), components=components,
        coverage=coverage.mean, bands_calibrated=coverage.calibrated, caveat=coverage.caveat())


__all__ = ["TRENDS", "ComponentSummary", "HealthCount", "HealthSummary", "summarize_health"]
