"""Apache Spark reading the dataset's tables from Parquet — the engine for data that outgrows one machine.

``SparkSource(location)`` reads a folder of Parquet files (``lifecycle.sources.parquet``: ``<table>.parquet`` or
``<table>/`` part folders) or, given the importer's SQLite file, its Parquet export (written once per version of the
file under ``data_dir()/parquet``). Each table is a temporary view of its own Spark session (``newSession()`` on
one shared ``SparkContext``), so two datasets in one process never see each other's tables.

Every statement is the engine's portable SQL written in Spark's dialect by the expression layer
(``expressions.in_dialect``); values stay bound (``spark.sql(text, args=[...])`` with ``?`` markers). Results come
back through Arrow as plain Python values, the same rows SQLite's cursor gives. Two plans are changed for Spark's
sake, never the numbers: several per-customer ``COUNT(DISTINCT)`` become set sizes (``per_customer_sets``: one hash
aggregate instead of every row expanded and sorted), and the data's range is one statement, not one per column
(``lifecycle.sources.base.bounds_in_one_statement``); a table's schema is read from its Parquet footer
(``_declared_schema``), not inferred by a job.

Where Spark runs (``spark_session``): ``$LIFECYCLE_SPARK_MASTER`` (default ``local[2]``: this machine, two cores);
``spark://host:7077``, ``yarn`` or ``k8s://…`` reach a cluster; ``$LIFECYCLE_SPARK_CONF`` adds ``key=value``
settings separated by ``;`` (memory, warehouse, catalog). docs/scale.md shows both. The time limit per statement
cancels the statement's job group.

pyspark is an optional dependency (``pip install "lifecycle-mcp[spark]"``, Java 17); without it the source says
how to install it.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.errors import DatasetNotFoundError, QueryError
from lifecycle.sources.base import (
    DEFAULT_TIME_LIMIT_S,
    DataRange,
    SqlSource,
    TimedStatements,
    arrow_frame,
    bounds_in_one_statement,
    data_range,
)
from lifecycle.sources.expressions import REFERENCE_DIALECT, CompiledSql, in_dialect
from lifecycle.sources.parquet import folder_identity, is_parquet_folder, missing_columns, parquet_cache, table_paths
from lifecycle.sources.sqlite import SqliteSource

MASTER_ENV = "LIFECYCLE_SPARK_MASTER"
CONF_ENV = "LIFECYCLE_SPARK_CONF"
DEFAULT_MASTER = "local[2]"
SPARK_TYPES = {"REAL": "double", "INTEGER": "bigint"}
"""Store type → Spark type of a canonical column missing from a Parquet file (anything else: string)."""

BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=ERROR",
}
"""Settings for every session: no web UI, UTC, few shuffle partitions (a laptop, not a cluster), Arrow transfers."""

_lock = threading.Lock()
_root: Any = None
_sessions: dict[tuple[object, ...], Any] = {}
_job_ids = itertools.count()


def _pyspark() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        raise QueryError('the Spark engine needs pyspark and Java 17: pip install "lifecycle-mcp[spark]"') from None
    return SparkSession


def spark_conf() -> dict[str, str]:
    """The session settings: ``BASE_CONF`` plus ``$LIFECYCLE_SPARK_CONF`` (``key=value;key=value``)."""
    conf = dict(BASE_CONF)
    for item in os.environ.get(CONF_ENV, "").split(";"):
        if item.strip():
            key, sep, value = item.partition("=")
            if not sep:
                raise QueryError(f"${CONF_ENV}: {item.strip()!r} is not key=value")
            conf[key.strip()] = value.strip()
    return conf


def spark_session() -> Any:
    """The process's Spark session (created on first use at ``$LIFECYCLE_SPARK_MASTER``, default ``local[2]``)."""
    global _root
    with _lock:
        if _root is None:
            builder = _pyspark().builder.master(os.environ.get(MASTER_ENV, DEFAULT_MASTER)).appName("lifecycle-mcp")
            for key, value in spark_conf().items():
                builder = builder.config(key, value)
            _root = builder.getOrCreate()
            _root.sparkContext.setLogLevel("ERROR")
        return _root


def _session_for(folder: Path, identity: tuple[object, ...]) -> Any:
    """A session of its own for one version of a Parquet folder, each table a temporary view."""
    root = spark_session()
    with _lock:
        if identity not in _sessions:
            session = root.newSession()
            for table, path in table_paths(folder).items():
                _read(session, path, table).createOrReplaceTempView(table)
            _sessions[identity] = session
        return _sessions[identity]


