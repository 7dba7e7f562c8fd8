"""A ``--db`` that is not a Lifecycle MCP database gets one line naming it, for every command, and is never changed.

Cases: a text file, random bytes, a directory, another application's SQLite database, a schema version that is
newer or not a number. Also pinned here: a write keeps the database file's permission bits.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.errors import DatabaseFileError, SchemaVersionError
from lifecycle.importing import import_file
from lifecycle.schema import SCHEMA_VERSION
from lifecycle.store import atomic_write, open_readonly

LIFECYCLE = str(Path(sys.executable).parent / "lifecycle")
CSV = "customer_id,signup_date\nC1,2024-01-01\n"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _text_file(path: Path) -> None:
    path.write_text("customer_id,signup_date\nthis is a CSV, not a database\n", encoding="utf-8")


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO customers VALUES (1, 'a@example.com')")
    conn.commit()
    conn.close()


def _version(value: str) -> object:
    def make(path: Path) -> None:
        with atomic_write(path) as db:
            db["_meta"].upsert({"key": "schema_version", "value": value}, pk="key")
    return make


BAD_DATABASES = {
    "text_file": (_text_file, DatabaseFileError, "is not an SQLite database"),
    "random_bytes": (_random_bytes, DatabaseFileError, "is not an SQLite database"),
    "foreign_schema": (_foreign_sqlite, DatabaseFileError, "another application (tables customers)"),
    "newer_schema": (_version(str(SCHEMA_VERSION + 1)), SchemaVersionError, "newer than this Lifecycle MCP"),
    "version_not_a_number": (_version("one"), SchemaVersionError, "not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATABASES))
def test_reading_a_bad_database_is_one_typed_error(case: str, tmp_path: Path) -> None:
    make, error, fragment = BAD_DATABASES[case]
    db = tmp_path / "bad.db"
    make(db)
    before = _sha(db)
    with pytest.raises(error, match=re.escape(fragment)):
        open_readonly(db)
    assert _sha(db) == before


@pytest.mark.parametrize("case", sorted(BAD_DATABASES))
def test_importing_into_a_bad_database_is_refused_and_leaves_it_unchanged(case: str, tmp_path: Path) -> None:
    make, error, fragment = BAD_DATABASES[case]
    db = tmp_path / "bad.db"
    make(db)
    before = _sha(db)
    source = tmp_path / "c.csv"
    source.write_text(CSV, encoding="utf-8")
    expected = SchemaVersionError if case == "newer_schema" else error
    with pytest.raises(expected):
        import_file("customers", source, db)
    assert _sha(db) == before
    assert not list(tmp_path.glob("bad.db.tmp-*"))


def _damaged(path: Path) -> None:
    """A Lifecycle MCP database whose last third of pages (the customers' rows, written last) is overwritten."""
    source = path.with_suffix(".csv")
    source.write_text("customer_id,signup_date,name\n" + "".join(f"C{i},2024-01-01,{'n' * 40}\n" for i in range(5000)),
                      encoding="utf-8")
    import_file("customers", source, path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        for offset in range(size * 2 // 3 // 4096 * 4096, size, 4096):
            handle.seek(offset + 8)
            handle.write(b"\xde\xad\xbe\xef" * 64)


def test_importing_into_a_damaged_database_is_refused_and_leaves_it_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    _damaged(db)
    before = _sha(db)
    source = tmp_path / "c.csv"
    source.write_text(CSV, encoding="utf-8")
    with pytest.raises(DatabaseFileError, match="is damaged"):
        import_file("customers", source, db)
    assert _sha(db) == before


@pytest.mark.parametrize("command", [["metrics"], ["doctor"], ["import", "customers", "c.csv"]])
def test_every_command_answers_a_damaged_database_with_one_line_and_exit_1(command: list[str], tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    _damaged(db)
    before = _sha(db)
    (tmp_path / "c.csv").write_text(CSV, encoding="utf-8")
    done = subprocess.run([LIFECYCLE, *command, "--db", str(db)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in done.stderr, done.stderr
    assert "damaged" in lines[0]
    assert _sha(db) == before


def test_a_directory_as_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseFileError, match="is a directory"):
        open_readonly(tmp_path)


@pytest.mark.parametrize("command", [["metrics"], ["doctor"], ["import", "customers", "c.csv"]])
@pytest.mark.parametrize("case", ["random_bytes", "foreign_schema"])
def test_every_command_answers_a_bad_database_with_one_line_and_exit_1(command: list[str], case: str, tmp_path: Path) -> None:
    make, _, fragment = BAD_DATABASES[case]
    db = tmp_path / "bad.db"
    make(db)
    before = _sha(db)
    (tmp_path / "c.csv").write_text(CSV, encoding="utf-8")
    done = subprocess.run([LIFECYCLE, *command, "--db", str(db)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], done.stderr
    assert str(db) in lines[0]
    assert _sha(db) == before


def test_an_import_keeps_the_database_files_permissions(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text(CSV, encoding="utf-8")
    db = tmp_path / "shared.db"
    import_file("customers", source, db)
    os.chmod(db, 0o640)
    source.write_text("customer_id,signup_date\nC2,2024-01-02\n", encoding="utf-8")
    import_file("customers", source, db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_a_new_database_gets_the_umask_permissions_not_private_ones(tmp_path: Path) -> None:
    """A new file is created 0o666 minus the umask (here 0o022 → 0o644), as any tool would create it."""
    source = tmp_path / "c.csv"
    source.write_text(CSV, encoding="utf-8")
    previous = os.umask(0o022)
    try:
        import_file("customers", source, tmp_path / "new.db")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.db").stat().st_mode) == 0o644
