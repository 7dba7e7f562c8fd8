"""The fact bundle: every computed number a prompt or plan may cite, with a stable id, unit and display text.

The records (``fact``), the bundle (``bundle``) and the per-area fact sources (``sources``).
"""

from lifecycle.facts.bundle import (
    STAGE_SECTIONS,
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
    FRAMEWORK_SECTIONS,
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