def _read(session: Any, path: Path, table: str) -> Any:
    """A table as a Spark DataFrame. Spark skips files whose names start with ``_`` (``_extra_columns``, ``_meta``:
    small bookkeeping tables), so those are read with Arrow and handed over whole."""
    if table.startswith("_"):
        import pyarrow.parquet as pq

        return session.createDataFrame(pq.read_table(path))
    from pyspark.sql.functions import lit

    schema = _declared_schema(path)
    frame = (session.read.schema(schema) if schema is not None else session.read).parquet(str(path))
    for name, kind in missing_columns(table, list(frame.columns)):  # typed NULLs, as in a store without values
        frame = frame.withColumn(name, lit(None).cast(SPARK_TYPES.get(kind, "string")))
    return frame


def _declared_schema(path: Path) -> Any:
    """The Spark schema of a one-file table read from its footer with Arrow, or None (Spark infers it, one job per
    table): a folder of part files, or a column of a type other than text, floating point, integer or boolean,
    is left to Spark's inference. The same schema Spark infers for those types; given, opening a dataset runs no
    job per table."""
    if not path.is_file():
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import types as st

    kinds = [(pa.types.is_string, st.StringType), (pa.types.is_large_string, st.StringType),
             (pa.types.is_float64, st.DoubleType), (pa.types.is_float32, st.FloatType), (pa.types.is_int64, st.LongType),
             (pa.types.is_int32, st.IntegerType), (pa.types.is_boolean, st.BooleanType)]
    fields = []
    for column in pq.read_schema(path):
        spark_type = next((kind() for test, kind in kinds if test(column.type)), None)
        if spark_type is None:
            return None
        fields.append(st.StructField(column.name, spark_type, nullable=True))
    return st.StructType(fields)


GLOB_MARK = "lifecycle_glob_"
_MARKERS = re.compile(rf"'(?:[^'\\]|\\.)*'|\?|:{GLOB_MARK}\d+")


def glob_regex(pattern: str) -> str:
    """SQLite's GLOB ``pattern`` as the anchored Java regular expression Spark's ``RLIKE`` matches the same text with:
    ``*`` → any run of characters, ``?`` → one character, ``[...]`` / ``[^...]`` → the same character class, anything
    else literal (SQLite's GLOB is case-sensitive and matches the whole value, as ``^…$`` does)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", i + (3 if pattern[i + 1:i + 2] == "^" else 2))) > 0:
            body = pattern[i + 1:end]
            negated = body.startswith("^")
            members = body[1:] if negated else body
            # escaped for Java: a backslash, brackets and '&' (Java's class intersection '&&') are literal in GLOB
            literal = "".join("\\" + c if c in "\\[]&" else c for c in members)
            out.append("[" + ("^" if negated else "") + literal + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "(?s)^" + "".join(out) + "$"


_DISTINCT_COUNT = re.compile(r"COUNT\s*\(\s*DISTINCT\b", re.IGNORECASE)


def per_customer_sets(tree: Any) -> bool:
    """Rewrite, in place, the ``COUNT(DISTINCT x)`` of every ``SELECT … GROUP BY …customer_id…`` that holds two or
    more of them over different ``x`` as ``CAST(SIZE(COLLECT_SET(x)) AS BIGINT)``; whether anything changed.

    The same number: ``COLLECT_SET`` gathers the distinct non-NULL values, as ``COUNT(DISTINCT)`` counts them (0 for
    none). Why: Spark plans several distinct aggregates by *expanding* every input row once per distinct argument
    (``Expand``) and sorting all of them; with a string ``MIN``/``MAX`` beside them the whole aggregate is sort-based
    (``SortAggregate``) — the snapshot's one pass over the events (two distinct counts: active days and features in
    the last 30 days, and the first/last event times) sorted three copies of every event. ``COLLECT_SET`` makes it one
    hash aggregate (``ObjectHashAggregate``) with one shuffle: 5M events 38.7 → 24.3 s (local[2]). Only per-customer
    groups: there a set holds one customer's distinct values (days, features), which stay small; a set per month or
    per plan could hold millions of ids, which Spark's own plan spills and a set cannot."""
    from sqlglot import exp

    changed = False
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if group is None or not any(isinstance(key, exp.Column) and key.name == "customer_id" for key in group.expressions):
            continue
        counts = [node for node in select.find_all(exp.Count) if isinstance(node.this, exp.Distinct)
                  and len(node.this.expressions) == 1 and node.find_ancestor(exp.Select) is select]
        if len({node.this.expressions[0].sql(dialect="spark") for node in counts}) < 2:
            continue
        for node in counts:
            values = exp.Anonymous(this="COLLECT_SET", expressions=[node.this.expressions[0].copy()])
            node.replace(exp.Cast(this=exp.Anonymous(this="SIZE", expressions=[values]), to=exp.DataType.build("BIGINT")))
        changed = True
    return changed


