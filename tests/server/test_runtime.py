"""How tool calls run (tools/runtime.py): progress notifications reach the client, cancellation stops the work."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from lifecycle.errors import QueryError
from lifecycle.sources import SqliteSource
from server.app import build_server
from tools.base import ToolContext
from tools.runtime import CallCancelled, Work

pytestmark = pytest.mark.anyio


async def test_a_long_call_reports_progress_to_a_client_that_asked(tiny_db: Path) -> None:
    """compute_metrics reports one step per metric and a final one: 0/3, 1/3, 2/3, 3/3 for three metrics."""
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(build_server(tiny_db)) as client:
        result = await client.call_tool("compute_metrics", {"metrics": ["mrr", "arr", "nrr"]}, progress_callback=on_progress)
    assert result.is_error is False
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


async def test_progress_steps_do_not_wait_for_the_event_loop(tiny_db: Path) -> None:
    """A work function reports three steps while the event loop is blocked (the loop thread waits, synchronously, for
    the work to say it has reported them): the steps are queued, not handed over one round trip at a time, so the
    work gets past them; once the loop runs again the client's context receives 0/3, 1/3, 2/3, in order, before the
    call answers. With a round trip per step the work would stop at its first step until the loop's wait gave up."""
    import threading

    from mcp.types import CallToolResult, TextContent

    from lifecycle.config import ServeLimits
    from tools.gate import CallGate
    from tools.runtime import run_tool

    seen: list[tuple[float, float | None]] = []

    class RequestContext:  # what run_tool uses of the MCP request context: its progress reporting
        async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
            seen.append((progress, total))

    started, go, reported = threading.Event(), threading.Event(), threading.Event()

    def work_fn(work: Work) -> CallToolResult:
        started.set()
        go.wait(30)
        for done in range(3):
            work.step(done, 3, f"step {done}")
        reported.set()
        return CallToolResult(content=[TextContent(type="text", text="done")])

    ctx = ToolContext(SqliteSource(tiny_db, time_limit_s=None), gate=CallGate(ServeLimits(max_concurrent_calls=1)))
    answers: list[CallToolResult] = []

    async def call() -> None:
        answers.append(await run_tool(ctx, RequestContext(), work_fn))

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        while not started.is_set():
            await anyio.sleep(0.01)
        go.set()
        reported_while_loop_blocked = reported.wait(10)  # blocks the event loop's thread on purpose
    assert reported_while_loop_blocked
    assert seen == [(0, 3), (1, 3), (2, 3)]
    assert [b.text for b in answers[0].content if isinstance(b, TextContent)] == ["done"]


async def test_cancelling_stops_the_work_at_its_next_step(tiny_db: Path) -> None:
    work = Work(ToolContext(SqliteSource(tiny_db)))
    work.step()
    work.cancel()
    with pytest.raises(CallCancelled):
        work.step(1, 2, "next")


def test_cancelling_interrupts_a_running_query_of_the_call(tiny_db: Path) -> None:
    """A query running on a dataset the call opened stops (a QueryError) as soon as the call is cancelled."""
    import threading
    import time
    from datetime import date

    work = Work(ToolContext(SqliteSource(tiny_db, time_limit_s=None)))  # no time limit: only the cancellation stops it
    dataset = work.dataset(date(2024, 4, 30))
    outcome: list[BaseException | None] = []

    def long_query() -> None:
        try:
            dataset.connection.query("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 2000000000) "
                                     "SELECT count(*) FROM r")
            outcome.append(None)
        except QueryError as exc:
            outcome.append(exc)

    runner = threading.Thread(target=long_query, daemon=True)
    runner.start()
    time.sleep(0.3)
    started = time.monotonic()
    work.cancel()
    runner.join(10)
    assert outcome and isinstance(outcome[0], QueryError)
    assert time.monotonic() - started < 5
    work.close()
