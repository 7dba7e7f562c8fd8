"""Batch plan generation against a real OpenAI-protocol HTTP server on loopback (tests/fakes/openai_server.py)."""

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


def options(out: Path, **kw: object) -> PlanOptions:
    return PlanOptions(out_dir=out, as_of=AS_OF, charts=False, **kw)  # type: ignore[arg-type]


def test_offline_plan_lays_out_the_framework_with_facts_and_marks_strategy_as_awaiting(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "offline"
    manifest = asyncio.run(run_plan(SqliteSource(store), [Target("all", "all customers", PromptName.LIFECYCLE_MAP)], options(out)))
    assert manifest["totals"]["by_status"] == {"offline": 1}
    document = (out / "all.md").read_text(encoding="utf-8")
    assert "awaiting a model" in document and "Stage 3: Purchase and Onboarding" in document
    assert "`nps`" in document  # the NPS fact is laid out
    html = (out / "all.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html


def test_plan_by_segment_writes_one_verified_document_per_segment_an_index_and_a_manifest(store: Path, tmp_path: Path,
                                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "by-segment"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    with ScriptedOpenAI() as server:
        settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=0)
        targets = dimension_targets(SqliteSource(store), AS_OF, Dimension.SEGMENT, PromptName.LIFECYCLE_MAP)
        manifest = asyncio.run(run_plan(SqliteSource(store), targets, options(out, llm=settings)))
    assert [t.key for t in targets] == ["segment-enterprise", "segment-mid-market", "segment-smb"]
    assert manifest["totals"]["by_status"] == {"done": 3}
    for target in targets:
        verifier = json.loads((out / f"{target.key}.verifier.json").read_text())
        assert verifier["ok"] and verifier["counts"]["verified"] > 0
    assert (out / "index.md").exists() and "segment-smb.md" in (out / "index.md").read_text()
    # The key went in the Authorization header only; it is written nowhere.
    assert all(h == "Bearer sk-test-secret-123" for h in server.auth_headers)
    for path in out.iterdir():
        assert "sk-test-secret-123" not in path.read_text(encoding="utf-8", errors="replace")


def test_fabricated_numbers_trigger_one_revision_and_strict_mode_fails_the_document(store: Path, tmp_path: Path) -> None:
    target = [Target("all", "all customers", PromptName.LIFECYCLE_MAP)]
    with ScriptedOpenAI(["fabricate"]) as server:
        settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=0)
        manifest = asyncio.run(run_plan(SqliteSource(store), target, options(tmp_path / "revise", llm=settings)))
        assert len(server.requests) == 2  # draft + one revision
        assert "could not be verified" in server.requests[1]["messages"][-1]["content"]
    assert manifest["totals"]["by_status"] == {"done": 1}
    with ScriptedOpenAI(default="fabricate") as server:
        settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=0)
        manifest = asyncio.run(run_plan(SqliteSource(store), target, options(tmp_path / "strict", llm=settings, strict=True)))
        assert len(server.requests) == 1
    assert manifest["totals"]["by_status"] == {"failed_verification": 1}
    report = json.loads((tmp_path / "strict" / "all.verifier.json").read_text())
    assert {c["text"] for c in report["claims"] if c["status"] == "unsupported_projection"} >= {"$9,999,999"}


def test_429_and_500_are_retried_with_backoff_and_a_timeout_fails_cleanly(store: Path, tmp_path: Path) -> None:
    target = [Target("all", "all customers", PromptName.LIFECYCLE_MAP)]
    with ScriptedOpenAI(["status:429", "status:500"]) as server:
        settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=2)
        manifest = asyncio.run(run_plan(SqliteSource(store), target, options(tmp_path / "retry", llm=settings)))
        assert len(server.requests) == 3
    assert manifest["totals"]["by_status"] == {"done": 1}
    with ScriptedOpenAI(default="sleep:3") as server:
        settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=0.5, max_retries=1)
        manifest = asyncio.run(run_plan(SqliteSource(store), target, options(tmp_path / "timeout", llm=settings)))
    outcome = manifest["targets"][0]
    assert outcome["status"] == "error" and "timed out" in outcome["error"]


