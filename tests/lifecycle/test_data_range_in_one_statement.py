"""Spark opens a dataset with one statement for the data's range (``bounds_in_one_statement``) instead of one per
column (``bounds_per_statement``), and counts per-customer distinct values as set sizes (``per_customer_sets``).
Both must give what the plain statements give; the reference is SQLite running the plain statements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlglot

from lifecycle.sources import SqliteSource
from lifecycle.sources.base import bounds_in_one_statement, bounds_per_statement, data_range
from lifecycle.sources.spark import per_customer_sets
from tests.builders import make_store

TABLES = {
    # hand-made: signups 2024-01-05..2024-03-01; an empty and a blank time value must not count
    "customers": [{"customer_id": "a", "signup_date": "2024-03-01"}, {"customer_id": "b", "signup_date": "2024-01-05"},
                  {"customer_id": "c", "signup_date": ""}],
    # events to 2024-06-30 (a timestamp: its day counts); a NULL time is skipped
    "events": [{"event_id": "e1", "customer_id": "a", "occurred_at": "2024-06-30T23:00:00", "event_name": "x"},
               {"event_id": "e2", "customer_id": "b", "occurred_at": "2024-02-01", "event_name": "x"}],
    # a cancellation after the last activity day: recorded_last only
    "subscriptions": [{"subscription_id": "s1", "customer_id": "a", "start_date": "2024-03-01", "end_date": "2024-09-15",
                       "mrr": 10.0, "status": "canceled"}],
}


def test_one_statement_reads_the_same_bounds_as_one_statement_per_column(tmp_path: Path) -> None:
    """Hand-computed: customers 2024-01-05..2024-03-01 (the blank signup ignored), events 2024-02-01..2024-06-30T23:00,
    subscriptions from 2024-03-01, ended by 2024-09-15; invoices exist in neither (no table rows)."""
    connection = SqliteSource(make_store(tmp_path / "d.db", TABLES)).connect()
    columns = [("customers", "signup_date", True), ("events", "occurred_at", True),
               ("subscriptions", "start_date", True), ("subscriptions", "end_date", False), ("invoices", "paid_at", False)]
    each = bounds_per_statement(connection, columns)
    assert each[("customers", "signup_date")] == ("2024-01-05", "2024-03-01")
    assert each[("events", "occurred_at")] == ("2024-02-01", "2024-06-30T23:00:00")
    assert each[("subscriptions", "end_date")] == (None, "2024-09-15")
    united = bounds_in_one_statement(connection, columns)
    present = {key: value for key, value in united.items() if value != (None, None)}  # empty tables: NULLs
    assert present == each


def test_the_data_range_is_the_same_either_way(tmp_path: Path) -> None:
    connection = SqliteSource(make_store(tmp_path / "d.db", TABLES)).connect()
    expected = data_range(connection)
    assert (expected.first, expected.last, expected.recorded_last) == (date(2024, 1, 5), date(2024, 6, 30), date(2024, 9, 15))
    assert data_range(connection, bounds_in_one_statement) == expected


SNAPSHOT_LIKE = ("SELECT e.customer_id AS customer_id, COUNT(DISTINCT CASE WHEN e.d >= ? THEN SUBSTR(e.d, 1, 10) END) AS days, "
                 "COUNT(DISTINCT CASE WHEN e.n IN (?, ?) THEN e.n END) AS features, MAX(e.d) AS last FROM events AS e "
                 "WHERE e.d < ? GROUP BY e.customer_id")


def test_two_per_customer_distinct_counts_become_set_sizes_with_their_parameters_in_place() -> None:
    tree = sqlglot.parse_one(SNAPSHOT_LIKE, read="spark")
    assert per_customer_sets(tree)
    text = tree.sql(dialect="spark")
    assert "DISTINCT" not in text and text.count("CAST(SIZE(COLLECT_SET(") == 2 and text.count("?") == 4
    assert text.index("e.d >= ?") < text.index("IN (?, ?)") < text.index("e.d < ?")


def test_a_lone_distinct_count_or_a_group_other_than_customers_keeps_count_distinct() -> None:
    """One distinct count: Spark plans it without expanding rows. Per month: a set could hold millions of ids."""
    lone = sqlglot.parse_one("SELECT e.customer_id, COUNT(DISTINCT e.n) FROM events AS e GROUP BY e.customer_id", read="spark")
    monthly = sqlglot.parse_one("SELECT SUBSTR(e.d, 1, 7) AS m, COUNT(DISTINCT e.customer_id), COUNT(DISTINCT e.n) "
                                "FROM events AS e GROUP BY SUBSTR(e.d, 1, 7)", read="spark")
    assert not per_customer_sets(lone) and not per_customer_sets(monthly)
