"""Snapshot sections pushed down to the store as SQL: events, referrals, touches, orders and the invoice counts.

These tables are the large ones, so each section is one portable aggregation (``GROUP BY customer_id`` with
``SUM(CASE …)`` windows on ISO-8601 text, bound parameters, identifiers from the schema only) written once in the
reference dialect and compiled for the connection's engine by the expression layer
(``lifecycle.sources.expressions.compile_sql``) — identical answers on SQLite and DuckDB (the parity test). A window "the last n days" is
``(as_of − n, as_of]`` in whole days: ``occurred_at >= _cutoff(dataset, n) AND occurred_at < _cutoff(dataset)``.
The scope's customer filter is applied in SQL (``_scope_sql``), as ``Dataset`` applies it to the other tables.
Column definitions: the module docstring of ``lifecycle.snapshot`` and ``docs/snapshot-contract.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lifecycle import events_daily
from lifecycle.dataset import Dataset, next_day_iso, to_datetime
from lifecycle.memo import remember
from lifecycle.snapshot.columns import feature_column
from lifecycle.snapshot.frames import absent_columns, as_float, attach, days_between
from lifecycle.sources.base import has_index_on
from lifecycle.sources.expressions import compile_sql

RECENT_COLUMNS = ("events_7d", "events_30d", "events_prev_30d", "events_90d", "active_days_30d", "distinct_features_30d")
MILESTONE_COLUMNS = ("activated", "activated_at", "days_to_value", "onboarding_steps_done", "onboarding_complete")


def _cutoff(dataset: Dataset, days_back: int = 0) -> str:
    """ISO text of the first day after ``as_of − days_back``: ``col >= _cutoff(ds, n)`` selects (as_of−n, …]."""
    return _cutoff_on(dataset.as_of, days_back)


def _cutoff_on(day: date, days_back: int = 0) -> str:
    return next_day_iso(day - timedelta(days=days_back))


def _scope_sql(dataset: Dataset, column: str) -> tuple[str, list[object]]:
    """The scope's customer filter on ``column`` (as ``Dataset._load`` applies it), or a true clause."""
    if dataset.filters.is_empty():
        return "1 = 1", []
    clause, params = dataset.customer_sql("c")
    return f"{column} IN (SELECT c.customer_id FROM customers c WHERE {clause})", params


