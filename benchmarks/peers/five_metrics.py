"""The floor for `lifecycle metrics`: five headline metrics an analyst would write by hand with pandas.

    python benchmarks/peers/five_metrics.py DB [AS_OF]      # prints the five values as JSON

No engine code: plain ``sqlite3`` + pandas on the importer's SQLite file, reading only what each metric needs (the
value events filtered in SQL, subscriptions, NPS responses, customers). The definitions are the product's
(docs/metrics.md) on the default configuration and the trailing 12-month window ending on ``as_of`` (default: the
data's last day) — the benchmark checks that both give the same values:

- ``mrr``: Σ mrr of subscriptions with start ≤ as_of < end (open end = active);
- ``logo_churn_rate``: over the complete calendar months inside the window, Σ customers paying nothing at the end of
  month m among those paying at the end of m−1 ÷ Σ those paying at the end of m−1;
- ``nrr``: the cohort paying the day before the window starts: its MRR on as_of ÷ its MRR that day;
- ``activation_rate``: signups in the window with signup ≤ as_of − 7 days whose first ``report_created`` came within
  7 calendar days of signup (earlier events count as day 0) ÷ those signups;
- ``nps``: each customer's latest response in the window (ties by response id); (promoters 9–10 − detractors 0–6) ÷
  respondents × 100.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import date, timedelta

import numpy as np
import pandas as pd

VALUE_EVENT, WITHIN_DAYS = "report_created", 7


def connect(db: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def last_day(conn: sqlite3.Connection) -> date:
    found = [conn.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
             for table, column in (("events", "occurred_at"), ("subscriptions", "start_date"), ("customers", "signup_date"))]
    return date.fromisoformat(max(v for v in found if v)[:10])


def window_start(as_of: date) -> date:
    month, year = as_of.month, as_of.year - 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(as_of.day, last)) + timedelta(days=1)


def mrr_on(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    active = (subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))
    return subs[active].groupby("customer_id")["mrr"].sum()


def five_metrics(conn: sqlite3.Connection, as_of: date) -> dict[str, float | None]:
    start = pd.Timestamp(window_start(as_of))
    end = pd.Timestamp(as_of)
    subs = pd.read_sql("SELECT customer_id, start_date, end_date, mrr FROM subscriptions WHERE start_date <= ?", conn,
                       params=(as_of.isoformat(),), parse_dates=["start_date", "end_date"])
    out: dict[str, float | None] = {"mrr": float(mrr_on(subs, end).sum())}

    months = pd.date_range(start, end, freq="MS")
    churned = at_risk = 0
    for month in months:
        month_end = month + pd.offsets.MonthEnd(0)
        if month_end > end:
            break
        before = mrr_on(subs, month - pd.Timedelta(days=1))
        paying = set(before[before > 0].index)
        after = mrr_on(subs, month_end)
        still = set(after[after > 0].index)
        at_risk += len(paying)
        churned += len(paying - still)
    out["logo_churn_rate"] = churned / at_risk if at_risk else None

    first = mrr_on(subs, start - pd.Timedelta(days=1))
    cohort = first[first > 0]
    last = mrr_on(subs, end).reindex(cohort.index, fill_value=0.0)
    out["nrr"] = float(last.sum() / cohort.sum()) if len(cohort) else None

    customers = pd.read_sql("SELECT customer_id, signup_date FROM customers WHERE signup_date >= ? AND signup_date <= ?",
                            conn, params=(start.date().isoformat(), (end - pd.Timedelta(days=WITHIN_DAYS)).date().isoformat()),
                            parse_dates=["signup_date"])
    events = pd.read_sql("SELECT customer_id, occurred_at FROM events WHERE event_name = ? AND occurred_at < ?", conn,
                         params=(VALUE_EVENT, (end + pd.Timedelta(days=1)).date().isoformat()), parse_dates=["occurred_at"])
    firsts = events.groupby("customer_id")["occurred_at"].min().dt.floor("D")
    joined = customers.set_index("customer_id").join(firsts)
    days = (joined["occurred_at"] - joined["signup_date"]).dt.days.clip(lower=0)
    out["activation_rate"] = float((days <= WITHIN_DAYS).sum() / len(joined)) if len(joined) else None

    responses = pd.read_sql("SELECT response_id, customer_id, responded_at, score FROM nps_responses "
                            "WHERE responded_at >= ? AND responded_at < ?", conn,
                            params=(start.date().isoformat(), (end + pd.Timedelta(days=1)).date().isoformat()))
    latest = responses.sort_values(["customer_id", "responded_at", "response_id"]).groupby("customer_id").tail(1)
    scores = latest["score"].to_numpy(dtype=np.int64)
    out["nps"] = float(((scores >= 9).sum() - (scores <= 6).sum()) / len(scores) * 100) if len(scores) else None
    return out


def main() -> None:
    conn = connect(sys.argv[1])
    as_of = date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else last_day(conn)
    print(json.dumps({"as_of": as_of.isoformat(), "metrics": five_metrics(conn, as_of)}))


if __name__ == "__main__":
    main()
