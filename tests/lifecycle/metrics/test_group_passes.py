"""What compare_segments asks once per group and period, computed from the whole base's rows: same answers as the
scope's own rows, on hand-built fixtures.

Customers (table order c1..c6; as_of 2024-06-30, window 2024-04-01..2024-06-30):

| customer | signup     | segment | industry | acquisition_cost | events                       |
|----------|------------|---------|----------|------------------|------------------------------|
| c1       | 2024-01-10 | SMB     | retail   | 100              | login                        |
| c2       | 2024-04-05 | ENT     | retail   | 200              | login, report_created        |
| c3       | 2024-05-01 | SMB     | health   |                  | login                        |
| c4       | 2024-02-01 | ENT     | health   | 400              |                              |
| c5       | 2024-06-10 | SMB     | retail   | 50               | onboarding_step              |
| c6       | 2024-06-20 | ENT     | health   | 600              |                              |

Window signups: c2, c3, c5, c6. SMB: c1 c3 c5 (window signups c3, c5; CAC = 50 / 2 = 25, c3 has no cost).
ENT: c2 c4 c6 (window signups c2, c6; CAC = (200 + 600) / 2 = 400). retail: c1 c2 c5; health: c3 c4 c6.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.filters import Filters
from lifecycle.metrics.common import SIGNUP_COLUMNS, absent_event_names, customer_count, signups_in_window
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.revenue_movements import (
    MrrMatrix,
    bridge_rows,
    ever_paid_before,
    month_row,
    previous_month_values,
)
from tests.lifecycle.metrics.stores import open_at, quick_store

CUSTOMERS = [
    {"customer_id": "c1", "signup_date": "2024-01-10", "segment": "SMB", "industry": "retail", "acquisition_cost": 100.0},
    {"customer_id": "c2", "signup_date": "2024-04-05", "segment": "ENT", "industry": "retail", "acquisition_cost": 200.0},
    {"customer_id": "c3", "signup_date": "2024-05-01", "segment": "SMB", "industry": "health"},
    {"customer_id": "c4", "signup_date": "2024-02-01", "segment": "ENT", "industry": "health", "acquisition_cost": 400.0},
    {"customer_id": "c5", "signup_date": "2024-06-10", "segment": "SMB", "industry": "retail", "acquisition_cost": 50.0},
    {"customer_id": "c6", "signup_date": "2024-06-20", "segment": "ENT", "industry": "health", "acquisition_cost": 600.0},
]
EVENTS = [
    {"event_id": "e1", "customer_id": "c1", "event_name": "login", "occurred_at": "2024-02-01T10:00:00"},
    {"event_id": "e2", "customer_id": "c2", "event_name": "login", "occurred_at": "2024-04-06T10:00:00"},
    {"event_id": "e3", "customer_id": "c2", "event_name": "report_created", "occurred_at": "2024-04-07T10:00:00"},
    {"event_id": "e4", "customer_id": "c3", "event_name": "login", "occurred_at": "2024-05-02T10:00:00"},
    {"event_id": "e5", "customer_id": "c5", "event_name": "onboarding_step", "occurred_at": "2024-06-11T10:00:00"},
]
WINDOW = ("2024-04-01", "2024-06-30")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("groups") / "groups.db", {"customers": CUSTOMERS, "events": EVENTS})


@pytest.mark.parametrize(("filters", "ids", "labels"), [
    pytest.param(Filters(segment=("SMB",)), ["c3", "c5"], [1, 2], id="smb-c3-c5-at-positions-1-2-of-c1-c3-c5"),
    pytest.param(Filters(segment=("ENT",)), ["c2", "c6"], [0, 2], id="ent-c2-c6-at-positions-0-2-of-c2-c4-c6"),
    pytest.param(Filters(industry=("health",)), ["c3", "c6"], [0, 2], id="health-c3-c6-at-positions-0-2-of-c3-c4-c6"),
])
def test_a_groups_window_signups_are_its_own_customers_rows_in_the_window(store: Path, filters: Filters, ids: list[str],
                                                                          labels: list[int]) -> None:
    """The rows, id order and labels (positions among the scope's customers, in table order) the scope's own
    ``customers()`` gives — also when the whole base's window signups were taken first."""
    whole = open_at(store, "2024-06-30", WINDOW)
    assert list(signups_in_window(whole)["customer_id"]) == ["c2", "c3", "c5", "c6"]
    found = signups_in_window(open_at(store, "2024-06-30", WINDOW, filters))
    assert list(found["customer_id"]) == ids
    assert list(found.index) == labels
    own = open_at(store, "2024-06-30", WINDOW, filters)
    own.customers()  # read first: the scope's own rows
    assert signups_in_window(own).equals(found)


def test_window_signups_carry_id_signup_day_and_acquisition_cost_on_the_whole_base_and_a_group(store: Path) -> None:
    """Whole base and a group alike: the three columns the metrics read, nothing else; c3 has no recorded cost."""
    whole = signups_in_window(open_at(store, "2024-06-30", WINDOW))
    group = signups_in_window(open_at(store, "2024-06-30", WINDOW, Filters(segment=("SMB",))))
    assert tuple(whole.columns) == tuple(group.columns) == SIGNUP_COLUMNS == ("customer_id", "signup_date", "acquisition_cost")
    assert [None if pd.isna(v) else v for v in group["acquisition_cost"]] == [None, 50.0]


@pytest.mark.parametrize(("as_of", "filters", "count"), [
    pytest.param("2024-06-30", Filters(), 6, id="whole-base-6"),
    pytest.param("2024-06-30", Filters(segment=("SMB",)), 3, id="smb-c1-c3-c5"),
    pytest.param("2024-06-15", Filters(segment=("ENT",)), 2, id="ent-before-c6-signs-up-c2-c4"),
    pytest.param("2024-06-15", Filters(industry=("health",)), 2, id="health-before-c6-c3-c4"),
    pytest.param("2024-03-01", Filters(segment=("SMB",), industry=("retail",)), 1, id="smb-retail-in-march-c1"),
    pytest.param("2024-06-30", Filters(segment=("nobody",)), 0, id="no-such-segment-0"),
])
def test_a_groups_customer_count_counts_its_customers_signed_up_by_as_of(store: Path, as_of: str, filters: Filters,
                                                                         count: int) -> None:
    """Counted from the whole base's ids (read first, as compare_segments' whole-population row does) equals the
    scope's own customers; the hand count is in the module table."""
    open_at(store, as_of, WINDOW).customers()
    assert customer_count(open_at(store, as_of, WINDOW, filters)) == count
    assert len(open_at(store, as_of, WINDOW, filters).customers()) == count


@pytest.mark.parametrize(("segment", "value", "reason_part"), [
    pytest.param("SMB", 25.0, "1 of 2 new customers have no acquisition_cost", id="smb-50-over-2"),
    pytest.param("ENT", 400.0, None, id="ent-800-over-2"),
])
def test_cac_of_a_segment_counts_its_window_signups(store: Path, segment: str, value: float, reason_part: str | None) -> None:
    result = compute_metric(open_at(store, "2024-06-30", WINDOW, Filters(segment=(segment,))), "cac")
    assert result.value == pytest.approx(value)
    assert result.sample_size == 2
    if reason_part:
        assert reason_part in (result.reason or "")


@pytest.mark.parametrize(("filters", "absent"), [
    pytest.param(Filters(segment=("SMB",)), ("report_created",), id="smb-has-no-report"),
    pytest.param(Filters(segment=("ENT",)), ("onboarding_step",), id="ent-has-no-onboarding"),
    pytest.param(Filters(industry=("health",)), ("onboarding_step", "report_created"), id="health-has-only-logins"),
])
def test_an_event_name_is_absent_from_a_group_when_none_of_its_customers_has_one(store: Path, filters: Filters,
                                                                                  absent: tuple[str, ...]) -> None:
    names = ("login", "onboarding_step", "report_created")
    assert absent_event_names(open_at(store, "2024-06-30", WINDOW), names) == ()
    assert absent_event_names(open_at(store, "2024-06-30", WINDOW, filters), names) == absent


def _matrix(values: np.ndarray | list[list[float]]) -> MrrMatrix:
    array = np.asarray(values, dtype="float64")
    months = tuple(date(2024 + j // 12, j % 12 + 1, 1) for j in range(array.shape[1]))
    return MrrMatrix(pd.Index([f"c{i}" for i in range(array.shape[0])]), months, months, False, array)


@pytest.mark.parametrize("whole_pass_entries", [1_000, 0], ids=["one-pass", "month-by-month"])
def test_the_bridge_of_a_small_matrix_matches_the_hand_count(whole_pass_entries: int) -> None:
    """Customers a: 10 → 15 → 0; b: 0 → 20 → 20; c: 5 → 0 → 7 (paid before: reactivation in month 3).

    Month 1: new a 10 + c 5 (2 new), ending 15 (2 customers). Month 2: expansion a 5; new b 20; churn c 5;
    starting 15, ending 35. Month 3: churn a 15; reactivation c 7; starting 35, ending 27; net −8."""
    rows = bridge_rows(_matrix([[10, 15, 0], [0, 20, 20], [5, 0, 7]]), whole_pass_entries)
    first, second, third = rows
    assert (first.new, first.new_customers, first.starting_mrr, first.ending_mrr, first.ending_customers) == (15.0, 2, 0.0, 15.0, 2)
    assert (second.expansion, second.new, second.churn, second.starting_mrr, second.ending_mrr) == (5.0, 20.0, 5.0, 15.0, 35.0)
    assert (second.starting_customers, second.churned_customers, second.expansion_customers) == (2, 1, 1)
    assert (third.churn, third.reactivation, third.reactivation_customers, third.net_new) == (15.0, 7.0, 1, -8.0)
    assert (third.starting_mrr, third.ending_mrr, third.contraction) == (35.0, 27.0, 0.0)


def test_the_one_pass_bridge_equals_the_month_by_month_rows_on_random_matrices() -> None:
    """Both paths give the same rows bit for bit (fsum is exactly rounded: the order of the summed entries cannot
    matter), including amounts like 0.1 + 0.2 whose plain float sum depends on order."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        customers, months = int(rng.integers(0, 40)), int(rng.integers(1, 14))
        values = rng.choice([0.0, 0.0, 0.1, 0.2, 0.3, 10.0, 99.99, 1e-6], size=(customers, months))
        matrix = _matrix(values)
        previous, paid = previous_month_values(matrix.values), ever_paid_before(matrix.values)
        expected = tuple(month_row(matrix, j, previous[:, j], matrix.values[:, j], paid[:, j]) for j in range(months))
        assert bridge_rows(matrix) == expected


SUBSCRIPTIONS = [
    {"subscription_id": "s1", "customer_id": "c1", "start_date": "2024-01-10", "end_date": None, "mrr": 50.0},
    {"subscription_id": "s2", "customer_id": "c2", "start_date": "2024-04-05", "end_date": "2024-05-01", "mrr": 100.0},
    {"subscription_id": "s4", "customer_id": "c4", "start_date": "2024-02-01", "end_date": "2024-03-15", "mrr": 80.0},
    {"subscription_id": "s5", "customer_id": "c5", "start_date": "2024-06-10", "end_date": None, "mrr": 20.0},
    {"subscription_id": "s6", "customer_id": "c6", "start_date": "2024-06-20", "end_date": None, "mrr": 0.0},
]
REFERRALS = [
    {"referral_id": "r1", "referrer_customer_id": "c1", "referred_at": "2024-04-10", "referred_customer_id": "c3"},
    {"referral_id": "r2", "referrer_customer_id": "c1", "referred_at": "2024-05-01", "referred_customer_id": "x9"},
    {"referral_id": "r3", "referrer_customer_id": "c4", "referred_at": "2024-06-25", "referred_customer_id": "c6"},
    {"referral_id": "r4", "referrer_customer_id": "c2", "referred_at": "2024-04-20", "referred_customer_id": None},
    {"referral_id": "r5", "referrer_customer_id": "c5", "referred_at": "2024-03-01", "referred_customer_id": "c2"},
]


@pytest.fixture(scope="module")
def referral_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Paying in the window: c1, c2, c5 (c4 ended in March, c6 is free). Referrals in the window: r1 c1→c3 (signed up),
    r2 c1→x9 (no such customer), r3 c4→c6 (signed up), r4 c2→nobody named; r5 is before the window."""
    return quick_store(tmp_path_factory.mktemp("referrals") / "referrals.db",
                       {"customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS, "referrals": REFERRALS})


@pytest.mark.parametrize(("filters", "rate", "conversion", "unknown_note"), [
    pytest.param(Filters(segment=("SMB",)), (1.0, 2.0), (1.0, 2.0), True, id="smb-c1-of-c1-c5-r1-of-r1-r2"),
    pytest.param(Filters(segment=("ENT",)), (1.0, 1.0), (1.0, 2.0), False, id="ent-c2-of-c2-r3-of-r3-r4"),
    pytest.param(Filters(industry=("health",)), (0.0, 0.0), (1.0, 1.0), False, id="health-nobody-active-r3-of-r3"),
    pytest.param(Filters(), (2.0, 3.0), (2.0, 4.0), True, id="everyone-c1-c2-of-c1-c2-c5-r1-r3-of-4"),
])
def test_a_groups_referral_rates_count_its_own_referrers_and_active_customers(
        referral_store: Path, filters: Filters, rate: tuple[float, float], conversion: tuple[float, float],
        unknown_note: bool) -> None:
    open_at(referral_store, "2024-06-30", WINDOW)  # the whole base first, as compare_segments' baseline row
    scope = open_at(referral_store, "2024-06-30", WINDOW, filters)
    referral = compute_metric(scope, "referral_rate")
    converted = compute_metric(scope, "referral_conversion_rate")
    if rate[1]:
        assert (referral.numerator, referral.denominator) == rate
    else:
        assert referral.value is None and "no customers active" in (referral.reason or "")
    assert (converted.numerator, converted.denominator) == conversion
    assert ("name a customer not signed up by as_of" in (converted.reason or "")) == unknown_note
