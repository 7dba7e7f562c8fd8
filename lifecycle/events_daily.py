"""The events rollup: one row per (day, customer) with the set of event names that customer used that day.

``_events_daily(day, customer_id, names)`` — ``day`` is ``SUBSTR(occurred_at, 1, 10)``, ``names`` a bitmask over
``_events_daily_names(name, bit)`` (every distinct event name, in name order; the first ``MAX_BITS`` get bits 0…62,
the others ``bit`` NULL). Keyed (day, customer_id): a window of days is one contiguous range of the key.

Why: the stage history classifies the whole base on a dozen monthly checkpoints, and each reads every event of its
last 30 days (active days, distinct core features: ``lifecycle.snapshot.sql.recent_event_columns``). On the demo the
rollup has 260k rows for 1.2M events and those 13 statements take 0.11 s instead of 0.44 s of CPU.

Same answers: for a ``YYYY-MM-DD`` cutoff ``c`` and any text ``s``, ``s >= c`` ⟺ ``SUBSTR(s, 1, 10) >= c`` (and the
same for ``<``), so a window of days selects the same events' days as the events' own ``occurred_at`` window; a
customer has a row on a day when it has any event that day, so the customers a window groups are the same.

Beside it ``_events_by_name(customer_id, event_name, events, first_at)``: each customer's event count and first time
per event name over every event (``BY_NAME_TABLE``) — the metrics' per-name summary (``event_aggregates.name_summary``,
a pass over every event: 6 s of CPU at 100k customers / 12M events) for an as_of on or after the last event's day.

Kept current by every write of this version: ``lifecycle.store.atomic_write`` watches the statements of its write
(``EventsWrites``, an SQLite authorizer: per statement, not per row) and rebuilds the rollup before its ``COMMIT``
when one wrote to ``events`` or the rollup is not current (a database written before it existed) — in the write's
transaction, so it is never half-written. Writers that are not this code (an older version, the sqlite3 shell, the
bench loaders through DuckDB) fire the triggers ``TRIGGERS`` (dropped during this version's own writes, re-created
after the rebuild), which delete the ``_meta`` row ``STATE_KEY``: readers then fall back to the events table
(``usable``) until the next write rebuilds it. Readers on another engine (DuckDB, Spark) never read it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.sources.base import Connection

TABLE = "_events_daily"
NAMES_TABLE = "_events_daily_names"
TABLES = (TABLE, NAMES_TABLE)
"""The day rollup and its name bits (``readable``)."""
BY_NAME_TABLE = "_events_by_name"
"""Per (customer, event name): ``events`` (count) and ``first_at`` (the first ``occurred_at``) over every event, in the
events' (customer, name) index order: ``lifecycle.metrics.event_aggregates.name_summary`` for an as_of on or after the
last event's day (``by_name_readable``)."""
ALL_TABLES = (*TABLES, BY_NAME_TABLE)
"""Every table this module writes (a rebuild replaces them; an export leaves them out)."""
STATE_KEY = "events_daily"
STATE_CURRENT = "current"
MAX_BITS = 63
"""Names with a bit: 0…62 (SQLite integers are signed 64-bit; the sign bit stays clear)."""
TRIGGERS = tuple(f"_events_daily_stale_{op.lower()}" for op in ("INSERT", "UPDATE", "DELETE"))
_META = "_meta"


def rebuild(conn: sqlite3.Connection) -> None:
    """(Re)build the rollup from ``events`` on ``conn`` (inside the caller's transaction), record it current in
    ``_meta`` and (re)create the staleness triggers. Does nothing on a database without ``events`` or ``_meta``."""
    if not (_has_table(conn, "events") and _has_table(conn, _META)):
        return
    drop_triggers(conn)
    for table in ALL_TABLES:
        conn.execute(f'DROP TABLE IF EXISTS main."{table}"')  # main: not a same-named table of an ATTACHed file
    conn.execute(f'CREATE TABLE "{NAMES_TABLE}" (name TEXT PRIMARY KEY NOT NULL, bit INTEGER) WITHOUT ROWID')
    conn.execute(f'CREATE TABLE "{TABLE}" (day TEXT NOT NULL, customer_id TEXT NOT NULL, names INTEGER NOT NULL, '
                 "PRIMARY KEY (day, customer_id)) WITHOUT ROWID")
    conn.execute("DROP TABLE IF EXISTS temp._events_daily_days")
    # each customer's distinct (day, name) — the events' (customer, event name, time) index gives them in order
    conn.execute("CREATE TEMP TABLE _events_daily_days AS SELECT customer_id, event_name, SUBSTR(occurred_at, 1, 10) AS day "
                 "FROM events GROUP BY customer_id, event_name, day")
    conn.execute(f'INSERT INTO "{NAMES_TABLE}" (name, bit) SELECT name, CASE WHEN rank < {MAX_BITS} THEN rank END '
                 "FROM (SELECT name, ROW_NUMBER() OVER (ORDER BY name) - 1 AS rank "
                 "FROM (SELECT DISTINCT event_name AS name FROM temp._events_daily_days WHERE event_name IS NOT NULL))")
    conn.execute(f'INSERT INTO "{TABLE}" (day, customer_id, names) '
                 f"SELECT d.day, d.customer_id, SUM(CASE WHEN n.bit IS NULL THEN 0 ELSE 1 << n.bit END) "
                 f'FROM temp._events_daily_days d LEFT JOIN "{NAMES_TABLE}" n ON n.name = d.event_name '
                 "WHERE d.day IS NOT NULL AND d.customer_id IS NOT NULL GROUP BY d.day, d.customer_id")
    conn.execute("DROP TABLE temp._events_daily_days")
    # the per-(customer, name) summary of every event, in the (customer, event name, time) index's group order
    conn.execute(f'CREATE TABLE "{BY_NAME_TABLE}" (customer_id TEXT, event_name TEXT, events INTEGER, first_at TEXT)')
    conn.execute(f'INSERT INTO "{BY_NAME_TABLE}" (customer_id, event_name, events, first_at) '
                 "SELECT customer_id, event_name, COUNT(*), MIN(occurred_at) FROM events WHERE occurred_at IS NOT NULL "
                 "GROUP BY customer_id, event_name")
    conn.execute(f"INSERT INTO {_META} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (STATE_KEY, STATE_CURRENT))
    create_triggers(conn)


def drop_triggers(conn: sqlite3.Connection) -> None:
    """Drop the staleness triggers (this version's own writes rebuild the rollup instead: no per-row cost)."""
    for name in TRIGGERS:
        conn.execute(f'DROP TRIGGER IF EXISTS main."{name}"')  # unqualified, it could resolve to an ATTACHed file


def is_current(conn: sqlite3.Connection) -> bool:
    """Whether the rollup exists and no write to ``events`` happened since it was built."""
    if not all(_has_table(conn, t) for t in (*ALL_TABLES, _META)):
        return False
    row = conn.execute(f"SELECT value FROM {_META} WHERE key = ?", (STATE_KEY,)).fetchone()
    return row is not None and row[0] == STATE_CURRENT


def is_missing(conn: sqlite3.Connection) -> bool:
    """Whether a write of this version would build the rollup: the database has ``events`` and ``_meta`` but no
    current rollup (written before the rollup existed, or its events changed by another writer since)."""
    return _has_table(conn, "events") and _has_table(conn, _META) and not is_current(conn)


class EventsWrites:
    """An SQLite authorizer (``conn.set_authorizer(watch)``) noting whether a statement prepared on the connection
    inserts, updates or deletes rows of ``events``, or drops or alters it (``touched``). It allows everything."""

    WRITES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE,
                        sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_ALTER_TABLE})

    def __init__(self) -> None:
        self.touched = False

    def __call__(self, action: int, first: str | None, second: str | None, database: str | None,
                 source: str | None) -> int:
        if action in self.WRITES and database == "main" and (first == "events" or second == "events"):
            self.touched = True
        return sqlite3.SQLITE_OK


