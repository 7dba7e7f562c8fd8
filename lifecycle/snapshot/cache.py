"""The snapshot's Parquet cache: where a materialised snapshot (or a database aggregate) lives, and reading/writing it
safely.

One file per (engine code, database file identity, as_of, configuration fingerprint, filters, column subset) under
``data_dir()/cache``. The db identity is a sha256 of (resolved path, size, mtime_ns) — a re-import changes it,
so a stale snapshot is never read; the engine code's fingerprint (a sha256 of the ``lifecycle`` package's sources)
keeps a snapshot computed by another version of the engine from being served after an upgrade or an edit. Files are
written to a temporary name and renamed into place (``os.replace``), so a reader never sees half a file; a damaged
file reads as absent and is rebuilt.

The cache is bounded: after each write the least recently used files (by modification time; a read refreshes it) are
removed until the whole cache — every engine version's — fits ``LIFECYCLE_CACHE_MB`` (default 2048 MiB).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from lifecycle.config import EngineConfig
from lifecycle.disk_memo import code_fingerprint
from lifecycle.disk_memo import identity_hash as _identity_hash
from lifecycle.filters import Filters
from lifecycle.sources import DataSource, open_source
from lifecycle.store import data_dir

CACHE_BUDGET_ENV = "LIFECYCLE_CACHE_MB"
DEFAULT_CACHE_MB = 2048


def cache_root() -> Path:
    """``data_dir()/cache/<engine code fingerprint>`` — where this version of the engine keeps its cached results."""
    return data_dir() / "cache" / code_fingerprint()


def cache_budget_bytes() -> int:
    """The cache's size bound in bytes: ``LIFECYCLE_CACHE_MB`` MiB (default 2048; a non-number reads as the
    default; a negative number as 0)."""
    raw = os.environ.get(CACHE_BUDGET_ENV, "")
    try:
        megabytes = float(raw) if raw.strip() else DEFAULT_CACHE_MB
    except ValueError:
        megabytes = DEFAULT_CACHE_MB
    return int(max(megabytes, 0.0) * 1024 * 1024)


TEMPORARY_PREFIX = ".tmp-"
"""The name prefix of a cache file being written (``write_cached``), which eviction leaves alone."""


def evict_least_recently_used(keep: Path | None = None, budget: int | None = None) -> list[Path]:
    """Remove the least recently used cache files (oldest modification time first; ties by path) until the files under
    ``data_dir()/cache`` — all engine versions — total at most ``budget`` bytes (default ``cache_budget_bytes()``).
    ``keep`` (the file just written) is never removed, nor a file being written (``write_cached``'s temporary name:
    another process — e.g. the catalogue's forked checkpoint builder — would fail to rename it into place). Files
    another process removes meanwhile are skipped. Returns the removed paths."""
    limit = cache_budget_bytes() if budget is None else budget
    found: list[tuple[int, str, int, Path]] = []
    for path in (data_dir() / "cache").rglob("*.parquet"):
        if path.name.startswith(TEMPORARY_PREFIX):
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        found.append((info.st_mtime_ns, str(path), info.st_size, path))
    total = sum(size for _, _, size, _ in found)
    removed: list[Path] = []
    for _, _, size, path in sorted(found):
        if total <= limit:
            break
        if keep is not None and path == keep:
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
        total -= size
    return removed


def columns_tag(columns: Collection[str] | None) -> str:
    """A short stable tag of a column subset (``cols`` + 10 hex of the sorted names' sha256); "" for all columns."""
    if columns is None:
        return ""
    return "cols" + hashlib.sha256(",".join(sorted(set(columns))).encode()).hexdigest()[:10]


def snapshot_cache_path(source: DataSource | str | Path, as_of: date, config: EngineConfig, filters: Filters,
                        columns: Collection[str] | None = None, identity: tuple[object, ...] | None = None) -> Path:
    """Where the cached snapshot for these arguments lives (see ``lifecycle.snapshot.load_or_build_snapshot``).

    ``data_dir()/cache/<engine code>/<source identity>/snapshot-<as_of>-<config fingerprint>-<filters hash>[-<columns tag>].parquet``
    — ``identity``: the source's identity as read before the connection that builds the snapshot opened (default:
    read now).
    """
    found = identity if identity is not None else open_source(source).identity()
    identity_hash = _identity_hash(found)
    filters_hash = hashlib.sha256(json.dumps(filters.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    tag = f"-{columns_tag(columns)}" if columns is not None else ""
    name = f"snapshot-{as_of.isoformat()}-{config.fingerprint()}-{filters_hash}{tag}.parquet"
    return cache_root() / identity_hash / name


def aggregate_cache_path(identity: tuple[object, ...], kind: str, sql: str, params: Sequence[object]) -> Path:
    """Where a database aggregate of the data with ``identity`` is kept between processes:
    ``data_dir()/cache/<engine code>/<identity hash>/<kind>-<sha256 of the statement and its parameters>.parquet`` — beside the
    snapshots of the same data, so a re-import (a new identity) never reads it."""
    digest = hashlib.sha256(repr((sql, tuple(params))).encode()).hexdigest()[:20]
    return cache_root() / _identity_hash(identity) / f"{kind}-{digest}.parquet"


def read_cached(target: Path) -> pd.DataFrame | None:
    """The snapshot stored at ``target``, or None when there is none or it cannot be read. A read marks the file as
    recently used (its modification time), so the bounded cache evicts it last."""
    if target.exists():
        try:
            frame = _read_parquet(target)
        except Exception:  # a damaged (or just evicted) cache file is rebuilt, never trusted
            return None
        with contextlib.suppress(OSError):
            os.utime(target)
        return frame
    return None


def _read_parquet(target: Path) -> pd.DataFrame:
    """``pd.read_parquet(target)``'s frame, read through ``pyarrow.parquet.ParquetFile`` and converted as pandas converts
    it (``arrow_table_to_pandas``, the index and dtypes from the file's pandas metadata): ``pd.read_parquet`` opens a
    single file as a ``pyarrow.dataset`` — an import of ~10 ms on a cold command's path and ~0.8 ms more per file."""
    import pyarrow.parquet as pq
    from pandas.io._util import arrow_table_to_pandas

    table = pq.ParquetFile(target).read(use_pandas_metadata=True)
    frame = arrow_table_to_pandas(table)
    attrs = (table.schema.metadata or {}).get(b"PANDAS_ATTRS")
    if attrs is not None:
        frame.attrs = json.loads(attrs)
    return frame


def write_cached(snap: pd.DataFrame, target: Path) -> None:
    """Store ``snap`` at ``target`` atomically (temporary file in the same folder, then ``os.replace``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".parquet", dir=target.parent)
    os.close(handle)
    try:
        snap.to_parquet(temporary, index=False)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    evict_least_recently_used(keep=target)
