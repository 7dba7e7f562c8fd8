"""`lifecycle plan --batch`: the OpenAI Batch API (files + batches) against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifecycle.filters import Dimension
from lifecycle.sources import SqliteSource
from prompts.llm import LLMSettings
from prompts.plan import PlanOptions, Target, dimension_targets, run_plan
from prompts.render import PromptName
from tests.fakes.openai_server import ScriptedOpenAI
from tests.prompts.plan_store import AS_OF

ALL = [Target("all", "all customers", PromptName.LIFECYCLE_MAP)]


def run(store: Path, out: Path, server: ScriptedOpenAI, targets: list[Target] = ALL, **kw: object) -> dict:
    settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=0)
    options = PlanOptions(out_dir=out, as_of=AS_OF, charts=False, llm=settings, batch=True, batch_poll_s=0.01, **kw)  # type: ignore[arg-type]
    return asyncio.run(run_plan(SqliteSource(store), targets, options))


def segments(store: Path) -> list[Target]:
    return dimension_targets(SqliteSource(store), AS_OF, Dimension.SEGMENT, PromptName.LIFECYCLE_MAP)


def test_one_batch_job_answers_every_target_and_no_direct_calls_are_made(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI() as server:
        manifest = run(store, tmp_path / "out", server, segments(store))
        uploaded = [f for f in server.files.values() if f["purpose"] == "batch"]
    assert manifest["totals"]["by_status"] == {"done": 3} and manifest["api"] == "batch"
    assert server.requests == [] and len(server.batches) == 1 and manifest["batch_ids"] == ["batch_1"]
    lines = [json.loads(line) for line in uploaded[0]["_content"].decode().splitlines()]
    assert len(lines) == 3 and {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert all(line["body"]["response_format"]["type"] == "json_schema" for line in lines)
    assert len({line["custom_id"] for line in lines}) == 3
    for target in manifest["targets"]:
        assert target["answer_format"] == "structured" and target["prompt_tokens"] > 0
        assert json.loads((tmp_path / "out" / f"{target['key']}.verifier.json").read_text())["ok"]


def test_batch_lines_ask_exactly_what_a_direct_call_asks(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI() as direct:
        settings = LLMSettings(model="scripted", base_url=direct.base_url, timeout_s=10, max_retries=0)
        asyncio.run(run_plan(SqliteSource(store), ALL, PlanOptions(out_dir=tmp_path / "direct", as_of=AS_OF, charts=False, llm=settings)))
    with ScriptedOpenAI() as batched:
        run(store, tmp_path / "batch", batched)
    sent = {k: v for k, v in direct.requests[0].items() if k not in ("stream",)}
    assert batched.batch_lines[0] == sent


def test_unverified_drafts_are_revised_in_a_second_batch(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(["fabricate", "grounded", "grounded"]) as server:
        manifest = run(store, tmp_path / "out", server, segments(store))
    assert manifest["totals"]["by_status"] == {"done": 3}
    assert len(server.batches) == 2 and len(server.batch_lines) == 4  # 3 drafts, then 1 revision
    assert "could not be verified" in server.batch_lines[3]["messages"][-1]["content"]


def test_a_failed_line_fails_only_its_target(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(["status:500"]) as server:
        manifest = run(store, tmp_path / "out", server, segments(store))
    statuses = sorted(t["status"] for t in manifest["targets"])
    assert statuses == ["done", "done", "error"]
    failed = next(t for t in manifest["targets"] if t["status"] == "error")
    assert "batch request failed (HTTP 500)" in failed["error"]


def test_an_answer_without_choices_fails_only_its_target(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(["grounded", "no_choices"]) as server:
        manifest = run(store, tmp_path / "out", server, segments(store))
    assert sorted(t["status"] for t in manifest["targets"]) == ["done", "done", "error"]
    assert "no choices" in next(t["error"] for t in manifest["targets"] if t["status"] == "error")


@pytest.mark.parametrize("outcome", ["failed", "expired"])
def test_a_batch_that_ends_badly_gives_every_target_the_reason(store: Path, tmp_path: Path, outcome: str) -> None:
    with ScriptedOpenAI(batch_outcome=outcome) as server:
        manifest = run(store, tmp_path / "out", server, segments(store))
    assert {t["status"] for t in manifest["targets"]} == {"error"}
    assert all(f"ended as {outcome}" in t["error"] for t in manifest["targets"])


def test_a_server_without_the_batch_api_gets_a_clear_error(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(batch_api=False) as server:
        manifest = run(store, tmp_path / "out", server)
    outcome = manifest["targets"][0]
    assert outcome["status"] == "error" and "does not offer the Batch API" in outcome["error"]


def test_a_rerun_after_a_finished_batch_reuses_saved_answers_without_a_new_batch(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with ScriptedOpenAI() as server:
        run(store, out, server, segments(store))
        for meta in out.glob("*.meta.json"):
            meta.unlink()  # as if the run had been killed after the batch finished, before any document was written
        manifest = run(store, out, server, segments(store))
    assert manifest["totals"]["by_status"] == {"done": 3}
    assert len(server.batches) == 1 and len(server.batch_lines) == 3


def test_a_killed_batch_run_reattaches_to_its_batch_instead_of_paying_twice(store: Path, tmp_path: Path) -> None:
    """The CLI is SIGKILLed while its batch is in flight; the re-run collects that batch and creates no other."""
    out = tmp_path / "out"
    with ScriptedOpenAI(batch_polls=10_000) as server:  # stays in_progress until we let it finish
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-x"}
        cmd = [sys.executable, "-m", "server.cli", "plan", "--db", str(store), "--out", str(out), "--by", "segment",
               "--as-of", AS_OF.isoformat(), "--no-charts", "--model", "scripted", "--batch", "--batch-poll", "0.05"]
        run_ = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=Path(__file__).resolve().parents[2])
        deadline = time.monotonic() + 300  # generous: on a loaded machine the CLI takes long to reach its batch
        while time.monotonic() < deadline and not list((out / ".batch").glob("batch-*.json")):
            time.sleep(0.05)
        assert list((out / ".batch").glob("batch-*.json")), "the CLI never recorded its batch"
        run_.send_signal(signal.SIGKILL)
        run_.wait()
        assert len(server.batches) == 1 and not list(out.glob("*.meta.json"))
        server.batch_polls = 1  # the batch finishes at its next retrieval
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert rerun.returncode == 0, rerun.stderr
    assert "re-attached to batch batch_1" in rerun.stderr
    assert len(server.batches) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["by_status"] == {"done": 3} and manifest["batch_ids"] == ["batch_1"]


def test_an_azure_style_batch_uses_the_api_version_and_azures_endpoint(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI() as server:
        settings = LLMSettings(model="my-deployment", base_url=server.base_url.removesuffix("/v1"), timeout_s=10, max_retries=0,
                               api_version="2024-10-21")
        options = PlanOptions(out_dir=tmp_path / "out", as_of=AS_OF, charts=False, llm=settings, batch=True, batch_poll_s=0.01)
        manifest = asyncio.run(run_plan(SqliteSource(store), ALL, options))
        uploaded = next(f for f in server.files.values() if f["purpose"] == "batch")
    assert manifest["totals"]["by_status"] == {"done": 1}
    assert "/openai/files?api-version=2024-10-21" in server.paths and "/openai/batches?api-version=2024-10-21" in server.paths
    line = json.loads(uploaded["_content"].decode().splitlines()[0])
    assert line["url"] == "/chat/completions" and line["body"]["model"] == "my-deployment"
    assert server.batches["batch_1"]["endpoint"] == "/chat/completions"
