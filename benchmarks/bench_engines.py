"""Where each engine pays: SQLite, DuckDB and Spark (local) on the same large datasets, step by step.

    .venv/bin/python benchmarks/bench_engines.py                      # 100k/5M and 1M customers/50M events
    .venv/bin/python benchmarks/bench_engines.py --sizes 20000:1000000,100000:5000000 --engines duckdb,spark,sqlite

Datasets: ``data.scale`` (the demo replicated with its causal structure, events thinned to the target) written
straight to Parquet; SQLite gets the same rows loaded into the importer's file (``data.scale.load_sqlite``, timed as
``load_s``) up to ``--sqlite-max-events`` events. DuckDB and Spark read the Parquet folder.

Each (engine, size) runs in a fresh worker process (so one run's memory and JVM never help the next) that times, at
the data's last day, with nothing cached between steps (each step on a fresh connection):

Engines get the machine's two cores where they can use them (DuckDB ``threads=2``, Spark ``local[2]``; SQLite runs
one thread). Steps:

- ``open``: the source opened and the scope resolved (data range) — for Spark, the JVM start and table views;
- ``snapshot``: ``build_snapshot`` — the per-customer snapshot (the push-down aggregates over events and the rest);
- ``stages``, ``health``, ``at_risk``: classification, health scores and the at-risk ranking from that snapshot;
- ``metrics``: ``compute_all`` — the whole metric catalogue (builds what it needs itself). Last, because it is the
  longest: a run stopped during it still reports every other step.

Per step: wall seconds and peak resident memory of the worker's process tree (Python + DuckDB, or + Spark's JVM),
sampled every 50 ms. Growth exponent of a step between two sizes: log(t₂/t₁) ÷ log(events₂/events₁) (1 = linear).
A run past ``--timeout`` seconds, or whose process tree grows past ``--max-memory-gb`` (the machine is shared: the
benchmark must not make the kernel kill someone else's process), is stopped and reported as such with the steps it
finished. Writes ``benchmarks/results/engines.json``, prints
the Markdown table and regenerates docs/benchmarks.md (``run_all.py --docs-only``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, demo_database, machine_info

STEPS = ("open", "snapshot", "stages", "health", "at_risk", "metrics")
DEFAULT_SIZES = "100000:5000000,1000000:50000000"
DEFAULT_ENGINES = "duckdb,spark,sqlite"
SPARK_CONF = ("spark.driver.memory=5g;spark.driver.maxResultSize=3g;spark.sql.shuffle.partitions=8;"
              "spark.driver.extraJavaOptions=-Dlog4j2.level=ERROR -XX:+UseG1GC -XX:G1PeriodicGCInterval=5000 "
              "-XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30")
"""Local mode runs the executors inside the driver's JVM: a 5 GB heap leaves room under --max-memory-gb 12 for the
JVM's own overhead and the Python side (the snapshot's frames of 1M customers, ~4–7 GB): the 1M / 50M snapshot
peaked at 9.5 GB together. (With 8 GB and 4 GB heaps it passed 12 GB while results still came back as a Python
tuple per row; they now come back through Arrow.) G1 with a periodic collection every 5 s and at most 30 % of the
heap kept free hands the heap a finished query used back to the operating system while the Python side computes
(otherwise the JVM keeps its high-water mark resident beside the Python side's frames, and the metric catalogue
does pandas work after each query)."""


# --------------------------------------------------------------------------------------------- memory


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except OSError:
            continue
    return total / 1e6


class PeakSampler:
    """Samples this process tree's RSS every ``interval`` seconds; ``take()`` returns the peak since the last take."""

    def __init__(self, interval: float = 0.05) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))
            self._stop.wait(interval)

    def take(self) -> float:
        peak, self.peak = max(self.peak, tree_rss_mb(os.getpid())), 0.0
        return round(peak, 1)

    def stop(self) -> None:
        self._stop.set()


# --------------------------------------------------------------------------------------------- the worker


