"""Short calls do not queue behind long ones (tools/gate.py): once every slot is held by a call computing for longer
than ``LONG_CALL_S``, one more call may start (the short lane) — never more; and a call waiting for a result another
call is computing lends its slot meanwhile (the memo's one computation per key), taking it back before queued calls.

The long calls here are work functions that run until the test lets them finish (``Hold``), so what is asserted is
an order of events, not a duration: a short call answers while the long ones are still held. Without the rule under
test the short call would wait for them, and the test's deadline would fail it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from lifecycle.config import ServeLimits
from lifecycle.memo import MEMO
from lifecycle.sources import SqliteSource
from server.app import build_server
from tests.server.helpers import Hold, http_in_thread, quick
from tools.base import ToolContext
from tools.gate import CallGate
from tools.runtime import Work, run_gated, run_tool

pytestmark = pytest.mark.anyio


def context(tiny_db: Path, slots: int) -> ToolContext:
    return ToolContext(SqliteSource(tiny_db, time_limit_s=None), gate=CallGate(ServeLimits(max_concurrent_calls=slots)))


@pytest.fixture
def held_server(tiny_db: Path) -> Iterator[tuple[str, Hold]]:
    """The real server over the tiny dataset with one slot, plus a ``hold`` tool (a ``Hold``, through the same
    ``run_tool`` as every tool), served by uvicorn on a loopback port in a thread of this process."""
    server = build_server(tiny_db, limits=ServeLimits(max_concurrent_calls=1))
    assert server.gate is not None
    ctx = ToolContext(SqliteSource(tiny_db, time_limit_s=None), gate=server.gate)
    hold = Hold()

    async def hold_tool() -> CallToolResult:
        return await run_tool(ctx, None, lambda work: CallToolResult(content=[TextContent(type="text", text=hold.work(work))]))

    server.add_tool(hold_tool, name="hold")
    try:
        with http_in_thread(server) as url:
            yield url, hold
    finally:
        hold.release()


async def test_over_http_a_short_call_answers_while_a_long_one_holds_the_only_slot(
        held_server: tuple[str, Hold]) -> None:
    """One slot, a client's ``hold`` call computing until released: another client's ``describe_dataset`` answers
    before the hold is released (the short lane), then the hold answers too."""
    url, hold = held_server
    answers: list[str] = []

    async def long_client() -> None:
        async with Client(streamable_http_client(url)) as client:
            result = await client.call_tool("hold", {})
            answers.append(" ".join(b.text for b in result.content if isinstance(b, TextContent)))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(long_client)
            while not hold.running.is_set():
                await anyio.sleep(0.01)
            async with Client(streamable_http_client(url)) as client:
                described = await client.call_tool("describe_dataset", {})
            assert described.is_error is False
            assert answers == []  # the long call is still computing
            hold.release()
    assert answers == ["held"]


async def test_the_short_lane_admits_one_call_beyond_the_slots_never_more(tiny_db: Path) -> None:
    """One slot and three long calls: the first holds the slot, the second starts in the short lane once the first
    is long, the third waits until one of them ends — never three at once."""
    ctx = context(tiny_db, slots=1)
    holds = [Hold() for _ in range(3)]
    answers: list[str] = []

    async def one(hold: Hold) -> None:
        answers.append(await run_gated(ctx, hold.work))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for hold in holds:
                group.start_soon(one, hold)
            while sum(h.running.is_set() for h in holds) < 2:
                await anyio.sleep(0.01)
            await anyio.sleep(1.2)  # more than LONG_CALL_S: the two running calls are long, yet no third starts
            assert sum(h.running.is_set() for h in holds) == 2
            started = [h for h in holds if h.running.is_set()]
            started[0].release()
            waiting = next(h for h in holds if not h.running.is_set())
            while not waiting.running.is_set():
                await anyio.sleep(0.01)
            for hold in holds:
                hold.release()
    assert answers == ["held"] * 3


async def test_a_call_waiting_for_a_result_another_call_computes_lends_its_slot(tiny_db: Path) -> None:
    """One slot. Call A computes a memo key until released; call B asks for the same key (and waits); call C is
    short. C answers while A still computes — B lent its slot (without lending, A and B would hold the slot and the
    short lane and C would wait). Then A and B both answer with the one computed value."""
    ctx = context(tiny_db, slots=1)
    key = ("test-lending", id(ctx))
    hold = Hold()
    computed: list[int] = []
    asking: list[threading.Event] = [threading.Event(), threading.Event()]

    def compute_key(work: Work) -> str:
        def compute() -> str:
            computed.append(1)
            return hold.work(work)
        asking[len(computed) and 1].set()  # A asks first (and computes), then B (and waits)
        return str(MEMO.remember(key, compute))

    answers: dict[str, str] = {}

    async def call(name: str, work_fn: object) -> None:
        answers[name] = await run_gated(ctx, work_fn)  # type: ignore[arg-type]

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(call, "A", compute_key)
            while not hold.running.is_set():
                await anyio.sleep(0.01)
            group.start_soon(call, "B", compute_key)
            while not asking[1].is_set():  # B holds a slot (the short lane, once A is long) and asks for the key
                await anyio.sleep(0.01)
            await call("C", quick)
            assert "A" not in answers and "B" not in answers
            hold.release()
    assert answers == {"A": "held", "B": "held", "C": "quick"}
    assert computed == [1]