@lru_cache(maxsize=256)
def _spark_text(sql: str) -> tuple[str, tuple[int, ...]]:
    """``sql`` written for Spark, and the positions of the bound parameters that are GLOB patterns.

    Spark SQL has no GLOB (the doctor's date-format checks use it): ``x GLOB ?`` becomes ``x RLIKE ?`` and the
    caller turns those parameters into ``glob_regex`` patterns. Per-customer distinct counts become set sizes
    (``per_customer_sets``). Every other statement is ``in_dialect``'s."""
    import sqlglot
    from sqlglot import exp

    if "GLOB" not in sql.upper():
        text = in_dialect(sql, "spark")
        if len(_DISTINCT_COUNT.findall(text)) < 2:
            return text, ()
        tree = sqlglot.parse_one(text, read="spark")
        return (CompiledSql(tree.sql(dialect="spark"), "spark") if per_customer_sets(tree) else text), ()
    tree = sqlglot.parse_one(sql, read=REFERENCE_DIALECT)
    per_customer_sets(tree)
    for number, node in enumerate(list(tree.find_all(exp.Glob))):
        if not isinstance(node.expression, exp.Placeholder):
            raise QueryError("the query cannot be written for spark: GLOB needs a bound pattern")
        node.replace(exp.RegexpLike(this=node.this.copy(), expression=exp.Placeholder(this=f"{GLOB_MARK}{number}")))
    text, positions, index, pieces, last = tree.sql(dialect="spark"), [], 0, [], 0
    for match in _MARKERS.finditer(text):
        if match.group().startswith("'"):
            continue  # a string literal: its characters are no markers
        if match.group() != "?":
            positions.append(index)
        pieces += [text[last:match.start()], "?"]
        last, index = match.end(), index + 1
    return CompiledSql("".join(pieces) + text[last:], "spark"), tuple(positions)


SortKeys = tuple[tuple[str, bool], ...]
"""Output columns a result is ordered by, each with whether it is descending."""


