"""Warming an as_of as a whole during a burst (server/ahead.py): while other calls are busy at the gate, a call naming a
cold as_of — a call of one of the warm-up's tools, or any call while another is in flight on the same as_of — starts
one warm-up of it (stage_distribution, score_health, list_at_risk and lifecycle_facts on that as_of, through the
server) and waits for it before computing; a lone client's call starts none, nor a cheap call on an as_of no other call
names, nor one on data the gate does not know to be small. Answers are those a lone client gets from a cold server.

The burst is made of calls that hold the gate until the test releases them (tests/server/helpers.py ``Hold``), so what
is asserted is an order of events, never a duration. Clients are the real MCP client, over streamable HTTP on
loopback (the product's HTTP app, ``http_in_thread``) or in process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from lifecycle.sources import SqliteSource
from server.ahead import WARM_TOOLS
from server.app import LifecycleServer, build_server
from tests.server.helpers import Hold, http_in_thread
from tools.base import ToolContext
from tools.runtime import run_tool
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

AS_OF = "2024-04-30"
"""The tiny dataset's last day (tests/server/conftest.py)."""

ASKED: list[tuple[str, dict[str, Any]]] = [("stage_distribution", {"as_of": AS_OF}), ("lifecycle_facts", {"as_of": AS_OF, "section": "overview"}),
         ("score_health", {"as_of": AS_OF, "filters": {"plan": ["none"]}}), ("predict_clv", {"as_of": AS_OF})]


def answer(result: CallToolResult) -> tuple[Any, ...]:
    return result.is_error, [getattr(b, "text", None) for b in result.content], result.structured_content


