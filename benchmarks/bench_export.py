"""Memory of `lifecycle customers` as rows go out: does the export's peak memory grow with the rows written?

    .venv/bin/python benchmarks/bench_export.py [--sizes 100000,1000000] [--formats csv,jsonl,parquet] [--stride 500]
                                               [--db DEMO] [--keep DIR] [--engine sqlite|duckdb|spark]

Datasets: the Helloword demo replicated to each size (``bench_scale.build_scaled``; events thinned to one in
``--stride`` per copy — the export reads the snapshot, whose build time is not what is measured here). With
``--engine duckdb`` (or spark) the same replica is written straight to Parquet by ``data.scale`` (about
``--events-per-customer`` events per customer) and read by that engine — no SQLite store to build at 1M customers.

Per size and format, a fresh child process (so its memory is its own) computes the customer table
(``lifecycle.export.customer_table``: snapshot, stages, health, risk, value) and writes it with
``lifecycle.export.write_chunks`` to a file, reading its resident set size (``/proc/self/statm``) before the first
slice and after every slice written. Reported:

- ``compute_s`` / ``write_s``: wall time of the table and of writing it (the first format builds the snapshot and
  caches it; the later formats read the cache, as a second ``lifecycle customers`` would);
- ``rss_before_write_mb``: resident memory once the table is computed;
- ``rss_write_max_mb``: the most resident memory while writing; ``write_growth_mb`` the difference — what the
  export adds — and ``growth_second_half_mb``: growth between the middle and the end of the write (zero when memory
  does not grow with the rows written);
- ``peak_rss_mb``: the child's peak resident memory (``ru_maxrss``), compute included;
- ``cli_s`` / ``cli_peak_rss_mb``: the installed ``lifecycle customers --format csv --out FILE`` end to end (once per
  size, snapshot from the cache).

Writes ``benchmarks/results/export.json`` and prints a Markdown table (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, demo_database, machine_info

DEFAULT_SIZES = (100_000, 1_000_000)
DEFAULT_FORMATS = ("csv", "jsonl", "parquet")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident set size of this process now, in MB (``/proc/self/statm``, second field, pages)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_BYTES / 1e6


def child(db: str, fmt: str, out: str, engine: str = "sqlite") -> dict[str, Any]:
    """Compute the customer table of ``db`` and write it as ``fmt`` to ``out``, sampling memory per slice."""
    import lifecycle
    from lifecycle.export import customer_table, write_chunks

    started = time.perf_counter()
    with lifecycle.open(db, engine=engine) as ds:
        table = customer_table(ds.dataset)
    computed = time.perf_counter()
    columns = table.select()
    before = rss_mb()
    samples: list[tuple[int, float]] = []
    written = 0

    def sampled(chunks):  # type: ignore[no-untyped-def]
        nonlocal written
        for chunk in chunks:
            yield chunk
            written += len(chunk)
            samples.append((written, rss_mb()))

    with open(out, "wb") as handle:
        rows = write_chunks(sampled(table.chunks(columns)), fmt, handle)
    done = time.perf_counter()
    during = [mb for _, mb in samples] or [before]
    middle = during[len(during) // 2]
    return {
        "rows": rows, "columns": len(columns), "compute_s": round(computed - started, 2), "write_s": round(done - computed, 2),
        "rss_before_write_mb": round(before, 1), "rss_write_max_mb": round(max(during), 1),
        "write_growth_mb": round(max(during) - before, 1), "growth_second_half_mb": round(max(during[len(during) // 2:]) - middle, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
        "file_mb": round(Path(out).stat().st_size / 1e6, 1),
        "rss_samples": [[w, round(mb, 1)] for w, mb in samples[:: max(1, len(samples) // 20)]],
    }


def run_child(db: Path, fmt: str, out: Path, env: dict[str, str], engine: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, __file__, "--child", str(db), fmt, str(out), engine], capture_output=True,
                            text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_cli(db: Path, out: Path, env: dict[str, str], engine: str) -> dict[str, Any]:
    """The installed console script in a wrapper process, whose RUSAGE_CHILDREN peak is that command's alone."""
    script = Path(sys.executable).parent / "lifecycle"
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", wrapper, str(script), "customers", "--db", str(db), "--format", "csv",
                             "--out", str(out), "--engine", engine], capture_output=True, text=True, env=env, check=True)
    seconds, peak_kb = result.stdout.split()
    return {"cli_s": round(float(seconds), 2), "cli_peak_rss_mb": round(int(peak_kb) / 1e3, 1)}


