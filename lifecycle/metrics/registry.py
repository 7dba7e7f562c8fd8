"""The definitions registry: the single source of truth for every metric.

Each metric module in ``lifecycle/metrics/`` declares ``DEFINITIONS`` — ``MetricDefinition`` values with
the id, name, formula, unit, numerator, denominator, required tables, the target band from the seeds where
one exists, the source of the definition, and the function that computes it. This module gathers them.
Docs (``lifecycle metrics --markdown``), MCP resources and prompts read the registry; no formula is written
anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lifecycle.errors import QueryError
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result

if TYPE_CHECKING:
    from lifecycle.dataset import Dataset
    from lifecycle.facts.names import Names


class MetricGroup(StrEnum):
    """Where a metric sits in the lifecycle (the seed framework's measurement sections)."""

    ACQUISITION = "acquisition"
    ACTIVATION = "activation"
    RETENTION = "retention"
    REVENUE = "revenue"
    ORDERS = "orders"
    ADVOCACY = "advocacy"
    ENGAGEMENT = "engagement"
    FLOW = "flow"


@dataclass(frozen=True)
class MetricDefinition:
    """Everything there is to know about one metric, and how to compute it."""

    id: str
    name: str
    group: MetricGroup
    formula: str
    unit: Unit
    numerator: str | None
    denominator: str | None
    required_tables: tuple[str, ...]
    source: str
    compute: Callable[[Dataset], MetricResult]
    target: TargetBand | None = None
    higher_is_better: bool | None = True
    description: str = ""

    @property
    def names(self) -> Names:
        """What the metric is called in English, Russian and Chinese, with synonyms (``lifecycle.facts.names``)."""
        from lifecycle.facts.names import METRIC_NAMES

        return METRIC_NAMES[self.id]

    def target_for(self, dataset: Dataset) -> TargetBand | None:
        """The seed target band, replaced by the company's own band when configured."""
        override = dataset.config.target_override(self.id)
        if override is None:
            return self.target
        return TargetBand(override.low, override.high, source="company config")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready definition (no compute function)."""
        return {
            "id": self.id, "name": self.name, "group": self.group.value, "formula": self.formula,
            "unit": self.unit.value, "numerator": self.numerator, "denominator": self.denominator,
            "required_tables": list(self.required_tables), "source": self.source,
            "target": self.target.to_dict() if self.target else None,
            "target_text": self.target.describe(self.unit) if self.target else None,
            "higher_is_better": self.higher_is_better, "description": self.description,
        }


# Target bands quoted in the seeds (002: "Key Metrics" table; 004: activation 70% within 7 days).
SEED_002 = "seed 002 (Customer Lifecycle Marketer: Key Metrics)"
TARGETS: dict[str, TargetBand] = {
    "activation_rate": TargetBand(0.60, 0.80, SEED_002, open_ended_high=True),
    "time_to_value_days": TargetBand(None, 7.0, SEED_002),
    "nrr": TargetBand(1.00, 1.20, SEED_002, open_ended_high=True),
    "grr": TargetBand(0.85, 0.95, SEED_002, open_ended_high=True),
    "nps": TargetBand(30.0, 50.0, SEED_002, open_ended_high=True),
    "referral_rate": TargetBand(0.10, 0.30, SEED_002, open_ended_high=True),
}

METRIC_MODULES = (
    "lifecycle.metrics.funnel",
    "lifecycle.metrics.activation",
    "lifecycle.metrics.conversion",
    "lifecycle.metrics.retention",
    "lifecycle.metrics.revenue",
    "lifecycle.metrics.orders",
    "lifecycle.metrics.advocacy",
    "lifecycle.metrics.engagement",
    "lifecycle.metrics.flow",
)

_REGISTRY: dict[str, MetricDefinition] | None = None


def registry() -> dict[str, MetricDefinition]:
    """All metric definitions by id, in catalogue order."""
    global _REGISTRY
    if _REGISTRY is None:
        import importlib

        found: dict[str, MetricDefinition] = {}
        for module_name in METRIC_MODULES:
            module = importlib.import_module(module_name)
            for definition in getattr(module, "DEFINITIONS", ()):
                if definition.id in found:
                    raise RuntimeError(f"metric {definition.id!r} is defined twice")
                found[definition.id] = definition
        _REGISTRY = found
    return _REGISTRY


def metric_ids() -> tuple[str, ...]:
    """Every metric id, in catalogue order."""
    return tuple(registry())


def metric_ids_in(group: MetricGroup) -> tuple[str, ...]:
    """The ids of ``group``'s metrics, in catalogue order (e.g. the flow metrics: ``MetricGroup.FLOW``)."""
    return tuple(mid for mid, spec in registry().items() if spec.group is group)


def definition(metric_id: str) -> MetricDefinition:
    """The definition of ``metric_id``; ``QueryError`` listing valid ids when unknown."""
    try:
        return registry()[metric_id]
    except KeyError:
        raise QueryError(f"unknown metric {metric_id!r}; valid metrics: {', '.join(registry())}") from None


def compute_metric(dataset: Dataset, metric_id: str) -> MetricResult:
    """Compute one metric on ``dataset``; a metric whose tables are absent gives ``value=None`` with the reason."""
    spec = definition(metric_id)
    missing = [t for t in spec.required_tables if not dataset.has(t)]
    if missing:
        return missing_result(metric_id, spec.unit, dataset.scope,
                              f"needs table(s) {', '.join(missing)}, which the dataset does not have", spec.target_for(dataset))
    return spec.compute(dataset)


def compute_all(dataset: Dataset, metric_ids_: tuple[str, ...] | None = None) -> dict[str, MetricResult]:
    """Compute many metrics (default: the whole catalogue) on one dataset, sharing its loaded tables."""
    return {mid: compute_metric(dataset, mid) for mid in (metric_ids_ or metric_ids())}
