"""``data.scale``: the demo replicated to a size, written to Parquet, and the same rows loaded into SQLite.

A hand-made three-customer store stands in for the demo. By hand, for 7 customers: copies = ceil(7 / 3) = 3; copies
0 and 1 hold all three customers, copy 2 the first 7 − 6 = 1 (by id: A). Events: 4 per copy in full, 12 in all; a
target of 6 gives stride = round(4 × 3 / 6) = 2, and copy k keeps the events whose row number n (1..4) has
(n + k) mod 2 = 0: two of the four in each full copy (n = 2, 4 in copy 0; n = 1, 3 in copy 1) and, in copy 2, the
rows n = 2, 4 that belong to A (E2 at n = 2 is A's; E4 at n = 4 is C's) → 2 + 2 + 1 = 5 events.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from data.scale import generate_parquet, load_sqlite
from lifecycle.dataset import Dataset
from lifecycle.metrics.registry import compute_all
from lifecycle.scope import Scope
from lifecycle.sources import DuckDBSource, SqliteSource
from tests.builders import make_store
from tests.lifecycle.test_backend_parity import differences

TABLES = {
    "customers": [{"customer_id": "A", "signup_date": "2024-01-05", "segment": "SMB"},
                  {"customer_id": "B", "signup_date": "2024-02-01", "segment": "SMB"},
                  {"customer_id": "C", "signup_date": "2024-03-01", "segment": "Enterprise"}],
    "subscriptions": [{"subscription_id": "S1", "customer_id": "A", "start_date": "2024-01-05", "mrr": 100.0},
                      {"subscription_id": "S2", "customer_id": "C", "start_date": "2024-03-01", "mrr": 40.0,
                       "end_date": "2024-05-01"}],
    "events": [{"event_id": "E1", "customer_id": "A", "occurred_at": "2024-01-06T10:00:00", "event_name": "login"},
               {"event_id": "E2", "customer_id": "A", "occurred_at": "2024-02-06T10:00:00", "event_name": "report_created"},
               {"event_id": "E3", "customer_id": "B", "occurred_at": "2024-02-07T10:00:00", "event_name": "login"},
               {"event_id": "E4", "customer_id": "C", "occurred_at": "2024-04-30T08:00:00", "event_name": "login"}],
}


@pytest.fixture
def replicated(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    demo = make_store(tmp_path / "small.db", TABLES)
    folder = tmp_path / "scaled"
    return folder, generate_parquet(demo, folder, customers=7, events=6, threads=1)


def test_the_replica_has_exactly_the_customers_asked_for_with_prefixed_ids(replicated: tuple[Path, dict[str, int]]) -> None:
    folder, counts = replicated
    customers = pd.read_parquet(folder / "customers.parquet").sort_values("customer_id")
    assert counts["customers"] == 7
    assert customers["customer_id"].tolist() == ["S0000-A", "S0000-B", "S0000-C", "S0001-A", "S0001-B", "S0001-C", "S0002-A"]
    subscriptions = pd.read_parquet(folder / "subscriptions.parquet").sort_values("subscription_id")
    # by subscription id: S0000-S1, S0000-S2, S0001-S1, S0001-S2, S0002-S1 (C is not in the partial copy)
    assert subscriptions["customer_id"].tolist() == ["S0000-A", "S0000-C", "S0001-A", "S0001-C", "S0002-A"]
    assert subscriptions["mrr"].dtype == "float64" and subscriptions["start_date"].iloc[0] == "2024-01-05"


def test_events_are_thinned_by_a_different_residue_in_each_copy(replicated: tuple[Path, dict[str, int]]) -> None:
    folder, counts = replicated
    events = sorted(pd.read_parquet(folder / "events.parquet")["event_id"].tolist())
    assert counts["events"] == 5
    assert events == ["S0000-E2", "S0000-E4", "S0001-E1", "S0001-E3", "S0002-E2"]


def test_duckdb_on_the_parquet_folder_answers_like_sqlite_on_the_loaded_file(replicated: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    """MRR on 2024-04-30 by hand: A's 100 in three copies, C's 40 in two (ends 2024-05-01) → 380."""
    folder, _ = replicated
    db = tmp_path / "scaled.db"
    assert load_sqlite(folder, db)["customers"] == 7
    results = []
    for source in (SqliteSource(db), DuckDBSource(folder)):
        scope = Scope.resolve(source, None)
        dataset = Dataset(source.connect(), scope)
        try:
            results.append(compute_all(dataset))
        finally:
            dataset.close()
    assert results[0]["mrr"].value == 380.0
    assert differences(results[0], results[1], "metrics") == []


def test_a_parquet_folder_without_an_optional_column_reads_as_a_store_without_values(
        replicated: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    """A folder written before ``subscriptions.plan`` existed (the column dropped here) reads with plan NULL: the same
    MRR (380, by hand as above) and no plan values."""
    folder, _ = replicated
    path = folder / "subscriptions.parquet"
    pd.read_parquet(path).drop(columns=["plan"]).to_parquet(path)
    source = DuckDBSource(folder)
    dataset = Dataset(source.connect(), Scope.resolve(source, None))
    try:
        assert compute_all(dataset)["mrr"].value == 380.0
        assert dataset.table("subscriptions")["plan"].isna().all()
    finally:
        dataset.close()
