"""Load test of the HTTP server: N concurrent MCP clients × M mixed tool calls on the demo, loopback only.

    .venv/bin/python benchmarks/bench_load.py                   # 20 clients × 25 calls, then docs/benchmarks.md
    .venv/bin/python benchmarks/bench_load.py --clients 5 --calls 4 --settle 5 --no-docs   # a quick look

Starts ``lifecycle serve --http --port 0`` (this venv's console script) on 127.0.0.1 over the demo database (built
into a temporary directory unless ``--db`` names one), waits for it (and ``--start-gap`` seconds more: a client that
comes a while after the start, the server's warm-up's case), makes one light call (``describe_dataset``) and
records the server's resident memory (RSS, from /proc) — the pre-burst level (``lifecycle serve --http`` has loaded its
deferred code by then: ``server.preload``). Then ``--clients`` MCP clients (the real ``mcp`` streamable-HTTP client;
``--protocol mixed``, the default, alternates 2025-revision clients, a session each, with sessionless 2026 ones) run
concurrently, each making ``--calls`` tool calls in turn
from a fixed mix of the analytical tools (metrics, stages, health, at-risk, CLV, cohorts, movements, segments,
facts, customer classification) over three as_of days and a few filters, so calls are a mix of cold and warm.
Every call's latency and outcome is recorded; RSS is sampled every 0.25 s during the burst, read right after it,
every second while the server is idle, and ``--settle`` seconds after the burst (default 60: the acceptance's "a
minute after"; the server shrinks its memo after 30 idle seconds, ``--idle-release``). The 1-minute load average
before and at the end of the burst is recorded beside the figures (the machine may be shared). The run is bounded: ``--deadline`` seconds for the burst,
after which unfinished calls count as errors.

Results: ``benchmarks/results/load.json`` (calls, errors by message, time-limit errors, p50/p95/p99, calls over 2 s,
throughput, RSS before / peak / after / after settle, and from the server's log line per call — ``tools.gate`` — each
call's wait for a slot and computation, calls per lane, the slowest 5 % one by one: tool@as_of, lane, arrival after
the burst's start, wait, computation — every call with ``--server-calls``); then docs/benchmarks.md is regenerated (``run_all.py --docs-only``) unless
``--no-docs``. Compare two versions of the server in one session with ``--out`` (one file per run) and run them
alternately: ``PYTHONPATH=<a checkout of the other version>`` makes this venv's ``lifecycle`` serve that code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
from common import RESULTS, ROOT, demo_database, machine_info

AS_OF_DAYS = ("2025-12-31", "2025-09-30", "2025-06-30")
TIME_LIMIT_MARKERS = ("time limit", "ran past")


@dataclass
class Outcome:
    """One call: which tool, how long it took end to end, and whether it failed (with the first line of why)."""

    client: int
    index: int
    tool: str
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Memory:
    samples: list[tuple[float, int]] = field(default_factory=list)


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` (Linux /proc; 0 where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def call_mix(customers: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The fixed mix of tool calls clients cycle through (call j of client i is entry (i * 7 + j) mod len)."""
    mix: list[tuple[str, dict[str, Any]]] = []
    for k, day in enumerate(AS_OF_DAYS):
        segment = ("SMB", "Mid-Market", "Enterprise")[k]
        mix += [
            ("compute_metrics", {"metrics": ["mrr", "nrr", "logo_churn_rate", "activation_rate"], "as_of": day}),
            ("stage_distribution", {"as_of": day}),
            ("score_health", {"as_of": day, "filters": {"segment": [segment]}}),
            ("list_at_risk", {"as_of": day, "limit": 20}),
            ("predict_clv", {"as_of": day, "limit": 10}),
            ("cohort_retention", {"as_of": day, "period_months": 12}),
            ("revenue_movements", {"as_of": day}),
            ("compare_segments", {"dimension": "plan", "metrics": ["mrr", "logo_churn_rate"], "as_of": day}),
            ("lifecycle_facts", {"as_of": day, "section": "overview"}),
            ("classify_customer", {"customer_id": customers[k % len(customers)], "as_of": day}),
            ("describe_dataset", {"as_of": day}),
        ]
    return mix


