"""The customers behind a month's MRR bridge (filtered by movement, paged) and the bridge split by a dimension.

Fixture (as_of 2025-03-31): a, b, c (SMB) and d, e (Enterprise) signed up 2024-01-01 paying 100 each; b's
subscription ends 2025-02-15, c's 2025-03-10, d's 2025-03-20; a adds a 50 subscription on 2025-03-05; f (Enterprise)
signs up 2025-03-10 paying 80. By hand, March 2025 (month-end MRR February → March): churn c 100 and d 100,
expansion a +50, new f 80. Per segment — SMB: starting a + c = 200 (2 customers), churn c: logo 1/2, MRR 100/200;
Enterprise: starting d + e = 200 (2), churn d: logo 1/2, MRR 100/200, new 80. February: SMB starting a + b + c = 300
(3), churn b: logo 1/3; Enterprise starting 200 (2), no churn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.errors import QueryError
from lifecycle.metrics.movers import GroupBridge, bridge_by, mover_page
from lifecycle.metrics.revenue_movements import Movement, revenue_movements
from tests.lifecycle.metrics.stores import open_at, quick_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    segment = {"a": "SMB", "b": "SMB", "c": "SMB", "d": "Enterprise", "e": "Enterprise", "f": "Enterprise"}
    signup = {c: "2024-01-01" for c in "abcde"} | {"f": "2025-03-10"}
    subs = [("a", "2024-01-01", None, 100.0), ("b", "2024-01-01", "2025-02-15", 100.0),
            ("c", "2024-01-01", "2025-03-10", 100.0), ("d", "2024-01-01", "2025-03-20", 100.0),
            ("e", "2024-01-01", None, 100.0), ("a", "2025-03-05", None, 50.0), ("f", "2025-03-10", None, 80.0)]
    return quick_store(tmp_path_factory.mktemp("movers") / "movers.db", {
        "customers": [{"customer_id": c, "signup_date": signup[c], "segment": segment[c], "plan": "Pro"} for c in segment],
        "subscriptions": [{"subscription_id": f"S{k}", "customer_id": c, "start_date": s, "end_date": e, "mrr": m}
                          for k, (c, s, e, m) in enumerate(subs)]})


def test_churned_movers_are_listed_page_by_page(store: Path) -> None:
    dataset = open_at(store, "2025-03-31")
    first = mover_page(dataset, "2025-03", [Movement.CHURN], limit=1)
    assert (first.total, [m.customer_id for m in first.items], first.counts, first.amounts) == (
        2, ["c"], {"churn": 2}, {"churn": 200.0})
    second = mover_page(dataset, "2025-03", ["churn"], limit=1, cursor=first.next_cursor)
    assert [m.customer_id for m in second.items] == ["d"] and second.next_cursor is None
    assert second.items[0].segment == "Enterprise" and second.items[0].plan == "Pro"


def test_every_movement_type_by_default_in_bridge_order(store: Path) -> None:
    page = mover_page(open_at(store, "2025-03-31"), "2025-03")
    assert [(m.movement.value, m.customer_id, m.amount) for m in page.items] == [
        ("new", "f", 80.0), ("expansion", "a", 50.0), ("churn", "c", 100.0), ("churn", "d", 100.0)]
    new = page.items[0]
    assert new.stage == "new" and page.items[2].stage not in ("new", "churned", None)


def test_a_cursor_of_another_query_is_refused(store: Path) -> None:
    dataset = open_at(store, "2025-03-31")
    cursor = mover_page(dataset, "2025-03", ["churn"], limit=1).next_cursor
    with pytest.raises(QueryError, match="different movers query"):
        mover_page(dataset, "2025-03", ["new"], limit=1, cursor=cursor)


def test_bridge_by_segment_reconciles_logo_and_mrr_churn(store: Path) -> None:
    groups = {g.group: g for g in bridge_by(open_at(store, "2025-03-31"), "2025-03", "segment")}
    smb, enterprise = groups["SMB"], groups["Enterprise"]
    assert (smb.current.starting_customers, smb.current.churned_customers, smb.current.churn) == (2, 1, 100.0)
    assert GroupBridge.logo_churn(smb.current) == 0.5 and GroupBridge.mrr_churn(smb.current) == 0.5
    assert (enterprise.current.churn, enterprise.current.new, GroupBridge.logo_churn(enterprise.current)) == (100.0, 80.0, 0.5)
    assert GroupBridge.logo_churn(smb.previous) == pytest.approx(1 / 3) and GroupBridge.logo_churn(enterprise.previous) == 0.0


def test_groups_add_up_to_the_whole_bridge(store: Path) -> None:
    dataset = open_at(store, "2025-03-31")
    whole = {r.label: r for r in revenue_movements(dataset).rows}["2025-03"]
    groups = bridge_by(dataset, "2025-03", "stage")
    for field in ("starting_mrr", "new", "expansion", "contraction", "churn", "ending_mrr"):
        assert sum(getattr(g.current, field) for g in groups) == pytest.approx(getattr(whole, field)), field
    assert "new" in {g.group for g in groups}


def test_customers_without_a_value_are_grouped_under_none(tmp_path: Path) -> None:
    """By hand: x (industry "Retail") and y (no industry) pay 100 and 60 from 2025-01-01; y ends 2025-03-01; z (no
    industry either, a customer with no subscription) is in no group of the bridge. March: "(none)" starts with y's 60
    (1 customer) and loses it to churn; "Retail" starts with 100 and does not move."""
    path = quick_store(tmp_path / "none.db", {
        "customers": [{"customer_id": "x", "signup_date": "2025-01-01", "industry": "Retail"},
                      {"customer_id": "y", "signup_date": "2025-01-01"},
                      {"customer_id": "z", "signup_date": "2025-01-01"}],
        "subscriptions": [{"subscription_id": "X", "customer_id": "x", "start_date": "2025-01-01", "end_date": None, "mrr": 100.0},
                          {"subscription_id": "Y", "customer_id": "y", "start_date": "2025-01-01", "end_date": "2025-03-01",
                           "mrr": 60.0}]})
    groups = {g.group: g.current for g in bridge_by(open_at(path, "2025-03-31"), "2025-03", "industry")}
    assert set(groups) == {"Retail", "(none)"}
    assert (groups["(none)"].starting_customers, groups["(none)"].starting_mrr, groups["(none)"].churn) == (1, 60.0, 60.0)
    assert (groups["Retail"].starting_customers, groups["Retail"].starting_mrr, groups["Retail"].churn) == (1, 100.0, 0.0)
