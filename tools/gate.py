"""The server's admission gate: how many MCP calls compute at once, how long each may compute, and memory after a burst.

Every call that computes (an analytical tool, ``describe_dataset``, a prompt, the ``customer://`` resource) first
takes one of ``ServeLimits.concurrency`` slots; while all are taken it waits its turn, first come first served. A
burst of clients therefore queues instead of crowding two cores with twenty half-finished computations — each holding
its tables in memory, each slower than alone, and each then running past its time limit. No call fails because
others are running; a waiting call costs a coroutine, not a thread.

Three rules keep short calls from queueing behind long ones (most calls compute in tens of milliseconds once a scope's
tables are built; the first call on a new as_of builds them, seconds):

- **the warm lane**: a call of a kind the server has answered since it last released its memoised tables — the same
  tool on the same ``as_of`` argument (``CALL_KIND``, set by ``server.app``) — or is computing right now (a second
  call then waits for the same memoised results, lending its slot) finds what it needs built, so it takes one of
  ``ServeLimits.concurrency`` slots of a lane of its own, beside the calls that may build; so does a call of a tool
  not yet answered on an as_of another tool was answered on (its snapshot and tables are built), as long as the
  building lane is not full. A warm call that computes past ``LONG_CALL_S`` after all moves over to the building
  lane, so the warm lane stays short. A burst's first calls build each as_of's tables for seconds; without this
  lane every later call — a warm one included — queued behind those builds (measured on the demo, 20 clients × 25
  calls: most of the slowest 5 % waited, not computed);
- **the short lane**: a call that has computed for more than ``LONG_CALL_S`` counts as long. When every slot is held
  by a long call, one more call may start (``SHORT_LANE`` extra slot) — so a short call never waits for the end of
  two snapshot builds, and long calls never hold more than the slots while short ones wait;
- **lent slots**: a call that waits for a result another call is computing right now (the memo's one computation
  per key, ``lifecycle.memo.lending_while_waiting``) lends its slot meanwhile, then takes the first free one back
  before any queued call; the time it waits for that slot does not count towards its time limit.

How many slots: ``limits.concurrency`` per lane — the CPU count, at most 4, unless set. On small data (the
number of customers, counted as an HTTP server starts listening, at most
``SMALL_DATA_CUSTOMERS``) each lane has ``SMALL_DATA_SLOTS_FACTOR`` times that: the bound exists for the memory
each building call holds, which small data does not strain, and it made cheap calls queue behind builds
(``CallGate.size_up``).

The time limit (``ServeLimits.time_limit_s``) counts from when the call starts computing, never its wait; see
``tools.runtime.Work.within_budget``. Past it the call answers ``CallTimeLimitError``.

When the last call ends, none is waiting and none arrives for ``RELEASE_GRACE_S`` (1 s), the process hands freed
memory back to the operating system: a full
garbage collection, Arrow's unused pool memory, then glibc's ``malloc_trim(0)`` (pandas and SQLite leave freed pages
inside the heap, so a burst otherwise leaves the server near its peak size). ``lifecycle serve`` also tunes the
allocators at start (``tune_memory_for_serving``) so that most of a burst's memory can go back at all.

That release frees only what no one holds. The process memo (``lifecycle.memo``) holds what the burst computed — table
reads, snapshots, results — up to its budget (``LIFECYCLE_MEMO_MB``): measured in process on the demo after a 36-call
burst, 185 MB of estimated values, and RSS 701 MB against 209 MB before. So once the server has stayed idle for
``ServeLimits.idle_release_s`` (default 30 s: longer than an assistant's pause between two calls, so a conversation
keeps its warm tables), the memo shrinks to ``ServeLimits.idle_memo_mb`` (default 0: emptied; given a budget, largest
values first — the frames go, the small final answers stay) and the memory is released again. Measured over HTTP on
the demo (20 clients × 25 calls, docs/benchmarks.md): RSS 290 MB before the burst, 435 MB after it, 361 MB a minute
after with the default, 365 MB keeping 4 MiB; the rest is allocator fragmentation and lasting interpreter state, about
the same with ``PYTHONMALLOC=malloc`` (366 MB) or a 64 KiB mmap threshold (358 MB).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

import anyio
import anyio.from_thread
from anyio.lowlevel import RunVar

from lifecycle.config import ServeLimits
from lifecycle.errors import QueryTimeoutError
from lifecycle.memo import MEMO

logger = logging.getLogger(__name__)

TIME_LIMIT_ADVICE = "`lifecycle serve --time-limit SECONDS`, or time_limit_s under [serve] in the --config file"


RELEASE_GRACE_S = 1.0
"""Seconds without a call before the memory a burst freed goes back to the operating system (see ``CallGate``)."""


class CallTimeLimitError(QueryTimeoutError):
    """A call computed for longer than the server's per-call time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"this call computed for longer than the server's time limit of {seconds:g} s per call "
                         f"(set with {TIME_LIMIT_ADVICE})")
        self.seconds = seconds


