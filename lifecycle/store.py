"""The SQLite store: schema creation and migration, atomic build-and-swap writes, read-only connections.

Writes never touch the live database file: ``atomic_write`` takes the database's write lock
(``lifecycle.write_lock``: concurrent writers queue), copies the database (SQLite backup API) to a temporary file
of its own in the same directory, applies the change there, syncs it to disk and renames it over the original
(``os.replace`` is atomic on POSIX and Windows), keeping the original's permission bits. A write that fails or is
killed mid-way leaves the previous database byte-identical; at worst a ``.tmp-*`` file is left behind, which the
next write removes (only while it holds the lock, so never another writer's working copy).

Every connection is opened either by plain file name (``uri=False``) or through ``sqlite_uri``, which percent-
encodes the path: an unescaped ``file:a#b.db`` URI names the file ``a`` (everything after ``#`` or ``?`` is a
fragment or query to SQLite), which once made an import copy an empty file over the real database.

Reads go through ``open_readonly``: ``mode=ro`` URI, ``PRAGMA query_only=1`` and an optional time limit
enforced by a progress handler (the layered read-only safety Datasette uses). A file that is not an SQLite
database, or is another application's, is refused with one ``DatabaseFileError`` line. Readers of the canonical
tables (the data sources) also refuse a database written by an older schema — it lacks columns the engine reads —
with one ``SchemaVersionError`` line naming the fix, ``lifecycle migrate`` (``upgrade_in_place``: the same
migration an import runs, through the same build-and-swap).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle import events_daily
from lifecycle.errors import DatabaseFileError, DatasetNotFoundError, QueryTimeoutError, SchemaVersionError
from lifecycle.lazy import deferred_module
from lifecycle.schema import SCHEMA_VERSION, TABLES, ColumnKind, TableSpec
from lifecycle.write_lock import DEFAULT_WAIT_S, write_lock

if TYPE_CHECKING:
    import sqlite_utils
else:  # loaded with the first write (it imports pandas when installed): reading a database stays cheap
    sqlite_utils = deferred_module("sqlite_utils")

META_TABLE = "_meta"
EXTRA_COLUMNS_TABLE = "_extra_columns"
IMPORTS_TABLE = "_imports"
EXTRA_PREFIX = "x_"
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database (sqlite.org/fileformat.html)
DRIVER_DATABASE_ERROR: type[Exception] = sqlite3.DatabaseError
"""The driver's error for a file it cannot read as a database (malformed, not a database, encrypted): for edges
outside the engine, which never import the driver, that must still recognise one that escaped."""


def sqlite_uri(path: str | os.PathLike[str], mode: str = "ro") -> str:
    """The ``file:`` URI of ``path`` for ``sqlite3.connect(..., uri=True)``: absolute, symlinks resolved and every
    reserved character percent-encoded (``#`` → ``%23``, ``?`` → ``%3F``, ``%`` → ``%25``, spaces, non-ASCII), per
    SQLite's URI rules (sqlite.org/uri.html) — ``Path.resolve().as_uri()`` plus the ``mode`` query parameter."""
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def check_database_file(path: str | os.PathLike[str]) -> None:
    """Refuse a database path that cannot be a Lifecycle MCP database before anything opens it.

    A directory, a device or pipe, or a non-empty file that does not start with the SQLite header raise
    ``DatabaseFileError``. A missing or empty file passes (a write creates the database there).
    """
    target = Path(path)
    if not target.exists():
        return
    mode = target.stat().st_mode
    if stat.S_ISDIR(mode):
        raise DatabaseFileError(str(target), "is a directory: --db names the database file")
    if not stat.S_ISREG(mode):
        raise DatabaseFileError(str(target), "is not a regular file (a device, pipe or socket): --db names the database file")
    try:
        with open(target, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseFileError(str(target), f"cannot be read ({exc.strerror or exc})") from None
    if head and head != SQLITE_MAGIC:
        raise DatabaseFileError(str(target), "is not an SQLite database: pass --db with a Lifecycle MCP database (or a new file name)")
SOURCE_COLUMN = "_source"
"""Bookkeeping column of every canonical table: the import (``--source`` label, default the file name) that last
wrote the row, or ``derived from <table>`` for customers created by ``--derive-customers``."""
CURRENCY_KEY = "currency"
"""``_meta`` key of the dataset currency (ISO 4217), recorded by the first import that names one."""


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
        for columns in spec.covering_indexes:  # outside the table's creation: an import adds them to older databases
            db.table(spec.name).create_index(list(columns), if_not_exists=True)
        for index in spec.partial_indexes:
            db.execute(index.create_sql(spec.name))
    if not db.table(META_TABLE).exists():
        db.table(META_TABLE).create({"key": str, "value": str}, pk="key")
        db.table(META_TABLE).insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})
    if not db.table(EXTRA_COLUMNS_TABLE).exists():
        db.table(EXTRA_COLUMNS_TABLE).create({"table_name": str, "column_name": str, "kind": str, "source_name": str},
                                       pk=("table_name", "column_name"))
    if not db.table(IMPORTS_TABLE).exists():
        db.table(IMPORTS_TABLE).create({"import_id": int, "table_name": str, "source": str, "rows": int,
                                  "rejected": int, "sha256": str, "imported_at": str}, pk="import_id")


