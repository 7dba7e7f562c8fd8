"""The event aggregates the database computes for the metrics, pinned against hand computation on a tiny fixture,
on SQLite and on DuckDB reading the same file.

as_of 2024-01-31. Customers a (EU, signup 01-01), b (US, 01-05), c (EU, signs up 02-10: after as_of); events:

| id | customer | occurred_at          | event_name |
|----|----------|----------------------|------------|
| 1  | a        | 2024-01-03T10:00:00  | login      |
| 2  | a        | 2024-01-02T08:00:00  | login      |
| 3  | a        | 2024-01-03T23:59:59  | login      |
| 4  | a        | 2024-01-10           | report     |
| 5  | b        | 2024-01-20T00:00:00  | login      |
| 6  | b        | 2024-02-01T00:00:00  | login      |  ← after as_of: left out everywhere
| 7  | c        | 2024-01-25T12:00:00  | report     |  ← c signs up after as_of; unfiltered scopes still count it
| 8  | zz       | 2024-01-04T09:00:00  | login      |  ← no such customer (an orphan event)

Hand computation, unfiltered (every event by as_of counts, as ``Dataset.table('events')`` reads them):
  per (customer, name): (a, login) 3 events, first 01-02T08:00; (a, report) 1, first 01-10; (b, login) 1, 01-20;
  (c, report) 1, 01-25T12:00; (zz, login) 1, 01-04T09:00.
  per (customer, name, day): (a, login, 01-02) 1, (a, login, 01-03) 2, (a, report, 01-10) 1, (b, login, 01-20) 1,
  (c, report, 01-25) 1, (zz, login, 01-04) 1; logins on 01-03 … 01-20 only: (a, 01-03) 2, (zz, 01-04) 1, (b, 01-20) 1.
With the filter country = EU: customers a and c (the filter reads ``customers``; signup after as_of does not matter to
event rows, as in ``Dataset.table``): rows of a and c only.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.memo import MEMO
from lifecycle.metrics.common import event_counts
from lifecycle.metrics.event_aggregates import daily_events, name_summary, named_events
from lifecycle.scope import Scope
from lifecycle.sources import open_source
from tests.lifecycle.metrics.stores import quick_store

AS_OF = date(2024, 1, 31)


def _customer(customer_id: str, signup: str, country: str) -> dict[str, object]:
    return {"customer_id": customer_id, "signup_date": signup, "country": country}


def _event(event_id: str, customer: str, at: str, name: str) -> dict[str, object]:
    return {"event_id": event_id, "customer_id": customer, "occurred_at": at, "event_name": name}


TABLES = {
    "customers": [_customer("a", "2024-01-01", "EU"), _customer("b", "2024-01-05", "US"), _customer("c", "2024-02-10", "EU")],
    "events": [
        _event("1", "a", "2024-01-03T10:00:00", "login"),
        _event("2", "a", "2024-01-02T08:00:00", "login"),
        _event("3", "a", "2024-01-03T23:59:59", "login"),
        _event("4", "a", "2024-01-10", "report"),
        _event("5", "b", "2024-01-20T00:00:00", "login"),
        _event("6", "b", "2024-02-01T00:00:00", "login"),
        _event("7", "c", "2024-01-25T12:00:00", "report"),
        _event("8", "zz", "2024-01-04T09:00:00", "login"),
    ],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("events") / "fixture.db", TABLES)


def _dataset(store: Path, engine: str, filters: Filters | None = None) -> Dataset:
    return Dataset.over(open_source(store, engine=engine), Scope.at(AS_OF, filters))


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple[object, ...]]:
    out = frame[columns].astype(object)
    return sorted(tuple(str(v) if isinstance(v, pd.Timestamp) else v for v in row) for row in out.itertuples(index=False))


ENGINES = ["sqlite", "duckdb"]


@pytest.mark.parametrize("engine", ENGINES)
def test_name_summary_counts_each_customers_events_per_name_and_their_first_time(store: Path, engine: str) -> None:
    summary = name_summary(_dataset(store, engine))
    assert _rows(summary, ["customer_id", "event_name", "events", "first_at"]) == [
        ("a", "login", 3, "2024-01-02 08:00:00"),
        ("a", "report", 1, "2024-01-10 00:00:00"),
        ("b", "login", 1, "2024-01-20 00:00:00"),
        ("c", "report", 1, "2024-01-25 12:00:00"),
        ("zz", "login", 1, "2024-01-04 09:00:00"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_daily_events_count_per_calendar_day_within_names_and_dates(store: Path, engine: str) -> None:
    dataset = _dataset(store, engine)
    assert _rows(daily_events(dataset), ["customer_id", "event_name", "day", "events"]) == [
        ("a", "login", "2024-01-02 00:00:00", 1),
        ("a", "login", "2024-01-03 00:00:00", 2),
        ("a", "report", "2024-01-10 00:00:00", 1),
        ("b", "login", "2024-01-20 00:00:00", 1),
        ("c", "report", "2024-01-25 00:00:00", 1),
        ("zz", "login", "2024-01-04 00:00:00", 1),
    ]
    logins = daily_events(dataset, ("login",), date(2024, 1, 3), date(2024, 1, 20))
    assert _rows(logins, ["customer_id", "day", "events"]) == [
        ("a", "2024-01-03 00:00:00", 2), ("b", "2024-01-20 00:00:00", 1), ("zz", "2024-01-04 00:00:00", 1)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_filter_keeps_the_rows_of_the_customers_it_selects(store: Path, engine: str) -> None:
    dataset = _dataset(store, engine, Filters(country=("EU",)))
    assert sorted(set(name_summary(dataset)["customer_id"])) == ["a", "c"]
    assert sorted(set(daily_events(dataset)["customer_id"])) == ["a", "c"]
    assert event_counts(dataset).to_dict() == {"login": 3, "report": 2}


@pytest.mark.parametrize("engine", ENGINES)
def test_event_counts_are_most_frequent_first_and_match_the_events_table(store: Path, engine: str) -> None:
    dataset = _dataset(store, engine)
    counts = event_counts(dataset)
    assert list(counts.items()) == [("login", 5), ("report", 2)]
    names = dataset.table("events", columns=("customer_id", "occurred_at", "event_name"))["event_name"]
    assert counts.to_dict() == names.value_counts().to_dict()  # the invariant: the same as counting the rows


@pytest.mark.parametrize("engine", ENGINES)
def test_named_events_are_the_rows_of_those_names_by_as_of(store: Path, engine: str) -> None:
    rows = named_events(_dataset(store, engine), ("report",))
    assert _rows(rows, ["customer_id", "occurred_at", "event_name"]) == [
        ("a", "2024-01-10 00:00:00", "report"), ("c", "2024-01-25 12:00:00", "report")]


def test_a_later_process_reads_the_event_aggregates_from_the_cache_and_gets_the_same(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The full-table passes are kept beside the snapshots (Parquet, keyed by the data's identity): a fresh process
    (an empty memo) answers from them without scanning the events again, with the same frame."""
    MEMO.clear()  # computed here, in this test's data directory
    first = name_summary(_dataset(store, "sqlite"))
    MEMO.clear()  # what a new process starts with
    dataset = _dataset(store, "sqlite")
    ran: list[str] = []
    query = dataset.connection.query
    monkeypatch.setattr(dataset.connection, "query", lambda sql, params=(): ran.append(sql) or query(sql, params))
    again = name_summary(dataset)
    assert not [sql for sql in ran if "FROM events" in sql]
    pd.testing.assert_frame_equal(first, again)