def worker(engine: str, location: Path) -> dict[str, Any]:
    """Time every step of ``STEPS`` on one engine (module docstring); runs in its own process."""
    from lifecycle.dataset import Dataset
    from lifecycle.health import score_health
    from lifecycle.health.profile import load_health_profile
    from lifecycle.health.risk import RiskQuery, rank_at_risk
    from lifecycle.memo import MEMO
    from lifecycle.metrics.registry import compute_all
    from lifecycle.scope import Scope
    from lifecycle.snapshot import build_snapshot
    from lifecycle.sources import DuckDBSource, open_source
    from lifecycle.stages import classify_customers, model_for

    sampler = PeakSampler()
    steps: dict[str, dict[str, float]] = {}
    values: dict[str, Any] = {}

    def step(name: str, call: Any) -> Any:
        sampler.take()
        started = time.perf_counter()
        value = call()
        steps[name] = {"seconds": round(time.perf_counter() - started, 3), "peak_mb": sampler.take()}
        print(json.dumps({"step": name, **steps[name]}), file=sys.stderr, flush=True)
        return value

    def fresh(source: Any, scope: Any) -> Any:
        return Dataset(source.connect(), scope)  # no source: nothing answered from the snapshot cache

    # DuckDB on both cores, as Spark local[2]; SQLite is single-threaded by design
    source = DuckDBSource(location, None, threads=2) if engine == "duckdb" else open_source(location, engine, time_limit_s=None)
    scope = step("open", lambda: Scope.resolve(source, None))
    dataset = fresh(source, scope)
    snapshot = step("snapshot", lambda: build_snapshot(dataset))
    stages = step("stages", lambda: classify_customers(snapshot, model_for(dataset), evidence=False))
    profile = load_health_profile(dataset.config.models.health)
    health = step("health", lambda: score_health(snapshot, profile))
    ranking = step("at_risk", lambda: rank_at_risk(snapshot, health, RiskQuery()))
    values.update(customers=int(len(snapshot)), as_of=scope.as_of.isoformat(),
                  stage_counts={str(k): int(v) for k, v in stages["stage"].value_counts().sort_index().items()},
                  at_risk_first=[str(i) for i in ranking.index[:5]])
    print(json.dumps({"values": values}), file=sys.stderr, flush=True)
    # the catalogue from nothing, as `lifecycle metrics` computes it: the earlier steps' frames (the snapshot, its
    # tables in the dataset's cache, stages, health, ranking) and the process memo go first — kept, they were ~4 GB
    # of the Spark 1M / 50M run's 12 GB beside a JVM whose heap the event aggregates fill (5.7 GB)
    dataset = snapshot = stages = health = ranking = None  # the steps' lambdas hold these names: emptied, not deleted
    MEMO.clear()
    gc.collect()
    metrics = step("metrics", lambda: compute_all(fresh(source, scope)))
    sampler.stop()
    values.update(mrr=metrics["mrr"].value)
    return {"steps": steps, "values": values}


# --------------------------------------------------------------------------------------------- the parent


def _partial(stderr: str) -> dict[str, Any]:
    """The steps (and values) a worker reported on stderr before it stopped."""
    steps: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for line in stderr.splitlines():
        if line.startswith('{"step"'):
            entry = json.loads(line)
            steps[entry.pop("step")] = entry
        elif line.startswith('{"values"'):
            values = json.loads(line)["values"]
    return {"steps": steps, **({"values": values} if values else {})}


