"""Adoption and retention metrics on hand-computed fixtures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from lifecycle.config import ActivationConfig, EngineConfig
from lifecycle.filters import Filters
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.retention import _usage_from_rollup, kaplan_meier_median, recent_usage
from tests.builders import customers, make_store
from tests.lifecycle.metrics.stores import open_at, quick_dataset, quick_store


def event(event_id: str, customer: str, at: str, name: str = "login") -> dict[str, object]:
    return {"event_id": event_id, "customer_id": customer, "occurred_at": at, "event_name": name}


def sub(sub_id: str, customer: str, start: str, end: str | None, mrr: float) -> dict[str, object]:
    return {"subscription_id": sub_id, "customer_id": customer, "start_date": start, "end_date": end, "mrr": mrr}


# --- stickiness and feature adoption: as_of 2024-03-31, last 30 days = 2024-03-02..2024-03-31 ---------------------
USAGE = [
    event("1", "a", "2024-03-10T08:00:00"), event("2", "a", "2024-03-10T17:00:00"), event("3", "a", "2024-03-11T08:00:00"),
    event("4", "a", "2024-03-31T08:00:00", "report_created"), event("5", "a", "2024-03-15T08:00:00", "export_csv"),
    event("6", "b", "2024-03-02T08:00:00"), event("7", "b", "2024-03-20T08:00:00", "export_csv"),
    event("8", "c", "2024-03-01T08:00:00", "export_csv"), event("9", "c", "2024-04-01T08:00:00"),
]


@pytest.fixture(scope="module", params=["events", "rollup"])
def usage_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same rows written in place (no events rollup: the usage statement reads the events) and through the store's
    atomic write (which builds the rollup ``lifecycle.events_daily``: the statement reads it) — the hand-computed
    values below hold for both."""
    write = quick_store if request.param == "events" else make_store
    return write(tmp_path_factory.mktemp("usage") / "usage.db",
                 {"customers": customers(("a", "2023-01-01"), ("b", "2023-01-01"), ("c", "2023-01-01")), "events": USAGE})


def test_the_usage_statement_reads_the_rollup_only_when_it_is_current(tmp_path: Path) -> None:
    """Written through the store, the rollup answers (a's days 03-10, 03-11, 03-15, 03-31 = 4, b's 03-02, 03-20 = 2;
    export_csv used by both, report_created by a). Another program then adds a login for b on 03-25 (the triggers mark
    the rollup stale): the events are read again and b has 3 days."""
    tables = {"customers": customers(("a", "2023-01-01"), ("b", "2023-01-01"), ("c", "2023-01-01")), "events": USAGE}
    path = make_store(tmp_path / "u.db", tables)
    features = ("export_csv", "report_created")
    dataset = open_at(path, "2024-03-31")
    assert _usage_from_rollup(dataset, (), features, ["2024-04-01", "2024-03-02", "2024-04-01"]) is not None
    usage = recent_usage(dataset, features)
    assert usage.values.tolist() == [["a", 4, 1, 1], ["b", 2, 1, 0]]
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO events (event_id, customer_id, occurred_at, event_name) "
                     "VALUES ('late', 'b', '2024-03-25T10:00:00', 'login')")
    conn.close()
    dataset = open_at(path, "2024-03-31")
    assert _usage_from_rollup(dataset, (), features, ["2024-04-01", "2024-03-02", "2024-04-01"]) is None
    assert recent_usage(dataset, features).values.tolist() == [["a", 4, 1, 1], ["b", 3, 1, 0]]


def test_stickiness_is_mean_daily_active_customers_over_monthly_active_customers(usage_store: Path) -> None:
    """Active days in 2024-03-02..03-31: a on 03-10 (twice), 03-11, 03-15, 03-31 = 4 days; b on 03-02, 03-20 = 2 days;
    c only outside (03-01, 04-01). Mean DAU = 6 / 30 = 0.2; MAU = 2 → stickiness 0.1."""
    result = compute_metric(open_at(usage_store, "2024-03-31"), "stickiness")
    assert result.numerator == pytest.approx(0.2) and result.denominator == 2.0
    assert result.value == pytest.approx(0.1)


