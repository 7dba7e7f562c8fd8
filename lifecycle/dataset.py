"""The dataset as it was known on ``as_of``, for the customers a scope selects.

``Dataset.table(name)`` returns a table's rows restricted to the scope's customers and to what had
happened by ``as_of``: rows whose time column is after ``as_of`` are dropped, and every other date or
datetime column whose value lies after ``as_of`` reads as empty (a subscription ending later is still
active, an invoice paid later is unpaid, a ticket closed later is open) — except dates planned ahead (``scheduled``
columns such as a renewal day or a trial's end), which are known before they arrive. This is what makes a computation
at an earlier ``as_of`` free of look-ahead — the at-risk back-test depends on it.

Dates come back as ``datetime64`` columns (pandas 3: ``datetime64[us]``), money/numbers as float64, ids
and text as pandas strings. Frames are cached per table for the life of the ``Dataset`` (one tool call).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.config import DEFAULT_CONFIG, EngineConfig, ModelsConfig
from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters, plan_sql
from lifecycle.lazy import deferred_module
from lifecycle.membership import is_member
from lifecycle.memo import MEMO, remember
from lifecycle.schema import TABLES, ColumnKind
from lifecycle.scope import Scope, Window
from lifecycle.sources import DEFAULT_TIME_LIMIT_S, Connection, DataSource, open_source

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from lifecycle.health.profile import HealthProfile  # held by the configuration (``EngineConfig.stage_model``)
    from lifecycle.stages.model import StageModel
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")


def next_day_iso(day: date) -> str:
    """ISO text of the day after ``day``: ``value < next_day_iso(as_of)`` selects dates *and* timestamps on or before as_of."""
    return (day + timedelta(days=1)).isoformat()


def to_datetime(values: pd.Series) -> pd.Series:
    """Parse ISO-8601 text (dates or UTC timestamps as stored) into ``datetime64``; empty → NaT."""
    return pd.to_datetime(values.astype("string").replace("", pd.NA), format="ISO8601")


def day_number(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as float (NaN for missing) — for vectorised day differences."""
    return (to_datetime(values) - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan) / 86400.0


LOOKUP_CHUNK = 500
"""Ids bound per statement when ``Dataset.customers_among`` looks customers up by id (under SQLite's 999 of old)."""


