"""Where the data lives: the ``DataSource`` seam and the sources behind it.

``open_source(path)`` is how an entry point (the CLI, the MCP server, ``lifecycle.open``) turns a location into a
source; everything below it receives the ``DataSource``. Contract: ``lifecycle.sources.base``; layout and the
reasons: ``docs/architecture.md``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Final

from lifecycle.config import ENGINE_NAMES, SourceSettings
from lifecycle.errors import QueryError
from lifecycle.lazy import exports
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
from lifecycle.sources.sqlite import SqliteConnection, SqliteSource

if TYPE_CHECKING:
    from lifecycle.sources.duckdb import DuckDBConnection, DuckDBSource
    from lifecycle.sources.spark import SparkConnection, SparkSource

ENGINES = ENGINE_NAMES
"""Engines ``open_source`` can read a dataset with (Spark needs the optional pyspark: ``lifecycle-mcp[spark]``)."""

DEFAULT_QUERY_TIME_LIMITS_S: Final[dict[str, float]] = {"sqlite": DEFAULT_TIME_LIMIT_S, "duckdb": 600.0, "spark": 1800.0}
"""Seconds one statement may run on each engine unless configured (``[source] query_time_limit_s``).

SQLite's 300 s holds the data it is the default for (a laptop's dataset: every demo statement takes well under a
second; at 100k customers on a loaded machine one events pass took over 30 s, the earlier default). DuckDB and Spark are chosen for data that outgrew it: at 1M customers / 50M events single statements (the
events scans of the snapshot, the metrics' reads of the events table) take minutes on two cores, and Spark adds its
job scheduling and the JVM's first start to the first statements (docs/benchmarks.md, engines) — their defaults
leave room for that and still stop a runaway query within the hour."""


class _EngineDefault(Enum):
    LIMIT = "the engine's default"


ENGINE_DEFAULT_LIMIT: Final = _EngineDefault.LIMIT
"""``open_source(time_limit_s=ENGINE_DEFAULT_LIMIT)``: the engine's ``DEFAULT_QUERY_TIME_LIMITS_S``."""

__all__ = [
    "DEFAULT_QUERY_TIME_LIMITS_S", "DEFAULT_TIME_LIMIT_S", "ENGINES", "ENGINE_DEFAULT_LIMIT", "Connection", "DataRange", "DataSource", "DuckDBConnection", "DuckDBSource",
    "SparkConnection", "SparkSource", "SqlSource", "SqliteConnection",
    "SqliteSource", "customer_exists", "customer_ids_like", "customer_record", "data_range", "distinct_values",
    "open_configured", "open_source",
]

# DuckDB (and sqlglot, pyarrow) and Spark load when a dataset is opened with them, not with the package.
__getattr__, __dir__ = exports(__name__, {"duckdb": ("DuckDBConnection", "DuckDBSource"),
                                          "spark": ("SparkConnection", "SparkSource")})


def open_configured(location: DataSource | str | Path, engine: str | None, settings: SourceSettings) -> DataSource:
    """The source an entry point reads: ``engine`` when given (the command line's ``--engine`` or
    ``$LIFECYCLE_ENGINE``), else the configured ``[source] engine`` (default ``sqlite``); one statement may run
    ``[source] query_time_limit_s`` seconds (0: no limit), else the engine's ``DEFAULT_QUERY_TIME_LIMITS_S``."""
    chosen = engine or settings.engine
    limit = settings.query_time_limit_s
    return open_source(location, chosen, ENGINE_DEFAULT_LIMIT if limit is None else (float(limit) or None))


def open_source(location: DataSource | str | Path, engine: str = "sqlite",
                time_limit_s: float | None | _EngineDefault = ENGINE_DEFAULT_LIMIT) -> DataSource:
    """The ``DataSource`` for ``location``: a source is returned as it is; a path is the importer's SQLite file (or,
    for DuckDB and Spark, a folder of Parquet files: ``lifecycle.sources.parquet``), read by ``engine`` (one of
    ``ENGINES``) with ``time_limit_s`` seconds per statement (None: no limit; default: the engine's
    ``DEFAULT_QUERY_TIME_LIMITS_S``). Nothing is opened yet: a missing file is reported on first use."""
    if isinstance(location, DataSource):
        return location
    if isinstance(time_limit_s, _EngineDefault):
        time_limit_s = DEFAULT_QUERY_TIME_LIMITS_S.get(engine, DEFAULT_TIME_LIMIT_S)
    path = Path(location).expanduser()
    if engine == "sqlite":
        if path.is_dir():
            raise QueryError(f"{path} is a folder: SQLite reads the importer's database file; a folder of Parquet "
                             "files is read with --engine duckdb or --engine spark")
        return SqliteSource(path, time_limit_s)
    if engine == "duckdb":
        from lifecycle.sources.duckdb import DuckDBSource

        return DuckDBSource(path, time_limit_s)
    if engine == "spark":
        from lifecycle.sources.spark import SparkSource

        return SparkSource(path, time_limit_s)
    raise QueryError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
