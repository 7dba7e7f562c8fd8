"""Engine latency at 10k, 100k and 1M customers: snapshot build, then stages, health and the at-risk page from the cache.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000,100000,1000000] [--repeats 3] [--db DEMO] [--keep DIR]

Datasets: the Helloword demo (2,022 customers) replicated until the size is reached. Copy k of a row gets every
id prefixed with ``S<k>`` (customer, subscription, event, invoice, ... ids and the foreign keys between them), all
other values unchanged; the last copy takes only the first customers (by id) needed to hit the size exactly.
Every table is copied except ``leads`` (no measured call reads it). Events are the exception to full copies:
the demo has ~600 events per customer, so 1M customers would be ~600M rows; at the sizes in ``EVENT_STRIDE``
each copy keeps one event in ``stride`` (by source row, a different residue per copy), so event-derived values
are thinner than the demo's — the row counts are in the results. The store's schema comes from
``lifecycle.store.atomic_write`` (canonical tables and indexes); rows are then copied with ``INSERT … SELECT``
from the attached demo and the file is renamed into place.

Measured at as_of = the demo's data end, on SQLite, with ``LIFECYCLE_DATA_DIR`` in a temporary directory:

- ``snapshot_build_s``: ``load_or_build_snapshot`` with a cold cache (build + Parquet write), once;
- ``snapshot_cached_s``: the same call again (Parquet read) — what every later tool call pays first;
- ``stages_s`` / ``stages_evidence_s``: ``classify_customers`` without / with per-customer evidence;
- ``health_s``: ``score_health`` of the customers not churned (as the health tools do);
- ``at_risk_page_s``: ``list_at_risk`` first page (50 items) given that health table.

Latencies are the best of ``--repeats`` runs. Writes ``benchmarks/results/scale.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import RESULTS, demo_database, machine_info

from lifecycle import events_daily
from lifecycle.dataset import data_end
from lifecycle.health import score_health
from lifecycle.health.profile import load_health_profile
from lifecycle.health.risk import list_at_risk
from lifecycle.schema import TABLES
from lifecycle.snapshot import load_or_build_snapshot
from lifecycle.stages import classify_customers, load_model
from lifecycle.store import META_TABLE, atomic_write

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
EVENT_STRIDE = {10_000: 1, 100_000: 5, 1_000_000: 50}
"""Keep one event in ``stride`` per copy (1 = every event); sizes not listed use the next smaller listed size's."""
SKIPPED_TABLES = ("leads",)
ID_COLUMNS = ("customer_id", "referrer_customer_id", "referred_customer_id", "referred_lead_id", "user_id")


@dataclass(frozen=True)
class ScaleResult:
    """One size: what the dataset holds and how long each step took (seconds)."""

    customers: int
    event_stride: int
    events: int
    rows_total: int
    db_mb: float
    dataset_build_s: float
    snapshot_build_s: float
    snapshot_cached_s: float
    stages_s: float
    stages_evidence_s: float
    health_s: float
    at_risk_page_s: float
    alive_customers: int
    at_risk_total: int


def event_stride(customers: int) -> int:
    """The events thinning factor for a size (``EVENT_STRIDE``; larger sizes take the largest listed stride below them)."""
    listed = [size for size in sorted(EVENT_STRIDE) if size <= customers]
    return EVENT_STRIDE[listed[-1]] if listed else 1


def _copy_sql(table: str, columns: list[str], stride: int) -> str:
    """``INSERT … SELECT`` copying ``table`` from ``src`` with ids prefixed by the first parameter.

    Parameters: ``prefix``, ``boundary`` (customers with ids ≤ it are copied) and, for thinned events, ``residue``.
    """
    spec = TABLES[table]
    prefixed = {spec.primary_key, *ID_COLUMNS}
    select = ", ".join(f':prefix || "{c}"' if c in prefixed else f'"{c}"' for c in columns)
    key = "customer_id" if table == "customers" else spec.customer_column
    where = f'"{key}" <= :boundary'
    if table == "events" and stride > 1:
        where += f" AND rowid % {stride} = :residue"
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO main."{table}" ({names}) SELECT {select} FROM src."{table}" WHERE {where}'


