"""Filters: ``--plan`` reads the subscription's plan where the customer has one (the customer's own ``plan`` else),
and a filter value the data does not hold is an error listing the valid ones — in the CLI, the Python front door
and the MCP tools alike.

Fixture (hand-made): customers A, B, C, D carry no plan; D's customer record says "Legacy" and D has no
subscription. Subscriptions: A Pro from 2024-01-10; B Basic from 2024-01-15, upgraded to Pro from 2024-03-01
(the Basic one ends that day); C Basic from 2024-02-01. So on 2024-02-29 the Pro customers are {A}, Basic {B, C};
on 2024-03-31 Pro {A, B}, Basic {C}; Legacy is D's own plan.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import lifecycle
from lifecycle.errors import QueryError
from tests.console import import_csvs, one_error_line
from tests.console import lifecycle as run

CUSTOMERS = "customer_id,signup_date,plan\nA,2024-01-10,\nB,2024-01-15,\nC,2024-02-01,\nD,2024-02-10,Legacy\n"
SUBSCRIPTIONS = ("subscription_id,customer_id,start_date,end_date,mrr,plan\n"
                 "S1,A,2024-01-10,,100,Pro\n"
                 "S2,B,2024-01-15,2024-03-01,20,Basic\n"
                 "S3,B,2024-03-01,,100,Pro\n"
                 "S4,C,2024-02-01,,20,Basic\n")


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    import_csvs(tmp_path, {"customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS}, "p.db")
    return tmp_path


def _ids(db: Path, as_of: str, **filters: str | list[str]) -> list[str]:
    with lifecycle.open(db, as_of, **filters) as ds:
        return sorted(ds.customers().index)


def test_plan_is_the_latest_subscriptions_plan_on_as_of(plans: Path) -> None:
    db = plans / "p.db"
    assert _ids(db, "2024-02-29", plan="Pro") == ["A"]
    assert _ids(db, "2024-02-29", plan="Basic") == ["B", "C"]
    assert _ids(db, "2024-03-31", plan="Pro") == ["A", "B"]
    assert _ids(db, "2024-03-31", plan="Basic") == ["C"]
    assert _ids(db, "2024-03-31", plan="Legacy") == ["D"]


def test_plan_filtered_mrr_is_the_plans_customers_mrr(plans: Path) -> None:
    """MRR on 2024-03-31 for plan Pro: A 100 + B 100 = 200 (B's whole MRR follows B into Pro)."""
    done = run("metrics", "--db", "p.db", "--as-of", "2024-03-31", "--plan", "Pro", "--json", cwd=plans)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mrr"]["value"] == 200.0


def test_customers_export_selects_by_subscription_plan(plans: Path) -> None:
    done = run("customers", "--db", "p.db", "--as-of", "2024-03-31", "--plan", "Pro", "--format", "csv",
               "--columns", "mrr", cwd=plans)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["customer_id"], float(r["mrr"])) for r in rows] == [("A", 100.0), ("B", 100.0)]


@pytest.mark.parametrize("command", [("metrics",), ("customers", "--format", "csv"), ("revenue",), ("clv", "--json")])
def test_an_unknown_plan_is_one_error_line_listing_the_valid_ones(plans: Path, command: tuple[str, ...]) -> None:
    done = run(*command, "--db", "p.db", "--plan", "Premium", cwd=plans)
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "unknown plan value(s) 'Premium'" in line and "Basic, Legacy, Pro" in line


def test_an_unknown_segment_is_refused_by_the_front_door(plans: Path) -> None:
    with pytest.raises(QueryError, match=r"unknown segment value\(s\) 'SMB'; valid values: \(none in the data\)"):
        lifecycle.open(plans / "p.db", segment="SMB")


@pytest.mark.anyio
async def test_mcp_tools_take_a_subscription_plan_and_refuse_an_unknown_one(plans: Path) -> None:
    """compute_metrics with plan Basic on 2024-03-31: C's 20 (B left Basic on 2024-03-01)."""
    from mcp import Client

    from server.app import build_server

    async with Client(build_server(plans / "p.db")) as client:
        basic = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "as_of": "2024-03-31",
                                                           "filters": {"plan": ["Basic"]}})
        unknown = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "filters": {"plan": ["Premium"]}})
    assert basic.is_error is False, basic.content
    assert basic.structured_content["metrics"][0]["value"] == 20.0
    assert unknown.is_error is True
    assert "Basic, Legacy, Pro" in " ".join(getattr(c, "text", "") for c in unknown.content)


def test_where_refuses_an_unknown_value_too(plans: Path) -> None:
    with lifecycle.open(plans / "p.db") as ds, pytest.raises(QueryError, match="valid values: Basic, Legacy, Pro"):
        ds.where(plan="Gold")
