"""Large synthetic datasets with the demo's causal structure, written straight to Parquet (issue #18's scale runs).

    python -m data.scale OUT_DIR --customers 1000000 --events 50000000 [--demo DEMO.db] [--sqlite OUT.db]

How: the Helloword demo (``data.generator``: ~2,000 customers whose signups, plans, usage, tickets, payments and churn
are generated from one causal model) is replicated. Copy ``k`` of every row gets each id prefixed with
``S<kkkk>-`` (customer, subscription, event, invoice … ids and the foreign keys between them), every other value
unchanged, so each copy of a customer lives the same life, and every relation the engine reads (stages, health,
churn, revenue movements) keeps the demo's shape at any size. The last copy takes only the first customers (by id)
needed to reach ``customers`` exactly. Events are thinned to about ``events`` rows: with ``stride`` = round(demo
events × copies ÷ events), copy ``k`` keeps the events whose row number n has (n + k) mod stride = 0 — a different
residue per copy, so across copies every demo event is represented. The counts written are returned (and printed).

DuckDB does the work (reading the demo's SQLite file offline through ``duckdb-ext-sqlite``), one ``COPY … TO``
per table, so memory stays bounded at any size. Column types follow the store (``lifecycle.sources.parquet``):
dates stay ISO-8601 text, money/numbers doubles, integers 64-bit. ``load_sqlite`` turns such a folder into the
importer's SQLite file (canonical schema from ``lifecycle.store.atomic_write``), for the SQLite engine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import duckdb

from lifecycle import events_daily
from lifecycle.schema import TABLES, ColumnKind
from lifecycle.sources.duckdb import sqlite_extension
from lifecycle.sources.parquet import table_paths
from lifecycle.store import META_TABLE, atomic_write

ID_COLUMNS = ("customer_id", "referrer_customer_id", "referred_customer_id", "referred_lead_id", "user_id")
"""Columns holding ids of other rows: prefixed in every copy, like each table's primary key."""

DUCK_TYPES = {"REAL": "DOUBLE", "INTEGER": "BIGINT"}
META_KEYS = ("data_start", "data_end", "dataset", "schema_version", "currency")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _select(table: str, stride: int) -> str:
    """The rows of every copy of ``table``: ids prefixed, types as the store's, the last copy cut at ``last``."""
    spec = TABLES[table]
    prefixed = {spec.primary_key, *ID_COLUMNS}
    columns = []
    for column in spec.columns:
        kind = DUCK_TYPES.get(ColumnKind(column.kind).sqlite_type, "VARCHAR")
        value = f't."{column.name}"'
        if column.name in prefixed:
            value = f"(prefix || CAST({value} AS VARCHAR))"
        columns.append(f'CAST({value} AS {kind}) AS "{column.name}"')
    key = "customer_id" if table == "customers" else spec.customer_column
    where = [f'(c.k < last_copy OR t."{key}" IS NULL OR t."{key}" <= boundary)']
    if table == "events" and stride > 1:
        where.append(f"(t._n + c.k) % {stride} = 0")
    return (f"SELECT {', '.join(columns)} FROM src_{table} t CROSS JOIN copies c "
            f"WHERE {' AND '.join(where)}")


