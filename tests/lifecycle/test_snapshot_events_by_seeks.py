"""A whole snapshot on SQLite reads the first and latest activity and the core features used by index seeks per
customer (``lifecycle.snapshot.sql.prefetch_by_seeks``) instead of one pass over every event before as_of.

Fixture: ``tests/lifecycle/test_snapshot.py``'s (as_of 2024-06-30), plus an event of a customer the customers table
does not know (``zz``, an ``api_call``) — the one pass groups it too. Values by hand from the fixture's events:
``a``'s events before 2024-07-01 run from the first onboarding step (2024-01-02 01:00) to a login at 2024-06-30 23:00
(the 2024-07-01 login is after as_of); ``b`` has one login (2024-06-21 08:00); ``c`` none; ``d`` one report
(2024-01-25 08:00).
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.config import ActivationConfig, EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.snapshot import build_snapshot
from lifecycle.snapshot import sql as snapshot_sql
from tests.builders import make_dataset, make_store
from tests.lifecycle.test_snapshot import AS_OF, _ev, fixture_tables


def tables() -> dict[str, list[dict[str, Any]]]:
    found = fixture_tables()
    found["events"] = [*found["events"], _ev("zz", "2024-06-29T10:00:00", "api_call")]
    return found


def one_pass(monkeypatch: pytest.MonkeyPatch, dataset: Any) -> pd.DataFrame:
    """The same whole build through the one pass over the events (what every engine did before)."""
    with monkeypatch.context() as patch:
        patch.setattr(snapshot_sql, "seeks_pay", lambda _dataset: False)
        return build_snapshot(dataset)


def test_whole_build_takes_first_and_latest_activity_and_features_used_from_index_seeks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-checked (module docstring): a's latest activity is the 2024-06-30 23:00 login, not the one after as_of;
    features used by as_of: a the report, dashboard and integration, d the report, b none; c has no activity at all.
    The whole frame equals the one pass's, column by column and dtype by dtype."""
    ds = make_dataset(tmp_path, tables(), as_of=AS_OF)
    assert snapshot_sql.seeks_pay(ds)
    snap = build_snapshot(ds)
    rows = snap.set_index("customer_id")
    assert rows.loc["a", "last_event_at"] == pd.Timestamp("2024-06-30T23:00:00")
    assert rows.loc["a", "first_event_at"] == pd.Timestamp("2024-01-02T01:00:00")
    assert rows.loc["b", "last_event_at"] == rows.loc["b", "first_event_at"] == pd.Timestamp("2024-06-21T08:00:00")
    assert pd.isna(rows.loc["c", "last_event_at"]) and pd.isna(rows.loc["c", "first_event_at"])
    assert rows.loc["d", "last_event_at"] == pd.Timestamp("2024-01-25T08:00:00")
    used = {cid: [f for f in ("report_created", "dashboard_viewed", "integration_connected", "teammate_invited",
                              "export_csv", "api_call") if bool(rows.loc[cid, f"used_{f}"])] for cid in "abcd"}
    assert used == {"a": ["report_created", "dashboard_viewed", "integration_connected"], "b": [], "c": [],
                    "d": ["report_created"]}
    pd.testing.assert_frame_equal(snap, one_pass(monkeypatch, ds), check_exact=True)


def test_activity_events_configured_limit_the_seeks_to_those_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With only logins counting as activity: a's activity runs from the 2024-05-10 login to the 2024-06-30 one, b's
    is its login, d (a report only) has none — and the frame equals the one pass's."""
    config = EngineConfig(activation=ActivationConfig(active_events=("login",)))
    ds = make_dataset(tmp_path, tables(), as_of=AS_OF, config=config)
    snap = build_snapshot(ds)
    rows = snap.set_index("customer_id")
    assert rows.loc["a", "first_event_at"] == pd.Timestamp("2024-05-10T09:00:00")
    assert rows.loc["a", "last_event_at"] == pd.Timestamp("2024-06-30T23:00:00")
    assert rows.loc["b", "first_event_at"] == pd.Timestamp("2024-06-21T08:00:00")
    assert pd.isna(rows.loc["d", "last_event_at"])
    pd.testing.assert_frame_equal(snap, one_pass(monkeypatch, ds), check_exact=True)


def test_a_database_without_the_covering_events_index_keeps_the_one_pass(tmp_path: Path) -> None:
    """A seek per customer and event name needs the (customer_id, event_name, occurred_at) index: an older database
    without it is read in the one pass — with the same snapshot as the indexed database's seeks."""
    indexed, older = make_store(tmp_path / "indexed.db", tables()), make_store(tmp_path / "older.db", tables())
    with contextlib.closing(sqlite3.connect(older)) as conn:
        names = [row[1] for row in conn.execute('PRAGMA index_list("events")')]
        covering = [n for n in names if [c[2] for c in conn.execute(f'PRAGMA index_info("{n}")')]
                    == ["customer_id", "event_name", "occurred_at"]]
        assert covering  # the importer writes it
        for name in covering:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()
    day = date.fromisoformat(AS_OF)
    with contextlib.closing(Dataset.open(indexed, day)) as new, contextlib.closing(Dataset.open(older, day)) as old:
        assert snapshot_sql.seeks_pay(new) and not snapshot_sql.seeks_pay(old)
        pd.testing.assert_frame_equal(build_snapshot(old), build_snapshot(new), check_exact=True)
