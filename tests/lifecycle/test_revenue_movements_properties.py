"""Invariants of the MRR bridge and cohort retention on random subscription data (hypothesis).

The oracle is written here from the definition, independently of the engine: a customer's MRR on day d is the
sum of ``mrr`` over its subscriptions with start ≤ d < end (no end = open).
"""

from __future__ import annotations

import math
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lifecycle.dataset import Dataset
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.revenue_movements import Movement, movements_by_customer, revenue_movements
from lifecycle.scope import Window
from tests.lifecycle.metrics.stores import quick_store

BASE = date(2024, 1, 1)
CUSTOMERS = ("a", "b", "c", "d", "e")
MONTH_ENDS = (date(2024, 3, 31), date(2024, 5, 31), date(2024, 7, 31))
TOL = 1e-9
# Each example builds a fresh throw-away store; tmpfs keeps that to milliseconds on a busy disk.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None

money = st.one_of(st.sampled_from([0.0, 10.0, 33.33, 99.99, 100.0]), st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 2)))
subscription = st.tuples(st.sampled_from(CUSTOMERS), st.integers(0, 200), st.one_of(st.none(), st.integers(1, 200)), money)
histories = st.lists(subscription, min_size=1, max_size=10)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rows_of(history: list[tuple[str, int, int | None, float]]) -> list[dict[str, Any]]:
    out = []
    for i, (customer, offset, duration, mrr) in enumerate(history):
        start = BASE + timedelta(days=offset)
        end = None if duration is None else (start + timedelta(days=duration)).isoformat()
        out.append({"subscription_id": f"s{i}", "customer_id": customer, "start_date": start.isoformat(), "end_date": end, "mrr": mrr})
    return out


def open_dataset(directory: str, subscriptions: list[dict[str, Any]], as_of: date, window: Window | None = None) -> Dataset:
    tables = {"customers": [{"customer_id": c, "signup_date": "2023-12-01"} for c in CUSTOMERS], "subscriptions": subscriptions}
    path = quick_store(Path(tempfile.mkdtemp(dir=directory)) / "random.db", tables)
    return Dataset.open(path, as_of, window=window)


def oracle_mrr(subscriptions: list[dict[str, Any]], customer: str, day: date) -> float:
    """Σ mrr of the customer's subscriptions with start ≤ day < end."""
    return math.fsum(s["mrr"] for s in subscriptions if s["customer_id"] == customer
                     and date.fromisoformat(s["start_date"]) <= day
                     and (s["end_date"] is None or day < date.fromisoformat(s["end_date"])))


@PROPERTY
@given(history=histories, as_of=st.sampled_from([*MONTH_ENDS, date(2024, 6, 17)]))
def test_movements_reconcile_month_over_month_mrr(history: list[Any], as_of: date) -> None:
    """ending(m) = starting(m) + new + expansion + reactivation − contraction − churn, starting(m) = ending(m − 1),
    ending(m) = the oracle's total MRR at the month's end, and every component is ≥ 0."""
    subs = rows_of(history)
    with tempfile.TemporaryDirectory(dir=SCRATCH) as directory:
        rows = revenue_movements(open_dataset(directory, subs, as_of)).rows
    previous_end = 0.0
    for row in rows:
        bridge = row.starting_mrr + row.new + row.expansion + row.reactivation - row.contraction - row.churn
        assert math.isclose(row.ending_mrr, bridge, abs_tol=TOL)
        assert math.isclose(row.starting_mrr, previous_end, abs_tol=TOL)
        assert math.isclose(row.ending_mrr, math.fsum(oracle_mrr(subs, c, row.month_end) for c in CUSTOMERS), abs_tol=TOL)
        assert min(row.amount(k) for k in Movement) >= 0 and min(row.count(k) for k in Movement) >= 0
        previous_end = row.ending_mrr


