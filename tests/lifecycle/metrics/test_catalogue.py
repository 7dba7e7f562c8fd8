"""Contract of the catalogue modules written here: complete definitions, seed targets, and determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.metrics.registry import TARGETS, compute_metric, registry
from lifecycle.schema import TABLES
from tests.lifecycle.metrics import (
    test_activation,
    test_advocacy,
    test_engagement,
    test_funnel,
    test_orders,
    test_retention,
)
from tests.lifecycle.metrics.stores import open_at, quick_store

MODULES = ("lifecycle.metrics.funnel", "lifecycle.metrics.activation", "lifecycle.metrics.retention",
           "lifecycle.metrics.orders", "lifecycle.metrics.advocacy", "lifecycle.metrics.engagement")
OWN = {mid: spec for mid, spec in registry().items() if spec.compute.__module__ in MODULES}


def test_the_catalogue_holds_every_promised_metric() -> None:
    expected = {
        "lead_to_mql_rate", "mql_to_sql_rate", "sql_to_customer_rate", "lead_to_customer_rate", "conversion_by_channel", "cac",
        "time_to_convert_days", "activation_rate", "time_to_value_days", "onboarding_completion_rate", "early_feature_adoption",
        "stickiness", "feature_adoption_rate", "logo_churn_rate", "retention_30d", "retention_60d", "retention_90d",
        "median_tenure_days", "repeat_purchase_rate", "purchase_frequency", "average_order_value", "nps", "nps_promoter_share",
        "nps_detractor_share", "referral_rate", "referral_conversion_rate", "advocacy_generation_rate", "email_open_rate",
        "email_click_rate", "click_to_open_rate",
    }
    assert expected <= set(OWN)


@pytest.mark.parametrize("metric_id", sorted(OWN))
def test_every_definition_is_documented_and_names_real_tables(metric_id: str) -> None:
    spec = OWN[metric_id]
    assert spec.name and spec.formula and spec.source and spec.description
    assert (spec.compute.__doc__ or "").strip(), "compute functions state their formula in a docstring"
    assert set(spec.required_tables) <= set(TABLES)


SEED_002_BANDS = {  # seed 002, "Key Metrics" table: Target column (percentages as fractions; "+" = open above)
    "activation_rate": (0.60, 0.80, True),     # Activated / Signed Up, 60-80%
    "time_to_value_days": (None, 7.0, False),  # days to first "aha" moment, <7 days
    "nrr": (1.00, 1.20, True),                 # 100-120%+
    "grr": (0.85, 0.95, True),                 # 85-95%
    "nps": (30.0, 50.0, True),                 # 30-50+
    "referral_rate": (0.10, 0.30, True),       # Referred / Total Customers, 10-30%
}


@pytest.mark.parametrize("metric_id", sorted(SEED_002_BANDS))
def test_the_seed_target_band_is_declared_on_the_definition(metric_id: str) -> None:
    band = registry()[metric_id].target
    assert band is not None and (band.low, band.high, band.open_ended_high) == SEED_002_BANDS[metric_id]
    assert "seed 002" in band.source


def test_only_metrics_with_a_seed_band_have_a_target_and_targets_is_their_view() -> None:
    assert set(TARGETS) == set(SEED_002_BANDS) == {mid for mid, spec in registry().items() if spec.target is not None}
    assert all(TARGETS[mid] is registry()[mid].target for mid in TARGETS)


FIXTURES = {
    "funnel": ({"customers": test_funnel.CUSTOMERS, "leads": test_funnel.LEADS}, "2024-06-30"),
    "activation": ({"customers": test_activation.SIGNUPS, "events": test_activation.EVENTS}, "2024-03-31"),
    "churn": ({"customers": test_retention.CHURN_CUSTOMERS, "subscriptions": test_retention.CHURN_SUBS}, "2024-04-30"),
    "orders": ({"customers": test_orders.BUYERS, "orders": test_orders.ORDERS}, "2024-06-30"),
    "touches": ({"customers": test_engagement.PEOPLE, "touches": test_engagement.TOUCHES}, "2024-03-31"),
    "advocacy": (test_advocacy.ADVOCACY_TABLES, "2024-06-30"),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_results_do_not_depend_on_row_order(tmp_path: Path, name: str) -> None:
    """Same facts inserted in reverse order ⇒ identical results, bit for bit, for every metric here."""
    tables, as_of = FIXTURES[name]
    forward = open_at(quick_store(tmp_path / "forward.db", tables), as_of)
    backward = open_at(quick_store(tmp_path / "backward.db", {t: list(reversed(rows)) for t, rows in tables.items()}), as_of)
    for metric_id in sorted(OWN):
        assert compute_metric(forward, metric_id).to_dict() == compute_metric(backward, metric_id).to_dict(), metric_id
