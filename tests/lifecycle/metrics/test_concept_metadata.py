"""A metric's metadata lives on its definition: the framework sections it feeds, its seed target band and the data it
requires. The views other modules read (``STAGE_SECTIONS``, ``TARGETS``, the doctor's capabilities) are derived."""

from __future__ import annotations

import sys
import types

import pytest

from lifecycle.facts import STAGE_SECTIONS, sections_of
from lifecycle.metrics import registry as registry_module
from lifecycle.metrics.registry import FRAMEWORK_SECTIONS, MetricDefinition, MetricGroup, registry
from lifecycle.metrics.results import Unit


def test_a_metric_feeds_the_sections_its_definition_declares_then_flow_then_measurement() -> None:
    """Seed 000: NRR belongs to growth & expansion; lifecycle completion (reaching advocacy) to loyalty & advocacy and
    it is a flow metric; ARR is a run-rate restatement of MRR that feeds no stage section of its own."""
    assert sections_of("nrr") == ("growth_expansion", "measurement")
    assert sections_of("lifecycle_completion_rate") == ("loyalty_advocacy", "flow", "measurement")
    assert sections_of("arr") == ("measurement",)


def test_the_stage_sections_view_is_the_definitions_grouped_by_section() -> None:
    assert tuple(STAGE_SECTIONS) == FRAMEWORK_SECTIONS
    for section, ids in STAGE_SECTIONS.items():
        assert ids == tuple(mid for mid, spec in registry().items() if section in spec.sections)


def test_every_stage_of_the_framework_is_fed_by_some_metric() -> None:
    assert all(STAGE_SECTIONS[section] for section in FRAMEWORK_SECTIONS)


def test_a_definition_naming_an_unknown_section_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("planted_metrics")
    module.DEFINITIONS = (MetricDefinition(  # type: ignore[attr-defined]
        id="planted", name="Planted", group=MetricGroup.FLOW, formula="1", unit=Unit.COUNT, numerator=None,
        denominator=None, required_tables=("customers",), source="test", compute=lambda dataset: None,  # type: ignore[arg-type, return-value]
        sections=("onboarding",)),)
    monkeypatch.setitem(sys.modules, "planted_metrics", module)
    monkeypatch.setattr(registry_module, "METRIC_MODULES", ("planted_metrics",))
    monkeypatch.setattr(registry_module, "_REGISTRY", None)
    with pytest.raises(RuntimeError, match="unknown framework section"):
        registry()