LONG_CALL_S = 0.5
"""A call computing for longer than this (seconds) is a long one (the short lane, module doc). Measured on the demo: a
warm call computes in 0.02-0.25 s, a cold one (a new as_of's snapshot and tables) for 2-8 s."""

SHORT_LANE = 1
"""Calls that may start beyond the slots while every slot is held by a long call."""

SMALL_DATA_CUSTOMERS = 50_000
"""At most this many customers make the data small for the gate: each lane then has ``SMALL_DATA_SLOTS_FACTOR``
times the automatic slots (``CallGate.size_up``). A whole base's snapshot holds about 600 bytes per customer (the
demo's: 1.2 MB for 2,022 customers; at 1M customers 578 MB, and its build several GB), so 50,000 customers is about
30 MB per snapshot."""

SMALL_DATA_SLOTS_FACTOR = 4
"""How many times the automatic slots each lane has on small data (``SMALL_DATA_CUSTOMERS``)."""

COLD, WARM_AS_OF, WARM_KIND = 0, 1, 2
"""How warm a call's kind is (``CallGate.warmth``): never answered; another tool answered on its as_of; answered (or
computing right now)."""

CALL_LABEL_DEFAULT = "call"
CALL_LABEL: ContextVar[str] = ContextVar("lifecycle_call_label", default=CALL_LABEL_DEFAULT)
"""What the current call is (the tool's name; ``server.app`` sets it), for the gate's log line."""

CALL_KIND: ContextVar[Hashable | None] = ContextVar("lifecycle_call_kind", default=None)
"""What the current call computes on, for the warm lane: ``(tool name, as_of argument)`` (``server.app`` sets it);
``None`` — prompts, resources, anything else — never counts as warm."""


@dataclass(eq=False)
class Ticket:
    """One call's place at the gate: queued, holding a slot (``holding``), long once it computed past ``LONG_CALL_S``;
    ``warm`` when it runs in the warm lane (its kind was answered before, module doc)."""

    label: str
    kind: Hashable | None = None
    warm: bool = False
    started: bool = False
    granted: anyio.Event = field(default_factory=anyio.Event)
    holding: bool = False
    long: bool = False
    ended: bool = False
    timer: asyncio.TimerHandle | None = None


