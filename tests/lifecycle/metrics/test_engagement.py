"""Engagement metrics on a hand-computed touch fixture.

Window 2024-01-01..2024-03-31, as_of 2024-03-31:

| touch | customer | channel | sent       | opened     | clicked    |
|-------|----------|---------|------------|------------|------------|
| t1    | a        | email   | 2024-01-05 | 01-05      | 01-06      |
| t2    | a        | email   | 2024-01-10 | 01-11      |            |
| t3    | b        | email   | 2024-02-01 |            |            |
| t4    | b        | email   | 2024-02-15 |            | 02-16      | (a click proves an open)
| t5    | c        | email   | 2024-03-30 | 2024-04-02 |            | (opened after as_of: not opened)
| t6    | c        | in_app  | 2024-03-01 | 03-01      |            |
| t7    | a        | email   | 2023-12-20 | 12-20      |            | (sent before the window)

Email: sent 5 (t1–t5), opened 3 (t1 t2 t4), clicked 2 (t1 t4).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lifecycle.filters import Filters
from lifecycle.metrics.engagement import EngagementRow, engagement_by, touch_summary_ahead
from lifecycle.metrics.registry import compute_metric
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_dataset, quick_store

WINDOW = ("2024-01-01", "2024-03-31")


def touch(touch_id: str, customer: str, channel: str, sent: str, opened: str | None = None,
          clicked: str | None = None) -> dict[str, object]:
    stamp = lambda day: day + "T09:00:00" if day else None  # noqa: E731
    return {"touch_id": touch_id, "customer_id": customer, "channel": channel, "sent_at": stamp(sent),
            "opened_at": stamp(opened), "clicked_at": stamp(clicked)}


TOUCHES = [touch("t1", "a", "email", "2024-01-05", "2024-01-05", "2024-01-06"), touch("t2", "a", "email", "2024-01-10", "2024-01-11"),
           touch("t3", "b", "email", "2024-02-01"), touch("t4", "b", "email", "2024-02-15", None, "2024-02-16"),
           touch("t5", "c", "email", "2024-03-30", "2024-04-02"), touch("t6", "c", "in_app", "2024-03-01", "2024-03-01"),
           touch("t7", "a", "email", "2023-12-20", "2023-12-20")]
PEOPLE = [{"customer_id": cid, "signup_date": "2023-06-01", "segment": seg} for cid, seg in (("a", "SMB"), ("b", "ENT"), ("c", "ENT"))]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("touches") / "touches.db", {"customers": PEOPLE, "touches": TOUCHES})


@pytest.mark.parametrize(("metric_id", "numerator", "denominator"), [
    pytest.param("email_open_rate", 3, 5, id="open-rate-3-of-5"),
    pytest.param("email_click_rate", 2, 5, id="click-rate-2-of-5"),
    pytest.param("click_to_open_rate", 2, 3, id="click-to-open-2-of-3"),
])
def test_email_rates_count_touches_sent_in_the_window_as_known_on_as_of(store: Path, metric_id: str, numerator: int,
                                                                         denominator: int) -> None:
    result = compute_metric(open_at(store, "2024-03-31", WINDOW), metric_id)
    assert (result.numerator, result.denominator) == (numerator, denominator)


def test_open_rate_breaks_down_by_channel(store: Path) -> None:
    """email 3/5; in_app t6 opened → 1/1; keys sorted."""
    result = compute_metric(open_at(store, "2024-03-31", WINDOW), "email_open_rate")
    assert [(key, r.numerator, r.denominator) for key, r in result.breakdown] == [("email", 3.0, 5.0), ("in_app", 1.0, 1.0)]


def test_an_open_after_as_of_counts_once_as_of_reaches_it(store: Path) -> None:
    """as_of 2024-04-05, same window: t5's open on 04-02 is known → 4/5."""
    result = compute_metric(open_at(store, "2024-04-05", WINDOW), "email_open_rate")
    assert (result.numerator, result.denominator) == (4.0, 5.0)


def test_filters_narrow_touches_to_the_selected_customers(store: Path) -> None:
    """SMB = a: t1 t2 sent, both opened → 2/2."""
    result = compute_metric(open_at(store, "2024-03-31", WINDOW, filters=Filters(segment=("SMB",))), "email_open_rate")
    assert (result.numerator, result.denominator) == (2.0, 2.0)


def test_click_to_open_without_opens_is_none_with_a_reason(store: Path) -> None:
    result = compute_metric(open_at(store, "2024-03-31", ("2024-02-01", "2024-02-10")), "click_to_open_rate")
    assert result.value is None and "opened" in (result.reason or "")