@PROPERTY
@given(history=histories, as_of=st.sampled_from(MONTH_ENDS))
def test_churn_is_exactly_the_customers_whose_mrr_became_zero(history: list[Any], as_of: date) -> None:
    """For every month: churners = customers with oracle MRR > 0 at the previous month-end and 0 at this one;
    the churned amount is their previous MRR, and every churner's current MRR is 0."""
    subs = rows_of(history)
    with tempfile.TemporaryDirectory(dir=SCRATCH) as directory:
        ds = open_dataset(directory, subs, as_of)
        months = [(r.month, r.month_end) for r in revenue_movements(ds).rows]
        for month, month_end in months:
            previous_day = month - timedelta(days=1)
            churned = {m.customer_id: m for m in movements_by_customer(ds, month) if m.movement is Movement.CHURN}
            expected = {c for c in CUSTOMERS if oracle_mrr(subs, c, previous_day) > 0 and oracle_mrr(subs, c, month_end) == 0}
            assert set(churned) == expected
            for customer, moved in churned.items():
                assert moved.current_mrr == 0
                assert math.isclose(moved.amount, oracle_mrr(subs, customer, previous_day), abs_tol=TOL)


@PROPERTY
@given(history=histories, as_of=st.sampled_from(MONTH_ENDS), months=st.integers(1, 5))
def test_nrr_is_one_plus_the_cohorts_net_movements_and_grr_is_at_most_min_one_nrr(history: list[Any], as_of: date, months: int) -> None:
    """Starting cohort = customers with oracle MRR > 0 the day before the window. Summing their month-by-month
    movements over the window's months: NRR = 1 + (expansion + reactivation − contraction − churn) ÷ starting MRR.
    GRR ≤ min(1, NRR). Both are None exactly when the cohort is empty."""
    subs = rows_of(history)
    window = Window.trailing_months(as_of, months)
    start_day = window.start - timedelta(days=1)
    cohort = {c: oracle_mrr(subs, c, start_day) for c in CUSTOMERS if oracle_mrr(subs, c, start_day) > 0}
    with tempfile.TemporaryDirectory(dir=SCRATCH) as directory:
        ds = open_dataset(directory, subs, as_of, window)
        nrr, grr = compute_metric(ds, "nrr"), compute_metric(ds, "grr")
        table = revenue_movements(ds)
        window_months = [r.month for r in table.complete_in(window)]
        net = math.fsum(k.sign * m.amount for month in window_months for m in movements_by_customer(ds, month)
                        for k in (m.movement,) if m.customer_id in cohort)
    if not cohort:
        assert nrr.value is None and grr.value is None
        return
    assert len(window_months) == months
    starting = math.fsum(cohort.values())
    assert nrr.value is not None and grr.value is not None
    assert math.isclose(nrr.value, 1 + net / starting, abs_tol=TOL)
    assert math.isclose(nrr.denominator or 0, starting, abs_tol=TOL)
    assert grr.value <= min(1.0, nrr.value) + TOL


@PROPERTY
@given(history=histories, as_of=st.sampled_from([date(2024, 2, 10), date(2024, 4, 30), date(2024, 5, 14)]))
def test_earlier_as_of_sees_only_what_was_known_then(history: list[Any], as_of: date) -> None:
    """Computing at as_of equals computing on a store holding only what was known on as_of: subscriptions started
    later are absent and ends after as_of are empty. Checked on the bridge and on every revenue metric."""
    subs = rows_of(history)
    known = [dict(s, end_date=None if s["end_date"] and date.fromisoformat(s["end_date"]) > as_of else s["end_date"])
             for s in subs if date.fromisoformat(s["start_date"]) <= as_of]
    assume(known)  # an empty subscriptions table is "table missing", a different (documented) reason
    with tempfile.TemporaryDirectory(dir=SCRATCH) as directory:
        full, past = open_dataset(directory, subs, as_of), open_dataset(directory, known, as_of)
        assert revenue_movements(full) == revenue_movements(past)
        for metric_id in ("mrr", "nrr", "grr", "new_mrr", "churned_mrr", "quick_ratio", "ltv"):
            assert compute_metric(full, metric_id).to_dict() == compute_metric(past, metric_id).to_dict()