class Lanes:
    """One event loop's slots: the queue of waiting calls and the calls holding a slot (the rules: module doc).
    Touched only on its event loop's thread."""

    def __init__(self, slots: int | Callable[[], int], on_long: Callable[[Ticket], None] | None = None,
                 warmth: Callable[[Hashable | None], int] | None = None) -> None:
        self._slots = slots
        self.queue: deque[Ticket] = deque()
        self.holding: set[Ticket] = set()
        self._on_long = on_long
        self._warmth = warmth

    @property
    def slots(self) -> int:
        """Calls each lane may hold (``CallGate.slots``: it may change as the server learns the data's size)."""
        return self._slots() if callable(self._slots) else self._slots

    @property
    def long_calls(self) -> int:
        return sum(1 for ticket in self.holding if ticket.long)

    def _may_start(self, ticket: Ticket) -> bool:
        lane = [held for held in self.holding if held.warm == ticket.warm]
        if len(lane) < self.slots:
            return True
        return (not ticket.warm and len(lane) < self.slots + SHORT_LANE
                and all(held.long for held in lane))

    def _admit(self) -> None:
        """Start every queued call whose lane has room, in queue order (a warm call may pass cold ones queued
        before it; within a lane, first come first served)."""
        for ticket in list(self.queue):
            if not (ticket.warm or ticket.started) and self._warmth is not None:
                warmth = self._warmth(ticket.kind)  # its kind or its as_of may have been answered while it waited
                ticket.warm = warmth == WARM_KIND or (warmth == WARM_AS_OF and not self._building_at_capacity())
            if not self._may_start(ticket):
                continue
            self.queue.remove(ticket)
            ticket.holding, ticket.long, ticket.started = True, False, True
            self.holding.add(ticket)
            self._watch(ticket)
            ticket.granted.set()

    def _building_at_capacity(self) -> bool:
        """The cold lane holds as many calls as it may (its slots and the short lane): a call whose kind was never
        answered, only its as_of, then waits there rather than adding one more possible build beside them."""
        return sum(1 for held in self.holding if not held.warm) >= self.slots + SHORT_LANE

    def _watch(self, ticket: Ticket) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an asyncio loop (trio): every call counts as short
            return
        ticket.timer = loop.call_later(LONG_CALL_S, self._mark_long, ticket)

    def _mark_long(self, ticket: Ticket) -> None:
        ticket.timer = None
        if ticket.holding:
            ticket.long = True
            ticket.warm = False  # a warm call that turned out long moves to the cold lane: the warm one stays short
            if self._on_long is not None:
                self._on_long(ticket)
            self._admit()

    async def acquire(self, ticket: Ticket, first: bool = False) -> None:
        """Wait until ``ticket`` holds a slot: behind every queued call, or before them all when ``first`` (a call
        taking back the slot it lent). Returns at once, holding nothing, for a call that has ended meanwhile."""
        if ticket.ended:
            return
        ticket.granted = anyio.Event()
        (self.queue.appendleft if first else self.queue.append)(ticket)
        self._admit()
        try:
            await ticket.granted.wait()
        except BaseException:  # cancelled while queued (or just as its turn came)
            self._drop(ticket)
            raise

    def release(self, ticket: Ticket) -> None:
        """``ticket`` gives its slot up (it ends, or lends it): the next queued call may start."""
        if ticket.timer is not None:
            ticket.timer.cancel()
            ticket.timer = None
        if ticket.holding:
            ticket.holding = ticket.long = False
            self.holding.discard(ticket)
            self._admit()

    def end(self, ticket: Ticket) -> None:
        """The call is over (answered, failed or cancelled): its slot, its place in the queue and any pending wait of
        its worker thread for a slot go."""
        ticket.ended = True
        self._drop(ticket)
        ticket.granted.set()  # a worker thread still waiting to take its lent slot back goes on without one

    def _drop(self, ticket: Ticket) -> None:
        with contextlib.suppress(ValueError):
            self.queue.remove(ticket)
        self.release(ticket)


