"""The store: schema creation, atomic build-and-swap writes, read-only connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lifecycle.errors import DatasetNotFoundError, SchemaVersionError
from lifecycle.schema import SCHEMA_VERSION, TABLES
from lifecycle.store import atomic_write, open_readonly, table_row_counts


def test_new_database_has_every_canonical_table_and_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path):
        pass
    conn = open_readonly(path)
    assert set(table_row_counts(conn)) == set(TABLES)
    assert conn.execute("SELECT value FROM _meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_failed_write_leaves_previous_database_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "001", "signup_date": "2024-01-01"})
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_write(path) as db:
            db["customers"].insert({"customer_id": "002", "signup_date": "2024-01-02"})
            raise RuntimeError("boom")
    assert path.read_bytes() == before
    assert {p.name for p in tmp_path.iterdir()} <= {"x.db", "x.db.lock"}, "no working copy is left behind"


def test_readonly_connection_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path):
        pass
    conn = open_readonly(path)
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("INSERT INTO customers (customer_id, signup_date) VALUES ('a', '2024-01-01')")


def test_missing_database_names_the_path_and_the_next_step(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="lifecycle demo"):
        open_readonly(tmp_path / "nope.db")


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["_meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION + 1)}, pk="key")
    with pytest.raises(SchemaVersionError, match="newer"):
        open_readonly(path)


def test_a_version_2_database_gains_the_renewal_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    """Schema 3 adds term_months, current_period_end, cancel_at_period_end and trial_end to subscriptions and
    attempt_count to invoices: a database written at version 2 gets them, empty, on its next write."""
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO _meta VALUES ('schema_version', '2')")
    conn.execute("CREATE TABLE subscriptions (subscription_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, "
                 "start_date TEXT NOT NULL, end_date TEXT, mrr REAL NOT NULL, plan TEXT, seats INTEGER, status TEXT, _source TEXT)")
    conn.execute("INSERT INTO subscriptions (subscription_id, customer_id, start_date, mrr) VALUES ('S1', 'C1', '2024-01-01', 50)")
    conn.commit()
    conn.close()
    with atomic_write(path):
        pass
    conn = open_readonly(path)
    columns = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(subscriptions)")}
    assert {k: columns[k] for k in ("term_months", "current_period_end", "cancel_at_period_end", "trial_end")} == {
        "term_months": "REAL", "current_period_end": "TEXT", "cancel_at_period_end": "INTEGER", "trial_end": "TEXT"}
    assert "attempt_count" in {row[1] for row in conn.execute("PRAGMA table_info(invoices)")}
    assert conn.execute("SELECT subscription_id, mrr, term_months FROM subscriptions").fetchall() == [("S1", 50.0, None)]
    assert conn.execute("SELECT value FROM _meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def _index_columns(conn: sqlite3.Connection, table: str) -> set[tuple[str, ...]]:
    names = [row[1] for row in conn.execute(f'PRAGMA index_list("{table}")')]
    return {tuple(row[2] for row in conn.execute(f'PRAGMA index_info("{name}")')) for name in names}


def test_per_customer_event_name_aggregate_reads_only_an_index(tmp_path: Path) -> None:
    """The events table carries (customer_id, event_name, occurred_at), so a count and first time per customer and
    event name — the activation and milestone aggregates — is answered from that index in its order, no table row read."""
    path = tmp_path / "x.db"
    with atomic_write(path):
        pass
    conn = open_readonly(path)
    assert ("customer_id", "event_name", "occurred_at") in _index_columns(conn, "events")
    plan = " ".join(row[3] for row in conn.execute(
        "EXPLAIN QUERY PLAN SELECT customer_id, event_name, COUNT(*), MIN(occurred_at) FROM events "
        "WHERE occurred_at < ? GROUP BY customer_id, event_name", ("2025-01-01",)))
    assert "COVERING INDEX" in plan and "TEMP B-TREE" not in plan


def test_a_database_without_the_covering_index_gains_it_on_its_next_write_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with atomic_write(path) as db:
        db["events"].insert({"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-01", "event_name": "login"})
    conn = sqlite3.connect(path)
    for name in [row[1] for row in conn.execute("PRAGMA index_list(events)")]:
        if name.startswith("idx_events_customer_id_event_name"):
            conn.execute(f'DROP INDEX "{name}"')
    conn.commit()
    assert ("customer_id", "event_name", "occurred_at") not in _index_columns(conn, "events")
    conn.close()
    with atomic_write(path):
        pass
    conn = open_readonly(path)
    assert ("customer_id", "event_name", "occurred_at") in _index_columns(conn, "events")
    assert conn.execute("SELECT event_id, customer_id, event_name FROM events").fetchall() == [("E1", "C1", "login")]
