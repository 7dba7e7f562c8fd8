"""The data range reads the scanned columns of one table in one scan, and on SQLite runs its statements on two
connections (``lifecycle.sources.base.bounds_per_statement``): the same MIN and MAX as one statement per column.

Fixture (by hand): subscriptions start 2024-01-05 .. 2024-03-01, one ended 2024-09-30, one with a blank end and one
open (NULL); tickets opened 2024-02-10 / 2024-04-01, one closed 2024-05-02, one blank; invoices issued 2024-01-31 /
2024-02-29 (due later), one paid 2024-03-03, one with a blank issue day (skipped: a blank sorts before every date).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lifecycle.errors import QueryError
from lifecycle.sources import SqliteSource, base
from lifecycle.sources.base import _bound_sql, _dated_columns, _run_jobs, bounds_per_statement, data_range
from tests.builders import make_store


def _tables() -> dict[str, list[dict[str, Any]]]:
    def sub(sid: str, start: str, end: str | None) -> dict[str, Any]:
        return {"subscription_id": sid, "customer_id": "a", "start_date": start, "end_date": end, "mrr": 10.0}

    def ticket(tid: str, opened: str, closed: str | None) -> dict[str, Any]:
        return {"ticket_id": tid, "customer_id": "a", "opened_at": opened, "closed_at": closed}

    def invoice(iid: str, issued: str, due: str, paid: str | None) -> dict[str, Any]:
        return {"invoice_id": iid, "customer_id": "a", "issued_at": issued, "due_date": due, "amount": 10.0,
                "paid_at": paid, "status": "paid" if paid else "open"}

    return {
        "customers": [{"customer_id": "a", "signup_date": "2024-01-02"}, {"customer_id": "b", "signup_date": "2024-02-03"}],
        "subscriptions": [sub("s1", "2024-01-05", "2024-09-30"), sub("s2", "2024-03-01", ""), sub("s3", "2024-02-01", None)],
        "tickets": [ticket("t1", "2024-02-10T09:00:00", "2024-05-02T10:00:00"), ticket("t2", "2024-04-01T09:00:00", "")],
        "invoices": [invoice("i1", "2024-01-31", "2024-02-14", "2024-03-03"), invoice("i2", "2024-02-29", "2024-10-15", None),
                     invoice("i3", "", "2024-11-30", None)],
    }


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    return make_store(tmp_path / "d.db", _tables())


def _one_statement_per_column(connection: Any) -> dict[tuple[str, str], tuple[Any, Any]]:
    """The oracle: each column by its own ``_bound_sql`` statement (its WHERE keeps the non-empty values)."""
    found = {}
    for table, column, with_min in _dated_columns():
        if connection.has_table(table):
            row = connection.rows(_bound_sql(table, column, with_min))[0]
            found[(table, column)] = (row[0] if with_min else None, row[1])
    return found


def test_the_bounds_are_the_hand_computed_ones_and_those_of_one_statement_per_column(path: Path) -> None:
    connection = SqliteSource(path).connect()
    found = bounds_per_statement(connection, _dated_columns())
    assert found[("subscriptions", "start_date")] == ("2024-01-05", "2024-03-01")
    assert found[("subscriptions", "end_date")] == (None, "2024-09-30")
    assert found[("tickets", "opened_at")] == ("2024-02-10T09:00:00", "2024-04-01T09:00:00")
    assert found[("tickets", "closed_at")] == (None, "2024-05-02T10:00:00")
    assert found[("invoices", "issued_at")] == ("2024-01-31", "2024-02-29")
    assert found[("invoices", "paid_at")] == (None, "2024-03-03")
    assert found[("customers", "signup_date")] == ("2024-01-02", "2024-02-03")
    assert found == _one_statement_per_column(connection)
    assert list(found) == [(t, c) for t, c, _ in _dated_columns() if connection.has_table(t)]  # in the order asked
    covered = data_range(connection)
    assert (covered.first, covered.last, covered.recorded_last) == (date(2024, 1, 2), date(2024, 4, 1), date(2024, 9, 30))


class _NoSibling:
    """A connection without ``sibling``: every statement in the caller's thread."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "sibling":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_two_connections_give_what_one_gives(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads (the connection and its sibling) and one thread over the same file: the same bounds; and the
    statements the second connection ran are real ones (it opened and read the file)."""
    source = SqliteSource(path)
    opened: list[object] = []
    original = type(source.connect()).sibling

    def counted(self: Any) -> Any:
        other = original(self)
        opened.append(other)
        return other

    monkeypatch.setattr(type(source.connect()), "sibling", counted)
    monkeypatch.setattr(base, "PARALLEL_ROWS", 0)  # the fixture is tiny: two connections whatever its size
    together = bounds_per_statement(source.connect(), _dated_columns())
    assert len(opened) == 1
    alone = bounds_per_statement(_NoSibling(source.connect()), _dated_columns())
    assert together == alone == _one_statement_per_column(source.connect())


def test_an_error_on_either_connection_is_raised_to_the_caller(path: Path) -> None:
    """A job failing in the helper thread or in the caller's: the caller gets the error, not a partial range."""
    connection = SqliteSource(path).connect()

    def fails(_: Any) -> Any:
        raise QueryError("query failed: boom")

    for jobs in ([(base.PARALLEL_ROWS, fails), (1, lambda c: {})], [(base.PARALLEL_ROWS, lambda c: {}), (1, fails)]):
        with pytest.raises(QueryError, match="boom"):
            _run_jobs(connection, jobs)
    assert _run_jobs(connection, [(1, lambda c: {("x", "y"): (1, 2)})]) == [{("x", "y"): (1, 2)}]
