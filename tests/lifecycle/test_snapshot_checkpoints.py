"""An earlier checkpoint's snapshot (``Dataset.earlier``: the stage history's monthly days) takes the plan and the latest
NPS answer from its later dataset's sorted subscriptions and responses (``_named_subscriptions``,
``_sorted_responses``) instead of sorting its own tables again, and within ``checkpoints_prefetched`` its subscription
columns from one grouping of every checkpoint's rows (``subscription_days``). Invariant: each day's columns are those
a dataset opened on that day computes alone; golden values by hand below (ties on the day broken by the id)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.scope import Scope
from lifecycle.snapshot.build import build_snapshot
from lifecycle.snapshot.tables import SUBSCRIPTION_DAYS_KEY
from lifecycle.sources import DuckDBSource, SqliteSource
from lifecycle.stages import load_model
from lifecycle.stages.history import checkpoints, checkpoints_prefetched
from tests.builders import make_store

COLUMNS = ("plan", "nps_latest", "nps_category")


def _tables(with_z: bool = False) -> dict[str, list[dict[str, Any]]]:
    """x: plan starter, then on 03-01 two subscriptions the same day (x2 team, x3 pro: the later id, pro, wins), on
    05-01 one without a plan name (ignored); two answers on 02-10 (n1 4, n2 10: n2 wins), 8 on 04-20. y: plan max from
    04-10, answer 2 on 05-05. ``with_z``: z pays 40 from 01-05 to 02-15 and again from 04-01 (churned, then
    reactivated)."""
    z = {"customers": [{"customer_id": "z", "signup_date": "2024-01-01", "segment": "SMB", "plan": "basic"}],
         "subscriptions": [
             {"subscription_id": "z1", "customer_id": "z", "start_date": "2024-01-05", "end_date": "2024-02-15", "mrr": 40.0},
             {"subscription_id": "z2", "customer_id": "z", "start_date": "2024-04-01", "mrr": 40.0}]}
    tables = {
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
    if with_z:
        for name, rows in z.items():
            tables[name] = [*tables[name], *rows]
    return tables


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


SUBSCRIPTION_COLUMNS = ("mrr_current", "mrr_90d_ago", "seats_current", "churned", "churned_at", "reactivated",
                        "reactivated_at")
PAYING = {  # day → customer → (MRR on the day, churned, reactivated); y's MRR 0 before 04-10 (no subscription yet)
    date(2024, 1, 31): {"x": (10.0, False, False), "z": (40.0, False, False)},
    date(2024, 2, 29): {"x": (10.0, False, False), "y": (0.0, False, False), "z": (0.0, True, False)},
    date(2024, 3, 31): {"x": (30.0, False, False), "y": (0.0, False, False), "z": (0.0, True, False)},  # x2 ended 03-20
    date(2024, 4, 30): {"x": (30.0, False, False), "y": (30.0, False, False), "z": (40.0, False, True)},
    date(2024, 5, 31): {"x": (35.0, False, False), "y": (30.0, False, False), "z": (40.0, False, True)},
}


@pytest.mark.parametrize("source", [SqliteSource, DuckDBSource])
def test_the_subscription_columns_of_every_checkpoint_at_once_are_each_days_own(tmp_path: Path, source: type) -> None:
    """Within ``checkpoints_prefetched`` every day's subscription columns come from the one grouping and equal a
    dataset opened on that day alone. By hand: on 05-31 x had 50 MRR 90 days before (03-02: x1 10, x2 and x3 20 each);
    z churned on 02-15 and is reactivated from 04-01."""
    path = make_store(tmp_path / "checkpoints.db", _tables(with_z=True))
    later = Dataset(source(path).connect(), Scope.at(date(2024, 5, 31)))
    days = checkpoints(later.as_of, 4)
    with checkpoints_prefetched(later, load_model("default"), days):
        assert SUBSCRIPTION_DAYS_KEY in later._cache  # the days' groupings were computed together
        derived = {day: build_snapshot(later if day == later.as_of else later.earlier(day), SUBSCRIPTION_COLUMNS)
                   for day in days}
    assert SUBSCRIPTION_DAYS_KEY not in later._cache
    for day in days:
        alone = build_snapshot(Dataset(source(path).connect(), Scope.at(day)), SUBSCRIPTION_COLUMNS)
        pd.testing.assert_frame_equal(derived[day], alone, check_exact=True)
        seen = {row.customer_id: (row.mrr_current, bool(row.churned), bool(row.reactivated))
                for row in derived[day].itertuples()}
        assert seen == PAYING[day], day
    last = derived[date(2024, 5, 31)].set_index("customer_id")
    assert last.loc["x", "mrr_90d_ago"] == 50.0
    assert last.loc["z", "reactivated_at"] == pd.Timestamp("2024-04-01")
    assert derived[date(2024, 3, 31)].set_index("customer_id").loc["z", "churned_at"] == pd.Timestamp("2024-02-15")
