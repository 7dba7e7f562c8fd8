"""`lifecycle serve --http` under its call limits, through the real streamable-HTTP client on 127.0.0.1:
``--time-limit`` (or ``[serve] time_limit_s`` in ``--config``) turns a call that computes too long into an MCP error
result naming the limit, and with one slot (``--max-concurrent-calls 1``) concurrent clients queue and all answer.

A limit of 1 ms is shorter than any ``compute_metrics`` call on the tiny dataset (three metrics, a step after each),
so the call must end on the limit whatever the machine's speed.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.types import TextContent

from tests.server.helpers import start_http_server, stop

pytestmark = pytest.mark.anyio

TIMEOUT_S = 120
THREE_METRICS = {"metrics": ["mrr", "arr", "nrr"]}


async def _call(url: str, tool: str, arguments: dict[str, object]) -> tuple[bool, str]:
    with anyio.fail_after(TIMEOUT_S):
        async with Client(url) as client:
            result = await client.call_tool(tool, arguments)
    return bool(result.is_error), " ".join(b.text for b in result.content if isinstance(b, TextContent))


async def test_a_call_past_the_time_limit_is_an_mcp_error_naming_the_limit(tiny_db: Path, tmp_path: Path) -> None:
    server = start_http_server(tiny_db, tmp_path, "--time-limit", "0.001")
    try:
        is_error, text = await _call(server.url, "compute_metrics", THREE_METRICS)
        assert is_error, text
        assert "time limit of 0.001 s per call" in text and "lifecycle serve --time-limit" in text
        assert server.process.poll() is None  # the server keeps serving
    finally:
        stop(server)


async def test_the_config_file_sets_the_time_limit_and_the_command_line_overrides_it(tiny_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "lifecycle.toml"
    config.write_text("[serve]\ntime_limit_s = 0.001\n", encoding="utf-8")
    limited = start_http_server(tiny_db, tmp_path, "--config", str(config))
    try:
        is_error, text = await _call(limited.url, "compute_metrics", THREE_METRICS)
    finally:
        stop(limited)
    assert is_error and "time limit of 0.001 s per call" in text, text
    overridden = start_http_server(tiny_db, tmp_path, "--config", str(config), "--time-limit", "600")
    try:
        is_error, text = await _call(overridden.url, "compute_metrics", THREE_METRICS)
    finally:
        stop(overridden)
    assert not is_error, text


async def test_with_one_slot_concurrent_clients_queue_and_every_call_answers(tiny_db: Path, tmp_path: Path) -> None:
    """Eight clients at once, each with a tool call, a prompt and a customer resource, through one slot."""
    server = start_http_server(tiny_db, tmp_path, "--max-concurrent-calls", "1", "--time-limit", "600")
    outcomes: list[tuple[bool, str]] = []

    async def client_session(i: int) -> None:
        async with Client(server.url) as client:
            tool = ("compute_metrics", THREE_METRICS) if i % 2 else ("stage_distribution", {"drivers": False})
            result = await client.call_tool(*tool)
            outcomes.append((bool(result.is_error), tool[0]))
            prompt = await client.get_prompt("executive_summary", {})
            outcomes.append((not prompt.messages, "executive_summary"))
            resource = await client.read_resource("customer://C1")
            outcomes.append((not resource.contents, "customer://C1"))

    try:
        with anyio.fail_after(TIMEOUT_S * 2):
            async with anyio.create_task_group() as group:
                for i in range(8):
                    group.start_soon(client_session, i)
    finally:
        stop(server)
    assert len(outcomes) == 24
    assert [name for failed, name in outcomes if failed] == []


def test_a_negative_time_limit_is_a_usage_error(tiny_db: Path, tmp_path: Path) -> None:
    import subprocess

    from tests.server.helpers import serve_args, server_env

    done = subprocess.run(serve_args("--db", str(tiny_db), "--http", "--port", "0", "--time-limit", "-1"),
                          capture_output=True, text=True, timeout=TIMEOUT_S, env=server_env(tmp_path), stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "--time-limit" in done.stderr and "Traceback" not in done.stderr
