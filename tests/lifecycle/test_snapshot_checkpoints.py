"""An earlier checkpoint's snapshot (``Dataset.earlier``: the stage history's monthly days) takes the plan and the latest
NPS answer from its later dataset's sorted subscriptions and responses (``_named_subscriptions``,
``_sorted_responses``) instead of sorting its own tables again. Invariant: each day's columns are those a dataset
opened on that day computes alone; golden values by hand below (ties on the day broken by the id)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.scope import Scope
from lifecycle.snapshot.build import build_snapshot
from lifecycle.sources import DuckDBSource, SqliteSource
from lifecycle.stages.history import checkpoints
from tests.builders import make_store

COLUMNS = ("plan", "nps_latest", "nps_category")


def _tables() -> dict[str, list[dict[str, Any]]]:
    """x: plan starter, then on 03-01 two subscriptions the same day (x2 team, x3 pro: the later id, pro, wins), on
    05-01 one without a plan name (ignored); two answers on 02-10 (n1 4, n2 10: n2 wins), 8 on 04-20. y: plan max from
    04-10, answer 2 on 05-05."""
    return {
        "customers": [
            {"customer_id": "x", "signup_date": "2024-01-01", "segment": "SMB", "plan": "basic"},
            {"customer_id": "y", "signup_date": "2024-02-01", "segment": "SMB", "plan": "basic"},
        ],
        "subscriptions": [
            {"subscription_id": "x1", "customer_id": "x", "start_date": "2024-01-01", "mrr": 10.0, "plan": "starter"},
            {"subscription_id": "x3", "customer_id": "x", "start_date": "2024-03-01", "mrr": 20.0, "plan": "pro"},
            {"subscription_id": "x2", "customer_id": "x", "start_date": "2024-03-01", "end_date": "2024-03-20",
             "mrr": 20.0, "plan": "team"},
            {"subscription_id": "x4", "customer_id": "x", "start_date": "2024-05-01", "mrr": 5.0, "plan": ""},
            {"subscription_id": "y1", "customer_id": "y", "start_date": "2024-04-10", "mrr": 30.0, "plan": "max"},
        ],
        "nps_responses": [
            {"response_id": "n2", "customer_id": "x", "responded_at": "2024-02-10", "score": 10},
            {"response_id": "n1", "customer_id": "x", "responded_at": "2024-02-10", "score": 4},
            {"response_id": "n3", "customer_id": "x", "responded_at": "2024-04-20", "score": 8},
            {"response_id": "n4", "customer_id": "y", "responded_at": "2024-05-05", "score": 2},
        ],
    }


EXPECTED = {  # day → customer → (plan, latest score, category); y signs up on 02-01
    date(2024, 1, 31): {"x": ("starter", None, None)},
    date(2024, 2, 29): {"x": ("starter", 10.0, "promoter"), "y": ("basic", None, None)},
    date(2024, 3, 31): {"x": ("pro", 10.0, "promoter"), "y": ("basic", None, None)},
    date(2024, 4, 30): {"x": ("pro", 8.0, "passive"), "y": ("max", None, None)},
    date(2024, 5, 31): {"x": ("pro", 8.0, "passive"), "y": ("max", 2.0, "detractor")},
}


@pytest.mark.parametrize("source", [SqliteSource, DuckDBSource])
def test_an_earlier_checkpoints_plan_and_latest_answer_are_those_of_the_day_read_alone(tmp_path: Path, source: type) -> None:
    path = make_store(tmp_path / "checkpoints.db", _tables())
    later = Dataset(source(path).connect(), Scope.at(date(2024, 5, 31)))
    build_snapshot(later, COLUMNS)  # the later dataset sorts its tables first, as the stage history does
    for day in checkpoints(later.as_of, 4):
        derived = build_snapshot(later if day == later.as_of else later.earlier(day), COLUMNS)
        alone = build_snapshot(Dataset(source(path).connect(), Scope.at(day)), COLUMNS)
        pd.testing.assert_frame_equal(derived, alone, check_exact=True)
        seen = {row.customer_id: (row.plan, None if pd.isna(row.nps_latest) else row.nps_latest,
                                  None if pd.isna(row.nps_category) else row.nps_category)
                for row in derived.itertuples()}
        assert seen == EXPECTED[day], day
