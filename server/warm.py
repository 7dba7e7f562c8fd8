"""Warm a freshly started HTTP server's caches for the default scope while no client is calling yet.

A server's first calls on a dataset build its tables for a scope — the snapshot of the data's last day, the event
aggregates, the stage history, the tools' results: seconds of computation that every call of a first burst waits
for (``tools.gate``), while the same calls a moment later take tens of milliseconds. ``lifecycle serve --http``
therefore starts ``warm_in_background`` as it begins listening: on a thread of its own, it calls every tool that
needs no argument with no arguments (the default as_of — the data's last day — and every customer), one after the
other, through the server's own tools, so it fills exactly the caches a client's call would (``lifecycle.memo``,
the snapshot's Parquet files), with the same results.

It gives way to clients: a step starts only while no client call is computing or waiting at the gate; during a
burst it waits, and goes on once the server is idle again (a client's call asking for what a running step computes
waits for it rather than computing it twice, and lends its slot meanwhile — ``tools.gate``). ``stop()`` ends it after
its current step. Nothing it does changes a result: the caches are keyed by everything that determines a value.

stdio servers do not warm up: their client starts them for one conversation and asks for the tool list first
(the spawn → tools/list time is measured, docs/benchmarks.md), and a cold stdio server is one client's wait only.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from tools.gate import CALL_LABEL, CallGate

logger = logging.getLogger(__name__)

WARM_LABEL = "warm-up"
"""How the gate's log line names a warm-up step (``warm-up:<tool>``)."""


IDLE_POLL_S = 0.05
"""How often a paused warm-up looks whether the clients' calls have ended."""


class WarmUp:
    """The background warm-up of one server (module doc)."""

    def __init__(self, server: MCPServer, gate: CallGate) -> None:
        self.server = server
        self.gate = gate
        self.done: list[str] = []
        self._stop = threading.Event()
        self.paused = threading.Event()  # set while a step waits for the clients' calls to end
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start warming on a daemon thread (returns at once)."""
        self._thread = threading.Thread(target=self.run, name="lifecycle-warm-up", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No further step starts (the running one finishes)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Call each argument-free tool in listing order, each while no client call is busy, until done or stopped
        (on this thread, with an event loop of its own)."""
        try:
            anyio.run(self._steps)
        except Exception:  # best effort: a warm-up never disturbs serving
            logger.debug("warm-up failed", exc_info=True)

    async def _steps(self) -> None:
        for name in await self._argument_free_tools():
            while self.gate.busy and not self._stop.is_set():  # clients first: wait until none is computing or waiting
                self.paused.set()
                await anyio.sleep(IDLE_POLL_S)
            self.paused.clear()
            if self._stop.is_set():
                logger.info("warm-up stopped after: %s", ", ".join(self.done))
                return
            label = CALL_LABEL.set(WARM_LABEL)  # the server names the tool after it
            try:
                await self.server.call_tool(name, {})
            except Exception:  # a tool that cannot answer on this data says so to clients; the warm-up goes on
                logger.debug("warm-up step %s failed", name, exc_info=True)
            finally:
                CALL_LABEL.reset(label)
            self.done.append(name)
        logger.info("warm-up done: %s", ", ".join(self.done))

    async def _argument_free_tools(self) -> list[str]:
        tools: list[Any] = await self.server.list_tools()
        return [tool.name for tool in tools if not (tool.input_schema or {}).get("required")]


def warm_in_background(server: MCPServer, gate: CallGate) -> WarmUp:
    """Start warming ``server``'s caches (``WarmUp``); returns the handle to stop it."""
    warm = WarmUp(server, gate)
    warm.start()
    return warm
