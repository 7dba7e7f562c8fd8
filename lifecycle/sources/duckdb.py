"""DuckDB reading the importer's SQLite file in place — the same tables, another engine — or a Parquet folder.

DuckDB attaches the file read-only through its ``sqlite_scanner`` extension, loaded from the pip package
``duckdb-ext-sqlite`` (a file installed with the package, so no download at run time — offline machines
work). ISO-8601 text stays text, so the engine's portable SQL compares dates exactly as on SQLite;
``tests/lifecycle/test_backend_parity.py`` runs the whole catalogue on both and compares. A folder of Parquet files
(``lifecycle.sources.parquet``: the export of a dataset, or the scale generator's output) is read as one view per table.

Portable SQL handed to ``query``/``rows`` is written in DuckDB's dialect first (``expressions.in_dialect``: SQLite's
``x NOT GLOB ?`` is ``NOT x GLOB ?`` here). DuckDB has no per-statement time limit, so one is armed with a timer
that calls ``interrupt``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from lifecycle.errors import DatasetNotFoundError, DatasetUnreadableError, QueryError
from lifecycle.sources.base import DEFAULT_TIME_LIMIT_S, SqlSource, TimedStatements, arrow_frame
from lifecycle.sources.expressions import in_dialect
from lifecycle.sources.parquet import folder_identity, missing_columns, table_paths
from lifecycle.sources.sqlite import UNREADABLE, SqliteSource

EXTENSION_PACKAGE = "duckdb-ext-sqlite"
DUCK_TYPES = {"REAL": "DOUBLE", "INTEGER": "BIGINT"}
"""Store type → DuckDB type of a canonical column missing from a Parquet file (anything else: VARCHAR)."""


def sqlite_extension() -> str:
    """Path of the ``sqlite_scanner`` extension file shipped by the ``duckdb-ext-sqlite`` package."""
    try:
        files = importlib.metadata.files(EXTENSION_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == "sqlite_scanner.duckdb_extension":
            return str(entry.locate())
    raise QueryError(f"the DuckDB engine needs the package {EXTENSION_PACKAGE} (pip install {EXTENSION_PACKAGE})")


def _quoted(text: str) -> str:
    """``text`` as a SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _session(threads: int) -> Any:
    """An in-memory DuckDB session on ``threads`` threads, without the progress bar (which would write to stdout:
    the stdio server's protocol channel, the JSON of ``lifecycle metrics --json``)."""
    con = duckdb.connect(":memory:", config={"threads": threads})
    con.execute("SET enable_progress_bar = false")
    return con


_ERRORS = (duckdb.Error,)


def _translated(exc: BaseException) -> Exception:
    """A DuckDB error that is not the time limit: an interrupt from elsewhere (a cancelled call) or a failure."""
    if isinstance(exc, duckdb.InterruptException):
        return QueryError("the query was interrupted")
    return QueryError(f"query failed: {exc}")