def test_stickiness_counts_only_configured_activity_events(usage_store: Path) -> None:
    """active_events = (login,): a 03-10, 03-11 = 2 days; b 03-02 = 1 → mean DAU 3/30 = 0.1, MAU 2 → 0.05."""
    config = EngineConfig(activation=ActivationConfig(active_events=("login",)))
    result = compute_metric(open_at(usage_store, "2024-03-31", config=config), "stickiness")
    assert result.value == pytest.approx(0.05)


def test_feature_adoption_is_the_mean_share_of_active_customers_using_each_core_feature(usage_store: Path) -> None:
    """Core features export_csv, report_created; active in the 30 days: a, b.

    export_csv: a (03-15), b (03-20) → 2/2; report_created: a (03-31) → 1/2; c's export on 03-01 is outside.
    Mean = (2 + 1) / (2 × 2) = 0.75.
    """
    config = EngineConfig(activation=ActivationConfig(core_features=("report_created", "export_csv")))
    result = compute_metric(open_at(usage_store, "2024-03-31", config=config), "feature_adoption_rate")
    assert (result.numerator, result.denominator, result.value) == (3.0, 4.0, 0.75)
    assert [(key, r.value) for key, r in result.breakdown] == [("export_csv", 1.0), ("report_created", 0.5)]


def test_usage_metrics_without_activity_in_the_last_30_days_are_none(usage_store: Path) -> None:
    for metric_id in ("stickiness", "feature_adoption_rate"):
        result = compute_metric(open_at(usage_store, "2024-06-30"), metric_id)
        assert result.value is None and result.reason


# --- logo churn: window 2024-01-01..2024-04-30, as_of 2024-04-30 -------------------------------------------------
CHURN_CUSTOMERS = [
    {"customer_id": cid, "signup_date": day, "segment": segment} for cid, day, segment in (
        ("a", "2023-06-01", "SMB"), ("b", "2023-10-01", "ENT"), ("c", "2023-11-01", "SMB"), ("d", "2023-12-01", "ENT"),
        ("e", "2024-01-15", "SMB"), ("f", "2023-12-01", "ENT"), ("g", "2023-09-01", "ENT"), ("h", "2024-01-01", "ENT"))
]
CHURN_SUBS = [
    sub("s1", "a", "2023-06-01", None, 100.0),
    sub("s2", "b", "2023-10-01", "2024-02-15", 50.0), sub("s3", "b", "2024-02-15", None, 80.0),
    sub("s4", "c", "2023-11-01", "2024-02-10", 40.0),
    sub("s5", "d", "2023-12-01", "2024-01-31", 20.0),
    sub("s6", "e", "2024-01-15", "2024-03-01", 30.0),
    sub("s7", "f", "2023-12-01", "2024-05-01", 60.0),
    sub("s8", "g", "2023-09-01", "2024-03-15", 0.0),
    sub("s9", "h", "2024-01-01", "2024-04-01", 10.0), sub("s10", "h", "2024-04-10", None, 10.0),
]


@pytest.fixture(scope="module")
def churn_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("churn") / "churn.db", {"customers": CHURN_CUSTOMERS, "subscriptions": CHURN_SUBS})


def test_logo_churn_is_bridge_churn_over_customers_paying_at_the_end_of_the_month_before(churn_store: Path) -> None:
    """The one definition (MRR bridge): at risk in month m = paying (mrr > 0) at the end of m−1; churned = of those,
    paying nothing at the end of m. g's free plan never counts.

    Jan: Dec 31 a b c d f (5); Jan 31: d gone (its end 01-31 is exclusive) → 1/5.
    Feb: Jan 31 a b c e f h (6); Feb 29: c gone (ended 02-10) → 1/6; b's plan switch on 02-15 is not churn.
    Mar: Feb 29 a b e f h (5); Mar 31: e gone (ended 03-01) → 1/5; h still pays on 03-31 (ends 04-01).
    Apr: Mar 31 a b f h (4); Apr 30: all pay (h is back from 04-10, f's end on 05-01 is after as_of) → 0/4.
    Total 3 / 20. (A paying-on-the-1st count would give 4/19: it churns h in March although h was back within April.)
    """
    result = compute_metric(open_at(churn_store, "2024-04-30", ("2024-01-01", "2024-04-30")), "logo_churn_rate")
    assert (result.numerator, result.denominator) == (3.0, 20.0)
    assert [(key, r.numerator, r.denominator) for key, r in result.breakdown] == [
        ("2024-01", 1.0, 5.0), ("2024-02", 1.0, 6.0), ("2024-03", 1.0, 5.0), ("2024-04", 0.0, 4.0)]


