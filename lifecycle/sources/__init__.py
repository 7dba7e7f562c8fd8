"""Where the data lives: the ``DataSource`` seam and the sources behind it.

``open_source(path)`` is how an entry point (the CLI, the MCP server, ``lifecycle.open``) turns a location into a
source; everything below it receives the ``DataSource``. Contract: ``lifecycle.sources.base``; layout and the
reasons: ``docs/architecture.md``.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import QueryError
from lifecycle.sources.base import (
    DEFAULT_TIME_LIMIT_S,
    Connection,
    DataRange,
    DataSource,
    SqlSource,
    customer_exists,
    customer_ids_like,
    customer_record,
    data_range,
    distinct_values,
)
from lifecycle.sources.duckdb import DuckDBConnection, DuckDBSource
from lifecycle.sources.spark import SparkConnection, SparkSource
from lifecycle.sources.sqlite import SqliteConnection, SqliteSource

ENGINES = ("sqlite", "duckdb", "spark")
"""Engines ``open_source`` can read a dataset with (Spark needs the optional pyspark: ``lifecycle-mcp[spark]``)."""

__all__ = [
    "DEFAULT_TIME_LIMIT_S", "ENGINES", "Connection", "DataRange", "DataSource", "DuckDBConnection", "DuckDBSource",
    "SparkConnection", "SparkSource", "SqlSource", "SqliteConnection",
    "SqliteSource", "customer_exists", "customer_ids_like", "customer_record", "data_range", "distinct_values",
    "open_source",
]


def open_source(location: DataSource | str | Path, engine: str = "sqlite",
                time_limit_s: float | None = DEFAULT_TIME_LIMIT_S) -> DataSource:
    """The ``DataSource`` for ``location``: a source is returned as it is; a path is the importer's SQLite file (or,
    for DuckDB and Spark, a folder of Parquet files: ``lifecycle.sources.parquet``), read by ``engine`` (one of
    ``ENGINES``). Nothing is opened yet: a missing file is reported on first use."""
    if isinstance(location, DataSource):
        return location
    path = Path(location).expanduser()
    if engine == "sqlite":
        if path.is_dir():
            raise QueryError(f"{path} is a folder: SQLite reads the importer's database file; a folder of Parquet "
                             "files is read with --engine duckdb or --engine spark")
        return SqliteSource(path, time_limit_s)
    if engine == "duckdb":
        return DuckDBSource(path, time_limit_s)
    if engine == "spark":
        return SparkSource(path, time_limit_s)
    raise QueryError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