def _in_list(column: str, values: tuple[str, ...]) -> tuple[str, list[object]]:
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def _events_absent(dataset: Dataset, snap: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame | None:
    """``snap`` with ``columns`` missing when there is no event data, else None (go ahead and query)."""
    return None if dataset.has("events") else absent_columns(snap, columns)


def occurring(dataset: Dataset, names: tuple[str, ...]) -> bool:
    """Whether any event named in ``names`` occurs for the scope's customers by as_of (one bounded query)."""
    if not names or not dataset.has("events"):
        return False
    where, params = _in_list("e.event_name", names)
    scope, scope_params = _scope_sql(dataset, "e.customer_id")
    sql = f"SELECT 1 AS found FROM events e WHERE {where} AND e.occurred_at < ? AND {scope} LIMIT 1"
    return len(dataset.connection.query(sql, [*params, _cutoff(dataset), *scope_params])) > 0


def _activity_sql(dataset: Dataset) -> tuple[str, list[object]]:
    events = tuple(dataset.config.activation.active_events)
    return _in_list("e.event_name", events) if events else ("1 = 1", [])


def _event_query(dataset: Dataset, select: list[str], params: Sequence[object], where: str, where_params: Sequence[object]) -> pd.DataFrame:
    scope, scope_params = _scope_sql(dataset, "e.customer_id")
    sql = (f"SELECT e.customer_id AS customer_id, {', '.join(select)} FROM events e "
           f"WHERE {where} AND e.occurred_at < ? AND {scope} GROUP BY e.customer_id")
    return _run(dataset, sql, [*params, *where_params, _cutoff(dataset), *scope_params])


PREFETCH_KEY = "__snapshot_events__"
EVENT_SECTIONS = ("recent_events", "latest_event", "milestones", "feature_use")
"""The snapshot sections read from the events table; ``prefetch_events`` computes those a build needs in one pass."""


def prefetch_events(dataset: Dataset, sections: Sequence[str]) -> None:
    """Compute the events sections ``sections`` of one snapshot build in *one* pass over the events: their select
    lists side by side in one ``GROUP BY customer_id`` (each expression carries its own condition, so no section needs
    the others' ``WHERE``); each section then reads its columns from that frame (``release_events`` drops it). A
    customer with events but none a section counts gets what that section's own query would leave it: 0 for counts,
    missing for times. One section alone keeps its own narrower query (e.g. the last 90 days only), and so do builds of
    a few columns (``build_snapshot`` prefetches for whole builds only): on SQLite the sections' own ``WHERE`` (an index
    range, a name filter) beats evaluating every expression on every row; through DuckDB's SQLite scanner each pass
    reads the whole table, so one pass instead of four is what makes the whole build cheap there.

    On SQLite with the events' customer indexes (``seeks_pay``) the pass is not made: it evaluated every expression
    on every event before as_of (0.86 s of CPU per whole snapshot on the demo's 1.2M events, a third of a load
    burst's cold computation). There the first and latest activity and the core features used come from index seeks
    per customer (``prefetch_by_seeks``: 0.08 s, the same values), the window counts from their own statement over the
    last 90 days through the (customer, time) index and the milestones from ``milestone_events`` (one pass for every
    as_of) — each section's usual path when it is not prefetched."""
    wanted = [s for s in EVENT_SECTIONS if s in sections]
    if len(wanted) < 2 or not dataset.has("events"):
        return
    if seeks_pay(dataset):
        prefetch_by_seeks(dataset, wanted)
        return
    select: list[str] = []
    params: list[object] = []
    for name in wanted:
        more, more_params = _SELECTS[name](dataset)
        select += more
        params += more_params
    dataset._cache[PREFETCH_KEY] = (frozenset(wanted), _event_query(dataset, select, params, "1 = 1", []))  # type: ignore[assignment]


SEEK_DIALECTS = frozenset({"sqlite"})
"""Engines on which a correlated index seek per customer is cheap (a B-tree look-up), see ``prefetch_by_seeks``."""

SEEK_INDEXES = (("customer_id", "occurred_at"), ("customer_id", "event_name", "occurred_at"))
"""The events indexes ``prefetch_by_seeks`` reads (their leading columns): the latest and first event of a customer
before as_of, and whether a customer used an event name before as_of."""


def seeks_pay(dataset: Dataset) -> bool:
    """Whether the whole build's events sections come from index seeks (``prefetch_by_seeks``): on the engines of
    ``SEEK_DIALECTS`` when the events table has both ``SEEK_INDEXES`` (every database the importer writes; an older
    one without the covering index keeps the one pass — a seek without its index would scan per customer)."""
    connection = dataset.connection
    return connection.dialect in SEEK_DIALECTS and all(has_index_on(connection, "events", index) for index in SEEK_INDEXES)


SEEK_SECTIONS = ("latest_event", "feature_use")
"""The events sections ``prefetch_by_seeks`` computes; the others keep their own statements."""


def prefetch_by_seeks(dataset: Dataset, sections: Sequence[str]) -> None:
    """The latest-event and feature-use sections of a whole build, for the customers in scope with an event before
    as_of — the rows the one pass of ``prefetch_events`` groups — each value one correlated index seek: the latest and
    first activity event before as_of (``MAX``/``MIN`` of ``occurred_at``, over the activity event names when they are
    configured), and per core feature whether the customer has an event of that name before as_of (1 or 0, as the one
    pass's ``MAX(CASE … THEN 1 ELSE 0 END)``; the canonical schema's ``events.customer_id`` is ``NOT NULL``, so ``=``
    matches every row the one pass groups). Kept as ``prefetch_events`` keeps its frame (``release_events`` drops
    it)."""
    wanted = [s for s in SEEK_SECTIONS if s in sections]
    if not wanted:
        return
    cut = _cutoff(dataset)
    names = tuple(dataset.config.activation.active_events)  # as ``_activity_sql``: none configured, every event
    act, act_params = _in_list("x.event_name", names) if names else ("", [])
    act = f" AND {act}" if act else ""
    select: list[str] = []
    params: list[object] = []
    if "latest_event" in wanted:
        for alias, fn in (("last_event_at", "MAX"), ("first_event_at", "MIN")):
            select.append(f"(SELECT {fn}(x.occurred_at) FROM events x WHERE x.customer_id = d.customer_id "
                          f"AND x.occurred_at < ?{act}) AS {alias}")
            params += [cut, *act_params]
    if "feature_use" in wanted:
        for i, feature in enumerate(dataset.config.activation.core_features):
            select.append("CASE WHEN EXISTS (SELECT 1 FROM events x WHERE x.customer_id = d.customer_id "
                          f"AND x.event_name = ? AND x.occurred_at < ?) THEN 1 ELSE 0 END AS used_{i}")
            params += [feature, cut]
    scope, scope_params = _scope_sql(dataset, "e.customer_id")
    sql = (f"SELECT d.customer_id AS customer_id, {', '.join(select)} FROM (SELECT DISTINCT e.customer_id AS customer_id "
           f"FROM events e WHERE e.occurred_at < ? AND {scope}) d")
    frame = _run(dataset, sql, [*params, cut, *scope_params])
    dataset._cache[PREFETCH_KEY] = (frozenset(wanted), frame)  # type: ignore[assignment]


def release_events(dataset: Dataset) -> None:
    """Forget the frame ``prefetch_events`` kept (the build is done)."""
    dataset._cache.pop(PREFETCH_KEY, None)


def _prefetched(dataset: Dataset, section: str, columns: Sequence[str]) -> pd.DataFrame | None:
    found = dataset._cache.get(PREFETCH_KEY)
    if found is None or section not in found[0]:  # type: ignore[index]
        return None
    return found[1][["customer_id", *columns]].copy()  # type: ignore[index]


def _section_frame(dataset: Dataset, section: str, columns: Sequence[str], where: str, where_params: Sequence[object]) -> pd.DataFrame:
    """The section's per-customer frame: from the build's one pass when prefetched, else its own query (``where``
    prunes the rows its expressions would ignore anyway)."""
    found = _prefetched(dataset, section, columns)
    if found is not None:
        return found
    select, params = _SELECTS[section](dataset)
    return _event_query(dataset, select, params, where, where_params)


def _run(dataset: Dataset, sql: str, params: Sequence[object]) -> pd.DataFrame:
    """Run one reference-dialect aggregate on the dataset's connection, compiled for its engine."""
    return dataset.connection.query(compile_sql(sql, dataset.connection.dialect), params)


RECENT_WINDOWS = {"events_7d": 7, "events_30d": 30, "events_prev_30d": 60, "events_90d": 90, "active_days_30d": 30,
                  "distinct_features_30d": 30}
"""Days back each recent-events column reads (``events_prev_30d``: (as_of − 60, as_of − 30])."""
USAGE_CHANGE = "usage_change_30d"


def recent_columns(wanted: Collection[str] | None) -> tuple[str, ...]:
    """The window columns a build wanting ``wanted`` (None: all) computes, in ``RECENT_COLUMNS`` order — with
    ``events_30d`` and ``events_prev_30d`` when ``usage_change_30d`` is wanted (its ratio reads them)."""
    if wanted is None:
        return RECENT_COLUMNS
    needed = set(wanted) | ({"events_30d", "events_prev_30d"} if USAGE_CHANGE in wanted else set())
    return tuple(c for c in RECENT_COLUMNS if c in needed)


def recent_event_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp,
                         wanted: Collection[str] | None = None) -> pd.DataFrame:
    """Window counts over the last 90 days only (the WHERE keeps older rows out of every expression).

    With ``wanted`` (a build of a few columns, e.g. the stage history's) only the window columns it names are
    computed (``recent_columns``), over the widest of their windows: the stage model reads the 30-day counts, and a
    30-day range is a third of the rows a 90-day one reads. A customer with no event in that range gets what the
    90-day statement gives one with no event counted: 0."""
    chosen = recent_columns(wanted)
    change = wanted is None or USAGE_CHANGE in wanted
    absent = _events_absent(dataset, snap, dict.fromkeys([*chosen, *([USAGE_CHANGE] if change else [])], "float"))
    if absent is not None:
        return absent
    frame = _prefetched(dataset, "recent_events", chosen)
    if frame is None:
        frame = _recent_of_day(dataset, chosen)
    if frame is None:
        frame = _recent_from_daily(dataset, chosen)
    if frame is None:
        select, params = _recent_select(dataset, chosen)
        frame = _event_query(dataset, select, params, "e.occurred_at >= ?",
                             [_cutoff(dataset, max(RECENT_WINDOWS[c] for c in chosen))])
    frame = as_float(frame, list(chosen))
    snap = attach(snap, frame, dict.fromkeys(chosen, 0.0))
    if "distinct_features_30d" in chosen:
        features = tuple(dataset.config.activation.core_features)
        flags = [f"used_{i}" for i in range(len(features))]
        used = _prefetched(dataset, "feature_use", flags)  # the same pass tells whether a core feature occurs at all
        seen = bool((as_float(used, flags)[flags] > 0).to_numpy().any()) if used is not None else occurring(dataset, features)
        if not seen:
            snap["distinct_features_30d"] = np.nan  # no configured core feature ever occurs: no signal, not 0
    if change:
        previous = snap["events_prev_30d"]
        snap[USAGE_CHANGE] = ((snap["events_30d"] - previous) / previous.where(previous > 0)).astype("float64")
    return snap


