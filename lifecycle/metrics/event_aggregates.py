"""Event aggregates computed in the database, once per data and as_of, shared by every metric of every scope.

The events table is the large one (millions of rows); no metric reads it whole. Each aggregate here is one portable
``GROUP BY`` in the reference dialect, compiled for the connection's engine by the expression layer
(``lifecycle.sources.expressions.compile_sql``), so it runs alike on SQLite, DuckDB and Spark:

- ``name_summary``: per (customer, event name) the number of events and the first one's time, every event by
  as_of — one pass over the table answers which event names occur (``event_counts``), each customer's first value
  event (activation, time to value) and first use of each core feature (early adoption);
- ``daily_events``: per (customer, event name, calendar day) the number of events, for the named events or a date
  range only (onboarding steps, the last 30 days' activity, event-only retention and cohorts);
- ``named_events``: the rows of a few named events, when a rule needs exact times (A-then-B conversion).

The aggregates are computed for *every* customer, unfiltered, and memoised in the process (``lifecycle.memo``) per
(data identity, as_of, statement, parameters): a scope's filters then select its customers' rows in pandas
(``in_scope``) — exactly the events ``Dataset.table('events')`` would have read for that scope (all events without
filters; with filters those of the customers the filter selects, and of the stage members with a stage filter).
A metric over another filter therefore costs no further pass over the events.

A calendar day is ``SUBSTR(occurred_at, 1, 10)`` of the ISO-8601 text (as the snapshot counts active days); times
compare as ISO text (``occurred_at < next_day_iso(as_of)``), as ``Dataset`` compares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from lifecycle import events_daily
from lifecycle.dataset import Dataset, next_day_iso, to_datetime
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.sources.expressions import compile_sql

DAY_SQL = "SUBSTR(e.occurred_at, 1, 10)"


def aggregate(dataset: Dataset, sql: str, params: Sequence[object], times: tuple[str, ...] = (),
              counts: tuple[str, ...] = (), persist: bool = False, table: str = "events") -> pd.DataFrame:
    """``sql`` (reference dialect, an aggregate over ``table``) run on the dataset's connection, compiled for its
    engine, typed (``customer_id``, ``event_name`` and ``channel`` as text, ``times`` parsed, ``counts`` as integers);
    memoised per data identity and statement (the parameters carry as_of), else kept for the life of the ``Dataset``.
    ``persist``: also kept between processes in the Parquet cache beside the snapshots
    (``lifecycle.snapshot.cache.aggregate_cache_path``) — for the full-table passes, which a fresh ``lifecycle
    metrics`` would otherwise repeat."""

    def run() -> pd.DataFrame:
        raw = dataset.connection.query(compile_sql(sql, dataset.connection.dialect), list(params))
        return typed(raw, times, counts)

    def kept() -> pd.DataFrame:  # from the Parquet cache of an earlier process, else computed and kept there
        from lifecycle.snapshot.cache import (  # the snapshot package loads the metrics
            aggregate_cache_path,
            read_cached,
            write_cached,
        )

        assert dataset.identity is not None
        target = aggregate_cache_path(dataset.identity, table, sql, params)
        found = read_cached(target)
        if found is not None:
            return typed(found, times, counts)
        frame = run()
        write_cached(frame, target)
        return frame

    if dataset.identity is not None:
        return remember((f"{table}-aggregate", dataset.identity, sql, tuple(params)), kept if persist else run)
    key = f"__{table}_aggregate__:{sql}:{tuple(params)}"
    if key not in dataset._cache:
        dataset._cache[key] = run()
    return dataset._cache[key]


def population(dataset: Dataset) -> pd.Index | None:
    """Ids of the customers the scope's filters select, as ``Dataset.table`` restricts event rows (``None``: no
    filter, every event counts — including events of customers signed up after as_of)."""
    if dataset.filters.is_empty():
        return None
    if not dataset.filters.stage:
        return dataset.population()
    key = "__stage_population__"  # once per scope: every filtered frame of a stage scope asks for it
    if key not in dataset._cache:
        ids = dataset.population()
        dataset._cache[key] = ids[is_member(ids, dataset.stage_members())]  # type: ignore[assignment]  # the per-scope cache
    return dataset._cache[key]  # type: ignore[return-value]


def in_scope(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (a ``customer_id`` column) whose customer the scope selects (``population``)."""
    ids = population(dataset)
    if ids is None:
        return frame
    return frame[is_member(frame["customer_id"], ids)].reset_index(drop=True)


