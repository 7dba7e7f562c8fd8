"""`lifecycle serve` over stdio as a subprocess: the real client works, and stdout carries JSON-RPC only."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from server.app import TOOL_MODULES
from tests.server.helpers import TINY_ROWS, serve_args, server_env
from tests.server.transport_session import check, exercise
from tools.describe_dataset import DescribeDatasetResult

pytestmark = pytest.mark.anyio

TIMEOUT_S = 60


def _params(db: Path, data_dir: Path, *extra: str) -> StdioServerParameters:
    command, *args = serve_args("--db", str(db), *extra)
    return StdioServerParameters(command=command, args=args, env={"LIFECYCLE_DATA_DIR": str(data_dir)})


async def test_stdio_server_lists_and_runs_describe_dataset(tiny_db: Path, isolated_data_dir: Path) -> None:
    with anyio.fail_after(TIMEOUT_S):
        async with Client(_params(tiny_db, isolated_data_dir)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            result = await client.call_tool("describe_dataset", {})
    assert tools["describe_dataset"].annotations is not None and tools["describe_dataset"].annotations.read_only_hint
    assert tools["describe_dataset"].output_schema is not None
    assert result.is_error is False
    data = DescribeDatasetResult.model_validate(result.structured_content)
    assert {t.name: t.rows for t in data.tables} == TINY_ROWS
    assert (str(data.first_date), str(data.last_date)) == ("2024-01-05", "2024-04-30")


async def test_stdio_session_covers_tools_prompts_and_resources(tiny_db: Path, isolated_data_dir: Path) -> None:
    with anyio.fail_after(TIMEOUT_S * 2):
        async with Client(_params(tiny_db, isolated_data_dir)) as client:
            outcome = await exercise(client)
    check(outcome)


async def test_stdio_server_with_a_missing_dataset_answers_with_an_error_result(tmp_path: Path, isolated_data_dir: Path) -> None:
    missing = tmp_path / "hidden" / "nothing.db"
    with anyio.fail_after(TIMEOUT_S):
        async with Client(_params(missing, isolated_data_dir)) as client:
            result = await client.call_tool("describe_dataset", {})
    assert result.is_error is True
    text = " ".join(block.text for block in result.content)  # type: ignore[union-attr]
    assert "lifecycle demo" in text and str(missing.parent) not in text


def _jsonrpc(*messages: dict) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def _response_id(line: str) -> object:
    try:
        return json.loads(line).get("id")
    except (ValueError, AttributeError):
        return None


@pytest.mark.parametrize("dataset", ["present", "missing"])
def test_every_line_on_stdout_is_a_json_rpc_message(tiny_db: Path, tmp_path: Path, isolated_data_dir: Path, dataset: str) -> None:
    """A raw session (initialize, initialized, tools/list, tools/call) at DEBUG logging; the missing-dataset
    run also prints a startup warning. All of that must reach stderr, never stdout."""
    db = tiny_db if dataset == "present" else tmp_path / "missing.db"
    session = _jsonrpc(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "describe_dataset", "arguments": {}}},
    )
    stderr_log = tmp_path / "stderr.log"
    with stderr_log.open("w") as stderr:
        process = subprocess.Popen(serve_args("--db", str(db), "--log-level", "DEBUG"), stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True, env=server_env(isolated_data_dir))
        watchdog = threading.Timer(TIMEOUT_S, process.kill)
        watchdog.start()
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(session)
            process.stdin.flush()
            lines = []
            while not any(_response_id(line) == 3 for line in lines):
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line)
            process.stdin.close()  # EOF: the server shuts down
            lines += process.stdout.readlines()
            process.wait()
        finally:
            watchdog.cancel()
    lines = [line for line in lines if line.strip()]
    messages = [json.loads(line) for line in lines]  # fails on any non-JSON line
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    responses = {m["id"]: m for m in messages if "id" in m}
    assert set(responses) == {1, 2, 3}
    assert responses[1]["result"]["serverInfo"]["name"] == "lifecycle-mcp"
    assert [t["name"] for t in responses[2]["result"]["tools"]] == [m.NAME for m in TOOL_MODULES]
    assert responses[3]["result"]["isError"] is (dataset == "missing")
    assert stderr_log.read_text().strip(), "expected the DEBUG logging (and warnings) on stderr"


FIRST_CALLS: tuple[tuple[str, dict], ...] = (
    ("compute_metrics", {"metrics": ["mrr"]}), ("stage_distribution", {}), ("score_health", {}),
    ("list_at_risk", {"limit": 5}), ("predict_clv", {"limit": 5}), ("cohort_retention", {}),
    ("revenue_movements", {}), ("lifecycle_facts", {"section": "overview"}),
    ("compare_segments", {"dimension": "plan", "metrics": ["mrr"]}), ("describe_dataset", {}),
)


async def test_concurrent_first_calls_on_a_fresh_stdio_server_all_compute(tiny_db: Path, isolated_data_dir: Path) -> None:
    """Ten tool calls sent at once as a fresh stdio server's first calls (a client may send calls concurrently): none
    fails unexpectedly. The server starts without the tools' code, so its worker threads import pandas concurrently;
    reading the partly imported module once failed them ("Error executing tool ...", on the demo in about one start in
    three under load — the deterministic pin is tests/lifecycle/test_memo.py). An answer may still be an error the
    tool means (data too small for a model), never an unexpected one."""
    answers: dict[str, str] = {}

    async def call(client: Client, name: str, arguments: dict) -> None:
        result = await client.call_tool(name, arguments)
        answers[name] = " ".join(getattr(block, "text", "") for block in result.content)

    with anyio.fail_after(TIMEOUT_S * 2):
        async with Client(_params(tiny_db, isolated_data_dir)) as client:
            async with anyio.create_task_group() as group:
                for name, arguments in FIRST_CALLS:
                    group.start_soon(call, client, name, arguments)
    assert set(answers) == {name for name, _ in FIRST_CALLS}
    unexpected = {name: text for name, text in answers.items() if "Error executing tool" in text}
    assert not unexpected, unexpected
