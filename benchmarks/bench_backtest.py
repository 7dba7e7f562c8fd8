"""At-risk back-test on the demo data: does the list, built as of a past day, put the customers who churn next first?

    .venv/bin/python benchmarks/bench_backtest.py [--db PATH] [--months-back 6] [--horizon-days 90]

Headline (as_of = data end − 6 months = 2025-06-30 on the demo):

1. Snapshot at as_of (``build_snapshot``: the as-of view masks everything later, so nothing leaks from the
   future), customers not churned at as_of, ``score_health`` under the configured profile, then the whole
   at-risk list in its own order: ``list_at_risk(..., min_risk=0, limit=everyone)`` (priority = risk × MRR).
2. Label, from the full data: among customers *paying at as_of* (``is_active_subscriber``), churned = no active
   paying subscription at as_of + 90 days (``is_active_subscriber`` of a snapshot at that day is false).
   Customers not paying at as_of (trials, never paid) have no label and are left out of the measures.
3. Measures (``lifecycle.health.evaluation``): ROC AUC of priority, of plain risk and of 100 − health; precision at
   10 % (top ⌈0.1·n⌉ of the labelled customers in list order) for priority and risk; the share of the churners'
   MRR that the top 10 % holds (what priority = risk × MRR is built for); the base rate; and how the default
   list (risk ≥ min_risk) splits churners from the rest.

The same measures at data end − 9 and − 3 months are reported alongside, to show how much one date varies.
Writes ``benchmarks/results/backtest.json`` and prints a Markdown table. This is a measurement, not a tuned
test: nothing in the health profile was fitted to these labels.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from common import RESULTS, demo_database, machine_info

from lifecycle.config import DEFAULT_CONFIG
from lifecycle.dataset import Dataset, data_end
from lifecycle.filters import add_months
from lifecycle.health import score_health
from lifecycle.health.evaluation import precision_at_k, roc_auc
from lifecycle.health.profile import load_health_profile
from lifecycle.health.risk import list_at_risk
from lifecycle.snapshot import build_snapshot

TOP_SHARE = 0.10


@dataclass(frozen=True)
class Backtest:
    """The measures of one back-test date (``*_auc``: ROC AUC; ``precision_top10``: precision at top 10 %)."""

    as_of: str
    label_date: str
    listed_alive: int
    labelled: int
    churned: int
    base_rate: float
    auc_priority: float | None
    auc_risk: float | None
    auc_inverse_health: float | None
    top_k: int
    precision_top10_priority: float | None
    precision_top10_risk: float | None
    churned_mrr_in_top10_priority: float | None
    churned_mrr_in_top10_risk: float | None
    default_list_size: int
    default_list_churn_rate: float | None
    outside_list_churn_rate: float | None
    default_list_recall: float | None
    seconds: float


def _snapshot(db: str, day: date) -> pd.DataFrame:
    dataset = Dataset.open(db, day, time_limit_s=None)
    try:
        return build_snapshot(dataset)
    finally:
        dataset.close()


def _rate(mask: np.ndarray, labels: np.ndarray) -> float | None:
    return float(labels[mask].mean()) if mask.any() else None


def _mrr_captured(ranked: pd.DataFrame, labels: np.ndarray, score: str, k: int) -> float | None:
    """Share of the churners' MRR (at as_of) held by churners in the top ``k`` by ``score`` (ties in list order)."""
    lost = ranked["mrr"].to_numpy() * labels
    if lost.sum() <= 0:
        return None
    top = np.argsort(-ranked[score].to_numpy(), kind="stable")[:k]
    return float(lost[top].sum() / lost.sum())


