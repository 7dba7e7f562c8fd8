"""How a tool call runs: on a worker thread, with progress notifications, cancellation and per-call datasets.

``run_tool`` is what every analytical tool adapter awaits. It runs the tool's plain work function on a worker
thread (so the event loop keeps answering pings and cancellations), hands it a ``Work`` object through which
the work opens its read-only ``Dataset`` values (one connection on the server's data source each, with the
source's time limit per query) and reports progress, and turns deliberate errors into ``isError`` results through ``call_safely``.

Cancellation (``notifications/cancelled``, or the client going away) interrupts every connection the call
opened — a running query stops at once — and any later ``Work.step`` raises, so the thread ends early; its
result is discarded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.types import CallToolResult

from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.filters import Filters
from lifecycle.scope import Window
from lifecycle.sources import Connection, DataSource
from tools.base import ToolContext, call_safely

logger = logging.getLogger(__name__)


class CallCancelled(Exception):
    """Raised inside the worker thread when the client cancelled the call (the result is discarded)."""


class Work:
    """What a tool's work function may use: read-only datasets and progress reporting."""

    def __init__(self, ctx: ToolContext, report: Callable[[float, float | None, str | None], None] | None = None) -> None:
        self.ctx = ctx
        self._report = report
        self._cancelled = threading.Event()
        self._datasets: list[Dataset] = []
        self._lock = threading.Lock()

    @property
    def source(self) -> DataSource:
        return self.ctx.source

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read-only connection for small lookups (allowlists), see ``ToolContext.connect``."""
        self.step()
        with self.ctx.connect() as conn:
            yield conn

    def dataset(self, as_of: date, filters: Filters | None = None, window: Window | None = None) -> Dataset:
        """A ``Dataset`` over the server's data source (read-only, the source's time limit per query, the server's
        configuration), closed after the call."""
        self.step()
        dataset = Dataset.open(self.ctx.source, as_of, filters=filters, window=window, config=self.ctx.config)
        with self._lock:
            self._datasets.append(dataset)
        return dataset

    def step(self, done: float | None = None, total: float | None = None, message: str | None = None) -> None:
        """Raise ``CallCancelled`` when the call was cancelled; report progress when ``done`` is given."""
        if self._cancelled.is_set():
            raise CallCancelled()
        if done is not None and self._report is not None:
            self._report(done, total, message)

    def cancel(self) -> None:
        """Stop the work: interrupt running queries and make the next ``step`` raise."""
        self._cancelled.set()
        with self._lock:
            for dataset in self._datasets:
                with contextlib.suppress(Exception):
                    dataset.connection.interrupt()

    def close(self) -> None:
        with self._lock:
            for dataset in self._datasets:
                with contextlib.suppress(Exception):
                    dataset.close()
            self._datasets.clear()


def _reporter(mcp_ctx: Any) -> Callable[[float, float | None, str | None], None] | None:
    """Progress reporting from the worker thread back into the event loop (no-op without a request context)."""
    if mcp_ctx is None:
        return None

    def report(done: float, total: float | None, message: str | None) -> None:
        try:
            anyio.from_thread.run(mcp_ctx.report_progress, done, total, message)
        except Exception:  # progress is best effort: a closed stream must not fail the call
            logger.debug("progress notification not sent", exc_info=True)

    return report


async def run_tool(ctx: ToolContext, mcp_ctx: Any, work_fn: Callable[[Work], CallToolResult]) -> CallToolResult:
    """Run ``work_fn`` on a worker thread with a fresh ``Work``; errors become actionable ``isError`` results."""
    work = Work(ctx, _reporter(mcp_ctx))

    def run() -> CallToolResult:
        try:
            return call_safely(ctx, lambda: work_fn(work))
        finally:
            work.close()

    try:
        return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        work.cancel()
        raise


def require(condition: bool, message: str) -> None:
    """Raise ``QueryError(message)`` unless ``condition`` — for business rules on arguments."""
    if not condition:
        raise QueryError(message)