@dataclass
class Dataset:
    """A connection to a data source seen through a scope (as_of, window, filters) and a configuration."""

    connection: Connection
    scope: Scope
    config: EngineConfig = DEFAULT_CONFIG
    source: DataSource | None = None  # where the connection came from
    identity: tuple[object, ...] | None = None  # the source's identity read before connecting (``Dataset.over``)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _later: Dataset | None = field(default=None, repr=False)  # ``earlier``: the dataset whose tables this one derives

    @property
    def resolved_config(self) -> EngineConfig:
        """The configuration with ``auto`` resolved from the tables that hold rows (``lifecycle.config.choose_models``:
        subscriptions → default, orders → ecommerce, events → activity); held by ``config``, with its loaded models."""
        return self.config.resolved(self.connection.has_table)

    @property
    def models(self) -> ModelsConfig:
        """The names of the stage model and health profile to use (``resolved_config.models``)."""
        return self.resolved_config.models

    @property
    def stage_model(self) -> StageModel:
        """The stage model this dataset is classified with: the configuration's, ``auto`` resolved from the tables."""
        return self.resolved_config.stage_model

    @property
    def health_profile(self) -> HealthProfile:
        """The health profile this dataset is scored with: the configuration's, ``auto`` resolved from the tables."""
        return self.resolved_config.health_profile

    @classmethod
    def open(cls, source: DataSource | str | Path, as_of: date, filters: Filters | None = None, window: Window | None = None,
             config: EngineConfig = DEFAULT_CONFIG, time_limit_s: float | None = DEFAULT_TIME_LIMIT_S) -> Dataset:
        """A dataset over ``source`` (a ``DataSource``, or the path of the importer's SQLite file) on a new
        read-only connection; a path's source gets ``time_limit_s`` per statement."""
        return cls.over(open_source(source, time_limit_s=time_limit_s), Scope.at(as_of, filters, window), config)

    @classmethod
    def over(cls, source: DataSource, scope: Scope, config: EngineConfig = DEFAULT_CONFIG) -> Dataset:
        """A dataset over ``source`` through ``scope`` on a new connection, with the source's identity read *before*
        the connection opens — the key under which its tables and results are memoised in this process
        (``lifecycle.memo``): were the data replaced in between, they would be filed under the older identity, which
        no later call asks for."""
        identity = source.identity()
        return cls(source.connect(), scope, config, source, identity)

    def memo_key(self, kind: str, *parts: object) -> tuple[object, ...] | None:
        """A process-memo key for a result of this dataset: (kind, data identity, scope, config fingerprint, parts),
        or None when the dataset was not opened through ``Dataset.over`` (nothing is memoised then)."""
        if self.identity is None:
            return None
        return (kind, self.identity, self.scope, self.config.fingerprint(), *parts)

    def close(self) -> None:
        """Close the connection (the dataset cannot read afterwards)."""
        self.connection.close()

    @property
    def as_of(self) -> date:
        return self.scope.as_of

    @property
    def window(self) -> Window:
        return self.scope.window

    @property
    def filters(self) -> Filters:
        return self.scope.filters

    def rescoped(self, scope: Scope) -> Dataset:
        """The same connection and config seen through another scope (fresh cache)."""
        return Dataset(self.connection, scope, self.config, self.source, self.identity)

    def earlier(self, day: date) -> Dataset:
        """The whole base as known on ``day`` (on or before ``as_of``; this dataset has no filters), its tables derived
        in memory from this dataset's (``known_on``) instead of read and parsed again — the same frames a dataset opened
        on ``day`` reads. The stage history builds a snapshot on a dozen monthly checkpoints; each read the customers,
        subscriptions and NPS tables anew."""
        if day > self.as_of or not self.filters.is_empty():
            raise ValueError("earlier() derives an earlier day of the whole base")
        return Dataset(self.connection, Scope.at(day), self.config, self.source, self.identity, _later=self)

    @property
    def derived_from(self) -> Dataset | None:
        """The dataset whose tables this one derives (``earlier``), else None."""
        return self._later

    def customer_sql(self, alias: str = "") -> tuple[str, list[object]]:
        """The scope's customer filter over ``customers`` (column prefix ``alias``) and its parameters: the plan
        dimension reads the subscription's plan on as_of where the data has subscriptions (``lifecycle.filters``)."""
        plans_before = next_day_iso(self.as_of) if self.connection.has_table("subscriptions") else None
        return self.filters.customer_sql(alias, plans_before)

    def has(self, table: str) -> bool:
        """Whether ``table`` exists and has rows (before filtering)."""
        return self.connection.has_table(table)

    def customers(self) -> pd.DataFrame:
        """Customers selected by the filters who had signed up by ``as_of``."""
        return self.table("customers")

    def customer_ids(self) -> pd.Index:
        """Ids of ``customers()``."""
        return pd.Index(self.customers()["customer_id"])

    def table(self, name: str, extra: bool = False, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Rows of canonical table ``name`` for the scope's customers, as known on ``as_of``.

        Missing tables give an empty frame with the canonical columns. ``extra=True`` also returns the
        ``x_*`` columns the user imported. ``columns`` reads only those canonical columns (same rows, same
        order): the events table has millions of rows, and most metrics need three of its columns.
        """
        key = f"{name}:{extra}:{columns}"
        if key not in self._cache:
            derived = None if self._later is None else known_on(self._later.table(name, extra, columns), name, self.as_of)
            self._cache[key] = derived if derived is not None else self._load(name, extra, columns)
        return self._cache[key]

    def _load(self, name: str, extra: bool, only: tuple[str, ...] | None = None) -> pd.DataFrame:
        if name not in TABLES:
            raise QueryError(f"unknown table {name!r}")
        spec = TABLES[name]
        columns = [c.name for c in spec.columns]
        added: list[str] = []  # read for the lead filter only, dropped again
        if only is not None:
            unknown = [c for c in only if c not in columns]
            if unknown:
                raise QueryError(f"unknown column(s) {unknown} of table {name!r}")
            columns = list(only)
            if name == "leads" and not self.filters.is_empty():  # what the lead filter reads (``Filters.select_leads``)
                added = [c for c in ("segment", "source", "created_at") if c not in columns]
                columns += added
        if extra and self.connection.has_table(name):
            columns += [c for c in self.connection.extra_columns(name) if c not in columns]
        if not self.connection.has_table(name):
            return _typed(pd.DataFrame({c: pd.Series([], dtype="string") for c in columns if c not in added}), name)
        sql, params = self._statement(name, columns)

        def read() -> pd.DataFrame:
            return _mask_after(_typed(self.connection.query(sql, params), name), name, self.as_of)

        # the rows depend on the data, the statement and as_of only: memoised across calls on that key — and a
        # filtered scope reads the whole base's rows (the same key for every filter) and keeps its customers' rows
        if self.identity is None:
            frame = read()
        else:
            reads = (self.identity, name, sql)
            def derived_or_read() -> pd.DataFrame:
                known = _known_from_later_read(reads, name, self.as_of, extra)
                return read() if known is None else known

            frame = remember(("table", self.identity, self.as_of, sql, tuple(params)), derived_or_read)
            _TABLE_READS.setdefault(reads, set()).add(self.as_of)
        column = "customer_id" if name == "customers" else spec.customer_column
        if name == "leads" and not self.filters.is_empty():
            frame = frame[self.filters.select_leads(frame)].reset_index(drop=True)
            return frame.drop(columns=added) if added else frame
        if column is not None and not self.filters.is_empty():
            keep = is_member(frame[column], self.population())
            if self.filters.stage:
                keep &= is_member(frame[column], self.stage_members())
            frame = frame[keep].reset_index(drop=True)
        return frame

    def _statement(self, name: str, columns: list[str], where: str = "", values: Sequence[object] = ()) -> tuple[str, list[object]]:
        """``table``'s statement: ``columns`` of table ``name`` known on as_of (its time column before the day after),
        in primary-key order; ``where`` (over alias ``t``, with ``values``) narrows the rows further."""
        spec = TABLES[name]
        select = ", ".join(f't."{c}"' for c in columns)
        clauses: list[str] = []
        params: list[object] = []
        if spec.time_column:
            clauses.append(f't."{spec.time_column}" < ?')
            params.append(next_day_iso(self.as_of))
        if where:
            clauses.append(where)
            params.extend(values)
        order = f' ORDER BY t."{spec.primary_key}"'
        return f'SELECT {select} FROM "{name}" t WHERE {" AND ".join(clauses) or "1 = 1"}{order}', params

    def customer_columns(self, columns: tuple[str, ...]) -> pd.DataFrame:
        """``customers()``'s ``columns`` (same rows, same order): taken from the whole read when it is at hand (this
        dataset's cache or the process memo), else only those columns read (``table(columns=...)``: one attribute of a
        million customers instead of every column — 5.5 s of CPU for the whole read)."""
        if self._whole_customers_at_hand():
            return self.customers()[list(columns)]
        return self.table("customers", columns=columns)

    def customers_read(self) -> bool:
        """Whether ``customers()`` (every column, this scope's rows) is already in this dataset's cache."""
        return "customers:False:None" in self._cache

    def _whole_customers_at_hand(self) -> bool:
        """Whether ``customers()`` needs no read: in this dataset's cache, or its rows in the process memo."""
        if self.customers_read() or not self.connection.has_table("customers"):
            return True
        whole, params = self._statement("customers", [c.name for c in TABLES["customers"].columns])
        return self.identity is not None and MEMO.peek(("table", self.identity, self.as_of, whole, tuple(params))) is not None

    def customers_among(self, ids: Sequence[str], columns: tuple[str, ...]) -> pd.DataFrame:
        """The rows of ``customers()`` of the customers among ``ids`` — only ``columns``, in id order — looked up by
        id (``LOOKUP_CHUNK`` bound values per statement; ids sorted first, so the chunks come in the order of the
        whole read) instead of reading every customer: a page of 50 movers named by segment, plan and channel read the
        whole customers table (10 s at a million customers). The rows a whole read keeps when that read is at hand
        (this dataset's cache or the process memo). Same dates, masking, types and filters as ``table``."""
        wanted = sorted(set(map(str, ids)))
        names = [c.name for c in TABLES["customers"].columns]
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise QueryError(f"unknown column(s) {unknown} of table 'customers'")
        if self._whole_customers_at_hand():
            customers = self.customers()
            return customers.loc[is_member(customers["customer_id"], wanted), list(columns)].reset_index(drop=True)
        read = list(dict.fromkeys(("customer_id", *columns)))
        parts = [self.connection.query(*self._statement("customers", read, f't."customer_id" IN ({", ".join("?" * len(chunk))})', chunk))
                 for chunk in (wanted[start:start + LOOKUP_CHUNK] for start in range(0, len(wanted), LOOKUP_CHUNK))]
        if not parts:
            return _typed(pd.DataFrame({c: pd.Series([], dtype="string") for c in columns}), "customers")
        frame = _mask_after(_typed(pd.concat(parts, ignore_index=True), "customers"), "customers", self.as_of)
        if not self.filters.is_empty():
            keep = is_member(frame["customer_id"], self.population())
            if self.filters.stage:
                keep &= is_member(frame["customer_id"], self.stage_members())
            frame = frame[keep].reset_index(drop=True)
        return frame[list(columns)]

    def population(self) -> pd.Index:
        """Ids of the customers the scope's attribute and cohort filters select (every customer, signed up by as_of
        or later; the stage filter is ``stage_members``): ``customer_sql`` over ``customers``, one small query per
        filter and as_of, memoised with the data's identity."""
        key = "__population__"
        if key not in self._cache and self.identity is not None and self._by_columns():
            masked = self._population_by_columns()
            if masked is not None:
                self._cache[key] = masked  # type: ignore[assignment]
        if key not in self._cache:
            clause, params = self.customer_sql("c")
            sql = f"SELECT c.customer_id AS customer_id FROM customers c WHERE {clause}"

            def read() -> pd.Index:
                return pd.Index(self.connection.query(sql, params)["customer_id"].astype("string"))

            memo = ("population", self.identity, sql, tuple(params))
            self._cache[key] = read() if self.identity is None else remember(memo, read)  # type: ignore[assignment]
        return self._cache[key]

    def _by_columns(self) -> bool:
        """Whether the population is a mask over whole-base columns: attribute filters only (no cohort bounds), each
        on a dimension a caller already read whole (``attribute_values``: the plan where the data has subscriptions
        is each customer's plan on as_of, ``plan_sql``). Otherwise one statement returns only the rows the filters
        select (at a million customers 0.14–0.43 s of CPU per value, the whole column 0.9–1.2 s: reading it whole did
        not pay for compare_segments' six channels; for the plan 0.6–0.7 s per value against 1.3–1.6 s for the
        whole column, which compare_segments reads when it compares or filters by plan)."""
        chosen = [d for d in Dimension if self.filters.values(d)]
        if not chosen or self.filters.cohort_from is not None or self.filters.cohort_to is not None:
            return False
        return all(MEMO.peek(self._attribute_key(d)) is not None for d in chosen)

    def _population_by_columns(self) -> pd.Index | None:
        """``population`` from every customer's value of each chosen dimension (``attribute_values``) masked with the
        chosen values (``is_member``: equality, a missing value never selected, as SQL's ``IN``), the dimensions
        combined with AND: a filter on another value costs a mask, not another pass over the customers. Every read
        scans the customers in the same order (the statement ``customer_sql`` narrows scans them in it too)."""
        ids, keep = None, None
        for dimension in Dimension:
            chosen = self.filters.values(dimension)
            if chosen:
                read_ids, values = self.attribute_values(dimension)
                mask = is_member(values, chosen)
                if ids is None:
                    ids, keep = read_ids, mask
                elif len(read_ids) != len(ids) or keep is None:
                    return None
                else:
                    keep &= mask
        return None if ids is None or keep is None else ids[keep]

    def attribute_values(self, dimension: Dimension) -> tuple[pd.Index, pd.Series]:
        """Every customer's id and value of ``dimension`` (signed up by as_of or later), in the order the customers
        table is scanned: the plan paid on as_of where the data has subscriptions (``plan_sql``), else the customers
        column. Read once per data identity (and day after as_of, for the plan) in the process memo — what
        ``population`` masks for a filter on it."""
        sql, params = self._attribute_statement(dimension)

        def read() -> tuple[pd.Index, pd.Series]:
            frame = self.connection.query(sql, params)
            return pd.Index(frame["customer_id"].astype("string")), frame["value"]

        return read() if self.identity is None else remember(self._attribute_key(dimension), read)

    def _attribute_statement(self, dimension: Dimension) -> tuple[str, list[object]]:
        """``attribute_values``' statement and parameters (identifiers from ``Dimension`` only)."""
        params: list[object] = []
        if dimension is Dimension.PLAN and self.connection.has_table("subscriptions"):
            expression, params = plan_sql("c"), [next_day_iso(self.as_of)]
        else:
            expression = f"c.{dimension.customer_column}"
        return f"SELECT c.customer_id AS customer_id, {expression} AS value FROM customers c", params

    def _attribute_key(self, dimension: Dimension) -> tuple[object, ...]:
        """The memo key of ``attribute_values(dimension)``."""
        sql, params = self._attribute_statement(dimension)
        return ("population-values", self.identity, sql, tuple(params))

    def stage_members(self) -> pd.Index:
        """Ids of the customers whose lifecycle stage on as_of is one of ``filters.stage`` (``churned``: churned by
        as_of), classified within the population the other filters select (``lifecycle.stages.value``)."""
        key = "__stage_members__"
        if key not in self._cache:
            from lifecycle.stages.value import customer_stages  # the stages read datasets: resolved on first use

            unstaged = self.rescoped(Scope(self.as_of, self.window, self.filters.without_stage()))
            stages = customer_stages(unstaged)
            self._cache[key] = pd.Index(stages.index[stages.isin(self.filters.stage).to_numpy()], dtype="string")
        return self._cache[key]


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    spec = TABLES[table]
    out: dict[str, pd.Series] = {}
    for name in frame.columns:
        try:
            kind = spec.column(name).kind
        except KeyError:
            out[name] = frame[name]
            continue
        column = frame[name]
        if kind in (ColumnKind.DATE, ColumnKind.DATETIME):
            parsed = to_datetime(column) if len(column) else pd.Series([], dtype="datetime64[us]")
            # a column with no date at all parses as datetime64[s]: microseconds, as any other, so a table's dtypes
            # never depend on which rows an as_of keeps (``known_on``)
            out[name] = parsed.astype("datetime64[us]") if parsed.dtype == "datetime64[s]" else parsed
        elif kind in (ColumnKind.MONEY, ColumnKind.NUMBER):
            out[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif kind in (ColumnKind.INTEGER, ColumnKind.BOOLEAN):
            out[name] = pd.to_numeric(column, errors="coerce").astype("Float64").astype("Int64")
        else:
            out[name] = column.astype("string")
    return pd.DataFrame(out, columns=list(frame.columns))


def _mask_after(frame: pd.DataFrame, table: str, as_of: date) -> pd.DataFrame:
    spec = TABLES[table]
    cutoff = pd.Timestamp(next_day_iso(as_of))
    for column in spec.columns:
        if column.name == spec.time_column or column.scheduled or column.kind not in (ColumnKind.DATE, ColumnKind.DATETIME):
            continue
        if column.name in frame.columns and len(frame):
            later = frame[column.name] >= cutoff
            if later.any():
                frame.loc[later, column.name] = pd.NaT
    return frame


_TABLE_READS: dict[tuple[object, str, str], set[date]] = {}
"""Per (data identity, table, statement), the as_of days ``Dataset.table`` read it on (their frames may still be in
the process memo: ``_known_from_later_read``)."""


def _known_from_later_read(reads: tuple[object, str, str], table: str, day: date, extra: bool) -> pd.DataFrame | None:
    """``table``'s rows on ``day`` from the process memo's read of the same statement on the nearest later day
    (``known_on``: what the statement gives on ``day`` — the rows it keeps, in primary-key order, the same dtypes)
    instead of reading and parsing the table again: the previous period of a tool call (``change.previous_period``)
    reads every table it needs on the period's last day. None when no later read is at hand, for ``extra`` reads
    (a user column keeps the later read's dtype) and on an unreadable later frame."""
    if extra:
        return None
    identity, _, sql = reads
    later = sorted(d for d in tuple(_TABLE_READS.get(reads, ())) if d > day)  # a copy: other calls add days
    for found in later:
        frame = MEMO.peek(("table", identity, found, sql, (next_day_iso(found),) if TABLES[table].time_column else ()))
        if frame is not None:
            return known_on(frame, table, day)
    return None


def known_on(frame: pd.DataFrame, table: str, day: date) -> pd.DataFrame | None:
    """The rows of ``table`` a dataset on ``day`` reads, from ``frame``: what a dataset on a later as_of read (same
    columns; ``Dataset.table``). Rows whose time column lies after ``day`` are dropped — a missing time stays, as the
    statement's ``time < cutoff`` keeps the empty text on every day — and the other dates after ``day`` read as empty
    (``_mask_after``; masking at the later day first changes nothing). Order and dtypes are kept. Exact for ISO-8601
    text to the microsecond, whose order is the order in time (what the importer stores: whole seconds); user columns
    (``x_*``, untyped) keep the dtype of the later read. None when ``frame`` lacks the time column."""
    spec = TABLES[table]
    keep = None
    if spec.time_column:
        if spec.time_column not in frame.columns:
            return None
        times = frame[spec.time_column]
        keep = (times.isna() | (times < pd.Timestamp(next_day_iso(day)))).to_numpy(dtype=bool)
    if keep is not None and len(frame) and not keep.any():  # nothing known yet: typed as an empty read is
        return _typed(frame.iloc[:0].astype(object), table)
    rows = frame if keep is None or keep.all() else frame[keep].reset_index(drop=True)
    return _mask_after(rows.copy(deep=False), table, day)  # copy-on-write: masking never touches ``frame``


def sorted_once(dataset: Dataset, key: str, table: str, sort: Callable[[Dataset], pd.DataFrame]) -> pd.DataFrame:
    """``sort(dataset)`` — a stable sort of rows of ``table`` — computed once per dataset and kept under ``key``.

    An ``earlier`` day of the whole base (the stage history's checkpoints: ``derived_from`` is set) takes the rows of
    its later dataset's sorted frame known on its day (``known_on``) — the rows its own table holds, and, the sort
    being stable, in the order sorting them gives — instead of sorting its own table again. Falls back to sorting
    when the later frame lacks the table's time column."""
    later = dataset.derived_from
    if later is not None:
        known = known_on(sorted_once(later, key, table, sort), table, dataset.as_of)
        if known is not None:
            return known
    if key not in dataset._cache:
        dataset._cache[key] = sort(dataset)
    return dataset._cache[key]


def data_end(source: DataSource | str | Path) -> date:
    """The latest day on which the dataset records activity — the natural default ``as_of`` (see
    ``lifecycle.sources.data_range``). ``QueryError`` on an empty dataset."""
    return open_source(source).data_range().last
