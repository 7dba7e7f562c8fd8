"""The HTTP server's background warm-up (server/warm.py): it calls every argument-free tool once, in listing order,
through the server's own tools — so a client's later call finds the caches filled and gets the very answer it would
have computed — and it starts no step while a client's call is computing or waiting.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from lifecycle.sources import SqliteSource
from server.app import build_server
from server.warm import WarmUp
from tools.base import ToolContext
from tools.runtime import Work, run_gated
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

ARGUMENT_FREE = ["describe_dataset", "stage_distribution", "score_health", "list_at_risk", "predict_clv",
                 "cohort_retention", "revenue_movements", "lifecycle_facts"]
"""The tools whose input schema requires nothing, in the server's listing order (server.app.TOOL_MODULES; the others
need metrics, a customer, a dimension or a draft)."""


async def _answers(server: Any) -> dict[str, Any]:
    async with Client(server) as client:
        results = {name: await client.call_tool(name, {}) for name in ARGUMENT_FREE}
    return {name: (r.is_error, [getattr(b, "text", None) for b in r.content], r.structured_content)
            for name, r in results.items()}


async def test_the_warm_up_calls_each_argument_free_tool_and_answers_do_not_change(tiny_db: Path) -> None:
    clear_memo()
    cold = await _answers(build_server(tiny_db))
    clear_memo()
    server = build_server(tiny_db)
    assert server.gate is not None
    warm = WarmUp(server, server.gate)
    await anyio.to_thread.run_sync(warm.run)  # on a thread of its own, as the server runs it
    assert warm.done == ARGUMENT_FREE
    assert await _answers(server) == cold


async def test_no_warm_up_step_starts_while_a_client_call_is_busy(tiny_db: Path) -> None:
    """A client's call holds the gate (it computes until the test releases it): the warm-up waits without starting
    any step, and once the call has ended it does them all."""
    server = build_server(tiny_db)
    assert server.gate is not None
    ctx = ToolContext(SqliteSource(tiny_db), gate=server.gate)
    released = threading.Event()

    def client_call(work: Work) -> None:
        while not released.wait(0.01):
            work.step()

    warm = WarmUp(server, server.gate)
    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            group.start_soon(run_gated, ctx, client_call)
            while not server.gate.busy:
                await anyio.sleep(0.01)
            warm.start()
            while not warm.paused.is_set():
                await anyio.sleep(0.01)
            assert warm.done == []
            released.set()
        await anyio.to_thread.run_sync(warm.join)
    assert warm.done == ARGUMENT_FREE


async def test_a_stopped_warm_up_starts_no_step(tiny_db: Path) -> None:
    server = build_server(tiny_db)
    assert server.gate is not None
    warm = WarmUp(server, server.gate)
    warm.stop()
    await anyio.to_thread.run_sync(warm.run)  # on a thread of its own, as the server runs it
    assert warm.done == []
