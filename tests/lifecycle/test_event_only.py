"""Event-only data (a clickstream: customers and events, no subscriptions or orders) is read as a product-analytics
lifecycle: growth-accounting stages, activity health, and no confident zeros for signals the data does not carry.

The fixture, as_of 2024-06-30 (whole days since each event in brackets):
- n1: signed up 06-20; view, cart on 06-21 (9)                       → new (first active < 30 days ago)
- c1: cart 05-15 (46), purchase 05-16 (45), views 06-25, 06-26 (5, 4) → current (active this month and last)
- r1: cart 02-01, purchase 02-20 (> 90), view 06-28 (2)               → resurrected (back after > 30 days away)
- a1: cart 05-20 10:00 (41), purchase 05-27 09:00 (34)                → at_risk (silent 30–59 days)
- d1: view 04-20 (71)                                                 → dormant (silent 60+ days)
- z1: signed up 05-01, never active (tenure 60)                       → dormant (never active)
- x1: view 02-10 (141)                                                → churned (silent ≥ activity.churn_after_days = 90)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lifecycle.config import ConversionConfig, EngineConfig
from lifecycle.facts import build_facts
from lifecycle.metrics.registry import compute_all, compute_metric
from lifecycle.snapshot import build_snapshot
from lifecycle.stages import model_for, stage_distribution
from tests.builders import customers, make_dataset

AS_OF = "2024-06-30"


def _ev(customer: str, when: str, name: str) -> dict[str, str]:
    return {"event_id": f"{customer}-{when}-{name}", "customer_id": customer, "occurred_at": when, "event_name": name}


def tables() -> dict[str, list[dict[str, object]]]:
    return {
        "customers": customers(("n1", "2024-06-20"), ("c1", "2024-01-10"), ("r1", "2024-01-10"), ("a1", "2024-03-01"),
                               ("d1", "2024-03-01"), ("z1", "2024-05-01"), ("x1", "2024-01-05")),
        "events": [
            _ev("n1", "2024-06-21T10:00:00", "view"), _ev("n1", "2024-06-21T10:05:00", "cart"),
            _ev("c1", "2024-05-15T10:00:00", "cart"), _ev("c1", "2024-05-16T10:00:00", "purchase"),
            _ev("c1", "2024-06-25T10:00:00", "view"), _ev("c1", "2024-06-26T10:00:00", "view"),
            _ev("r1", "2024-02-01T10:00:00", "cart"), _ev("r1", "2024-02-20T10:00:00", "purchase"),
            _ev("r1", "2024-06-28T10:00:00", "view"),
            _ev("a1", "2024-05-20T10:00:00", "cart"), _ev("a1", "2024-05-27T09:00:00", "purchase"),
            _ev("d1", "2024-04-20T10:00:00", "view"),
            _ev("x1", "2024-02-10T10:00:00", "view"),
        ],
    }


@pytest.fixture()
def dataset(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_dataset(tmp_path, tables(), AS_OF)


def test_auto_models_read_event_only_data_as_growth_accounting(dataset) -> None:  # type: ignore[no-untyped-def]
    assert dataset.models.stages == "activity" and dataset.models.health == "activity"
    assert model_for(dataset).id == "activity"


def test_an_explicit_model_overrides_auto(tmp_path: Path) -> None:
    config = EngineConfig(models=replace(EngineConfig().models, stages="default"))
    assert make_dataset(tmp_path, tables(), AS_OF, config=config).models.stages == "default"


def test_every_customer_gets_a_growth_accounting_stage(dataset) -> None:  # type: ignore[no-untyped-def]
    table = stage_distribution(dataset)
    counts = {row.stage: row.count for row in table.itertuples() if row.population == "customers" and row.count}
    assert counts == {"new": 1, "current": 1, "resurrected": 1, "at_risk": 1, "dormant": 2, "churned": 1}


def test_churned_is_no_activity_for_churn_after_days(dataset) -> None:  # type: ignore[no-untyped-def]
    """x1's last event 2024-02-10 + 90 days = 2024-05-10 ≤ as_of; z1 signed up 05-01 + 90 = 07-30 > as_of."""
    snap = build_snapshot(dataset).set_index("customer_id")
    assert snap["churned"].astype(bool).to_dict() == {"a1": False, "c1": False, "d1": False, "n1": False, "r1": False,
                                                      "x1": True, "z1": False}
    assert str(snap.loc["x1", "churned_at"].date()) == "2024-05-10"