def _recent_select(dataset: Dataset, columns: Sequence[str] = RECENT_COLUMNS,
                   cut: Callable[[int], tuple[str, list[object]]] | None = None) -> tuple[list[str], list[object]]:
    """The select list of ``columns`` (``RECENT_COLUMNS`` order) and its parameters. ``cut(days_back)`` gives the SQL
    of the cutoff ``_cutoff(dataset, days_back)`` and its parameters: a bound value (default), or a column of the
    checkpoints table of ``recent_events_on``."""
    def bound(back: int) -> tuple[str, list[object]]:
        return "?", [_cutoff(dataset, back)]

    at = cut or bound
    act, act_params = _activity_sql(dataset)
    act = "" if act == "1 = 1" else f"{act} AND "  # every event is activity: no condition to test on every row
    core, core_params = _in_list("e.event_name", tuple(dataset.config.activation.core_features))
    qty = "COALESCE(e.quantity, 1)"
    select: list[str] = []
    params: list[object] = []
    for alias, back in (("events_7d", 7), ("events_30d", 30), ("events_90d", 90)):
        if alias in columns:
            since, since_params = at(back)
            select.append(f"SUM(CASE WHEN {act}e.occurred_at >= {since} THEN {qty} ELSE 0 END) AS {alias}")
            params += [*act_params, *since_params]
    if "events_prev_30d" in columns:
        (since, since_params), (until, until_params) = at(60), at(30)
        select.append(f"SUM(CASE WHEN {act}e.occurred_at >= {since} AND e.occurred_at < {until} THEN {qty} ELSE 0 END) "
                      "AS events_prev_30d")
        params += [*act_params, *since_params, *until_params]
    if "active_days_30d" in columns:
        since, since_params = at(30)
        select.append(f"COUNT(DISTINCT CASE WHEN {act}e.occurred_at >= {since} THEN SUBSTR(e.occurred_at, 1, 10) END) "
                      "AS active_days_30d")
        params += [*act_params, *since_params]
    if "distinct_features_30d" in columns:
        since, since_params = at(30)
        select.append(f"COUNT(DISTINCT CASE WHEN {core} AND e.occurred_at >= {since} THEN e.event_name END) "
                      "AS distinct_features_30d")
        params += [*core_params, *since_params]
    return select, params


RECENT_BY_DAY_KEY = "__recent_events_by_day__"
CHECKPOINT_BACKS = (0, 7, 30, 60, 90)
"""The cutoffs (days back) each checkpoint row of ``recent_events_on`` carries, as columns ``c0`` … ``c90``."""


def recent_events_on(dataset: Dataset, days: Sequence[date], wanted: Collection[str] | None) -> dict[date, pd.DataFrame]:
    """The recent-event window columns ``recent_columns(wanted)`` of the whole base on each of ``days``, in *one*
    statement: the events joined to a small table of the checkpoints — a row per day with that day's cutoffs as columns
    (``c0`` = the day after it, ``c30`` = the first day of its last 30 days, …) — and grouped by (day, customer). Every
    expression is the per-day statement's (``_recent_select``) with its bound cutoffs read from the checkpoint row,
    so each day's frame is the one that day's own statement returns (up to row order): the same customers (those with
    an event in the widest window) and the same counts.

    One pass over the events instead of one per checkpoint: through DuckDB's SQLite scanner (and on Spark) every
    statement reads the whole table. Measured on the demo's 13 checkpoints: DuckDB 2.4 s against 11.2 s per day. On
    SQLite the per-day statements stay (``ONE_PASS_DIALECTS``): each reads only its window through the (customer,
    time) index, which beat the join's grouping of every day's rows (1.45 s against 2.1 s; 24 s against 34 s at 100k)."""
    chosen = recent_columns(wanted)
    widest = max(RECENT_WINDOWS[c] for c in chosen)
    select, params = _recent_select(dataset, chosen, cut=lambda back: (f"k.c{back}", []))
    row = "SELECT ? AS day, " + ", ".join(f"? AS c{back}" for back in CHECKPOINT_BACKS)
    checkpoints = " UNION ALL ".join([row] * len(days))
    bound = [v for day in days for v in (day.isoformat(), *(_cutoff_on(day, back) for back in CHECKPOINT_BACKS))]
    sql = (f"SELECT k.day AS day, e.customer_id AS customer_id, {', '.join(select)} "
           f"FROM events e JOIN ({checkpoints}) k ON e.occurred_at >= k.c{widest} AND e.occurred_at < k.c0 "
           "GROUP BY k.day, e.customer_id")
    frame = _run(dataset, sql, [*params, *bound])
    named = frame["day"].astype("string")
    return {day: frame.loc[(named == day.isoformat()).to_numpy(dtype=bool), ["customer_id", *chosen]].reset_index(drop=True)
            for day in days}


ONE_PASS_DIALECTS = frozenset({"duckdb", "spark"})
"""Engines on which ``prefetch_recent_events_on`` pays (see ``recent_events_on``)."""


