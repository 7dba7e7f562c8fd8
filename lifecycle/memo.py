"""Compute each thing once: the engine's results memoised in this process, keyed by everything that determines them.

A result is fixed by the data (the source's ``identity()``, which changes with every import), the scope (as_of,
window, filters), the engine configuration (its fingerprint) and what was asked — so a key made of those names one
result for good, and a re-import simply makes new keys (the old entries age out). ``remember(key, compute)``
returns the stored value or runs ``compute`` once:

- **one computation per key**: concurrent callers of a key being computed wait for it instead of computing it
  again (a burst of MCP calls over a cold dataset builds its snapshot once); a computation that asks for its own
  key again (in its own thread) computes it without the memo rather than waiting for itself; a server's call lends
  its computing slot while it waits (``lending_while_waiting``);
- **bounded, keeping what is dear to rebuild**: once the entries' estimated size passes ``LIFECYCLE_MEMO_MB``
  (default: a quarter of the machine's physical memory, at least 512 MiB — one snapshot of a million customers
  weighs about 580 MiB, its health table 750 MiB: a fixed 512 MiB evicted the snapshot as soon as the next table
  was stored, so every "warm" call rebuilt it) entries are evicted by GreedyDual-Size (Cao & Irani, "Cost-Aware WWW
  Proxy Caching Algorithms", USENIX 1997): each entry's credit is ``L + cost / size`` (set when stored and on each
  hit), the entry of least credit goes first (ties: the least recently used) and ``L`` rises to its credit. The cost
  is the computation's own CPU time (``time.thread_time`` of its thread, less the computations of other entries it
  stored meanwhile; at least ``MIN_COST_SECONDS``): a large frame that is cheap to read again — a snapshot its
  Parquet cache reloads — goes before a smaller table read or result that took seconds of SQL, while ``L``'s rise
  lets an entry nobody asks for again age out. With alike costs and sizes this is least-recently-used. At a million
  customers a plain LRU let the thirteen month-end snapshots (~2.9 GB) push out the whole base's table reads and
  aggregates, which a new filter's fact bundle then read again. The most recent entry always stays;
- **shrinkable**: ``shrink(budget)`` drops entries, largest first, until the rest fit a smaller budget — what a
  server does once it has been idle for a while (``tools.gate``): the large intermediate frames (table reads,
  snapshots) go back to the system, the small final answers (metric results, fact bundles, the doctor's survey)
  stay, so memory returns near its pre-burst level while a repeated question is still answered at once;
- **values are shared**: callers must not change them in place. DataFrames are handed out as shallow copies
  (under pandas' copy-on-write a change to the copy never reaches the stored frame).

Errors are not memoised: a computation that raises leaves no entry, and the next caller tries again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
DEFAULT_BUDGET_MB = 512.0
"""The smallest default budget (MiB); the default is a quarter of the physical memory when that is more."""
BUDGET_SHARE_OF_MEMORY = 0.25
BUDGET_ENV = "LIFECYCLE_MEMO_MB"
MIN_COST_SECONDS = 0.001
"""The least cost an entry is credited with: below a millisecond of CPU the measure is noise, so cheap entries of one
size are evicted in least-recently-used order."""


@functools.lru_cache(maxsize=1)
def physical_memory_bytes() -> int:
    """The machine's physical memory (``sysconf``: page size × pages); 0 where the platform does not tell. Read once
    per process: every memo store consults the budget, and two ``sysconf`` system calls per store added up to ~1 ms of
    a filtered fact bundle's ~75 stores."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def default_budget_bytes() -> float:
    """max(``DEFAULT_BUDGET_MB``, ``BUDGET_SHARE_OF_MEMORY`` × physical memory): room for the working set of a large
    dataset (two snapshots and a health table of a million customers are about 1.9 GiB) on a machine that has it,
    and the old 512 MiB where memory is unknown or small."""
    return max(DEFAULT_BUDGET_MB * 2**20, BUDGET_SHARE_OF_MEMORY * physical_memory_bytes())


