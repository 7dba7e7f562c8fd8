"""Every analytical tool through the real in-process client on the demo data: valid calls, invalid calls, charts,
the as_of it reports, JSON without NaN, and byte-identical results for the same inputs.

Expected values are checked against the library functions the tools present (the tools add no arithmetic), or
against the demo's documented shape (2,022 customers by 2025-12-31, plans Enterprise/Growth/Pro/Starter).
"""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from lifecycle.dataset import Dataset, data_end
from lifecycle.metrics.registry import compute_metric
from server.app import build_server
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def images_of(result: Any) -> list[bytes]:
    return [base64.b64decode(block.data) for block in result.content if block.type == "image"]


def assert_clean_json(structured: Any) -> None:
    """Valid strict JSON: no NaN or Infinity anywhere."""
    json.dumps(structured, allow_nan=False)


async def call(db: Path, name: str, args: dict[str, Any]) -> Any:
    async with Client(build_server(db)) as client:
        return await client.call_tool(name, args)


async def test_compute_metrics_matches_the_registry_and_reports_the_inferred_as_of(demo_db: Path) -> None:
    result = await call(demo_db, "compute_metrics", {"metrics": ["nrr", "mrr"], "filters": {"plan": ["Pro"]}})
    assert result.is_error is False
    data = result.structured_content
    assert_clean_json(data)
    end = data_end(demo_db)
    assert data["scope"]["as_of"] == end.isoformat() and data["scope"]["as_of_inferred"] is True
    assert data["scope"]["filters"] == {"plan": ["Pro"]}
    from lifecycle.filters import Filters
    expected = compute_metric(Dataset.open(demo_db, end, filters=Filters(plan=("Pro",))), "nrr").to_dict()
    nrr = data["metrics"][0]
    assert (nrr["metric_id"], nrr["value"], nrr["sample_size"]) == ("nrr", expected["value"], expected["sample_size"])
    assert f"As of {end.isoformat()}" in text_of(result)


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param({"metrics": ["no_such_metric"]}, "lifecycle_completion_rate", id="unknown-metric-lists-valid-ids"),
    pytest.param({"metrics": ["mrr"], "filters": {"plan": ["Gold"]}}, "Enterprise, Growth, Pro, Starter", id="unknown-plan"),
    pytest.param({"metrics": ["mrr"], "filters": {"flavour": ["x"]}}, "company_size", id="unknown-dimension"),
    pytest.param({"metrics": ["mrr"], "period_months": 0}, "greater than or equal to 1", id="period-too-short"),
    pytest.param({"metrics": []}, "at least 1", id="no-metrics"),
    pytest.param({"metrics": ["mrr"], "as_of": "31/12/2025"}, "date", id="bad-date"),
])
async def test_bad_arguments_are_error_results_naming_the_valid_values(demo_db: Path, args: dict, expected: str) -> None:
    result = await call(demo_db, "compute_metrics", args)
    assert result.is_error is True and expected in text_of(result)
    assert str(demo_db.parent) not in text_of(result) and "Traceback" not in text_of(result)


async def test_stage_distribution_counts_flows_drivers_and_chart(demo_db: Path) -> None:
    result = await call(demo_db, "stage_distribution", {"chart": True, "as_of": "2025-06-30"})
    assert result.is_error is False
    data = result.structured_content
    assert_clean_json(data)
    assert data["scope"]["as_of"] == "2025-06-30" and data["scope"]["as_of_inferred"] is False
    customers = [s for s in data["stages"] if s["population"] == "customers"]
    total = sum(s["count"] for s in customers)
    assert total == len(Dataset.open(demo_db, date(2025, 6, 30)).customers())  # every customer is in one row
    assert {m["metric_id"] for m in data["flow"]} == {"progression_rate", "regression_rate", "stagnation_rate",
                                                      "stage_velocity_days", "lifecycle_completion_rate"}
    assert data["transitions"] and all(t["count"] > 0 for t in data["transitions"])
    assert data["drivers"]["rows"] and data["drivers"]["note"] == "association, not causation"
    (png,) = images_of(result)
    assert png.startswith(PNG_MAGIC)


async def test_stage_distribution_rejects_a_stage_outside_the_model(demo_db: Path) -> None:
    result = await call(demo_db, "stage_distribution", {"stage": "nirvana"})
    assert result.is_error is True and "loyalty_advocacy" in text_of(result)


async def test_classify_customer_gives_the_rule_and_its_checks(demo_db: Path) -> None:
    result = await call(demo_db, "classify_customer", {"customer_id": "C00286"})
    data = result.structured_content
    assert result.is_error is False and data["customer_id"] == "C00286" and data["rule_id"]
    assert data["checks"] and all({"feature", "op", "actual"} <= set(c) for c in data["checks"])


async def test_an_unknown_customer_is_an_error_with_ids_that_look_alike(demo_db: Path) -> None:
    result = await call(demo_db, "classify_customer", {"customer_id": "C0028"})
    assert result.is_error is True and "C0028" in text_of(result) and "C00280" not in text_of(result)[:20]


