"""Speed against the floor (issue #16): every path of the product next to a hand-written peer, as ratios measured in
one run — A/B interleaved, the minimum of ≥ 3 runs per side — at the demo, 100k and 1M customers.

    .venv/bin/python benchmarks/bench_speed.py                          # demo and 100k; every case
    .venv/bin/python benchmarks/bench_speed.py --sizes demo,100k,1m     # and 1M (long: build and runs)
    .venv/bin/python benchmarks/bench_speed.py --only help,spawn --repeats 5
    .venv/bin/python benchmarks/bench_speed.py --work /tmp/speed        # keep the datasets between runs

Writes ``benchmarks/results/speed.json`` (a partial ``--only`` run is folded into the file) and regenerates
docs/benchmarks.md unless ``--no-docs``.

Cases (``--only``; peers in ``benchmarks/peers/``):

- ``help``: ``lifecycle --help`` against a bare typer program (two commands);
- ``spawn``: ``lifecycle serve`` (stdio) spawn → initialize → tools/list against a one-tool ``MCPServer`` on the
  same SDK, through raw JSON-RPC on the pipes;
- ``catalogue``: ``lifecycle metrics --json`` (every metric) against ``peers/five_metrics.py`` (five headline
  metrics in hand-written pandas on the same SQLite file), process to process — cold (a fresh data directory per
  run) and warm (the data directory a previous run filled), per size; the five values of both are compared;
- ``five``: the same five metrics in-process (the engine through ``lifecycle.open`` against the hand-written
  functions), per size;
- ``snapshot``: the per-customer snapshot built with no cache on the SQLite source and on the DuckDB source
  (reading the SQLite file in place) against one hand-written SQL statement on the same engine
  (``peers/snapshot_sql.py``), per size;
- ``tools``: every MCP tool through the in-process client once warm — each timed call with arguments not seen
  before (another metric list, filter, customer, section) — p50 / p95 per tool and over all calls, per size;
- ``import``: an event export through the importer against plain executemany with derived keys (rows in memory),
  DuckDB's read_csv as a reference;
- ``clv`` and ``load`` are read from ``results/clv.json`` (``bench_clv.py``) and ``results/load.json``
  (``bench_load.py``, 20 clients × 25 mixed calls over HTTP), which ``run_all.py`` runs as their own steps.

Growth exponents: between consecutive sizes, k in t ∝ n^k on the minimum wall time (1 = linear). Every figure is
wall time on a shared machine; CPU seconds of the measured process ride along (they move less under load).
Writes ``benchmarks/results/speed.json``; ``markdown(data)`` is the section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, machine_info
from speed import datasets
from speed.measure import growth_exponents

CASES = ("help", "spawn", "catalogue", "five", "snapshot", "tools", "import")
DEFAULT_SIZES = ("demo", "100k")


def _env(data_dir: Path) -> dict[str, str]:
    return dict(os.environ, LIFECYCLE_DATA_DIR=str(data_dir), PYTHONDONTWRITEBYTECODE="1")


def run(cases: set[str], sizes: list[str], repeats: int, work: Path, import_rows: int,
        tool_names: set[str] | None = None, tool_calls: int | None = None,
        tool_time_limit_s: float | None = None) -> dict[str, Any]:
    """Every wanted case; the results as one JSON-ready dict (see the module docstring)."""
    from speed import start

    out: dict[str, Any] = {"benchmark": "speed", **machine_info(), "repeats": repeats, "sizes": {}, "cases": {}}
    env = _env(work / "data")
    built = {name: datasets.prepare(name, work) for name in sizes}
    out["sizes"] = {name: {"customers": d.customers, "events": d.events, "event_stride": d.event_stride}
                    for name, d in built.items()}
    demo = built.get("demo") or datasets.prepare("demo", work)
    if "help" in cases:
        out["cases"]["help"] = start.help_pair(repeats, env).to_dict()
        _progress("help", out["cases"]["help"])
    if "spawn" in cases:
        pair, counts = start.spawn_pair(demo.path, repeats, env)
        out["cases"]["spawn"] = {**pair.to_dict(), **counts}
        _progress("spawn", out["cases"]["spawn"])
    if cases & {"catalogue", "five", "snapshot"}:
        from speed import engine

        for name, dataset in built.items():
            per: dict[str, Any] = out["cases"].setdefault("per_size", {}).setdefault(name, {})
            as_of = engine.data_end(dataset.path)
            if "catalogue" in cases:
                for warm in (False, True):
                    pair, seen = engine.catalogue_pair(dataset.path, repeats, env, warm)
                    per["catalogue_" + ("warm" if warm else "cold")] = {**pair.to_dict(), "check": seen}
                    _progress(f"catalogue {'warm' if warm else 'cold'} {name}", per["catalogue_" + ("warm" if warm else "cold")])
            if "five" in cases:
                pair, seen = engine.five_in_process_pair(dataset.path, as_of, repeats)
                per["five"] = {**pair.to_dict(), "check": seen}
                _progress(f"five {name}", per["five"])
            if "snapshot" in cases:
                for source in ("sqlite", "duckdb"):
                    per[f"snapshot_{source}"] = engine.snapshot_pair(dataset.path, as_of, repeats, source).to_dict()
                    _progress(f"snapshot {source} {name}", per[f"snapshot_{source}"])
    if "tools" in cases:
        from speed import tools

        for name, dataset in built.items():
            if name in ("demo", "1m") or len(built) == 1:
                result = tools.warm_tool_latencies(dataset.path, work / "data", calls_per_tool=tool_calls or repeats + 2,
                                                   only=tool_names, time_limit_s=tool_time_limit_s)
                load = round(os.getloadavg()[0], 2)
                for stats in result["tools"].values():
                    stats["load_average_1min"] = load
                out["cases"].setdefault("tools", {})[name] = result
                _progress(f"tools {name}", {"p95_s": result["all"]["p95_s"]})
    if "import" in cases:
        from speed import imports

        pair, seen = imports.import_pair(import_rows, repeats, work)
        out["cases"]["import"] = {**pair.to_dict(), "check": seen}
        _progress("import", out["cases"]["import"])
    _add_growth(out)
    return out


def _add_growth(out: dict[str, Any]) -> None:
    """Growth exponents per step for every per-size case that ran at two or more sizes."""
    per = out["cases"].get("per_size", {})
    names = [n for n in datasets.SIZES if n in per]
    if len(names) < 2:
        return
    growth: dict[str, Any] = {}
    for case in sorted({c for n in names for c in per[n]}):
        for side in ("product", "peer"):
            points = [(out["sizes"][n]["customers"], per[n][case][side]["best_wall_s"]) for n in names
                      if case in per[n] and per[n][case].get(side)]
            if len(points) >= 2:
                growth.setdefault(case, {})[side] = growth_exponents(points)
    out["growth"] = {"steps": [f"{a}→{b}" for a, b in zip(names, names[1:])], "exponents": growth}


def _progress(label: str, result: dict[str, Any]) -> None:
    result["load_average_1min"] = round(os.getloadavg()[0], 2)  # beside every figure: the machine is shared
    ratio = result.get("ratio")
    text = f"ratio {ratio}" if ratio is not None else json.dumps(result)[:200]
    print(f"  {label}: {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- the page


def _ratio(case: dict[str, Any] | None) -> str:
    if not case or case.get("ratio") is None:
        return "—"
    cpu = f" (CPU {case['cpu_ratio']:.2f}×)" if case.get("cpu_ratio") is not None else ""
    return f"**{case['ratio']:.2f}×**{cpu}"


def _seconds(side: dict[str, Any] | None) -> str:
    if not side:
        return "—"
    peak = f", {side['peak_mib']:.0f} MiB" if side.get("peak_mib") else ""
    return f"{side['best_wall_s']:.3f} s{peak}"


def markdown(data: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    """The speed section of docs/benchmarks.md: one row per case and size — product, peer, ratio, and the ratio in
    ``before`` (``results/speed_before.json``: the same benchmark on the code before issue #16's changes) when given."""
    cases = data.get("cases", {})
    old = (before or {}).get("cases", {})
    lines = ["| path | size | product | peer / floor | ratio (wall, min of each side) | ratio before #16 | goal | load |",
             "|---|---|---:|---:|---:|---:|---|---:|"]

    def row(label: str, size: str, case: dict[str, Any] | None, goal: str, was: dict[str, Any] | None) -> None:
        if case:
            lines.append(f"| {label} | {size} | {_seconds(case.get('product'))} | {_seconds(case.get('peer'))} "
                         f"| {_ratio(case)} | {_ratio(was)} | {goal} | {case.get('load_average_1min', '—')} |")

    row("`lifecycle --help` vs a bare typer program", "—", cases.get("help"), "≤ 3×", old.get("help"))
    row("`lifecycle serve` spawn → tools/list vs a one-tool MCPServer", "demo", cases.get("spawn"), "≤ 1.5×", old.get("spawn"))
    for size, per in cases.get("per_size", {}).items():
        was = old.get("per_size", {}).get(size, {})
        row("`lifecycle metrics --json` (every metric), cold, vs the pandas 5-metric script", size,
            per.get("catalogue_cold"), "≤ 2×", was.get("catalogue_cold"))
        row("the same, warm (data directory of an earlier run)", size, per.get("catalogue_warm"), "≤ 2×",
            was.get("catalogue_warm"))
        row("5 metrics in-process: engine vs hand-written pandas", size, per.get("five"), "—", was.get("five"))
        row("snapshot build, SQLite source vs one SQLite statement", size, per.get("snapshot_sqlite"), "≤ 1.5×",
            was.get("snapshot_sqlite"))
        row("snapshot build, DuckDB source vs one DuckDB statement", size, per.get("snapshot_duckdb"), "≤ 3×",
            was.get("snapshot_duckdb"))
    row("import (file → store) vs executemany with derived keys", f"{cases.get('import', {}).get('check', {}).get('rows', 0):,} rows",
        cases.get("import"), "≤ 2×", old.get("import"))
    out = "\n".join(lines)
    growth = data.get("growth")
    if growth:
        out += "\n\nGrowth exponent per step (" + ", ".join(growth["steps"]) + "; 1 = linear):\n\n| case | product | peer |\n|---|---|---|\n"
        out += "\n".join(f"| {case} | {', '.join(str(k) for k in sides.get('product', []))} "
                         f"| {', '.join(str(k) for k in sides.get('peer', []))} |" for case, sides in growth["exponents"].items())
    tools = cases.get("tools")
    if tools:
        out += "\n\nWarm tool calls (in-process MCP client; every timed call with arguments not seen before):\n\n"
        out += ("| size | tool | calls | errors | p50 | p95 | max | CPU p50 / p95 | p95 before #16 | load |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")

        def ms(value: float | None) -> str:
            return "—" if value is None else f"{value * 1000:.0f} ms"

        for size, result in tools.items():
            was = old.get("tools", {}).get(size, {})
            for tool, stats in result["tools"].items():
                p95_before = was.get("tools", {}).get(tool, {}).get("p95_s")
                out += (f"| {size} | {tool} | {stats['calls']} | {len(stats.get('errors', []))} | {ms(stats['p50_s'])} "
                        f"| {ms(stats['p95_s'])} | {ms(stats['max_s'])} | {ms(stats.get('cpu_p50_s'))} / {ms(stats.get('cpu_p95_s'))} "
                        f"| {ms(p95_before)} | {stats.get('load_average_1min', '—')} |\n")
            whole = result.get("all")  # absent when only --tools runs measured this size
            if whole:
                out += (f"| {size} | **all** | {whole['calls']} | | {ms(whole['p50_s'])} | **{ms(whole['p95_s'])}** "
                        f"| {ms(whole['max_s'])} | | {ms(was.get('all', {}).get('p95_s'))} | |\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help=f"comma-separated cases ({', '.join(CASES)}); default all")
    parser.add_argument("--sizes", default=",".join(DEFAULT_SIZES), help=f"comma-separated sizes ({', '.join(datasets.SIZES)})")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side of every pair (minimum 3 for the docs)")
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--no-docs", action="store_true", help="do not regenerate docs/benchmarks.md")
    parser.add_argument("--work", help="directory for the datasets (kept); default a temporary directory")
    parser.add_argument("--tools", help="comma-separated tool names: the tools case warms and times only these (folded "
                                        "into the results on file per tool; the 'all' row stays that of the last full run, "
                                        "and a size no full run measured has none)")
    parser.add_argument("--tool-calls", type=int, help="timed calls per tool in the tools case (default: repeats + 2)")
    parser.add_argument("--tool-time-limit", type=float, help="per-call time limit (s) of the tools case's timed calls "
                                                               "(default: the server's); a call past it is an error")
    args = parser.parse_args()
    cases = {c.strip() for c in args.only.split(",")} if args.only else set(CASES)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = (cases - set(CASES)) | (set(sizes) - set(datasets.SIZES))
    if unknown:
        parser.error(f"unknown case(s) or size(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="lifecycle-speed-") as scratch:
        work = Path(args.work) if args.work else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        tool_names = {t.strip() for t in args.tools.split(",") if t.strip()} if args.tools else None
        result = run(cases, sizes, max(1, args.repeats), work, args.import_rows, tool_names, args.tool_calls,
                     args.tool_time_limit)
    target = RESULTS / "speed.json"
    if args.only and target.exists():  # fold a partial run into the results on file
        previous = json.loads(target.read_text())
        merged_cases = {**previous.get("cases", {}), **result["cases"]}
        if "per_size" in previous.get("cases", {}) and "per_size" in result["cases"]:
            merged_cases["per_size"] = {**previous["cases"]["per_size"]}
            for size, per in result["cases"]["per_size"].items():
                merged_cases["per_size"][size] = {**previous["cases"]["per_size"].get(size, {}), **per}
        if args.tools and "tools" in previous.get("cases", {}) and "tools" in result["cases"]:  # per tool
            merged_cases["tools"] = {**previous["cases"]["tools"]}
            for size, found in result["cases"]["tools"].items():
                before = previous["cases"]["tools"].get(size, {})
                merged_cases["tools"][size] = {**before, **{k: v for k, v in found.items() if k != "all"},
                                               "tools": {**before.get("tools", {}), **found["tools"]}}
        result = {**previous, **{k: v for k, v in result.items() if k != "cases"}, "cases": merged_cases,
                  "sizes": {**previous.get("sizes", {}), **result["sizes"]}}
        _add_growth(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    if not args.no_docs:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--docs-only"], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
