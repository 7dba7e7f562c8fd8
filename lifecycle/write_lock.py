"""One writer per database: an advisory lock file beside it, so concurrent imports queue instead of racing.

``write_lock(db)`` holds ``<db>.lock`` (the ``filelock`` package: ``flock`` on POSIX, ``LockFileEx`` on Windows)
for as long as a write runs. A second writer waits for it — up to ``wait_s`` seconds, then fails with
``DatabaseBusyError`` naming the process that holds it (read from ``<db>.lock.owner``, which the holder writes
when it gets the lock). The operating system releases the lock when its holder exits, even on ``kill -9``, so a
crashed import never blocks the next one; a stale owner file is simply overwritten.

Readers take no lock: every write builds a private copy and renames it over the database (``store.atomic_write``),
so a reader sees either the old file or the new one. Holding the lock across the whole copy → write → rename is
what prevents a lost update (two imports copying the same original and the second rename discarding the first).

The lock is re-entrant within a thread (an import holds it while ``atomic_write`` takes it again).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.errors import DatabaseBusyError, DatasetError

if TYPE_CHECKING:  # the lock package loads with the first write: readers (serve, metrics) never take the lock
    from filelock import FileLock

DEFAULT_WAIT_S = 600.0  # how long a second import waits for the first (lifecycle import --wait)
_held = threading.local()


def lock_path(db: str | os.PathLike[str]) -> Path:
    """The lock file of the database at ``db``: ``<db>.lock`` beside the real file (symlinks resolved)."""
    target = Path(db).resolve()
    return target.with_name(target.name + ".lock")


def owner_path(db: str | os.PathLike[str]) -> Path:
    """Where the lock holder describes itself: ``<db>.lock.owner`` (JSON: pid, host, command, since)."""
    target = Path(db).resolve()
    return target.with_name(target.name + ".lock.owner")


@contextlib.contextmanager
def write_lock(db: str | os.PathLike[str], wait_s: float = DEFAULT_WAIT_S,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the database's write lock for the ``with`` block.

    Tries once; when another process holds the lock, calls ``on_wait`` with a description of the holder (the
    CLI prints it) and waits up to ``wait_s`` seconds (``0``: do not wait). Raises ``DatabaseBusyError`` when
    the wait runs out, ``DatasetError`` when the lock file cannot be created (e.g. a read-only directory).
    """
    path = lock_path(db)
    counts: dict[Path, int] = _held.__dict__.setdefault("counts", {})
    if counts.get(path):
        counts[path] += 1
        try:
            yield
        finally:
            counts[path] -= 1
        return
    from filelock import FileLock

    lock = FileLock(str(path), thread_local=False)
    _acquire(lock, db, wait_s, on_wait)
    counts[path] = 1
    try:
        _write_owner(db)
        yield
    finally:
        counts[path] = 0
        with contextlib.suppress(OSError):
            owner_path(db).unlink()
        lock.release()


def _acquire(lock: FileLock, db: str | os.PathLike[str], wait_s: float, on_wait: Callable[[str], None] | None) -> None:
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
        return
    except Timeout:
        pass
    except OSError as exc:
        raise DatasetError(f"{db}: cannot create the lock file {lock.lock_file} ({exc.strerror or exc}): "
                           "the database's folder must be writable") from None
    holder = describe_holder(db)
    if on_wait is not None and wait_s > 0:
        on_wait(holder)
    started = time.monotonic()
    try:
        if wait_s <= 0:
            raise Timeout(lock.lock_file)
        lock.acquire(timeout=wait_s)
    except Timeout:
        waited = time.monotonic() - started
        raise DatabaseBusyError(str(db), holder, waited) from None


def describe_holder(db: str | os.PathLike[str]) -> str:
    """The process holding the write lock, as a phrase: ``pid 4242 on host-1 (lifecycle import events e.csv), since 12:00:03 UTC``."""
    try:
        info = json.loads(owner_path(db).read_text(encoding="utf-8"))
        return (f"pid {int(info['pid'])} on {info['host']} ({info['command']}), since {info['since']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it has not said which yet)"


def _write_owner(db: str | os.PathLike[str]) -> None:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else "python"
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command[:200],
            "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
    final = owner_path(db)
    staging = final.with_name(f"{final.name}.{os.getpid()}-{threading.get_ident()}")
    with contextlib.suppress(OSError):  # the description is a courtesy: never fail a write over it
        staging.write_text(json.dumps(info), encoding="utf-8")
        os.replace(staging, final)