def prefetch_recent_events_on(dataset: Dataset, days: Sequence[date], wanted: Collection[str]) -> None:
    """Keep ``recent_events_on`` of ``days`` with ``dataset`` (the whole base on the latest of them) for the snapshots
    of ``dataset`` and of its ``earlier`` days — on the engines where one pass pays (``ONE_PASS_DIALECTS``) and when
    ``wanted`` names a recent-event column; ``recent_event_columns`` takes each day's frame from there."""
    if (dataset.connection.dialect not in ONE_PASS_DIALECTS or not dataset.filters.is_empty() or len(days) < 2
            or not recent_columns(wanted) or not dataset.has("events")):
        return
    chosen = recent_columns(wanted)
    dataset._cache[RECENT_BY_DAY_KEY] = (chosen, recent_events_on(dataset, days, wanted))  # type: ignore[assignment]


def release_recent_events_on(dataset: Dataset) -> None:
    """Forget the frames ``prefetch_recent_events_on`` kept (the checkpoints are built)."""
    dataset._cache.pop(RECENT_BY_DAY_KEY, None)


def _recent_of_day(dataset: Dataset, chosen: Sequence[str]) -> pd.DataFrame | None:
    """The day's frame ``prefetch_recent_events_on`` kept with this dataset or the one it is ``earlier`` than."""
    holder = dataset.derived_from or dataset
    found = holder._cache.get(RECENT_BY_DAY_KEY)
    if found is None or not set(chosen) <= set(found[0]) or dataset.as_of not in found[1]:  # type: ignore[index]
        return None
    return found[1][dataset.as_of][["customer_id", *chosen]].copy()  # type: ignore[index]


DAILY_COLUMNS = frozenset({"active_days_30d", "distinct_features_30d"})
"""The recent-event columns the events rollup answers (``_recent_from_daily``): the stage model's two."""
DAILY_BITS_KEY = "__events_daily_bits__"


def _recent_from_daily(dataset: Dataset, chosen: Sequence[str]) -> pd.DataFrame | None:
    """The window columns ``chosen`` from the events rollup (``lifecycle.events_daily``: a row per day and customer
    with a bitmask of the event names used that day) when they are among ``DAILY_COLUMNS`` and the rollup answers
    for the configured event names (``_daily_bits``); else None (the events' own statement).

    The events statement's values, read from fewer rows (260k instead of 1.2M events on the demo, a contiguous key
    range per window): ``active_days_30d`` = the days in (as_of − 30, as_of] with an activity event — ``COUNT(*)``
    of the customer's rows when every event is activity, else the rows whose mask meets the activity names';
    ``distinct_features_30d`` = Σ over the distinct core features' bits of "some row has it". The customers are
    those with any event in the window, as the statement's ``GROUP BY`` gives them (0 for a count with nothing)."""
    if not set(chosen) <= DAILY_COLUMNS or dataset.connection.dialect != "sqlite":
        return None
    bits = _daily_bits(dataset)
    if bits is None:
        return None
    activation = dataset.config.activation
    select: list[str] = []
    params: list[object] = []
    if "active_days_30d" in chosen:
        if activation.active_events:
            select.append("SUM(CASE WHEN (r.names & ?) <> 0 THEN 1 ELSE 0 END) AS active_days_30d")
            params.append(_mask(bits, activation.active_events))
        else:
            select.append("COUNT(*) AS active_days_30d")
    if "distinct_features_30d" in chosen:
        features = sorted({bits[f] for f in activation.core_features if f in bits})
        select.append(" + ".join(["MAX((r.names & ?) <> 0)"] * len(features) or ["0"]) + " AS distinct_features_30d")
        params += [1 << bit for bit in features]
    scope, scope_params = _scope_sql(dataset, "r.customer_id")
    sql = (f"SELECT r.customer_id AS customer_id, {', '.join(select)} FROM {events_daily.TABLE} r "
           f"WHERE r.day >= ? AND r.day < ? AND {scope} GROUP BY r.customer_id")
    return _run(dataset, sql, [*params, _cutoff(dataset, 30), _cutoff(dataset), *scope_params])


def _mask(bits: dict[str, int], names: Sequence[str]) -> int:
    mask = 0
    for name in names:
        if name in bits:
            mask |= 1 << bits[name]
    return mask


def _daily_bits(dataset: Dataset) -> dict[str, int] | None:
    """The rollup's bit of each configured activity and core-feature name that occurs (``events_daily.name_bits``),
    or None when the rollup is absent, not current (the events changed since it was built) or cannot answer for a
    name. Read once per dataset (an earlier day's view asks the dataset it derives from)."""
    holder = dataset.derived_from or dataset
    if DAILY_BITS_KEY not in holder._cache:
        holder._cache[DAILY_BITS_KEY] = _read_daily_bits(holder)  # type: ignore[assignment]
    return holder._cache[DAILY_BITS_KEY]  # type: ignore[return-value]


def _read_daily_bits(dataset: Dataset) -> dict[str, int] | None:
    activation = dataset.config.activation
    return events_daily.readable_bits(dataset.connection, [*activation.active_events, *activation.core_features])


def _latest_select(dataset: Dataset) -> tuple[list[str], list[object]]:
    act, act_params = _activity_sql(dataset)
    if not act_params:  # every event is activity
        return ["MAX(e.occurred_at) AS last_event_at", "MIN(e.occurred_at) AS first_event_at"], []
    return [f"MAX(CASE WHEN {act} THEN e.occurred_at END) AS last_event_at",
            f"MIN(CASE WHEN {act} THEN e.occurred_at END) AS first_event_at"], [*act_params, *act_params]