def sample_customers(db: Path, n: int = 10) -> list[str]:
    conn = sqlite3.connect(Path(db).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT customer_id FROM customers ORDER BY customer_id LIMIT ?", (n,))]
    finally:
        conn.close()


GATE_LINE = re.compile(r"call waited ([0-9.]+) s for a slot, computed ([0-9.]+) s(?: \(\d+ calls busy\) (\S+))?"
                       r"(?: (\w+) lane, arrived t=([0-9.]+))?")
WARM_UP = "warm-up"  # the server's background warm-up (server/warm.py) labels its steps so; they are not client calls


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far (Linux /proc; 0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class GateLine:
    """One call as the server's gate logged it (``tools.gate``): its wait for a slot, its computation, what it was
    (tool@as_of), its lane (warm / cold) and when it arrived (``time.perf_counter``: the same monotonic clock here)."""

    wait: float
    compute: float
    label: str = ""
    lane: str = ""
    arrived: float | None = None


def start_server(db: Path, data_dir: Path, extra: list[str], gate: list[GateLine] | None = None,
                 warm: list[GateLine] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``lifecycle serve --http --port 0 --log-level INFO`` on loopback; returns the process and its /mcp URL. The
    server's log is drained; each call's wait for a slot and computing time (``tools.gate``'s INFO line) is appended
    to ``gate`` when given — the background warm-up's steps to ``warm`` instead."""
    command = [str(Path(sys.executable).parent / "lifecycle"), "serve", "--db", str(db), "--http", "--port", "0",
               "--log-level", "INFO", *extra]
    env = {**{k: v for k, v in os.environ.items() if k not in ("LIFECYCLE_MCP_TOKEN", "LIFECYCLE_DB")},
           "LIFECYCLE_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env)
    assert process.stderr is not None
    line = process.stderr.readline()
    if "serving streamable HTTP at " not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")

    def drain(stream: Any) -> None:
        for text in stream:
            found = GATE_LINE.search(text)
            into = warm if found and (found[3] or "").startswith(WARM_UP) else gate
            if found and into is not None:
                into.append(GateLine(float(found[1]), float(found[2]), found[3] or "", found[4] or "",
                                     float(found[5]) if found[5] else None))

    threading.Thread(target=drain, args=(process.stderr,), daemon=True).start()
    return process, line.split(" at ", 1)[1].split()[0]


def client_mode(client: int, protocol: str) -> str:
    """The protocol revision client ``client`` speaks: ``legacy`` (2025: initialize, a session per client) or ``auto``
    (the SDK's default, the 2026 revision: no session); ``mixed`` alternates them."""
    if protocol == "mixed":
        return "legacy" if client % 2 == 0 else "auto"
    return protocol


async def one_client(url: str, client: int, calls: int, mix: list[tuple[str, dict[str, Any]]], out: list[Outcome],
                     call_timeout: float, protocol: str = "auto") -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with Client(streamable_http_client(url), mode=client_mode(client, protocol)) as session:
        for j in range(calls):
            tool, arguments = mix[(client * 7 + j) % len(mix)]
            started = time.perf_counter()
            try:
                with anyio.fail_after(call_timeout):
                    result = await session.call_tool(tool, arguments)
                text = " ".join(getattr(b, "text", "") for b in result.content) if result.is_error else ""
                out.append(Outcome(client, j, tool, time.perf_counter() - started, not result.is_error,
                                   text.splitlines()[0][:200] if text else ""))
            except TimeoutError:
                out.append(Outcome(client, j, tool, time.perf_counter() - started, False, f"no answer within {call_timeout:.0f} s"))
            except Exception as exc:  # noqa: BLE001 - a transport failure is a failed call, recorded
                out.append(Outcome(client, j, tool, time.perf_counter() - started, False, f"{type(exc).__name__}: {exc}"[:200]))


async def burst(url: str, clients: int, calls: int, mix: list[tuple[str, dict[str, Any]]], deadline: float,
                protocol: str = "auto") -> tuple[list[Outcome], float]:
    out: list[Outcome] = []
    started = time.perf_counter()
    with anyio.move_on_after(deadline):
        async with anyio.create_task_group() as group:
            for i in range(clients):
                group.start_soon(one_client, url, i, calls, mix, out, deadline, protocol)
    return out, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))  # ceil(q/100 * n)
    return ordered[rank - 1]


def server_side(gate: list[GateLine], burst_started: float | None = None) -> dict[str, Any]:
    """Where the burst's time went on the server (``tools.gate``'s line per call): each call's wait for a computing
    slot and its computation — p50/p95/p99/max and totals, the share of waiting in their sum, calls per lane, and the
    slowest 5 % (wait + computation) one by one: tool@as_of, lane, seconds after the burst's start it arrived, wait,
    computation."""
    def figures(values: list[float]) -> dict[str, float]:
        return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
                "p99": round(percentile(values, 99), 3), "max": round(max(values, default=float("nan")), 3),
                "total": round(sum(values), 1)}

    waits, computes = [g.wait for g in gate], [g.compute for g in gate]
    total = sum(waits) + sum(computes)
    lanes: dict[str, int] = {}
    for g in gate:
        lanes[g.lane or "?"] = lanes.get(g.lane or "?", 0) + 1
    slowest = sorted(gate, key=lambda g: -(g.wait + g.compute))[:max(1, -(-len(gate) * 5 // 100))] if gate else []
    return {"calls": len(gate), "wait": figures(waits), "compute": figures(computes),
            "wait_share": round(sum(waits) / total, 3) if total else None, "calls_by_lane": lanes,
            "slowest_5_percent": [
                {"call": g.label, "lane": g.lane, "wait_s": round(g.wait, 2), "compute_s": round(g.compute, 2),
                 "arrived_s": round(g.arrived - burst_started, 2) if g.arrived is not None and burst_started else None}
                for g in slowest]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with demo_database(args.db) as db:
        data_dir = Path(os.environ["LIFECYCLE_DATA_DIR"])
        mix = call_mix(sample_customers(db))
        extra = (["--time-limit", str(args.time_limit)] if args.time_limit else []) + list(args.serve_arg)
        gate: list[GateLine] = []
        warm_steps: list[GateLine] = []
        process, url = start_server(db, data_dir, extra, gate, warm_steps)
        memory = Memory()
        stop = threading.Event()
        try:
            time.sleep(args.start_gap)  # a client that comes a while after the start (the warm-up's case)
            rss_started = rss_bytes(process.pid)
            warm, _ = anyio.run(burst, url, 1, 1, [("describe_dataset", {})], 120.0)
            rss_before = rss_bytes(process.pid)

            def sample() -> None:
                while not stop.is_set():
                    memory.samples.append((time.perf_counter(), rss_bytes(process.pid)))
                    time.sleep(0.25)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            load_before = os.getloadavg()[0]
            gate.clear()  # the warm-up call's line
            warm_before_burst = len(warm_steps)
            cpu_before = cpu_seconds(process.pid)
            burst_started = time.perf_counter()
            outcomes, seconds = anyio.run(burst, url, args.clients, args.calls, mix, args.deadline, args.protocol)
            cpu_burst = cpu_seconds(process.pid) - cpu_before
            load_during = os.getloadavg()[0]
            stop.set()
            sampler.join()
            rss_after = rss_bytes(process.pid)
            settle = Memory()
            settle_started = time.perf_counter()
            while (elapsed := time.perf_counter() - settle_started) < args.settle:  # idle: RSS every second
                settle.samples.append((elapsed, rss_bytes(process.pid)))
                time.sleep(min(1.0, max(0.0, args.settle - elapsed)))
            rss_settled = rss_bytes(process.pid)
        finally:
            stop.set()
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    expected = args.clients * args.calls
    latencies = [o.seconds for o in outcomes]
    errors: dict[str, int] = {}
    for o in outcomes:
        if not o.ok:
            errors[o.error] = errors.get(o.error, 0) + 1
    per_tool: dict[str, list[float]] = {}
    for o in outcomes:
        per_tool.setdefault(o.tool, []).append(o.seconds)
    mb = 1024 * 1024
    return {
        "benchmark": "load", **machine_info(),
        "clients": args.clients, "calls_per_client": args.calls, "time_limit_s": args.time_limit,
        "start_gap_s": args.start_gap,
        "protocol": args.protocol, "server_args": extra,
        "load_average_1min_before_burst": round(load_before, 2), "load_average_1min_end_of_burst": round(load_during, 2),
        "calls_planned": expected, "calls_completed": len(outcomes), "calls_unfinished": expected - len(outcomes),
        "errors": sum(errors.values()) + expected - len(outcomes), "errors_by_message": errors,
        "time_limit_errors": sum(n for msg, n in errors.items() if any(m in msg for m in TIME_LIMIT_MARKERS)),
        "calls_over_2s": sum(1 for o in outcomes if o.seconds > 2.0),
        "burst_seconds": round(seconds, 2), "throughput_calls_per_s": round(len(outcomes) / seconds, 3) if seconds else None,
        "latency_s": {"p50": round(percentile(latencies, 50), 3), "p95": round(percentile(latencies, 95), 3),
                      "p99": round(percentile(latencies, 99), 3), "max": round(max(latencies, default=float("nan")), 3)},
        "server_side_s": server_side(gate, burst_started),
        "server_cpu_s_during_burst": round(cpu_burst, 1),
        "server_warm_up_steps": {"before_burst": warm_before_burst, "total": len(warm_steps),
                                 "computed_s": round(sum(g.compute for g in warm_steps), 2)},
        "latency_by_tool_p50_s": {t: round(percentile(v, 50), 3) for t, v in sorted(per_tool.items())},
        "rss_mb": {"started": round(rss_started / mb, 1), "before_burst": round(rss_before / mb, 1),
                   "peak": round(max((r for _, r in memory.samples), default=0) / mb, 1),
                   "after_burst": round(rss_after / mb, 1), "after_settle": round(rss_settled / mb, 1)},
        "settle_s": args.settle,
        "rss_settle_mb_every_5s": [round(r / mb, 1) for t, r in settle.samples[::5]],
        "rss_settled_over_before": round(rss_settled / rss_before, 3) if rss_before else None,
        "warm_up_ok": all(o.ok for o in warm),
        "outcomes": [asdict(o) for o in sorted(outcomes, key=lambda o: (o.client, o.index))],
        **({"burst_started_monotonic_s": round(burst_started, 3),  # the server's clock too (time.perf_counter)
            "server_calls": [{"call": g.label, "lane": g.lane, "wait_s": round(g.wait, 3),
                              "compute_s": round(g.compute, 3),
                              "arrived_s": round(g.arrived - burst_started, 3) if g.arrived is not None else None}
                             for g in sorted(gate, key=lambda g: g.arrived or 0.0)]} if args.server_calls else {}),
    }


def markdown(data: dict[str, Any]) -> str:
    """The docs/benchmarks.md table for a results file of this script."""
    lat, rss = data["latency_s"], data["rss_mb"]
    limit = f"{data['time_limit_s']} s" if data.get("time_limit_s") else "server default"
    rows = [
        ("clients × calls", f"{data['clients']} × {data['calls_per_client']} = {data['calls_planned']}"),
        ("completed / errors / time-limit errors", f"{data['calls_completed']} / {data['errors']} / {data['time_limit_errors']}"),
        ("latency p50 / p95 / p99 / max", f"{lat['p50']:.2f} / {lat['p95']:.2f} / {lat['p99']:.2f} / {lat['max']:.2f} s"),
        *([("calls over 2 s (p95 ≤ 2 s allows 5 %)", f"{data['calls_over_2s']} of {data['calls_completed']}")]
          if data.get("calls_over_2s") is not None else []),
        ("throughput", f"{data['throughput_calls_per_s']:.2f} calls/s over {data['burst_seconds']:.0f} s"),
        *_server_side_rows(data.get("server_side_s")),
        *([("server CPU during the burst", f"{data['server_cpu_s_during_burst']:.0f} s "
            f"({data['server_cpu_s_during_burst'] / data['burst_seconds']:.2f} cores on average)")]
          if data.get("server_cpu_s_during_burst") is not None and data.get("burst_seconds") else []),
        *([("server warm-up steps before the burst / in all", f"{data['server_warm_up_steps']['before_burst']} / "
            f"{data['server_warm_up_steps']['total']} ({data['server_warm_up_steps']['computed_s']:.1f} s computing)")]
          if data.get("server_warm_up_steps") else []),
        ("server RSS: idle / before burst / peak / after burst", f"{rss['started']:.0f} / {rss['before_burst']:.0f} / {rss['peak']:.0f} / {rss['after_burst']:.0f} MB"),
        (f"server RSS {data['settle_s']:.0f} s after the burst", f"{rss['after_settle']:.0f} MB ({data['rss_settled_over_before']:.2f} × before)"),
        ("per-call time limit", limit),
        ("server arguments", " ".join(data.get("server_args", [])) or "defaults"),
        ("idle seconds between the server's start and the first call", f"{data.get('start_gap_s', 0):g}"),
        ("clients' protocol revision", {"mixed": "2025 (sessions) and 2026 alternating", "legacy": "2025 (sessions)",
                                        "auto": "2026 (sessionless)"}.get(data.get("protocol", "auto"), "")),
        ("load average (1 min) before / end of burst", f"{data.get('load_average_1min_before_burst', '?')} / "
                                                       f"{data.get('load_average_1min_end_of_burst', '?')} on {data['cpus']} CPUs"),
    ]
    table = ["| measure | value |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows]
    if data["errors_by_message"]:
        table += ["", "Errors: " + "; ".join(f"{n} × {msg!r}" for msg, n in sorted(data["errors_by_message"].items()))]
    tools = ", ".join(f"{t} {s:.2f} s" for t, s in data["latency_by_tool_p50_s"].items())
    note = [data["note"]] if data.get("note") else []
    slowest = _slowest_line((data.get("server_side_s") or {}).get("slowest_5_percent"))
    return "\n".join(table + ["", f"Median latency by tool: {tools}.", *(["", slowest] if slowest else []),
                              *([""] + note if note else [])])


def _slowest_line(slowest: list[dict[str, Any]] | None) -> str:
    """One sentence on the server's slowest 5 % of calls: how many waited more than they computed, and which
    tool@as_of (lane) they were."""
    if not slowest:
        return ""
    waited = sum(1 for s in slowest if s["wait_s"] > s["compute_s"])
    calls: dict[str, int] = {}
    for s in slowest:
        name = f"{s['call']} ({s['lane']})" if s.get("lane") else s["call"]
        calls[name] = calls.get(name, 0) + 1
    listed = ", ".join(f"{n} × {c}" if n > 1 else c for c, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])))
    return (f"Slowest 5 % on the server ({len(slowest)} calls, wait + computation; {waited} of them waited longer "
            f"than they computed): {listed}.")


def _server_side_rows(side: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not side or not side.get("calls"):
        return []
    wait, compute = side["wait"], side["compute"]
    return [("server: wait for a slot p50 / p95 / max", f"{wait['p50']:.2f} / {wait['p95']:.2f} / {wait['max']:.2f} s"),
            ("server: computation p50 / p95 / max", f"{compute['p50']:.2f} / {compute['p95']:.2f} / {compute['max']:.2f} s"),
            ("server: share of call time spent waiting", f"{side['wait_share']:.0%} ({wait['total']:.0f} s waiting, "
                                                         f"{compute['total']:.0f} s computing)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="database to serve (default: the demo, built into a temporary directory)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--calls", type=int, default=25, help="calls per client")
    parser.add_argument("--settle", type=float, default=60.0, help="idle seconds before the last RSS reading")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds the whole burst may take")
    parser.add_argument("--start-gap", type=float, default=0.0,
                        help="idle seconds between the server's start and the first call (default 0: at once)")
    parser.add_argument("--time-limit", type=float, default=None, help="pass --time-limit to lifecycle serve")
    parser.add_argument("--protocol", choices=("mixed", "legacy", "auto"), default="mixed",
                        help="clients' protocol revision: legacy (2025, a session each), auto (2026, sessionless), "
                             "mixed (alternating; default)")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra argument for lifecycle serve (repeatable)")
    parser.add_argument("--server-calls", action="store_true",
                        help="keep every call's line of the server's gate log (tool@as_of, lane, arrival, wait, "
                             "computation) in the results, in arrival order")
    parser.add_argument("--no-docs", action="store_true", help="do not regenerate docs/benchmarks.md")
    parser.add_argument("--out", help="write the results here instead of benchmarks/results/load.json (implies --no-docs)")
    args = parser.parse_args()
    result = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / "load.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: result[k] for k in ("calls_completed", "errors", "time_limit_errors", "latency_s", "calls_over_2s",
                                      "throughput_calls_per_s", "rss_mb", "rss_settled_over_before",
                                      "load_average_1min_before_burst", "load_average_1min_end_of_burst")}
    print(json.dumps(summary, indent=1))
    if not args.no_docs and not args.out:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--docs-only"], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