def run_worker(engine: str, location: Path, timeout: float, data_dir: Path, max_memory_gb: float) -> dict[str, Any]:
    """One worker process; its JSON, or the reason it has none (timeout, memory cap, failure with the last stderr
    line) with the steps it finished."""
    env = {**os.environ, "LIFECYCLE_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.setdefault("LIFECYCLE_SPARK_CONF", SPARK_CONF)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, __file__, "--worker", engine, "--data", str(location)],
                                   stdout=out, stderr=err, text=True, env=env, start_new_session=True)
        stopped, peak, loads = None, 0.0, []
        while process.poll() is None:
            elapsed = time.perf_counter() - started
            peak = max(peak, tree_rss_mb(process.pid))
            loads.append(os.getloadavg()[0])
            if elapsed > timeout:
                stopped = f"timeout after {timeout:.0f} s"
            elif peak > max_memory_gb * 1000:
                stopped = f"stopped at {peak / 1000:.1f} GB (over --max-memory-gb {max_memory_gb:g})"
            if stopped:
                os.killpg(process.pid, 9)
                process.wait()
                break
            time.sleep(0.5)
        wall = round(time.perf_counter() - started, 1)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    # the 1-minute load average over the run (other work on the shared machine slows every step)
    load = {"load_average_mean": round(sum(loads) / len(loads), 2), "load_average_max": round(max(loads), 2)} if loads else {}
    if stopped:
        partial = _partial(stderr)
        unfinished = next((s for s in STEPS if s not in partial["steps"]), None)
        return {"status": f"{stopped} during {unfinished}", "wall_s": wall, **load, **partial}
    if process.returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]
        return {"status": "failed", "error": (lines[-1] if lines else f"exit {process.returncode}")[:300], "wall_s": wall,
                **load, **_partial(stderr)}
    return {"status": "ok", "wall_s": wall, **load, **json.loads(stdout)}


def code_version() -> str:
    """The commit the benchmark ran on (short hash; ``+changes`` when the work tree differs from it)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no", "--", "lifecycle", "benchmarks") else "")


def exponents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per engine and step, between consecutive sizes where both runs finished that step:
    log(t₂/t₁) / log(events₂/events₁)."""
    out = []
    engines = sorted({r["engine"] for r in rows})
    for engine in engines:
        runs = sorted((r for r in rows if r["engine"] == engine and r.get("steps")), key=lambda r: r["events"])
        for a, b in zip(runs, runs[1:]):
            if b["events"] <= a["events"]:
                continue
            for name in STEPS:
                if name not in a["steps"] or name not in b["steps"]:
                    continue  # a step a stopped run did not finish
                ta, tb = a["steps"][name]["seconds"], b["steps"][name]["seconds"]
                if ta > 0 and tb > 0:
                    out.append({"engine": engine, "step": name, "from_events": a["events"], "to_events": b["events"],
                                "exponent": round(math.log(tb / ta) / math.log(b["events"] / a["events"]), 2)})
    return out