def test_logo_churn_filtered_to_a_segment(churn_store: Path) -> None:
    """SMB = a c e. At risk: Jan a c (2), Feb a c e (3), Mar a e (2), Apr a (1); churned: c in Feb, e in Mar → 2/8."""
    ds = open_at(churn_store, "2024-04-30", ("2024-01-01", "2024-04-30"), filters=Filters(segment=("SMB",)))
    result = compute_metric(ds, "logo_churn_rate")
    assert (result.numerator, result.denominator) == (2.0, 8.0)


def test_logo_churn_without_a_complete_month_in_the_window_is_none(churn_store: Path) -> None:
    result = compute_metric(open_at(churn_store, "2024-04-30", ("2024-01-05", "2024-01-20")), "logo_churn_rate")
    assert result.value is None and "complete calendar month" in (result.reason or "")


def test_logo_churn_needs_subscriptions(tmp_path: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    assert compute_metric(ds, "logo_churn_rate").value is None


# --- N-day retention: window 2024-01-01..2024-03-31, as_of 2024-03-31 --------------------------------------------
RET_CUSTOMERS = customers(("p", "2024-01-01"), ("q", "2024-01-10"), ("r", "2024-01-20"), ("s", "2024-02-01"), ("t", "2024-03-15"))
RET_SUBS = [sub("p1", "p", "2024-01-01", None, 10.0), sub("q1", "q", "2024-01-10", "2024-02-09", 10.0),
            sub("r1", "r", "2024-01-20", "2024-02-20", 10.0), sub("t1", "t", "2024-03-15", None, 10.0)]
RET_EVENTS = [event("1", "p", "2024-01-26T10:00:00"), event("2", "q", "2024-02-02T10:00:00"), event("3", "r", "2024-02-19T10:00:00")]


@pytest.fixture(scope="module")
def retention_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("retention") / "retention.db", {"customers": RET_CUSTOMERS, "subscriptions": RET_SUBS})


def test_retention_30d_counts_signups_still_paying_on_day_30(retention_store: Path) -> None:
    """Eligible (signup ≤ 2024-03-01): p q r s; t too recent. Day 30: p 01-31 paying ✓; q 02-09 = its end (exclusive) ✗;
    r 02-19 ✓; s never paid ✗ → 2/4."""
    result = compute_metric(open_at(retention_store, "2024-03-31", ("2024-01-01", "2024-03-31")), "retention_30d")
    assert (result.numerator, result.denominator) == (2.0, 4.0)
    assert "1 signup(s)" in (result.reason or "") and "paying on day 30" in (result.reason or "")


def test_retention_60d_uses_only_signups_observed_60_days(retention_store: Path) -> None:
    """Eligible (signup ≤ 2024-01-31): p q r. Day 60: p 03-01 ✓, q ✗, r 03-20 ✗ → 1/3."""
    result = compute_metric(open_at(retention_store, "2024-03-31", ("2024-01-01", "2024-03-31")), "retention_60d")
    assert (result.numerator, result.denominator) == (1.0, 3.0)


def test_retention_90d_with_nobody_observed_long_enough_is_none(retention_store: Path) -> None:
    result = compute_metric(open_at(retention_store, "2024-03-31", ("2024-01-05", "2024-03-31")), "retention_90d")
    assert result.value is None and "90 days" in (result.reason or "")


def test_retention_without_subscriptions_uses_activity_in_the_week_ending_on_day_n(tmp_path: Path) -> None:
    """Days 24–30 after signup: p active day 25 ✓, q day 23 ✗, r day 30 ✓, s none ✗ → 2/4."""
    ds = quick_dataset(tmp_path, {"customers": RET_CUSTOMERS, "events": RET_EVENTS}, as_of="2024-03-31",
                      window=("2024-01-01", "2024-03-31"))
    result = compute_metric(ds, "retention_30d")
    assert (result.numerator, result.denominator) == (2.0, 4.0)
    assert "activity on days 24–30" in (result.reason or "")


