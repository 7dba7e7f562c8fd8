"""The server's gate (tools/gate.py, tools/runtime.py): a few calls compute at once and the rest wait their turn
instead of failing; each call computes for at most the per-call time limit, and a call past it answers an error
naming the limit and how to raise it; the server gives memory back when it falls idle, and once idle for longer it
drops its large memoised values.

Work functions here are real ``Work`` users on the tiny SQLite dataset; they mark time with ``Work.step`` between
short sleeps, as the engine's steps do between computations.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp.types import CallToolResult, TextContent

from lifecycle.config import ServeLimits, config_from_dict
from lifecycle.errors import ConfigError
from lifecycle.memo import MEMO
from lifecycle.sources import SqliteSource
from tools import gate as gate_module
from tools.base import ToolContext
from tools.gate import CallGate, CallTimeLimitError
from tools.runtime import Work, run_gated, run_tool

pytestmark = pytest.mark.anyio

ENDLESS_QUERY = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 2000000000) "
                 "SELECT count(*) FROM r")


def context(tiny_db: Path, **limits: float) -> ToolContext:
    """The tiny dataset with no per-query limit (only the gate's limits apply) behind a gate with ``limits``."""
    return ToolContext(SqliteSource(tiny_db, time_limit_s=None), gate=CallGate(ServeLimits(**limits)))  # type: ignore[arg-type]


class Occupancy:
    """How many work functions run at the same moment (the most seen)."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def work(self, seconds: float) -> Callable[[Work], str]:
        def run(work: Work) -> str:
            with self._lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    work.step()
                    time.sleep(0.01)
                return "done"
            finally:
                with self._lock:
                    self.now -= 1
        return run


async def test_calls_beyond_the_slots_wait_their_turn_and_all_complete(tiny_db: Path) -> None:
    """Six calls of 0.2 s through a gate of two slots: never more than two compute at once, all six answer."""
    ctx = context(tiny_db, max_concurrent_calls=2)
    seen = Occupancy()
    answers: list[str] = []

    async def one() -> None:
        answers.append(await run_gated(ctx, seen.work(0.2)))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(one)
    assert answers == ["done"] * 6
    assert seen.most == 2


async def test_waiting_for_a_slot_does_not_count_towards_the_time_limit(tiny_db: Path) -> None:
    """One slot, twelve calls of 0.25 s, a limit of 1.5 s per call: the last calls wait about 2.75 s — longer than the
    limit — yet each computes well within it, so every call answers."""
    ctx = context(tiny_db, max_concurrent_calls=1, time_limit_s=1.5)
    seen = Occupancy()
    answers: list[str] = []

    async def one() -> None:
        answers.append(await run_gated(ctx, seen.work(0.25)))

    started = time.monotonic()
    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(one)
    assert answers == ["done"] * 12
    assert time.monotonic() - started > 1.5  # the queue really was longer than the limit
    assert seen.most == 1


def _text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_a_tool_call_past_its_time_limit_answers_an_error_naming_the_limit(tiny_db: Path) -> None:
    ctx = context(tiny_db, time_limit_s=0.3)
    never_done = Occupancy().work(3600)
    with anyio.fail_after(60):
        result = await run_tool(ctx, None, lambda work: never_done(work))  # type: ignore[arg-type,return-value]
    assert result.is_error is True
    text = _text(result)
    assert "time limit of 0.3 s per call" in text
    assert "lifecycle serve --time-limit" in text and "[serve]" in text


async def test_the_time_limit_interrupts_a_running_query(tiny_db: Path) -> None:
    """A query that would run for minutes (no per-query limit on the source) stops when the call's limit passes."""
    ctx = context(tiny_db, time_limit_s=0.5)

    def endless(work: Work) -> object:
        with work.connect() as conn:
            return conn.rows(ENDLESS_QUERY)

    with anyio.fail_after(60):
        with pytest.raises(CallTimeLimitError, match=r"time limit of 0\.5 s per call"):
            await run_gated(ctx, endless)


async def test_a_limit_of_zero_means_no_limit(tiny_db: Path) -> None:
    ctx = context(tiny_db, time_limit_s=0)
    assert ctx.gate.limits.call_time_limit_s is None
    assert await run_gated(ctx, Occupancy().work(0.1)) == "done"


async def test_memory_is_given_back_once_the_server_falls_idle(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The release runs once the last of a burst of calls has ended — with no call computing or waiting for the
    grace period — not after each."""
    ctx = context(tiny_db, max_concurrent_calls=2)
    busy_at_release: list[int] = []
    monkeypatch.setattr(gate_module, "RELEASE_GRACE_S", 0.2)
    monkeypatch.setattr(gate_module, "release_memory_soon", lambda: busy_at_release.append(ctx.gate.busy))
    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(run_gated, ctx, Occupancy().work(0.1))
        assert busy_at_release == []  # still within the grace period
        await anyio.sleep(0.6)
    assert busy_at_release == [0]


async def test_a_call_within_the_grace_period_postpones_the_release(tiny_db: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Two calls 0.1 s apart with a 0.5 s grace: the release after the first is dropped, one runs after the second."""
    ctx = context(tiny_db, max_concurrent_calls=2)
    released: list[float] = []
    monkeypatch.setattr(gate_module, "RELEASE_GRACE_S", 0.5)
    monkeypatch.setattr(gate_module, "release_memory_soon", lambda: released.append(time.perf_counter()))
    with anyio.fail_after(60):
        await run_gated(ctx, Occupancy().work(0.05))
        await anyio.sleep(0.1)
        await run_gated(ctx, Occupancy().work(0.05))
        second_ended = time.perf_counter()
        await anyio.sleep(1.2)
    assert len(released) == 1 and released[0] - second_ended >= 0.45


def test_releasing_memory_collects_and_trims_the_heap() -> None:
    """On glibc (this project's Linux CI) ``malloc_trim`` is found and runs."""
    assert gate_module.release_memory() is True


def test_the_serve_section_of_the_config_sets_the_limits_and_changes_no_fingerprint() -> None:
    config = config_from_dict({"serve": {"time_limit_s": 42, "max_concurrent_calls": 3, "idle_release_s": 5,
                                         "idle_memo_mb": 2}})
    assert (config.serve.call_time_limit_s, config.serve.concurrency) == (42.0, 3)
    assert (config.serve.idle_release_after_s, config.serve.idle_memo_mb) == (5.0, 2)
    assert config.fingerprint() == config_from_dict({}).fingerprint()


def test_the_command_line_overrides_the_serve_section_setting_by_setting() -> None:
    from server.commands.serve_cmd import serve_limits

    configured = config_from_dict({"serve": {"time_limit_s": 42, "idle_release_s": 5, "idle_memo_mb": 2}}).serve
    limits = serve_limits(configured, None, 3, 0, None)
    assert (limits.time_limit_s, limits.max_concurrent_calls, limits.idle_release_after_s, limits.idle_memo_mb) == (
        42, 3, None, 2)


async def test_an_idle_server_drops_its_large_memoised_values(tiny_db: Path) -> None:
    """A 4 MiB value in the process memo, a gate that releases after 0.2 s idle down to 1 MiB: once the last call
    ended, the value is dropped (largest first) without any further call."""
    key = ("test-idle-release", id(tiny_db))
    MEMO.remember(key, lambda: "x" * (4 * 2**20))
    ctx = context(tiny_db, idle_release_s=0.2, idle_memo_mb=1)
    assert await run_gated(ctx, Occupancy().work(0.05)) == "done"
    with anyio.fail_after(60):
        while MEMO.peek(key) is not None:
            await anyio.sleep(0.05)
    assert MEMO.bytes <= 2**20


async def test_a_call_within_the_idle_period_postpones_the_release(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Call A ends, call B starts before A's idle period (0.3 s) passes and runs 0.5 s: the release runs once, after B
    — A's pending release sees that a call came in and does nothing."""
    released: list[int] = []
    monkeypatch.setattr(gate_module, "release_idle", lambda budget: released.append(ctx.gate.busy) or 0)
    ctx = context(tiny_db, idle_release_s=0.3)
    seen = Occupancy()
    await run_gated(ctx, seen.work(0.01))
    await run_gated(ctx, seen.work(0.5))
    with anyio.fail_after(60):
        while not released:
            await anyio.sleep(0.05)
    await anyio.sleep(0.6)  # A's release, had it not been postponed, would have run by now
    assert released == [0]


@pytest.mark.parametrize(("section", "fragment"), [
    ({"time_limit_s": -1}, "serve.time_limit_s must be a number of seconds >= 0"),
    ({"time_limit_s": "ten"}, "serve.time_limit_s: expected a number"),
    ({"max_concurrent_calls": 1.5}, "serve.max_concurrent_calls must be a whole number >= 0"),
    ({"max_concurrent_calls": -2}, "serve.max_concurrent_calls must be a whole number >= 0"),
    ({"idle_release_s": -5}, "serve.idle_release_s must be a number >= 0"),
    ({"idle_memo_mb": float("inf")}, "serve.idle_memo_mb must be a number >= 0"),
    ({"threads": 4}, "unknown setting(s) threads"),
])
def test_a_bad_serve_setting_is_one_config_error_naming_it(section: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_dict({"serve": section})
    assert fragment in str(raised.value)


def test_automatic_concurrency_is_the_cpu_count_capped_at_four(monkeypatch: pytest.MonkeyPatch) -> None:
    for cpus, expected in ((1, 1), (2, 2), (64, 4), (None, 1)):
        monkeypatch.setattr("lifecycle.config.os.cpu_count", lambda cpus=cpus: cpus)
        assert ServeLimits().concurrency == expected


def test_tuning_memory_for_serving_moves_arrow_onto_malloc() -> None:
    """Arrow's bundled pool (mimalloc or jemalloc) keeps freed pages; after the tuning Arrow allocates with malloc."""
    import pyarrow

    previous = pyarrow.default_memory_pool()
    try:
        gate_module.tune_memory_for_serving()
        assert pyarrow.default_memory_pool().backend_name == "system"
    finally:
        pyarrow.set_memory_pool(previous)


async def test_each_call_logs_its_wait_for_a_slot_and_its_computation(tiny_db: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Three calls of at least 0.2 s through one slot: three lines, each computing ≥ 0.2 s; the waits add up to at
    least 0.2 + 0.4 = 0.6 s (the second waits for the first, the third for both) — the split the load benchmark reports."""
    import re

    ctx = context(tiny_db, max_concurrent_calls=1)
    seen = Occupancy()
    caplog.set_level("INFO", logger="tools.gate")
    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(run_gated, ctx, seen.work(0.2))
    lines = [re.search(r"call waited ([0-9.]+) s for a slot, computed ([0-9.]+) s", r.getMessage()) for r in caplog.records]
    found = [(float(m[1]), float(m[2])) for m in lines if m]
    assert len(found) == 3
    assert all(computed >= 0.2 for _, computed in found)
    assert sum(waited for waited, _ in found) >= 0.6 - 0.01  # timer resolution
