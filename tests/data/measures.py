"""Plain measurements on a demo store, written independently of the generator (they read only the tables)."""

from __future__ import annotations

import sqlite3
from datetime import date

import pandas as pd

DATA_END = pd.Timestamp(date(2025, 12, 31))


def frame(conn: sqlite3.Connection, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` as a DataFrame."""
    cursor = conn.execute(sql)
    return pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])


def churn_dates(conn: sqlite3.Connection) -> pd.DataFrame:
    """(customer_id, churned_at): each subscription end with no subscription of the customer starting that day."""
    return frame(conn, """
        SELECT s.customer_id, s.end_date AS churned_at FROM subscriptions s
        WHERE s.end_date IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM subscriptions n WHERE n.customer_id = s.customer_id AND n.start_date = s.end_date)
        ORDER BY s.customer_id, s.end_date""").astype({"churned_at": "datetime64[us]"})


def first_churn(conn: sqlite3.Connection) -> pd.Series:
    """Each churned customer's first churn day."""
    return churn_dates(conn).groupby("customer_id")["churned_at"].min()


def churned_within(conn: sqlite3.Connection, starts: pd.DataFrame, days: int) -> pd.Series:
    """For each row of ``starts`` (customer_id, start), whether a churn falls in (start, start + days]."""
    churns = churn_dates(conn)
    merged = starts.reset_index(names="row").merge(churns, on="customer_id", how="left")
    hit = (merged["churned_at"] > merged["start"]) & (merged["churned_at"] <= merged["start"] + pd.Timedelta(days=days))
    return hit.groupby(merged["row"]).any().reindex(range(len(starts)), fill_value=False)