class CallGate:
    """At most ``limits.concurrency`` calls compute at once (one more while all of them are long); the rest wait in
    arrival order (see the module doc).

    One ``Lanes`` per event loop (an ``anyio`` ``RunVar``): a server object may be served by several loops in turn
    (tests, in-process clients), and a loop's events belong to it.
    """

    def __init__(self, limits: ServeLimits | None = None) -> None:
        self.limits = limits or ServeLimits()
        self._lanes: RunVar[Lanes] = RunVar(f"lifecycle_call_gate_{id(self)}")
        self._busy = 0  # calls computing or waiting, across loops (only touched on event-loop threads)
        self._busy_lock = threading.Lock()
        self._arrivals = 0  # calls admitted so far: an idle release is stale once another call came in
        self._answered: set[Hashable] = set()  # call kinds answered since the memo was last released (the warm lane)
        self._computing: dict[Hashable, int] = {}  # call kinds with a call computing right now (the warm lane)
        self._answered_as_of: set[Hashable] = set()  # the as_of of every answered (tool, as_of) kind
        self._small_data = False
        self._releases = 0  # times the memoised tables were released (forget_warm_kinds)
        self._loops: list[tuple[asyncio.AbstractEventLoop, Lanes]] = []  # the asyncio loops' lanes (size_up)

    @property
    def slots(self) -> int:
        """Calls each lane holds at once: ``limits.concurrency``, times ``SMALL_DATA_SLOTS_FACTOR`` once ``size_up``
        found the data small and the concurrency is the automatic one."""
        return self.limits.concurrency * (SMALL_DATA_SLOTS_FACTOR if self._small_data else 1)

    def size_up(self, customers: int) -> None:
        """Learn the data's size: its number of customers (``server.prime`` counts them as the server starts
        listening); calls queued meanwhile are admitted at once if the lanes widened.

        The slots bound how many calls compute at once because each building call holds its tables in memory, and
        at a million customers a snapshot build alone holds gigabytes. On small data (at most
        ``SMALL_DATA_CUSTOMERS``) the tables of many calls fit easily, and the bound mostly made calls wait:
        measured on the demo (20 clients × 25 calls over HTTP, 2 slots), calls that then computed in 0.1–1 s — their
        as_of's snapshot built meanwhile — had waited 7–23 s for a slot behind the first calls building each as_of's
        stage history and fact bundle. So each lane then gets ``SMALL_DATA_SLOTS_FACTOR`` times the slots (unless
        ``max_concurrent_calls`` was set: then it is exactly that)."""
        small = customers <= SMALL_DATA_CUSTOMERS and not self.limits.max_concurrent_calls
        with self._busy_lock:
            self._small_data = small
            loops = list(self._loops)
        for loop, lanes in loops:  # the queued calls of each serving loop get the new slots now, not at the next event
            with contextlib.suppress(RuntimeError):  # a loop that has ended
                loop.call_soon_threadsafe(lanes._admit)
        logger.info("%d customers: %d slots per lane", customers, self.slots)

    def lanes(self) -> Lanes:
        """This event loop's slots and queue."""
        try:
            return self._lanes.get()
        except LookupError:
            lanes = Lanes(lambda: self.slots, on_long=self._went_long, warmth=self.warmth)
            self._lanes.set(lanes)
            with contextlib.suppress(RuntimeError), self._busy_lock:  # not on asyncio (trio): nothing to wake
                loop = asyncio.get_running_loop()
                self._loops = [(old, held) for old, held in self._loops if not old.is_closed()] + [(loop, lanes)]
            return lanes

    def warmth(self, kind: Hashable | None) -> int:
        """``WARM_KIND`` when ``is_warm(kind)``; ``WARM_AS_OF`` when another tool was answered on the same as_of
        (``kind`` is ``(tool, as_of)``) since the last release — its snapshot and tables are built, though maybe not
        all this tool needs; else ``COLD``."""
        if self.is_warm(kind):
            return WARM_KIND
        if isinstance(kind, tuple) and len(kind) == 2:
            with self._busy_lock:
                if kind[1] in self._answered_as_of:
                    return WARM_AS_OF
        return COLD

    def is_warm(self, kind: Hashable | None) -> bool:
        """True when a call of ``kind`` was answered since the server last released its memoised tables (and none
        computed past ``LONG_CALL_S`` since), or one is computing right now — a second call of a kind being
        computed waits for the same memoised results (lending its slot meanwhile), then finds them built."""
        with self._busy_lock:
            return kind is not None and (kind in self._answered or kind in self._computing)

    def _started_kind(self, kind: Hashable | None) -> None:
        if kind is not None:
            with self._busy_lock:
                self._computing[kind] = self._computing.get(kind, 0) + 1

    def _ended_kind(self, kind: Hashable | None, answered: bool) -> None:
        if kind is None:
            return
        with self._busy_lock:
            left = self._computing.get(kind, 0) - 1
            if left > 0:
                self._computing[kind] = left
            else:
                self._computing.pop(kind, None)
            if answered:
                self._answered.add(kind)
                if isinstance(kind, tuple) and len(kind) == 2:
                    self._answered_as_of.add(kind[1])

    def _went_long(self, ticket: Ticket) -> None:
        """A call computing past ``LONG_CALL_S``: its kind is not warm (until a call of it is answered again)."""
        if ticket.kind is not None:
            with self._busy_lock:
                self._answered.discard(ticket.kind)

    def forget_warm_kinds(self) -> None:
        """Every kind counts as cold again (the memoised tables were released)."""
        with self._busy_lock:
            self._answered.clear()
            self._answered_as_of.clear()
            self._releases += 1

    @property
    def releases(self) -> int:
        """How many times the memoised tables were released while idle (``forget_warm_kinds``) so far."""
        return self._releases

    @property
    def small_data(self) -> bool:
        """Whether ``size_up`` found the data small (at most ``SMALL_DATA_CUSTOMERS`` customers)."""
        return self._small_data

    @property
    def busy(self) -> int:
        """Calls computing or waiting for a slot right now."""
        return self._busy

    @property
    def arrivals(self) -> int:
        """Calls that have arrived at the gate so far."""
        return self._arrivals

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Ticket]:
        """Hold one of the slots for the body (waiting for one first); memory goes back when the server falls idle.
        The ticket lets the call's worker thread lend its slot while it waits for another call (``lend``)."""
        with self._busy_lock:
            self._busy += 1
            self._arrivals += 1
        lanes = self.lanes()
        kind = CALL_KIND.get()
        ticket = Ticket(CALL_LABEL.get(), kind)  # its lane is chosen as it is admitted (Lanes._admit)
        arrived = time.perf_counter()
        started: float | None = None
        answered = False
        try:
            await lanes.acquire(ticket)
            started = time.perf_counter()
            self._started_kind(kind)
            yield ticket
            answered = True
        finally:
            lanes.end(ticket)
            ended = time.perf_counter()
            if started is not None:
                self._ended_kind(kind, answered)
            with self._busy_lock:
                self._busy -= 1
                busy = self._busy
                idle = busy == 0
                if idle:
                    self._schedule_idle_release()
            if started is not None:  # where a call's time went: its turn in the queue, then its computation
                logger.info("call waited %.3f s for a slot, computed %.3f s (%d calls busy) %s %s lane, arrived t=%.3f",
                            started - arrived, ended - started, busy, ticket.label,
                            "warm" if ticket.warm else "cold", arrived)
            if idle:
                self._schedule_release()

    @contextlib.contextmanager
    def lend(self, ticket: Ticket, lanes: Lanes, while_queued: Callable[[], contextlib.AbstractContextManager[object]]
             ) -> Iterator[None]:
        """On the call's worker thread: give the slot up for the body (the call waits for another one's result), then
        take the first free slot back — inside ``while_queued()`` (which stops the call's clock). Where the event loop
        cannot be reached (it has ended), the body runs holding the slot, as before."""
        try:
            anyio.from_thread.run_sync(lanes.release, ticket)
            lent = True
        except Exception:  # noqa: BLE001 - no loop to hand the slot to: wait holding it
            lent = False
        try:
            yield
        finally:
            if lent:
                with while_queued(), contextlib.suppress(Exception):
                    anyio.from_thread.run(lanes.acquire, ticket, True)

    def _schedule_release(self) -> None:
        """Release memory once the server has stayed idle for ``RELEASE_GRACE_S`` (``release_memory_soon``) — not at
        once: an assistant's next call often follows within a second, and a full collection (about 0.05–0.1 s of CPU
        holding the interpreter lock, measured on the demo) would otherwise run beside it. Without an asyncio loop
        (trio) the release starts at once."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            release_memory_soon()
            return
        with self._busy_lock:
            arrivals = self._arrivals
        loop.call_later(RELEASE_GRACE_S, self._release_memory_if_still_idle, arrivals)

    def _release_memory_if_still_idle(self, arrivals: int) -> None:
        with self._busy_lock:
            if self._busy or self._arrivals != arrivals:  # another call came: the release waits for its end
                return
        release_memory_soon()

    def _schedule_idle_release(self) -> None:
        """Arm the idle release for ``limits.idle_release_after_s`` from now on the running event loop (the caller holds
        the lock). It fires only if no call arrived meanwhile, and never after the loop has ended (a server that
        stopped serving, e.g. a test's in-process server, leaves nothing behind)."""
        delay = self.limits.idle_release_after_s
        if delay is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an asyncio loop (trio): no idle release
            return
        loop.call_later(delay, self._release_if_still_idle, self._arrivals)

    def _release_if_still_idle(self, arrivals: int) -> None:
        with self._busy_lock:
            if self._busy or self._arrivals != arrivals:  # a call came in meanwhile: it may want the memo
                return
        threading.Thread(target=self._release_idle, name="lifecycle-idle-release", daemon=True).start()

    def _release_idle(self) -> None:
        try:
            self.forget_warm_kinds()
            release_idle(self.limits.idle_memo_mb * 2**20)
        except Exception:  # best effort: never let housekeeping disturb serving
            logger.debug("idle release failed", exc_info=True)


_trim_lock = threading.Lock()


def release_idle(memo_budget_bytes: float) -> int:
    """What an idle server does: shrink the process memo to ``memo_budget_bytes`` (``Memo.shrink``: largest values
    first), then ``release_memory``. Returns the number of memo entries dropped. Under the serving collector
    (``tune_collector_for_serving``) every object is unfrozen first, so that the full collection also finds the cycles
    among objects frozen by an earlier release that nothing holds any more (what the memo just dropped among them)."""
    dropped = MEMO.shrink(memo_budget_bytes)
    with _trim_lock:
        if _serving_collector:
            gc.unfreeze()
        release_memory()
    return dropped


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


SERVING_GEN2_THRESHOLD = 100
"""The collector's third threshold while serving (CPython's default 10): a full collection is considered only after
this many collections of the middle generation — under back-to-back calls about one per hundreds of calls instead of
one every few dozen (``tune_collector_for_serving``)."""

_serving_collector = False


def tune_collector_for_serving() -> None:
    """Keep full garbage collections out of a serving process's calls (called by ``lifecycle serve``, the process
    owner, once its start-up objects are frozen; never by the library):

    - the collector's third threshold goes up to ``SERVING_GEN2_THRESHOLD``: a full collection walks every tracked
      object — after the demo's first calls ~120k (memo entries, the libraries' lazily imported modules), 60–150 ms
      holding the interpreter lock, landing in whichever call crossed the threshold. The release after each burst
      (``release_memory``) collects fully anyway, while no call runs;
    - that release then freezes what survived it (``gc.freeze``: the memo's values, the loaded modules): the
      collections after it — the next release's, and any full one during a burst — walk only what was allocated
      since. Measured in process on the demo (the tools benchmark's calls x3 after its warm-up, load 2.5): the release
      after the calls 88 -> 14 ms of CPU; the two full collections that still came during the calls 10 and 19 ms
      instead of 72. Reference counting frees frozen objects as before; only cycles among them would wait, so
      ``release_idle`` (the idle server, 30 s) unfreezes every object before its full collection."""
    global _serving_collector
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, SERVING_GEN2_THRESHOLD)
    _serving_collector = True