def _create_table(db: sqlite_utils.Database, spec: TableSpec) -> None:
    if db.table(spec.name).exists():
        return
    columns = {col.name: _python_type(col.kind) for col in spec.columns} | {SOURCE_COLUMN: str}
    not_null = {col.name for col in spec.columns if col.required}
    db.table(spec.name).create(columns, pk=spec.primary_key, not_null=not_null)
    if spec.customer_column and spec.time_column:
        db.table(spec.name).create_index([spec.customer_column, spec.time_column], if_not_exists=True)
    elif spec.time_column:
        db.table(spec.name).create_index([spec.time_column], if_not_exists=True)


def _python_type(kind: ColumnKind) -> type:
    return {"REAL": float, "INTEGER": int}.get(kind.sqlite_type, str)


def _add_source_columns(db: sqlite_utils.Database) -> None:
    """Version 2: a ``_source`` column on every canonical table that lacks it (existing rows: NULL, no source)."""
    for spec in TABLES.values():
        if db.table(spec.name).exists() and SOURCE_COLUMN not in db.table(spec.name).columns_dict:
            db.execute(f'ALTER TABLE "{spec.name}" ADD COLUMN "{SOURCE_COLUMN}" TEXT')


def _add_canonical_columns(db: sqlite_utils.Database) -> None:
    """Version 3: the canonical columns a table lacks — renewal terms on subscriptions (``term_months``,
    ``current_period_end``, ``cancel_at_period_end``, ``trial_end``) and ``attempt_count`` on invoices — added empty
    (existing rows: NULL, unknown). Names and SQLite types come from the schema, never from input."""
    for spec in TABLES.values():
        if not db.table(spec.name).exists():
            continue
        present = db.table(spec.name).columns_dict
        for col in spec.columns:
            if col.name not in present:
                db.execute(f'ALTER TABLE "{spec.name}" ADD COLUMN "{col.name}" {col.kind.sqlite_type}')


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {
    # version reached -> the step that gets there from the previous version (idempotent: create_schema runs first).
    # 1 is the initial schema, created by create_schema.
    2: _add_source_columns,
    3: _add_canonical_columns,
}


def schema_version(db: sqlite_utils.Database) -> int:
    """The schema version recorded in the database (0 when it has no bookkeeping yet)."""
    if not db.table(META_TABLE).exists():
        return 0
    row = db.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
    return _version_number(row[0], "the database") if row else 0


