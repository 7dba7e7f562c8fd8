"""``lifecycle plan --by <dimension>``: one document per value the dimension's filter selects customers by.

Fixture (hand-made): customers A (SMB, no own plan), B (empty segment, own plan Starter), C (no segment, own plan
Legacy, no subscription), D (SMB, own plan Future, signs up 2024-05-01 — after the as_of asked). Subscriptions: A Pro
from 2024-01-10, B Basic from 2024-01-15, D Enterprise from 2024-05-01. On 2024-03-31 the plan filter reads A Pro,
B Basic (the subscription's plan, not the own Starter), C Legacy (no subscription: the own plan); D is not a customer
yet. So the plan targets are Basic, Legacy, Pro; the segment targets SMB only (B's empty segment selects nobody).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Dimension
from lifecycle.sources.sqlite import SqliteSource
from prompts.plan import dimension_targets
from prompts.render import PromptName
from tests.console import import_csvs, lifecycle

AS_OF = date(2024, 3, 31)
CUSTOMERS = ("customer_id,signup_date,segment,plan\nA,2024-01-10,SMB,\nB,2024-01-15,,Starter\nC,2024-02-01,,Legacy\n"
             "D,2024-05-01,SMB,Future\n")
SUBSCRIPTIONS = ("subscription_id,customer_id,start_date,end_date,mrr,plan\n"
                 "S1,A,2024-01-10,,100,Pro\n"
                 "S2,B,2024-01-15,,20,Basic\n"
                 "S3,D,2024-05-01,,500,Enterprise\n")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return import_csvs(tmp_path, {"customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS}, "p.db")


def test_plan_targets_are_the_plans_paid_on_as_of_by_customers_signed_up_by_then(db: Path) -> None:
    targets = dimension_targets(SqliteSource(db), AS_OF, Dimension.PLAN, PromptName.LIFECYCLE_MAP)
    assert [t.key for t in targets] == ["plan-basic", "plan-legacy", "plan-pro"]


def test_each_dimension_target_selects_exactly_the_customers_holding_its_value(db: Path) -> None:
    expected = {"plan-basic": ["B"], "plan-legacy": ["C"], "plan-pro": ["A"], "segment-smb": ["A"]}
    for dimension in (Dimension.PLAN, Dimension.SEGMENT):
        for target in dimension_targets(SqliteSource(db), AS_OF, dimension, PromptName.LIFECYCLE_MAP):
            dataset = Dataset.open(db, AS_OF, filters=target.filters)
            try:
                chosen = sorted(dataset.customers()["customer_id"])
            finally:
                dataset.close()
            assert chosen == expected.pop(target.key), target.key
    assert expected == {}


def test_plan_by_a_dimension_the_data_leaves_empty_says_so_and_writes_the_whole_base_document(db: Path,
                                                                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = lifecycle("plan", "--db", str(db), "--as-of", AS_OF.isoformat(), "--by", "industry", "--dry-run",
                       "--no-charts", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "has any industry value: no per-industry documents" in " ".join(result.stderr.split())
    assert (out / "all.prompt.md").exists() and not list(out.glob("industry-*"))
