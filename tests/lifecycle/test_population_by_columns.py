"""A scope's population (the customers its attribute filters select, ``Dataset.population``): a plan filter masks every
customer's plan on as_of, read once per data identity and day; the other filters keep their statement.

Fixture (hand-made): customers A (SMB), B (SMB), C (Enterprise), D (no segment, own plan Legacy, no subscription),
E (SMB, signs up 2024-05-01, after the days asked: the population holds every customer, signed up or not).
Subscriptions: A Pro from 2024-01-10; B Basic from 2024-01-15, Pro from 2024-03-01; C Basic from 2024-02-01;
E Pro from 2024-05-01. So on 2024-02-29: Pro {A}, Basic {B, C}, Legacy {D}; on 2024-03-31: Pro {A, B}, Basic {C};
E's plan is its own (none) before 2024-05-01, so E is in no plan on those days.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

import lifecycle.sources.sqlite
from lifecycle.dataset import Dataset
from lifecycle.filters import Dimension, Filters
from tests.console import import_csvs

CUSTOMERS = ("customer_id,signup_date,segment,plan\nA,2024-01-10,SMB,\nB,2024-01-15,SMB,\nC,2024-02-01,Enterprise,\n"
             "D,2024-02-10,,Legacy\nE,2024-05-01,SMB,\n")
SUBSCRIPTIONS = ("subscription_id,customer_id,start_date,end_date,mrr,plan\n"
                 "S1,A,2024-01-10,,100,Pro\n"
                 "S2,B,2024-01-15,2024-03-01,20,Basic\n"
                 "S3,B,2024-03-01,,100,Pro\n"
                 "S4,C,2024-02-01,,20,Basic\n"
                 "S5,E,2024-05-01,,100,Pro\n")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return import_csvs(tmp_path, {"customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS}, "p.db")


def _population(db: Path, day: str, **filters: Any) -> list[str]:
    dataset = Dataset.open(db, date.fromisoformat(day), filters=Filters(**filters))
    try:
        return sorted(dataset.population())
    finally:
        dataset.close()


@pytest.mark.parametrize(("day", "filters", "expected"), [
    ("2024-02-29", {"plan": ("Pro",)}, ["A"]),
    ("2024-02-29", {"plan": ("Basic",)}, ["B", "C"]),
    ("2024-02-29", {"plan": ("Legacy",)}, ["D"]),
    ("2024-03-31", {"plan": ("Pro",)}, ["A", "B"]),
    ("2024-03-31", {"plan": ("Pro", "Basic")}, ["A", "B", "C"]),
    ("2024-03-31", {"segment": ("SMB",)}, ["A", "B", "E"]),
    ("2024-03-31", {"segment": ("SMB",), "plan": ("Pro",)}, ["A", "B"]),
    ("2024-03-31", {"segment": ("Enterprise",), "plan": ("Pro",)}, []),
    ("2024-03-31", {"segment": ("SMB",), "cohort_from": date(2024, 1, 12)}, ["B", "E"]),
    ("2024-06-30", {"plan": ("Pro",)}, ["A", "B", "E"]),
])
def test_population_is_the_customers_the_filters_select(db: Path, day: str, filters: dict[str, Any],
                                                         expected: list[str]) -> None:
    assert _population(db, day, **filters) == expected


def test_a_plan_filter_is_one_statement_per_value_until_every_customers_plan_is_read_whole(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four plan filters on one day (Pro twice): one statement per value (the repeat is memoised) — at a million
    customers 0.6–0.7 s of CPU each, against 1.3–1.6 s for reading every customer's plan. Once a caller read the plans
    of that day whole (``attribute_values``: compare_segments by plan), another plan filter is a mask: no statement."""
    from lifecycle.filters import Dimension
    from lifecycle.memo import MEMO

    statements: list[str] = []
    original = lifecycle.sources.sqlite.SqliteConnection.query

    def counted(self: Any, sql: str, params: Any = ()) -> Any:
        if "FROM customers c" in sql and "FROM subscriptions s" in sql:
            statements.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(lifecycle.sources.sqlite.SqliteConnection, "query", counted)
    MEMO.clear()
    found = [_population(db, "2024-03-31", plan=(p,)) for p in ("Pro", "Basic", "Legacy", "Pro")]
    assert found == [["A", "B"], ["C"], ["D"], ["A", "B"]]
    assert len(statements) == 3, statements
    dataset = Dataset.open(db, date.fromisoformat("2024-03-31"))
    try:
        dataset.attribute_values(Dimension.PLAN)
    finally:
        dataset.close()
    assert len(statements) == 4
    assert _population(db, "2024-03-31", plan=("Pro", "Basic")) == ["A", "B", "C"]
    assert len(statements) == 4
    assert _population(db, "2024-02-29", plan=("Pro",)) == ["A"]  # another day: its own statement
    assert len(statements) == 5
    MEMO.clear()


@pytest.mark.parametrize(("day", "filters", "expected"), [
    ("2024-03-31", {"segment": ("SMB",)}, ["A", "B", "E"]),
    ("2024-03-31", {"segment": ("Enterprise",)}, ["C"]),
    ("2024-03-31", {"segment": ("SMB", "Enterprise")}, ["A", "B", "C", "E"]),
    ("2024-03-31", {"segment": ("SMB",), "plan": ("Pro",)}, ["A", "B"]),
    ("2024-02-29", {"segment": ("SMB",), "plan": ("Basic",)}, ["B"]),
    ("2024-03-31", {"segment": ("Nope",)}, []),
])
def test_a_column_read_whole_selects_by_mask_what_the_statement_selects(db: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      day: str, filters: dict[str, Any],
                                                                      expected: list[str]) -> None:
    """Once the segment column is read whole (``attribute_values``, as compare_segments does before its groups), a
    segment filter — alone, or with a plan once the plans are read whole too — is a mask over it: the same customers as the fixture's hand list (D has no
    segment, so no segment value selects it), and no statement narrows the customers any more."""
    narrowing: list[str] = []
    original = lifecycle.sources.sqlite.SqliteConnection.query

    def counted(self: Any, sql: str, params: Any = ()) -> Any:
        if sql.startswith("SELECT c.customer_id AS customer_id FROM customers c WHERE"):
            narrowing.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(lifecycle.sources.sqlite.SqliteConnection, "query", counted)
    whole = Dataset.open(db, date.fromisoformat(day))
    try:
        ids, values = whole.attribute_values(Dimension.SEGMENT)
        assert dict(zip(ids, values.astype(object).where(values.notna(), None), strict=True)) == {
            "A": "SMB", "B": "SMB", "C": "Enterprise", "D": None, "E": "SMB"}
        if "plan" in filters:  # with a plan filter, the plans of that day read whole too (compare_segments does)
            whole.attribute_values(Dimension.PLAN)
    finally:
        whole.close()
    assert _population(db, day, **filters) == expected
    assert narrowing == []


def test_a_cohort_bound_keeps_the_statement_even_with_the_column_at_hand(db: Path) -> None:
    """A signup-cohort bound is not a column mask: SMB customers who signed up from 2024-01-12 on are B and E."""
    whole = Dataset.open(db, date(2024, 3, 31))
    try:
        whole.attribute_values(Dimension.SEGMENT)
    finally:
        whole.close()
    assert _population(db, "2024-03-31", segment=("SMB",), cohort_from=date(2024, 1, 12)) == ["B", "E"]
