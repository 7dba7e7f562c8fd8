"""A new filter on a warm engine (issue #16): ``compute_metrics`` as the tool computes it, each call with a metric list
and a filter not seen before, CPU seconds of the computing thread beside wall time.

    .venv/bin/python benchmarks/bench_filtered.py                       # this checkout, label "after"
    PYTHONPATH=/path/to/older/checkout .venv/bin/python /path/to/older/checkout/../bench_filtered.py --label before

Warm: the whole catalogue is computed once, unfiltered, for the scope and its previous period (snapshot, table reads,
event aggregates, stage history and every unfiltered metric in the memo). Then ``--calls`` calls alternate an
unfiltered new metric list and a new filter value (one attribute value each, shuffled with a fixed seed) with a new
list of 2–8 metrics — the call pattern of ``bench_speed``'s ``tools`` case: scope resolution (the filter's values
checked against the data), the metrics and their previous period. CPU is ``time.thread_time`` of the calling thread
(every query runs on it), which a loaded machine inflates far less than wall time. Results are folded into
``results/filtered.json`` under ``--label``, so the code before and after a change can be measured side by side
(the older checkout through PYTHONPATH, this script and the same demo file).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import RESULTS, machine_info

SEED = 16


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(db: Path, calls: int) -> dict[str, Any]:
    """Warm the engine, then time ``calls`` calls (module docstring)."""
    from lifecycle.dataset import Dataset
    from lifecycle.filters import Dimension, Filters
    from lifecycle.metrics.change import metric_changes
    from lifecycle.metrics.registry import metric_ids
    from lifecycle.scope import Scope
    from lifecycle.sources import open_source

    source = open_source(db)

    def call(ids: list[str], filters: Filters | None = None) -> None:
        dataset = Dataset.over(source, Scope.resolve(source, None, filters=filters))
        try:
            metric_changes(dataset, ids)
        finally:
            dataset.close()

    started = time.perf_counter()
    call(list(metric_ids()))
    warm_s = time.perf_counter() - started
    rng = random.Random(SEED)
    ids = list(metric_ids())
    values = [(d, v) for d in Dimension for v in source.distinct_values("customers", d.customer_column)]
    rng.shuffle(values)
    rows = []
    for k in range(calls):
        chosen = rng.sample(ids, rng.randint(2, 8))
        filters = Filters.by_dimension({values[k // 2][0]: [values[k // 2][1]]}) if k % 2 == 1 else None
        cpu, wall = time.thread_time(), time.perf_counter()
        call(chosen, filters)
        rows.append({"metrics": chosen, "filters": filters.to_dict() if filters else {},
                     "cpu_s": round(time.thread_time() - cpu, 4), "wall_s": round(time.perf_counter() - wall, 4)})

    def stats(subset: list[dict[str, Any]]) -> dict[str, Any]:
        cpu = [r["cpu_s"] for r in subset]
        wall = [r["wall_s"] for r in subset]
        return {"calls": len(subset), "cpu_p50_s": round(statistics.median(cpu), 4), "cpu_p95_s": round(percentile(cpu, 0.95), 4),
                "cpu_max_s": round(max(cpu), 4), "wall_p50_s": round(statistics.median(wall), 4),
                "wall_p95_s": round(percentile(wall, 0.95), 4)}

    return {**machine_info(), "warm_s": round(warm_s, 2), "all": stats(rows),
            "filtered": stats([r for r in rows if r["filters"]]), "rows": rows}


def markdown(data: dict[str, Any]) -> str:
    """One row per label: CPU and wall p50 / p95 over the calls with a new filter and over all calls."""
    lines = ["| code | commit | load | calls with a new filter: CPU p50 / p95 / max | wall p50 / p95 | all calls: CPU p50 / p95 | wall p50 / p95 |",
             "|---|---|---:|---:|---:|---:|---:|"]

    def ms(value: float) -> str:
        return f"{value * 1000:.0f} ms"

    for label, run in data.get("runs", {}).items():
        f, a = run["filtered"], run["all"]
        lines.append(f"| {label} | {run.get('commit', '?')} | {run.get('load_average_1min', '?')} | {ms(f['cpu_p50_s'])} / "
                     f"**{ms(f['cpu_p95_s'])}** / {ms(f['cpu_max_s'])} | {ms(f['wall_p50_s'])} / {ms(f['wall_p95_s'])} | "
                     f"{ms(a['cpu_p50_s'])} / **{ms(a['cpu_p95_s'])}** | {ms(a['wall_p50_s'])} / {ms(a['wall_p95_s'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="SQLite dataset (default: the demo, built in --work)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-filtered"))
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.db
    if db is None:
        from data.generator import build_demo

        db = args.work / "demo.db"
        if not db.exists():
            build_demo(db)
    os.environ["LIFECYCLE_DATA_DIR"] = str(args.work / f"data-{args.label}-{os.getpid()}")  # no cache of an earlier run
    import lifecycle

    checkout = Path(lifecycle.__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {**measure(db, args.calls), "commit": commit}
    target = RESULTS / "filtered.json"
    data = json.loads(target.read_text()) if target.exists() else {"benchmark": "filtered", "runs": {}}
    data["runs"][args.label] = result
    target.write_text(json.dumps(data, indent=1) + "\n")
    print(markdown(data))


if __name__ == "__main__":
    main()
