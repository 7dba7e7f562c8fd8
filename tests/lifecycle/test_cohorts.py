"""Cohort retention triangles: a hand-computed example in both modes and both bases, plus invariants.

Example (as_of 2024-04-15, so April is partial; window 2024-01-01..2024-04-15; months end Jan 31, Feb 29, Mar 31):

| customer | signup     | subscriptions (start → end exclusive, MRR)                      |
|----------|------------|-----------------------------------------------------------------|
| a        | 2024-01-05 | 01-05 → open, 100                                               |
| b        | 2024-01-20 | 01-20 → 01-31, 50; then 03-05 → open, 60 (returns in March)     |
| c        | 2024-02-03 | 02-03 → 03-01, 40 (gone before March)                           |
| d        | 2024-02-10 | 02-10 → 03-15, 20; 03-15 → open, 30 (upgrade)                   |
| e        | 2024-03-02 | 03-02 → open, 70                                                |
| f        | 2024-04-02 | 04-02 → open, 10 (its signup month has not ended)               |

Logo (active on any day of the month): Jan cohort {a, b}: Jan a b, Feb a, Mar a b. Feb cohort {c, d}: Feb c d, Mar d.
Mar cohort {e}: Mar e. April is not observable.
Revenue (MRR on the month's last day): Jan cohort: Jan 31 a 100 (b ended the 31st) → base 100; Feb 29 100; Mar 31
a 100 + b 60 = 160. Feb cohort: Feb 29 c 40 + d 20 = 60; Mar 31 d 30. Mar cohort: Mar 31 e 70.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.errors import QueryError
from lifecycle.metrics.cohorts import cohort_retention
from tests.lifecycle.metrics.stores import open_at, quick_store


def sub(sub_id: str, customer: str, start: str, end: str | None, mrr: float) -> dict[str, object]:
    return {"subscription_id": sub_id, "customer_id": customer, "start_date": start, "end_date": end, "mrr": mrr}


TABLES = {
    "customers": [{"customer_id": c, "signup_date": d} for c, d in (
        ("a", "2024-01-05"), ("b", "2024-01-20"), ("c", "2024-02-03"), ("d", "2024-02-10"), ("e", "2024-03-02"), ("f", "2024-04-02"))],
    "subscriptions": [sub("a1", "a", "2024-01-05", None, 100.0), sub("b1", "b", "2024-01-20", "2024-01-31", 50.0),
                      sub("b2", "b", "2024-03-05", None, 60.0), sub("c1", "c", "2024-02-03", "2024-03-01", 40.0),
                      sub("d1", "d", "2024-02-10", "2024-03-15", 20.0), sub("d2", "d", "2024-03-15", None, 30.0),
                      sub("e1", "e", "2024-03-02", None, 70.0), sub("f1", "f", "2024-04-02", None, 10.0)],
}
N = None


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    path = quick_store(tmp_path_factory.mktemp("cohorts") / "cohorts.db", TABLES)
    return open_at(path, "2024-04-15", ("2024-01-01", "2024-04-15"))


def test_cohorts_are_signup_months_with_their_sizes(dataset) -> None:
    table = cohort_retention(dataset)
    assert table.cohorts == ("2024-01", "2024-02", "2024-03", "2024-04")
    assert table.sizes == (2, 2, 1, 1)
    assert table.activity == "subscriptions"


def test_recurring_logo_retention_counts_customers_active_in_month_k(dataset) -> None:
    """Jan: 2/2, Feb a only 1/2, Mar a b 2/2; Feb cohort: 2/2, 1/2; Mar: 1/1; April cohort: nothing observable."""
    table = cohort_retention(dataset, "recurring", "logo")
    assert table.values == ((1.0, 0.5, 1.0, N), (1.0, 0.5, N, N), (1.0, N, N, N), (N, N, N, N))
    assert table.counts[0] == (2.0, 1.0, 2.0, N)


def test_cumulative_logo_retention_counts_customers_active_in_month_k_or_later(dataset) -> None:
    """Jan cohort Feb: a, plus b who returns in March → 2/2. Other cells as recurring."""
    table = cohort_retention(dataset, "cumulative", "logo")
    assert table.values == ((1.0, 1.0, 1.0, N), (1.0, 0.5, N, N), (1.0, N, N, N), (N, N, N, N))


def test_recurring_revenue_retention_is_month_end_mrr_over_month_zero_mrr(dataset) -> None:
    """Jan: 100/100, 100/100, 160/100; Feb: 60/60, 30/60; Mar: 70/70; April cohort has no observed base."""
    table = cohort_retention(dataset, "recurring", "revenue")
    assert table.base == (100.0, 60.0, 70.0, N)
    assert table.values == ((1.0, 1.0, 1.6, N), (1.0, 0.5, N, N), (1.0, N, N, N), (N, N, N, N))


def test_cumulative_revenue_takes_each_customers_highest_mrr_in_month_k_or_later(dataset) -> None:
    """Jan cohort: a 100 every month, b max(0, 0, 60) = 60 from k=0 → 160/100 in every month.
    Feb cohort k0: c max(40, 0) = 40 + d max(20, 30) = 30 → 70/60; k1: c 0 + d 30 → 30/60. Mar: 70/70."""
    table = cohort_retention(dataset, "cumulative", "revenue")
    assert table.values[0] == (pytest.approx(1.6), pytest.approx(1.6), pytest.approx(1.6), N)
    assert table.values[1] == (pytest.approx(70 / 60), 0.5, N, N)
    assert table.values[2] == (1.0, N, N, N)


def test_a_month_ending_on_as_of_is_observable(tmp_path: Path) -> None:
    """as_of 2024-03-31: March has ended, so the Mar cohort's month 0 and the Jan cohort's month 2 are observed."""
    path = quick_store(tmp_path / "c.db", TABLES)
    table = cohort_retention(open_at(path, "2024-03-31", ("2024-01-01", "2024-03-31")))
    assert table.values == ((1.0, 0.5, 1.0), (1.0, 0.5, N), (1.0, N, N))


def test_without_subscriptions_logo_cohorts_use_orders(tmp_path: Path) -> None:
    """Orders: a in Jan and Mar, b in Jan only → Jan cohort {a, b}: Jan 2/2, Feb 0/2, Mar 1/2."""
    orders = [{"order_id": o, "customer_id": c, "ordered_at": at, "amount": 10.0, "status": "completed"}
              for o, c, at in (("1", "a", "2024-01-06T10:00:00"), ("2", "a", "2024-03-06T10:00:00"), ("3", "b", "2024-01-21T10:00:00"))]
    path = quick_store(tmp_path / "o.db", {"customers": TABLES["customers"][:2], "orders": orders})
    table = cohort_retention(open_at(path, "2024-03-31", ("2024-01-01", "2024-03-31")))
    assert table.activity == "orders"
    assert table.values == ((1.0, 0.0, 0.5),)


def test_revenue_cohorts_without_subscriptions_are_empty_with_a_reason(tmp_path: Path) -> None:
    path = quick_store(tmp_path / "e.db", {"customers": TABLES["customers"]})
    table = cohort_retention(open_at(path, "2024-03-31"), basis="revenue")
    assert table.cohorts == () and "subscriptions" in (table.reason or "")


@pytest.mark.parametrize(("kwargs", "word"), [
    pytest.param({"mode": "rolling"}, "mode", id="bad-mode"),
    pytest.param({"basis": "seats"}, "basis", id="bad-basis"),
    pytest.param({"period": "week"}, "period", id="bad-period"),
])
def test_unknown_options_raise_a_query_error_listing_valid_values(dataset, kwargs: dict[str, str], word: str) -> None:
    with pytest.raises(QueryError, match=word):
        cohort_retention(dataset, **kwargs)


# --- invariants -------------------------------------------------------------------------------------------------
BASE_DAY = date(2023, 7, 1)


@st.composite
def subscription_books(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, object]]], date]:
    """Customers who start paying on their signup day; some stop, some return later with another subscription."""
    n = draw(st.integers(1, 8))
    customers, subs = [], []
    for i in range(n):
        signup = BASE_DAY + timedelta(days=draw(st.integers(0, 300)))
        customers.append({"customer_id": f"c{i}", "signup_date": signup.isoformat()})
        length = draw(st.one_of(st.none(), st.integers(1, 200)))
        end = None if length is None else (signup + timedelta(days=length)).isoformat()
        subs.append(sub(f"s{i}", f"c{i}", signup.isoformat(), end, float(draw(st.integers(1, 500)))))
        if length is not None and draw(st.booleans()):
            back = signup + timedelta(days=length + draw(st.integers(1, 120)))
            subs.append(sub(f"r{i}", f"c{i}", back.isoformat(), None, float(draw(st.integers(1, 500)))))
    as_of = BASE_DAY + timedelta(days=draw(st.integers(200, 420)))
    return {"customers": customers, "subscriptions": subs}, as_of


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subscription_books())
def test_cohort_invariants_hold_for_any_subscription_book(book: tuple[dict[str, list[dict[str, object]]], date]) -> None:
    """cumulative ≥ recurring elementwise (both bases); month-0 recurring logo retention is 1 when every customer starts
    paying in the signup month; logo values lie in [0, 1]; None cells coincide across modes."""
    tables, as_of = book
    with tempfile.TemporaryDirectory() as folder:
        ds = open_at(quick_store(Path(folder) / "h.db", tables), as_of.isoformat())
        for basis in ("logo", "revenue"):
            recurring = cohort_retention(ds, "recurring", basis)
            cumulative = cohort_retention(ds, "cumulative", basis)
            for rec_row, cum_row in zip(recurring.values, cumulative.values):
                for rec, cum in zip(rec_row, cum_row):
                    assert (rec is None) == (cum is None)
                    if rec is not None:
                        assert cum >= rec - 1e-12
            if basis == "logo":
                for row in recurring.values + cumulative.values:
                    assert all(0.0 <= v <= 1.0 for v in row if v is not None)
                for row in recurring.values:
                    assert row[0] in (1.0, None)
        ds.close()


SEGMENTS = {"a": "SMB", "b": "Ent", "c": "SMB", "d": "Ent", "e": "SMB", "f": "Ent"}


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    customers = [{**row, "segment": SEGMENTS[str(row["customer_id"])]} for row in TABLES["customers"]]
    return quick_store(tmp_path_factory.mktemp("cohorts_seg") / "segmented.db", {**TABLES, "customers": customers})


@pytest.mark.parametrize("whole_first", [False, True])
def test_a_filtered_scopes_triangle_is_its_own_customers_whether_or_not_the_whole_bases_rows_are_at_hand(
        segmented: Path, whole_first: bool) -> None:
    """SMB = {a, c, e} (the example above). Logo recurring: Jan {a}: a a a → 1, 1, 1; Feb {c}: c, – → 1, 0; Mar {e}:
    1 (April, partial, unobserved: None). Revenue recurring: Jan a 100, 100, 100 → 1, 1, 1; Feb c 40, 0 → 1, 0; Mar e
    70 → 1. The same whether the
    filtered scope builds its rows itself or takes them from the whole base's, memoised by an earlier whole call."""
    from lifecycle.filters import Filters
    from lifecycle.memo import MEMO

    MEMO.clear()
    window = ("2024-01-01", "2024-04-15")
    if whole_first:
        for basis in ("logo", "revenue"):
            cohort_retention(open_at(segmented, "2024-04-15", window), basis=basis)  # type: ignore[arg-type]
    smb = Filters(segment=("SMB",))
    logo = cohort_retention(open_at(segmented, "2024-04-15", window, smb))
    revenue = cohort_retention(open_at(segmented, "2024-04-15", window, smb), basis="revenue")
    assert logo.cohorts == revenue.cohorts == ("2024-01", "2024-02", "2024-03")
    assert logo.sizes == (1, 1, 1)
    assert logo.values == ((1.0, 1.0, 1.0, N), (1.0, 0.0, N, N), (1.0, N, N, N))
    assert revenue.base == (100.0, 40.0, 70.0)
    assert revenue.values == ((1.0, 1.0, 1.0, N), (1.0, 0.0, N, N), (1.0, N, N, N))
    MEMO.clear()