def _budget_bytes() -> float:
    """``LIFECYCLE_MEMO_MB`` (MiB) when set to a number, else ``default_budget_bytes()``."""
    raw = os.environ.get(BUDGET_ENV)
    if raw is not None:
        try:
            return float(raw) * 2**20
        except ValueError:
            pass
    return default_budget_bytes()


SAMPLED_ITEMS = 32
"""A dict, list or tuple longer than twice this is sized from its first ``SAMPLED_ITEMS`` items, scaled to its length
(``size_of``): a fact bundle's 350 facts of ~15 fields each cost ~3 ms to walk on every store."""


def size_of(value: object, depth: int = 3) -> int:
    """Estimated bytes held by ``value``: a frame's column buffers (object and text columns counted deeply), else
    ``sys.getsizeof`` of the value plus, ``depth`` levels down, the items of a dict, list or tuple and the fields of a
    dataclass (a fact bundle holding frames counts its frames). A long dict, list or tuple counts its first
    ``SAMPLED_ITEMS`` items and scales their sum to its length (exact when its items are alike)."""
    if isinstance(value, _LEAVES):  # nothing inside to count
        return sys.getsizeof(value)
    frames = _frame_types()  # a frame can only exist once pandas is loaded; the memo itself does not load it
    if frames and isinstance(value, frames):
        return frame_bytes(value)
    size = sys.getsizeof(value)
    if depth <= 0:
        return size
    if isinstance(value, dict | list | tuple) and len(value) > 2 * SAMPLED_ITEMS:
        every = list(value.values()) if isinstance(value, dict) else value
        sampled = sum(size_of(item, depth - 1) for item in every[:SAMPLED_ITEMS])
        return size + sampled * len(every) // SAMPLED_ITEMS
    if isinstance(value, dict):
        items: Iterable[object] = value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    elif not isinstance(value, type) and (names := _field_names(_type_of(value))) is not None:
        items = (getattr(value, name, None) for name in names)
    else:
        return size
    return size + sum(size_of(item, depth - 1) for item in items)


SAMPLED_OBJECTS = 1000
"""An object column longer than this is sized from this many of its values drawn at random (a fixed seed: the same
estimate every time), their mean ``sys.getsizeof`` scaled to its length (``frame_bytes``)."""


def frame_bytes(frame: Any) -> int:
    """Bytes held by a DataFrame or Series (``size_of``): its index (``Index.memory_usage(deep=True)``) plus the
    buffers of its column arrays — a NumPy array's ``nbytes``, an Arrow-backed or masked array's ``nbytes`` (Arrow
    buffer sizes: text included), a categorical's codes and categories — and for each object column the
    ``sys.getsizeof`` of its values, estimated from a sample (``SAMPLED_OBJECTS``).

    Without object columns this is exactly ``memory_usage(deep=True)`` summed, read from the frame's blocks (one
    array per dtype) instead of one Series per column: ~30 µs for a 23-column frame instead of ~1 ms, the cost every
    memo store of a table read or snapshot paid (~25 ms of CPU in a cold demo ``lifecycle metrics``). A frame whose
    blocks cannot be read (another pandas' internals) is measured by ``memory_usage(deep=True)``."""
    blocks = getattr(getattr(frame, "_mgr", None), "blocks", None)
    if blocks is None:
        usage: Any = frame.memory_usage(deep=True)
        return int(usage.sum()) if hasattr(usage, "sum") else int(usage)
    return int(frame.index.memory_usage(deep=True)) + sum(_array_bytes(block.values) for block in blocks)


