"""A whole snapshot build takes the NPS and ticket columns from aggregates in the database
(``lifecycle.snapshot.feedback``) and they give what the as-of tables read into pandas give (a build of a few columns,
and free-text priorities), on SQLite and DuckDB.

Hand-computed at as_of 2024-06-30 (90 days: 2024-04-02 .. 2024-06-30):
- NPS: a answered 3 on 03-01 and 9 on 06-01 (a 1 on 07-10 comes after as_of) → 9, promoter; b answered 7 (n4) and 5
  (n5) on the same day 05-01 → the later response id, 5, detractor; c never → missing; d answered 8 on as_of → passive.
- Tickets: a — t1 'High' open since 06-01; t2 closed 05-03, CSAT 4; t3 opened 03-01 closed 04-10, CSAT 2; t4 'URGENT'
  opened 06-20 and closed 07-05 (after as_of: open on as_of, its CSAT 5 not yet given) → open 2, open high 2, opened
  in 90 days 3 (t1, t2, t4), CSAT (4 + 2) / 2 = 3.0. b — t5 closed 04-01 23:00 (a day before the window), CSAT 1; t6
  opened 07-01 (after as_of) → 0, 0, 0, CSAT missing. c — t7 opened 04-05, closed 04-06 without CSAT, no priority →
  0, 0, 1, CSAT missing. d — no ticket → 0, 0, 0, missing.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.snapshot import build_snapshot, feedback
from lifecycle.sources import open_source
from tests.builders import make_store

AS_OF = date(2024, 6, 30)
TABLES = {
    "customers": [{"customer_id": c, "signup_date": "2024-01-01"} for c in ("a", "b", "c", "d")],
    "nps_responses": [
        {"response_id": "n1", "customer_id": "a", "responded_at": "2024-03-01", "score": 3},
        {"response_id": "n2", "customer_id": "a", "responded_at": "2024-06-01", "score": 9},
        {"response_id": "n3", "customer_id": "a", "responded_at": "2024-07-10", "score": 1},
        {"response_id": "n5", "customer_id": "b", "responded_at": "2024-05-01", "score": 5},
        {"response_id": "n4", "customer_id": "b", "responded_at": "2024-05-01", "score": 7},
        {"response_id": "n6", "customer_id": "d", "responded_at": "2024-06-30", "score": 8},
    ],
    "tickets": [
        {"ticket_id": "t1", "customer_id": "a", "opened_at": "2024-06-01T10:00:00", "priority": "High"},
        {"ticket_id": "t2", "customer_id": "a", "opened_at": "2024-05-01T10:00:00", "closed_at": "2024-05-03T10:00:00",
         "priority": "low", "csat": 4},
        {"ticket_id": "t3", "customer_id": "a", "opened_at": "2024-03-01T10:00:00", "closed_at": "2024-04-10T10:00:00",
         "priority": "normal", "csat": 2},
        {"ticket_id": "t4", "customer_id": "a", "opened_at": "2024-06-20T10:00:00", "closed_at": "2024-07-05T10:00:00",
         "priority": "URGENT", "csat": 5},
        {"ticket_id": "t5", "customer_id": "b", "opened_at": "2024-01-10T10:00:00", "closed_at": "2024-04-01T23:00:00",
         "priority": "high", "csat": 1},
        {"ticket_id": "t6", "customer_id": "b", "opened_at": "2024-07-01T10:00:00", "priority": "high"},
        {"ticket_id": "t7", "customer_id": "c", "opened_at": "2024-04-05T10:00:00", "closed_at": "2024-04-06T10:00:00"},
    ],
}
COLUMNS = ["nps_latest", "nps_latest_at", "nps_category", "tickets_open", "tickets_open_high", "tickets_90d",
           "csat_avg_90d"]
EXPECTED = pd.DataFrame.from_dict({
    "a": [9.0, pd.Timestamp("2024-06-01"), "promoter", 2.0, 2.0, 3.0, 3.0],
    "b": [5.0, pd.Timestamp("2024-05-01"), "detractor", 0.0, 0.0, 0.0, math.nan],
    "c": [math.nan, pd.NaT, None, 0.0, 0.0, 1.0, math.nan],
    "d": [8.0, pd.Timestamp("2024-06-30"), "passive", 0.0, 0.0, 0.0, math.nan],
}, orient="index", columns=COLUMNS).rename_axis("customer_id")


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
@pytest.mark.parametrize("path", ["whole build (database)", "a few columns (tables)", "free-text priorities"])
def test_nps_and_ticket_columns_match_the_hand_computed_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               engine: str, path: str) -> None:
    if path == "free-text priorities":
        monkeypatch.setattr(feedback, "MAX_DISTINCT", 0)
    source = open_source(make_store(tmp_path / "store.db", TABLES), engine=engine)
    columns = COLUMNS if path == "a few columns (tables)" else None
    got = build_snapshot(Dataset.open(source, AS_OF), columns).set_index("customer_id")[COLUMNS]
    expected = EXPECTED.astype({"nps_latest_at": "datetime64[us]", "nps_category": "string"})
    pd.testing.assert_frame_equal(got.sort_index(), expected, check_dtype=False, check_index_type=False)


def test_the_database_and_the_tables_give_the_same_columns_dtypes_included(tmp_path: Path) -> None:
    """Byte for byte: the whole build's columns against the tables' (a build of just those columns)."""
    dataset = Dataset.open(open_source(make_store(tmp_path / "store.db", TABLES)), AS_OF)
    whole = build_snapshot(dataset)[["customer_id", *COLUMNS]]
    pd.testing.assert_frame_equal(whole, build_snapshot(dataset, COLUMNS)[["customer_id", *COLUMNS]], check_exact=True)
