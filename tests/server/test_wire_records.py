"""tools/records.py: the tools' output models are derived from the engine's records, not declared a second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import pytest

from lifecycle.clv.customer_value import ClvSummary, SegmentValue
from lifecycle.clv.holdout_check import FrequencyGroup, HoldoutCheck, ModelCheck
from lifecycle.clv.order_models import FitReport
from lifecycle.doctor import TableReport
from lifecycle.facts import Fact
from lifecycle.health.score import ComponentExplanation, HealthExplanation, SignalExplanation
from lifecycle.health.summary import ComponentSummary, HealthCount, HealthSummary
from lifecycle.metrics.cohort_table import CohortTable
from lifecycle.stages.records import RuleCheck, StageVerdict
from prompts.grounding.records import ClaimCheck
from tools.classify_customer import Check, ClassifyCustomerResult
from tools.cohort_retention import CohortRetentionResult, CohortRow
from tools.describe_dataset import TableSummary
from tools.lifecycle_facts import FactOut
from tools.predict_clv import ClvSummaryOut, FitOut, HoldoutOut
from tools.records import wire_model
from tools.scope import ScopeOut
from tools.score_health import ComponentOut, CustomerHealth, ScopeHealthSummary, SignalOut
from tools.verify_plan import ClaimOut


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    code: Colour
    weight: float


@dataclass(frozen=True)
class Opaque:
    part: Missing  # type: ignore[name-defined]  # noqa: F821  # names nothing: deriving it fails


@dataclass(frozen=True)
class Holder:
    name: str
    opaque: Opaque


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


def test_a_type_given_for_the_wire_replaces_the_records_own_without_deriving_it() -> None:
    """``types`` is the wire's type: the record's annotation (here a dataclass whose own annotation names nothing that
    exists, so deriving it would fail) is not read."""
    with pytest.raises(NameError):
        wire_model(Holder)
    assert list(wire_model(Holder, types={"opaque": str}).model_fields) == ["name", "opaque"]


def test_a_scopes_health_summary_on_the_wire_is_the_engine_summary() -> None:
    summary = HealthSummary(3, 61.5, (HealthCount("red", 1), HealthCount("yellow", 0), HealthCount("green", 2)),
                            (HealthCount("healthy", 2),), (HealthCount("up", 1), HealthCount("flat", 1),
                                                           HealthCount("down", 0)),
                            (ComponentSummary("usage", 40.0, 55.0, 2), ComponentSummary("support", 20.0, None, 0)),
                            0.8, False, "a component has no data")
    wire = ScopeHealthSummary.of(summary).model_dump(mode="json")
    assert wire == {"customers": 3, "mean_health": 61.5,
                    "bands": [{"name": "red", "count": 1}, {"name": "yellow", "count": 0}, {"name": "green", "count": 2}],
                    "segments": [{"name": "healthy", "count": 2}],
                    "trends": [{"name": "up", "count": 1}, {"name": "flat", "count": 1}, {"name": "down", "count": 0}],
                    "components": [{"name": "usage", "weight": 40.0, "mean_score": 55.0, "most_impactful_for": 2},
                                   {"name": "support", "weight": 20.0, "mean_score": None, "most_impactful_for": 0}],
                    "coverage": 0.8, "bands_calibrated": False, "caveat": "a component has no data"}


def test_a_checked_claim_on_the_wire_is_the_verifiers_record_in_the_wires_order() -> None:
    record = ClaimCheck("104%", 1.04, "ratio", "current", "NRR is 104% [F:nrr].", ("nrr",), ("nrr",), "verified", "nrr",
                        None, "")
    wire = ClaimOut.of(record).model_dump(mode="json")
    assert wire == record.to_dict()
    assert list(wire) == ["text", "value", "unit", "kind", "status", "fact_id", "expected", "detail", "cited",
                          "subject", "sentence"]


def test_a_clv_fit_and_holdout_check_on_the_wire_are_the_engine_records_renamed_and_trimmed() -> None:
    fit = FitReport("bg_nbd", {"r": 0.24, "alpha": 4.41}, -9582.4, 2357, True, False, 0.0, 0.0, None)
    assert FitOut.of(fit).model_dump(mode="json") == {k: v for k, v in fit.to_dict().items()
                                                      if k not in ("penalizer", "log_penalizer")}
    group = FrequencyGroup("0", 1411, 0.24, {"bg_nbd": 0.21})
    model = ModelCheck("bg_nbd", fit, None, 1400.0, -0.02, (0.05), (1.0, 2.0))
    check = HoldoutCheck(date(2024, 1, 1), date(2024, 7, 1), date(2024, 12, 31), "given", "weeks", 26.0, 26.1, 2357,
                         600, 1432, (group,), (model,), "bg_nbd", "smallest error", (), ())
    assert HoldoutOut.of(check, calibration_end="2024-07-01").model_dump(mode="json") == {
        "calibration_end": "2024-07-01", "holdout_weeks": 26.1, "customers": 2357, "actual": 1432,
        "groups": [{"frequency": "0", "customers": 1411, "actual": 0.24, "predicted": {"bg_nbd": 0.21}}],
        "models": [{"model": "bg_nbd", "total_error": -0.02, "group_error": 0.05, "failure": None}],
        "chosen": "bg_nbd"}
    summary = ClvSummary(2357, 81234.5, {"p10": 0.1, "p50": None}, 310, (SegmentValue("champions", 120, 20345.1),))
    assert ClvSummaryOut.of(summary).model_dump(mode="json") == {
        "customers": 2357, "total_clv": 81234.5, "p_alive_quantiles": {"p10": 0.1, "p50": None}, "likely_lapsed": 310,
        "segments": [{"segment": "champions", "customers": 120, "clv": 20345.1}]}