def test_engagement_metrics_without_touches_are_none(tmp_path: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    assert compute_metric(ds, "email_open_rate").value is None


def test_engagement_by_groups_sends_opens_and_clicks_by_a_key_per_customer(store: Path) -> None:
    """Stages a → onboarding, b and c → adoption, z → advocacy (no touches), all channels:

    adoption: t3 t4 t5 t6 → sends 4, opens 2 (t4 via click, t6), clicks 1; advocacy: 1 customer, 0 sends;
    onboarding: t1 t2 → 2 sends, 2 opens, 1 click. Rows sorted by key.
    """
    stages = pd.Series({"a": "onboarding", "b": "adoption", "c": "adoption", "z": "advocacy"})
    rows = engagement_by(open_at(store, "2024-03-31", WINDOW), stages, "stage")
    assert rows == [
        EngagementRow("adoption", "stage", customers=2, sends=4, opens=2, clicks=1),
        EngagementRow("advocacy", "stage", customers=1, sends=0, opens=0, clicks=0),
        EngagementRow("onboarding", "stage", customers=1, sends=2, opens=2, clicks=1),
    ]
    assert rows[0].open_rate == 0.5 and rows[0].click_to_open_rate == 0.5
    assert rows[1].open_rate is None


def test_engagement_by_takes_a_customers_last_key_and_leaves_out_customers_without_one(store: Path) -> None:
    """a is keyed twice (advocacy, then onboarding: the last counts), b → adoption, c has no value (its touches t5 t6
    are left out): adoption = b's t3 t4 → 2 sends, 1 open (t4 via its click), 1 click; onboarding = a's t1 t2 → 2, 2,
    1; no advocacy row (no customer keeps that value)."""
    stages = pd.Series(["advocacy", "onboarding", "adoption", None], index=["a", "a", "b", "c"])
    rows = engagement_by(open_at(store, "2024-03-31", WINDOW), stages, "stage")
    assert rows == [
        EngagementRow("adoption", "stage", customers=1, sends=2, opens=1, clicks=1),
        EngagementRow("onboarding", "stage", customers=1, sends=2, opens=2, clicks=1),
    ]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_the_touch_summary_counts_each_customers_touches_per_channel_in_the_database(store: Path, engine: str) -> None:
    """Per (customer, channel), touches sent in the window (t7 before it is left out), by the module doc's rule:
    (a, email) t1 t2: 2 sent, 2 opened, 1 clicked; (b, email) t3 t4: 2, 1 (t4's click proves the open), 1;
    (c, email) t5: 1, 0 (opened after as_of), 0; (c, in_app) t6: 1, 1, 0 — the same on SQLite and DuckDB."""
    from datetime import date

    from lifecycle.dataset import Dataset
    from lifecycle.metrics.engagement import touch_summary
    from lifecycle.scope import Scope, Window
    from lifecycle.sources import open_source

    scope = Scope.at(date(2024, 3, 31), None, Window(date(2024, 1, 1), date(2024, 3, 31)))
    summary = touch_summary(Dataset.over(open_source(store, engine=engine), scope))
    rows = sorted(tuple(row) for row in summary[["customer_id", "channel", "sends", "opens", "clicks"]].astype(object).itertuples(index=False))
    assert rows == [("a", "email", 2, 2, 1), ("b", "email", 2, 1, 1), ("c", "email", 1, 0, 0), ("c", "in_app", 1, 1, 0)]


def test_the_touch_summary_built_ahead_on_a_second_connection_is_the_one_the_email_rates_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``touch_summary_ahead`` (what ``lifecycle metrics`` starts while it reads the checkpoints' tables) runs the
    summary's statement once, on its own thread, for the whole base; a segment's email rates afterwards read that
    summary and run no statement over touches — SMB (customer a: t1 t2 sent, both opened, t1 clicked) 2/2 opened,
    1/2 clicked, as hand-counted in the module docstring."""
    import threading

    from lifecycle.sources.sqlite import SqliteConnection

    statements: list[str] = []
    query = SqliteConnection.query

    def spied(self, sql, params=()):  # type: ignore[no-untyped-def]
        if "FROM touches" in sql:
            statements.append(threading.current_thread().name)
        return query(self, sql, params)

    monkeypatch.setattr(SqliteConnection, "query", spied)
    store = quick_store(tmp_path / "touches.db", {"customers": PEOPLE, "touches": TOUCHES})  # a fresh data identity
    smb = open_at(store, "2024-03-31", WINDOW, filters=Filters(segment=("SMB",)))
    touch_summary_ahead(smb)()  # start, then wait
    assert len(statements) == 1 and statements[0] != threading.current_thread().name
    assert "lifecycle-touches-ahead" not in {t.name for t in threading.enumerate()}  # ended: a fork may follow
    opened, clicked = compute_metric(smb, "email_open_rate"), compute_metric(smb, "email_click_rate")
    assert (opened.numerator, opened.denominator) == (2.0, 2.0) and (clicked.numerator, clicked.denominator) == (1.0, 2.0)
    assert len(statements) == 1  # read from the memo, not summarised again
