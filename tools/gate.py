"""The server's admission gate: how many MCP calls compute at once, how long each may compute, and memory after a burst.

Every call that computes (an analytical tool, ``describe_dataset``, a prompt, the ``customer://`` resource) first
takes one of ``ServeLimits.concurrency`` slots; while all are taken it waits its turn, first come first served
(anyio's ``CapacityLimiter``). A burst of clients therefore queues instead of crowding two cores with twenty
half-finished computations — each holding its tables in memory, each slower than alone, and each then running past
its time limit. No call fails because others are running; a waiting call costs a coroutine, not a thread.

The time limit (``ServeLimits.time_limit_s``) counts from when the call starts computing, never its wait; see
``tools.runtime.Work.within_budget``. Past it the call answers ``CallTimeLimitError``.

When the last call ends and none is waiting, the process hands freed memory back to the operating system: a full
garbage collection, then glibc's ``malloc_trim(0)`` (pandas and SQLite leave freed pages inside the heap, so a
burst otherwise leaves the server at its peak size for good).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable

import anyio
from anyio.lowlevel import RunVar

from lifecycle.config import ServeLimits
from lifecycle.errors import QueryTimeoutError

logger = logging.getLogger(__name__)

TIME_LIMIT_ADVICE = "`lifecycle serve --time-limit SECONDS`, or time_limit_s under [serve] in the --config file"


class CallTimeLimitError(QueryTimeoutError):
    """A call computed for longer than the server's per-call time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"this call computed for longer than the server's time limit of {seconds:g} s per call "
                         f"(set with {TIME_LIMIT_ADVICE})")
        self.seconds = seconds


class CallGate:
    """At most ``limits.concurrency`` calls compute at once; the rest wait in arrival order (see the module doc).

    One limiter per event loop (an ``anyio`` ``RunVar``): a server object may be served by several loops in turn
    (tests, in-process clients), and a limiter belongs to the loop that created it.
    """

    def __init__(self, limits: ServeLimits | None = None) -> None:
        self.limits = limits or ServeLimits()
        self._limiter: RunVar[anyio.CapacityLimiter] = RunVar(f"lifecycle_call_gate_{id(self)}")
        self._busy = 0  # calls computing or waiting, across loops (only touched on event-loop threads)
        self._busy_lock = threading.Lock()

    def _limiter_here(self) -> anyio.CapacityLimiter:
        try:
            return self._limiter.get()
        except LookupError:
            limiter = anyio.CapacityLimiter(self.limits.concurrency)
            self._limiter.set(limiter)
            return limiter

    @property
    def busy(self) -> int:
        """Calls computing or waiting for a slot right now."""
        return self._busy

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the slots for the body (waiting for one first); memory goes back when the server falls idle."""
        with self._busy_lock:
            self._busy += 1
        try:
            async with self._limiter_here():
                yield
        finally:
            with self._busy_lock:
                self._busy -= 1
                idle = self._busy == 0
            if idle:
                release_memory_soon()


_trim_lock = threading.Lock()


def release_memory_soon() -> None:
    """Start ``release_memory`` on a background thread unless one is already running (never blocks the caller)."""
    if _trim_lock.locked():
        return
    threading.Thread(target=_release_once, name="lifecycle-release-memory", daemon=True).start()


def _release_once() -> None:
    if not _trim_lock.acquire(blocking=False):
        return
    try:
        release_memory()
    except Exception:  # best effort: never let housekeeping disturb serving
        logger.debug("releasing memory failed", exc_info=True)
    finally:
        _trim_lock.release()


def release_memory() -> bool:
    """Collect garbage, then return free heap pages to the operating system (glibc ``malloc_trim(0)``, which walks
    every malloc arena); True when ``malloc_trim`` ran. Elsewhere (musl, macOS, Windows) only the collection runs."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


__all__ = ["CallGate", "CallTimeLimitError", "TIME_LIMIT_ADVICE", "release_memory", "release_memory_soon"]
