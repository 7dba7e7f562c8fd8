"""Streamable-HTTP sessions hold no state after their clients are gone (server/http.py): a session the client ends
(DELETE on close) is forgotten at once, one whose client vanished without ending it is reaped after the idle period,
and clients past the session cap are refused rather than admitted without bound.

Sessions exist in the 2025 protocol revisions (``mode="legacy"``: the initialize handshake); a client speaking the
2026 revision (the SDK client's default) makes independent requests and opens none. The real server (``build_server``
over the tiny dataset) is served by uvicorn on a loopback port in a thread of this
process, so the test can count the sessions it holds; clients are the real ``mcp`` streamable-HTTP client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer

from server.app import build_server
from server.http import open_sessions
from tests.server.helpers import http_in_thread

pytestmark = pytest.mark.anyio


@dataclass
class InProcessServer:
    server: MCPServer
    url: str


def _serve(tiny_db: Path, **settings: float) -> Iterator[InProcessServer]:
    server = build_server(tiny_db)
    with http_in_thread(server, **settings) as url:
        yield InProcessServer(server, url)


@pytest.fixture
def http_server(tiny_db: Path) -> Iterator[InProcessServer]:
    """The default session settings, but at most 6 sessions open at once."""
    yield from _serve(tiny_db, max_sessions=6)


@pytest.fixture
def reaping_server(tiny_db: Path) -> Iterator[InProcessServer]:
    """Sessions idle for 0.5 s are reaped."""
    yield from _serve(tiny_db, session_idle_s=0.5)


async def _describe(url: str, *, terminate_on_close: bool = True, mode: str = "legacy") -> str:
    async with Client(streamable_http_client(url, terminate_on_close=terminate_on_close), mode=mode) as client:
        result = await client.call_tool("describe_dataset", {})
        assert result.is_error is False
        return "done"


async def _wait_for_sessions(server: MCPServer, count: int) -> None:
    """Until ``server`` holds ``count`` sessions (a session ends on the server's own tasks, a moment after its client)."""
    with anyio.fail_after(60):
        while open_sessions(server) != count:
            await anyio.sleep(0.05)


async def _wait_for_no_sessions(server: MCPServer) -> None:
    await _wait_for_sessions(server, 0)


async def test_sessions_ended_by_their_clients_leave_no_session_behind(http_server: InProcessServer) -> None:
    """Ten clients in turn, then five at once, each ending its session on close: none remains open."""
    async with Client(streamable_http_client(http_server.url), mode="legacy") as client:
        await client.call_tool("describe_dataset", {})
        assert open_sessions(http_server.server) == 1  # a live client has its session
    await _wait_for_no_sessions(http_server.server)
    for _ in range(10):
        await _describe(http_server.url)
        await _wait_for_no_sessions(http_server.server)
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(_describe, http_server.url)
    await _wait_for_no_sessions(http_server.server)


async def test_a_session_whose_client_vanished_is_reaped_after_the_idle_period(reaping_server: InProcessServer) -> None:
    """Four clients open a session and leave without ending it: the server holds them, then none once they have been
    idle for the idle period (the clients make no call: a session idle between its requests would be reaped too)."""
    for _ in range(4):
        async with Client(streamable_http_client(reaping_server.url, terminate_on_close=False), mode="legacy"):
            pass
    assert open_sessions(reaping_server.server) >= 1  # some may already have been reaped on a slow machine
    await _wait_for_no_sessions(reaping_server.server)


async def test_a_client_of_the_2026_revision_opens_no_session(http_server: InProcessServer) -> None:
    async with Client(streamable_http_client(http_server.url), mode="2026-07-28") as client:
        await client.call_tool("describe_dataset", {})
        assert open_sessions(http_server.server) == 0


async def test_clients_past_the_session_cap_are_refused_until_a_session_ends(tiny_db: Path) -> None:
    """A cap of two sessions and no reaping in sight (idle period one hour): a third initialize answers 503; once one
    client ends its session, a new client is admitted."""
    for running in _serve(tiny_db, session_idle_s=3600, max_sessions=2):
        for _ in range(2):
            await _describe(running.url, terminate_on_close=False)
        await _wait_for_sessions(running.server, 2)
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
        async with httpx.AsyncClient() as http:
            answer = await http.post(running.url, json=initialize,
                                     headers={"accept": "application/json, text/event-stream"})
            assert answer.status_code == 503
            session = next(iter(running.server.session_manager._server_instances))
            ended = await http.delete(running.url, headers={"mcp-session-id": session})
            assert ended.status_code < 300
        await _wait_for_sessions(running.server, 1)
        with anyio.fail_after(120):
            assert await _describe(running.url) == "done"