def _array_bytes(values: Any) -> int:
    """Bytes of one block's values (``frame_bytes``)."""
    import numpy as np  # loaded already: a frame exists

    if isinstance(values, np.ndarray) and values.dtype.kind == "O":  # a NumPy object array: its items too
        return int(values.nbytes) + _objects_bytes(values.ravel())
    categories = getattr(values, "categories", None)
    if categories is not None and hasattr(values, "codes"):  # a Categorical: its codes and its categories
        return int(values.codes.nbytes) + int(categories.memory_usage(deep=True))
    return int(values.nbytes)


def _objects_bytes(items: Any) -> int:
    """Σ ``sys.getsizeof`` over ``items`` (a 1-D object array): exact up to ``SAMPLED_OBJECTS`` items, else the mean of
    that many drawn at random (seed 0) times their number."""
    count = len(items)
    if count <= SAMPLED_OBJECTS:
        return sum(map(sys.getsizeof, items))
    import numpy as np  # loaded already: a frame exists

    drawn = items[np.random.default_rng(0).integers(0, count, SAMPLED_OBJECTS)]
    return sum(map(sys.getsizeof, drawn)) * count // SAMPLED_OBJECTS


_LEAVES = (str, bytes, int, float, complex, type(None))
_FRAMES: tuple[type, ...] = ()


def _frame_types() -> tuple[type, ...]:
    """(DataFrame, Series) once pandas is loaded, else () — looked up once, not on every ``size_of``. Read from the
    module's attributes: while another thread is still importing pandas, ``sys.modules`` already holds the partly
    initialised module without them (reading ``pd.DataFrame`` then raised ``AttributeError: partially initialized
    module 'pandas'`` in a stdio server's concurrent first calls); no frame can exist before they are set."""
    global _FRAMES
    if not _FRAMES:
        pd = sys.modules.get("pandas")
        frame, series = getattr(pd, "DataFrame", None), getattr(pd, "Series", None)
        if isinstance(frame, type) and isinstance(series, type):
            _FRAMES = (frame, series)
    return _FRAMES


def _type_of(value: object) -> Any:
    return type(value)


