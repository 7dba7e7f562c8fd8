"""Activation metrics on a hand-computed event fixture.

Window 2024-01-01..2024-03-31, as_of 2024-03-31. Signups and events (day = calendar days after signup,
events before signup count as day 0):

| customer | signup     | report_created (value event) | onboarding steps (days) | dashboard_viewed |
|----------|------------|------------------------------|-------------------------|------------------|
| a        | 2024-01-01 | 01-05 (day 4), 01-20 (19)    | 1, 3                    | 01-02 (day 1)    |
| b        | 2024-01-10 | 01-17 23:00 (day 7)          | 2                       |                  |
| c        | 2024-01-15 | 01-23 00:30 (day 8)          | 5, 31                   |                  |
| d        | 2024-02-01 | —                            | 0, 1, 2                 | 02-20 (day 19)   |
| e        | 2024-03-28 | 03-29 (day 1)                | —                       |                  |
| f        | 2023-12-15 | 2024-01-02 (outside window)  | —                       |                  |
| g        | 2024-02-10 | 02-09 (before signup → day 0) | —                      |                  |
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import ActivationConfig, EngineConfig
from lifecycle.filters import Filters
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.results import Status
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_dataset, quick_store

WINDOW = ("2024-01-01", "2024-03-31")


def event(event_id: str, customer: str, at: str, name: str) -> dict[str, object]:
    return {"event_id": event_id, "customer_id": customer, "occurred_at": at, "event_name": name}


STEP = "onboarding_step_completed"
EVENTS = [
    event("1", "a", "2024-01-05T09:00:00", "report_created"),
    event("2", "a", "2024-01-20T09:00:00", "report_created"),
    event("3", "b", "2024-01-17T23:00:00", "report_created"),
    event("4", "c", "2024-01-23T00:30:00", "report_created"),
    event("5", "e", "2024-03-29T10:00:00", "report_created"),
    event("6", "f", "2024-01-02T10:00:00", "report_created"),
    event("7", "g", "2024-02-09T10:00:00", "report_created"),
    event("8", "a", "2024-01-02T10:00:00", STEP),
    event("9", "a", "2024-01-04T10:00:00", STEP),
    event("10", "b", "2024-01-12T10:00:00", STEP),
    event("11", "c", "2024-01-20T10:00:00", STEP),
    event("12", "c", "2024-02-15T10:00:00", STEP),
    event("13", "d", "2024-02-01T10:00:00", STEP),
    event("14", "d", "2024-02-02T10:00:00", STEP),
    event("15", "d", "2024-02-03T10:00:00", STEP),
    event("16", "a", "2024-01-02T11:00:00", "dashboard_viewed"),
    event("17", "d", "2024-02-20T11:00:00", "dashboard_viewed"),
]
SIGNUPS = customers(("a", "2024-01-01"), ("b", "2024-01-10"), ("c", "2024-01-15"), ("d", "2024-02-01"), ("e", "2024-03-28"),
                    ("f", "2023-12-15"), ("g", "2024-02-10"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("activation") / "activation.db", {"customers": SIGNUPS, "events": EVENTS})


def test_activation_rate_counts_the_value_event_within_seven_days_among_signups_observed_seven_days(store: Path) -> None:
    """Eligible (signup ≤ 2024-03-24): a b c d g = 5; e is too recent, f signed up before the window.

    Activated (first report_created by day 7): a (4), b (7, the boundary), g (0, before signup) = 3 → 3/5 = 0.6,
    the bottom of the 60–80% band (within).
    """
    result = compute_metric(open_at(store, "2024-03-31", WINDOW), "activation_rate")
    assert (result.numerator, result.denominator) == (3.0, 5.0)
    assert result.status is Status.WITHIN
    assert "1 signup(s)" in (result.reason or "")


def test_activation_rule_comes_from_config(store: Path) -> None:
    """within_days = 8: eligible signup ≤ 2024-03-23 (same 5); c's day-8 report now counts → 4/5."""
    config = EngineConfig(activation=ActivationConfig(within_days=8))
    result = compute_metric(open_at(store, "2024-03-31", WINDOW, config=config), "activation_rate")
    assert (result.numerator, result.denominator) == (4.0, 5.0)