def backtest(db: str, as_of: date, horizon_days: int) -> Backtest:
    """Rank the at-risk list as of ``as_of`` and score it against churn in the next ``horizon_days`` (module docstring)."""
    started = time.perf_counter()
    label_day = as_of + timedelta(days=horizon_days)
    snapshot = _snapshot(db, as_of)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    profile = load_health_profile(DEFAULT_CONFIG.models.health)
    health = score_health(alive, profile)
    everyone = list_at_risk(alive, health, min_risk=0.0, limit=len(alive))
    default_list = {item.customer_id for item in list_at_risk(alive, health, limit=len(alive)).items}
    ranked = pd.DataFrame([{"customer_id": i.customer_id, "priority": i.priority, "risk": i.risk, "mrr": i.value,
                            "health": i.health if i.health is not None else np.nan} for i in everyone.items])

    paying = set(alive.loc[alive["is_active_subscriber"].fillna(False).astype(bool), "customer_id"])
    later = _snapshot(db, label_day).set_index("customer_id")["is_active_subscriber"].fillna(False).astype(bool)
    ranked = ranked[ranked["customer_id"].isin(paying)].reset_index(drop=True)  # list order kept
    labels = (~later.reindex(ranked["customer_id"]).fillna(False).to_numpy(dtype=bool)).astype(int)
    k = max(1, math.ceil(TOP_SHARE * len(ranked)))
    listed = ranked["customer_id"].isin(default_list).to_numpy()
    return Backtest(
        as_of=as_of.isoformat(), label_date=label_day.isoformat(), listed_alive=len(alive), labelled=len(ranked),
        churned=int(labels.sum()), base_rate=float(labels.mean()),
        auc_priority=roc_auc(ranked["priority"], labels), auc_risk=roc_auc(ranked["risk"], labels),
        auc_inverse_health=roc_auc(100.0 - ranked["health"], labels), top_k=k,
        precision_top10_priority=precision_at_k(ranked["priority"], labels, k),
        precision_top10_risk=precision_at_k(ranked["risk"], labels, k),
        churned_mrr_in_top10_priority=_mrr_captured(ranked, labels, "priority", k),
        churned_mrr_in_top10_risk=_mrr_captured(ranked, labels, "risk", k),
        default_list_size=int(listed.sum()), default_list_churn_rate=_rate(listed, labels),
        outside_list_churn_rate=_rate(~listed, labels),
        default_list_recall=float(labels[listed].sum() / labels.sum()) if labels.sum() else None,
        seconds=round(time.perf_counter() - started, 2),
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(rows: list[dict[str, object]]) -> str:
    """One row per back-test date."""
    lines = ["| as_of | paying (labelled) | churned in 90 d | base rate | AUC priority | AUC risk | AUC 100 − health "
             "| precision top 10 % (priority) | precision top 10 % (risk) | churned MRR in top 10 % (priority) "
             "| churned MRR in top 10 % (risk) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['as_of']} | {r['labelled']} | {r['churned']} | {_fmt(r['base_rate'])} | {_fmt(r['auc_priority'])} "
                     f"| {_fmt(r['auc_risk'])} | {_fmt(r['auc_inverse_health'])} | {_fmt(r['precision_top10_priority'])} "
                     f"(k={r['top_k']}) | {_fmt(r['precision_top10_risk'])} | {_fmt(r['churned_mrr_in_top10_priority'])} "
                     f"| {_fmt(r['churned_mrr_in_top10_risk'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="a Lifecycle store (default: build the demo into a temporary directory)")
    parser.add_argument("--months-back", type=int, default=6, help="headline as_of = data end minus this many months")
    parser.add_argument("--horizon-days", type=int, default=90)
    args = parser.parse_args()
    with demo_database(args.db) as db:
        end = data_end(db)
        dates = [add_months(end, -args.months_back), add_months(end, -args.months_back - 3), add_months(end, -args.months_back + 3)]
        rows = [asdict(backtest(str(db), day, args.horizon_days)) for day in dates]
    result = {"benchmark": "backtest", **machine_info(), "data_end": end.isoformat(), "horizon_days": args.horizon_days,
              "top_share": TOP_SHARE, "headline": rows[0], "other_dates": rows[1:]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "backtest.json").write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