def refresh(conn: sqlite3.Connection, touched: bool) -> None:
    """At the end of a write: rebuild the rollup when the write ``touched`` the events or it is not current, else
    just put the staleness triggers back (``drop_triggers`` took them away for the write)."""
    if touched or not is_current(conn):
        rebuild(conn)
    elif _has_table(conn, "events"):
        drop_triggers(conn)
        create_triggers(conn)


def create_triggers(conn: sqlite3.Connection) -> None:
    """The triggers that mark the rollup stale (delete ``STATE_KEY`` from ``_meta``) on any write to ``events``."""
    for name, op in zip(TRIGGERS, ("INSERT", "UPDATE", "DELETE"), strict=True):
        conn.execute(f'CREATE TRIGGER "{name}" AFTER {op} ON events '
                     f"WHEN EXISTS (SELECT 1 FROM {_META} WHERE key = '{STATE_KEY}') "
                     f"BEGIN DELETE FROM {_META} WHERE key = '{STATE_KEY}'; END")


def name_bits(rows: Collection[tuple[object, object]], names: Collection[str]) -> dict[str, int] | None:
    """The bit of each of ``names`` from the names table's ``rows`` ((name, bit) pairs); a name the events never
    use is left out (it matches nothing). None when one of them is used but has no bit (more than ``MAX_BITS``
    distinct names): the rollup cannot answer for it."""
    known = {str(name): bit for name, bit in rows}
    bits: dict[str, int] = {}
    for name in names:
        if name in known:
            bit = known[name]
            if bit is None:
                return None
            bits[name] = int(bit)  # type: ignore[call-overload]
    return bits


def readable(connection: Connection) -> bool:
    """Whether a reader on ``connection`` (a ``lifecycle.sources`` connection) may answer from the rollup: SQLite, the
    rollup's tables present and recorded current in ``_meta`` (no write to ``events`` since it was built)."""
    if connection.dialect != "sqlite" or not {*TABLES, _META} <= connection.tables():
        return False
    state = connection.rows(f"SELECT value FROM {_META} WHERE key = ?", [STATE_KEY])
    return bool(state) and state[0][0] == STATE_CURRENT


def readable_bits(connection: Connection, names: Collection[str]) -> dict[str, int] | None:
    """The rollup's bit of each of ``names`` that the events use (``name_bits``) when the rollup is ``readable`` on
    ``connection`` and has a bit for every one of them that occurs; else None (read the events themselves)."""
    if not readable(connection):
        return None
    return name_bits(connection.rows(f"SELECT name, bit FROM {NAMES_TABLE}"), names)


def by_name_present(connection: Connection) -> bool:
    """Whether ``BY_NAME_TABLE`` answers for every event: the rollup is ``readable`` and has that table."""
    return readable(connection) and BY_NAME_TABLE in connection.tables()


def by_name_readable(connection: Connection, cutoff: str) -> bool:
    """Whether ``BY_NAME_TABLE`` answers for the events before ``cutoff`` (a ``YYYY-MM-DD`` day): it is
    ``by_name_present`` and no event falls on or after ``cutoff`` (no rollup day ``>= cutoff``: for a ``YYYY-MM-DD``
    bound an event's ``occurred_at >= cutoff`` ⟺ its day ``>= cutoff``), so "every event" is "every event before
    ``cutoff``"."""
    if not by_name_present(connection):
        return False
    return not connection.rows(f"SELECT 1 FROM {TABLE} WHERE day >= ? LIMIT 1", [cutoff])


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None
