"""Results memoised in the process (``lifecycle.memo``) are the results computed afresh, and an import is never
answered from results of the data it replaced.

Golden values are hand computed on a two-customer store: MRR is the sum of ``mrr`` over subscriptions covering
as_of (docs/metrics.md): 100 with one paid subscription, 100 + 150 = 250 once a second is imported. The other checks are
invariants: the same numbers with the memo on, off and served from it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

import lifecycle
from lifecycle.dataset import Dataset
from lifecycle.doctor import diagnose, survey
from lifecycle.filters import Filters
from lifecycle.memo import MEMO
from lifecycle.metrics.registry import compute_all
from lifecycle.scope import Scope
from lifecycle.sources import open_source
from lifecycle.store import atomic_write
from server.app import build_server
from tests.builders import make_store

AS_OF = date(2024, 3, 31)
FIRST = {
    "customers": [{"customer_id": "c1", "signup_date": "2024-01-05", "segment": "smb"}],
    "subscriptions": [{"subscription_id": "s1", "customer_id": "c1", "start_date": "2024-01-05", "mrr": 100.0},
                      # a free add-on started on AS_OF: the data runs to AS_OF, MRR is unchanged
                      {"subscription_id": "s0", "customer_id": "c1", "start_date": "2024-03-31", "mrr": 0.0}],
}
SECOND = {  # imported on top of FIRST
    "customers": [{"customer_id": "c2", "signup_date": "2024-02-10", "segment": "enterprise"}],
    "subscriptions": [{"subscription_id": "s2", "customer_id": "c2", "start_date": "2024-02-10", "mrr": 150.0},
                      {"subscription_id": "s3", "customer_id": "c2", "start_date": "2024-04-10", "mrr": 0.0}],
}


def import_more(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Append rows the way ``lifecycle import`` does: a copy written and swapped into place."""
    with atomic_write(path) as db:
        for name, rows in tables.items():
            db[name].insert_all(rows, alter=False)


def test_an_import_is_never_answered_from_the_data_it_replaced(tmp_path: Path) -> None:
    """Every memoised answer — the date range, a column's values, the doctor's report, a metric, the snapshot —
    changes with the data, though the file keeps its path (and may keep its size and modification tick)."""
    path = make_store(tmp_path / "store.db", FIRST)
    source = open_source(path)
    assert source.data_range().last == AS_OF
    assert source.distinct_values("customers", "segment") == ["smb"]
    assert {t.name: t.rows for t in source.diagnose(AS_OF).tables}["customers"] == 1
    assert lifecycle.open(path, as_of=AS_OF).metrics(["mrr"]).at["mrr", "value"] == 100.0
    assert len(lifecycle.open(path, as_of=AS_OF).customers()) == 1

    import_more(path, SECOND)

    assert source.data_range().last == date(2024, 4, 10)
    assert source.distinct_values("customers", "segment") == ["enterprise", "smb"]
    assert {t.name: t.rows for t in source.diagnose(AS_OF).tables}["customers"] == 2
    assert lifecycle.open(path, as_of=AS_OF).metrics(["mrr"]).at["mrr", "value"] == 250.0
    assert len(lifecycle.open(path, as_of=AS_OF).customers()) == 2


def test_a_running_server_answers_from_the_new_data_after_an_import(tmp_path: Path) -> None:
    """The MCP tools of one server process, before and after an import into its database."""
    path = make_store(tmp_path / "store.db", FIRST)

    async def ask() -> tuple[int, float]:
        async with Client(build_server(path)) as client:
            described = await client.call_tool("describe_dataset", {"as_of": AS_OF.isoformat()})
            metrics = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "as_of": AS_OF.isoformat()})
        rows = {t["name"]: t["rows"] for t in described.structured_content["tables"]}
        return rows["customers"], metrics.structured_content["metrics"][0]["value"]

    assert anyio.run(ask) == (1, 100.0)
    assert anyio.run(ask) == (1, 100.0)  # served from the memo
    import_more(path, SECOND)
    assert anyio.run(ask) == (2, 250.0)