def typed(frame: pd.DataFrame, times: tuple[str, ...] = (), counts: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` with ``customer_id``, ``event_name``, ``channel`` and ``source`` as text, ``times`` parsed and ``counts``
    as integers. A shallow copy (copy-on-write: each converted column replaces its own, ``frame`` is untouched), so a
    million-row aggregate is not held twice while it is typed."""
    out = frame.copy(deep=False)
    for column in ("customer_id", "event_name", "channel", "source"):
        if column in out.columns:
            out[column] = out[column].astype("string")
    for column in times:
        out[column] = to_datetime(out[column]) if len(out) else pd.Series([], dtype="datetime64[us]")
    for column in counts:
        out[column] = pd.to_numeric(out[column]).astype("int64")
    return out


def _name_list(column: str, names: Sequence[str]) -> tuple[str, list[object]]:
    if not names:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' * len(names))})", list(names)


def _events_where(dataset: Dataset, names: Sequence[str] | None, start: date | None,
                  end: date | None) -> tuple[str, list[object]]:
    """The ``WHERE`` condition (and its bound values) of the events by as_of named in ``names`` (all when None) on
    days ``start`` … ``end`` (inclusive; open when None)."""
    where = ["e.occurred_at < ?"]
    params: list[object] = [next_day_iso(dataset.as_of)]
    if names is not None:
        clause, values = _name_list("e.event_name", tuple(names))
        where.append(clause)
        params += values
    if start is not None:
        where.append("e.occurred_at >= ?")
        params.append(start.isoformat())
    if end is not None:
        where.append("e.occurred_at < ?")
        params.append(next_day_iso(end))
    return " AND ".join(where), params


def name_summary(dataset: Dataset) -> pd.DataFrame:
    """Per (customer, event name) in scope: ``events`` (count) and ``first_at`` (the first one's time), every event by
    as_of. One pass over the events per data and as_of, whatever the scope — or none: on SQLite, when no event comes
    after as_of, the same rows (same statement without the as_of bound, same group order) are the events rollup's
    per-name table, written at import (``lifecycle.events_daily.BY_NAME_TABLE``, ``by_name_readable``)."""
    if not dataset.has("events"):
        return typed(pd.DataFrame({"customer_id": [], "event_name": [], "events": [], "first_at": []}), ("first_at",), ("events",))
    params = (next_day_iso(dataset.as_of),)
    key = f"__events_by_name_readable__:{params[0]}"
    if key not in dataset._cache:
        dataset._cache[key] = events_daily.by_name_readable(dataset.connection, params[0])  # type: ignore[assignment]
    if dataset._cache[key]:  # every event is by as_of: the summary the import wrote
        sql = (f"SELECT s.customer_id AS customer_id, s.event_name AS event_name, s.events AS events, "
               f"s.first_at AS first_at FROM {events_daily.BY_NAME_TABLE} s ORDER BY s.rowid")
        return in_scope(dataset, aggregate(dataset, sql, (), ("first_at",), ("events",)))
    sql = ("SELECT e.customer_id AS customer_id, e.event_name AS event_name, COUNT(*) AS events, "
           "MIN(e.occurred_at) AS first_at FROM events e WHERE e.occurred_at < ? GROUP BY e.customer_id, e.event_name")

    return in_scope(dataset, aggregate(dataset, sql, params, ("first_at",), ("events",), persist=True))


def daily_events(dataset: Dataset, names: Sequence[str] | None = None, start: date | None = None,
                 end: date | None = None) -> pd.DataFrame:
    """Per (customer, event name, calendar day ``day``) in scope: ``events`` (count), for events by as_of named in
    ``names`` (all when None) on days ``start`` … ``end`` (inclusive; open when None)."""
    if not dataset.has("events"):
        return typed(pd.DataFrame({"customer_id": [], "event_name": [], "day": [], "events": []}), ("day",), ("events",))
    where, params = _events_where(dataset, names, start, end)
    sql = (f"SELECT e.customer_id AS customer_id, e.event_name AS event_name, {DAY_SQL} AS day, COUNT(*) AS events "
           f"FROM events e WHERE {where} GROUP BY e.customer_id, e.event_name, {DAY_SQL}")

    return in_scope(dataset, aggregate(dataset, sql, params, ("day",), ("events",), persist=True))


def named_events(dataset: Dataset, names: Sequence[str]) -> pd.DataFrame:
    """The events in scope by as_of named in ``names``: ``customer_id``, ``occurred_at`` (datetime), ``event_name``,
    in event-id order (as ``Dataset.table`` reads them)."""
    if not dataset.has("events") or not names:
        return typed(pd.DataFrame({"customer_id": [], "occurred_at": [], "event_name": []}), ("occurred_at",))
    clause, values = _name_list("e.event_name", tuple(names))
    sql = ("SELECT e.customer_id AS customer_id, e.occurred_at AS occurred_at, e.event_name AS event_name FROM events e "
           f"WHERE e.occurred_at < ? AND {clause} ORDER BY e.event_id")
    params = (next_day_iso(dataset.as_of), *values)
    return in_scope(dataset, aggregate(dataset, sql, params, ("occurred_at",)))


PERIOD_CHARS = {"day": 10, "month": 7}
"""How many leading characters of the ISO text name a calendar day / month."""


def activity_periods(dataset: Dataset, period: str | None, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """The customers in scope with an activity event (``config.activation.active_events``; all events when empty) by
    as_of on days ``start`` … ``end`` (inclusive; open when None): one row per (customer, calendar ``period``) with a
    ``day`` column (the day, or the month's first day), or per customer when ``period`` is None. A ``GROUP BY`` in the
    database, memoised for every customer and narrowed to the scope — however many events each customer had."""
    chars = PERIOD_CHARS[period] if period is not None else 0
    if not dataset.has("events"):
        frame = pd.DataFrame({"customer_id": pd.Series([], dtype="string")})
        return frame.assign(day=pd.Series([], dtype="datetime64[us]")) if chars else frame
    where, params = _events_where(dataset, tuple(dataset.config.activation.active_events) or None, start, end)
    key = f"SUBSTR(e.occurred_at, 1, {chars})"
    select = f"e.customer_id AS customer_id, {key} AS period" if chars else "e.customer_id AS customer_id"
    group = f"e.customer_id, {key}" if chars else "e.customer_id"
    sql = f"SELECT {select} FROM events e WHERE {where} GROUP BY {group}"
    frame = in_scope(dataset, aggregate(dataset, sql, params, persist=True))
    if not chars:
        return frame
    text = frame["period"].astype("string") + ("-01" if period == "month" else "")
    return frame.drop(columns="period").assign(day=to_datetime(text) if len(frame) else pd.Series([], dtype="datetime64[us]"))
