"""Warm an as_of as a whole during a burst: the first call naming a cold as_of while other calls are busy starts one
warm-up of that as_of, and the calls on it wait for the warm-up before they compute.

A cold as_of costs seconds: its snapshot, the stage states of a dozen monthly checkpoints, the health table, the fact
bundle — each built by the first call that needs it (``lifecycle.memo``: one computation per key, the other calls
asking for it wait). Under a burst of many clients each of those first calls shares the interpreter with every other
call, and a client that waited for one part (the stage history of ``stage_distribution``) comes back a moment later
for the next one (the fact bundle of ``lifecycle_facts``) and waits again: measured on the demo (20 clients × 25 calls
over HTTP, three as_of days), 31–36 calls over 2 s, most of them a client's second or third wait on the same as_of.

So during a burst (``BURST_CALLS`` other calls busy at the gate, on small data — ``tools.gate.CallGate.size_up``) a
call naming a cold as_of starts ``AsOfWarmUp`` — when it is a call of one of those tools, or when another client's call
on the same as_of is in flight (many clients on as many as_of days, each asking a cheap tool, warm nothing): the tools that build an as_of's shared tables
(``WARM_TOOLS``), called one after the other with only that ``as_of`` through the server itself — the same calls a
client could make, so they fill exactly the memo keys and Parquet caches the clients' calls then read, with the same
values. Every analytical tool call on that as_of (``describe_dataset`` and ``verify_plan`` excepted: they read no
as_of tables) waits for the warm-up before it takes a slot at the gate, then computes on warm tables: a client waits
once per as_of instead of once per table. A lone client (no burst) never waits for a warm-up: its call computes only
what it needs, as before.

An as_of counts as warm until the server releases its memoised tables after an idle period
(``tools.gate.CallGate.forget_warm_kinds``). A warm-up step that fails (data without what the tool needs) is skipped:
the clients' own calls then say what is wrong. Nothing here changes an answer: the caches are keyed by everything that
determines a value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any

import anyio

from tools.gate import CALL_LABEL, COLD, CallGate

logger = logging.getLogger(__name__)

WARM_TOOLS: tuple[str, ...] = ("stage_distribution", "score_health", "list_at_risk", "lifecycle_facts")
"""The tools whose first call on an as_of builds its shared tables (stage states on the flow metrics' checkpoints and
the drivers, the health table, the at-risk ranking, the fact bundle) — measured on the demo, 2.0–3.6 s of CPU per
as_of together, after which every tool of the load benchmark's mix on that as_of computes in under 0.1 s."""

EXEMPT_TOOLS: frozenset[str] = frozenset({"describe_dataset", "verify_plan"})
"""Tools that never wait for an as_of's warm-up (they read no as_of tables)."""

BURST_CALLS = 2
"""A call naming a cold as_of starts its warm-up only while at least this many other calls are busy at the gate."""

SETTLE_S = 0.05
"""Seconds a call naming an as_of on which nothing was answered yet waits before it decides against a warm-up: the
first calls of a burst arrive within moments of each other, before any of them is busy at the gate, and would otherwise
each compute alone — and their clients wait again on that as_of's warm-up with their next call (measured on the demo,
1-3 of 20-23 calls over 2 s). A lone client pays it once per new as_of, on a call that builds its tables (0.3-3 s)."""

WARM_UP_LABEL = "warm-up"
"""How the gate's log line names a warm-up step (``warm-up:<tool>@<as_of>``, as ``server.warm``'s)."""

BATCH_WINDOW_S = 1.0
"""Warm-ups that start within this many seconds of the first of them, before any has ended, form one ``Batch``: the
opening calls of a burst, which arrive within a second or so of each other."""

_IN_WARM_UP: ContextVar[bool] = ContextVar("lifecycle_in_as_of_warm_up", default=False)