def generate_parquet(demo: Path, out: Path, customers: int, events: int, threads: int = 2,
                     memory_limit: str = "3GB") -> dict[str, int]:
    """Write the dataset of ``customers`` customers and about ``events`` events to ``out`` (one ``<table>.parquet``
    per table, replaced as a whole); rows written per table (module docstring)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="_tmp-scale-", dir=out.parent))
    con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit,
                                             "preserve_insertion_order": "false"})
    try:
        con.execute(f"LOAD {_quoted(sqlite_extension())}")
        con.execute(f"ATTACH {_quoted(str(demo.resolve()))} AS src (TYPE sqlite, READ_ONLY)")
        ids = [r[0] for r in con.execute("SELECT customer_id FROM src.customers ORDER BY customer_id").fetchall()]
        copies = math.ceil(customers / len(ids))
        last = customers - (copies - 1) * len(ids)
        boundary = ids[last - 1]
        demo_events = con.execute("SELECT count(*) FROM src.events").fetchone()[0]
        stride = max(1, round(demo_events * copies / events)) if events else 1
        con.execute(f"CREATE TEMP TABLE copies AS SELECT range AS k, 'S' || lpad(CAST(range AS VARCHAR), 4, '0') || '-' "
                    f"AS prefix, {copies - 1} AS last_copy, {_quoted(boundary)} AS boundary FROM range({copies})")
        counts: dict[str, int] = {}
        for table in TABLES:
            con.execute(f'CREATE TEMP VIEW src_{table} AS SELECT *, row_number() OVER () AS _n FROM src."{table}"')
            target = staging / f"{table}.parquet"
            con.execute(f"COPY ({_select(table, stride)}) TO {_quoted(str(target))} (FORMAT parquet, ROW_GROUP_SIZE 500000)")
            counts[table] = con.execute(f"SELECT count(*) FROM read_parquet({_quoted(str(target))})").fetchone()[0]
        keys = ", ".join(_quoted(k) for k in META_KEYS)
        con.execute(f"COPY (SELECT CAST(key AS VARCHAR) AS key, CAST(value AS VARCHAR) AS value FROM src.{META_TABLE} "
                    f"WHERE key IN ({keys})) TO {_quoted(str(staging / (META_TABLE + '.parquet')))} (FORMAT parquet)")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
        return counts
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)


def _events_rollup(path: Path, rebuild: bool) -> None:
    """Drop the events rollup's staleness triggers (``rebuild`` False) or rebuild the rollup (``lifecycle.events_daily``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        if rebuild:
            events_daily.rebuild(conn)
        else:
            events_daily.drop_triggers(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


def load_sqlite(folder: Path, db: Path, threads: int = 2) -> dict[str, int]:
    """The Parquet dataset in ``folder`` as the importer's SQLite file ``db`` (canonical schema and indexes from the
    store; rows copied by DuckDB into a temporary file renamed into place); rows per table."""
    staging = db.with_name(db.name + ".loading")
    staging.unlink(missing_ok=True)
    with atomic_write(staging):
        pass  # the canonical schema, indexes and schema version
    _events_rollup(staging, rebuild=False)  # rows copied in bulk: the rollup is rebuilt once at the end, not marked per row
    con = duckdb.connect(":memory:", config={"threads": threads})
    counts: dict[str, int] = {}
    try:
        con.execute(f"LOAD {_quoted(sqlite_extension())}")
        con.execute(f"ATTACH {_quoted(str(staging.resolve()))} AS dst (TYPE sqlite)")
        paths = table_paths(folder)
        for table, spec in TABLES.items():
            if table not in paths:
                continue
            names = ", ".join(f'"{c.name}"' for c in spec.columns)
            con.execute(f'INSERT INTO dst."{table}" ({names}) SELECT {names} FROM read_parquet({_quoted(str(paths[table]))})')
            counts[table] = con.execute(f'SELECT count(*) FROM dst."{table}"').fetchone()[0]
        if META_TABLE in paths:
            con.execute(f"DELETE FROM dst.{META_TABLE} WHERE key IN ('data_start', 'data_end', 'dataset')")
            con.execute(f"INSERT INTO dst.{META_TABLE} (key, value) SELECT key, value FROM read_parquet("
                        f"{_quoted(str(paths[META_TABLE]))}) WHERE key IN ('data_start', 'data_end', 'dataset')")
    finally:
        con.close()
    _events_rollup(staging, rebuild=True)
    os.replace(staging, db)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (<table>.parquet per table)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--demo", type=Path, help="the demo SQLite file to replicate (default: build it)")
    parser.add_argument("--sqlite", type=Path, help="also load the folder into this SQLite file")
    args = parser.parse_args()
    demo = args.demo
    if demo is None:
        from data.generator import ensure_demo

        demo = Path(ensure_demo())
    started = time.perf_counter()
    counts = generate_parquet(demo, args.out, args.customers, args.events)
    report: dict[str, object] = {"parquet": str(args.out), "rows": counts, "seconds": round(time.perf_counter() - started, 1)}
    if args.sqlite:
        started = time.perf_counter()
        load_sqlite(args.out, args.sqlite)
        report["sqlite_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