def merged(rows: list[dict[str, Any]], datasets: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``rows`` and ``datasets`` folded into ``results/engines.json``: a new run replaces the same (engine, customers,
    events) on file, a dataset the same (customers, events target); sorted by size, then engine."""
    path = RESULTS / "engines.json"
    old = json.loads(path.read_text()) if path.exists() else {"rows": [], "datasets": []}
    keys = {(r["engine"], r["customers"], r["events"]) for r in rows}
    sizes = {(d["customers"], d["events_target"]) for d in datasets}
    all_rows = [r for r in old["rows"] if (r["engine"], r["customers"], r["events"]) not in keys] + rows
    all_sets = [d for d in old["datasets"] if (d["customers"], d["events_target"]) not in sizes] + datasets
    return (sorted(all_rows, key=lambda r: (r["events"], r["engine"])),
            sorted(all_sets, key=lambda d: d["events"]))


def markdown(rows: list[dict[str, Any]], growth: list[dict[str, Any]]) -> str:
    lines = ["| engine | customers | events | " + " | ".join(STEPS) + " | total | peak memory | status |",
             "|---|---:|---:|" + "---:|" * len(STEPS) + "---:|---:|---|"]
    for r in rows:
        steps = r.get("steps", {})
        cells = [f"{steps[s]['seconds']:.1f} s" if s in steps else "—" for s in STEPS]
        total = sum(steps[s]["seconds"] for s in STEPS if s in steps)
        peak = max((steps[s]["peak_mb"] for s in steps), default=0.0)
        lines.append(f"| {r['engine']} | {r['customers']:,} | {r['events']:,} | " + " | ".join(cells)
                     + f" | {total:.1f} s | {peak / 1000:.1f} GB | {r['status']} |")
    if growth:
        lines += ["", "| engine | events | " + " | ".join(STEPS) + " |", "|---|---|" + "---:|" * len(STEPS)]
        keys = sorted({(g["engine"], g["from_events"], g["to_events"]) for g in growth})
        for engine, low, high in keys:
            by_step = {g["step"]: g["exponent"] for g in growth if (g["engine"], g["from_events"], g["to_events"]) == (engine, low, high)}
            lines.append(f"| {engine} | {low:,} → {high:,} | " + " | ".join(str(by_step.get(s, "—")) for s in STEPS) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="customers:events pairs, comma-separated")
    parser.add_argument("--engines", default=DEFAULT_ENGINES)
    parser.add_argument("--sqlite-max-events", type=int, default=50_000_000, help="largest size SQLite is loaded for")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per (engine, size) run")
    parser.add_argument("--max-memory-gb", type=float, default=12.0,
                        help="stop a run whose process tree grows past this resident memory (the machine is shared)")
    parser.add_argument("--demo", help="the demo SQLite file to replicate (default: build it)")
    parser.add_argument("--keep", help="keep the generated datasets in this folder (reused when present)")
    parser.add_argument("--merge", action="store_true",
                        help="fold these runs into the results on file (a run replaces the same engine and size)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.data))))
        return

    from data.scale import generate_parquet, load_sqlite

    sizes = [tuple(int(x) for x in pair.split(":")) for pair in args.sizes.split(",") if pair.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    rows: list[dict[str, Any]] = []
    datasets: list[dict[str, Any]] = []
    with demo_database(args.demo) as demo, tempfile.TemporaryDirectory(prefix="lifecycle-engines-") as scratch:
        workdir = Path(args.keep) if args.keep else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for customers, events in sizes:
            folder = workdir / f"scale-{customers}-{events}"
            started = time.perf_counter()
            if not (folder / "customers.parquet").exists():
                generate_parquet(demo, folder, customers, events)
            import duckdb

            counts = {p.stem: duckdb.sql(f"SELECT count(*) FROM read_parquet('{p}')").fetchone()[0]
                      for p in sorted(folder.glob("*.parquet")) if not p.stem.startswith("_")}
            info = {"customers": customers, "events_target": events, "events": counts["events"],
                    "rows_total": sum(counts.values()), "parquet_mb": round(sum(p.stat().st_size for p in folder.glob("*.parquet")) / 1e6, 1),
                    "generate_s": round(time.perf_counter() - started, 1)}
            for engine in engines:
                location = folder
                row: dict[str, Any] = {"engine": engine, "customers": customers, "events": counts["events"],
                                       "rows_total": info["rows_total"]}
                if engine == "sqlite":
                    if counts["events"] > args.sqlite_max_events:
                        rows.append({**row, "status": f"skipped (over --sqlite-max-events {args.sqlite_max_events:,})"})
                        continue
                    location = workdir / f"scale-{customers}-{events}.db"
                    started = time.perf_counter()
                    if not location.exists():
                        load_sqlite(folder, location)
                    info["sqlite_load_s"] = round(time.perf_counter() - started, 1)
                    info["sqlite_mb"] = round(location.stat().st_size / 1e6, 1)
                row.update(run_worker(engine, location, args.timeout, Path(scratch) / f"data-{engine}-{customers}", args.max_memory_gb))
                # when and how this run was measured: rows merged from other runs keep their own
                row.update(measured=time.strftime("%Y-%m-%d %H:%M"), load_average_1min=round(os.getloadavg()[0], 2),
                           code_version=code_version(),
                           **({"spark_conf": os.environ.get("LIFECYCLE_SPARK_CONF", SPARK_CONF)} if engine == "spark" else {}))
                rows.append(row)
                print(json.dumps(row), flush=True)
            datasets.append(info)
            print(json.dumps(info), flush=True)
    if args.merge:
        rows, datasets = merged(rows, datasets)
    growth = exponents(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "engines", **machine_info(), "spark_conf": os.environ.get("LIFECYCLE_SPARK_CONF", SPARK_CONF),
              "datasets": datasets, "rows": rows, "exponents": growth}
    (RESULTS / "engines.json").write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(rows, growth))
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--docs-only"], check=False)


if __name__ == "__main__":
    main()
