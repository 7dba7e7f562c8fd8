"""Prompts, resources and completions through the real in-process client, on both protocol revisions.

Prompts render the templates with the fact bundle of the demo data (computed once per worker: the bundle is
memoised per database file and scope); every prompt in every language, bad arguments as JSON-RPC errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import PromptReference, ResourceTemplateReference

from lifecycle.metrics.registry import metric_ids
from prompts.render import Language, PromptName, framework_stages
from server.app import TOOL_MODULES, build_server

pytestmark = pytest.mark.anyio

RESOURCES = ["lifecycle://metrics/definitions", "lifecycle://stages/model", "lifecycle://health/profile", "lifecycle://schema"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "mcp-server.md"


def prompt_args(name: PromptName, language: Language) -> dict[str, str]:
    args = {"company": "Helloword", "business_model": "B2B SaaS", "language": language.value}
    if name is PromptName.STAGE_STRATEGY:
        args["stage"] = "adoption"
    if name is PromptName.AT_RISK_INTERVENTION:
        args["customer_id"] = "C00286"
    return args


@pytest.mark.parametrize("language", list(Language))
async def test_every_prompt_renders_in_every_language_with_cited_facts(demo_db: Path, language: Language) -> None:
    async with Client(build_server(demo_db)) as client:
        listed = [p.name for p in (await client.list_prompts()).prompts]
        assert listed == [p.value for p in PromptName]
        for name in PromptName:
            result = await client.get_prompt(name.value, prompt_args(name, language))
            text = result.messages[0].content.text  # type: ignore[union-attr]
            assert "[F:population.customers]" in text and "Helloword" in text, name
            assert language.display_name in text, name


async def test_at_risk_intervention_fences_the_customer_and_its_reasons(demo_db: Path) -> None:
    async with Client(build_server(demo_db)) as client:
        result = await client.get_prompt("at_risk_intervention", {"customer_id": "C00286"})
    text = result.messages[0].content.text  # type: ignore[union-attr]
    subject = text[text.index("# SUBJECT"):]
    opening = subject.index("<<UNTRUSTED-")
    closing = subject.index("<</UNTRUSTED-")
    block = subject[opening:closing]
    assert "customer_id: C00286" in block and "reason_1:" in block and "company:" in block


@pytest.mark.parametrize(("name", "args", "expected"), [
    pytest.param("stage_strategy", {}, "missing argument(s): stage", id="missing-stage"),
    pytest.param("stage_strategy", {"stage": "nirvana"}, "loyalty_advocacy", id="unknown-stage"),
    pytest.param("lifecycle_map", {"language": "fr"}, "en, ru, zh", id="unknown-language"),
    pytest.param("lifecycle_map", {"segment_dimension": "plan", "segment_value": "Gold"}, "Starter", id="unknown-value"),
    pytest.param("lifecycle_map", {"segment_dimension": "planet", "segment_value": "x"}, "company_size", id="unknown-dimension"),
    pytest.param("at_risk_intervention", {"customer_id": "ZZZ"}, "unknown customer_id", id="unknown-customer"),
    pytest.param("executive_summary", {"as_of": "yesterday"}, "YYYY-MM-DD", id="bad-date"),
])
async def test_bad_prompt_arguments_are_invalid_params_errors(demo_db: Path, name: str, args: dict, expected: str) -> None:
    async with Client(build_server(demo_db)) as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt(name, args)
    assert caught.value.code == -32602 and expected in caught.value.error.message
    assert str(demo_db.parent) not in caught.value.error.message


async def test_every_resource_reads(demo_db: Path) -> None:
    async with Client(build_server(demo_db)) as client:
        listed = sorted(str(r.uri) for r in (await client.list_resources()).resources)
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        contents = {uri: (await client.read_resource(uri)).contents[0].text for uri in RESOURCES}  # type: ignore[union-attr]
        customer = json.loads((await client.read_resource("customer://C00286")).contents[0].text)  # type: ignore[union-attr]
        with pytest.raises(MCPError) as unknown:
            await client.read_resource("customer://nobody")
    assert listed == sorted(RESOURCES) and templates == ["lifecycle://metrics/{metric_id}", "customer://{customer_id}"]
    assert [d["id"] for d in json.loads(contents["lifecycle://metrics/definitions"])] == list(metric_ids())
    assert {s["id"] for s in json.loads(contents["lifecycle://stages/model"])["stages"]} >= {s.id for s in framework_stages()}
    assert {c["name"] for c in json.loads(contents["lifecycle://health/profile"])["components"]} >= {"usage"}
    assert contents["lifecycle://schema"].startswith("# Data model")
    assert customer["customer_id"] == "C00286" and customer["stage"]["stage"] and customer["health"]["band"]
    assert "unknown customer_id" in unknown.value.error.message


async def test_completions_come_from_the_data(demo_db: Path) -> None:
    async with Client(build_server(demo_db)) as client:
        ids = await client.complete(PromptReference(type="ref/prompt", name="at_risk_intervention"),
                                    {"name": "customer_id", "value": "C0001"})
        plans = await client.complete(PromptReference(type="ref/prompt", name="lifecycle_map"),
                                      {"name": "segment_value", "value": ""}, context_arguments={"segment_dimension": "plan"})
        stages = await client.complete(PromptReference(type="ref/prompt", name="stage_strategy"), {"name": "stage", "value": "a"})
        resource_ids = await client.complete(ResourceTemplateReference(type="ref/resource", uri="customer://{customer_id}"),
                                             {"name": "customer_id", "value": "C0200"})
    assert ids.completion.values == [f"C000{i}" for i in range(10, 20)]
    assert plans.completion.values == ["Enterprise", "Growth", "Pro", "Starter"]
    assert stages.completion.values == ["awareness", "adoption"]
    assert resource_ids.completion.values and all(v.startswith("C0200") for v in resource_ids.completion.values)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"], ids=["2025-11-25", "2026-07-28"])
async def test_a_client_on_either_protocol_revision_lists_and_calls(tiny_db: Path, mode: str) -> None:
    async with Client(build_server(tiny_db), mode=mode) as client:
        expected = "2025-11-25" if mode == "legacy" else mode
        assert client.protocol_version == expected
        tools = [t.name for t in (await client.list_tools()).tools]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        result = await client.call_tool("compute_metrics", {"metrics": ["mrr"]})
        schema = await client.read_resource("lifecycle://schema")
    assert tools == [m.NAME for m in TOOL_MODULES] and prompts == [p.value for p in PromptName]
    assert result.is_error is False and result.structured_content["metrics"][0]["value"] == 150.0  # S1 100 + S2 50 on 2024-04-30
    assert schema.contents


async def test_every_prompt_and_resource_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name in [p.value for p in PromptName] + RESOURCES + ["customer://{customer_id}"]:
        assert f"`{name}`" in docs, name


async def test_metric_ids_come_from_a_resource_template_and_its_completions(tiny_db: Path) -> None:
    """The metric tools' schemas do not enumerate the ids (tools/list stays small): the template completes them and reads
    one definition; an unknown id is an invalid-params error naming the valid ones."""
    template = ResourceTemplateReference(type="ref/resource", uri="lifecycle://metrics/{metric_id}")
    async with Client(build_server(tiny_db)) as client:
        completed = await client.complete(template, {"name": "metric_id", "value": "retention_"})
        everything = await client.complete(template, {"name": "metric_id", "value": ""})
        nrr = json.loads((await client.read_resource("lifecycle://metrics/nrr")).contents[0].text)  # type: ignore[union-attr]
        with pytest.raises(MCPError) as unknown:
            await client.read_resource("lifecycle://metrics/happiness")
    assert completed.completion.values == ["retention_30d", "retention_60d", "retention_90d"]
    assert everything.completion.values == list(metric_ids())
    assert nrr["id"] == "nrr" and "logo_churn_rate" in unknown.value.error.message
