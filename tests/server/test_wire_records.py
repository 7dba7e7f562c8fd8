"""tools/records.py: the tools' output models are derived from the engine's records, not declared a second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import pytest

from lifecycle.doctor import TableReport
from lifecycle.facts import Fact
from lifecycle.health.score import ComponentExplanation, HealthExplanation, SignalExplanation
from lifecycle.metrics.cohort_table import CohortTable
from lifecycle.stages.records import RuleCheck, StageVerdict
from tools.classify_customer import Check, ClassifyCustomerResult
from tools.cohort_retention import CohortRetentionResult, CohortRow
from tools.describe_dataset import TableSummary
from tools.lifecycle_facts import FactOut
from tools.records import wire_model
from tools.scope import ScopeOut
from tools.score_health import ComponentOut, CustomerHealth, SignalOut


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    code: Colour
    weight: float


@dataclass(frozen=True)
class Record:
    name: str
    day: date | None
    tags: tuple[str, ...]
    inner: tuple[Inner, ...]
    hidden: int = 0


def test_a_wire_model_has_the_records_fields_in_order_with_json_types() -> None:
    model = wire_model(Record, exclude=("hidden",), rename={"day": "on"}, descriptions={"on": "The day."})
    wire = model.of(Record("a", date(2024, 1, 31), ("x", "y"), (Inner(Colour.RED, 0.5),), hidden=7))
    assert list(model.model_fields) == ["name", "on", "tags", "inner"]
    assert wire.model_dump(mode="json") == {"name": "a", "on": "2024-01-31", "tags": ["x", "y"],
                                            "inner": [{"code": "red", "weight": 0.5}]}
    schema = model.model_json_schema()
    assert schema["properties"]["on"]["description"] == "The day."
    assert schema["properties"]["tags"]["type"] == "array"


def test_a_field_added_to_the_record_reaches_the_wire() -> None:
    @dataclass(frozen=True)
    class Grown(Record):
        added: float | None = None

    assert list(wire_model(Grown).model_fields)[-1] == "added"


def test_given_values_replace_what_the_record_holds() -> None:
    model = wire_model(Inner)
    assert model.of(Inner(Colour.RED, 0.5), weight=1.0).model_dump() == {"code": "red", "weight": 1.0}


@pytest.mark.parametrize("options", [{"exclude": ("colour",)}, {"rename": {"colour": "c"}}, {"descriptions": {"colour": "?"}}])
def test_a_name_matching_no_record_field_is_an_error(options: dict) -> None:
    """A field renamed in the engine must not silently vanish from the wire."""
    with pytest.raises(TypeError):
        wire_model(Inner, **options)


def test_the_fact_on_the_wire_is_the_engine_fact_without_its_interval_and_sample_flag() -> None:
    fact = Fact("nrr", "Net revenue retention", 1.04, "ratio", "104.0%", sample_size=12, sections=("growth_expansion",),
                interval=(0.9, 1.1), small_sample=True, quotes=("great",))
    expected = {k: v for k, v in fact.to_dict().items() if k not in ("interval", "small_sample")}
    assert FactOut.of(fact).model_dump(mode="json") == expected


def test_a_table_on_the_wire_names_its_dates_first_and_last_date() -> None:
    report = TableReport("events", 3, "occurred_at", date(2024, 1, 6), date(2024, 4, 30))
    assert TableSummary.of(report).model_dump(mode="json") == {
        "name": "events", "rows": 3, "time_column": "occurred_at", "first_date": "2024-01-06", "last_date": "2024-04-30"}


def test_an_order_must_name_every_wire_field_once() -> None:
    assert list(wire_model(Inner, order=("weight", "code")).model_fields) == ["weight", "code"]
    for order in (("weight",), ("weight", "code", "code"), ("weight", "colour")):
        with pytest.raises(TypeError):
            wire_model(Inner, order=order)


def test_a_customers_health_on_the_wire_is_the_engine_explanation_without_its_exclusions() -> None:
    """The engine's own JSON form (``HealthExplanation.to_dict``) minus ``excluded``, in the same key order."""
    signal = SignalExplanation("logins", "logins_30d", 12.0, 60.0, 100.0, 100.0, "linear: 0 at 0, 100 at 20")
    component = ComponentExplanation("usage", 60.0, 40.0, 100.0, 60.0, 40.0, (signal,))
    explanation = HealthExplanation("C1", 60.0, "yellow", "healthy", "Nurture", "usage", 70.0, -10.0, "down",
                                    (component,), profile="default", coverage=0.4)
    wire = CustomerHealth.of(explanation, headline=explanation.headline(), components=[
        ComponentOut.of(c, signals=[SignalOut.of(s) for s in c.signals]) for c in explanation.components])
    expected = {k: v for k, v in explanation.to_dict().items() if k != "excluded"}
    assert wire.model_dump(mode="json") == expected
    assert list(wire.model_dump(mode="json")) == list(expected)
    assert list(wire.model_dump(mode="json")["components"][0]) == list(expected["components"][0])


def test_a_stage_verdict_on_the_wire_is_the_engine_verdict_with_its_as_of_and_features() -> None:
    """The engine's own JSON form (``StageVerdict.to_dict``) after ``as_of``, then the features, in the same key order;
    a check of ``is_null`` (no threshold) sends ``value: null``."""
    verdict = StageVerdict("C1", "adoption", "Adoption", "adopt_core", "Uses the core feature.",
                           (RuleCheck("logins_30d", ">=", 4, 9.0), RuleCheck("churned_at", "is_null", None, None)),
                           ("at_risk",), ("at_risk_ticket",), 61.0, "at least (monthly checkpoints)", {"logins_30d": 9.0})
    wire = ClassifyCustomerResult.of(verdict, as_of="2024-04-30", checks=[Check.of(c) for c in verdict.checks],
                                     features=dict(verdict.features)).model_dump(mode="json")
    engine = verdict.to_dict()
    engine["checks"][1]["value"] = None
    engine["checks"][1] = {k: engine["checks"][1][k] for k in ("feature", "op", "value", "actual")}
    assert wire == {"as_of": "2024-04-30", **engine, "features": {"logins_30d": 9.0}}
    assert list(wire) == ["as_of", *engine, "features"]


def test_a_retention_triangle_on_the_wire_is_the_engine_table_row_by_row() -> None:
    """``CohortTable.to_dict`` without the period and as_of (the scope says them), after the scope."""
    table = CohortTable("recurring", "logo", "month", "subscriptions", date(2024, 3, 31), ("2024-01", "2024-02"),
                        (10, 5), ((1.0, 0.8, None), (1.0, None, None)), ((10.0, 8.0, None), (5.0, None, None)),
                        (10.0, 5.0), None)
    scope = ScopeOut(as_of=date(2024, 3, 31), as_of_inferred=False, period_start=date(2023, 4, 1),
                     period_end=date(2024, 3, 31), filters={})
    wire = CohortRetentionResult.of(table, scope=scope, rows=[CohortRow.of(r) for r in table.rows])
    expected = {k: v for k, v in table.to_dict().items() if k not in ("period", "as_of")}
    assert wire.model_dump(mode="json", exclude={"scope"}) == expected
    assert list(wire.model_dump(mode="json", exclude={"scope"})) == ["mode", "basis", "activity", "reason", "rows"]