def catalogue_three_ways(path: Path, as_of: date) -> None:
    """Every metric of the registry: a dataset without an identity memoises nothing; one opened through
    ``Dataset.over`` computes into the memo and then reads from it. The three JSON renderings are byte-identical."""
    source = open_source(path)
    scope = Scope.resolve(source, as_of)

    def rendered(dataset: Dataset) -> str:
        try:
            return json.dumps({k: v.to_dict() for k, v in compute_all(dataset).items()}, sort_keys=True)
        finally:
            dataset.close()

    fresh = rendered(Dataset(source.connect(), scope, source=source))
    MEMO.clear()
    computed = rendered(Dataset.over(source, scope))
    misses = MEMO.misses
    served = rendered(Dataset.over(source, scope))
    assert fresh == computed == served
    assert MEMO.misses == misses  # the third rendering computed nothing


def test_the_catalogue_is_the_same_with_the_memo_off_on_and_served_from_it(tmp_path: Path) -> None:
    path = make_store(tmp_path / "store.db", FIRST)
    import_more(path, SECOND)
    catalogue_three_ways(path, AS_OF)


@pytest.mark.slow
def test_the_demo_catalogue_is_the_same_with_the_memo_off_on_and_served_from_it(demo_db: Path) -> None:
    catalogue_three_ways(demo_db, date(2025, 6, 30))


def test_the_doctor_reads_future_dates_only_where_they_can_exist(demo_db: Path) -> None:
    """The report from a survey made once equals the report made from scratch, at as_of inside the data (future
    dates found), on its last day and after it (none)."""
    conn = open_source(demo_db).connect()
    try:
        surveyed = survey(conn)
        for as_of in (date(2024, 6, 30), date(2025, 3, 15), date(2025, 12, 31), date(2026, 6, 1), None):
            assert diagnose(conn, as_of, surveyed) == diagnose(conn, as_of)
        assert diagnose(conn, date(2024, 6, 30), surveyed).warning("future_date", "events") is not None
    finally:
        conn.close()


SEGMENTED = {
    "customers": [{"customer_id": "c1", "signup_date": "2024-01-05", "segment": "smb"},
                  {"customer_id": "c2", "signup_date": "2024-02-10", "segment": "enterprise"},
                  {"customer_id": "c3", "signup_date": "2024-01-20", "segment": "smb"}],
    "subscriptions": [{"subscription_id": "s1", "customer_id": "c1", "start_date": "2024-01-05", "mrr": 100.0},
                      {"subscription_id": "s2", "customer_id": "c2", "start_date": "2024-02-10", "mrr": 150.0},
                      {"subscription_id": "s3", "customer_id": "c3", "start_date": "2024-01-20", "end_date": "2024-02-01",
                       "mrr": 50.0}],
    "nps_responses": [{"response_id": "r1", "customer_id": "c1", "responded_at": "2024-02-01", "score": 3},
                      {"response_id": "r2", "customer_id": "c1", "responded_at": "2024-03-01", "score": 10},
                      {"response_id": "r3", "customer_id": "c2", "responded_at": "2024-03-02", "score": 9},
                      {"response_id": "r4", "customer_id": "c3", "responded_at": "2024-01-25", "score": 5}],
    "touches": [{"touch_id": "t1", "customer_id": "c1", "channel": "email", "sent_at": "2024-03-01", "opened_at": "2024-03-02"},
                {"touch_id": "t2", "customer_id": "c2", "channel": "email", "sent_at": "2024-03-01"},
                {"touch_id": "t3", "customer_id": "c3", "channel": "EMAIL", "sent_at": "2024-03-01", "clicked_at": "2024-03-03"},
                {"touch_id": "t4", "customer_id": "c3", "channel": "", "sent_at": "2024-03-01"}],
}


