"""Engine cases: the whole metric catalogue process to process against the hand-written five-metric script, the
same five metrics in-process, and the snapshot build against one hand-written SQL statement (SQLite, DuckDB)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from peers import five_metrics, snapshot_sql

import lifecycle
from lifecycle.memo import MEMO
from lifecycle.snapshot import build_snapshot
from lifecycle.sources import open_source
from speed.measure import Pair, Sample, interleaved, run_process, timed
from speed.start import compile_project

BENCHMARKS = Path(__file__).resolve().parents[1]
LIFECYCLE = str(Path(sys.executable).with_name("lifecycle"))
BENCH_TIME_LIMIT_S = 600.0
"""Per-statement time limit of the sources the in-process cases open: the product's default (30 s) is for serving, and
a statement of a second's CPU can pass it on a shared machine under load (niced), failing the run."""
FIVE = ("mrr", "logo_churn_rate", "nrr", "activation_rate", "nps")


def _values(text: str) -> dict[str, Any]:
    return json.loads(text)


def catalogue_pair(db: Path, repeats: int, env: dict[str, str], warm: bool) -> tuple[Pair, dict[str, Any]]:
    """`lifecycle metrics --db DB --json` (every metric) against `python peers/five_metrics.py DB`, process to process.

    Cold: each product run gets an empty data directory (no snapshot or result cache). Warm: one untimed run fills a
    data directory first and every timed run reuses it. The five values of both are compared. The product runs with
    a configuration raising the per-statement time limit to ``BENCH_TIME_LIMIT_S`` (a statement over 12M events can
    pass the CLI's 30 s on a loaded machine; the peer has no limit). The project is byte-compiled first
    (``speed.start.compile_project``): a run of this case alone would otherwise compile every module on each start."""
    compile_project()
    seen: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="speed-catalogue-") as scratch:
        shared = Path(scratch) / "warm"
        config = Path(scratch) / "bench.toml"  # room per statement on a loaded machine (the CLI's default is 30 s)
        config.write_text(f"[source]\nquery_time_limit_s = {BENCH_TIME_LIMIT_S:g}\n")
        command = [LIFECYCLE, "metrics", "--db", str(db), "--json", "--config", str(config)]
        if warm:
            run_process(command, dict(env, LIFECYCLE_DATA_DIR=str(shared)))

        def ours() -> Sample:
            data_dir = shared if warm else Path(tempfile.mkdtemp(dir=scratch))
            sample, out = run_process(command, dict(env, LIFECYCLE_DATA_DIR=str(data_dir)))
            if not warm:
                shutil.rmtree(data_dir, ignore_errors=True)
            found = _values(out)
            seen["product"] = {m: found[m]["value"] for m in FIVE}
            seen["product_metrics"] = len(found)
            return sample

        def peer() -> Sample:
            sample, out = run_process([sys.executable, str(BENCHMARKS / "peers" / "five_metrics.py"), str(db)], env)
            seen["peer"] = _values(out)["metrics"]
            return sample

        pair = interleaved(ours, peer, repeats, ("lifecycle metrics --json", "pandas five-metric script"))
    seen["same_values"] = all(_close(seen["product"][m], seen["peer"][m]) for m in FIVE)
    return pair, seen


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b)))


def five_in_process_pair(db: Path, as_of: date, repeats: int) -> tuple[Pair, dict[str, Any]]:
    """The five metrics in this process: the engine (``lifecycle.open(db).metrics``, a new handle each run, the process
    memo cleared before it and an empty data directory, so no Parquet cache serves it) against the hand-written functions on a new connection each run."""
    seen: dict[str, Any] = {}

    def ours() -> Sample:
        MEMO.clear()  # computed, not served from an earlier run's results
        with tempfile.TemporaryDirectory(prefix="speed-five-") as empty:  # nor from the data directory's caches
            before = os.environ.get("LIFECYCLE_DATA_DIR")
            os.environ["LIFECYCLE_DATA_DIR"] = empty
            try:
                sample, frame = timed(lambda: lifecycle.open(db, as_of=as_of).metrics(list(FIVE)))
            finally:
                if before is None:
                    os.environ.pop("LIFECYCLE_DATA_DIR", None)
                else:
                    os.environ["LIFECYCLE_DATA_DIR"] = before
        values = {m: None if frame.at[m, "value"] is None or frame.at[m, "value"] != frame.at[m, "value"]
                  else float(frame.at[m, "value"]) for m in FIVE}
        seen["product"] = values
        return sample

    def peer() -> Sample:
        def run() -> dict[str, Any]:
            conn = five_metrics.connect(str(db))
            try:
                return five_metrics.five_metrics(conn, as_of)
            finally:
                conn.close()
        sample, seen["peer"] = timed(run)
        return sample

    pair = interleaved(ours, peer, repeats, ("engine, 5 metrics", "pandas, 5 metrics"))
    seen["same_values"] = all(_close(seen["product"][m], seen["peer"][m]) for m in FIVE)
    return pair, seen


def snapshot_pair(db: Path, as_of: date, repeats: int, engine: str) -> Pair:
    """The snapshot built with no cache on the ``engine`` source (``sqlite`` or ``duckdb``) against the hand-written
    statement on the same engine."""

    def ours() -> Sample:
        MEMO.clear()  # no table read served from an earlier run
        # the product's per-statement check stays armed, with room for a loaded machine (the peer has no limit)
        source = open_source(db, engine=engine, time_limit_s=BENCH_TIME_LIMIT_S)
        return timed(lambda: build_snapshot(lifecycle.open(source, as_of=as_of).dataset))[0]

    def peer() -> Sample:
        run = snapshot_sql.run_duckdb if engine == "duckdb" else snapshot_sql.run_sqlite
        return timed(lambda: run(str(db), as_of))[0]

    return interleaved(ours, peer, repeats, (f"snapshot build, {engine} source", f"one hand-written {engine} statement"))


def data_end(db: Path) -> date:
    """The data's last day (the default as_of), with the benchmarks' per-statement time limit (the range scans every
    table: at 1M customers it passes the default 30 s on a loaded machine)."""
    return open_source(db, time_limit_s=BENCH_TIME_LIMIT_S).data_range().last