def test_truncated_answers_are_recorded_in_the_manifest(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(default="truncate") as server:
        settings = LLMSettings(model="scripted", base_url=server.base_url, timeout_s=10, max_retries=0)
        manifest = asyncio.run(run_plan(SqliteSource(store), [Target("all", "all", PromptName.EXECUTIVE_SUMMARY)], options(tmp_path / "t", llm=settings)))
    assert "truncated" in (manifest["targets"][0]["error"] or "")


def test_killed_run_resumes_without_redoing_finished_documents(store: Path, tmp_path: Path) -> None:
    """A run over 3 segments is SIGKILLed after its first document; the re-run only does the rest."""
    out = tmp_path / "resume"
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.openai_server", "sleep:1.5"], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        base_url = server.stdout.readline().strip()  # type: ignore[union-attr]
        env = {**os.environ, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-x"}
        cmd = [sys.executable, "-m", "server.cli", "plan", "--db", str(store), "--out", str(out), "--by", "segment",
               "--as-of", AS_OF.isoformat(), "--concurrency", "1", "--no-charts", "--model", "scripted"]
        run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(out.glob("*.meta.json")):
            time.sleep(0.1)
        run.send_signal(signal.SIGKILL)
        run.wait()
        finished = sorted(p.name for p in out.glob("*.meta.json"))
        assert 1 <= len(finished) < 3
        stamps = {name: (out / name).stat().st_mtime_ns for name in finished}
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    finally:
        server.kill()
    manifest = json.loads((out / "manifest.json").read_text())
    statuses = {t["key"]: t["status"] for t in manifest["targets"]}
    for name in finished:
        assert statuses[name.removesuffix(".meta.json")] == "skipped"
        assert (out / name).stat().st_mtime_ns == stamps[name]
    assert sorted(statuses.values()).count("done") == 3 - len(finished)


def test_html_embeds_our_charts_and_never_loads_model_images_or_raw_html() -> None:
    from prompts.documents import Chart, to_html

    markdown = "Hi <script>alert(1)</script> ![x](https://evil.example/p.png)\n\n![Stages](chart:0)\n"
    html = to_html(markdown, "t", [Chart("Stages", b"\x89PNG fake")])
    assert "<script>" not in html and "evil.example/p.png\"" not in html and "src=\"https://" not in html
    assert 'src="data:image/png;base64,' in html and "image not loaded" in html


def test_top_at_risk_targets_get_the_customers_facts_and_a_fenced_subject(store: Path, tmp_path: Path) -> None:
    from prompts.plan import at_risk_targets

    targets = at_risk_targets(SqliteSource(store), AS_OF, 2)
    assert 1 <= len(targets) <= 2 and all(t.prompt is PromptName.AT_RISK_INTERVENTION for t in targets)
    out = tmp_path / "risk"
    manifest = asyncio.run(run_plan(SqliteSource(store), targets, options(out, dry_run=True)))
    assert set(manifest["totals"]["by_status"]) == {"dry_run"}
    prompt = (out / f"{targets[0].key}.prompt.md").read_text(encoding="utf-8")
    assert "[F:customer.health]" in prompt and f"customer_id: {targets[0].customer_id}" in prompt
    assert "\u202e" not in prompt


def test_an_azure_style_endpoint_gets_the_api_version_and_the_api_key_header(store: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_API_VERSION switches to the Azure protocol: deployment in the path, ?api-version=, `api-key` header."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-secret-456")
    with ScriptedOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url.removesuffix("/v1"))
        monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
        settings = LLMSettings.from_env("my-deployment", timeout_s=10, max_retries=0)
        manifest = asyncio.run(run_plan(SqliteSource(store), [Target("all", "all", PromptName.LIFECYCLE_MAP)], options(tmp_path / "az", llm=settings)))
    assert manifest["totals"]["by_status"] == {"done": 1}
    assert server.paths == ["/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21"]
    assert server.api_key_headers == ["azure-secret-456"] and server.auth_headers == [""]
    assert all("azure-secret-456" not in p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "az").iterdir())