MMAP_THRESHOLD_BYTES = 256 * 1024
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)


def tune_memory_for_serving() -> None:
    """Make a long-running server's memory fall back after a burst (called by ``lifecycle serve``, the process owner,
    never by the library):

    - Arrow — which holds pandas' string columns and every Parquet read — allocates through the C library's
      ``malloc`` instead of its bundled mimalloc pool, which keeps freed pages where ``malloc_trim`` cannot reach;
    - glibc serves every block of ``MMAP_THRESHOLD_BYTES`` (256 KiB) or more with its own ``mmap``, returned to the
      system the moment it is freed. By default glibc raises that threshold as large blocks are freed (up to 32 MiB),
      after which a burst's column arrays come from the heap and stay there, fragmented.

    Measured in process on the demo (the load benchmark's 33 calls, four at a time; RSS 260 MB before): a minute
    after the burst 372–428 MB with the defaults, 335–373 MB with the Arrow switch alone, 326 MB with both (and a
    lower peak: 327 MB against 440–560 MB).
    """
    # Arrow reads this when it creates its default pool (on first use), so pyarrow — and pandas — load with the first
    # call instead of at start (tests/server/test_cli_start.py); an already loaded Arrow is switched directly.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.set_memory_pool(arrow.system_memory_pool())
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def release_memory() -> bool:
    """Collect garbage, hand Arrow's unused pool memory back, then return free heap pages to the operating system
    (glibc ``malloc_trim(0)``, which walks every malloc arena); True when ``malloc_trim`` ran. Elsewhere (musl,
    macOS, Windows) only the collection and Arrow's release run. Under the serving collector
    (``tune_collector_for_serving``) the collection's survivors are then frozen."""
    gc.collect()
    if _serving_collector:
        gc.freeze()
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


@functools.lru_cache(maxsize=None)
def _libc_function(name: str) -> Callable[..., int] | None:
    """glibc's ``name`` (``malloc_trim``, ``mallopt``), or None where the C library has no such function — looked up
    once per process: ``ctypes.util.find_library`` runs ``ldconfig`` in a subprocess (a fork of the whole server,
    about 0.1 s of CPU and more wall time on a loaded machine), which every release after a call paid before."""
    library = ctypes.util.find_library("c")
    if not library:
        return None
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):
        return None
    return function


__all__ = ["CALL_KIND", "CALL_LABEL", "CALL_LABEL_DEFAULT", "CallGate", "CallTimeLimitError", "LONG_CALL_S", "SHORT_LANE",
           "SMALL_DATA_CUSTOMERS", "SMALL_DATA_SLOTS_FACTOR", "Lanes", "Ticket", "TIME_LIMIT_ADVICE", "release_idle", "release_memory",
           "release_memory_soon", "SERVING_GEN2_THRESHOLD", "tune_collector_for_serving", "tune_memory_for_serving"]