@dataclass
class DuckDBConnection(TimedStatements):
    """One DuckDB session with the SQLite file attached read-only as the default catalog (or a Parquet folder's
    views); each statement under the source's time limit (``TimedStatements``)."""

    path: Path
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    dialect: str = "duckdb"
    threads: int = 1
    _con: Any = field(default=None, repr=False)
    _non_empty: dict[str, bool] = field(default_factory=dict, repr=False)
    _tables: frozenset[str] | None = field(default=None, repr=False)

    @property
    def _db(self) -> Any:
        if self._con is None:
            self._con = self._open_folder() if self.path.is_dir() else self._open_sqlite()
        return self._con

    def _open_sqlite(self) -> Any:
        check = SqliteSource(self.path).connect()  # the same checks as SQLite: exists, schema version (on first use)
        try:
            check.tables()
        finally:
            check.close()
        con = _session(1)
        try:
            con.execute(f"LOAD {_quoted(sqlite_extension())}")
            # ATTACH takes no bound parameters: the path is quoted as a SQL string literal
            con.execute(f"ATTACH {_quoted(str(self.path.resolve()))} AS lifecycle_data (TYPE sqlite, READ_ONLY)")
            con.execute("USE lifecycle_data")
        except duckdb.Error as exc:
            con.close()
            raise DatasetUnreadableError(UNREADABLE) from exc
        return con

    def _open_folder(self) -> Any:
        """An in-memory catalog named like the SQLite one, with a view over each table's Parquet file(s)."""
        con = _session(self.threads)
        try:
            con.execute("ATTACH ':memory:' AS lifecycle_data")
            con.execute("USE lifecycle_data")
            for table, path in table_paths(self.path).items():
                files = str(path.resolve() / "*.parquet") if path.is_dir() else str(path.resolve())
                scan = f"read_parquet({_quoted(files)})"
                present = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
                added = "".join(f', CAST(NULL AS {DUCK_TYPES.get(kind, "VARCHAR")}) AS "{name}"'
                                for name, kind in missing_columns(table, present))
                con.execute(f'CREATE VIEW "{table}" AS SELECT *{added} FROM {scan}')
        except duckdb.Error as exc:
            con.close()
            raise DatasetUnreadableError(f"{self.path}: the Parquet files could not be read ({exc})") from None
        return con

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._execute(in_dialect(sql, self.dialect), params)[1]

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """The rows through Arrow, column by column (``arrow_frame``): a million-row result holds no Python object
        per value."""
        db = self._db
        text = in_dialect(sql, self.dialect)
        return arrow_frame(self._timed(lambda: db.execute(text, list(params)).fetch_arrow_table(), _ERRORS, _translated))

    def _execute(self, sql: str, params: Sequence[object]) -> tuple[Any, list[tuple[Any, ...]]]:
        db = self._db

        def run() -> tuple[Any, list[tuple[Any, ...]]]:
            cursor = db.execute(sql, list(params))
            return cursor.description, cursor.fetchall()

        return self._timed(run, _ERRORS, _translated)

    def tables(self) -> frozenset[str]:
        if self._tables is None:  # read once per connection, as SQLite's (each read is a catalog scan)
            rows = self._execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'lifecycle_data'", ())[1]
            self._tables = frozenset(str(r[0]) for r in rows)
        return self._tables

    def has_table(self, table: str) -> bool:
        if table not in self._non_empty:
            self._non_empty[table] = table in self.tables() and bool(self.rows(f'SELECT 1 FROM "{table}" LIMIT 1'))
        return self._non_empty[table]

    def columns(self, table: str) -> list[str]:
        rows = self._execute("SELECT column_name FROM information_schema.columns WHERE table_catalog = 'lifecycle_data' "
                             "AND table_name = ? ORDER BY ordinal_position", (table,))[1]
        return [str(r[0]) for r in rows]

    def extra_columns(self, table: str) -> list[str]:
        if "_extra_columns" not in self.tables():
            return []
        rows = self.rows("SELECT column_name FROM _extra_columns WHERE table_name = ? ORDER BY column_name", (table,))
        return [str(r[0]) for r in rows]

    def interrupt(self) -> None:
        if self._con is not None:
            self._con.interrupt()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


@dataclass(frozen=True)
class DuckDBSource(SqlSource):
    """The importer's SQLite file at ``path`` (or a folder of Parquet files), queried by DuckDB with ``threads``
    threads per connection (one by default: the server runs a connection per tool call)."""

    path: Path
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    name: str = "duckdb"
    threads: int = 1

    def connect(self) -> DuckDBConnection:
        if not self.path.exists():
            raise DatasetNotFoundError(str(self.path))
        return DuckDBConnection(self.path, self.time_limit_s, threads=self.threads)

    def identity(self) -> tuple[object, ...]:
        if self.path.is_dir():
            return (self.name, *folder_identity(self.path))
        return (self.name, *SqliteSource(self.path).identity()[1:])

    def with_time_limit(self, seconds: float | None) -> DuckDBSource:
        return replace(self, time_limit_s=seconds)

    def __str__(self) -> str:
        return f"DuckDB over SQLite file {self.path.name}"
