"""On SQLite the data range reads a large per-customer table's first and last time customer by customer through its
(customer, time) index (``bounds_by_customer``) instead of scanning every row: it must give exactly what the scan
gives, and leave tables with few rows per customer to the scan."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from lifecycle.sources import SqliteSource, base
from lifecycle.sources.base import (
    ROWS_PER_CUSTOMER_FOR_SEEKS,
    bounds_by_customer,
    bounds_from_rollup,
    bounds_per_statement,
    data_range,
)
from tests.builders import make_store


def _events(per_customer: int) -> dict[str, list[dict[str, object]]]:
    """Three customers, ``per_customer`` events each on days inside 2024-03-01..2024-03-28, plus by hand: b's event
    at 2024-02-02T08:00 (the earliest), c's at 2024-07-04T18:30 (the latest), and a's blank time (ignored — a blank
    sorts before every date, so a MIN taking it would answer '')."""
    customers = [{"customer_id": cid, "signup_date": "2024-01-10"} for cid in ("a", "b", "c")]
    events = [{"event_id": f"{cid}{k}", "customer_id": cid, "occurred_at": f"2024-03-{1 + k % 28:02d}T12:00:00",
               "event_name": "login"} for cid in ("a", "b", "c") for k in range(per_customer)]
    events += [{"event_id": "b-first", "customer_id": "b", "occurred_at": "2024-02-02T08:00:00", "event_name": "login"},
               {"event_id": "c-last", "customer_id": "c", "occurred_at": "2024-07-04T18:30:00", "event_name": "login"},
               {"event_id": "a-blank", "customer_id": "a", "occurred_at": "", "event_name": "login"}]
    return {"customers": customers, "events": events}


def test_the_first_and_last_event_read_customer_by_customer_are_the_hand_computed_ones(tmp_path: Path) -> None:
    connection = SqliteSource(make_store(tmp_path / "d.db", _events(ROWS_PER_CUSTOMER_FOR_SEEKS + 10))).connect()
    assert bounds_by_customer(connection, "events", "occurred_at") == ("2024-02-02T08:00:00", "2024-07-04T18:30:00")
    scanned = connection.rows(base._bound_sql("events", "occurred_at", True))[0]
    assert tuple(scanned) == ("2024-02-02T08:00:00", "2024-07-04T18:30:00")
    found = data_range(connection)
    assert (found.first, found.last) == (date(2024, 1, 10), date(2024, 7, 4))


def test_the_data_range_is_the_same_with_and_without_the_seeks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connection = SqliteSource(make_store(tmp_path / "d.db", _events(ROWS_PER_CUSTOMER_FOR_SEEKS + 10))).connect()
    columns = [("customers", "signup_date", True), ("events", "occurred_at", True)]
    sought = bounds_per_statement(connection, columns)
    monkeypatch.setattr(base, "bounds_by_customer", lambda *args: None)
    assert bounds_per_statement(connection, columns) == sought


def test_a_table_with_few_rows_per_customer_is_scanned(tmp_path: Path) -> None:
    """10 events per customer: seeking three ids and six times would cost more than reading 33 rows."""
    connection = SqliteSource(make_store(tmp_path / "d.db", _events(10))).connect()
    assert bounds_by_customer(connection, "events", "occurred_at") is None
    assert bounds_per_statement(connection, [("events", "occurred_at", True)])[("events", "occurred_at")] == (
        "2024-02-02T08:00:00", "2024-07-04T18:30:00")


def test_a_time_column_without_a_customer_index_is_scanned(tmp_path: Path) -> None:
    """``customers.signup_date`` has no (customer, time) index (the customer is the key): nothing to seek."""
    connection = SqliteSource(make_store(tmp_path / "d.db", _events(ROWS_PER_CUSTOMER_FOR_SEEKS + 10))).connect()
    assert bounds_by_customer(connection, "customers", "signup_date") is None


def test_the_events_rollup_gives_the_scans_first_and_last_event(tmp_path: Path) -> None:
    """The store keeps the events rollup (``lifecycle.events_daily``): its first and last days lead to b's 02-02 and
    c's 07-04 events (a's blank time ignored, as the scan ignores it) — with few or many events per customer."""
    for per_customer in (10, ROWS_PER_CUSTOMER_FOR_SEEKS + 10):
        connection = SqliteSource(make_store(tmp_path / f"r{per_customer}.db", _events(per_customer))).connect()
        assert bounds_from_rollup(connection) == ("2024-02-02T08:00:00", "2024-07-04T18:30:00")
        assert tuple(connection.rows(base._bound_sql("events", "occurred_at", True))[0]) == bounds_from_rollup(connection)


def test_a_stale_rollup_is_not_read_for_the_bounds(tmp_path: Path) -> None:
    """Another program adds an event on 2024-09-01 (the triggers mark the rollup stale): the rollup is not asked and
    the data range ends on that day."""
    path = make_store(tmp_path / "d.db", _events(10))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO events (event_id, customer_id, occurred_at, event_name) "
                     "VALUES ('late', 'a', '2024-09-01T10:00:00', 'login')")
    conn.close()
    connection = SqliteSource(path).connect()
    assert bounds_from_rollup(connection) is None
    assert data_range(connection).last == date(2024, 9, 1)
