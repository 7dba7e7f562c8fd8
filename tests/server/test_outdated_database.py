"""A user's database written by an older schema: reads say so in one line and name the fix, `lifecycle migrate`
upgrades it in place.

Seen on an imported database from before schema 3 (renewal-aware subscriptions): every read failed with the raw
driver message "no such column: t.term_months". The fixture is such a database, made the way an older version
left it: the current tables without the columns schema 3 added, and ``_meta`` recording version 2.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
from mcp import Client

from lifecycle import events_daily
from lifecycle.schema import SCHEMA_VERSION, TABLES
from lifecycle.store import atomic_write, create_schema
from server.app import build_server
from tests.server.helpers import server_env

LIFECYCLE = Path(sys.executable).with_name("lifecycle")
ADDED_IN_3 = {"subscriptions": ("term_months", "current_period_end", "cancel_at_period_end", "trial_end"),
              "invoices": ("attempt_count",)}
"""The canonical columns schema 3 added (``lifecycle.store._add_canonical_columns``)."""


def _version_2_database(path: Path) -> Path:
    """One customer with one active subscription, stored as schema version 2 stored it."""
    db = sqlite_utils.Database(path)
    create_schema(db)
    db["customers"].insert({"customer_id": "c1", "signup_date": "2024-01-05"})
    db["subscriptions"].insert({"subscription_id": "s1", "customer_id": "c1", "plan": "pro", "mrr": 100.0,
                                "start_date": "2024-01-05", "status": "active"})
    for table, columns in ADDED_IN_3.items():
        for column in columns:
            db.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    db.execute("UPDATE _meta SET value = '2' WHERE key = 'schema_version'")
    db.conn.commit()
    db.close()
    return path


def _recorded_version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        conn.close()


def _lifecycle(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LIFECYCLE), *args], capture_output=True, text=True, timeout=300,
                          env=server_env(data_dir))


def test_reading_an_older_database_names_it_its_version_and_the_fix_in_one_line(
        tmp_path: Path, isolated_data_dir: Path) -> None:
    old = _version_2_database(tmp_path / "crm.db")
    done = _lifecycle(isolated_data_dir, "metrics", "--db", str(old), "--json")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(old) in lines[0] and "schema version 2" in lines[0]
    assert f"lifecycle migrate --db {old}" in lines[0]
    assert "Traceback" not in done.stderr and "no such column" not in done.stderr
    assert _recorded_version(old) == "2"  # reading never upgrades behind the user's back


def test_migrate_upgrades_in_place_keeping_the_rows_and_the_data_reads_again(
        tmp_path: Path, isolated_data_dir: Path) -> None:
    old = _version_2_database(tmp_path / "crm.db")
    done = _lifecycle(isolated_data_dir, "migrate", "--db", str(old))
    assert done.returncode == 0, done.stderr
    assert "from schema version 2 to" in done.stdout
    assert _recorded_version(old) == str(SCHEMA_VERSION)
    db = sqlite_utils.Database(old)
    assert [r["customer_id"] for r in db["customers"].rows] == ["c1"]
    assert set(ADDED_IN_3["subscriptions"]) <= set(db["subscriptions"].columns_dict)
    assert next(db["subscriptions"].rows)["term_months"] is None  # added empty: unknown, not invented
    db.close()
    read = _lifecycle(isolated_data_dir, "metrics", "--db", str(old), "--json")
    assert read.returncode == 0, read.stderr
    assert '"mrr"' in read.stdout


def test_migrate_leaves_a_current_database_untouched(tmp_path: Path, isolated_data_dir: Path) -> None:
    current = tmp_path / "current.db"
    with atomic_write(current):  # written by this version: current schema and a current events rollup
        pass
    before = current.stat()
    done = _lifecycle(isolated_data_dir, "migrate", "--db", str(current))
    assert done.returncode == 0, done.stderr
    assert "nothing to do" in done.stdout
    after = current.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_migrate_says_which_index_it_created_for_a_current_file_that_lacked_only_that(
        tmp_path: Path, isolated_data_dir: Path) -> None:
    current = tmp_path / "current.db"
    with atomic_write(current):  # current schema, rollup and indexes
        pass
    index = TABLES["subscriptions"].partial_indexes[0].name("subscriptions")
    conn = sqlite3.connect(current)
    try:
        conn.execute(f'DROP INDEX "{index}"')  # as a file written before the index existed
        conn.commit()
    finally:
        conn.close()
    done = _lifecycle(isolated_data_dir, "migrate", "--db", str(current))
    assert done.returncode == 0, done.stderr
    assert f"created the index it lacked: {index}" in done.stdout
    assert "rollup" not in done.stdout  # the rollup was current: not claimed as built
    again = _lifecycle(isolated_data_dir, "migrate", "--db", str(current))
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_migrate_builds_the_events_rollup_of_a_current_schema_written_by_another_program(
        tmp_path: Path, isolated_data_dir: Path) -> None:
    written = tmp_path / "written.db"
    db = sqlite_utils.Database(written)
    create_schema(db)  # the current schema, its events written outside this version's writes: no rollup
    db["customers"].insert({"customer_id": "c1", "signup_date": "2024-01-05"})
    db["events"].insert_all([
        {"event_id": "e1", "customer_id": "c1", "event_name": "login", "occurred_at": "2024-02-01T09:00:00"},
        {"event_id": "e2", "customer_id": "c1", "event_name": "report", "occurred_at": "2024-02-01T17:30:00"},
        {"event_id": "e3", "customer_id": "c1", "event_name": "login", "occurred_at": "2024-02-03T08:00:00"},
    ])
    db.close()
    done = _lifecycle(isolated_data_dir, "migrate", "--db", str(written))
    assert done.returncode == 0, done.stderr
    assert "built the events rollup" in done.stdout
    conn = sqlite3.connect(written)
    try:
        assert events_daily.is_current(conn)
        bits = dict(conn.execute('SELECT name, bit FROM "_events_daily_names"').fetchall())
        rows = conn.execute('SELECT day, customer_id, names FROM "_events_daily" ORDER BY day').fetchall()
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 3  # every row kept
    finally:
        conn.close()
    # by hand: 1 Feb has login and report, 3 Feb login only
    assert rows == [("2024-02-01", "c1", (1 << bits["login"]) | (1 << bits["report"])),
                    ("2024-02-03", "c1", 1 << bits["login"])]
    before = written.stat()
    again = _lifecycle(isolated_data_dir, "migrate", "--db", str(written))
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert (written.stat().st_ino, written.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.anyio
async def test_a_tool_call_on_an_older_database_answers_with_the_fix_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "secret-folder").mkdir()
    old = _version_2_database(tmp_path / "secret-folder" / "crm.db")
    async with Client(build_server(old)) as client:
        result = await client.call_tool("compute_metrics", {"metrics": ["mrr"]})
    assert result.is_error is True
    text = " ".join(block.text for block in result.content)  # type: ignore[union-attr]
    assert "schema version 2" in text and "lifecycle migrate" in text
    assert "Traceback" not in text and "no such column" not in text
    assert "secret-folder" not in text and "crm.db" not in text
