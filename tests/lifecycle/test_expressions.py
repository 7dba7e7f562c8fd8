"""The expression layer (lifecycle/sources/expressions.py): engine queries written once in the reference dialect,
compiled per engine with every bound parameter kept in place (values are never inlined)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlglot

from lifecycle.dataset import Dataset
from lifecycle.scope import Scope
from lifecycle.snapshot import build_snapshot
from lifecycle.snapshot import sql as snapshot_sql
from lifecycle.sources import SqliteSource
from lifecycle.sources.expressions import compile_sql
from tests.builders import make_store
from tests.lifecycle.test_backend_parity import RecordingConnection
from tests.lifecycle.test_snapshot import AS_OF, fixture_tables


def test_the_reference_dialect_is_run_as_written_and_parameters_stay_bound_elsewhere() -> None:
    sql = "SELECT SUBSTR(e.occurred_at, 1, 10) AS day FROM events e WHERE e.occurred_at >= ?"
    assert compile_sql(sql, "sqlite") is sql
    assert compile_sql(sql, "postgres") == ("SELECT SUBSTRING(e.occurred_at FROM 1 FOR 10) AS day FROM events AS e "
                                            "WHERE e.occurred_at >= %s")  # the standard SQL spelling
    assert compile_sql(sql, "duckdb").count("?") == 1


def _events_statements(path: Path, columns: tuple[str, ...] | None = None) -> list[str]:
    """The statements a snapshot build (of ``columns`` only, when given) runs on the events table."""
    recording = RecordingConnection(SqliteSource(path).connect())
    try:
        build_snapshot(Dataset(recording, Scope.at(date.fromisoformat(AS_OF))), columns)
    finally:
        recording.close()
    return [sql for sql in recording.statements if " FROM events e " in sql]


SECTION_COLUMNS = (("events_7d",), ("last_event_at",), ("activated",), ("used_report_created",))
"""One column of each events section (recent windows, latest event, milestones, feature use): built alone, each runs
its own narrower statement."""


def test_a_whole_snapshot_reads_the_events_table_in_one_pass_where_seeks_do_not_pay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB, Spark, or SQLite without the events' customer indexes: one statement over the events for the four
    sections (``prefetch_events``)."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    monkeypatch.setattr(snapshot_sql, "seeks_pay", lambda _dataset: False)
    assert len(_events_statements(path)) == 1


def test_a_whole_snapshot_on_sqlite_seeks_per_customer_instead_of_a_pass_over_every_event(tmp_path: Path) -> None:
    """On SQLite with the importer's indexes: one statement of correlated seeks (latest and first activity, features
    used), the window counts over the last 90 days only, the milestones' own statement (this dataset has no identity to
    memoise ``milestone_events`` under) — none evaluates the sections' expressions on every event before as_of."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    statements = _events_statements(path)
    assert len(statements) == 3
    assert sum("x.customer_id = d.customer_id" in sql for sql in statements) == 1
    assert sum("e.occurred_at >= ?" in sql.split(" FROM events e ")[1] for sql in statements) == 1  # the 90-day window
    assert sum("e.event_name IN (?, ?)" in sql for sql in statements) == 1  # the milestones' two event names


def test_the_snapshot_events_aggregate_compiles_for_spark_and_duckdb_with_the_same_placeholders(tmp_path: Path) -> None:
    """Every statement the snapshot runs on events — the whole build's one pass and each section's own — written for
    Spark (issue #18) and DuckDB: it parses back, keeps one ``?`` per parameter, and names the same columns."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    events = _events_statements(path) + [sql for columns in SECTION_COLUMNS for sql in _events_statements(path, columns)]
    assert len(events) >= 5
    for sql in events:
        for dialect in ("spark", "duckdb"):
            compiled = compile_sql(sql, dialect)
            assert compiled.count("?") == sql.count("?")
            tree = sqlglot.parse_one(compiled, read=dialect)
            assert [e.alias_or_name for e in tree.expressions] == [e.alias_or_name for e in sqlglot.parse_one(sql).expressions]


def test_a_connection_compiles_portable_sql_once_and_runs_compiled_text_as_it_is() -> None:
    """``in_dialect``: SQLite's ``x NOT GLOB ?`` becomes DuckDB's ``NOT x GLOB ?``; text already compiled for the
    dialect comes back unchanged (the snapshot compiles explicitly, the connection must not compile it again)."""
    from lifecycle.sources.expressions import in_dialect

    sql = 'SELECT "signup_date" FROM "customers" WHERE "signup_date" NOT GLOB ?'
    compiled = in_dialect(sql, "duckdb")
    assert "NOT \"signup_date\" GLOB ?" in compiled
    assert in_dialect(compiled, "duckdb") is compiled
    assert in_dialect(sql, "sqlite") is sql


def test_the_milestone_pass_for_every_as_of_compiles_for_spark_and_duckdb(tmp_path: Path) -> None:
    """The one statement the stage history's milestone columns read on every as_of (``milestone_events``: a window
    function over the value and onboarding events) is written for Spark and DuckDB with its parameters in place."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    recording = RecordingConnection(SqliteSource(path).connect())
    try:
        dataset = Dataset(recording, Scope.at(date.fromisoformat(AS_OF)), identity=("recorded", str(path)))
        build_snapshot(dataset, ["activated"])
    finally:
        recording.close()
    (sql,) = [s for s in recording.statements if "ROW_NUMBER()" in s]
    for dialect in ("spark", "duckdb"):
        compiled = compile_sql(sql, dialect)
        assert compiled.count("?") == sql.count("?") == 7  # value, 4 onboarding steps (the default), the IN pair
        assert [e.alias_or_name for e in sqlglot.parse_one(compiled, read=dialect).expressions][:2] == ["customer_id", "first_value_at"]
