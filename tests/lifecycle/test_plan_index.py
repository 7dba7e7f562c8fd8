"""Every customer's plan on a day (``Dataset.attribute_values(Dimension.PLAN)``, ``lifecycle.filters.plan_sql``) read
through the subscriptions' partial index on (customer_id, start_date, subscription_id, plan) over the rows naming a
plan: the same rows in the same order as without the index, each customer's answer one seek in index order.

Fixture (hand-made, rows inserted in this order, so rowid order differs from subscription_id order):
customers C1 (own plan Old), C2, C3, C4 (own plan Legacy, no subscription), C5 (own plan Trial).
Subscriptions:
- C1: S1 Basic from 2024-01-01, S2 Pro from 2024-03-01.
- C2: two on 2024-02-01, S9 Pro inserted first, then S10 Team. The tie goes to the larger subscription_id as text:
  "S9" > "S10" (compared character by character, '9' > '1'), so Pro — though S10 was written later.
- C3: S3 Basic from 2024-01-15, then S4 with an empty plan and S5 with none (NULL) from 2024-02-01: they name no plan,
  so Basic.
- C5: S6 Pro from 2024-04-01 only.
By hand: on 2024-02-15 — C1 Basic, C2 Pro, C3 Basic, C4 Legacy, C5 Trial (S6 not started).
On 2024-03-01 (a subscription started on as_of counts) — C1 Pro, the others as on 2024-02-15.
On 2024-04-30 — C1 Pro, C2 Pro, C3 Basic, C4 Legacy, C5 Pro.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Dimension
from lifecycle.schema import TABLES
from lifecycle.store import atomic_write, missing_indexes, upgrade_in_place

CUSTOMERS = [("C1", "Old"), ("C2", None), ("C3", None), ("C4", "Legacy"), ("C5", "Trial")]
SUBSCRIPTIONS = [("S1", "C1", "2024-01-01", "Basic"), ("S2", "C1", "2024-03-01", "Pro"),
                 ("S9", "C2", "2024-02-01", "Pro"), ("S10", "C2", "2024-02-01", "Team"),
                 ("S3", "C3", "2024-01-15", "Basic"), ("S4", "C3", "2024-02-01", ""), ("S5", "C3", "2024-02-01", None),
                 ("S6", "C5", "2024-04-01", "Pro")]
EXPECTED = {
    "2024-02-15": ["Basic", "Pro", "Basic", "Legacy", "Trial"],
    "2024-03-01": ["Pro", "Pro", "Basic", "Legacy", "Trial"],
    "2024-04-30": ["Pro", "Pro", "Basic", "Legacy", "Pro"],
}
INDEX = TABLES["subscriptions"].partial_indexes[0].name("subscriptions")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "plans.db"
    with atomic_write(path) as data:
        data["customers"].insert_all([{"customer_id": c, "signup_date": "2024-01-01", "plan": p} for c, p in CUSTOMERS])
        data["subscriptions"].insert_all([{"subscription_id": s, "customer_id": c, "start_date": d, "mrr": 10.0, "plan": p}
                                          for s, c, d, p in SUBSCRIPTIONS])
    return path


def _plans(path: Path, day: str) -> tuple[list[str], list[str]]:
    dataset = Dataset.open(path, date.fromisoformat(day))
    try:
        ids, values = dataset.attribute_values(Dimension.PLAN)
        return list(ids), list(values)
    finally:
        dataset.close()


def _drop_index(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(f'DROP INDEX "{INDEX}"')
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("day", sorted(EXPECTED))
def test_each_customer_has_the_plan_of_the_latest_subscription_naming_one(db: Path, day: str) -> None:
    assert _plans(db, day) == (["C1", "C2", "C3", "C4", "C5"], EXPECTED[day])


@pytest.mark.parametrize("day", sorted(EXPECTED))
def test_the_index_changes_no_answer_and_no_order(db: Path, tmp_path: Path, day: str) -> None:
    with_index = _plans(db, day)
    _drop_index(db)
    assert _plans(db, day) == with_index == (["C1", "C2", "C3", "C4", "C5"], EXPECTED[day])


def test_the_plan_statement_seeks_the_partial_index_without_a_sort(db: Path) -> None:
    dataset = Dataset.open(db, date(2024, 3, 1))
    try:
        sql, params = dataset._attribute_statement(Dimension.PLAN)
        plan = " | ".join(str(row[3]) for row in dataset.connection.rows(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        dataset.close()
    assert f"COVERING INDEX {INDEX}" in plan and "TEMP B-TREE" not in plan, plan


def test_a_statement_without_the_named_plan_condition_does_not_use_the_partial_index(db: Path) -> None:
    """The index holds only the rows naming a plan: a statement over every subscription (here every subscription of
    C3, which has unnamed ones) may not read it, or it would miss rows."""
    conn = sqlite3.connect(db)
    try:
        plan = " | ".join(str(row[3]) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT subscription_id, start_date FROM subscriptions WHERE customer_id = 'C3' "
            "ORDER BY start_date, subscription_id"))
        rows = conn.execute("SELECT subscription_id FROM subscriptions WHERE customer_id = 'C3' "
                            "ORDER BY start_date, subscription_id").fetchall()
    finally:
        conn.close()
    assert INDEX not in plan
    assert rows == [("S3",), ("S4",), ("S5",)]


def test_migrate_gives_a_current_file_without_the_index_the_index_and_keeps_its_answers(db: Path) -> None:
    _drop_index(db)
    conn = sqlite3.connect(db)
    try:
        assert missing_indexes(conn) == [INDEX]
    finally:
        conn.close()
    done = upgrade_in_place(db)
    assert done.rewritten and done.found == done.now
    assert done.indexes_added == (INDEX,) and not done.rollup_built  # says what it added, and only that
    conn = sqlite3.connect(db)
    try:
        assert missing_indexes(conn) == []
        assert conn.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == len(SUBSCRIPTIONS)
    finally:
        conn.close()
    assert upgrade_in_place(db).rewritten is False  # now current: left untouched
    assert _plans(db, "2024-04-30") == (["C1", "C2", "C3", "C4", "C5"], EXPECTED["2024-04-30"])