async def lone_answers(db: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The answers of one client alone on a cold server (its own memo and cache directory)."""
    clear_memo()
    with monkeypatch.context() as patch:
        patch.setenv("LIFECYCLE_DATA_DIR", str(data_dir))
        server = build_server(db)
        async with Client(server) as client:
            answers = [answer(await client.call_tool(name, arguments)) for name, arguments in ASKED]
        assert server.ahead is not None and server.ahead.done == []  # alone: no warm-up
    clear_memo()
    return answers


def with_holds(server: LifecycleServer, db: Path) -> Hold:
    """Add a ``hold`` tool to ``server``: each call computes, through the server's gate, until the hold is released."""
    hold = Hold()
    assert server.gate is not None
    ctx = ToolContext(SqliteSource(db, time_limit_s=None), gate=server.gate)

    async def hold_tool(as_of: str | None = None) -> CallToolResult:
        return await run_tool(ctx, None, lambda work: CallToolResult(content=[TextContent(type="text", text=hold.work(work))]))

    server.add_tool(hold_tool, name="hold")
    return hold


async def wait_busy(server: LifecycleServer, calls: int) -> None:
    assert server.gate is not None
    while server.gate.busy < calls:
        await anyio.sleep(0.01)


async def test_during_a_burst_a_cold_as_of_is_warmed_once_and_answers_do_not_change(
        tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two held calls make a burst. Over HTTP, a client asks four tools on a cold as_of: the first call starts the
    warm-up of that as_of — the four warm-up tools, in order, once — and every answer equals a lone client's on a cold
    server. Without the warm-up ``done`` would stay empty; with a warm-up per call it would list the tools again."""
    lone = await lone_answers(tiny_db, tmp_path / "lone", monkeypatch)
    server = build_server(tiny_db)
    assert server.gate is not None and server.ahead is not None
    server.gate.size_up(3)  # as priming does on start: three customers, small data
    hold = with_holds(server, tiny_db)
    answers: list[tuple[Any, ...]] = []
    with http_in_thread(server) as url, anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            async def held() -> None:
                async with Client(streamable_http_client(url)) as client:
                    await client.call_tool("hold", {})

            group.start_soon(held)
            group.start_soon(held)
            await wait_busy(server, 2)
            async with Client(streamable_http_client(url)) as client:
                for name, arguments in ASKED:
                    answers.append(answer(await client.call_tool(name, arguments)))
            hold.release()
    assert server.ahead.done == [f"{name}@{AS_OF}" for name in WARM_TOOLS]
    assert answers == lone


async def test_a_lone_client_starts_no_warm_up(tiny_db: Path) -> None:
    server = build_server(tiny_db)
    assert server.gate is not None and server.ahead is not None
    server.gate.size_up(3)
    async with Client(server) as client:
        await client.call_tool("predict_clv", {"as_of": AS_OF})
        await client.call_tool("lifecycle_facts", {"as_of": AS_OF})
    assert server.ahead.done == []


async def burst_call(server: LifecycleServer, hold: Hold, name: str, arguments: dict[str, Any],
                     held_on: str | None = None) -> None:
    """``name(arguments)`` while two held calls (on ``held_on``: their as_of argument) keep the gate busy, then the
    holds end."""
    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            async def held() -> None:
                async with Client(server) as client:
                    await client.call_tool("hold", {} if held_on is None else {"as_of": held_on})

            group.start_soon(held)
            group.start_soon(held)
            await wait_busy(server, 2)
            async with Client(server) as client:
                await client.call_tool(name, arguments)
            hold.release()
    hold.released.clear()


async def test_data_not_known_to_be_small_is_never_warmed(tiny_db: Path) -> None:
    """Without ``size_up`` (a stdio server does not count the customers) the gate does not know the data is small:
    a burst's call computes only what it asks for."""
    server = build_server(tiny_db)
    assert server.ahead is not None
    await burst_call(server, with_holds(server, tiny_db), "stage_distribution", {"as_of": AS_OF})
    assert server.ahead.done == []


async def test_a_cheap_call_warms_an_as_of_only_when_another_call_is_on_it(tiny_db: Path) -> None:
    """``predict_clv`` (not a warm-up tool) during a burst of calls on other days warms nothing — many clients each on
    an as_of of their own would otherwise each pay for a whole warm-up; during a burst of calls on its own as_of it
    warms that as_of."""
    server = build_server(tiny_db)
    assert server.gate is not None and server.ahead is not None
    server.gate.size_up(3)
    hold = with_holds(server, tiny_db)
    await burst_call(server, hold, "predict_clv", {"as_of": AS_OF}, held_on="2024-03-31")
    assert server.ahead.done == []
    await burst_call(server, hold, "predict_clv", {"as_of": AS_OF}, held_on=AS_OF)
    assert server.ahead.done == [f"{name}@{AS_OF}" for name in WARM_TOOLS]


async def test_an_as_of_is_warmed_again_after_the_idle_release_and_describe_dataset_never_waits(tiny_db: Path) -> None:
    """Once warm, an as_of is not warmed again by a later burst — until the server released its memoised tables while
    idle (``forget_warm_kinds``). ``describe_dataset`` during a burst on its as_of starts no warm-up."""
    server = build_server(tiny_db)
    assert server.gate is not None and server.ahead is not None
    server.gate.size_up(3)
    hold = with_holds(server, tiny_db)
    await burst_call(server, hold, "describe_dataset", {"as_of": AS_OF}, held_on=AS_OF)
    assert server.ahead.done == []
    await burst_call(server, hold, "score_health", {"as_of": AS_OF})
    once = [f"{name}@{AS_OF}" for name in WARM_TOOLS]
    assert server.ahead.done == once
    await burst_call(server, hold, "lifecycle_facts", {"as_of": AS_OF})
    assert server.ahead.done == once
    server.gate.forget_warm_kinds()
    await burst_call(server, hold, "lifecycle_facts", {"as_of": AS_OF})
    assert server.ahead.done == once + once


async def test_warm_ups_started_together_release_their_calls_together(
        tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """During a burst two clients ask about two cold as_of days at once: two warm-ups start together (one batch). The
    second day's warm-up is held by the test; the first day's ends, and its waiting call still does not answer — not
    while another client's later call on that (now warm) day answers, nor for two seconds after; once the second
    day's warm-up ends, both waiting calls answer. Released as its own day got warm, the first call would have
    answered within milliseconds (tiny data, warm tables)."""
    server = build_server(tiny_db)
    assert server.gate is not None and server.ahead is not None
    server.gate.size_up(3)
    hold = with_holds(server, tiny_db)
    ahead = server.ahead
    other = "2024-03-31"
    other_may_warm = anyio.Event()
    warm_up_call = ahead._call

    async def held_for_other_day(name: str, arguments: dict[str, Any]) -> Any:
        if arguments.get("as_of") == other:
            await other_may_warm.wait()
        return await warm_up_call(name, arguments)

    monkeypatch.setattr(ahead, "_call", held_for_other_day)
    answered: list[str] = []

    async def ask(day: str) -> None:
        async with Client(server) as client:
            result = await client.call_tool("stage_distribution", {"as_of": day})
        assert result.is_error is False
        answered.append(day)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            async def held() -> None:
                async with Client(server) as client:
                    await client.call_tool("hold", {})

            group.start_soon(held)
            group.start_soon(held)
            await wait_busy(server, 2)
            group.start_soon(ask, AS_OF)
            group.start_soon(ask, other)
            while f"{WARM_TOOLS[-1]}@{AS_OF}" not in ahead.done:  # the first day's warm-up is over
                await anyio.sleep(0.01)
            async with Client(server) as client:  # a call that did not wait goes on: its day is warm
                assert (await client.call_tool("list_at_risk", {"as_of": AS_OF})).is_error is False
            with anyio.move_on_after(2):
                while not answered:
                    await anyio.sleep(0.01)
            assert answered == []
            other_may_warm.set()
            while len(answered) < 2:
                await anyio.sleep(0.01)
            hold.release()
    assert sorted(answered) == sorted([AS_OF, other])
    assert sorted(ahead.done) == sorted(f"{name}@{day}" for day in (AS_OF, other) for name in WARM_TOOLS)
