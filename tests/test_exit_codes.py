"""Exit codes of the installed `lifecycle` console script, run in a subprocess as a user or a CI job runs it.

Documented codes (server/cli.py, docs/plans.md): 0 success; 1 a library error or a failed run — `plan --strict` with a
document that failed verification, a model call that failed; 2 a usage error; 130 interrupted. The model is the
scripted OpenAI-protocol server on loopback (tests/fakes/openai_server.py), the only stand-in.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.openai_server import ScriptedOpenAI
from tests.prompts.plan_store import AS_OF, plan_store

LIFECYCLE = Path(sys.executable).with_name("lifecycle")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LIFECYCLE), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return plan_store(tmp_path / "plan.db")


def plan_args(store: Path, out: Path, *extra: str) -> list[str]:
    return ["plan", "--db", str(store), "--out", str(out), "--as-of", AS_OF.isoformat(), "--no-charts", *extra]


def test_help_exits_0() -> None:
    done = run("--help")
    assert done.returncode == 0 and "plan" in done.stdout


@pytest.mark.parametrize("args", [["plan", "--no-such-option"], ["plan", "--language", "fr"], ["plan", "--concurrency", "0"],
                                  ["no-such-command"]])
def test_usage_errors_exit_2_with_a_usage_message(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert "Usage:" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_dataset_is_one_error_line_and_exit_1(tmp_path: Path) -> None:
    done = run("plan", "--db", str(tmp_path / "missing.db"), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error:") and "Traceback" not in done.stderr


def test_offline_plan_exits_0(store: Path, tmp_path: Path) -> None:
    done = run(*plan_args(store, tmp_path / "offline", "--offline"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "offline" / "all.md").exists()


def test_strict_plan_with_a_fabricated_answer_exits_1_and_writes_no_done_document(store: Path, tmp_path: Path) -> None:
    """A model answer with an invented number under --strict: exit 1, the document only as `.rejected.md`."""
    out = tmp_path / "strict"
    with ScriptedOpenAI(default="fabricate") as server:
        done = run(*plan_args(store, out, "--strict", "--model", "scripted", "--max-retries", "0"),
                   env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"})
        assert len(server.requests) == 1  # strict: no revision round
    assert done.returncode == 1, done.stderr
    assert not (out / "all.md").exists() and not (out / "all.html").exists()
    assert (out / "all.rejected.md").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["by_status"] == {"failed_verification": 1}
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "[all.rejected.md](all.rejected.md)" in index and "failed\\_verification" in index  # Markdown-escaped status


def test_strict_plan_with_a_grounded_answer_exits_0(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "grounded"
    with ScriptedOpenAI(default="grounded") as server:
        done = run(*plan_args(store, out, "--strict", "--model", "scripted", "--max-retries", "0"),
                   env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"})
    assert done.returncode == 0, done.stderr
    assert (out / "all.md").exists()


def test_a_failing_model_call_exits_1(store: Path, tmp_path: Path) -> None:
    with ScriptedOpenAI(default="status:500") as server:
        done = run(*plan_args(store, tmp_path / "error", "--model", "scripted", "--max-retries", "0"),
                   env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"})
    assert done.returncode == 1
    assert json.loads((tmp_path / "error" / "manifest.json").read_text())["totals"]["by_status"] == {"error": 1}


def test_an_interrupted_run_exits_130(store: Path, tmp_path: Path) -> None:
    """SIGINT while the model call is in flight: "Aborted." and exit 130, no traceback."""
    with ScriptedOpenAI(default="sleep:30") as server:
        process = subprocess.Popen([str(LIFECYCLE), *plan_args(store, tmp_path / "int", "--model", "scripted", "--max-retries", "0")],
                                   env={**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not server.requests:
            time.sleep(0.05)
        assert server.requests, "the model was never called"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
