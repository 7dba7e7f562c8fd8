"""The dataset as a folder of Parquet files — what DuckDB and Spark read at scale, and what the export step writes.

Layout: one entry per table in the folder, either ``<table>.parquet`` (one file) or ``<table>/`` (a folder of part
files, as Spark and the scale generator write them). Column types follow the SQLite store, so the engine's
portable SQL reads the same values on every engine: dates and timestamps stay ISO-8601 **text** (compared as text),
``REAL`` columns are doubles, ``INTEGER`` columns 64-bit integers, everything else strings
(``lifecycle.schema.ColumnKind.sqlite_type``).

``export_parquet(db, folder)`` writes every table of the importer's SQLite file (canonical tables, ``x_*`` extras
and the ``_extra_columns`` registry) that way, streaming in batches, into a temporary folder renamed into place —
a reader never sees half an export. ``parquet_cache(db)`` is where the Spark source keeps the export of a SQLite
file (``data_dir()/parquet/<file identity>``, rebuilt when the file changes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle import events_daily
from lifecycle.errors import DatasetNotFoundError, DatasetUnreadableError
from lifecycle.store import data_dir, open_readonly

BATCH_ROWS = 200_000
"""Rows read from SQLite and written per Parquet row group during an export."""

ARROW_TYPES = {"INTEGER": pa.int64(), "REAL": pa.float64()}
"""SQLite declared type → Arrow type; any other declared type (TEXT, none) is a string."""


def table_paths(folder: Path) -> dict[str, Path]:
    """Table name → its Parquet file or part-file folder inside ``folder`` (hidden and temporary entries skipped)."""
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_tmp")) and entry.name != "_extra_columns.parquet":
            continue
        if entry.is_file() and entry.suffix == ".parquet":
            found[entry.stem] = entry
        elif entry.is_dir() and any(entry.glob("*.parquet")):
            found[entry.name] = entry
    return found


def missing_columns(table: str, present: list[str]) -> list[tuple[str, str]]:
    """Canonical columns of ``table`` a Parquet file lacks, with their store type (``TEXT``, ``REAL``, ``INTEGER``):
    the readers add them as typed NULLs, so a folder written before a column existed (or by a tool that leaves
    empty optional columns out) reads like a store without values there."""
    from lifecycle.schema import TABLES

    if table not in TABLES:
        return []
    have = set(present)
    return [(c.name, c.kind.sqlite_type) for c in TABLES[table].columns if c.name not in have]


def is_parquet_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding at least a ``customers`` table in Parquet."""
    return path.is_dir() and "customers" in table_paths(path)


def folder_identity(folder: Path) -> tuple[object, ...]:
    """(resolved folder, total bytes, newest modification) over every Parquet file: changes when any file does."""
    files = [p for p in folder.rglob("*.parquet") if not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    stats = [p.stat() for p in files]
    return (str(folder.resolve()), len(files), sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0))


def _arrow_schema(conn: sqlite3.Connection, table: str) -> pa.Schema:
    columns = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return pa.schema([pa.field(str(c[1]), ARROW_TYPES.get(str(c[2]).upper(), pa.string())) for c in columns])


def _export_table(conn: sqlite3.Connection, table: str, target: Path) -> int:
    schema = _arrow_schema(conn, table)
    names = ", ".join(f'"{name}"' for name in schema.names)
    cursor = conn.execute(f'SELECT {names} FROM "{table}"')
    written = 0
    with pq.ParquetWriter(target, schema) as writer:
        while batch := cursor.fetchmany(BATCH_ROWS):
            arrays = [pa.array([row[i] for row in batch], type=field.type) for i, field in enumerate(schema)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            written += len(batch)
        if written == 0:
            writer.write_table(schema.empty_table())
    return written


def export_parquet(db: Path, folder: Path) -> dict[str, int]:
    """Write every table of the SQLite dataset ``db`` to ``folder/<table>.parquet`` (types as the module says);
    returns rows per table. The folder is replaced as a whole (temporary folder, then rename)."""
    if not db.exists():
        raise DatasetNotFoundError(str(db))
    try:
        conn = open_readonly(db, current_schema=True)
    except sqlite3.Error:
        raise DatasetUnreadableError(f"{db}: not a readable Lifecycle MCP database") from None
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="_tmp-export-", dir=folder.parent))
    try:
        tables = [str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                  "AND name NOT LIKE 'sqlite_%' ORDER BY name")
                  if r[0] not in events_daily.ALL_TABLES]  # the SQLite engine's own rollup, derived from the events
        counts = {table: _export_table(conn, table, staging / f"{table}.parquet") for table in tables}
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
        return counts
    except sqlite3.Error:
        raise DatasetUnreadableError(f"{db}: the dataset could not be read for the Parquet export") from None
    finally:
        conn.close()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def parquet_cache(db: Path) -> Path:
    """The Parquet export of the SQLite file ``db``, written on first use and again whenever the file changes
    (``data_dir()/parquet/<sha256 of resolved path, size, mtime>``)."""
    stat = os.stat(db)
    key = hashlib.sha256(repr((str(db.resolve()), stat.st_size, stat.st_mtime_ns)).encode()).hexdigest()[:16]
    folder = data_dir() / "parquet" / key
    if not (folder / "customers.parquet").exists():
        export_parquet(db, folder)
    return folder
