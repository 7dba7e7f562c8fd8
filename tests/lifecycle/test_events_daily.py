"""The events rollup (``lifecycle.events_daily``): a row per (day, customer) with a bitmask of the event names used
that day, rebuilt by every write of the store that changes the events, marked stale by any other writer, and read by
the stage history's checkpoint snapshots for ``active_days_30d`` / ``distinct_features_30d``.

Golden values by hand, as_of 2024-03-31: the 30-day window is the days 03-02 … 03-31 (``(as_of − 30, as_of]``).
- a: 03-01T23:59:59 report_created (the day before the window), 03-02T00:00:00 login and 03-02T08:00 report_created,
  03-20 api_call, 03-31T23:59:59 export_csv, 04-01T00:00:00 api_call (after as_of) → active days {03-02, 03-20,
  03-31} = 3; core features used {report_created, api_call, export_csv} = 3; with only report_created counting as
  activity: 1 day (03-02).
- b: two logins on 03-10 → 1 active day, 0 core features (0 active days when only report_created counts).
- c: report_created on 02-15 only → no event in the window → 0 and 0.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle import events_daily
from lifecycle.config import DEFAULT_CONFIG
from lifecycle.dataset import Dataset
from lifecycle.scope import Scope
from lifecycle.snapshot.build import build_snapshot
from lifecycle.snapshot.sql import _daily_bits
from lifecycle.sources import DuckDBSource, SqliteSource
from lifecycle.sources.parquet import export_parquet
from lifecycle.store import atomic_write
from tests.builders import make_store
from tests.console import import_csvs, lifecycle

AS_OF = date(2024, 3, 31)
COLUMNS = ("active_days_30d", "distinct_features_30d")


def _event(eid: str, customer: str, at: str, name: str) -> dict[str, Any]:
    return {"event_id": eid, "customer_id": customer, "occurred_at": at, "event_name": name}


def _tables() -> dict[str, list[dict[str, Any]]]:
    return {
        "customers": [{"customer_id": c, "signup_date": "2024-01-01"} for c in ("a", "b", "c")],
        "events": [
            _event("e1", "a", "2024-03-01T23:59:59", "report_created"),
            _event("e2", "a", "2024-03-02T00:00:00", "login"),
            _event("e3", "a", "2024-03-02T08:00:00", "report_created"),
            _event("e4", "a", "2024-03-20T10:00:00", "api_call"),
            _event("e5", "a", "2024-03-31T23:59:59", "export_csv"),
            _event("e6", "a", "2024-04-01T00:00:00", "api_call"),
            _event("e7", "b", "2024-03-10T09:00:00", "login"),
            _event("e8", "b", "2024-03-10T17:00:00", "login"),
            _event("e9", "c", "2024-02-15T12:00:00", "report_created"),
        ],
    }


def _columns(path: Path, config: Any = DEFAULT_CONFIG, source: type = SqliteSource) -> tuple[pd.DataFrame, bool]:
    """The two window columns of every customer on AS_OF (a build of those columns only, as a checkpoint's) and
    whether the rollup answered them."""
    dataset = Dataset(source(path).connect(), Scope.at(AS_OF), config)
    try:
        frame = build_snapshot(dataset, COLUMNS)[["customer_id", *COLUMNS]].reset_index(drop=True)
        return frame, source is SqliteSource and _daily_bits(dataset) is not None
    finally:
        dataset.close()


def _by_customer(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {row.customer_id: (row.active_days_30d, row.distinct_features_30d) for row in frame.itertuples()}


def _mark_stale(path: Path) -> None:
    """A write that is not the store's (another program): the same values written back into every event."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE events SET quantity = quantity")
    conn.close()


def test_a_written_store_has_one_row_per_customer_and_day_with_the_names_used(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    conn = sqlite3.connect(path)
    names = dict(conn.execute(f"SELECT name, bit FROM {events_daily.NAMES_TABLE}").fetchall())
    assert names == {"api_call": 0, "export_csv": 1, "login": 2, "report_created": 3}  # name order
    rows = conn.execute(f"SELECT day, customer_id, names FROM {events_daily.TABLE} ORDER BY day, customer_id").fetchall()
    assert rows == [("2024-02-15", "c", 8), ("2024-03-01", "a", 8), ("2024-03-02", "a", 4 | 8), ("2024-03-10", "b", 4),
                    ("2024-03-20", "a", 1), ("2024-03-31", "a", 2), ("2024-04-01", "a", 1)]
    assert events_daily.is_current(conn)
    conn.close()


@pytest.mark.parametrize("source", [SqliteSource, DuckDBSource])
def test_the_window_columns_are_the_hand_counted_ones_from_the_rollup_and_from_the_events(tmp_path: Path, source: type) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    rolled, used = _columns(path, source=source)
    assert used is (source is SqliteSource)
    assert _by_customer(rolled) == {"a": (3.0, 3.0), "b": (1.0, 0.0), "c": (0.0, 0.0)}
    _mark_stale(path)
    events, used = _columns(path, source=source)
    assert not used  # stale: the events' own statement
    pd.testing.assert_frame_equal(rolled, events, check_exact=True)


def test_configured_activity_events_and_absent_core_features(tmp_path: Path) -> None:
    """Only report_created is activity; the core features are export_csv, api_call and a name no event has (it
    counts nothing): a → 1 active day (03-02), 2 features; b → 0 and 0."""
    config = replace(DEFAULT_CONFIG, activation=replace(DEFAULT_CONFIG.activation, active_events=("report_created",),
                                                        core_features=("export_csv", "api_call", "never_seen")))
    path = make_store(tmp_path / "s.db", _tables())
    rolled, used = _columns(path, config)
    assert used
    assert _by_customer(rolled) == {"a": (1.0, 2.0), "b": (0.0, 0.0), "c": (0.0, 0.0)}
    _mark_stale(path)
    pd.testing.assert_frame_equal(rolled, _columns(path, config)[0], check_exact=True)


def test_an_events_write_rebuilds_it_and_another_tables_write_keeps_it(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    with atomic_write(path) as db:  # another table only: the rollup stays current, as it was
        db["nps_responses"].insert_all([{"response_id": "n1", "customer_id": "a", "responded_at": "2024-03-05", "score": 9}])
    frame, used = _columns(path)
    assert used and _by_customer(frame)["b"] == (1.0, 0.0)
    with atomic_write(path) as db:  # b uses api_call on 03-11: a second active day and a core feature
        db["events"].insert_all([_event("e10", "b", "2024-03-11T10:00:00", "api_call")])
    frame, used = _columns(path)
    assert used and _by_customer(frame)["b"] == (2.0, 1.0)


def test_a_failed_write_leaves_the_rollup_as_it_was(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    with pytest.raises(RuntimeError), atomic_write(path) as db:
        db["events"].insert_all([_event("e10", "b", "2024-03-11T10:00:00", "api_call")])
        raise RuntimeError("stop before the commit")
    frame, used = _columns(path)
    assert used and _by_customer(frame)["b"] == (1.0, 0.0)


def test_a_foreign_write_marks_it_stale_and_the_next_write_rebuilds_it(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    conn = sqlite3.connect(path)
    with conn:  # another program adds an event of c in the window: the trigger marks the rollup stale
        conn.execute("INSERT INTO events (event_id, customer_id, occurred_at, event_name) "
                     "VALUES ('e10', 'c', '2024-03-05T10:00:00', 'dashboard_viewed')")
    assert not events_daily.is_current(conn)
    conn.close()
    frame, used = _columns(path)
    assert not used and _by_customer(frame)["c"] == (1.0, 1.0)
    with atomic_write(path):
        pass  # any write of the store rebuilds a rollup that is not current
    rebuilt, used = _columns(path)
    assert used
    pd.testing.assert_frame_equal(rebuilt, frame, check_exact=True)


def test_a_rebuild_beside_an_attached_read_only_store_touches_only_its_own(tmp_path: Path) -> None:
    """A copy job (benchmarks/bench_scale) ATTACHes a written store read-only and rebuilds the rollup of the store it
    fills: the rollup's drops must name main's objects, not the attached store's same-named triggers and tables
    (unqualified, "attempt to write a readonly database"). The copy gets the hand-counted rows; the source is as it was."""
    source = make_store(tmp_path / "source.db", _tables())
    target = make_store(tmp_path / "target.db", {})
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
    conn.execute("BEGIN")
    events_daily.drop_triggers(conn)
    conn.execute("INSERT INTO main.events SELECT * FROM src.events")
    events_daily.rebuild(conn)
    conn.execute("COMMIT")
    triggers = {schema: sorted(r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'trigger'"))
                for schema in ("main", "src")}
    assert triggers["main"] == triggers["src"] == sorted(events_daily.TRIGGERS)
    assert conn.execute(f"SELECT count(*) FROM main.{events_daily.TABLE}").fetchone()[0] == 7  # 7 (day, customer) pairs
    conn.close()


def test_a_store_without_the_rollup_reads_the_events(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    conn = sqlite3.connect(path)
    with conn:  # a database written before the rollup existed
        for table in events_daily.TABLES:
            conn.execute(f"DROP TABLE {table}")
    conn.close()
    frame, used = _columns(path)
    assert not used and _by_customer(frame) == {"a": (3.0, 3.0), "b": (1.0, 0.0), "c": (0.0, 0.0)}


def test_more_names_than_bits_falls_back_for_a_name_without_a_bit(tmp_path: Path) -> None:
    """64 more names f00 … f63 used by b on 03-10. In name order api_call, export_csv, f00 … f60 get the 63 bits and
    f61 … f63, login, report_created none. A core feature without a bit cannot be answered from the masks (the
    events answer: b used f61 and f00 → 2 features); f60 and f00 can."""
    tables = _tables()
    tables["events"] += [_event(f"x{i:02d}", "b", "2024-03-10T12:00:00", f"f{i:02d}") for i in range(64)]
    path = make_store(tmp_path / "s.db", tables)
    conn = sqlite3.connect(path)
    assert conn.execute(f"SELECT bit FROM {events_daily.NAMES_TABLE} WHERE name IN ('f60', 'f61') ORDER BY name").fetchall() == [(62,), (None,)]
    conn.close()
    for features, used in ((("f61", "f00"), False), (("f60", "f00"), True)):
        config = replace(DEFAULT_CONFIG, activation=replace(DEFAULT_CONFIG.activation, core_features=features))
        frame, answered = _columns(path, config)
        assert answered is used
        assert _by_customer(frame)["b"] == (1.0, 2.0)


def test_the_parquet_export_leaves_the_rollup_out(tmp_path: Path) -> None:
    path = make_store(tmp_path / "s.db", _tables())
    counts = export_parquet(path, tmp_path / "out")
    assert "events" in counts and not set(events_daily.ALL_TABLES) & set(counts)


def test_the_console_import_keeps_it_current_through_an_append(tmp_path: Path) -> None:
    """The real importer (console script): customers, then events in two files; after the second (appended) file
    b's 03-11 event is in the rollup."""
    path = import_csvs(tmp_path, {"customers": "customer_id,signup_date\na,2024-01-01\nb,2024-01-01\n",
                                  "events": "event_id,customer_id,occurred_at,event_name\n"
                                            "e1,a,2024-03-02T00:00:00,login\ne2,b,2024-03-10T09:00:00,login\n"}, "s.db")
    (tmp_path / "more.csv").write_text("event_id,customer_id,occurred_at,event_name\ne3,b,2024-03-11T10:00:00,api_call\n",
                                       encoding="utf-8")
    done = lifecycle("import", "events", "more.csv", "--db", "s.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(path)
    assert events_daily.is_current(conn)
    names = dict(conn.execute(f"SELECT name, bit FROM {events_daily.NAMES_TABLE}").fetchall())
    assert names == {"api_call": 0, "login": 1}
    rows = conn.execute(f"SELECT day, customer_id, names FROM {events_daily.TABLE} ORDER BY day, customer_id").fetchall()
    assert rows == [("2024-03-02", "a", 2), ("2024-03-10", "b", 2), ("2024-03-11", "b", 1)]
    conn.close()


def test_the_per_name_summary_is_read_from_the_import_when_no_event_comes_after_as_of(tmp_path: Path) -> None:
    """By hand, every event: a — api_call 2 (first 03-20T10:00), export_csv 1 (03-31T23:59:59), login 1
    (03-02T00:00), report_created 2 (first 03-01T23:59:59); b — login 2 (first 03-10T09:00); c — report_created 1
    (02-15T12:00). On 2024-04-01 (the last event's day) the import's table answers with exactly these rows; on AS_OF
    a's 04-01 api_call comes later, so the events are read and a has 1 api_call; a stale rollup is not read."""
    from lifecycle.metrics.event_aggregates import name_summary

    path = make_store(tmp_path / "s.db", _tables())
    expected = [("a", "api_call", 2, "2024-03-20 10:00:00"), ("a", "export_csv", 1, "2024-03-31 23:59:59"),
                ("a", "login", 1, "2024-03-02 00:00:00"), ("a", "report_created", 2, "2024-03-01 23:59:59"),
                ("b", "login", 2, "2024-03-10 09:00:00"), ("c", "report_created", 1, "2024-02-15 12:00:00")]

    def summary(day: date) -> tuple[list[tuple[str, str, int, str]], bool]:
        dataset = Dataset(SqliteSource(path).connect(), Scope.at(day), DEFAULT_CONFIG)
        try:
            read = events_daily.by_name_readable(dataset.connection, (day + timedelta(days=1)).isoformat())
            rows = [(r.customer_id, r.event_name, r.events, str(r.first_at)) for r in name_summary(dataset).itertuples()]
            return rows, read
        finally:
            dataset.close()

    assert summary(date(2024, 4, 1)) == (expected, True)
    assert summary(AS_OF) == ([(c, n, 1 if (c, n) == ("a", "api_call") else k, t) for c, n, k, t in expected], False)
    _mark_stale(path)
    assert summary(date(2024, 4, 1)) == (expected, False)
