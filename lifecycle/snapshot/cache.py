"""The snapshot's Parquet cache: where a materialised snapshot (or a database aggregate) lives, and reading/writing it
safely.

One file per (database file identity, as_of, configuration fingerprint, filters, column subset) under
``data_dir()/cache``. The db identity is a sha256 of (resolved path, size, mtime_ns) — a re-import changes it,
so a stale snapshot is never read. Files are written to a temporary name and renamed into place
(``os.replace``), so a reader never sees half a file; a damaged file reads as absent and is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from lifecycle.config import EngineConfig
from lifecycle.filters import Filters
from lifecycle.sources import DataSource, open_source
from lifecycle.store import data_dir


def columns_tag(columns: Collection[str] | None) -> str:
    """A short stable tag of a column subset (``cols`` + 10 hex of the sorted names' sha256); "" for all columns."""
    if columns is None:
        return ""
    return "cols" + hashlib.sha256(",".join(sorted(set(columns))).encode()).hexdigest()[:10]


def snapshot_cache_path(source: DataSource | str | Path, as_of: date, config: EngineConfig, filters: Filters,
                        columns: Collection[str] | None = None, identity: tuple[object, ...] | None = None) -> Path:
    """Where the cached snapshot for these arguments lives (see ``lifecycle.snapshot.load_or_build_snapshot``).

    ``data_dir()/cache/<source identity>/snapshot-<as_of>-<config fingerprint>-<filters hash>[-<columns tag>].parquet``
    — ``identity``: the source's identity as read before the connection that builds the snapshot opened (default:
    read now).
    """
    found = identity if identity is not None else open_source(source).identity()
    identity_hash = _identity_hash(found)
    filters_hash = hashlib.sha256(json.dumps(filters.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    tag = f"-{columns_tag(columns)}" if columns is not None else ""
    name = f"snapshot-{as_of.isoformat()}-{config.fingerprint()}-{filters_hash}{tag}.parquet"
    return data_dir() / "cache" / identity_hash / name


def _identity_hash(identity: tuple[object, ...]) -> str:
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:16]


def aggregate_cache_path(identity: tuple[object, ...], kind: str, sql: str, params: Sequence[object]) -> Path:
    """Where a database aggregate of the data with ``identity`` is kept between processes:
    ``data_dir()/cache/<identity hash>/<kind>-<sha256 of the statement and its parameters>.parquet`` — beside the
    snapshots of the same data, so a re-import (a new identity) never reads it."""
    digest = hashlib.sha256(repr((sql, tuple(params))).encode()).hexdigest()[:20]
    return data_dir() / "cache" / _identity_hash(identity) / f"{kind}-{digest}.parquet"


def read_cached(target: Path) -> pd.DataFrame | None:
    """The snapshot stored at ``target``, or None when there is none or it cannot be read."""
    if target.exists():
        try:
            return pd.read_parquet(target)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            return None
    return None


def write_cached(snap: pd.DataFrame, target: Path) -> None:
    """Store ``snap`` at ``target`` atomically (temporary file in the same folder, then ``os.replace``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=target.parent)
    os.close(handle)
    try:
        snap.to_parquet(temporary, index=False)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