@lru_cache(maxsize=256)
def unordered(text: str) -> tuple[str, SortKeys]:
    """``text`` (Spark SQL) without its final ``ORDER BY`` and the keys to sort its result by on this side, or ``text``
    unchanged and no keys.

    Why: in Spark an ``ORDER BY`` is a global sort — a sampling job to choose range partitions, a shuffle of every row
    and a sort per partition — for results that come back to this process whole anyway: every table read
    (``Dataset.table`` orders by the primary key) paid it, on each as-of checkpoint of the flow metrics (100k
    customers, local[2] at load 10: customers 3.5 → 2.0 s, invoices 11.3 → 5.1 s). Sorting the collected Arrow table
    (``in_order``) gives the same order. Only when that is certain: a plain ``SELECT`` without ``LIMIT``/``OFFSET``
    whose sort keys are output columns (the same column as a selected one, under its own name, unique), all in
    one direction with the engines' own NULL placement (first ascending, last descending: SQLite, DuckDB and Spark
    alike)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(text, read="spark")
    order = tree.args.get("order") if isinstance(tree, exp.Select) else None
    if order is None or tree.args.get("limit") is not None or tree.args.get("offset") is not None:
        return text, ()
    names = [select.alias_or_name for select in tree.expressions]
    if len(set(names)) != len(names) or any(isinstance(select, exp.Star) or not name for select, name in zip(tree.expressions, names)):
        return text, ()
    selected = {select.unalias().sql(dialect="spark"): name for select, name in zip(tree.expressions, names)}
    keys = []
    for ordered in order.expressions:
        descending = bool(ordered.args.get("desc"))
        name = selected.get(ordered.this.sql(dialect="spark"))
        if (not isinstance(ordered.this, exp.Column) or name != ordered.this.name  # (an alias could name another column)
                or bool(ordered.args.get("nulls_first")) == descending):
            return text, ()
        keys.append((name, descending))
    if len({descending for _, descending in keys}) != 1:
        return text, ()
    tree.set("order", None)
    return CompiledSql(tree.sql(dialect="spark"), "spark"), tuple(keys)


def in_order(table: Any, keys: SortKeys) -> Any:
    """The Arrow ``table`` sorted by ``keys`` as the engines order rows (``unordered``): NULLs first ascending and last
    descending, a floating-point NaN above every number (Spark's order; SQLite has no NaN), text by its UTF-8 bytes;
    ties keep their order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not keys or table.num_rows < 2:
        return table
    direction = "descending" if keys[0][1] else "ascending"
    columns, sort_keys = {}, []
    for k, (name, _) in enumerate(keys):  # each key as (rank: NULL 0, value 1, NaN 2; the value): Arrow's own
        column = table.column(name)       # placement of NULLs and NaNs never decides
        nan = pc.fill_null(pc.is_nan(column), False) if pa.types.is_floating(column.type) else None
        rank = pc.if_else(pc.is_null(column), 0, 1)
        columns[f"rank{k}"] = rank if nan is None else pc.if_else(nan, 2, rank)
        columns[f"key{k}"] = column
        sort_keys += [(f"rank{k}", direction), (f"key{k}", direction)]
    return table.take(pc.sort_indices(pa.table(columns), sort_keys=sort_keys))


def _translated(exc: BaseException) -> QueryError:
    """A Spark error that is not the time limit, as one line."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return QueryError(f"query failed: {message}")


@dataclass
class SparkConnection(TimedStatements):
    """Statements on one Spark session (the views of one dataset); ``interrupt`` cancels the running job group, which
    the time limit per statement does too (``TimedStatements``)."""

    session: Any
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    dialect: str = "spark"
    _group: str = field(default="", repr=False)
    _non_empty: dict[str, bool] = field(default_factory=dict, repr=False)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        table = self._arrow(sql, params)
        columns = [column.to_pylist() for column in table.columns]
        return list(zip(*columns)) if columns else []

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """The rows through Arrow, column by column (``arrow_frame``): no Python object per value."""
        return arrow_frame(self._arrow(sql, params))

    def _arrow(self, sql: str, params: Sequence[object]) -> Any:
        """The statement's result as an Arrow table, in its own job group (what ``interrupt`` cancels)."""
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        text, globs = _spark_text(sql)
        if globs:
            params = [glob_regex(str(value)) if i in globs else value for i, value in enumerate(params)]
        text, keys = unordered(text)
        self._group = f"lifecycle-{next(_job_ids)}"
        self.session.sparkContext.setJobGroup(self._group, "lifecycle query", interruptOnCancel=True)
        table = self._timed(lambda: self.session.sql(text, args=list(params) if params else None).toArrow(),
                            (PySparkException, Py4JError), _translated)
        return in_order(table, keys)

    def tables(self) -> frozenset[str]:
        return frozenset(t.name for t in self.session.catalog.listTables() if t.isTemporary)

    def has_table(self, table: str) -> bool:
        if table not in self._non_empty:
            self._non_empty[table] = table in self.tables() and bool(self.rows(f'SELECT 1 FROM "{table}" LIMIT 1'))
        return self._non_empty[table]

    def columns(self, table: str) -> list[str]:
        return list(self.session.table(table).columns) if table in self.tables() else []

    def extra_columns(self, table: str) -> list[str]:
        if "_extra_columns" not in self.tables():
            return []
        rows = self.rows("SELECT column_name FROM _extra_columns WHERE table_name = ? ORDER BY column_name", (table,))
        return [str(r[0]) for r in rows]

    def interrupt(self) -> None:
        if self._group:
            self.session.sparkContext.cancelJobGroup(self._group)

    def close(self) -> None:
        """Nothing to release: the session lives as long as the process (its views are reused)."""


@dataclass(frozen=True)
class SparkSource(SqlSource):
    """The dataset at ``location`` — a Parquet folder, or the importer's SQLite file (read via its Parquet export) —
    queried by Spark."""

    location: Path
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    name: str = "spark"

    def folder(self) -> Path:
        """The Parquet folder Spark reads (the export of a SQLite file is written on first use)."""
        if not self.location.exists():
            raise DatasetNotFoundError(str(self.location))
        if self.location.is_dir():
            if not is_parquet_folder(self.location):
                raise QueryError(f"{self.location} holds no customers table in Parquet (customers.parquet or customers/)")
            return self.location
        return parquet_cache(self.location)

    def connect(self) -> SparkConnection:
        folder = self.folder()
        return SparkConnection(_session_for(folder, folder_identity(folder)), self.time_limit_s)

    def identity(self) -> tuple[object, ...]:
        if self.location.is_dir():
            return (self.name, *folder_identity(self.location))
        return (self.name, *SqliteSource(self.location).identity()[1:])  # a missing file too: connect() says so

    def with_time_limit(self, seconds: float | None) -> SparkSource:
        return replace(self, time_limit_s=seconds)

    def data_range(self) -> DataRange:
        """The data's range as every source reads it (``lifecycle.sources.data_range``), its MIN and MAX from one
        statement instead of 23 (``bounds_in_one_statement``), once per identity of the data."""
        return self._once("data_range", (), lambda connection: data_range(connection, bounds_in_one_statement))

    def __str__(self) -> str:
        return f"Spark over {self.location.name}"
