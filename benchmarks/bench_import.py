"""Import throughput: generate an N-row product-event CSV and import it with the real importer.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--seed 7]

Three runs on the same file, each into a fresh database except the last:

- ``derived-key``: the export has no event id (keys are sha256 of each row's content) — the usual event export;
- ``with-key``: the same rows with an ``event_id`` column;
- ``re-import``: the ``with-key`` file again into the database it filled (upsert: every row compared, unchanged).

Writes ``benchmarks/results/import.json`` and prints a Markdown table (copied into docs/importing.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifecycle.importing import ImportReport, import_file  # noqa: E402

EVENT_NAMES = np.array(["login", "report_created", "dashboard_viewed", "integration_connected", "export_downloaded", "invite_sent"])


def write_events(path: Path, rows: int, seed: int, with_key: bool) -> None:
    """An event export: customer, ISO-8601 UTC timestamp, event name, quantity, user, and one extra column."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    seconds = np.sort(rng.integers(0, 2 * 365 * 86400, rows))
    frame = pd.DataFrame({
        "customer_id": np.char.add("C", np.char.zfill(rng.integers(1, 20_000, rows).astype(str), 5)),
        "occurred_at": np.char.add(np.datetime_as_string(start + seconds.astype("timedelta64[s]"), unit="s"), "Z"),
        "event_name": EVENT_NAMES[rng.integers(0, len(EVENT_NAMES), rows)],
        "quantity": rng.integers(1, 6, rows),
        "user_id": np.char.add("U", rng.integers(1, 60_000, rows).astype(str)),
        "Browser": np.array(["Chrome", "Firefox", "Safari", "Edge"])[rng.integers(0, 4, rows)],
    })
    if with_key:
        frame.insert(0, "event_id", np.char.add("ev_", np.arange(rows).astype(str)))
    frame.to_csv(path, index=False)


def run(label: str, csv_path: Path, db_path: Path) -> dict:
    started = time.perf_counter()
    report: ImportReport = import_file("events", csv_path, db_path)
    seconds = time.perf_counter() - started
    return {
        "run": label, "rows": report.rows_read, "seconds": round(seconds, 3), "rows_per_second": round(report.rows_read / seconds),
        "inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
        "file_mb": round(csv_path.stat().st_size / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "import.json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        plain, keyed = directory / "events.csv", directory / "events_with_id.csv"
        write_events(plain, args.rows, args.seed, with_key=False)
        write_events(keyed, args.rows, args.seed, with_key=True)
        results.append(run("derived-key", plain, directory / "a.db"))
        results.append(run("with-key", keyed, directory / "b.db"))
        results.append(run("re-import", keyed, directory / "b.db"))
    payload = {
        "benchmark": "import", "rows": args.rows, "seed": args.seed, "python": platform.python_version(),
        "pandas": pd.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2), "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print("| run | rows | file MB | seconds | rows/s | inserted | updated | unchanged |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['run']} | {r['rows']:,} | {r['file_mb']} | {r['seconds']} | {r['rows_per_second']:,} | {r['inserted']:,} | {r['updated']:,} | {r['unchanged']:,} |")
    print(f"\n{os.cpu_count()} CPUs, 1-minute load average at the end: {payload['load_average_1min_at_end']}; written to {args.out}")


if __name__ == "__main__":
    main()
