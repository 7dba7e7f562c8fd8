"""The Helloword demo dataset: build it, find it, summarise it.

``build_demo(path)`` generates the fictional B2B SaaS company "Helloword" (about 2,000 customers, 6,000 leads
and 1.3M usage rows over 2024-01-01 … 2025-12-31) and writes it as a Lifecycle MCP store. The build is
deterministic — fixed seed, fixed row order, no clocks or temporary names inside the file — so every build
produces the same bytes (``tests/data/test_determinism.py`` pins it). ``ensure_demo()`` is what every command
without ``--db`` calls: it builds the demo into ``lifecycle.store.default_db_path()`` the first time.

The causal structure and its parameters are in ``data.params`` and ``docs/demo-dataset.md``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from data import params as P
from data.population import grow_population
from data.tables import Table, build_tables, check_columns, plant_adversarial_text
from lifecycle.schema import TABLES
from lifecycle.store import (
    META_TABLE,
    atomic_write,
    default_db_path,
    open_readonly,
    schema_is_outdated,
    table_row_counts,
)
from lifecycle.write_lock import lock_path

DATASET_NAME = "helloword-demo"


@dataclass(frozen=True)
class DemoSummary:
    """What a demo database holds: rows per canonical table and each table's first and last time value."""

    path: Path
    rows: dict[str, int]
    time_ranges: dict[str, tuple[str | None, str | None]]
    data_start: str
    data_end: str
    build_seconds: float | None  # None when the database already existed
    built: bool

    @property
    def total_rows(self) -> int:
        """Rows over every canonical table."""
        return sum(self.rows.values())


def generate() -> list[Table]:
    """The demo's canonical tables, in memory (deterministic: same seed, same rows)."""
    population = grow_population()
    plant_adversarial_text(population.accounts)
    tables = build_tables(population)
    check_columns(tables)
    return tables


def build_demo(path: str | os.PathLike[str]) -> DemoSummary:
    """Generate the demo and write it to ``path`` (replacing any file there atomically); return its summary.

    The store is written into a fresh sibling file through ``lifecycle.store.atomic_write`` and then renamed
    over ``path``, so readers never see a half-built demo and two concurrent builds both leave a complete one.
    """
    started = time.perf_counter()
    write_dataset(path, generate, _meta())
    return read_summary(path, build_seconds=time.perf_counter() - started)


def write_dataset(path: str | os.PathLike[str], make_tables: Callable[[], list[Table]], meta: dict[str, str]) -> None:
    """Write the tables ``make_tables()`` returns, and ``meta`` into ``_meta``, as a fresh store at ``path``.

    Shared by every generated dataset (Helloword, the shop of ``data.shop``). The store is built in a sibling
    staging file through ``atomic_write`` and renamed over ``path``; ``meta`` must hold no clock values, so the
    bytes depend on the tables alone.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.building-{os.getpid()}")
    staging.unlink(missing_ok=True)
    try:
        tables = make_tables()
        with atomic_write(staging) as db:
            for table in tables:
                _insert(db.conn, table)
            db.conn.executemany(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)", sorted(meta.items()))
            db.conn.execute("ANALYZE")
        os.replace(staging, target)
    finally:
        for leftover in (staging, lock_path(staging)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def ensure_demo(path: str | os.PathLike[str] | None = None) -> Path:
    """The path of a usable demo database: ``path`` (default ``default_db_path()``), built first if missing or written
    by an older schema (the demo is generated, so rebuilding it loses nothing)."""
    target = Path(path) if path is not None else default_db_path()
    if not target.exists() or schema_is_outdated(target):
        build_demo(target)
    return target


def read_summary(path: str | os.PathLike[str], build_seconds: float | None = None) -> DemoSummary:
    """The summary of the store at ``path``: rows and first/last time value per canonical table."""
    target = Path(path)
    conn = open_readonly(target)
    try:
        rows = table_row_counts(conn)
        ranges: dict[str, tuple[str | None, str | None]] = {}
        for name in rows:
            column = TABLES[name].time_column
            if column:  # identifiers come from the schema, never from input
                first, last = conn.execute(f'SELECT min("{column}"), max("{column}") FROM "{name}"').fetchone()
                ranges[name] = (first, last)
        meta = dict(conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
    finally:
        conn.close()
    return DemoSummary(
        path=target, rows=rows, time_ranges=ranges,
        data_start=meta.get("data_start", P.DATA_START.isoformat()), data_end=meta.get("data_end", P.DATA_END.isoformat()),
        build_seconds=build_seconds, built=build_seconds is not None,
    )


def _insert(conn: sqlite3.Connection, table: Table) -> None:
    columns = ", ".join(f'"{c}"' for c in table.columns)
    marks = ", ".join("?" for _ in table.columns)
    conn.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', table.rows)


def _meta() -> dict[str, str]:
    """Provenance recorded in ``_meta`` (no timestamps: the file must be byte-identical across builds)."""
    return {
        "dataset": DATASET_NAME,
        "demo_generator_version": P.GENERATOR_VERSION,
        "demo_seed": str(P.SEED),
        "data_start": P.DATA_START.isoformat(),
        "data_end": P.DATA_END.isoformat(),
    }
