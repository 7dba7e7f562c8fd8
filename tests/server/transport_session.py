"""One client session exercising the whole server surface — shared by the stdio and HTTP transport tests.

Against the tiny dataset (tests/server/conftest.py): list tools, prompts and resources; call every tool with
valid and with invalid arguments; render one prompt per language; read every resource.
"""

from __future__ import annotations

from typing import Any

from mcp.shared.exceptions import MCPError

from prompts.render import Language, PromptName
from server.app import TOOL_MODULES

VALID_CALLS: dict[str, dict[str, Any]] = {
    "describe_dataset": {}, "compute_metrics": {"metrics": ["mrr"]}, "stage_distribution": {"drivers": False},
    "classify_customer": {"customer_id": "C1"}, "score_health": {"customer_id": "C2"}, "list_at_risk": {"limit": 2},
    "predict_clv": {"limit": 2}, "cohort_retention": {}, "revenue_movements": {"month": "2024-02"},
    "compare_segments": {"dimension": "plan", "metrics": ["mrr"]}, "lifecycle_facts": {"section": "risk"},
    "verify_plan": {"draft": "MRR is $150 [F:mrr]."},
}
INVALID_CALLS: dict[str, dict[str, Any]] = {
    "describe_dataset": {"as_of": "soon"}, "compute_metrics": {"metrics": ["nope"]}, "stage_distribution": {"period_months": 99},
    "classify_customer": {"customer_id": "C9"}, "score_health": {"customer_id": ""}, "list_at_risk": {"cursor": "garbage"},
    "predict_clv": {"model": "gbm"}, "cohort_retention": {"basis": "karma"}, "revenue_movements": {"month": "May"},
    "compare_segments": {"dimension": "mood", "metrics": ["mrr"]}, "lifecycle_facts": {"section": "gossip"},
    "verify_plan": {"draft": ""},
}
NEEDS_ORDERS = {"predict_clv": "could not be fitted"}
"""Tools that need more data than the tiny subscription dataset has: their valid call is an isError saying so
(predict_clv's default model there is the sBG on signup cohorts, which two subscribers cannot fit)."""
RESOURCES = ("lifecycle://metrics/definitions", "lifecycle://stages/model", "lifecycle://health/profile", "lifecycle://schema",
             "customer://C1")


async def exercise(client: Any) -> dict[str, Any]:
    """Run the whole surface; returns what a test asserts on."""
    tools = [t.name for t in (await client.list_tools()).tools]
    prompts = [p.name for p in (await client.list_prompts()).prompts]
    resources = [str(r.uri) for r in (await client.list_resources()).resources]
    valid = {name: await client.call_tool(name, args) for name, args in VALID_CALLS.items()}
    invalid = {name: await client.call_tool(name, args) for name, args in INVALID_CALLS.items()}
    rendered = {lang.value: (await client.get_prompt("lifecycle_map", {"language": lang.value})).messages[0].content.text
                for lang in Language}
    read = {uri: (await client.read_resource(uri)).contents[0].text for uri in RESOURCES}
    try:
        await client.get_prompt("stage_strategy", {"stage": "nirvana"})
        prompt_error = None
    except MCPError as exc:
        prompt_error = exc.error.message
    return {"tools": tools, "prompts": prompts, "resources": resources, "valid": valid, "invalid": invalid,
            "rendered": rendered, "read": read, "prompt_error": prompt_error}


def check(outcome: dict[str, Any]) -> None:
    """The assertions every transport must satisfy."""
    assert outcome["tools"] == [m.NAME for m in TOOL_MODULES] == list(VALID_CALLS)
    assert outcome["prompts"] == [p.value for p in PromptName]
    assert len(outcome["resources"]) == 4
    for name, result in outcome["valid"].items():
        if name in NEEDS_ORDERS:
            text = " ".join(getattr(b, "text", "") for b in result.content)
            assert result.is_error is True and NEEDS_ORDERS[name] in text, name
            continue
        assert result.is_error is False and result.structured_content, name
    for name, result in outcome["invalid"].items():
        text = " ".join(getattr(b, "text", "") for b in result.content)
        assert result.is_error is True and "Traceback" not in text, name
    assert outcome["valid"]["compute_metrics"].structured_content["metrics"][0]["value"] == 150.0
    assert all("[F:population.customers]" in text for text in outcome["rendered"].values())
    assert all(outcome["read"].values())
    assert outcome["prompt_error"] is not None and "loyalty_advocacy" in outcome["prompt_error"]