def latest_event_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """First and latest activity event to as_of and the whole days since each."""
    absent = _events_absent(dataset, snap, {"last_event_at": "datetime", "days_since_last_event": "float",
                                             "first_event_at": "datetime", "days_since_first_event": "float"})
    if absent is not None:
        return absent
    act, act_params = _activity_sql(dataset)
    frame = _section_frame(dataset, "latest_event", ("last_event_at", "first_event_at"), act, act_params)
    for column in ("last_event_at", "first_event_at"):
        frame[column] = to_datetime(frame[column]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    snap = attach(snap, frame, {"last_event_at": None, "first_event_at": None})
    for column in ("last_event_at", "first_event_at"):
        snap[column] = snap[column].astype("datetime64[us]")
    snap["days_since_last_event"] = days_between(as_of, snap["last_event_at"].dt.normalize())
    snap["days_since_first_event"] = days_between(as_of, snap["first_event_at"].dt.normalize())
    return snap


def activity_churn_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Event-only data: ``churned`` when the latest activity event — or, for a customer never active, the signup —
    lies ``activity.churn_after_days`` or more days before as_of; ``churned_at`` = that day + churn_after_days.

    The rule a growth-accounting view uses when there is no contract or order to end (config
    ``activity.churn_after_days``, default 90). Customers who signed up fewer days ago are not churned.
    """
    days = dataset.config.activity.churn_after_days
    act, act_params = _activity_sql(dataset)
    frame = _event_query(dataset, ["MAX(e.occurred_at) AS last_event_at"], [], act, act_params)
    frame["last_event_at"] = to_datetime(frame["last_event_at"]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    last = attach(snap[["customer_id"]].copy(), frame, {"last_event_at": None})["last_event_at"].astype("datetime64[us]")
    since = last.dt.normalize().fillna(snap["signup_date"].astype("datetime64[us]"))
    churned_at = since + pd.Timedelta(days=days)
    snap["churned"] = pd.array((churned_at <= as_of).to_numpy(), dtype="boolean")
    snap["churned_at"] = churned_at.where(snap["churned"].to_numpy(dtype=bool)).astype("datetime64[us]")
    return snap


def _milestone_select(dataset: Dataset) -> tuple[list[str], list[object]]:
    activation = dataset.config.activation
    return (["MIN(CASE WHEN e.event_name = ? THEN e.occurred_at END) AS activated_at",
             "SUM(CASE WHEN e.event_name = ? THEN 1 ELSE 0 END) AS onboarding_events"],
            [activation.value_event, activation.onboarding_event])


def _feature_select(dataset: Dataset) -> tuple[list[str], list[object]]:
    features = tuple(dataset.config.activation.core_features)
    return [f"MAX(CASE WHEN e.event_name = ? THEN 1 ELSE 0 END) AS used_{i}" for i in range(len(features))], list(features)


_SELECTS = {"recent_events": _recent_select, "latest_event": _latest_select, "milestones": _milestone_select,
            "feature_use": _feature_select}


MAX_MILESTONE_STEPS = 20
"""Onboarding steps up to which ``milestone_events`` keeps each customer's first steps' times (more: a query per as_of)."""


def milestone_events(dataset: Dataset, steps: int) -> pd.DataFrame:
    """Per customer with a value or onboarding event (at any time): the first value event's time (``first_value_at``)
    and the times of the first ``steps`` onboarding events (``onboarding_1`` … ``onboarding_<steps>``; missing when
    fewer) — one pass over the events that answers the milestone section on *every* as_of (``_milestones_on``).

    Memoised per (data, value event, onboarding event, steps): the stage history builds the stage features on a
    dozen monthly checkpoints, and each checkpoint's own milestone query read the whole events table (the event
    name has no index) — 13 scans for one ``lifecycle metrics``; now one.

    On SQLite only the onboarding events are numbered (``ROW_NUMBER``); of the value event — often a frequent one, a
    million rows at 100k customers — each customer's first time is all that counts, one ``MIN`` per (customer, name)
    read in the order of the (customer, event name, time) index: the same first times and steps as numbering both (when
    the two names are one, that row is the first step too, and the ``MIN`` of equal times is that time) — or, when the
    events rollup is current with its per-name table (``events_daily.by_name_present``), that table's ``first_at`` of
    the value event: the same ``MIN`` over every event, written at import. Engines whose every statement scans the
    whole table number both names in one pass.

    Kept between processes as Parquet beside the snapshots (``aggregate_cache_path``, kind ``milestone-events``, keyed
    by the statement and its values) when the dataset has an identity: the checkpoints' forked builder reads it first
    (as_of's checkpoint), and the catalogue's own process, reaching its checkpoints later, reads the child's file
    instead of the same pass over the events (at 100k customers about a second of CPU on each side)."""
    activation = dataset.config.activation
    value, onboarding = activation.value_event, activation.onboarding_event
    kept = ", ".join(f"MIN(CASE WHEN m.event_name = ? AND m.step = {k} THEN m.occurred_at END) AS onboarding_{k}"
                     for k in range(1, steps + 1))
    numbered = ("SELECT e.customer_id AS customer_id, e.event_name AS event_name, e.occurred_at AS occurred_at, "
                "ROW_NUMBER() OVER (PARTITION BY e.customer_id, e.event_name ORDER BY e.occurred_at) AS step "
                "FROM events e WHERE e.event_name ")
    if dataset.connection.dialect == "sqlite" and events_daily.by_name_present(dataset.connection):
        rows = ("SELECT s.customer_id AS customer_id, s.event_name AS event_name, s.first_at AS occurred_at, "
                f"1 AS step FROM {events_daily.BY_NAME_TABLE} s WHERE s.event_name = ? UNION ALL {numbered}= ?")
    elif dataset.connection.dialect == "sqlite":
        rows = ("SELECT e.customer_id AS customer_id, e.event_name AS event_name, MIN(e.occurred_at) AS occurred_at, "
                "1 AS step FROM events e WHERE e.event_name = ? GROUP BY e.customer_id, e.event_name "
                f"UNION ALL {numbered}= ?")
    else:  # a scan reads the whole table there (DuckDB's SQLite scanner, Spark): one pass numbering both names
        rows = f"{numbered}IN (?, ?)"
    sql = ("SELECT m.customer_id AS customer_id, "
           f"MIN(CASE WHEN m.event_name = ? THEN m.occurred_at END) AS first_value_at, {kept} "
           f"FROM ({rows}) m GROUP BY m.customer_id")
    params = [value, *[onboarding] * steps, value, onboarding]

    def read() -> pd.DataFrame:
        if dataset.identity is None:
            return _run(dataset, sql, params)
        from lifecycle.snapshot.cache import aggregate_cache_path, read_cached, write_cached

        target = aggregate_cache_path(dataset.identity, "milestone-events", sql, params)
        found = read_cached(target)
        if found is not None and tuple(found.columns) == milestone_event_columns(steps):
            return found
        frame = _run(dataset, sql, params)
        write_cached(frame, target)
        return frame

    return remember(("milestone-events", dataset.identity, value, onboarding, steps), read)


def milestone_event_columns(steps: int) -> tuple[str, ...]:
    """The columns of ``milestone_events`` for ``steps`` onboarding steps."""
    return ("customer_id", "first_value_at", *(f"onboarding_{k}" for k in range(1, steps + 1)))


def _milestones_on(dataset: Dataset, events: pd.DataFrame, steps: int) -> pd.DataFrame:
    """The milestone section's frame on the dataset's as_of from ``milestone_events``: ``activated_at`` is the first
    value event when it happened by as_of, ``onboarding_events`` the onboarding events by as_of, counted up to
    ``steps`` (the section clips them at the configured steps, ``steps`` ≥ that). Customers whose events all come
    later keep a row (no value event, 0 steps), which reads as their absence does.

    "By as_of" is ``value < cut`` on the ISO text, as the per-as_of statement compares it; each column's texts are
    coded by their days once per data (``MilestoneTimes``), so on each as_of that comparison is one binary search and
    an integer comparison, and ``activated_at`` comes already parsed (``to_datetime`` of the whole column once) when that parse
    succeeds — the stage history asks a dozen checkpoints."""
    cut = _cutoff(dataset)
    activation = dataset.config.activation
    times = remember(("milestone-times", dataset.identity, activation.value_event, activation.onboarding_event, steps),
                     lambda: MilestoneTimes.of(events, steps))
    first = events["first_value_at"]
    reached = times.before("first_value_at", cut)
    activated = times.first_value.where(reached) if times.first_value is not None else first.where(reached, None)
    frame = pd.DataFrame({"customer_id": events["customer_id"], "activated_at": activated})
    counts = np.zeros(len(events), dtype="float64")
    for k in range(1, steps + 1):
        counts += times.before(f"onboarding_{k}", cut)
    frame["onboarding_events"] = counts
    return frame


class DayCodes:
    """A column of ISO texts coded once for ``before``: the distinct days its texts begin with (their first 10
    characters), sorted in Python's string order — code point order, the order of the UTF-8 bytes that SQLite and
    Arrow compare — and each row's position among them (missing: past the end), 4 bytes a row; the texts themselves
    answer a cut that is not a ``YYYY-MM-DD`` day."""

    def __init__(self, values: pd.Series) -> None:
        self.text = values.astype("string")
        present = self.text.notna().to_numpy(dtype=bool)
        days, codes = np.unique(self.text.str.slice(0, 10).to_numpy(dtype=object, na_value=None)[present],
                                return_inverse=True)
        self.days = days
        self.position = np.full(len(self.text), len(days), dtype=np.int32)  # missing: never before a cut
        self.position[present] = codes.reshape(-1)

    def before(self, cut: str) -> np.ndarray:
        """Whether each row's text is present and ``< cut``. For a ``YYYY-MM-DD`` cut that is its first 10 characters
        ``< cut`` (a text whose first 10 characters sort before the day sorts before it; one that begins with the day
        or a later one does not): one binary search among the distinct days."""
        if len(cut) != 10:
            return (self.text.notna() & (self.text < cut)).to_numpy(dtype=bool)
        return self.position < int(np.searchsorted(self.days, cut, side="left"))  # type: ignore[no-any-return]


class MilestoneTimes:
    """``milestone_events``' time columns as ``DayCodes`` (``before``), and ``first_value``: the ``first_value_at``
    column parsed (``lifecycle.dataset.to_datetime``), or None when that parse fails (each as_of then parses its own
    rows)."""

    def __init__(self, coded: dict[str, DayCodes], first_value: pd.Series | None) -> None:
        self.coded = coded
        self.first_value = first_value

    @classmethod
    def of(cls, events: pd.DataFrame, steps: int) -> MilestoneTimes:
        coded = {column: DayCodes(events[column])
                 for column in ("first_value_at", *(f"onboarding_{k}" for k in range(1, steps + 1)))}
        try:
            first_value = to_datetime(events["first_value_at"]) if len(events) else None
        except (ValueError, TypeError, OverflowError):
            first_value = None
        return cls(coded, first_value)

    def before(self, column: str, cut: str) -> np.ndarray:
        """Whether each row's ``column`` is present and ``< cut`` as text (``DayCodes.before``)."""
        return self.coded[column].before(cut)


def _milestone_frame(dataset: Dataset) -> pd.DataFrame:
    """The milestone section's per-customer frame (``activated_at``, ``onboarding_events``): from a whole build's one
    pass when prefetched; for the whole base of a memoised dataset from ``milestone_events`` (one pass for every
    as_of); else the section's own query."""
    columns = ("activated_at", "onboarding_events")
    found = _prefetched(dataset, "milestones", columns)
    if found is not None:
        return found
    activation = dataset.config.activation
    steps = max(1, math.ceil(float(activation.onboarding_steps)))  # ≥ 1: "any step at all" must stay visible
    if dataset.filters.is_empty() and dataset.identity is not None and steps <= MAX_MILESTONE_STEPS:
        return _milestones_on(dataset, milestone_events(dataset, steps), steps)
    return _section_frame(dataset, "milestones", columns, "e.event_name IN (?, ?)",
                          [activation.value_event, activation.onboarding_event])


def milestone_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """First value event and onboarding steps (reads only those two event names)."""
    activation = dataset.config.activation
    absent = _events_absent(dataset, snap, {"activated": "boolean", "activated_at": "datetime", "days_to_value": "float",
                                             "onboarding_steps_done": "float", "onboarding_complete": "boolean"})
    if absent is not None:
        return absent
    frame = as_float(_milestone_frame(dataset), ["onboarding_events"])
    if not len(frame):
        frame["activated_at"] = pd.Series([], dtype="datetime64[us]")
    elif not pd.api.types.is_datetime64_any_dtype(frame["activated_at"]):  # else parsed already (``_milestones_on``)
        frame["activated_at"] = to_datetime(frame["activated_at"])
    value_seen = bool(frame["activated_at"].notna().any()) if len(frame) else False
    onboarding_seen = bool((frame["onboarding_events"] > 0).any()) if len(frame) else False
    snap = attach(snap, frame, {"activated_at": None, "onboarding_events": 0.0})
    snap["activated_at"] = snap["activated_at"].astype("datetime64[us]")
    snap["days_to_value"] = days_between(snap["activated_at"].dt.normalize(), snap["signup_date"])
    snap["activated"] = (snap["days_to_value"] <= activation.within_days).astype("boolean")
    steps = float(activation.onboarding_steps)
    snap["onboarding_steps_done"] = snap["onboarding_events"].clip(upper=steps)
    snap["onboarding_complete"] = (snap["onboarding_steps_done"] >= steps).astype("boolean")
    # A configured event that never occurs in scope is a missing signal, not "nobody did it": NA, not False / 0.
    if not value_seen:
        snap = absent_columns(snap, {"activated": "boolean", "activated_at": "datetime", "days_to_value": "float"})
    if not onboarding_seen:
        snap = absent_columns(snap, {"onboarding_steps_done": "float", "onboarding_complete": "boolean"})
    return snap.drop(columns=["onboarding_events"])


def feature_use_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``used_<feature>``: each configured core feature used at least once by as_of."""
    features = tuple(dataset.config.activation.core_features)
    used = [feature_column(f) for f in features]
    absent = _events_absent(dataset, snap, dict.fromkeys(used, "boolean"))
    if absent is not None or not features:
        return absent if absent is not None else snap
    where, where_params = _in_list("e.event_name", features)
    flags = [f"used_{i}" for i in range(len(features))]
    frame = as_float(_section_frame(dataset, "feature_use", flags, where, where_params), flags)
    frame = frame.rename(columns={f"used_{i}": name for i, name in enumerate(used)})
    snap = attach(snap, frame, dict.fromkeys(used, 0.0))
    for column in used:
        snap[column] = (snap[column] > 0).astype("boolean")
    return snap

def referral_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Referrals made to as_of and those whose referred customer had signed up by as_of."""
    columns = ["referrals_made", "referrals_converted"]
    if not dataset.has("referrals"):
        return absent_columns(snap, dict.fromkeys(columns, "float"))
    if dataset.filters.is_empty() and dataset.identity is not None and dataset.connection.dialect == "sqlite":
        frame = remember(("referral-days", dataset.identity), lambda: ReferralDays.read(dataset)).on(_cutoff(dataset))
        return attach(snap, frame, dict.fromkeys(columns, 0.0))
    scope, scope_params = _scope_sql(dataset, "r.referrer_customer_id")
    sql = ("SELECT r.referrer_customer_id AS customer_id, COUNT(*) AS referrals_made, "
           "SUM(CASE WHEN c2.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS referrals_converted "
           "FROM referrals r LEFT JOIN customers c2 ON c2.customer_id = r.referred_customer_id AND c2.signup_date < ? "
           f"WHERE r.referred_at < ? AND {scope} GROUP BY r.referrer_customer_id")
    frame = _run(dataset, sql, [_cutoff(dataset), _cutoff(dataset), *scope_params])
    return attach(snap, as_float(frame, columns), dict.fromkeys(columns, 0.0))


class ReferralDays:
    """Every referral once (``read``: referrer, referral day, the referred customer's signup day), answering the
    referral section on any as_of (``on``) — the stage history asks a dozen checkpoints, each its own statement before."""

    def __init__(self, rows: pd.DataFrame) -> None:
        codes, referrers = pd.factorize(rows["customer_id"].astype("string"))
        self.codes = codes.astype(np.int64)
        self.referrers = pd.Series(referrers, dtype="string")
        self.referred = DayCodes(rows["referred_at"])
        self.signed_up = DayCodes(rows["signed_up_at"])

    @classmethod
    def read(cls, dataset: Dataset) -> ReferralDays:
        return cls(_run(dataset, "SELECT r.referrer_customer_id AS customer_id, r.referred_at AS referred_at, "
                        "c2.signup_date AS signed_up_at FROM referrals r "
                        "LEFT JOIN customers c2 ON c2.customer_id = r.referred_customer_id", []))

    def on(self, cut: str) -> pd.DataFrame:
        """``referral_columns``' statement's frame for ``cut`` (the day after as_of): per referrer with a referral
        ``referred_at < cut`` (SQL text order) their number (``referrals_made``) and how many of them name a customer
        whose ``signup_date < cut`` (``referrals_converted``); a referral without a referrer counts for nobody (its
        NULL group aligns onto no customer)."""
        made = self.referred.before(cut) & (self.codes >= 0)
        converted = made & self.signed_up.before(cut)
        counts = np.bincount(self.codes[made], minlength=len(self.referrers))
        keep = counts > 0
        return pd.DataFrame({"customer_id": self.referrers[keep].reset_index(drop=True),
                             "referrals_made": counts[keep].astype("float64"),
                             "referrals_converted": np.bincount(self.codes[converted], minlength=len(self.referrers))[keep]
                             .astype("float64")})


def touch_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Touches sent / opened / clicked in the last 90 days (every channel), emails sent and opened, open rate."""
    columns = ["touches_sent_90d", "touches_opened_90d", "touches_clicked_90d", "emails_sent_90d", "emails_opened_90d"]
    if not dataset.has("touches"):
        return absent_columns(snap, {**dict.fromkeys(columns, "float"), "email_open_rate_90d": "float"})
    cut = _cutoff(dataset)
    opened = "(t.opened_at IS NOT NULL AND t.opened_at <> '' AND t.opened_at < ?)"
    clicked = "(t.clicked_at IS NOT NULL AND t.clicked_at <> '' AND t.clicked_at < ?)"
    scope, scope_params = _scope_sql(dataset, "t.customer_id")
    sql = ("SELECT t.customer_id AS customer_id, COUNT(*) AS touches_sent_90d, "
           f"SUM(CASE WHEN {opened} THEN 1 ELSE 0 END) AS touches_opened_90d, "
           f"SUM(CASE WHEN {clicked} THEN 1 ELSE 0 END) AS touches_clicked_90d, "
           "SUM(CASE WHEN t.channel = 'email' THEN 1 ELSE 0 END) AS emails_sent_90d, "
           f"SUM(CASE WHEN t.channel = 'email' AND {opened} THEN 1 ELSE 0 END) AS emails_opened_90d "
           f"FROM touches t WHERE t.sent_at >= ? AND t.sent_at < ? AND {scope} GROUP BY t.customer_id")
    frame = _run(dataset, sql, [cut, cut, cut, _cutoff(dataset, 90), cut, *scope_params])
    snap = attach(snap, as_float(frame, columns), dict.fromkeys(columns, 0.0))
    sent = snap["emails_sent_90d"]
    snap["email_open_rate_90d"] = snap["emails_opened_90d"] / sent.where(sent > 0)
    return snap


def order_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Kept orders to as_of: count, value net of refunds, first and latest order, whole days since the latest."""
    columns = {"orders_count": "float", "orders_value": "float", "last_order_at": "datetime",
               "first_order_at": "datetime", "days_since_last_order": "float"}
    if not dataset.has("orders"):
        return absent_columns(snap, columns)
    status = "LOWER(COALESCE(o.status, ''))"
    kept = f"{status} NOT IN ('refunded', 'cancelled', 'canceled')"
    scope, scope_params = _scope_sql(dataset, "o.customer_id")
    sql = (f"SELECT o.customer_id AS customer_id, SUM(CASE WHEN {kept} THEN 1 ELSE 0 END) AS orders_count, "
           f"SUM(CASE WHEN {kept} THEN o.amount WHEN {status} = 'refunded' THEN -o.amount ELSE 0 END) AS orders_value, "
           f"MAX(CASE WHEN {kept} THEN o.ordered_at END) AS last_order_at, "
           f"MIN(CASE WHEN {kept} THEN o.ordered_at END) AS first_order_at "
           f"FROM orders o WHERE o.ordered_at < ? AND {scope} GROUP BY o.customer_id")
    frame = as_float(_run(dataset, sql, [_cutoff(dataset), *scope_params]), ["orders_count", "orders_value"])
    for column in ("last_order_at", "first_order_at"):
        frame[column] = to_datetime(frame[column]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    snap = attach(snap, frame, {"orders_count": 0.0, "orders_value": 0.0, "last_order_at": None, "first_order_at": None})
    for column in ("last_order_at", "first_order_at"):
        snap[column] = snap[column].astype("datetime64[us]")
    snap["days_since_last_order"] = days_between(as_of, snap["last_order_at"].dt.normalize())
    return snap


MAX_INVOICE_STATUSES = 500
"""Distinct invoice statuses up to which ``invoice_frame`` classifies them by bound ``IN`` lists; past it (free text in
the status column) ``lifecycle.snapshot.tables.invoice_columns`` reads the table into pandas instead."""


def normalised_statuses(statuses: pd.Series) -> pd.Series:
    """Invoice statuses as the snapshot reads them: trimmed, lower case, each run of spaces/hyphens as one ``_``."""
    return statuses.astype("string").str.strip().str.lower().str.replace(r"[\s-]+", "_", regex=True)


def invoice_frame(dataset: Dataset, failed_statuses: Sequence[str]) -> tuple[pd.DataFrame, bool] | None:
    """The invoices section's per-customer counts in one ``GROUP BY customer_id`` over the invoices due by as_of —
    ``invoices_due_90d``, ``invoices_late_90d``, ``invoices_overdue_now``, ``payment_failures_90d`` (definitions:
    ``lifecycle.snapshot.tables.invoice_columns``, which reads the same rows into pandas) — and whether the
    invoices can record a failed payment at all. A payment after as_of is unknown on as_of (the as-of view's mask).

    The raw statuses are classified (void, failed) in pandas from one ``DISTINCT`` look-up per identity of the data
    and bound as ``IN`` lists, so every spelling normalises exactly as in pandas. None when there are more than
    ``MAX_INVOICE_STATUSES`` of them."""
    def distinct() -> list[object]:
        return list(_run(dataset, "SELECT DISTINCT i.status AS status FROM invoices i WHERE i.status IS NOT NULL", [])["status"])

    raw = distinct() if dataset.identity is None else remember(("invoice-statuses", dataset.identity), distinct)
    if len(raw) > MAX_INVOICE_STATUSES:
        return None
    normal = normalised_statuses(pd.Series(raw, dtype="object")).fillna("")
    void = [value for value, name in zip(raw, normal, strict=True) if name == "void"]
    failed = [value for value, name in zip(raw, normal, strict=True) if name in set(failed_statuses)]
    void_sql, void_params = _in_list("i.status", tuple(void))  # type: ignore[arg-type]
    failed_sql, failed_params = _in_list("i.status", tuple(failed))  # type: ignore[arg-type]
    cut, since, today = _cutoff(dataset), (dataset.as_of - timedelta(days=89)).isoformat(), dataset.as_of.isoformat()
    # each condition with its bound values, in the order its placeholders appear
    paid: tuple[str, list[object]] = ("(i.paid_at IS NOT NULL AND i.paid_at <> '' AND i.paid_at < ?)", [cut])  # known on as_of
    due = "(i.due_date IS NOT NULL AND i.due_date <> '')"
    recent: tuple[str, list[object]] = (f"({due} AND i.due_date >= ?)", [since])  # due in (as_of − 90 days, as_of]
    overdue: tuple[str, list[object]] = (f"(NOT {paid[0]} AND {due} AND i.due_date < ?)", [*paid[1], today])
    late: tuple[str, list[object]] = (f"(({paid[0]} AND {due} AND i.paid_at > i.due_date) OR {overdue[0]})", [*paid[1], *overdue[1]])
    failed_attempt: tuple[str, list[object]] = (f"(i.attempt_count IS NOT NULL AND i.attempt_count - CASE WHEN {paid[0]} THEN 1 ELSE 0 END > 0)",
                      paid[1])
    counts: list[tuple[str, str, list[object]]] = [
        ("invoices_due_90d", recent[0], recent[1]),
        ("invoices_late_90d", f"{recent[0]} AND {late[0]}", [*recent[1], *late[1]]),
        ("invoices_overdue_now", overdue[0], overdue[1]),
        ("payment_failures_90d", f"{recent[0]} AND ({failed_sql} OR {failed_attempt[0]})",
         [*recent[1], *failed_params, *failed_attempt[1]]),
        ("failures_recordable", f"{failed_sql} OR i.attempt_count IS NOT NULL", failed_params),
    ]
    scope, scope_params = _scope_sql(dataset, "i.customer_id")
    sql = ("SELECT i.customer_id AS customer_id, "
           + ", ".join(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {name}" for name, condition, _ in counts)
           + f" FROM invoices i WHERE i.due_date < ? AND (i.status IS NULL OR NOT ({void_sql})) AND {scope} "
           "GROUP BY i.customer_id")
    params: list[object] = [*(value for _, _, values in counts for value in values), cut, *void_params, *scope_params]
    frame = _run(dataset, sql, params)
    columns = ["invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "payment_failures_90d", "failures_recordable"]
    frame = as_float(frame, columns)
    return frame.drop(columns=["failures_recordable"]), bool((frame["failures_recordable"] > 0).any())
