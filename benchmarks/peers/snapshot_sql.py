"""The floor for the snapshot build: one hand-written SQL statement computing the per-customer snapshot's columns.

    python benchmarks/peers/snapshot_sql.py DB AS_OF [sqlite|duckdb]     # prints rows and seconds

One ``SELECT`` over the canonical tables of the importer's SQLite file: MRR and seats now / 30 / 90 days ago, paying
now, first paid day and churn (subscriptions); event counts over 7 / 30 / previous 30 / 90 days, active days and
distinct core features in 30 days, first and latest event, first value event and onboarding steps, core features
ever used (events); latest NPS score; open / high / recent tickets and CSAT; invoices due, late, overdue;
referrals made and converted; touches and emails sent / opened / clicked in 90 days; kept orders, their value,
first and latest. It is the work the snapshot does (docs/snapshot-contract.md) without the engine around it — no
reactivation blocks, no CLV fits, no type conversions — so it is a floor, not an equal. Dates compare as ISO-8601
text (as the engine's SQL does), so the same statement runs on SQLite and on DuckDB (reading the SQLite file through
``sqlite_scanner``); only the day arithmetic differs by dialect.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

CORE_FEATURES = ("report_created", "dashboard_viewed", "integration_connected", "teammate_invited", "export_csv", "api_call")
VALUE_EVENT, ONBOARDING_EVENT = "report_created", "onboarding_step_completed"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def statement(as_of: date, dialect: str = "sqlite", features: tuple[str, ...] = CORE_FEATURES) -> str:
    """The snapshot statement at ``as_of`` for ``dialect`` (``sqlite`` or ``duckdb``)."""

    def cut(days_back: int = 0) -> str:  # first day after as_of − n: ``x >= cut(n)`` is within the last n days
        return _lit((as_of - timedelta(days=days_back) + timedelta(days=1)).isoformat())

    def day(days_back: int) -> str:
        return _lit((as_of - timedelta(days=days_back)).isoformat())

    def days_since(column: str) -> str:
        if dialect == "duckdb":
            return f"date_diff('day', CAST(substr({column}, 1, 10) AS DATE), DATE {day(0)})"
        return f"CAST(julianday({day(0)}) - julianday(substr({column}, 1, 10)) AS INTEGER)"

    def active(on: str) -> str:
        return f"s.start_date <= {on} AND (s.end_date IS NULL OR s.end_date = '' OR s.end_date > {on})"

    core = ", ".join(_lit(f) for f in features)
    used = ", ".join(f"MAX(CASE WHEN e.event_name = {_lit(f)} THEN 1 ELSE 0 END) AS used_{i}" for i, f in enumerate(features))
    return f"""
WITH subs AS (
  SELECT s.customer_id,
         SUM(CASE WHEN {active(day(0))} THEN s.mrr ELSE 0 END) AS mrr_current,
         SUM(CASE WHEN {active(day(30))} THEN s.mrr ELSE 0 END) AS mrr_30d_ago,
         SUM(CASE WHEN {active(day(90))} THEN s.mrr ELSE 0 END) AS mrr_90d_ago,
         SUM(CASE WHEN {active(day(0))} THEN s.seats ELSE 0 END) AS seats_current,
         SUM(CASE WHEN {active(day(90))} THEN s.seats ELSE 0 END) AS seats_90d_ago,
         MAX(CASE WHEN s.mrr > 0 AND {active(day(0))} THEN 1 ELSE 0 END) AS is_active_subscriber,
         MIN(CASE WHEN s.mrr > 0 THEN s.start_date END) AS first_paid_at,
         MAX(CASE WHEN s.mrr > 0 THEN s.end_date END) AS last_paid_end
  FROM subscriptions s WHERE s.start_date < {cut()} GROUP BY s.customer_id),
ev AS (
  SELECT e.customer_id,
         SUM(CASE WHEN e.occurred_at >= {cut(7)} THEN COALESCE(e.quantity, 1) ELSE 0 END) AS events_7d,
         SUM(CASE WHEN e.occurred_at >= {cut(30)} THEN COALESCE(e.quantity, 1) ELSE 0 END) AS events_30d,
         SUM(CASE WHEN e.occurred_at >= {cut(60)} AND e.occurred_at < {cut(30)} THEN COALESCE(e.quantity, 1) ELSE 0 END) AS events_prev_30d,
         SUM(CASE WHEN e.occurred_at >= {cut(90)} THEN COALESCE(e.quantity, 1) ELSE 0 END) AS events_90d,
         COUNT(DISTINCT CASE WHEN e.occurred_at >= {cut(30)} THEN substr(e.occurred_at, 1, 10) END) AS active_days_30d,
         COUNT(DISTINCT CASE WHEN e.occurred_at >= {cut(30)} AND e.event_name IN ({core}) THEN e.event_name END) AS distinct_features_30d,
         MIN(e.occurred_at) AS first_event_at, MAX(e.occurred_at) AS last_event_at,
         MIN(CASE WHEN e.event_name = {_lit(VALUE_EVENT)} THEN e.occurred_at END) AS activated_at,
         SUM(CASE WHEN e.event_name = {_lit(ONBOARDING_EVENT)} THEN 1 ELSE 0 END) AS onboarding_events,
         {used}
  FROM events e WHERE e.occurred_at < {cut()} GROUP BY e.customer_id),