@functools.lru_cache(maxsize=512)
def _field_names(cls: Any) -> tuple[str, ...] | None:
    """The field names of a dataclass type (``dataclasses.fields``), None for any other type."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def _handed_out(value: T) -> T:
    frames = _frame_types()
    if frames and isinstance(value, frames):
        return value.copy(deep=False)  # type: ignore[attr-defined,no-any-return]  # a DataFrame or Series
    return value


@dataclasses.dataclass
class _Entry:
    """A stored value with its estimated ``size`` (bytes), its rebuild ``cost`` (seconds) and its eviction ``credit``."""

    value: Any
    size: int
    cost: float
    credit: float


class Memo:
    """A bounded, thread-safe memo with one computation per key (module docstring). ``clock``: the seconds counter
    that measures each computation's cost (default ``time.thread_time``; tests pass their own)."""

    def __init__(self, budget_bytes: float | None = None, clock: Callable[[], float] = time.thread_time) -> None:
        self._budget = budget_bytes
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._running: dict[Hashable, tuple[threading.Event, int]] = {}
        self._lock = threading.Lock()
        self._bytes = 0
        self._inflation = 0.0  # GreedyDual-Size's L: the credit of the last entry evicted
        self.hits = 0
        self.misses = 0

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value stored under ``key``, or ``compute()`` run once (concurrent callers wait) and stored."""
        while True:
            with self._lock:
                found = self._entries.get(key)
                if found is not None:
                    self._entries.move_to_end(key)
                    found.credit = self._inflation + found.cost / found.size
                    self.hits += 1
                    return _handed_out(found.value)  # type: ignore[no-any-return]
                running = self._running.get(key)
                if running is None:
                    self._running[key] = (threading.Event(), threading.get_ident())
                    self.misses += 1
                    break
                if running[1] == threading.get_ident():  # asked again inside its own computation
                    return compute()
            lend = getattr(_waiting, "lend", None)
            with lend() if lend is not None else contextlib.nullcontext():
                running[0].wait()  # another thread computes this key; then read it (or compute, had it failed)
        nested = _costs.__dict__.setdefault("nested", [])
        nested.append(0.0)  # the time of the entries this computation stores on its way (their own cost)
        start = self._clock()
        try:
            value = compute()
        except BaseException:
            nested.pop()
            with self._lock:
                self._running.pop(key)[0].set()
            raise
        spent = self._clock() - start
        inner = nested.pop()
        if nested:
            nested[-1] += spent
        with self._lock:
            self._store(key, value, max(spent - inner, MIN_COST_SECONDS))
            self._running.pop(key)[0].set()
        return _handed_out(value)

    def peek(self, key: Hashable) -> Any | None:
        """The value stored under ``key`` without computing anything (None when absent)."""
        with self._lock:
            found = self._entries.get(key)
            return _handed_out(found.value) if found is not None else None

    def cost(self, key: Hashable) -> float | None:
        """The rebuild cost (seconds) recorded for the entry under ``key`` (None when absent)."""
        with self._lock:
            found = self._entries.get(key)
            return found.cost if found is not None else None

    def clear(self) -> None:
        """Forget every entry (tests; a server never needs to: keys carry the data's identity)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._inflation = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """Estimated bytes held by the stored values (``size_of`` of each, summed)."""
        return self._bytes

    def shrink(self, budget_bytes: float) -> int:
        """Drop entries until their estimated size is at most ``budget_bytes``: the largest first (ties: the least
        recently used first), so many small answers outlive a few large frames. Returns the number dropped.

        Large values are intermediate frames that cost little to rebuild per byte held (a table read, a snapshot
        whose Parquet cache stays on disk); the small ones are final results whose recomputation repeats all that
        work. A computation still running is not affected: it stores its value when done."""
        with self._lock:
            if self._bytes <= budget_bytes:
                return 0
            ranked = sorted(enumerate(self._entries.items()), key=lambda item: (-item[1][1].size, item[0]))
            dropped = 0
            for _, (key, entry) in ranked:
                if self._bytes <= budget_bytes:
                    break
                del self._entries[key]
                self._bytes -= entry.size
                dropped += 1
            return dropped

    def _store(self, key: Hashable, value: object, cost: float) -> None:
        size = max(size_of(value), 1)
        self._entries[key] = _Entry(value, size, cost, self._inflation + cost / size)
        self._bytes += size
        budget = self._budget if self._budget is not None else _budget_bytes()
        while self._bytes > budget and len(self._entries) > 1:
            self._evict(newest=key)

    def _evict(self, newest: Hashable) -> None:
        """Drop the entry of least credit but ``newest`` (ties: the least recently used) and raise ``L`` to its
        credit (GreedyDual-Size)."""
        victim, least = None, float("inf")
        for key, entry in self._entries.items():  # least recently used first, so a tie keeps the first found
            if (victim is None or entry.credit < least) and key != newest:
                victim, least = (key,), entry.credit
        assert victim is not None  # called with at least two entries
        dropped = self._entries.pop(victim[0])
        self._bytes -= dropped.size
        self._inflation = max(self._inflation, least)


_waiting = threading.local()
_costs = threading.local()  # per thread: the stack of nested computations' inner times (``Memo.remember``)


@contextlib.contextmanager
def lending_while_waiting(lend: Callable[[], contextlib.AbstractContextManager[object]]) -> Iterator[None]:
    """In the block, every wait of this thread for a key another thread is computing runs inside ``lend()`` — how a
    server's call gives its computing slot to another call meanwhile (``tools.gate``) instead of holding it idle."""
    previous = getattr(_waiting, "lend", None)
    _waiting.lend = lend
    try:
        yield
    finally:
        _waiting.lend = previous


MEMO = Memo()
"""The process's memo: what the engine computed for one scope serves every later question about it."""


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """``MEMO.remember`` — see ``Memo.remember``."""
    return MEMO.remember(key, compute)
