"""Small results kept between processes: what every process would otherwise compute again at its start.

``lifecycle.memo`` computes each thing once per process; a whole-dataset look-up every command and server start
needs first (the data's date range: MIN and MAX over each table's time column, 15–50 s at 1M customers because the
indexes lead with the customer) is worth keeping on disk too. A kept value is a small JSON document at

    ``data_dir()/cache/<engine code fingerprint>/<data identity hash>/<kind>.json``

— the folder the snapshot cache (``lifecycle.snapshot.cache``) files the same data's snapshots under. The source's
``identity()`` changes with every import (``lifecycle.store.atomic_write`` swaps a new file into place), so a value
of the data an import replaced is never read again; the engine code's fingerprint does the same for a value computed
by another version of the code. Files are written to a temporary name and renamed into place (``os.replace``); a
file that cannot be read or decoded is recomputed and rewritten, and a data directory that cannot be written only
costs the saving (the value is still returned).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@functools.cache
def code_fingerprint() -> str:
    """12 hex of the sha256 of every ``lifecycle/**/*.py`` file (relative path and bytes, in path order).

    Any edit to the engine — an upgrade, or a developer's change in an editable install — gives a new id, so the
    cached results of the old code are never read again (they age out of the bounded cache). About 4 ms, once per
    process.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted(root.rglob("*.py")):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def identity_hash(identity: tuple[object, ...]) -> str:
    """16 hex of the sha256 of ``repr(identity)``: the folder name of one identity of the data."""
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:16]


def kept_path(identity: tuple[object, ...], kind: str) -> Path:
    """Where the value ``kind`` of the data with ``identity`` is kept (module docstring)."""
    from lifecycle.store import data_dir  # the store's module loads with the first kept value, not with the memo

    return data_dir() / "cache" / code_fingerprint() / identity_hash(identity) / f"{kind}.json"


@dataclass(frozen=True)
class Keeping(Generic[T]):
    """How a value of type ``T`` is kept as JSON: ``encode`` to a JSON-ready dict, ``decode`` back (raising any
    ``Exception`` on a document it does not recognise, which is then recomputed)."""

    encode: Callable[[T], dict[str, Any]]
    decode: Callable[[dict[str, Any]], T]

    def remember(self, identity: tuple[object, ...], kind: str, compute: Callable[[], T]) -> T:
        """The value kept for (``identity``, ``kind``), or ``compute()`` kept and returned. ``compute`` runs at most
        once per call; errors it raises are not kept."""
        target = kept_path(identity, kind)
        with contextlib.suppress(OSError, ValueError):
            document = json.loads(target.read_text(encoding="utf-8"))
            try:
                return self.decode(document)
            except Exception:  # a document from an unexpected writer is recomputed, never trusted
                pass
        value = compute()
        with contextlib.suppress(OSError, TypeError, ValueError):
            _write(target, json.dumps(self.encode(value), sort_keys=True))
        return value


def _write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
