"""The data-source seam: what the engine needs from wherever the canonical tables live.

Two roles, two protocols:

- a ``DataSource`` says *where* the data is (a SQLite file, the same file read by DuckDB, a folder of
  Parquet files). It is cheap, immutable and safe to share between threads; it owns the identity that
  caches key on, the time limit per query, and opens connections. ``SqlSource`` implements the
  whole-dataset look-ups every source answers the same way — the data's date range (``data_range``), the
  distinct values of a column (``distinct_values``), customer-id look-ups and the doctor's report
  (``diagnose``) — over one short-lived connection.
- a ``Connection`` is one live, read-only session (one per thread / tool call): it runs *portable SQL*
  (bound ``?`` parameters, identifiers from the schema allowlist, ISO-8601 text compared as text) in the
  source's dialect, answers which tables exist, and can be interrupted from another thread.

Everything above the engine (``tools/``, ``prompts/``, ``server/``) holds a ``DataSource`` — never a file path
or a driver connection; only the CLI/server entry points turn a ``--db`` path into one
(``lifecycle.sources.open_source``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from lifecycle import events_daily
from lifecycle.disk_memo import Keeping
from lifecycle.errors import QueryError, QueryTimeoutError
from lifecycle.memo import MEMO, remember
from lifecycle.schema import TABLES

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from lifecycle.doctor import DatasetReport

T = TypeVar("T")

DEFAULT_TIME_LIMIT_S = 300.0
"""Seconds one statement may run unless configured: long enough for a command over a 100k-customer SQLite file on a
busy machine (a snapshot's events pass there took over 30 s at load 20, docs/benchmarks.md), short enough to stop a
runaway query. The MCP server runs every statement under its per-call limit instead (``server.app``)."""
TIMEOUT = "the query ran past its time limit; narrow the filters or raise the limit"

# Tables whose time column may legitimately lie in the future (an invoice is due after it is issued).
ACTIVITY_COLUMN = {"invoices": "issued_at"}

# Later days a dataset records besides its time columns: a subscription cancelled, a ticket closed, an invoice paid.
# They extend how far an as_of may reach (``DataRange.recorded_last``), not the default as_of.
RECORDED_END_COLUMNS = {"subscriptions": ("end_date",), "tickets": ("closed_at",), "invoices": ("paid_at",)}


@runtime_checkable
class Connection(Protocol):
    """One live read-only session on a source: portable SQL in, rows out (create one per thread / call)."""

    @property
    def dialect(self) -> str:
        """The SQL dialect the connection runs (a SQLGlot dialect name: ``sqlite``, ``duckdb``, ``spark``)."""
        ...

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run ``sql`` with bound ``params``; the rows as a DataFrame (columns as named in the SQL).

        A statement running past the source's time limit raises ``QueryTimeoutError``; any other failure
        ``QueryError`` (or ``DatasetError`` when the data cannot be read at all)."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Like ``query``, as a list of plain Python tuples (for small look-ups and reports)."""
        ...

    def tables(self) -> frozenset[str]:
        """Names of the tables present (canonical, ``_extra_columns`` and other bookkeeping tables)."""
        ...

    def has_table(self, table: str) -> bool:
        """Whether ``table`` exists and has at least one row."""
        ...

    def columns(self, table: str) -> list[str]:
        """Column names of ``table`` (canonical and ``x_*`` extras)."""
        ...

    def extra_columns(self, table: str) -> list[str]:
        """Names of the ``x_*`` columns recorded for ``table``."""
        ...

    def interrupt(self) -> None:
        """Stop the statement running on this connection now (callable from another thread)."""
        ...

    def close(self) -> None:
        """Release the session (idempotent)."""
        ...


@runtime_checkable
class DataSource(Protocol):
    """Where the canonical tables live; opens ``Connection`` values. Immutable and shareable across threads."""

    @property
    def name(self) -> str:
        """Short engine name for messages and benchmarks: ``sqlite``, ``duckdb``."""
        ...

    @property
    def time_limit_s(self) -> float | None:
        """Seconds one statement may run before it is interrupted (None: no limit)."""
        ...

    def connect(self) -> Connection:
        """A new read-only session (``DatasetNotFoundError`` / ``DatasetError`` when the data cannot be opened)."""
        ...

    def identity(self) -> tuple[object, ...]:
        """A value that changes whenever the data may have changed (caches key on it)."""
        ...

    def with_time_limit(self, seconds: float | None) -> DataSource:
        """The same data with another time limit per statement."""
        ...

    def data_range(self) -> DataRange:
        """The first and last day on which the data records anything (see ``SqlSource.data_range``)."""
        ...

    def distinct_values(self, table: str, column: str) -> list[str]:
        """Distinct non-empty values of canonical ``table.column``, sorted as text."""
        ...

    def has_value(self, table: str, column: str, value: str) -> bool:
        """Whether ``value`` is one of ``distinct_values(table, column)`` (see ``SqlSource.has_value``)."""
        ...

    def diagnose(self, as_of: date | None = None, *, examples: bool = True) -> DatasetReport:
        """The doctor's report on the data (tables, coverage, capabilities, data-quality warnings); ``examples=False``:
        future-date findings without example keys (``lifecycle.doctor.diagnose``)."""
        ...


@dataclass(frozen=True)
class DataRange:
    """The days a dataset covers: ``first`` .. ``last`` (both inclusive; ``last`` is the latest day of any table's time
    column, the default as_of). ``recorded_last`` is the latest day the data records at all — ``last`` or a later
    cancellation, ticket closing or payment day (``RECORDED_END_COLUMNS``)."""

    first: date
    last: date
    recorded_last: date | None = None

    @property
    def observed_until(self) -> date:
        """The latest day the data says anything about: ``max(last, recorded_last)``."""
        return max(self.last, self.recorded_last or self.last)

    def describe(self) -> str:
        return f"{self.first.isoformat()} to {self.observed_until.isoformat()}"

    def to_json(self) -> dict[str, Any]:
        """The range as ISO-8601 days (``recorded_last`` None when unknown)."""
        return {"first": self.first.isoformat(), "last": self.last.isoformat(),
                "recorded_last": self.recorded_last.isoformat() if self.recorded_last else None}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> DataRange:
        """The range ``to_json`` wrote (``KeyError`` / ``ValueError`` / ``TypeError`` on anything else)."""
        recorded = document["recorded_last"]
        return cls(date.fromisoformat(document["first"]), date.fromisoformat(document["last"]),
                   date.fromisoformat(recorded) if recorded is not None else None)


KEPT_DATA_RANGE: Keeping[DataRange] = Keeping(DataRange.to_json, DataRange.from_json)
"""The data range kept between processes (``lifecycle.disk_memo``): every CLI command and server start needs it first,
and it reads every table (15 s with a warm page cache, 51 s cold, at 1M customers: the indexes lead with the customer,
so MIN and MAX of a time column scan them)."""


Bounds = dict[tuple[str, str], tuple[object, object]]
"""(table, column) → (MIN, MAX) of the column's non-empty values (NULLs when it has none; MIN is None for the
``RECORDED_END_COLUMNS``, of which only the latest day counts)."""


def _dated_columns() -> list[tuple[str, str, bool]]:
    """(table, column, whether its MIN counts) that ``data_range`` reads: each canonical table's time column (both
    ends), then ``RECORDED_END_COLUMNS`` (the latest day only)."""
    times = [(name, column, True) for name, spec in TABLES.items() if (column := ACTIVITY_COLUMN.get(name, spec.time_column))]
    return times + [(name, column, False) for name, columns in RECORDED_END_COLUMNS.items() for column in columns]


def _bound_sql(table: str, column: str, with_min: bool, *, both: bool = True) -> str:
    """The statement for one column: ``low, high`` (``low`` NULL when its MIN does not count), or with
    ``both=False`` and no MIN just ``MAX`` (one aggregate alone is what SQLite answers from an index)."""
    where = f"WHERE \"{column}\" IS NOT NULL AND \"{column}\" <> ''"
    if not with_min and not both:
        return f'SELECT MAX("{column}") FROM "{table}" {where}'
    low = f'MIN("{column}")' if with_min else "NULL"
    return f'SELECT {low} AS low, MAX("{column}") AS high FROM "{table}" {where}'


def bounds_per_statement(connection: Connection, columns: Sequence[tuple[str, str, bool]]) -> Bounds:
    """MIN and MAX of each (table, column) of a table with rows, one statement each (SQLite's way: an index on the
    column answers a lone MAX). On SQLite a large per-customer table's time column is read customer by customer
    through its (customer, time) index (``bounds_by_customer``) instead of scanning every row."""
    found: Bounds = {}
    for table, column, with_min in columns:
        if connection.has_table(table):
            rolled = bounds_from_rollup(connection) if with_min and (table, column) == ("events", "occurred_at") else None
            if rolled is not None:
                found[(table, column)] = rolled
                continue
            by_customer = bounds_by_customer(connection, table, column) if with_min else None
            if by_customer is not None:
                found[(table, column)] = by_customer
                continue
            row = connection.rows(_bound_sql(table, column, with_min, both=False))[0]
            found[(table, column)] = (row[0], row[1]) if with_min else (None, row[0])
    return found


def bounds_from_rollup(connection: Connection) -> tuple[Any, Any] | None:
    """MIN and MAX of ``events.occurred_at`` (non-empty values) as ``_bound_sql`` gives them, from the events rollup
    (``lifecycle.events_daily``, keyed by day) when it is current on SQLite: its first and last non-empty day (two
    key seeks), then the first (last) time of the customers with events that day, one index seek each. The smallest
    value's first 10 characters are the smallest day (ISO text orders by its prefix), so its customer is among those
    sought — the same two values as the scan. Events without a customer are sought on their own, as
    ``bounds_by_customer`` does. None (another way) elsewhere."""
    try:
        if not events_daily.readable(connection) or not has_index_on(connection, "events", ("customer_id", "occurred_at")):
            return None
        daily = events_daily.TABLE
        kept = "t.occurred_at IS NOT NULL AND t.occurred_at <> ''"
        sql = (f"SELECT MIN(low), MAX(high) FROM ("
               f"SELECT (SELECT MIN(t.occurred_at) FROM events t WHERE t.customer_id = d.customer_id AND {kept}) AS low, "
               "NULL AS high FROM " + daily + " d WHERE d.day = (SELECT MIN(day) FROM " + daily + " WHERE day <> '') "
               f"UNION ALL SELECT NULL, (SELECT MAX(t.occurred_at) FROM events t WHERE t.customer_id = d.customer_id AND {kept}) "
               "FROM " + daily + " d WHERE d.day = (SELECT MAX(day) FROM " + daily + " WHERE day <> '') "
               f"UNION ALL SELECT MIN(t.occurred_at), MAX(t.occurred_at) FROM events t WHERE t.customer_id IS NULL AND {kept})")
        low, high = connection.rows(sql)[0]
    except QueryError:
        return None
    return low, high


ROWS_PER_CUSTOMER_FOR_SEEKS = 100
"""Rows per customer (estimated from the tables' largest rowids) from which ``bounds_by_customer`` seeks each
customer's first and last time instead of scanning the table: a customer's seeks cost about what 50 scanned rows do
(measured on the demo's events, 600 rows per customer: 0.10 s against 1.1 s for the scan, load 20)."""


def bounds_by_customer(connection: Connection, table: str, column: str) -> tuple[Any, Any] | None:
    """MIN and MAX of ``table.column`` (non-empty values) as ``_bound_sql`` gives them, read through the table's index
    on (customer column, ``column``): the customer ids walked one index seek each (a recursive statement: the
    smallest id above the last one), each customer's first and last time one seek each, and the rows without a
    customer on their own — the same two values, since the smallest (largest) of all rows is the smallest (largest) of
    every customer's. None (scan instead) off SQLite, without that index, or with fewer than
    ``ROWS_PER_CUSTOMER_FOR_SEEKS`` rows per customer, where the scan costs less."""
    spec = TABLES.get(table)
    key = spec.customer_column if spec is not None else None
    if connection.dialect != "sqlite" or key is None or not connection.has_table("customers"):
        return None
    try:
        if not has_index_on(connection, table, (key, column)):
            return None
        rows = connection.rows(f'SELECT (SELECT MAX(rowid) FROM "{table}"), (SELECT MAX(rowid) FROM customers)')[0]
    except QueryError:  # e.g. a table without rowids: scan
        return None
    if not rows[0] or not rows[1] or rows[0] < ROWS_PER_CUSTOMER_FOR_SEEKS * rows[1]:
        return None
    kept = f'"{column}" IS NOT NULL AND "{column}" <> \'\''
    sql = (f'WITH RECURSIVE k(id) AS (SELECT (SELECT MIN("{key}") FROM "{table}") '
           f'UNION ALL SELECT (SELECT MIN("{key}") FROM "{table}" WHERE "{key}" > k.id) FROM k WHERE k.id IS NOT NULL), '
           f'b(low, high) AS ('
           f'SELECT (SELECT MIN("{column}") FROM "{table}" t WHERE t."{key}" = k.id AND {kept}), '
           f'(SELECT MAX("{column}") FROM "{table}" t WHERE t."{key}" = k.id AND {kept}) FROM k WHERE k.id IS NOT NULL '
           f'UNION ALL SELECT MIN("{column}"), MAX("{column}") FROM "{table}" WHERE "{key}" IS NULL AND {kept}) '
           'SELECT MIN(low), MAX(high) FROM b')
    low, high = connection.rows(sql)[0]
    return low, high


def has_index_on(connection: Connection, table: str, columns: tuple[str, ...]) -> bool:
    """Whether an index on ``table`` begins with ``columns`` (SQLite's catalogue pragmas: SQLite connections only)."""
    quoted = table.replace('"', '""')
    for (_, name, *_rest) in connection.rows(f'PRAGMA index_list("{quoted}")'):
        index = str(name).replace('"', '""')
        indexed = [str(column) for (_, _, column) in sorted(connection.rows(f'PRAGMA index_info("{index}")'))]
        if tuple(indexed[:len(columns)]) == columns:
            return True
    return False


def bounds_in_one_statement(connection: Connection, columns: Sequence[tuple[str, str, bool]]) -> Bounds:
    """The same MIN and MAX as ``bounds_per_statement`` from one ``UNION ALL`` statement over the tables present (an
    empty table gives NULLs, which count as nothing, as a missing one): for engines where each statement is a job to
    schedule (Spark: 23 statements were most of opening a dataset)."""
    present = connection.tables()
    wanted = [(table, column, with_min) for table, column, with_min in columns if table in present]
    if not wanted:
        return {}
    sql = " UNION ALL ".join(f"SELECT {i} AS k, b{i}.low, b{i}.high FROM ({_bound_sql(*entry)}) b{i}"
                             for i, entry in enumerate(wanted))
    return {wanted[int(k)][:2]: (low, high) for k, low, high in connection.rows(sql)}


def data_range(connection: Connection, bounds: Callable[[Connection, Sequence[tuple[str, str, bool]]], Bounds]
               = bounds_per_statement) -> DataRange:
    """First and last day with data: min and max over every canonical table's time column (invoices by issue
    day, since due dates lie ahead); ``recorded_last`` also over ``RECORDED_END_COLUMNS``. ``bounds`` reads the
    columns' MIN and MAX (``bounds_per_statement``, ``bounds_in_one_statement``: the same values).
    ``QueryError`` on a dataset without dated rows."""
    found = bounds(connection, _dated_columns())
    firsts: list[str] = []
    lasts: list[str] = []
    for name, spec in TABLES.items():
        column = ACTIVITY_COLUMN.get(name, spec.time_column)
        low, high = found.get((name, column), (None, None)) if column else (None, None)
        if isinstance(low, str) and low:
            firsts.append(low[:10])
        if isinstance(high, str) and high:
            lasts.append(high[:10])
    if not lasts:
        raise QueryError("the dataset has no dated rows yet: import customers first (`lifecycle import customers FILE`)")
    recorded = [*lasts]
    for name, columns in RECORDED_END_COLUMNS.items():
        for column in columns:
            high = found.get((name, column), (None, None))[1]
            if isinstance(high, str) and high:
                recorded.append(high[:10])
    try:
        return DataRange(date.fromisoformat(min(firsts)), date.fromisoformat(max(lasts)),
                         date.fromisoformat(max(recorded)))
    except ValueError as exc:
        raise QueryError(f"the dataset holds a malformed date ({exc}); run `lifecycle doctor` to find it") from None


def distinct_values(connection: Connection, table: str, column: str) -> list[str]:
    """Distinct non-empty values of ``table.column`` (both from the schema allowlist), sorted as text."""
    if column not in {c.name for c in TABLES[table].columns} or not connection.has_table(table):
        return []
    rows = connection.rows(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
                           f"AND \"{column}\" <> '' ORDER BY 1")
    return [str(r[0]) for r in rows]


def value_occurs(connection: Connection, table: str, column: str, value: str) -> bool:
    """Whether some row of ``table`` (both from the schema allowlist) holds ``value`` (non-empty) in ``column``:
    ``SELECT 1 … WHERE column = ? LIMIT 1`` stops at the first such row, where ``distinct_values`` reads every row
    (the subscriptions' plans at a million customers: 0.4 s). True exactly when ``value`` is among
    ``distinct_values(connection, table, column)`` (the same non-NULL, non-empty rows, compared by the column's
    equality); an empty ``value`` never occurs."""
    if not value or column not in {c.name for c in TABLES[table].columns} or not connection.has_table(table):
        return False
    return bool(connection.rows(f'SELECT 1 FROM "{table}" WHERE "{column}" = ? AND "{column}" <> \'\' LIMIT 1', (value,)))


def customer_exists(connection: Connection, customer_id: str) -> bool:
    """Whether ``customer_id`` is in the customers table."""
    return bool(connection.rows("SELECT 1 FROM customers WHERE customer_id = ? LIMIT 1", (customer_id,)))


def customer_ids_like(connection: Connection, prefix: str, limit: int = 100) -> list[str]:
    """Customer ids starting with ``prefix`` (case-sensitive: compared as text ranges, so no wildcard in the
    prefix matters), sorted, at most ``limit``."""
    if not prefix:
        rows = connection.rows("SELECT customer_id FROM customers ORDER BY customer_id LIMIT ?", (limit,))
    else:
        rows = connection.rows("SELECT customer_id FROM customers WHERE customer_id >= ? AND SUBSTR(customer_id, 1, ?) = ? "
                               "ORDER BY customer_id LIMIT ?", (prefix, len(prefix), prefix, limit))
    return [str(r[0]) for r in rows]


def customer_record(connection: Connection, customer_id: str, columns: Sequence[str]) -> dict[str, object] | None:
    """The ``columns`` (canonical customers columns) of one customer, or None when the id is unknown."""
    known = {c.name for c in TABLES["customers"].columns}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise QueryError(f"unknown customers column(s) {unknown}")
    select = ", ".join(f'"{c}"' for c in columns)
    found = connection.rows(f"SELECT {select} FROM customers WHERE customer_id = ?", (customer_id,))
    return dict(zip(columns, found[0], strict=True)) if found else None


class SqlSource:
    """The whole-dataset look-ups of a ``DataSource``, each over one short-lived connection.

    Subclasses provide ``connect``, ``identity`` and ``with_time_limit``.
    """

    name: str
    time_limit_s: float | None

    def connect(self) -> Connection:
        raise NotImplementedError

    def identity(self) -> tuple[object, ...]:
        raise NotImplementedError

    def data_range(self) -> DataRange:
        """First and last day with data (see ``data_range``), computed once per identity of the data: in this process
        (``lifecycle.memo``) and between processes (``KEPT_DATA_RANGE``)."""
        return self._once("data_range", (), data_range, kept=KEPT_DATA_RANGE)

    def distinct_values(self, table: str, column: str) -> list[str]:
        """Distinct non-empty values of ``table.column`` (see ``distinct_values``), once per identity of the data."""
        return list(self._once("distinct_values", (table, column), lambda c: tuple(distinct_values(c, table, column))))

    def has_value(self, table: str, column: str, value: str) -> bool:
        """Whether ``value`` is one of ``distinct_values(table, column)``: read from that list when this process has
        it, else one look-up that stops at the first row holding it (``value_occurs``), once per identity of the data
        and value — a filter on one plan checks that plan, not every subscription's."""
        listed = MEMO.peek(("distinct_values", self.name, self.identity(), (table, column)))
        if listed is not None:
            return value in listed
        return self._once("has_value", (table, column, value), lambda c: value_occurs(c, table, column, value))

    def diagnose(self, as_of: date | None = None, *, examples: bool = True) -> DatasetReport:
        """The doctor's report (``lifecycle.doctor.diagnose``) over one connection, once per (identity, as_of,
        examples); the part of it that does not depend on as_of (``lifecycle.doctor.survey``) once per identity."""

        from lifecycle.doctor import diagnose, survey  # the checks load with the first report, not with every source

        def report(connection: Connection) -> DatasetReport:
            found = remember(("doctor.survey", self.name, identity), lambda: survey(connection))
            return diagnose(connection, as_of, found, examples=examples)

        identity = self.identity()
        return self._once("diagnose", (as_of, examples), report, identity)

    def _once(self, kind: str, args: tuple[object, ...], compute: Callable[[Connection], T],
              identity: tuple[object, ...] | None = None, kept: Keeping[T] | None = None) -> T:
        """``compute(connection)`` once per (kind, source name, identity, args) in this process — and with ``kept``
        (for a look-up without ``args``) once per identity between processes (``lifecycle.disk_memo``). The identity
        is read *before* the connection opens: were the data replaced in between, the result would be filed under
        the older identity, which no later call asks for."""
        key = (kind, self.name, identity if identity is not None else self.identity(), args)

        def run() -> T:
            connection = self.connect()
            try:
                return compute(connection)
            finally:
                connection.close()

        if kept is not None:
            return remember(key, lambda: kept.remember(key[2], kind, run))
        return remember(key, run)


def frame(description: Any, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows from a DB-API cursor as a DataFrame with the cursor's column names."""
    names = [str(d[0]) for d in (description or ())]
    import pandas as pd  # loaded with the first query, not with the seam (lifecycle.lazy)

    return pd.DataFrame.from_records(rows, columns=names)


class TimedStatements:
    """The per-statement time limit of engines that have none of their own (DuckDB, Spark): each statement arms a
    timer of ``time_limit_s`` seconds that calls the connection's ``interrupt`` (SQLite's is its progress handler,
    ``lifecycle.store.arm_time_limit``). A driver error raised after the timer fired is the time limit
    (``QueryTimeoutError``); any other goes through the engine's ``translate``.

    A mix-in for a connection class with ``time_limit_s`` and ``interrupt``; ``_timed_out`` is per instance once set.
    """

    time_limit_s: float | None
    _timed_out: bool = False

    def interrupt(self) -> None:
        raise NotImplementedError

    def _time_out(self) -> None:
        self._timed_out = True
        self.interrupt()

    def _timed(self, run: Callable[[], T], errors: tuple[type[BaseException], ...],
               translate: Callable[[BaseException], Exception]) -> T:
        """``run()`` under the time limit; a driver error (one of ``errors``) becomes ``QueryTimeoutError`` when the
        timer stopped it, else ``translate(error)`` — raised without the driver's traceback."""
        timer = None
        if self.time_limit_s is not None:
            timer = threading.Timer(self.time_limit_s, self._time_out)
            timer.daemon = True
            timer.start()
        try:
            return run()
        except errors as exc:
            if self._timed_out:
                raise QueryTimeoutError(TIMEOUT) from None
            raise translate(exc) from None
        finally:
            if timer is not None:
                timer.cancel()
            self._timed_out = False


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as a DataFrame, column by column without a Python object per value (``frame`` of
    ``fetchall()`` rows holds one per cell: 8.2M invoices × 8 columns peaked at 7.6 GB against 2.9 GB this way).

    Values as SQLite's cursor gives them where the engines' types differ: DECIMAL (DuckDB's ``SUM`` of integers, a
    decimal literal times a column; Spark's decimal arithmetic) is a float (SQLite's REAL) — an integer when its
    scale is 0 and no value is missing; dates and timestamps as Arrow converts them (``datetime.date`` objects,
    ``datetime64[us]``), as ``frame`` infers them."""
    import pyarrow as pa

    columns = []
    for column in table.columns:
        if pa.types.is_decimal(column.type):
            column = _decimal_as_number(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=[str(n) for n in table.column_names]).to_pandas(split_blocks=True)


def _decimal_as_number(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A DECIMAL column as int64 (scale 0, nothing missing, every value fits) or else float64."""
    import pyarrow as pa

    if column.type.scale == 0 and column.null_count == 0:
        try:
            return column.cast(pa.int64())
        except pa.ArrowInvalid:  # past 64 bits: a float, as SQLite's integers overflow into REAL
            pass
    return column.cast(pa.float64(), safe=False)