def test_absent_value_event_gives_none_with_what_is_missing_what_exists_and_the_key(dataset) -> None:  # type: ignore[no-untyped-def]
    """Counts: view 6, cart 4, purchase 3 — the reason lists them most frequent first."""
    for metric in ("activation_rate", "time_to_value_days"):
        result = compute_metric(dataset, metric)
        assert result.value is None
        assert "activation.value_event 'report_created' never occurs" in result.reason
        assert "view (6), cart (4), purchase (3)" in result.reason
    onboarding = compute_metric(dataset, "onboarding_completion_rate")
    assert onboarding.value is None and "activation.onboarding_event" in onboarding.reason
    for metric in ("early_feature_adoption", "feature_adoption_rate"):
        result = compute_metric(dataset, metric)
        assert result.value is None and "activation.core_features" in result.reason


def test_no_metric_reports_zero_where_its_signal_is_absent(dataset) -> None:  # type: ignore[no-untyped-def]
    """Only activity-based metrics may be numbers here; none of them can be a confident 0 on this data."""
    results = compute_all(dataset)
    zeros = {k for k, r in results.items() if r.value == 0}
    assert not zeros & {"activation_rate", "time_to_value_days", "onboarding_completion_rate", "early_feature_adoption",
                        "feature_adoption_rate", "event_conversion_rate", "mrr", "nrr", "logo_churn_rate"}


def test_event_conversion_counts_b_within_the_window_after_the_first_a(tmp_path: Path) -> None:
    """cart → purchase within 7 days. Eligible (first cart in the period, ≥ 7 days before as_of): c1, r1, a1, n1
    (06-21 < 06-24). Converted: c1 (1 day), a1 (6 d 23 h); not r1 (19 days) nor n1 (none): 2 of 4."""
    config = EngineConfig(conversion=ConversionConfig(from_event="cart", to_event="purchase", within_days=7))
    result = compute_metric(make_dataset(tmp_path, tables(), AS_OF, config=config), "event_conversion_rate")
    assert (result.numerator, result.denominator, result.value) == (2.0, 4.0, 0.5)
    assert result.interval is not None and result.interval[0] < 0.5 < result.interval[1]
    assert result.small_sample


def test_event_conversion_unset_says_which_keys_to_set(dataset) -> None:  # type: ignore[no-untyped-def]
    result = compute_metric(dataset, "event_conversion_rate")
    assert result.value is None and "conversion.from_event" in result.reason and "view (6)" in result.reason


def test_facts_never_report_zero_for_an_absent_signal_and_label_risk_counts_exactly(dataset) -> None:  # type: ignore[no-untyped-def]
    """At-risk reasons on this data: a1 (usage 2 → 0 events: usage_drop; silent 34 days: no_recent_activity), d1
    (silent 71 days) and z1 (never active in 60 days: no_recent_activity). x1 is churned and not scored; n1, c1, r1
    were active in the last 30 days. So 3 customers have a reason."""
    facts = build_facts(dataset).by_id()
    assert facts["risk.customers"].value == 3.0
    assert facts["risk.value_at_stake"].value is None and "no revenue data" in facts["risk.value_at_stake"].note
    for fact_id in ("activation_rate", "onboarding_completion_rate", "early_feature_adoption", "feature_adoption_rate"):
        assert facts[fact_id].value is None and facts[fact_id].display == "no data"
    assert not [f.id for f in facts.values() if f.unit == "money" and f.value == 0]
    assert facts["health.coverage.mean"].value is not None and facts["health.coverage.mean"].value > 0.5