# --- tenure ----------------------------------------------------------------------------------------------------
def test_kaplan_meier_median_is_the_first_time_survival_reaches_one_half() -> None:
    """Four deaths at 1, 2, 3, 4: S = 0.75, 0.5 → median 2 (S ≤ 0.5 convention)."""
    assert kaplan_meier_median(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True] * 4)) == 2.0


def test_kaplan_meier_keeps_units_censored_at_an_event_time_at_risk() -> None:
    """Durations 2 (death), 2 (censored), 3 (death), 5 (death): at t=2, n=4, d=1 → 0.75; t=3, n=2, d=1 → 0.375 → median 3."""
    assert kaplan_meier_median(np.array([2.0, 2.0, 3.0, 5.0]), np.array([True, False, True, True])) == 3.0


TENURE_SUBS = [sub("u", "u", "2024-01-01", "2024-01-11", 5.0), sub("v", "v", "2024-01-01", "2024-01-21", 5.0),
               sub("w", "w", "2024-01-01", None, 5.0), sub("x1", "x", "2024-06-01", "2024-06-21", 5.0),
               sub("x2", "x", "2024-08-01", "2024-08-31", 5.0), sub("y", "y", "2024-12-01", None, 5.0)]
TENURE_CUSTOMERS = customers(("u", "2024-01-01"), ("v", "2024-01-01"), ("w", "2024-01-01"), ("x", "2024-06-01"), ("y", "2024-12-01"))


@pytest.fixture(scope="module")
def tenure_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("tenure") / "tenure.db", {"customers": TENURE_CUSTOMERS, "subscriptions": TENURE_SUBS})


def test_median_tenure_is_the_kaplan_meier_median_with_still_paying_customers_censored(tenure_store: Path) -> None:
    """as_of 2024-12-31. Tenures: u 10 (churned), v 20 (churned), y 31 (paying since 12-01: censored at 2025-01-01),
    x 91 (06-01 → 08-31 across a gap, churned), w 366 (paying all 2024, censored).

    KM: t=10 n=5 → 0.8; t=20 n=4 → 0.6; t=91 n=2 (x, w) → 0.3 ≤ 0.5 → median 91 days.
    """
    result = compute_metric(open_at(tenure_store, "2024-12-31"), "median_tenure_days")
    assert (result.value, result.sample_size) == (91.0, 5)


def test_median_tenure_not_reached_is_none_because_more_than_half_are_still_active(tenure_store: Path) -> None:
    """as_of 2024-01-15: u churned at 10 days; v (its end 01-21 is after as_of) and w are censored at 15 days; x and y
    have not started. KM: t=10 n=3 → S = 2/3 and never lower → no median."""
    result = compute_metric(open_at(tenure_store, "2024-01-15"), "median_tenure_days")
    assert result.value is None and "more than half still active" in (result.reason or "")
    assert result.sample_size == 3


def test_eligible_signups_depend_on_the_days_observed_and_a_caller_cannot_change_them(tmp_path: Path) -> None:
    """Window 2024-01-01 .. 2024-03-31, as_of 2024-03-31. Signups: x (2023-12-20, before the window), a (01-10),
    b (03-01), c (03-25). Observed ≥ 30 days (signup ≤ 03-01): a and b, c too recent. Observed ≥ 60 days (signup ≤
    01-31): a only, b and c too recent. Asked again after a caller dropped a column of its copy: the same answer."""
    from lifecycle.metrics.common import eligible_signups

    dataset = quick_dataset(tmp_path, {"customers": customers(("x", "2023-12-20"), ("a", "2024-01-10"), ("b", "2024-03-01"),
                                                              ("c", "2024-03-25"))},
                            as_of="2024-03-31", window=("2024-01-01", "2024-03-31"))
    thirty, too_recent = eligible_signups(dataset, 30)
    assert (thirty["customer_id"].tolist(), too_recent) == (["a", "b"], 1)
    sixty, too_recent = eligible_signups(dataset, 60)
    assert (sixty["customer_id"].tolist(), too_recent) == (["a"], 2)
    del thirty["signup_date"]
    again, too_recent = eligible_signups(dataset, 30)
    assert (again["customer_id"].tolist(), "signup_date" in again.columns, too_recent) == (["a", "b"], True, 1)