def build_scaled(demo: Path, target: Path, customers: int, stride: int) -> None:
    """Write ``target``: the demo replicated to exactly ``customers`` customers (module docstring)."""
    staging = target.with_name(target.name + ".building")
    staging.unlink(missing_ok=True)
    with atomic_write(staging):
        pass  # an empty store with the canonical schema and indexes
    conn = sqlite3.connect(staging, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{demo}?mode=ro",))
        ids = [r[0] for r in conn.execute("SELECT customer_id FROM src.customers ORDER BY customer_id")]
        copies = math.ceil(customers / len(ids))
        conn.execute("BEGIN")
        events_daily.drop_triggers(conn)  # rows copied in bulk: the rollup is rebuilt once below, not marked per row
        for name, spec in TABLES.items():
            if name in SKIPPED_TABLES:
                continue
            columns = [c.name for c in spec.columns]
            sql = _copy_sql(name, columns, stride)
            for k in range(copies):
                last = customers - k * len(ids)
                boundary = ids[min(last, len(ids)) - 1]
                params: dict[str, Any] = {"prefix": f"S{k:03d}", "boundary": boundary}
                if name == "events" and stride > 1:
                    params["residue"] = k % stride
                conn.execute(sql, params)
        conn.execute(f"INSERT OR REPLACE INTO main.{META_TABLE} (key, value) SELECT key, value FROM src.{META_TABLE} "
                     "WHERE key IN ('data_start', 'data_end', 'dataset')")
        events_daily.rebuild(conn)  # the events rollup the importer keeps (lifecycle.events_daily)
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE src")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    os.replace(staging, target)


def _best(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, value = math.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        value = call()
        best = min(best, time.perf_counter() - started)
    return best, value


def measure(demo: Path, workdir: Path, customers: int, repeats: int) -> ScaleResult:
    """Build the dataset for ``customers`` and time each step (module docstring)."""
    stride = event_stride(customers)
    db = workdir / f"scale-{customers}.db"
    started = time.perf_counter()
    build_scaled(demo, db, customers, stride)
    dataset_build = time.perf_counter() - started
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in TABLES}
    finally:
        conn.close()
    as_of = data_end(db)

    started = time.perf_counter()
    load_or_build_snapshot(db, as_of)
    snapshot_build = time.perf_counter() - started
    cached, snapshot = _best(lambda: load_or_build_snapshot(db, as_of), repeats)
    model = load_model("default")
    profile = load_health_profile("default")
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    stages, _ = _best(lambda: classify_customers(snapshot, model, evidence=False), repeats)
    evidence, _ = _best(lambda: classify_customers(snapshot, model), max(1, repeats if customers < 1_000_000 else 1))
    health_s, health = _best(lambda: score_health(alive, profile), repeats)
    page_s, page = _best(lambda: list_at_risk(alive, health, limit=50), repeats)
    return ScaleResult(
        customers=int(len(snapshot)), event_stride=stride, events=rows["events"], rows_total=sum(rows.values()),
        db_mb=round(db.stat().st_size / 1e6, 1), dataset_build_s=round(dataset_build, 2),
        snapshot_build_s=round(snapshot_build, 3), snapshot_cached_s=round(cached, 4), stages_s=round(stages, 4),
        stages_evidence_s=round(evidence, 4), health_s=round(health_s, 4), at_risk_page_s=round(page_s, 4),
        alive_customers=len(alive), at_risk_total=page.total,
    )


def markdown(rows: list[dict[str, Any]]) -> str:
    """One row per size: data volume, snapshot build, then per-call latencies from the cached snapshot."""
    lines = ["| customers | events (kept) | rows | snapshot build | cached snapshot load | stages | stages + evidence "
             "| health | at-risk page | listed at risk |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['customers']:,} | {r['events']:,} (1/{r['event_stride']}) | {r['rows_total']:,} "
                     f"| {r['snapshot_build_s']:.1f} s | {r['snapshot_cached_s'] * 1000:.0f} ms | {r['stages_s'] * 1000:.0f} ms "
                     f"| {r['stages_evidence_s'] * 1000:.0f} ms | {r['health_s'] * 1000:.0f} ms | {r['at_risk_page_s'] * 1000:.0f} ms "
                     f"| {r['at_risk_total']:,} of {r['alive_customers']:,} live |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="comma-separated customer counts")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", help="the demo store to replicate (default: build it into a temporary directory)")
    parser.add_argument("--keep", help="write the scaled stores into this directory and keep them")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows: list[dict[str, Any]] = []
    with demo_database(args.db) as demo, tempfile.TemporaryDirectory(prefix="lifecycle-scale-") as scratch:
        workdir = Path(args.keep) if args.keep else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            result = measure(demo, workdir, size, args.repeats)
            rows.append(asdict(result))
            print(json.dumps(rows[-1]), flush=True)
            if not args.keep:
                (workdir / f"scale-{size}.db").unlink(missing_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps({"benchmark": "scale", **machine_info(), "rows": rows}, indent=1) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
