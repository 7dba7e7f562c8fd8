"""The embedded default source: the SQLite file the importer writes (``lifecycle.store``), read-only.

Each connection is opened with ``lifecycle.store.open_readonly`` (``mode=ro`` + ``query_only``, schema version
checked: a database written by an older schema is refused with the line that names ``lifecycle migrate``); every statement gets a fresh time limit; ``interrupt`` stops a running statement from another
thread (tool-call cancellation). Driver errors never leave this module: a time-limit interrupt becomes
``QueryTimeoutError``, a file that is not a readable database ``DatasetUnreadableError``, anything else
``QueryError``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import DatasetUnreadableError, QueryError, QueryTimeoutError
from lifecycle.sources.base import DEFAULT_TIME_LIMIT_S, TIMEOUT, SqlSource, frame
from lifecycle.store import arm_time_limit, extra_columns, open_readonly

if TYPE_CHECKING:
    import pandas as pd

UNREADABLE = ("the dataset could not be read (the file is damaged or not a Lifecycle MCP database): run "
              "`lifecycle doctor`, or re-import the data with `lifecycle import`")


def _translated(exc: sqlite3.Error) -> Exception:
    if isinstance(exc, sqlite3.OperationalError):
        return QueryTimeoutError(TIMEOUT) if "interrupted" in str(exc) else QueryError(f"query failed: {exc}")
    if isinstance(exc, sqlite3.DatabaseError):  # not a database, malformed, encrypted
        return DatasetUnreadableError(UNREADABLE)
    return QueryError(f"query failed: {exc}")


@dataclass
class SqliteConnection:
    """One read-only connection on a SQLite file (opened on first use)."""

    path: Path
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    dialect: str = "sqlite"
    _conn: sqlite3.Connection | None = field(default=None, repr=False)
    _non_empty: dict[str, bool] = field(default_factory=dict, repr=False)
    _tables: frozenset[str] | None = field(default=None, repr=False)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self._conn = open_readonly(self.path, self.time_limit_s, current_schema=True)
            except sqlite3.Error as exc:
                raise _translated(exc) from None
        return self._conn

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement under a fresh time limit (``time_limit_s`` per statement, not per connection)."""
        return self._execute(sql, params)[1]

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        description, rows = self._execute(sql, params)
        return frame(description, rows)

    def _execute(self, sql: str, params: Sequence[object]) -> tuple[Any, list[tuple[Any, ...]]]:
        db = self._db
        if self.time_limit_s is not None:
            arm_time_limit(db, self.time_limit_s)
        try:
            cursor = db.execute(sql, tuple(params))
            return cursor.description, cursor.fetchall()
        except sqlite3.Error as exc:
            raise _translated(exc) from None

    def tables(self) -> frozenset[str]:
        if self._tables is None:
            self._tables = frozenset(str(r[0]) for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'"))
        return self._tables

    def has_table(self, table: str) -> bool:
        if table not in self._non_empty:
            self._non_empty[table] = table in self.tables() and bool(self.rows(f'SELECT 1 FROM "{table}" LIMIT 1'))
        return self._non_empty[table]

    def columns(self, table: str) -> list[str]:
        return [str(row[1]) for row in self.rows(f'PRAGMA table_info("{table}")')]

    def extra_columns(self, table: str) -> list[str]:
        """Names of the ``x_*`` columns recorded for ``table``."""
        try:
            return [col.column for col in extra_columns(self._db, table)]
        except sqlite3.Error as exc:
            raise _translated(exc) from None

    def interrupt(self) -> None:
        if self._conn is not None:
            self._conn.interrupt()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(frozen=True)
class SqliteSource(SqlSource):
    """The SQLite file at ``path`` (the importer's store), read through read-only connections."""

    path: Path
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    name: str = "sqlite"

    def connect(self) -> SqliteConnection:
        """A new read-only connection (opened lazily, on its first statement)."""
        return SqliteConnection(self.path, self.time_limit_s)

    def identity(self) -> tuple[object, ...]:
        """(engine, resolved path, inode, size, modification and change times): a re-import swaps a new file into place
        (``lifecycle.store.atomic_write``), so it changes — even two imports within one clock tick of the same size
        give different inodes (the old file is still open or just removed when the new one is created). A missing or
        unreadable file has an identity without them (``connect`` then raises the error that tells the user what to do,
        and nothing is memoised)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return (self.name, str(self.path.resolve()), None)
        return (self.name, str(self.path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)

    def with_time_limit(self, seconds: float | None) -> SqliteSource:
        return replace(self, time_limit_s=seconds)

    def __str__(self) -> str:
        return f"SQLite file {self.path.name}"
