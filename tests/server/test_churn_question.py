""""Why did churn rise in March 2025?" answered with tool calls alone, as a strategist's assistant would ask them,
through the real MCP client on the demo data.

The session: the month's churned customers, every page (revenue_movements month + movements=churn + cursor); the
month's bridge by segment, plan, channel and stage beside February (revenue_movements by); and the churn metrics of
March next to February's (compute_metrics and compare_segments over one month, compare on). The checks are
invariants between the answers — pages add up to the bridge's churned count, groups add up to it, logo and MRR churn
of a group come from the same customers — and that every number the structured page holds is in the text too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.app import build_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # ~1 min of demo computations: the slow suite

MONTH = "2025-03"
MONTH_END = "2025-03-31"


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def ok(client: Client, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(tool, args)
    assert result.is_error is False, text_of(result)
    return result.structured_content, text_of(result)


async def test_why_did_churn_rise_in_march(demo_db: Path) -> None:
    async with Client(build_server(demo_db)) as client:
        # 1. Who churned in March — all of them, page by page.
        seen: list[str] = []
        cursor = None
        while True:
            args: dict[str, Any] = {"month": MONTH, "movements": ["churn"], "limit": 10}
            if cursor:
                args["cursor"] = cursor
            page, text = await ok(client, "revenue_movements", args)
            assert {m["movement"] for m in page["movers"]} <= {"churn"}
            assert all(m["customer_id"] in text for m in page["movers"])
            seen += [m["customer_id"] for m in page["movers"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        march = next(m for m in page["months"] if m["month"] == MONTH)
        february = next(m for m in page["months"] if m["month"] == "2025-02")
        assert len(seen) == len(set(seen)) == page["movers_total"] == march["churned_customers"]
        assert march["churned_customers"] > february["churned_customers"]  # the rise the question is about

        # 2. Where: the March bridge by segment, plan, channel and stage, beside February.
        for by in ("segment", "plan", "channel", "stage"):
            split, text = await ok(client, "revenue_movements", {"month": MONTH, "movements": ["churn"], "by": by, "limit": 1})
            groups = split["groups"]
            assert sum(g["current"]["churned_customers"] for g in groups) == march["churned_customers"], by
            assert sum(g["previous"]["churned_customers"] for g in groups if g["previous"]) == february["churned_customers"], by
            assert sum(g["current"]["churn"] for g in groups) == pytest.approx(march["churn"]), by
            for group in groups:
                now = group["current"]
                if now["starting_customers"]:
                    assert now["logo_churn"] == pytest.approx(now["churned_customers"] / now["starting_customers"])
                assert (now["churn"] > 0) == (now["churned_customers"] > 0), (by, group["group"])  # reconciled
                assert group["group"] in text

        # 3. How much: the churn metrics of March next to February, overall and by plan and stage.
        metrics, text = await ok(client, "compute_metrics", {"metrics": ["logo_churn_rate", "gross_mrr_churn_rate"],
                                                             "as_of": MONTH_END, "period_months": 1})
        for metric in metrics["metrics"]:
            assert metric["previous"] is not None and metric["previous"]["end"] == "2025-02-28"
            assert metric["previous"]["change"] == pytest.approx(metric["value"] - metric["previous"]["value"])
            assert metric["metric_id"] in text and "previous 2025-02-01..2025-02-28" in text
        for dimension in ("plan", "stage"):
            compared, text = await ok(client, "compare_segments", {"dimension": dimension, "metrics": ["logo_churn_rate"],
                                                                   "as_of": MONTH_END, "period_months": 1})
            assert len(compared["groups"]) > 2
            assert all(g["metrics"][0]["previous"] is not None for g in compared["groups"])
            assert all(g["value"] in text for g in compared["groups"] if g["value"])
