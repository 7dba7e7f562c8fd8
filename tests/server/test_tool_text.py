"""A text-only client sees every row of every tool's page: each id, month, stage, group and fact of the structured
content appears in the text content, and a call with default arguments stays within the text budget (6,000 tokens ≈
24 KB). Through the real client over stdio and streamable HTTP, on the demo data.

The identifiers are read from the structured content by ``identifiers`` (per tool: what a row is), so a row the text
leaves out fails the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.server.helpers import serve_args, server_env, start_http_server, stop

pytestmark = pytest.mark.anyio

TEXT_BUDGET_BYTES = 24_000
TIMEOUT_S = 600

# (tool, arguments, whether these are the tool's default arguments — the text budget applies to those)
CALLS: list[tuple[str, dict[str, Any], bool]] = [
    ("describe_dataset", {}, True),
    ("compute_metrics", {"metrics": ["mrr", "logo_churn_rate", "conversion_by_channel", "nps"]}, False),
    ("stage_distribution", {}, True),
    ("stage_distribution", {"by": "segment", "drivers": False}, False),
    ("classify_customer", {"customer_id": "C00570"}, False),
    ("score_health", {}, True),
    ("list_at_risk", {}, True),
    ("predict_clv", {"model": "sbg"}, False),
    ("cohort_retention", {}, True),
    ("revenue_movements", {}, True),
    ("revenue_movements", {"month": "2025-03", "movements": ["churn"], "by": "stage", "limit": 10}, False),
    ("compare_segments", {"dimension": "stage", "metrics": ["mrr", "nps"]}, False),
    ("lifecycle_facts", {}, True),
    ("lifecycle_facts", {"section": "adoption"}, False),
    ("verify_plan", {"draft": "MRR is $2,867,235 [F:mrr]. Churn fell to 1.2% [F:logo_churn_rate]."}, False),
]


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value if v is not None]


def identifiers(tool: str, data: dict[str, Any]) -> set[str]:
    """What a row of ``tool``'s structured page is called: the strings the text must show."""
    if tool == "describe_dataset":
        return ({t["name"] for t in data["tables"]} | {g["name"] for g in data["metric_groups"]}
                | {w["code"] for w in data["warnings"]})
    if tool == "compute_metrics":
        return {m["metric_id"] for m in data["metrics"]} | {b["key"] for m in data["metrics"] for b in m["breakdown"]}
    if tool == "stage_distribution":
        found = {s["stage"] for s in data["stages"]} | {v["stage"] for v in data["value"]}
        found |= set(_strings(v["group"] for v in data["value"]))
        found |= {f"{t['from_state']}→{t['to_state']}" for t in data["transitions"]}
        found |= {m["metric_id"] for m in data["flow"]}
        return found | {r["signal"] for r in (data["drivers"] or {"rows": []})["rows"]}
    if tool == "classify_customer":
        return {data["customer_id"], data["stage"]} | {c["feature"] for c in data["checks"]} | set(data["features"])
    if tool == "score_health":
        if data["customer"]:
            c = data["customer"]
            return {c["customer_id"]} | {k["name"] for k in c["components"]} | {
                g["name"] for k in c["components"] for g in k["signals"]}
        s = data["summary"]
        return {b["name"] for b in s["bands"]} | {g["name"] for g in s["segments"]} | {k["name"] for k in s["components"]}
    if tool == "list_at_risk":
        return {i["customer_id"] for i in data["items"]} | {r["code"] for i in data["items"] for r in i["reasons"]}
    if tool == "predict_clv":
        return {i["customer_id"] for i in data["items"]}
    if tool == "cohort_retention":
        return {r["cohort"] for r in data["rows"]}
    if tool == "revenue_movements":
        return ({m["month"] for m in data["months"]} | {v["customer_id"] for v in data["movers"]}
                | {g["group"] for g in data["groups"]})
    if tool == "compare_segments":
        return set(_strings(g["value"] for g in data["groups"])) | {m["metric_id"] for g in data["groups"] for m in g["metrics"]}
    if tool == "lifecycle_facts":
        return {f["id"] for f in data["facts"]}
    if tool == "verify_plan":
        return {c["text"] for c in data["claims"]} | set(_strings(c["fact_id"] for c in data["claims"]))
    raise AssertionError(f"no identifiers rule for {tool}")


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def sweep(client: Client) -> list[tuple[str, dict[str, Any], bool, Any]]:
    return [(tool, args, default, await client.call_tool(tool, args)) for tool, args, default in CALLS]


def check_sweep(outcomes: list[tuple[str, dict[str, Any], bool, Any]]) -> None:
    for tool, args, default, result in outcomes:
        assert result.is_error is False, (tool, text_of(result))
        text = text_of(result)
        wanted = identifiers(tool, result.structured_content)
        assert wanted, (tool, args)
        missing = sorted(w for w in wanted if w not in text)
        assert not missing, f"{tool} {args}: the text leaves out {missing[:10]}"
        if default:
            assert len(text.encode("utf-8")) <= TEXT_BUDGET_BYTES, (tool, len(text.encode("utf-8")))


async def test_every_tool_text_carries_its_page_over_stdio(demo_db: Path, isolated_data_dir: Path) -> None:
    command, *args = serve_args("--db", str(demo_db))
    params = StdioServerParameters(command=command, args=args, env={"LIFECYCLE_DATA_DIR": str(isolated_data_dir)})
    with anyio.fail_after(TIMEOUT_S):
        async with Client(params) as client:
            outcomes = await sweep(client)
    check_sweep(outcomes)


@pytest.mark.slow
async def test_every_tool_text_carries_its_page_over_http(demo_db: Path, tmp_path: Path) -> None:
    server = start_http_server(demo_db, tmp_path, env=server_env(tmp_path))
    try:
        with anyio.fail_after(TIMEOUT_S):
            async with Client(server.url) as client:
                outcomes = await sweep(client)
    finally:
        stop(server)
    check_sweep(outcomes)
