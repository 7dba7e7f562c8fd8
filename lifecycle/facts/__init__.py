"""The fact bundle: every computed number a prompt or plan may cite, with a stable id, unit and display text.

The records (``fact``), the bundle (``bundle``) and the per-area fact sources (``sources``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lifecycle.lazy import exports
from lifecycle.metrics.registry import FRAMEWORK_SECTIONS, stage_sections

if TYPE_CHECKING:
    from lifecycle.facts.bundle import (
        build_facts,
        metric_facts,
        population_facts,
        sections_of,
    )
    from lifecycle.facts.fact import (
        CURRENCY_SYMBOLS,
        Fact,
        FactBundle,
        format_value,
    )
    from lifecycle.facts.sources import (
        CLV_SECTIONS,
        SOURCES,
        TOP_CLV_SEGMENTS,
        TOP_SIGNALS_PER_TRANSITION,
        clv_facts,
        customer_facts,
        driver_facts,
        engagement_by_stage_facts,
        health_and_risk_facts,
        stage_facts,
        top_at_risk,
    )

__all__ = [
    "CLV_SECTIONS",
    "CURRENCY_SYMBOLS",
    "FRAMEWORK_SECTIONS",
    "Fact",
    "FactBundle",
    "SOURCES",
    "STAGE_SECTIONS",
    "TOP_CLV_SEGMENTS",
    "TOP_SIGNALS_PER_TRANSITION",
    "build_facts",
    "clv_facts",
    "customer_facts",
    "driver_facts",
    "engagement_by_stage_facts",
    "format_value",
    "health_and_risk_facts",
    "metric_facts",
    "population_facts",
    "sections_of",
    "stage_facts",
    "top_at_risk",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (``lifecycle.lazy``). ``STAGE_SECTIONS``: which metrics
    feed which framework section, derived from the metric definitions on first use
    (``lifecycle.metrics.registry.stage_sections``), not at import."""
    if name == "STAGE_SECTIONS":
        return stage_sections()
    return _exported(name)


_exported, __dir__ = exports(__name__, {
    "bundle": ("build_facts", "metric_facts", "population_facts", "sections_of"),
    "fact": ("CURRENCY_SYMBOLS", "Fact", "FactBundle", "format_value"),
    "sources": ("CLV_SECTIONS", "SOURCES", "TOP_CLV_SEGMENTS", "TOP_SIGNALS_PER_TRANSITION", "clv_facts",
                "customer_facts", "driver_facts", "engagement_by_stage_facts", "health_and_risk_facts", "stage_facts", "top_at_risk"),
})