class Batch:
    """Warm-ups of several as_of days started together (within ``BATCH_WINDOW_S``, ``AsOfWarmUp._batch_for``): the
    calls that waited for one of them go on when all of them are done (``done``), not when their own as_of is.

    A burst's clients move from as_of to as_of. Released as each as_of got warm, the clients of the cheapest one went
    on and moved into an as_of still warming, and waited again: measured on a quiet machine (demo, 20 clients × 25
    calls over three as_of days), the warm-ups ended 7.8, 9.7 and 12.4 s into the burst, and 6 calls crossing into
    the last one waited 3.3–4.4 s — after their clients' first call had already waited 7.8 s. Released together, a
    client of the burst waits once; the work is the same, only the earliest-warmed as_of's first answers come later
    (at most when the batch's slowest warm-up ends, as those of that as_of do anyway). An as_of of the batch that is
    warm counts as warm at once for calls that did not wait for it."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.warming: set[Hashable] = set()
        self.ended = False  # one of its warm-ups has ended: later warm-ups start a batch of their own
        self.done = asyncio.Event()

    def end(self, as_of: Hashable) -> None:
        """The warm-up of ``as_of`` is over; the last one sets ``done``."""
        self.ended = True
        self.warming.discard(as_of)
        if not self.warming:
            self.done.set()


class AsOfWarmUp:
    """The as_of warm-ups of one server: which as_of is warm, which is warming, and the waiting (module doc)."""

    def __init__(self, gate: CallGate, call: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> None:
        self.gate = gate
        self._call = call  # the server's call_tool
        self._warming: dict[Hashable, asyncio.Event] = {}
        self._warm: set[Hashable] = set()
        self._releases = gate.releases
        self._tasks: set[asyncio.Task[None]] = set()
        self._batch: Batch | None = None  # the latest batch of warm-ups (``Batch``)
        self._batch_of: dict[Hashable, Batch] = {}  # the batch of each as_of warming now
        self._in_flight: dict[Hashable, int] = {}  # clients' calls (not the warm-up's) per as_of argument, in flight
        self.done: list[str] = []  # the warm-up steps taken so far, as ``tool@as_of`` (``@`` alone: the default)

    def _forget_if_released(self) -> None:
        if self.gate.releases != self._releases:  # the memo was released while idle: every as_of is cold again
            self._releases = self.gate.releases
            self._warm.clear()

    @contextlib.asynccontextmanager
    async def call(self, name: str, as_of: str | None) -> AsyncIterator[None]:
        """Around a call of tool ``name`` on ``as_of`` (the argument; None: the default): before it takes a slot,
        wait for that as_of's warm-up — starting it first when the call names a cold as_of during a burst and either
        is a ``WARM_TOOLS`` call (it needs most of the as_of's tables anyway) or another call on the same as_of is
        in flight (several clients on it: worth warming as a whole). A call of another tool on an as_of no other
        call names starts nothing (it computes only what it asks for: many clients on as many as_of days warm none)."""
        if _IN_WARM_UP.get() or name in EXEMPT_TOOLS:
            yield
            return
        self._in_flight[as_of] = self._in_flight.get(as_of, 0) + 1
        try:
            await self._before(name, as_of)
            yield
        finally:
            left = self._in_flight[as_of] - 1
            if left:
                self._in_flight[as_of] = left
            else:
                del self._in_flight[as_of]

    async def _before(self, name: str, as_of: str | None) -> None:
        if not self.gate.small_data:
            return
        settled = False
        while True:
            self._forget_if_released()
            if as_of in self._warm:
                return
            event = self._warming.get(as_of)
            if event is not None or self._burst(name, as_of):
                break
            if settled or self.gate.warmth((name, as_of)) != COLD:
                return
            settled = True  # the calls of a burst arrive together: let them see each other before deciding
            await anyio.sleep(SETTLE_S)
        if event is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on asyncio (trio): no warm-up, every call computes what it needs
                return
            event = self._warming[as_of] = asyncio.Event()
            batch = self._batch_for(as_of)
            task = loop.create_task(self._warm_up(as_of, event, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        joined = self._batch_of.get(as_of)
        await event.wait()
        if joined is not None:
            await joined.done.wait()  # the burst's opening warm-ups release their calls together (``Batch``)

    def _batch_for(self, as_of: str | None) -> Batch:
        """The batch a warm-up of ``as_of`` starting now belongs to: the open one while it is younger than
        ``BATCH_WINDOW_S`` and none of its warm-ups has ended, else a new one."""
        now = time.monotonic()
        batch = self._batch
        if batch is None or batch.ended or now - batch.started > BATCH_WINDOW_S:
            batch = self._batch = Batch(now)
        batch.warming.add(as_of)
        self._batch_of[as_of] = batch
        return batch

    def _burst(self, name: str, as_of: str | None) -> bool:
        """Whether a call of ``name`` on the cold ``as_of`` starts its warm-up: at least ``BURST_CALLS`` other calls
        busy (at the gate, or arrived here), and the call is a ``WARM_TOOLS`` one or another is in flight on
        ``as_of``."""
        others = max(self.gate.busy, sum(self._in_flight.values()) - 1)
        wanted = name in WARM_TOOLS or self._in_flight.get(as_of, 0) > 1
        return wanted and others >= BURST_CALLS

    async def _warm_up(self, as_of: str | None, event: asyncio.Event, batch: Batch) -> None:
        arguments: dict[str, Any] = {} if as_of is None else {"as_of": as_of}
        flag = _IN_WARM_UP.set(True)
        label = CALL_LABEL.set(WARM_UP_LABEL)
        try:
            for name in WARM_TOOLS:
                try:
                    await self._call(name, dict(arguments))
                except Exception:  # noqa: BLE001 - a tool that cannot answer says so to the clients' own calls
                    logger.debug("as_of warm-up step %s@%s failed", name, as_of, exc_info=True)
                self.done.append(f"{name}@{as_of or ''}")
        finally:
            CALL_LABEL.reset(label)
            _IN_WARM_UP.reset(flag)
            self._warm.add(as_of)
            self._warming.pop(as_of, None)
            self._batch_of.pop(as_of, None)
            batch.end(as_of)
            event.set()
        logger.info("warmed as_of %s", as_of or "(default)")


__all__ = ["AsOfWarmUp", "BATCH_WINDOW_S", "BURST_CALLS", "Batch", "EXEMPT_TOOLS", "WARM_TOOLS", "WARM_UP_LABEL"]