nps AS (
  SELECT customer_id, score AS nps_latest, responded_at AS nps_latest_at FROM (
    SELECT n.customer_id, n.score, n.responded_at,
           ROW_NUMBER() OVER (PARTITION BY n.customer_id ORDER BY n.responded_at DESC, n.response_id DESC) AS k
    FROM nps_responses n WHERE n.responded_at < {cut()}) ranked WHERE k = 1),
tick AS (
  SELECT t.customer_id,
         SUM(CASE WHEN t.closed_at IS NULL OR t.closed_at = '' OR t.closed_at >= {cut()} THEN 1 ELSE 0 END) AS tickets_open,
         SUM(CASE WHEN (t.closed_at IS NULL OR t.closed_at = '' OR t.closed_at >= {cut()})
                   AND lower(t.priority) IN ('high', 'urgent') THEN 1 ELSE 0 END) AS tickets_open_high,
         SUM(CASE WHEN t.opened_at >= {cut(90)} THEN 1 ELSE 0 END) AS tickets_90d,
         AVG(CASE WHEN t.closed_at >= {cut(90)} AND t.closed_at < {cut()} THEN t.csat END) AS csat_avg_90d
  FROM tickets t WHERE t.opened_at < {cut()} GROUP BY t.customer_id),
inv AS (
  SELECT i.customer_id,
         SUM(CASE WHEN i.due_date >= {cut(90)} THEN 1 ELSE 0 END) AS invoices_due_90d,
         SUM(CASE WHEN i.due_date >= {cut(90)} AND ((i.paid_at IS NOT NULL AND i.paid_at < {cut()} AND i.paid_at > i.due_date)
                  OR ((i.paid_at IS NULL OR i.paid_at >= {cut()}) AND i.due_date < {day(0)})) THEN 1 ELSE 0 END) AS invoices_late_90d,
         SUM(CASE WHEN (i.paid_at IS NULL OR i.paid_at >= {cut()}) AND i.due_date < {day(0)} THEN 1 ELSE 0 END) AS invoices_overdue_now
  FROM invoices i WHERE i.issued_at < {cut()} AND lower(coalesce(i.status, '')) <> 'void' GROUP BY i.customer_id),