def merged(rows: list[dict[str, Any]], runs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``rows`` and CLI ``runs`` folded into those on file: a new measurement replaces the same (customers, format,
    engine) — rows on file without an engine were SQLite's; each row keeps the machine figures of its own run."""
    path = RESULTS / "export.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"rows": [], "cli": []}
    base = {k: old[k] for k in ("generated", "load_average_1min", "stride") if k in old}

    def key(r: dict[str, Any], *names: str) -> tuple[Any, ...]:
        return tuple(r.get(n, "sqlite") for n in names)

    new_rows = {key(r, "customers", "format", "engine") for r in rows}
    new_runs = {key(r, "customers", "engine") for r in runs}
    kept_rows = [{**base, "engine": "sqlite", **r} for r in old.get("rows", []) if key(r, "customers", "format", "engine") not in new_rows]
    kept_runs = [{**base, "engine": "sqlite", **r} for r in old.get("cli", []) if key(r, "customers", "engine") not in new_runs]
    return (sorted(kept_rows + rows, key=lambda r: (r["customers"], r["engine"], r["format"])),
            sorted(kept_runs + runs, key=lambda r: (r["customers"], r["engine"])))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| customers | engine | format | compute s | write s | RSS before write | max RSS while writing | growth | growth in 2nd half | peak RSS | file MB |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['rows']:,} | {r.get('engine', 'sqlite')} | {r['format']} | {r['compute_s']} | {r['write_s']} | {r['rss_before_write_mb']:,} MB | "
                     f"{r['rss_write_max_mb']:,} MB | {r['write_growth_mb']} MB | {r['growth_second_half_mb']} MB | "
                     f"{r['peak_rss_mb']:,} MB | {r['file_mb']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--formats", default=",".join(DEFAULT_FORMATS))
    parser.add_argument("--stride", type=int, default=500, help="keep one event in STRIDE per copy of the demo")
    parser.add_argument("--db", help="demo database to replicate (default: build one)")
    parser.add_argument("--keep", help="write the scaled stores into this directory and keep them")
    parser.add_argument("--engine", default="sqlite", help="engine reading the data (duckdb/spark: a data.scale Parquet folder)")
    parser.add_argument("--events-per-customer", type=float, default=1.0,
                        help="with --engine duckdb or spark: events per customer in the generated Parquet dataset")
    parser.add_argument("--child", nargs=4, metavar=("DB", "FORMAT", "OUT", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    from bench_scale import build_scaled

    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    rows: list[dict[str, Any]] = []
    cli: dict[int, dict[str, Any]] = {}
    with demo_database(args.db) as demo, tempfile.TemporaryDirectory(prefix="lifecycle-export-") as scratch:
        workdir = Path(args.keep) if args.keep else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "LIFECYCLE_DATA_DIR": str(Path(scratch) / "data"), "PYTHONPATH": str(ROOT)}
        for size in sizes:
            db = workdir / (f"export-{size}.db" if args.engine == "sqlite" else f"export-{size}-parquet")
            if not db.exists():
                started = time.perf_counter()
                if args.engine == "sqlite":
                    build_scaled(demo, db, size, args.stride)
                else:
                    from data.scale import generate_parquet

                    generate_parquet(demo, db, size, int(size * args.events_per_customer))
                print(f"built {size:,} customers in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            for fmt in formats:
                result = {"customers": size, "format": fmt, "engine": args.engine,
                          **run_child(db, fmt, Path(scratch) / f"out.{fmt}", env, args.engine)}
                print(json.dumps({k: v for k, v in result.items() if k != "rss_samples"}), file=sys.stderr)
                rows.append(result)
            cli[size] = run_cli(db, Path(scratch) / "cli.csv", env, args.engine)
            print(json.dumps({"customers": size, **cli[size]}), file=sys.stderr)
    runs = [{"customers": size, "engine": args.engine, **values} for size, values in cli.items()]
    info = {**machine_info(), "stride": args.stride, "events_per_customer": args.events_per_customer}
    rows, runs = merged([{**r, **info} for r in rows], [{**r, **info} for r in runs])
    payload = {"benchmark": "export", **machine_info(), "rows": rows, "cli": runs}
    (RESULTS / "export.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(markdown(rows))


if __name__ == "__main__":
    main()
