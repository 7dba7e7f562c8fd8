"""The SQLite store: schema creation and migration, atomic build-and-swap writes, read-only connections.

Writes never touch the live database file: ``atomic_write`` copies it (SQLite backup API) to a temporary
file in the same directory, applies the change there, syncs it to disk and renames it over the original
(``os.replace`` is atomic on POSIX and Windows). A write that fails or is killed mid-way leaves the previous
database byte-identical; at worst a ``.tmp-*`` file is left behind, which the next write removes.

Reads go through ``open_readonly``: ``mode=ro`` URI, ``PRAGMA query_only=1`` and an optional time limit
enforced by a progress handler (the layered read-only safety Datasette uses).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from lifecycle.errors import DatasetNotFoundError, QueryTimeoutError, SchemaVersionError
from lifecycle.schema import SCHEMA_VERSION, TABLES, ColumnKind, TableSpec

META_TABLE = "_meta"
EXTRA_COLUMNS_TABLE = "_extra_columns"
IMPORTS_TABLE = "_imports"
EXTRA_PREFIX = "x_"


def data_dir() -> Path:
    """Per-user data directory: ``$LIFECYCLE_DATA_DIR``, else ``$XDG_DATA_HOME/lifecycle-mcp``, else ``~/.local/share/lifecycle-mcp``."""
    if env := os.environ.get("LIFECYCLE_DATA_DIR"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lifecycle-mcp"


def default_db_path() -> Path:
    """The database every command uses without ``--db``: ``$LIFECYCLE_DB``, else the demo database in ``data_dir()``."""
    if env := os.environ.get("LIFECYCLE_DB"):
        return Path(env).expanduser()
    return data_dir() / "demo.db"


@dataclass(frozen=True)
class ExtraColumn:
    """A non-canonical column a user imported, kept under ``x_<name>`` with an inferred kind."""

    table: str
    column: str
    kind: ColumnKind
    source_name: str


def create_schema(db: sqlite_utils.Database) -> None:
    """Create every canonical table, its indexes and the bookkeeping tables (idempotent)."""
    for spec in TABLES.values():
        _create_table(db, spec)
    if not db[META_TABLE].exists():
        db[META_TABLE].create({"key": str, "value": str}, pk="key")
        db[META_TABLE].insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})
    if not db[EXTRA_COLUMNS_TABLE].exists():
        db[EXTRA_COLUMNS_TABLE].create({"table_name": str, "column_name": str, "kind": str, "source_name": str},
                                       pk=("table_name", "column_name"))
    if not db[IMPORTS_TABLE].exists():
        db[IMPORTS_TABLE].create({"import_id": int, "table_name": str, "source": str, "rows": int,
                                  "rejected": int, "sha256": str, "imported_at": str}, pk="import_id")


def _create_table(db: sqlite_utils.Database, spec: TableSpec) -> None:
    if db[spec.name].exists():
        return
    columns = {col.name: _python_type(col.kind) for col in spec.columns}
    not_null = {col.name for col in spec.columns if col.required}
    db[spec.name].create(columns, pk=spec.primary_key, not_null=not_null)
    if spec.customer_column and spec.time_column:
        db[spec.name].create_index([spec.customer_column, spec.time_column], if_not_exists=True)
    elif spec.time_column:
        db[spec.name].create_index([spec.time_column], if_not_exists=True)


def _python_type(kind: ColumnKind) -> type:
    return {"REAL": float, "INTEGER": int}.get(kind.sqlite_type, str)


MIGRATIONS: dict[int, str] = {
    # version reached -> SQL applied to get there from the previous version.
    # 1 is the initial schema, created by create_schema.
}


def schema_version(db: sqlite_utils.Database) -> int:
    """The schema version recorded in the database (0 when it has no bookkeeping yet)."""
    if not db[META_TABLE].exists():
        return 0
    row = db.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the database to ``SCHEMA_VERSION``; refuse one written by a newer version. Returns the version."""
    found = schema_version(db)
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {found}, newer than this Lifecycle MCP ({SCHEMA_VERSION}): upgrade the package"
        )
    create_schema(db)
    for version in range(max(found, 1) + 1, SCHEMA_VERSION + 1):
        db.executescript(MIGRATIONS[version])
        db[META_TABLE].upsert({"key": "schema_version", "value": str(version)}, pk="key")
    return SCHEMA_VERSION


def extra_columns(conn: sqlite3.Connection, table: str | None = None) -> list[ExtraColumn]:
    """The extra (``x_*``) columns recorded for ``table`` (or all tables), in a stable order."""
    if not _has_table(conn, EXTRA_COLUMNS_TABLE):
        return []
    sql = f"SELECT table_name, column_name, kind, source_name FROM {EXTRA_COLUMNS_TABLE}"
    params: tuple[str, ...] = ()
    if table is not None:
        sql += " WHERE table_name = ?"
        params = (table,)
    rows = conn.execute(sql + " ORDER BY table_name, column_name", params).fetchall()
    return [ExtraColumn(t, c, ColumnKind(k), s) for t, c, k, s in rows]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def table_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row count of every canonical table present (identifiers come from the schema allowlist, never from input)."""
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in TABLES if _has_table(conn, name)}


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[sqlite_utils.Database]:
    """Yield a writable copy of the database at ``path``; on success it replaces the original atomically.

    The copy is made with SQLite's backup API (a consistent snapshot), migrated to the current schema, and
    the caller's writes run inside one transaction. On any exception — or if the process is killed — the
    original file is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".tmp-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        if target.exists():
            source = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
            try:
                source.backup(conn)
            finally:
                source.close()
        conn.execute("PRAGMA journal_mode=DELETE")
        db = sqlite_utils.Database(conn)
        migrate(db)
        conn.execute("BEGIN")
        try:
            yield db
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_directory(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale_temporaries(target: Path) -> None:
    for stale in target.parent.glob(target.name + ".tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_readonly(path: str | os.PathLike[str], time_limit_s: float | None = None) -> sqlite3.Connection:
    """Open the database read-only (``mode=ro`` + ``query_only``), optionally with a per-connection time limit.

    A query running past ``time_limit_s`` is interrupted and raises ``QueryTimeoutError`` from
    ``execute_limited``. Each caller (each MCP tool call) opens its own connection: sqlite3 connections do
    not cross threads.
    """
    target = Path(path)
    if not target.exists():
        raise DatasetNotFoundError(str(target))
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    if time_limit_s is not None:
        arm_time_limit(conn, time_limit_s)
    version = conn.execute(
        "SELECT value FROM _meta WHERE key = 'schema_version'"
    ).fetchone() if _has_table(conn, META_TABLE) else None
    if version is None:
        conn.close()
        raise SchemaVersionError(f"{target} is not a Lifecycle MCP database (no schema version): import data with `lifecycle import`")
    if int(version[0]) > SCHEMA_VERSION:
        conn.close()
        raise SchemaVersionError(f"{target} has schema version {version[0]}, newer than this Lifecycle MCP ({SCHEMA_VERSION}): upgrade the package")
    return conn


def arm_time_limit(conn: sqlite3.Connection, seconds: float) -> None:
    """Interrupt any statement on ``conn`` that runs past ``seconds`` from now (re-arm before each query)."""
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)


def execute_limited(conn: sqlite3.Connection, sql: str, params: tuple | dict = ()) -> list[tuple]:
    """Run a query on a connection from ``open_readonly`` and fetch all rows; a time-limit interrupt becomes ``QueryTimeoutError``."""
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise QueryTimeoutError("the query ran past its time limit; narrow the filters or raise the limit") from None
        raise
