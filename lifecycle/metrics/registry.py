"""The definitions registry: the single source of truth for every metric.

Each metric module in ``lifecycle/metrics/`` declares ``DEFINITIONS`` — ``MetricDefinition`` values with
the id, name, formula, unit, numerator, denominator, required tables, the target band from the seeds where
one exists, the framework sections it feeds, the source of the definition, and the function that computes it.
This module gathers them. Docs (``lifecycle metrics --markdown``), MCP resources and prompts read the registry;
no formula is written anywhere else, and the views by concept — ``targets()`` (``TARGETS``), ``stage_sections()``
(``lifecycle.facts.STAGE_SECTIONS``), ``metric_ids_in(MetricGroup.FLOW)`` and the doctor's table requirements
(``lifecycle.doctor.CAPABILITIES``) — are derived from the definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lifecycle.errors import QueryError
from lifecycle.memo import remember
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result

if TYPE_CHECKING:
    from lifecycle.dataset import Dataset
    from lifecycle.facts.names import Names


FRAMEWORK_SECTIONS: tuple[str, ...] = ("awareness", "evaluation", "purchase_onboarding", "adoption", "growth_expansion",
                                       "loyalty_advocacy")
"""The six stage sections of the seed framework (000), in lifecycle order; a metric's ``sections`` name those it feeds."""

SEED_002 = "seed 002 (Customer Lifecycle Marketer: Key Metrics)"
"""Where the target bands quoted on the definitions come from (002: "Key Metrics" table; 004: activation 70% in 7 days)."""


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
    """Everything there is to know about one metric, and how to compute it.

    ``target`` is the seed's band (``None`` when the seeds quote none); ``sections`` the stage sections of the seed
    framework (``FRAMEWORK_SECTIONS``) whose facts the metric feeds; ``required_tables`` the tables without which it is
    ``None`` with a reason (``compute_metric``) and the doctor calls its capability not computable; ``required_values``
    the ``table.column`` values without which the doctor calls it not computable (e.g. CAC without acquisition costs).
    """

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
    sections: tuple[str, ...] = ()
    required_values: tuple[str, ...] = ()

    @property
    def requirements(self) -> tuple[str, ...]:
        """What the data must hold for the metric, as the doctor checks it: each required table (rows), except that a
        ``table.column`` of ``required_values`` (a non-empty value in that column) replaces its table."""
        valued = {need.partition(".")[0] for need in self.required_values}
        return tuple(t for t in self.required_tables if t not in valued) + self.required_values

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
                unknown = set(definition.sections) - set(FRAMEWORK_SECTIONS)
                if unknown:
                    raise RuntimeError(f"metric {definition.id!r} names unknown framework section(s) {sorted(unknown)}")
                found[definition.id] = definition
        _REGISTRY = found
    return _REGISTRY


def metric_ids() -> tuple[str, ...]:
    """Every metric id, in catalogue order."""
    return tuple(registry())


def metric_ids_in(group: MetricGroup) -> tuple[str, ...]:
    """The ids of ``group``'s metrics, in catalogue order (e.g. the flow metrics: ``MetricGroup.FLOW``)."""
    return tuple(mid for mid, spec in registry().items() if spec.group is group)


def targets() -> dict[str, TargetBand]:
    """The seed target band of every metric that declares one, by id in catalogue order (the ``TARGETS`` view)."""
    return {mid: spec.target for mid, spec in registry().items() if spec.target is not None}


def stage_sections() -> dict[str, tuple[str, ...]]:
    """Framework section → the ids of the metrics that feed it (``MetricDefinition.sections``), sections in
    ``FRAMEWORK_SECTIONS`` order and ids in catalogue order."""
    return {section: tuple(mid for mid, spec in registry().items() if section in spec.sections)
            for section in FRAMEWORK_SECTIONS}


def __getattr__(name: str) -> Any:
    """``TARGETS``: the derived view ``targets()``, kept for importers of the old table."""
    if name == "TARGETS":
        return targets()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def definition(metric_id: str) -> MetricDefinition:
    """The definition of ``metric_id``; ``QueryError`` listing valid ids when unknown."""
    try:
        return registry()[metric_id]
    except KeyError:
        raise QueryError(f"unknown metric {metric_id!r}; valid metrics: {', '.join(registry())}") from None


def compute_metric(dataset: Dataset, metric_id: str) -> MetricResult:
    """Compute one metric on ``dataset``; a metric whose tables are absent gives ``value=None`` with the reason."""
    spec = definition(metric_id)

    def compute() -> MetricResult:
        missing = [t for t in spec.required_tables if not dataset.has(t)]
        if missing:
            return missing_result(metric_id, spec.unit, dataset.scope,
                                  f"needs table(s) {', '.join(missing)}, which the dataset does not have", spec.target_for(dataset))
        return spec.compute(dataset)

    key = dataset.memo_key("metric", metric_id)  # data identity, scope, configuration: one result for good
    return compute() if key is None else remember(key, compute)


def compute_all(dataset: Dataset, metric_ids_: tuple[str, ...] | None = None) -> dict[str, MetricResult]:
    """Compute many metrics (default: the whole catalogue) on one dataset, sharing its loaded tables."""
    return {mid: compute_metric(dataset, mid) for mid in (metric_ids_ or metric_ids())}
