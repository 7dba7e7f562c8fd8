"""Where the data lives: a SQLite file (the default) or DuckDB, behind one small query interface.

Why plain SQL and not Ibis: Ibis 12 on SQLite has no quantile/median and no timestamp deltas, and DuckDB's
``sqlite`` extension must be downloaded at run time (impossible offline), so a single Ibis expression could
not run on both. The engine therefore pushes the heavy scans (events, touches, invoices aggregated per
customer and window) down as *portable* SQL — a subset both engines execute identically: ``?`` parameters,
``SUM(CASE …)``, ``COUNT``, ``MIN``/``MAX``, ``COALESCE``, ISO-8601 text compared lexicographically for time
windows — and does per-customer arithmetic (day differences, medians, rules) on the small results with
pandas/numpy, identically for both backends. ``tests/lifecycle/test_backend_parity.py`` runs the whole
catalogue on both and compares.

Identifiers in SQL always come from the schema allowlist (``lifecycle.schema.TABLES`` and the recorded
extra columns); every value is a bound parameter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from lifecycle.errors import QueryError, QueryTimeoutError
from lifecycle.store import arm_time_limit, extra_columns, open_readonly

DEFAULT_TIME_LIMIT_S = 30.0


class Backend(Protocol):
    """A read-only source of canonical tables that runs portable SQL."""

    name: str

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run ``sql`` with bound ``params`` and return the rows as a DataFrame (columns as named in the SQL)."""
        ...

    def has_table(self, table: str) -> bool:
        """Whether canonical table ``table`` exists and has at least one row."""
        ...

    def columns(self, table: str) -> list[str]:
        """Column names of ``table`` (canonical and ``x_*`` extras)."""
        ...


def _frame(cursor_description: Sequence[Sequence[object]] | None, rows: list[tuple]) -> pd.DataFrame:
    names = [str(d[0]) for d in (cursor_description or ())]
    return pd.DataFrame.from_records(rows, columns=names)


@dataclass
class SqliteBackend:
    """Read-only SQLite backend: one connection per backend object (create one per call/thread)."""

    path: Path
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    name: str = "sqlite"
    _conn: sqlite3.Connection | None = field(default=None, repr=False)
    _non_empty: dict[str, bool] = field(default_factory=dict, repr=False)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_readonly(self.path, self.time_limit_s)
        return self._conn

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run one statement under a fresh time limit (``time_limit_s`` per query, not per connection)."""
        if self.time_limit_s is not None:
            arm_time_limit(self.conn, self.time_limit_s)
        try:
            cursor = self.conn.execute(sql, tuple(params))
            rows = cursor.fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise QueryTimeoutError("the query ran past its time limit; narrow the filters or raise the limit") from None
            raise QueryError(f"query failed: {exc}") from exc
        return _frame(cursor.description, rows)

    def has_table(self, table: str) -> bool:
        if table not in self._non_empty:
            exists = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            self._non_empty[table] = bool(exists) and self.conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0] == 1
        return self._non_empty[table]

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()]

    def extra_columns(self, table: str) -> list[str]:
        """Names of the ``x_*`` columns recorded for ``table``."""
        return [col.column for col in extra_columns(self.conn, table)]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass
class DuckDBBackend:
    """DuckDB backend holding a copy of the canonical tables (loaded from a SQLite store or a DuckDB file).

    DuckDB's SQLite scanner is an extension downloaded at run time, which an offline machine cannot do, so
    ``from_sqlite`` copies each table through Arrow instead. Text columns stay text (ISO dates compare the
    same way as in SQLite), numbers stay DOUBLE/BIGINT.
    """

    con: object
    name: str = "duckdb"

    @classmethod
    def from_sqlite(cls, sqlite_path: Path, duckdb_path: Path | None = None) -> DuckDBBackend:
        """Copy every table of the SQLite store at ``sqlite_path`` into DuckDB (in memory, or ``duckdb_path``)."""
        import duckdb

        con = duckdb.connect(str(duckdb_path) if duckdb_path else ":memory:")
        source = open_readonly(sqlite_path)
        try:
            tables = [r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()]
            for table in tables:
                cursor = source.execute(f'SELECT * FROM "{table}"')
                frame = _frame(cursor.description, cursor.fetchall())
                declared = {row[1]: (row[2] or "").upper() for row in source.execute(f'PRAGMA table_info("{table}")')}
                frame = _typed_like_sqlite(frame, declared)
                con.register("_incoming", frame)
                con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming')
                con.unregister("_incoming")
        finally:
            source.close()
        return cls(con)

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        try:
            cursor = self.con.execute(sql, list(params))  # type: ignore[attr-defined]
            rows = cursor.fetchall()
            return _frame(cursor.description, rows)
        except Exception as exc:  # duckdb raises its own error classes
            raise QueryError(f"query failed: {exc}") from exc

    def has_table(self, table: str) -> bool:
        found = self.con.execute(  # type: ignore[attr-defined]
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()[0]
        return bool(found) and self.con.execute(f'SELECT count(*) > 0 FROM "{table}"').fetchone()[0]  # type: ignore[attr-defined]

    def columns(self, table: str) -> list[str]:
        rows = self.con.execute(  # type: ignore[attr-defined]
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
        ).fetchall()
        return [r[0] for r in rows]

    def extra_columns(self, table: str) -> list[str]:
        if not self.has_table("_extra_columns"):
            return []
        rows = self.con.execute(  # type: ignore[attr-defined]
            "SELECT column_name FROM _extra_columns WHERE table_name = ? ORDER BY column_name", [table]
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.con.close()  # type: ignore[attr-defined]


def _typed_like_sqlite(frame: pd.DataFrame, declared: dict[str, str]) -> pd.DataFrame:
    out = {}
    for name in frame.columns:
        kind = declared.get(name, "")
        column = frame[name]
        if kind in ("REAL", "FLOAT", "DOUBLE"):
            out[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif kind in ("INTEGER", "INT"):
            out[name] = pd.to_numeric(column, errors="coerce").astype("Int64")
        else:
            out[name] = column.astype("string")
    return pd.DataFrame(out, columns=list(frame.columns))
