"""The causal structure a strategist should find in the demo, measured simply from the tables alone.

Each test states the measurement and the margin it must clear. The margins are deliberately looser than
what the generator produces (see docs/demo-dataset.md for measured values), so they pin the direction
and a clear size of each effect, not its exact value.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from tests.data.measures import DATA_END, churned_within, first_churn, frame


@pytest.fixture(scope="module")
def customers(demo_db) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    return frame(conn, "SELECT customer_id, signup_date FROM customers").astype({"signup_date": "datetime64[us]"})


@pytest.fixture(scope="module")
def daily_events(demo_db) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Event rows (``n``) and summed quantity (``q``) per customer-day."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    return frame(conn, """SELECT customer_id, substr(occurred_at, 1, 10) AS day, count(*) AS n, sum(quantity) AS q
                          FROM events GROUP BY 1, 2""").astype({"day": "datetime64[us]"})


def test_fast_activation_lowers_180_day_churn(demo_conn: sqlite3.Connection, customers: pd.DataFrame) -> None:
    """Customers whose first report_created came within 7 days of signup churn less within 180 days.

    Population: customers who signed up at least 180 days before the data end. Churn: a subscription end
    with no subscription starting that day. Required: rate(fast) < rate(others) − 0.10 and < ½ rate(others).
    """
    first = frame(demo_conn, """SELECT customer_id, min(substr(occurred_at, 1, 10)) AS first_report FROM events
                                WHERE event_name = 'report_created' GROUP BY customer_id""").astype({"first_report": "datetime64[us]"})
    c = customers.merge(first, on="customer_id", how="left")
    c = c[c.signup_date <= DATA_END - pd.Timedelta(days=180)].reset_index(drop=True)
    fast = (c.first_report - c.signup_date).dt.days <= 7
    churned = churned_within(demo_conn, c.rename(columns={"signup_date": "start"})[["customer_id", "start"]], 180)
    fast_rate, other_rate = churned[fast.values].mean(), churned[~fast.values].mean()
    assert fast.sum() > 200 and (~fast).sum() > 200
    assert fast_rate < other_rate - 0.10 and fast_rate < other_rate / 2, (fast_rate, other_rate)


def test_detractors_churn_more_within_90_days_of_answering(demo_conn: sqlite3.Connection) -> None:
    """Per NPS answer given ≥ 90 days before the data end: churn in the next 90 days, detractors (0–6) vs
    promoters (9–10). Required: detractor rate > 2 × promoter rate and > promoter rate + 0.10."""
    nps = frame(demo_conn, "SELECT customer_id, responded_at AS start, score FROM nps_responses").astype({"start": "datetime64[us]"})
    nps = nps[nps.start <= DATA_END - pd.Timedelta(days=90)].reset_index(drop=True)
    churned = churned_within(demo_conn, nps[["customer_id", "start"]], 90)
    detractor, promoter = churned[(nps.score <= 6).values].mean(), churned[(nps.score >= 9).values].mean()
    assert detractor > 2 * promoter and detractor > promoter + 0.10, (detractor, promoter)


def test_late_payment_precedes_churn(demo_conn: sqlite3.Connection) -> None:
    """Per invoice due ≥ 90 days before the data end: churn within 90 days of the due date, for invoices paid
    late or never vs paid on time. Required: late rate > 1.5 × on-time rate."""
    inv = frame(demo_conn, "SELECT customer_id, due_date AS start, paid_at FROM invoices").astype(
        {"start": "datetime64[us]", "paid_at": "datetime64[us]"})
    inv = inv[inv.start <= DATA_END - pd.Timedelta(days=90)].reset_index(drop=True)
    late = (inv.paid_at.isna() | (inv.paid_at > inv.start)).values
    churned = churned_within(demo_conn, inv[["customer_id", "start"]], 90)
    assert churned[late].mean() > 1.5 * churned[~late].mean(), (churned[late].mean(), churned[~late].mean())


def test_promoters_refer_more(demo_conn: sqlite3.Connection) -> None:
    """Among customers who answered NPS: referrals made by those who ever scored 9–10 vs those who never did.
    Required: mean referrals of promoters > 3 × that of the others."""
    rows = frame(demo_conn, """
        SELECT n.customer_id, max(n.score >= 9) AS promoter,
               (SELECT count(*) FROM referrals r WHERE r.referrer_customer_id = n.customer_id) AS referrals
        FROM nps_responses n GROUP BY n.customer_id""")
    means = rows.groupby("promoter")["referrals"].mean()
    assert means[1] > 3 * means[0], means.to_dict()


def test_usage_falls_in_the_60_days_before_churn(customers: pd.DataFrame, daily_events: pd.DataFrame,
                                                 demo_conn: sqlite3.Connection) -> None:
    """For churners with ≥ 120 days of tenure before their first churn: event rows (and summed quantity) in the
    60 days before the churn vs the 60 days before that. Required: mean(last 60) < 0.8 × mean(previous 60)
    for both, and most churners individually decline."""
    churners = first_churn(demo_conn).rename("churned_at").reset_index().merge(customers, on="customer_id")
    churners = churners[churners.churned_at - churners.signup_date >= pd.Timedelta(days=120)]
    assert len(churners) > 100
    m = daily_events.merge(churners, on="customer_id")
    before = (m.churned_at - m.day).dt.days
    for measure in ("n", "q"):
        last = m[before.between(1, 60)].groupby("customer_id")[measure].sum().reindex(churners.customer_id, fill_value=0)
        prev = m[before.between(61, 120)].groupby("customer_id")[measure].sum().reindex(churners.customer_id, fill_value=0)
        assert last.mean() < 0.8 * prev.mean(), (measure, last.mean(), prev.mean())
        assert (last < prev).mean() > 0.6, measure


def test_heavy_users_expand(demo_conn: sqlite3.Connection, customers: pd.DataFrame, daily_events: pd.DataFrame) -> None:
    """Customers signed up ≥ 180 days before the data end, split into thirds by event rows in their first 90
    days; expansion = a subscription that follows the previous one on its end day with higher MRR.
    Required: expansion share of the top third > 2.5 × that of the bottom third."""
    subs = frame(demo_conn, "SELECT customer_id, start_date, end_date, mrr FROM subscriptions ORDER BY customer_id, start_date")
    prev = subs.groupby("customer_id")[["end_date", "mrr"]].shift()
    expanded = set(subs[(prev.end_date == subs.start_date) & (subs.mrr > prev.mrr)].customer_id)
    c = customers[customers.signup_date <= DATA_END - pd.Timedelta(days=180)].copy()
    e = daily_events.merge(c, on="customer_id")
    early = e[(e.day - e.signup_date).dt.days.between(0, 89)].groupby("customer_id")["n"].sum()
    c["usage"] = c.customer_id.map(early).fillna(0)
    c["third"] = pd.qcut(c.usage.rank(method="first"), 3, labels=["low", "mid", "high"])
    share = c.assign(expanded=c.customer_id.isin(expanded)).groupby("third", observed=True)["expanded"].mean()
    assert share["high"] > 2.5 * share["low"], share.to_dict()