def test_an_import_is_never_answered_from_the_aggregates_of_the_data_it_replaced(tmp_path: Path) -> None:
    """A new file swapped in (as an import does) has a new identity: the cached pass of the old file is not read."""
    path = quick_store(tmp_path / "swap.db", TABLES)
    assert event_counts(_dataset(path, "sqlite")).to_dict() == {"login": 5, "report": 2}
    MEMO.clear()
    fewer = {"customers": TABLES["customers"], "events": TABLES["events"][:4]}  # a's four events only
    os.replace(quick_store(tmp_path / "new.db", fewer), path)
    assert event_counts(_dataset(path, "sqlite")).to_dict() == {"login": 3, "report": 1}


@pytest.mark.parametrize("engine", ENGINES)
def test_recent_usage_counts_each_customers_active_days_and_features_of_the_last_30_days(store: Path, engine: str) -> None:
    """The 30 days ending on the window's last day (as_of 01-31): 01-02 … 01-31, every event is activity (no
    active_events configured). a: logins on 01-02 and 01-03 (two that day), a report on 01-10 → 3 active days, used
    report; b: 01-20 → 1 (its 02-01 login is after as_of); c: 01-25 report → 1, used; zz: 01-04 → 1."""
    from lifecycle.metrics.retention import recent_usage

    usage = recent_usage(_dataset(store, engine), ("report",))
    assert _rows(usage, ["customer_id", "active_days", "used_0"]) == [("a", 3, 1), ("b", 1, 0), ("c", 1, 1), ("zz", 1, 0)]


@pytest.mark.parametrize("engine", ENGINES)
def test_activity_periods_are_each_customers_active_days_months_or_presence(store: Path, engine: str) -> None:
    """Every event is activity here (no active_events configured); by as_of 01-31: a on 01-02, 01-03 (twice) and
    01-10; b on 01-20 (its 02-01 login is after as_of); c on 01-25; zz on 01-04. From 01-05 on: a 01-10, b, c."""
    from lifecycle.metrics.event_aggregates import activity_periods

    dataset = _dataset(store, engine)
    assert _rows(activity_periods(dataset, None), ["customer_id"]) == [("a",), ("b",), ("c",), ("zz",)]
    assert _rows(activity_periods(dataset, "day"), ["customer_id", "day"]) == [
        ("a", "2024-01-02 00:00:00"), ("a", "2024-01-03 00:00:00"), ("a", "2024-01-10 00:00:00"),
        ("b", "2024-01-20 00:00:00"), ("c", "2024-01-25 00:00:00"), ("zz", "2024-01-04 00:00:00")]
    assert _rows(activity_periods(dataset, "month"), ["customer_id", "day"]) == [
        ("a", "2024-01-01 00:00:00"), ("b", "2024-01-01 00:00:00"), ("c", "2024-01-01 00:00:00"), ("zz", "2024-01-01 00:00:00")]
    assert _rows(activity_periods(dataset, "day", date(2024, 1, 5)), ["customer_id", "day"]) == [
        ("a", "2024-01-10 00:00:00"), ("b", "2024-01-20 00:00:00"), ("c", "2024-01-25 00:00:00")]
