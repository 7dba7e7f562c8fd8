"""The floor for `lifecycle import`: plain executemany of the file's rows, a derived key per row, into the same table.

    python benchmarks/peers/plain_import.py FILE.csv DB     # DB: a store with the canonical schema (made by the caller)

``read_rows`` reads the CSV with the csv module (not timed by the benchmark: the floor starts from rows in memory);
``write_rows`` is the timed part — each row's key is the first 24 hex digits of sha256 of its values joined by
``\\x1f`` (the importer's derived-key rule, ``lifecycle.importing.keys``, without its canonical re-formatting) and
the rows go into the same events table the importer writes (same columns, primary key and index, the extra column
as ``x_…``) with one ``executemany`` in one transaction, with the importer's page cache (128 MiB) and no journal. No
validation, no type parsing, no atomic file swap.
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
import sys

CANONICAL = ("customer_id", "occurred_at", "event_name", "quantity", "user_id")


def read_rows(csv_path: str) -> tuple[list[str], list[list[str]]]:
    """The header and every row of ``csv_path`` as lists of text."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def write_rows(header: list[str], rows: list[list[str]], db_path: str, table: str = "events") -> int:
    """Derive each row's key and insert every row into ``table`` of ``db_path``; returns the rows written."""
    columns = ["event_id", *(h if h in CANONICAL else "x_" + h.lower() for h in header)]
    sha256 = hashlib.sha256
    keyed = [(sha256("\x1f".join(row).encode()).hexdigest()[:24], *row) for row in rows]
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -131072")  # the importer's page cache (128 MiB): index inserts in memory
        existing = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        for column in columns:
            if column not in existing:
                conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" TEXT')
        conn.execute("BEGIN")
        marks = ", ".join("?" * len(columns))
        conn.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', keyed)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return len(keyed)


if __name__ == "__main__":
    print(write_rows(*read_rows(sys.argv[1]), sys.argv[2]))