async def test_score_health_for_a_customer_and_for_the_scope(demo_db: Path) -> None:
    one = await call(demo_db, "score_health", {"customer_id": "C00286", "chart": True})
    data = one.structured_content["customer"]
    assert one.is_error is False and 0 <= data["health"] <= 100 and data["band"] in ("red", "yellow", "green")
    assert abs(sum(c["effective_weight"] for c in data["components"]) - 100) < 1e-6
    assert data["most_impactful"] in {c["name"] for c in data["components"]}
    assert images_of(one)[0].startswith(PNG_MAGIC)
    whole = await call(demo_db, "score_health", {})
    summary = whole.structured_content["summary"]
    assert sum(b["count"] for b in summary["bands"]) == summary["customers"] > 0


async def test_list_at_risk_pages_with_the_cursor(demo_db: Path) -> None:
    async with Client(build_server(demo_db)) as client:
        first = await client.call_tool("list_at_risk", {"limit": 5})
        page = first.structured_content
        second = await client.call_tool("list_at_risk", {"limit": 5, "cursor": page["next_cursor"]})
        other_query = await client.call_tool("list_at_risk", {"limit": 5, "cursor": page["next_cursor"], "reasons": ["late_payment"]})
        bad_segment = await client.call_tool("list_at_risk", {"health_segment": ["vip"]})
    assert [i["rank"] for i in page["items"]] == [1, 2, 3, 4, 5] and page["total"] > 5
    priorities = [i["priority"] for i in page["items"] + second.structured_content["items"]]
    assert priorities == sorted(priorities, reverse=True)
    assert second.structured_content["items"][0]["rank"] == 6
    assert other_query.is_error is True and "different at-risk query" in text_of(other_query)
    assert bad_segment.is_error is True and "champions" in text_of(bad_segment)


async def test_cohort_retention_and_revenue_movements(demo_db: Path) -> None:
    cohorts = await call(demo_db, "cohort_retention", {"chart": True, "period_months": 6})
    rows = cohorts.structured_content["rows"]
    assert len(rows) == 6 and all(r["values"][0] in (1.0, None) for r in rows)
    assert images_of(cohorts)[0].startswith(PNG_MAGIC)
    moves = await call(demo_db, "revenue_movements", {"month": "2025-06", "limit": 3})
    data = moves.structured_content
    for month in data["months"]:
        bridge = month["starting_mrr"] + month["new"] + month["expansion"] + month["reactivation"] - month["contraction"] - month["churn"]
        assert abs(bridge - month["ending_mrr"]) < 1e-6  # the MRR bridge identity
    assert len(data["movers"]) == 3 and data["movers_total"] >= 3
    bad = await call(demo_db, "revenue_movements", {"month": "2025-13"})
    assert bad.is_error is True


async def test_compare_segments_has_a_baseline_row_and_one_row_per_value(demo_db: Path) -> None:
    result = await call(demo_db, "compare_segments", {"dimension": "plan", "metrics": ["mrr"]})
    groups = result.structured_content["groups"]
    assert [g["value"] for g in groups] == [None, "Enterprise", "Growth", "Pro", "Starter"]
    assert sum(g["customers"] for g in groups[1:]) == groups[0]["customers"]
    assert abs(sum(g["metrics"][0]["value"] for g in groups[1:]) - groups[0]["metrics"][0]["value"]) < 1e-6  # MRR adds up
    clash = await call(demo_db, "compare_segments", {"dimension": "plan", "metrics": ["mrr"], "filters": {"plan": ["Pro"]}})
    assert clash.is_error is True and "values" in text_of(clash)


async def test_lifecycle_facts_and_verify_plan_agree(demo_db: Path) -> None:
    async with Client(build_server(demo_db)) as client:
        facts = await client.call_tool("lifecycle_facts", {"section": "risk"})
        fact = facts.structured_content["facts"][0]
        assert all("risk" in f["sections"] for f in facts.structured_content["facts"])
        draft = f"The figure is {fact['display']} [F:{fact['id']}]. Churn will drop to 3.7% next year."
        checked = await client.call_tool("verify_plan", {"draft": draft})
    claims = checked.structured_content["claims"]
    assert claims[0]["status"] == "verified" and claims[0]["fact_id"] == fact["id"]
    assert claims[-1]["status"] == "unsupported_projection" and checked.structured_content["ok"] is False


async def test_same_inputs_give_byte_identical_structured_content(demo_db: Path) -> None:
    calls = [("stage_distribution", {"drivers": False}), ("list_at_risk", {"limit": 10}),
             ("score_health", {"customer_id": "C00286"}), ("compute_metrics", {"metrics": ["nrr", "activation_rate"]})]
    runs = []
    for _ in range(2):
        clear_memo()
        async with Client(build_server(demo_db)) as client:
            runs.append([json.dumps((await client.call_tool(n, a)).structured_content, sort_keys=False) for n, a in calls])
    assert runs[0] == runs[1]