def _version_number(value: object, where: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise SchemaVersionError(f"{where} records schema version {str(value)[:40]!r}, which is not a number: "
                                 "it was not written by Lifecycle MCP") from None


def foreign_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables of a database without Lifecycle MCP bookkeeping (``_meta``): another application's schema."""
    if _has_table(conn, META_TABLE):
        return []
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [name for (name,) in rows.fetchall()]


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the database to ``SCHEMA_VERSION``; refuse one written by a newer version. Returns the version."""
    found = schema_version(db)
    if found == 0 and (others := foreign_tables(db.conn)):
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise DatabaseFileError(
            "the database", f"is an SQLite database of another application (tables {shown}) and not a Lifecycle MCP "
            "database: pass --db with a Lifecycle MCP database or a new file name")
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {found}, newer than this Lifecycle MCP ({SCHEMA_VERSION}): upgrade the package"
        )
    create_schema(db)
    for version in range(max(found, 1) + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](db)
        db.table(META_TABLE).upsert({"key": "schema_version", "value": str(version)}, pk="key")
    return SCHEMA_VERSION


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade_in_place`` did: the schema version ``found`` and the version ``now``, whether the file was
    ``rewritten``, whether that write built the events rollup (``rollup_built``) and the extra indexes it created
    (``indexes_added``, by name)."""

    found: int
    now: int
    rewritten: bool
    rollup_built: bool = False
    indexes_added: tuple[str, ...] = ()


def upgrade_in_place(path: str | os.PathLike[str], wait_s: float = DEFAULT_WAIT_S,
                     on_wait: Callable[[str], None] | None = None) -> Upgrade:
    """Bring the Lifecycle MCP database at ``path`` to ``SCHEMA_VERSION`` atomically and say what it did
    (``Upgrade``). The migration is the one every import runs (``migrate``), applied
    to a copy that replaces the file only when it succeeded (``atomic_write``): a failed or killed upgrade leaves the
    old file as it was. The same write builds the events rollup (``lifecycle.events_daily``) when the file has none
    or another writer changed its events since, so a file imported by an older version gets it without a re-import.
    The write also creates the extra indexes a file written before they were added lacks (``missing_indexes``). A
    database already current with a current rollup and every index is left untouched (not rewritten)."""
    target = Path(path)
    if not target.exists():
        raise DatasetNotFoundError(str(target))
    conn = open_readonly(target)
    try:
        found = schema_version(sqlite_utils.Database(conn))
        rollup_missing = events_daily.is_missing(conn)
        indexes_missing = tuple(missing_indexes(conn))
    finally:
        conn.close()
    if found > SCHEMA_VERSION or (found == SCHEMA_VERSION and not rollup_missing and not indexes_missing):
        return Upgrade(found, found, rewritten=False)
    with atomic_write(target, wait_s, on_wait):
        pass  # atomic_write migrates the copy before the (empty) change and rebuilds a rollup that is not current
    return Upgrade(found, SCHEMA_VERSION, rewritten=True, rollup_built=rollup_missing, indexes_added=indexes_missing)


def missing_indexes(conn: sqlite3.Connection) -> list[str]:
    """Names of the extra indexes (``TableSpec.index_names``) of the canonical tables present that the file lacks: a
    file written before an index was added reads without it (slower) until its next write creates it."""
    present = {str(name) for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return [name for spec in TABLES.values() if _has_table(conn, spec.name)
            for name in spec.index_names() if name not in present]


def outdated_schema_message(path: str | os.PathLike[str], found: int) -> str:
    """The one line that tells a reader its database was written by an older schema, and how to upgrade it."""
    return (f"{path} was written by an older Lifecycle MCP (schema version {found}; this version reads {SCHEMA_VERSION}): "
            f"upgrade it in place with `lifecycle migrate --db {path}` (or re-import the data)")


def schema_is_outdated(path: str | os.PathLike[str]) -> bool:
    """Whether the Lifecycle MCP database at ``path`` records a schema version older than ``SCHEMA_VERSION``: a file
    written before an upgrade, whose readers would miss the new canonical columns (an import migrates it)."""
    conn = open_readonly(path)
    try:
        return 0 < schema_version(sqlite_utils.Database(conn)) < SCHEMA_VERSION
    finally:
        conn.close()


def dataset_currency(conn: sqlite3.Connection) -> str | None:
    """The dataset currency recorded in ``_meta`` (ISO 4217), or None when no import has named one."""
    if not _has_table(conn, META_TABLE):
        return None
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (CURRENCY_KEY,)).fetchone()
    return row[0] if row else None


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
def atomic_write(path: str | os.PathLike[str], wait_s: float = DEFAULT_WAIT_S,
                 on_wait: Callable[[str], None] | None = None) -> Iterator[sqlite_utils.Database]:
    """Yield a writable copy of the database at ``path``; on success it replaces the original atomically.

    Holds the database's write lock throughout (waiting up to ``wait_s`` for another writer; ``on_wait`` is told
    who holds it). The copy is made with SQLite's backup API (a consistent snapshot), migrated to the current
    schema, and the caller's writes run inside one transaction. The new file keeps the original's permission
    bits (a new database gets the umask's). Before the commit the events rollup (``lifecycle.events_daily``) is
    rebuilt when the write changed the events (or it is not current), in the same transaction. A symlinked ``path`` is followed: the real file is replaced, the link
    stays. On any exception — or if the process is killed — the original file is untouched.
    """
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with write_lock(target, wait_s, on_wait):
        check_database_file(target)
        _remove_stale_temporaries(target)
        tmp = _private_temporary(target)
        try:
            if target.exists():
                with contextlib.suppress(OSError):
                    os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
            conn = sqlite3.connect(tmp, isolation_level=None)
            conn.execute("PRAGMA temp_store = MEMORY")  # before quick_check opens temp storage (writers set the same)
            try:
                if target.exists():
                    source = sqlite3.connect(sqlite_uri(target), uri=True)
                    try:
                        source.backup(conn)
                    except sqlite3.DatabaseError as exc:
                        raise DatabaseFileError(str(target), f"cannot be read as an SQLite database ({exc})") from None
                    finally:
                        source.close()
                    _check_integrity(conn, target)
                # The copy is private and replaces the original only after its own fsync below (a failed write just
                # deletes it): it needs no rollback journal and no syncs of its own, which make a large import IO-bound.
                conn.execute("PRAGMA journal_mode = OFF")
                conn.execute("PRAGMA synchronous = OFF")
                db = sqlite_utils.Database(conn)
                try:
                    migrate(db)
                except DatabaseFileError as exc:
                    raise DatabaseFileError(str(target), exc.why) from None
                conn.execute("BEGIN")
                try:
                    watch = events_daily.EventsWrites()  # which statements write the events (per statement)
                    conn.set_authorizer(watch)
                    events_daily.drop_triggers(conn)  # this write keeps the rollup itself: no per-row trigger
                    yield db
                    conn.set_authorizer(None)
                    events_daily.refresh(conn, watch.touched)  # the events rollup, in the same transaction
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
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


def _check_integrity(copy: sqlite3.Connection, target: Path) -> None:
    """Refuse to write on top of a damaged database: ``PRAGMA quick_check`` on the fresh copy (about 0.3 s for the
    167 MB demo) — an import into a damaged file would otherwise "succeed" and leave it damaged."""
    try:
        found = copy.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        found = (str(exc),)
    if found is None or found[0] != "ok":
        detail = (str(found[0]) if found else "no answer").replace("*** in database main ***", "").strip().splitlines()[0][:200]
        raise DatabaseFileError(str(target), f"is damaged (SQLite integrity check: {detail}): restore it from a backup, "
                                "or import into a new database file")


def _private_temporary(target: Path) -> Path:
    """A new, empty file beside ``target`` that belongs to this write alone (O_EXCL; pid and random suffix).

    Created with mode 0o666 so the umask decides its permissions, as for any new file (``mkstemp`` would force
    0o600 and an import would silently make a shared database private)."""
    while True:
        candidate = target.with_name(f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            fd = os.open(candidate, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate


def _remove_stale_temporaries(target: Path) -> None:
    """Remove working copies left by killed writes. Call only while holding the write lock: then no live write
    can own one."""
    for stale in target.parent.glob(_glob_escape(target.name) + ".tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_readonly(path: str | os.PathLike[str], time_limit_s: float | None = None, *,
                  current_schema: bool = False) -> sqlite3.Connection:
    """Open the database read-only (``mode=ro`` + ``query_only``), optionally with a per-connection time limit.

    A query running past ``time_limit_s`` is interrupted and raises ``QueryTimeoutError`` from
    ``execute_limited``. Each caller (each MCP tool call) opens its own connection: sqlite3 connections do
    not cross threads. Raises ``DatasetNotFoundError`` for a missing file, ``DatabaseFileError`` for one that is
    not an SQLite database or is another application's, ``SchemaVersionError`` for a newer schema — and, with
    ``current_schema`` (readers of the canonical tables), for an older one too (``outdated_schema_message``).
    """
    target = Path(path)
    if not target.exists():
        raise DatasetNotFoundError(str(target))
    check_database_file(target)
    conn = sqlite3.connect(sqlite_uri(target), uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA query_only = 1")
        if time_limit_s is not None:
            arm_time_limit(conn, time_limit_s)
        _check_readable_schema(conn, target, current_schema)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseFileError(str(target), f"cannot be read as an SQLite database ({exc})") from None
    except Exception:
        conn.close()
        raise
    return conn


def _check_readable_schema(conn: sqlite3.Connection, target: Path, current_schema: bool) -> None:
    version = conn.execute(
        "SELECT value FROM _meta WHERE key = 'schema_version'"
    ).fetchone() if _has_table(conn, META_TABLE) else None
    if version is None:
        if others := foreign_tables(conn):
            raise DatabaseFileError(str(target), f"is an SQLite database of another application (tables {', '.join(others[:5])}), "
                                    "not a Lifecycle MCP database: pass --db with a Lifecycle MCP database")
        raise SchemaVersionError(f"{target} is not a Lifecycle MCP database (no schema version): import data with `lifecycle import`")
    found = _version_number(version[0], str(target))
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(f"{target} has schema version {found}, newer than this Lifecycle MCP ({SCHEMA_VERSION}): upgrade the package")
    if current_schema and found < SCHEMA_VERSION:
        raise SchemaVersionError(outdated_schema_message(target, found))


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
