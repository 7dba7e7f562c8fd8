"""Import case: an event export through `lifecycle.importing.import_file` against plain executemany (the floor),
and DuckDB's read_csv into a table as a reference point."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench_import import write_events
from peers.plain_import import read_rows, write_rows

from lifecycle.importing import import_file
from lifecycle.store import atomic_write
from speed.measure import Pair, Sample, interleaved, timed


def import_pair(rows: int, repeats: int, work: Path) -> tuple[Pair, dict[str, Any]]:
    """``rows`` key-less product events (bench_import's generator) imported from the file into a new database each
    run, against the floor: the same rows, already in memory, keyed and written with executemany into a new store
    with the same schema. DuckDB's read_csv of the file into a table is timed once beside, as a reference."""
    csv_path = work / f"events-{rows}.csv"
    if not csv_path.exists():
        write_events(csv_path, rows, seed=7, with_key=False)
    template = work / "empty-store.db"
    if not template.exists():
        with atomic_write(template):
            pass
    seen: dict[str, Any] = {}
    header, rows_in_memory = read_rows(str(csv_path))
    with tempfile.TemporaryDirectory(prefix="speed-import-", dir=work) as scratch:
        def ours() -> Sample:
            target = Path(tempfile.mkdtemp(dir=scratch)) / "store.db"
            sample, report = timed(lambda: import_file("events", csv_path, target))
            seen["product_rows"] = report.inserted
            shutil.rmtree(target.parent)
            return sample

        def floor() -> Sample:
            target = Path(tempfile.mkdtemp(dir=scratch)) / "store.db"
            shutil.copyfile(template, target)
            sample, seen["peer_rows"] = timed(lambda: write_rows(header, rows_in_memory, str(target)))
            shutil.rmtree(target.parent)
            return sample

        pair = interleaved(ours, floor, repeats, ("lifecycle import (file → store)", "sha256 key + executemany (rows in memory)"))
        seen["duckdb_read_csv_s"] = _duckdb_read_csv(csv_path)
    seen["rows"] = rows
    return pair, seen


def _duckdb_read_csv(csv_path: Path) -> float | None:
    """Seconds for DuckDB (one thread) to load the file into a table of an in-memory database (a reference)."""
    try:
        import duckdb
    except ImportError:
        return None
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        sample, _ = timed(lambda: con.execute("CREATE TABLE events AS SELECT * FROM read_csv(?)", [str(csv_path)]))
        return round(sample.wall_s, 3)
    finally:
        con.close()
