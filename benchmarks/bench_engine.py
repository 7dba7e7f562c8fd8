"""Engine timings on synthetic per-customer snapshots: a list of named measurements run at several sizes.

    .venv/bin/python benchmarks/bench_engine.py [--customers 10000 100000 1000000] [--seed 7] [--repeats 3]

Each size gets a synthetic snapshot with the columns of docs/snapshot-contract.md (numpy, fixed seed), then
every entry of ``MEASUREMENTS`` runs in order on a shared ``Context``; a measurement may read what earlier ones
left in ``context.state`` (e.g. the health table the at-risk ranking needs). The time reported is the best of
``--repeats`` runs. To add a stage (snapshot build, stages, ...), append a ``Measurement`` to the list.

Writes ``benchmarks/results/engine.json`` and ``benchmarks/results/engine.md`` (the Markdown table, also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifecycle.health import explain_health, score_health  # noqa: E402
from lifecycle.health.profile import HealthProfile, load_health_profile  # noqa: E402
from lifecycle.health.risk import RiskQuery, list_at_risk, rank_at_risk  # noqa: E402

AS_OF = np.datetime64("2024-06-30", "D")


@dataclass
class Context:
    """What measurements share at one size: the synthetic inputs and whatever earlier measurements stored."""

    customers: int
    seed: int
    snapshot: pd.DataFrame
    previous: pd.DataFrame
    profile: HealthProfile
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Measurement:
    """One timed step: ``run(context)`` is timed; its return value is kept in ``context.state[name]``."""

    name: str
    description: str
    run: Callable[[Context], Any]


def _maybe(rng: np.random.Generator, values: np.ndarray, missing: float) -> np.ndarray:
    """``values`` as floats with a share ``missing`` set to NaN."""
    out = values.astype("float64")
    out[rng.random(len(out)) < missing] = np.nan
    return out


def _flags(rng: np.random.Generator, n: int, p_true: float, missing: float) -> pd.arrays.BooleanArray:
    values = pd.array(rng.random(n) < p_true, dtype="boolean")
    values[rng.random(n) < missing] = pd.NA
    return values


def synthetic_snapshot(customers: int, seed: int) -> pd.DataFrame:
    """A snapshot frame with the contract's columns and plausible, independent distributions (fixed seed)."""
    rng = np.random.default_rng(seed)
    n = customers
    tenure = rng.integers(1, 1500, n)
    signup = AS_OF - tenure.astype("timedelta64[D]")
    events_prev = rng.poisson(rng.gamma(1.5, 25, n)).astype("float64")
    events_30 = rng.poisson(events_prev * rng.lognormal(-0.05, 0.4, n)).astype("float64")
    days_since = np.where(events_30 > 0, rng.integers(0, 30, n), rng.integers(30, 400, n)).astype("float64")
    mrr_90 = np.round(rng.lognormal(5.5, 1.0, n), 2)
    mrr_now = np.where(rng.random(n) < 0.08, 0.0, mrr_90 * rng.choice([0.8, 1.0, 1.0, 1.0, 1.25], n))
    churned = mrr_now == 0.0
    seats_90 = rng.integers(1, 80, n).astype("float64")
    seats_now = np.maximum(0, seats_90 + rng.integers(-3, 4, n))
    due = rng.integers(0, 4, n).astype("float64")
    late = np.minimum(due, rng.binomial(3, 0.1, n)).astype("float64")
    nps = _maybe(rng, rng.choice(np.arange(11), n, p=[.02, .02, .03, .03, .05, .08, .09, .18, .2, .15, .15]), 0.6)
    sent = rng.integers(0, 12, n).astype("float64")
    opened = np.floor(sent * rng.beta(2, 5, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        usage_change = np.where(events_prev > 0, (events_30 - events_prev) / events_prev, np.nan)
        open_rate = np.where(sent > 0, opened / sent, np.nan)
        on_time = np.where(due > 0, 1 - late / due, np.nan)
    nps_category = np.select([nps >= 9, nps >= 7, nps >= 0], ["promoter", "passive", "detractor"], default=None)
    return pd.DataFrame({
        "customer_id": pd.array(np.char.add("C", np.char.zfill(np.arange(n).astype(str), 7)), dtype="str"),
        "signup_date": signup.astype("datetime64[us]"),
        "tenure_days": tenure.astype("float64"),
        "segment": pd.array(rng.choice(["smb", "mid_market", "enterprise"], n, p=[.6, .3, .1]), dtype="str"),
        "plan": pd.array(rng.choice(["starter", "pro", "business"], n, p=[.5, .35, .15]), dtype="str"),
        "acquisition_channel": pd.array(rng.choice(["organic", "paid", "referral", "sales"], n), dtype="str"),
        "executive_sponsor": _flags(rng, n, 0.45, 0.1),
        "has_champion": _flags(rng, n, 0.6, 0.1),
        "mrr_current": mrr_now, "mrr_30d_ago": mrr_90, "mrr_90d_ago": mrr_90, "mrr_change_90d": mrr_now - mrr_90,
        "seats_current": seats_now, "seats_change_90d": seats_now - seats_90,
        "ever_paid": np.ones(n, dtype=bool), "is_active_subscriber": ~churned, "churned": pd.array(churned, dtype="boolean"),
        "events_7d": np.floor(events_30 / 4), "events_30d": events_30, "events_prev_30d": events_prev,
        "events_90d": events_30 + events_prev + rng.poisson(events_prev).astype("float64"),
        "active_days_30d": np.minimum(30, np.ceil(events_30 / 3)), "distinct_features_30d": np.minimum(6, np.ceil(events_30 / 15)),
        "usage_change_30d": usage_change, "days_since_last_event": days_since,
        "nps_latest": nps, "nps_category": pd.array(nps_category, dtype="str"),
        "tickets_open": rng.poisson(0.4, n).astype("float64"), "tickets_open_high": rng.poisson(0.08, n).astype("float64"),
        "tickets_90d": rng.poisson(1.0, n).astype("float64"), "csat_avg_90d": _maybe(rng, rng.integers(1, 6, n), 0.5),
        "invoices_due_90d": due, "invoices_late_90d": late, "invoices_overdue_now": rng.binomial(2, 0.03, n).astype("float64"),
        "on_time_payment_rate": on_time, "touches_sent_90d": sent, "touches_opened_90d": opened,
        "email_open_rate_90d": open_rate, "x_expected_clv": np.round(mrr_now * rng.uniform(6, 36, n), 2),
    })


def _previous(snapshot: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same customers 30 days earlier: usage and revenue columns perturbed."""
    rng = np.random.default_rng(seed + 1)
    n = len(snapshot)
    return snapshot.assign(
        events_30d=snapshot["events_prev_30d"], usage_change_30d=rng.normal(0, 0.3, n),
        mrr_change_90d=snapshot["mrr_change_90d"] * rng.choice([0, 1], n), tenure_days=snapshot["tenure_days"] - 30,
    )


def _explain_one(ctx: Context) -> Any:
    table = ctx.state["health.score"]
    return explain_health(table, str(table.frame.index[len(table.frame) // 2]))


MEASUREMENTS: list[Measurement] = [
    Measurement("health.score", "score_health: components, bands, segments, most impactful (no trend)",
                lambda ctx: score_health(ctx.snapshot, ctx.profile)),
    Measurement("health.score_with_trend", "score_health with the previous snapshot (scores both)",
                lambda ctx: score_health(ctx.snapshot, ctx.profile, previous=ctx.previous)),
    Measurement("health.explain_one", "explain_health for one customer of the table", _explain_one),
    Measurement("risk.rank", "rank_at_risk: reasons, risk, filters and the full risk × MRR ordering",
                lambda ctx: rank_at_risk(ctx.snapshot, ctx.state["health.score"],
                                         RiskQuery(min_risk=ctx.profile.risk.min_risk, profile=ctx.profile.fingerprint()))),
    Measurement("risk.first_page", "list_at_risk: first page of 50 with reasons, evidence and plays",
                lambda ctx: list_at_risk(ctx.snapshot, ctx.state["health.score"], limit=50)),
    Measurement("risk.filtered_page", "list_at_risk: plan + reason filters, value = expected CLV column",
                lambda ctx: list_at_risk(ctx.snapshot, ctx.state["health.score"], limit=50, plan="pro",
                                         reason=["usage_drop", "late_payment"], value_column="x_expected_clv")),
]


def measure(ctx: Context, measurement: Measurement, repeats: int) -> dict[str, Any]:
    """Best-of-``repeats`` wall time of one measurement; keeps its last result in ``ctx.state``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = measurement.run(ctx)
        times.append(time.perf_counter() - started)
    ctx.state[measurement.name] = result
    best = min(times)
    return {"measurement": measurement.name, "customers": ctx.customers, "seconds": round(best, 4),
            "microseconds_per_customer": round(best / ctx.customers * 1e6, 3), "repeats": repeats,
            "description": measurement.description}


def markdown(results: list[dict[str, Any]], sizes: list[int]) -> str:
    """A table: one row per measurement, one column per size (seconds)."""
    names = list(dict.fromkeys(r["measurement"] for r in results))
    seconds = {(r["measurement"], r["customers"]): r["seconds"] for r in results}
    lines = ["| measurement | " + " | ".join(f"{n:,} customers (s)" for n in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    for name in names:
        cells = [f"{seconds[(name, n)]:.3f}" if (name, n) in seconds else "—" for n in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "engine.json")
    args = parser.parse_args()
    profile = load_health_profile("default")
    results, generation = [], {}
    for n in args.customers:
        started = time.perf_counter()
        snapshot = synthetic_snapshot(n, args.seed)
        ctx = Context(customers=n, seed=args.seed, snapshot=snapshot, previous=_previous(snapshot, args.seed), profile=profile)
        generation[n] = round(time.perf_counter() - started, 3)
        for measurement in MEASUREMENTS:
            results.append(measure(ctx, measurement, args.repeats))
            print(f"{n:>9,}  {measurement.name:<24} {results[-1]['seconds']:.3f} s", file=sys.stderr)
        for entry in results:
            if entry["measurement"] == "risk.rank" and entry["customers"] == n:
                entry["listed_customers"] = len(ctx.state["risk.rank"])
    payload = {
        "benchmark": "engine", "customers": args.customers, "seed": args.seed, "repeats": args.repeats,
        "profile": profile.name, "python": platform.python_version(), "pandas": pd.__version__, "numpy": np.__version__,
        "machine": platform.machine(), "cpus": os.cpu_count(), "synthetic_snapshot_seconds": generation,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    table = markdown(results, args.customers)
    args.out.with_suffix(".md").write_text(
        f"# Engine benchmark\n\nBest of {args.repeats} runs; synthetic snapshots (seed {args.seed}); "
        f"Python {platform.python_version()}, pandas {pd.__version__}, {os.cpu_count()} CPUs. "
        "Generated by `benchmarks/bench_engine.py`.\n\n" + table + "\n", encoding="utf-8")
    print(table)
    print(f"\nwritten to {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
