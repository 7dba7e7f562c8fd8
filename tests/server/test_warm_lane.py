"""The gate's warm lane (tools/gate.py): a call of a kind the server has answered since it last released its tables —
the same tool on the same as_of — or is computing right now runs beside the calls that build, instead of queueing
behind them; a warm call that computes long moves to the building lane; once the server released its memoised
tables every kind is cold again.

The long calls are work functions that step until the test releases them (``Hold``, as in test_short_lane.py), so
what is asserted is an order of events, not a duration.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import anyio
import pytest
from mcp import Client

from lifecycle.config import ServeLimits
from lifecycle.sources import SqliteSource
from server.app import build_server
from tests.server.helpers import Hold, quick
from tools.base import ToolContext
from tools.gate import CALL_KIND, COLD, WARM_AS_OF, CallGate
from tools.runtime import Work, run_gated

pytestmark = pytest.mark.anyio


def context(tiny_db: Path, **limits: float) -> ToolContext:
    return ToolContext(SqliteSource(tiny_db, time_limit_s=None), gate=CallGate(ServeLimits(**limits)))  # type: ignore[arg-type]


async def as_kind(kind: Hashable | None, ctx: ToolContext, work_fn: object) -> str:
    """``run_gated`` as a call of ``kind`` (what ``server.app`` sets for a tool call)."""
    token = CALL_KIND.set(kind)
    try:
        return str(await run_gated(ctx, work_fn))  # type: ignore[arg-type]
    finally:
        CALL_KIND.reset(token)


async def test_a_call_of_an_answered_kind_passes_builds_that_fill_every_slot(tiny_db: Path) -> None:
    """One slot. Kind A is answered once. Two cold calls then hold the slot and the short lane, computing: a call of
    kind A answers meanwhile (the warm lane), while a call of kind B — never answered — does not start until a
    cold call ends (without the warm lane the A call would wait too, and the deadline would fail it)."""
    ctx = context(tiny_db, max_concurrent_calls=1)
    assert await as_kind(("tool", "A"), ctx, quick) == "quick"
    holds = [Hold(), Hold()]
    new_kind = Hold()
    answers: list[str] = []

    async def call(kind: Hashable | None, work_fn: object) -> None:
        answers.append(await as_kind(kind, ctx, work_fn))

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            for hold in holds:
                group.start_soon(call, None, hold.work)
            while not all(h.running.is_set() for h in holds):  # the second starts once the first is long
                await anyio.sleep(0.01)
            group.start_soon(call, ("tool", "B"), new_kind.work)
            assert await as_kind(("tool", "A"), ctx, quick) == "quick"  # while both holds still compute
            await anyio.sleep(0.7)  # longer than LONG_CALL_S: still no room for B in the cold lane
            assert not new_kind.running.is_set()
            holds[0].released.set()
            while not new_kind.running.is_set():
                await anyio.sleep(0.01)
            holds[1].released.set()
            new_kind.released.set()
    assert sorted(answers) == ["held"] * 3


async def test_a_warm_call_that_computes_long_leaves_the_warm_lane_to_short_calls(tiny_db: Path) -> None:
    """One slot per lane. Kind A is answered once; the next call of kind A computes until released (a result that
    is not built after all). Once it is long it moves to the cold lane, so another call of kind A answers while it
    still computes."""
    ctx = context(tiny_db, max_concurrent_calls=1)
    kind = ("tool", "A")
    await as_kind(kind, ctx, quick)
    assert ctx.gate.is_warm(kind)
    hold = Hold()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(as_kind, kind, ctx, hold.work)
            while not hold.running.is_set():
                await anyio.sleep(0.01)
            assert await as_kind(kind, ctx, quick) == "quick"
            assert not hold.released.is_set()
            hold.released.set()


async def test_a_second_call_of_a_kind_being_computed_counts_as_warm(tiny_db: Path) -> None:
    """While a call of kind A computes (never answered before), kind A is warm — a second call would wait for the
    same memoised results — and stays warm once it is answered; kind B is not."""
    ctx = context(tiny_db)
    kind = ("tool", "A")
    hold = Hold()
    assert not ctx.gate.is_warm(kind)
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(as_kind, kind, ctx, hold.work)
            while not hold.running.is_set():
                await anyio.sleep(0.01)
            assert ctx.gate.is_warm(kind) and not ctx.gate.is_warm(("tool", "B"))
            hold.released.set()
    assert ctx.gate.is_warm(kind)


async def test_the_idle_release_makes_every_kind_cold_again(tiny_db: Path) -> None:
    ctx = context(tiny_db, idle_release_s=0.2)
    kind = ("tool", "A")
    await as_kind(kind, ctx, quick)
    assert ctx.gate.is_warm(kind)
    with anyio.fail_after(60):
        while ctx.gate.is_warm(kind):
            await anyio.sleep(0.05)
    assert not ctx.gate.is_warm(None)


async def test_a_failed_call_leaves_its_kind_cold(tiny_db: Path) -> None:
    ctx = context(tiny_db)

    def fails(work: Work) -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await as_kind(("tool", "A"), ctx, fails)
    assert not ctx.gate.is_warm(("tool", "A"))


async def test_the_server_files_each_tool_call_under_its_tool_and_as_of(tiny_db: Path) -> None:
    """Through the real server and MCP client: after describe_dataset on 2024-03-01, that tool on that as_of is warm;
    the same tool on another as_of, or without one, is not."""
    server = build_server(tiny_db, limits=ServeLimits(idle_release_s=0))
    assert server.gate is not None
    async with Client(server) as client:
        result = await client.call_tool("describe_dataset", {"as_of": "2024-03-01"})
    assert result.is_error is False
    assert server.gate.is_warm(("describe_dataset", "2024-03-01"))
    assert not server.gate.is_warm(("describe_dataset", "2024-04-01"))
    assert not server.gate.is_warm(("describe_dataset", None))
    assert server.gate.warmth(("cohort_retention", "2024-03-01")) == WARM_AS_OF  # another tool, the same as_of
    assert server.gate.warmth(("cohort_retention", "2024-04-01")) == COLD