refs AS (
  SELECT r.referrer_customer_id AS customer_id, COUNT(*) AS referrals_made,
         SUM(CASE WHEN c2.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS referrals_converted
  FROM referrals r LEFT JOIN customers c2 ON c2.customer_id = r.referred_customer_id AND c2.signup_date < {cut()}
  WHERE r.referred_at < {cut()} GROUP BY r.referrer_customer_id),
tch AS (
  SELECT t.customer_id, COUNT(*) AS touches_sent_90d,
         SUM(CASE WHEN t.opened_at < {cut()} AND t.opened_at <> '' THEN 1 ELSE 0 END) AS touches_opened_90d,
         SUM(CASE WHEN t.clicked_at < {cut()} AND t.clicked_at <> '' THEN 1 ELSE 0 END) AS touches_clicked_90d,
         SUM(CASE WHEN t.channel = 'email' THEN 1 ELSE 0 END) AS emails_sent_90d,
         SUM(CASE WHEN t.channel = 'email' AND t.opened_at < {cut()} AND t.opened_at <> '' THEN 1 ELSE 0 END) AS emails_opened_90d
  FROM touches t WHERE t.sent_at >= {cut(90)} AND t.sent_at < {cut()} GROUP BY t.customer_id),
ords AS (
  SELECT o.customer_id,
         SUM(CASE WHEN lower(coalesce(o.status, '')) NOT IN ('refunded', 'cancelled', 'canceled') THEN 1 ELSE 0 END) AS orders_count,
         SUM(CASE WHEN lower(coalesce(o.status, '')) NOT IN ('refunded', 'cancelled', 'canceled') THEN o.amount
                  WHEN lower(coalesce(o.status, '')) = 'refunded' THEN -o.amount ELSE 0 END) AS orders_value,
         MIN(o.ordered_at) AS first_order_at, MAX(o.ordered_at) AS last_order_at
  FROM orders o WHERE o.ordered_at < {cut()} GROUP BY o.customer_id)
SELECT c.customer_id, c.signup_date, {days_since('c.signup_date')} AS tenure_days, c.segment, c.plan,
       c.acquisition_channel, c.industry, c.country, c.company_size, c.executive_sponsor, c.champion,
       COALESCE(subs.mrr_current, 0) AS mrr_current, COALESCE(subs.mrr_30d_ago, 0) AS mrr_30d_ago,
       COALESCE(subs.mrr_90d_ago, 0) AS mrr_90d_ago, COALESCE(subs.mrr_current, 0) - COALESCE(subs.mrr_90d_ago, 0) AS mrr_change_90d,
       subs.seats_current, subs.seats_current - subs.seats_90d_ago AS seats_change_90d,
       COALESCE(subs.is_active_subscriber, 0) AS is_active_subscriber,
       CASE WHEN subs.first_paid_at IS NOT NULL AND COALESCE(subs.is_active_subscriber, 0) = 0 THEN 1 ELSE 0 END AS churned,
       CASE WHEN subs.first_paid_at IS NOT NULL AND COALESCE(subs.is_active_subscriber, 0) = 0 THEN subs.last_paid_end END AS churned_at,
       subs.first_paid_at,
       COALESCE(ev.events_7d, 0) AS events_7d, COALESCE(ev.events_30d, 0) AS events_30d,
       COALESCE(ev.events_prev_30d, 0) AS events_prev_30d, COALESCE(ev.events_90d, 0) AS events_90d,
       COALESCE(ev.active_days_30d, 0) AS active_days_30d, COALESCE(ev.distinct_features_30d, 0) AS distinct_features_30d,
       (COALESCE(ev.events_30d, 0) - ev.events_prev_30d) * 1.0 / NULLIF(ev.events_prev_30d, 0) AS usage_change_30d,
       ev.last_event_at, {days_since('ev.last_event_at')} AS days_since_last_event, ev.first_event_at,
       ev.activated_at, {days_since('c.signup_date')} - {days_since('ev.activated_at')} AS days_to_value,
       COALESCE(ev.onboarding_events, 0) AS onboarding_events,
       {", ".join(f"COALESCE(ev.used_{i}, 0) AS used_{i}" for i in range(len(features)))},
       nps.nps_latest, nps.nps_latest_at,
       COALESCE(tick.tickets_open, 0) AS tickets_open, COALESCE(tick.tickets_open_high, 0) AS tickets_open_high,
       COALESCE(tick.tickets_90d, 0) AS tickets_90d, tick.csat_avg_90d,
       COALESCE(inv.invoices_due_90d, 0) AS invoices_due_90d, COALESCE(inv.invoices_late_90d, 0) AS invoices_late_90d,
       COALESCE(inv.invoices_overdue_now, 0) AS invoices_overdue_now,
       1 - inv.invoices_late_90d * 1.0 / NULLIF(inv.invoices_due_90d, 0) AS on_time_payment_rate,
       COALESCE(refs.referrals_made, 0) AS referrals_made, COALESCE(refs.referrals_converted, 0) AS referrals_converted,
       COALESCE(tch.touches_sent_90d, 0) AS touches_sent_90d, COALESCE(tch.touches_opened_90d, 0) AS touches_opened_90d,
       COALESCE(tch.touches_clicked_90d, 0) AS touches_clicked_90d,
       tch.emails_opened_90d * 1.0 / NULLIF(tch.emails_sent_90d, 0) AS email_open_rate_90d,
       ords.orders_count, ords.orders_value, ords.first_order_at, ords.last_order_at,
       {days_since('ords.last_order_at')} AS days_since_last_order
FROM customers c
LEFT JOIN subs ON subs.customer_id = c.customer_id
LEFT JOIN ev ON ev.customer_id = c.customer_id
LEFT JOIN nps ON nps.customer_id = c.customer_id
LEFT JOIN tick ON tick.customer_id = c.customer_id
LEFT JOIN inv ON inv.customer_id = c.customer_id
LEFT JOIN refs ON refs.customer_id = c.customer_id
LEFT JOIN tch ON tch.customer_id = c.customer_id
LEFT JOIN ords ON ords.customer_id = c.customer_id
WHERE c.signup_date < {cut()}
ORDER BY c.customer_id"""


def run_sqlite(db: str, as_of: date) -> object:
    """The statement on SQLite (read-only), fetched into a pandas DataFrame."""
    import sqlite3

    import pandas as pd

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cursor = conn.execute(statement(as_of, "sqlite"))
        return pd.DataFrame.from_records(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    finally:
        conn.close()


def duckdb_connection(db: str) -> object:
    """DuckDB with the SQLite file attached read-only through ``sqlite_scanner`` (the engine's way: one thread)."""
    import duckdb

    from lifecycle.sources.duckdb import sqlite_extension

    con = duckdb.connect(":memory:", config={"threads": 1})
    con.execute(f"LOAD {_lit(sqlite_extension())}")
    con.execute(f"ATTACH {_lit(db)} AS lifecycle_data (TYPE sqlite, READ_ONLY)")
    con.execute("USE lifecycle_data")
    return con


def run_duckdb(db: str, as_of: date, con: object | None = None) -> object:
    """The statement on DuckDB reading the SQLite file, fetched into a pandas DataFrame."""
    own = con is None
    con = con or duckdb_connection(db)
    try:
        return con.execute(statement(as_of, "duckdb")).df()  # type: ignore[attr-defined]
    finally:
        if own:
            con.close()  # type: ignore[attr-defined]


def main() -> None:
    db, as_of, dialect = sys.argv[1], date.fromisoformat(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "sqlite")
    started = time.perf_counter()
    frame = run_duckdb(db, as_of) if dialect == "duckdb" else run_sqlite(db, as_of)
    print(f"{len(frame)} rows in {time.perf_counter() - started:.3f} s")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
