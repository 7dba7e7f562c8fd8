"""More slots on small data (tools/gate.py ``CallGate.size_up``): once the server has counted the customers as it starts
listening (server/prime.py) and found them few, each lane of the gate holds
``SMALL_DATA_SLOTS_FACTOR`` times the automatic slots — unless the concurrency was set explicitly; large data keeps
the automatic slots.

The calls are work functions that run until the test lets them go (as in test_short_lane.py), so what is asserted is
how many compute at once, not a duration: without the wider lanes the later calls would wait for the first ones and
the test's deadline would fail it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

from lifecycle.config import ServeLimits
from lifecycle.sources import SqliteSource
from server.app import build_server
from server.prime import prime
from tools.base import ToolContext
from tools.gate import LONG_CALL_S, SHORT_LANE, SMALL_DATA_CUSTOMERS, SMALL_DATA_SLOTS_FACTOR, CallGate
from tools.runtime import Work, run_tool

pytestmark = pytest.mark.anyio


class Holds:
    """Calls that step until released, counting how many are computing at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.released = threading.Event()
        self._lock = threading.Lock()

    def work(self, work: Work) -> str:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            while not self.released.wait(0.01):
                work.step()
            return "held"
        finally:
            with self._lock:
                self.running -= 1


async def test_once_priming_finds_the_data_small_the_queued_calls_start(tiny_db: Path) -> None:
    """The real server over the tiny dataset with the automatic concurrency: more calls than the slots, each a tool
    on an as_of never answered (so every one is cold), over the MCP client. Before the server knows the data's size
    only the slots and the short lane compute; once priming has counted the tiny dataset's customers, the queued
    calls start at once — as many as the widened lane holds compute at the same time (without the wider lanes, or
    without waking the queue, the deadline would fail the test)."""
    server = build_server(tiny_db)
    assert server.gate is not None and server.context is not None
    narrow = server.gate.slots
    slots = server.gate.limits.concurrency * SMALL_DATA_SLOTS_FACTOR
    ctx = ToolContext(SqliteSource(tiny_db, time_limit_s=None), gate=server.gate)
    holds = Holds()

    async def hold_tool(as_of: str) -> CallToolResult:
        return await run_tool(ctx, None, lambda work: CallToolResult(content=[TextContent(type="text", text=holds.work(work))]))

    server.add_tool(hold_tool, name="hold")
    answers: list[bool] = []

    async def one(day: int) -> None:
        async with Client(server) as client:
            result = await client.call_tool("hold", {"as_of": f"2024-04-{day:02d}"})
            answers.append(result.is_error is False)

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for day in range(1, slots + 1):
                    group.start_soon(one, day)
                while holds.most < narrow + SHORT_LANE:
                    await anyio.sleep(0.01)
                await anyio.sleep(3 * LONG_CALL_S)  # the running calls are long: the short lane is taken, no more start
                assert holds.most == narrow + SHORT_LANE
                await anyio.to_thread.run_sync(prime, server.context.source, server.context.config, server.gate)
                assert server.gate.slots == slots
                while holds.most < slots:
                    await anyio.sleep(0.01)
                holds.released.set()
    finally:
        holds.released.set()
    assert answers == [True] * slots


def test_large_data_or_a_set_concurrency_keeps_the_slots() -> None:
    """More customers than the small-data bound keep the automatic slots; ``max_concurrent_calls`` set is exactly
    the slots whatever the data; few customers widen only the automatic choice."""
    automatic = CallGate(ServeLimits())
    automatic.size_up(SMALL_DATA_CUSTOMERS + 1)
    assert automatic.slots == automatic.limits.concurrency
    automatic.size_up(SMALL_DATA_CUSTOMERS)
    assert automatic.slots == automatic.limits.concurrency * SMALL_DATA_SLOTS_FACTOR
    fixed = CallGate(ServeLimits(max_concurrent_calls=3))
    fixed.size_up(1)
    assert fixed.slots == 3
