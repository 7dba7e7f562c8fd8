"""Structured output (``parse`` with the plan's JSON schema) against a real OpenAI-protocol server on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lifecycle.filters import Dimension
from lifecycle.sources import SqliteSource
from prompts.llm import LLMSettings
from prompts.plan import PlanOptions, Target, dimension_targets, run_plan
from prompts.render import PromptName
from prompts.structured import PlanAnswer, PlanSection, answer_markdown, parse_answer, undeclared_fact_ids
from tests.fakes.openai_server import ScriptedOpenAI
from tests.prompts.plan_store import AS_OF

ALL = [Target("all", "all customers", PromptName.LIFECYCLE_MAP)]


def run(store: Path, out: Path, server: ScriptedOpenAI, targets: list[Target] = ALL, structured: str = "auto",
        **kw: object) -> dict:
    settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=0, structured=structured)  # type: ignore[arg-type]
    options = PlanOptions(out_dir=out, as_of=AS_OF, charts=False, llm=settings, concurrency=1, **kw)  # type: ignore[arg-type]
    return asyncio.run(run_plan(SqliteSource(store), targets, options))


def test_the_plan_schema_is_sent_as_a_strict_json_schema_and_the_answer_laid_out_as_markdown(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(structured="json") as server:
        manifest = run(store, tmp_path / "out", server)
        request = server.requests[0]
    schema = request["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["strict"] is True
    assert schema["json_schema"]["schema"]["required"] == ["title", "sections"]
    assert manifest["targets"][0]["answer_format"] == "structured"
    document = (tmp_path / "out" / "all.md").read_text(encoding="utf-8")
    assert "## Customer Lifecycle Overview" in document and '"sections"' not in document  # laid out, not raw JSON
    report = json.loads((tmp_path / "out" / "all.verifier.json").read_text())
    assert report["ok"] and report["counts"]["verified"] > 0 and report["undeclared_fact_ids"] == []


def test_a_server_that_refuses_the_schema_is_asked_in_plain_text_from_then_on(store: Path, tmp_path: Path) -> None:
    targets = dimension_targets(SqliteSource(store), AS_OF, Dimension.SEGMENT, PromptName.LIFECYCLE_MAP)
    with ScriptedOpenAI(structured="refuse") as server:
        manifest = run(store, tmp_path / "out", server, targets)
        with_schema = [r for r in server.requests if "response_format" in r]
    assert manifest["totals"]["by_status"] == {"done": 3}
    assert len(with_schema) == 1 and len(server.requests) == 4  # one refusal, then three plain requests
    assert {t["answer_format"] for t in manifest["targets"]} == {"text"}


def test_a_server_that_ignores_the_schema_has_its_prose_used(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(structured="ignore") as server:
        manifest = run(store, tmp_path / "out", server)
    assert manifest["targets"][0]["status"] == "done" and manifest["targets"][0]["answer_format"] == "text"
    assert "Metric" in (tmp_path / "out" / "all.md").read_text(encoding="utf-8")


def test_structured_on_fails_clearly_where_the_server_refuses_it(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(structured="refuse") as server:
        manifest = run(store, tmp_path / "out", server, structured="on")
    outcome = manifest["targets"][0]
    assert outcome["status"] == "error" and "refused structured output (HTTP 400)" in outcome["error"]


def test_structured_off_never_sends_the_schema(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(structured="json") as server:
        run(store, tmp_path / "out", server, structured="off")
    assert all("response_format" not in r for r in server.requests)


def test_a_fabricated_number_in_a_structured_answer_is_caught_and_revised(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(["fabricate"], structured="json") as server:
        manifest = run(store, tmp_path / "out", server)
        assert len(server.requests) == 2 and "response_format" in server.requests[1]
    assert manifest["targets"][0]["status"] == "done"


def test_truncated_structured_answers_are_recorded_and_shown_as_json_code(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(default="truncate", structured="json") as server:
        manifest = run(store, tmp_path / "out", server, strict=True)
    assert "truncated" in (manifest["targets"][0]["error"] or "")
    assert manifest["targets"][0]["answer_format"] == "text"
    document = next((tmp_path / "out").glob("all*.md")).read_text(encoding="utf-8")
    assert '```json\n{"title"' in document


def test_answers_lay_out_as_headed_sections_and_unknown_declared_facts_are_listed() -> None:
    answer = PlanAnswer(title="Plan", sections=[
        PlanSection(heading="Stage 1", content="Activation is 40% [F:activation_rate].", fact_ids=["activation_rate"]),
        PlanSection(heading="Stage 2", content="no data", fact_ids=["made_up", "activation_rate"])])
    assert answer_markdown(answer) == "# Plan\n\n## Stage 1\n\nActivation is 40% [F:activation_rate].\n\n## Stage 2\n\nno data\n"
    assert undeclared_fact_ids(answer, {"activation_rate"}) == ["made_up"]
    assert parse_answer(answer.model_dump_json()) == answer
    assert parse_answer("## prose, not JSON") is None and parse_answer('{"title": "x"}') is None