def test_time_to_value_is_the_median_days_among_signups_who_reached_value(store: Path) -> None:
    """Window signups reaching value: g 0, e 1, a 4, b 7, c 8 → median 4 days (d never did, named in reason); target < 7."""
    result = compute_metric(open_at(store, "2024-03-31", WINDOW), "time_to_value_days")
    assert (result.value, result.sample_size) == (4.0, 5)
    assert result.status is Status.WITHIN
    assert "1 signup(s) have not reached value" in (result.reason or "")


def test_time_to_value_ignores_value_events_after_as_of(store: Path) -> None:
    """as_of 2024-01-20, window 2024-01-01..2024-01-20: signups a, b, c; c's report (01-23) is not known yet.

    Median of a 4 and b 7 = 5.5.
    """
    result = compute_metric(open_at(store, "2024-01-20", ("2024-01-01", "2024-01-20")), "time_to_value_days")
    assert (result.value, result.sample_size) == (5.5, 2)


def test_onboarding_completion_needs_the_configured_steps_within_the_window_days(store: Path) -> None:
    """Two steps within 30 days; eligible (signup ≤ 2024-03-01): a b c d g = 5.

    a: days 1, 3 ✓; b: one step ✗; c: days 5 and 31 → one in time ✗; d: 0, 1, 2 ✓; g: none ✗ → 2/5.
    """
    config = EngineConfig(activation=ActivationConfig(onboarding_steps=2))
    result = compute_metric(open_at(store, "2024-03-31", WINDOW, config=config), "onboarding_completion_rate")
    assert (result.numerator, result.denominator) == (2.0, 5.0)


def test_early_feature_adoption_is_the_mean_share_of_core_features_used_in_the_early_window(store: Path) -> None:
    """Core features dashboard_viewed, report_created; 14 days; eligible (signup ≤ 2024-03-17): a b c d g.

    Features used by day 14: a 2 (dashboard day 1, report day 4), b 1, c 1, d 0 (dashboard day 19), g 1 →
    5 pairs ÷ (5 × 2) = 0.5.
    """
    config = EngineConfig(activation=ActivationConfig(core_features=("dashboard_viewed", "report_created")))
    result = compute_metric(open_at(store, "2024-03-31", WINDOW, config=config), "early_feature_adoption")
    assert (result.numerator, result.denominator, result.value) == (5.0, 10.0, 0.5)
    assert result.sample_size == 5


def test_segment_filter_narrows_activation_to_the_selected_customers(tmp_path: Path) -> None:
    """Only a (SMB, activated) and d (SMB, not activated) are selected → 1/2."""
    rows = [dict(row, segment="SMB" if row["customer_id"] in ("a", "d") else "ENT") for row in SIGNUPS]
    ds = quick_dataset(tmp_path, {"customers": rows, "events": EVENTS}, as_of="2024-03-31", window=WINDOW,
                      filters=Filters(segment=("SMB",)))
    result = compute_metric(ds, "activation_rate")
    assert (result.numerator, result.denominator) == (1.0, 2.0)


@pytest.mark.parametrize("metric_id", ["activation_rate", "onboarding_completion_rate", "early_feature_adoption"])
def test_no_signup_observed_long_enough_gives_none_with_a_reason(store: Path, metric_id: str) -> None:
    result = compute_metric(open_at(store, "2024-03-31", ("2024-03-25", "2024-03-31")), metric_id)
    assert result.value is None and "days before as_of" in (result.reason or "")


def test_time_to_value_without_anyone_reaching_value_is_none(store: Path) -> None:
    result = compute_metric(open_at(store, "2024-02-05", ("2024-02-01", "2024-02-05")), "time_to_value_days")
    assert result.value is None and "report_created" in (result.reason or "")


def test_activation_metrics_without_events_are_none(tmp_path: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": SIGNUPS}, as_of="2024-03-31")
    result = compute_metric(ds, "activation_rate")
    assert result.value is None and "events" in (result.reason or "")
