"""How tool calls run (tools/runtime.py): progress notifications reach the client, cancellation stops the work."""

from __future__ import annotations

from pathlib import Path

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