def test_a_filtered_scope_reads_the_whole_bases_per_customer_answers_for_its_customers(tmp_path: Path) -> None:
    """A segment's metrics once the whole base's per-customer answers are memoised (``metrics.common.per_customer``:
    the latest NPS score, N-day retention, tenures) equal those computed afresh on the segment alone, and keep only its
    customers. Hand computed for smb (c1, c3) on 2024-03-31: NPS = (1 promoter (c1's latest, 10) − 1 detractor (c3, 5))
    ÷ 2 × 100 = 0 (the whole base's is (2 − 1) ÷ 3 × 100 = 33.3); 30-day retention = 1 ÷ 2 (c1 pays on day 30, c3's
    subscription ended on day 12; the whole base's is 2 ÷ 3); email open rate = 2 opened ÷ 2 sent (c1 opened, c3 clicked
    — channel case ignored, the touch without a channel left out; the whole base's is 2 ÷ 3)."""
    path = make_store(tmp_path / "store.db", SEGMENTED)
    source = open_source(path)
    smb = Scope.resolve(source, AS_OF, filters=Filters(segment=("smb",)))

    def rendered(dataset: Dataset) -> str:
        try:
            return json.dumps({k: v.to_dict() for k, v in compute_all(dataset).items()}, sort_keys=True)
        finally:
            dataset.close()

    fresh = rendered(Dataset(source.connect(), smb, source=source))  # no identity: nothing memoised, nothing masked
    MEMO.clear()
    whole = compute_all(Dataset.over(source, Scope.resolve(source, AS_OF)))
    assert round(whole["nps"].value, 1) == 33.3 and whole["retention_30d"].value == 2 / 3
    assert whole["email_open_rate"].value == 2 / 3
    masked = rendered(Dataset.over(source, smb))
    assert masked == fresh
    results = json.loads(masked)
    assert results["nps"]["value"] == 0.0 and results["retention_30d"]["value"] == 0.5
    assert results["email_open_rate"]["value"] == 1.0


LEADS = {"leads": [
    {"lead_id": "L1", "created_at": "2024-01-10", "segment": "smb", "source": "web", "mql_at": "2024-01-20"},
    {"lead_id": "L2", "created_at": "2024-01-11", "segment": "smb", "source": "web"},
    {"lead_id": "L3", "created_at": "2024-01-12", "segment": "smb", "source": "ads", "mql_at": "2024-02-01"},
    {"lead_id": "L4", "created_at": "2024-01-13", "segment": "enterprise", "source": "web", "mql_at": "2024-02-02"},
    {"lead_id": "L5", "created_at": "2024-01-14", "segment": "enterprise", "source": "ads"}]}


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(), 3 / 5), (Filters(segment=("smb",)), 2 / 3), (Filters(segment=("smb",), channel=("web",)), 1 / 2),
    (Filters(channel=("ads",)), 1 / 2), (Filters(segment=("nobody",)), None)])
def test_a_segment_or_channels_lead_rates_count_only_its_leads(tmp_path: Path, filters: Filters, expected: float | None) -> None:
    """Lead → MQL rate by hand over 5 leads created in the period (L1, L3, L4 reached MQL): all 3 ÷ 5; smb (L1–L3) 2 ÷ 3;
    smb from web (L1, L2) 1 ÷ 2; from ads (L3, L5) 1 ÷ 2; a segment with no lead: None. Each asked after the others'
    (the whole table's counts per source and segment are shared)."""
    path = make_store(tmp_path / "store.db", {**FIRST, **LEADS})
    source = open_source(path)
    for other in (Filters(), Filters(segment=("enterprise",)), Filters(channel=("web",))):
        compute_all(Dataset.over(source, Scope.at(AS_OF, other)), ("lead_to_mql_rate",))
    assert compute_all(Dataset.over(source, Scope.at(AS_OF, filters)), ("lead_to_mql_rate",))["lead_to_mql_rate"].value == expected
