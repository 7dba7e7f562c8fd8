"""Shape and integrity of the Helloword demo: sizes, links between tables, dates inside the window and in order."""

from __future__ import annotations

import sqlite3

import pytest

from data import names
from lifecycle.schema import TABLES

WINDOW = ("2024-01-01", "2025-12-31")


def one(conn: sqlite3.Connection, sql: str) -> object:
    return conn.execute(sql).fetchone()[0]


@pytest.mark.parametrize(("table", "low", "high"), [
    ("customers", 1_800, 2_200),  # "about 2,000 customers"
    ("leads", 5_500, 6_500),  # "about 6,000 leads"
    ("events", 1_000_000, 2_000_000),  # "~1–2M events"
    ("subscriptions", 2_000, 6_000),  # at least one per customer, plus plan changes and returns
    ("invoices", 10_000, 40_000),  # monthly while subscribed
    ("nps_responses", 1_000, 6_000),  # quarterly-ish surveys, ~40% answer
    ("tickets", 1_000, 10_000),
    ("referrals", 200, 1_500),
    ("touches", 10_000, 100_000),
])
def test_row_counts_are_in_the_specified_ranges(demo_conn: sqlite3.Connection, table: str, low: int, high: int) -> None:
    assert low <= one(demo_conn, f"SELECT count(*) FROM {table}") <= high


def test_about_a_third_of_leads_convert_and_each_customer_has_exactly_one_won_lead(demo_conn: sqlite3.Connection) -> None:
    customers = one(demo_conn, "SELECT count(*) FROM customers")
    leads = one(demo_conn, "SELECT count(*) FROM leads")
    assert 0.28 <= customers / leads <= 0.40
    assert one(demo_conn, "SELECT count(*) FROM leads WHERE status = 'won' AND customer_id IS NULL") == 0
    assert one(demo_conn, "SELECT count(*) FROM leads WHERE status <> 'won' AND customer_id IS NOT NULL") == 0
    per_customer = demo_conn.execute("""
        SELECT c.customer_id, count(l.lead_id) FROM customers c LEFT JOIN leads l
        ON l.customer_id = c.customer_id AND l.status = 'won' GROUP BY c.customer_id""").fetchall()
    assert {n for _, n in per_customer} == {1}
    assert one(demo_conn, """SELECT count(*) FROM leads l JOIN customers c USING (customer_id)
                             WHERE l.won_at <> c.signup_date OR l.source <> c.acquisition_channel""") == 0


@pytest.mark.parametrize("table", [t for t, spec in TABLES.items() if spec.customer_column == "customer_id" and t != "orders"])
def test_every_customer_id_exists_in_customers(demo_conn: sqlite3.Connection, table: str) -> None:
    assert one(demo_conn, f"SELECT count(*) FROM {table} WHERE customer_id NOT IN (SELECT customer_id FROM customers)") == 0


def test_referrals_link_an_earlier_customer_to_a_lead_and_maybe_a_referral_customer(demo_conn: sqlite3.Connection) -> None:
    assert one(demo_conn, "SELECT count(*) FROM referrals WHERE referrer_customer_id NOT IN (SELECT customer_id FROM customers)") == 0
    assert one(demo_conn, "SELECT count(*) FROM referrals WHERE referred_lead_id IS NULL OR referred_lead_id NOT IN (SELECT lead_id FROM leads)") == 0
    assert one(demo_conn, """SELECT count(*) FROM referrals r JOIN customers c ON c.customer_id = r.referrer_customer_id
                             WHERE r.referred_at < c.signup_date""") == 0
    # A converted referral's customer came through the referral channel and its won lead is the referred lead.
    converted = demo_conn.execute("""
        SELECT r.referred_customer_id, c.acquisition_channel, l.customer_id, l.source, l.created_at = r.referred_at
        FROM referrals r JOIN leads l ON l.lead_id = r.referred_lead_id
        LEFT JOIN customers c ON c.customer_id = r.referred_customer_id
        WHERE r.referred_customer_id IS NOT NULL""").fetchall()
    assert converted, "some referrals should convert"
    assert all(ch == "referral" and lead_cust == cust and src == "referral" and same_day for cust, ch, lead_cust, src, same_day in converted)
    referral_customers = one(demo_conn, "SELECT count(*) FROM customers WHERE acquisition_channel = 'referral'")
    assert referral_customers == len(converted)


def test_every_time_value_lies_in_the_data_window(demo_conn: sqlite3.Connection) -> None:
    """All dates/instants are in 2024-01-01 … 2025-12-31, except invoice due dates (issued ≤ data end, due +14)."""
    low, high = WINDOW
    for name, spec in TABLES.items():
        for col in spec.columns:
            if col.kind.value not in ("date", "datetime") or (name, col.name) == ("invoices", "due_date"):
                continue
            first, last = demo_conn.execute(f"SELECT min({col.name}), max(substr({col.name}, 1, 10)) FROM {name}").fetchone()
            if first is not None:
                assert low <= first[:10] and last <= high, (name, col.name, first, last)
    assert one(demo_conn, "SELECT max(due_date) FROM invoices") <= "2026-01-14"


def test_lead_dates_never_go_backwards_and_match_the_status(demo_conn: sqlite3.Connection) -> None:
    rows = demo_conn.execute("SELECT status, created_at, mql_at, sql_at, opportunity_at, won_at, lost_at FROM leads").fetchall()
    order = ("lead", "mql", "sql", "opportunity")
    for status, *dates in rows:
        present = [d for d in dates if d is not None]
        assert present == sorted(present), (status, dates)
        won, lost = dates[4], dates[5]
        assert not (won and lost)
        if status == "won":
            assert won is not None
        elif status == "lost":
            assert lost is not None
        else:  # still open: the furthest stage reached is the status, nothing later is dated
            reached = sum(d is not None for d in dates[:4])
            assert order[reached - 1] == status and won is None and lost is None


def test_subscriptions_have_positive_mrr_and_do_not_overlap(demo_conn: sqlite3.Connection) -> None:
    assert one(demo_conn, "SELECT count(*) FROM subscriptions WHERE mrr < 0") == 0
    assert one(demo_conn, "SELECT count(*) FROM subscriptions WHERE end_date IS NOT NULL AND end_date <= start_date") == 0
    assert one(demo_conn, """SELECT count(*) FROM subscriptions a JOIN subscriptions b
                             ON a.customer_id = b.customer_id AND a.subscription_id < b.subscription_id
                             AND a.start_date < coalesce(b.end_date, '9999') AND b.start_date < coalesce(a.end_date, '9999')""") == 0
    assert one(demo_conn, """SELECT count(*) FROM customers c WHERE signup_date <>
                             (SELECT min(start_date) FROM subscriptions s WHERE s.customer_id = c.customer_id)""") == 0
    assert one(demo_conn, "SELECT count(*) FROM customers c WHERE plan <> (SELECT plan FROM subscriptions s "
                          "WHERE s.customer_id = c.customer_id ORDER BY start_date DESC LIMIT 1)") == 0


def test_subscriptions_show_plan_changes_churn_and_reactivation(demo_conn: sqlite3.Connection) -> None:
    changes = one(demo_conn, """SELECT count(*) FROM subscriptions a JOIN subscriptions b
                                ON a.customer_id = b.customer_id AND b.start_date = a.end_date""")
    upgrades = one(demo_conn, """SELECT count(*) FROM subscriptions a JOIN subscriptions b
                                 ON a.customer_id = b.customer_id AND b.start_date = a.end_date AND b.mrr > a.mrr""")
    churns = one(demo_conn, """SELECT count(*) FROM subscriptions a WHERE end_date IS NOT NULL AND NOT EXISTS
                               (SELECT 1 FROM subscriptions b WHERE b.customer_id = a.customer_id AND b.start_date = a.end_date)""")
    returns = one(demo_conn, """SELECT count(*) FROM subscriptions a WHERE end_date IS NOT NULL
                                AND NOT EXISTS (SELECT 1 FROM subscriptions b WHERE b.customer_id = a.customer_id AND b.start_date = a.end_date)
                                AND EXISTS (SELECT 1 FROM subscriptions b WHERE b.customer_id = a.customer_id AND b.start_date > a.end_date)""")
    assert changes > 300 and changes - upgrades > 50  # expansions and contractions
    assert churns > 300
    assert returns > 20


def test_invoices_are_monthly_due_in_14_days_with_late_and_unpaid_ones(demo_conn: sqlite3.Connection) -> None:
    assert one(demo_conn, "SELECT count(*) FROM invoices WHERE julianday(due_date) - julianday(issued_at) <> 14") == 0
    assert one(demo_conn, "SELECT count(*) FROM invoices WHERE paid_at < issued_at") == 0
    assert one(demo_conn, "SELECT count(*) FROM invoices WHERE amount <= 0") == 0
    late = one(demo_conn, "SELECT avg(paid_at > due_date) FROM invoices WHERE paid_at IS NOT NULL")
    assert 0.03 < late < 0.25
    assert 10 <= one(demo_conn, "SELECT count(*) FROM invoices WHERE status = 'uncollectible' AND paid_at IS NULL") <= 200
    assert one(demo_conn, "SELECT count(*) FROM invoices WHERE (paid_at IS NULL) <> (status <> 'paid')") == 0


def test_tickets_touches_and_nps_are_internally_consistent(demo_conn: sqlite3.Connection) -> None:
    assert one(demo_conn, "SELECT count(*) FROM tickets WHERE closed_at < opened_at") == 0
    assert one(demo_conn, "SELECT count(*) FROM tickets WHERE csat NOT BETWEEN 1 AND 5") == 0
    assert {p for (p,) in demo_conn.execute("SELECT DISTINCT priority FROM tickets")} == {"low", "normal", "high", "urgent"}
    assert one(demo_conn, "SELECT count(*) FROM touches WHERE opened_at < sent_at OR clicked_at < opened_at") == 0
    assert one(demo_conn, "SELECT count(*) FROM touches WHERE clicked_at IS NOT NULL AND opened_at IS NULL") == 0
    assert {c for (c,) in demo_conn.execute("SELECT DISTINCT channel FROM touches")} == {"email", "in_app"}
    assert one(demo_conn, "SELECT count(DISTINCT campaign) FROM touches") >= 5
    assert one(demo_conn, "SELECT count(*) FROM nps_responses WHERE score NOT BETWEEN 0 AND 10") == 0


def test_events_use_the_documented_names_and_api_calls_carry_quantity(demo_conn: sqlite3.Connection) -> None:
    found = {n for (n,) in demo_conn.execute("SELECT DISTINCT event_name FROM events")}
    assert found == {"login", "report_created", "dashboard_viewed", "integration_connected", "teammate_invited",
                     "export_csv", "api_call", "onboarding_step_completed"}
    assert one(demo_conn, "SELECT min(quantity) FROM events WHERE event_name = 'api_call'") >= 2
    assert one(demo_conn, "SELECT count(*) FROM events WHERE quantity < 1") == 0
    # aggregated per user-day: at most one row per (user, day, event)
    assert one(demo_conn, """SELECT count(*) FROM (SELECT 1 FROM events GROUP BY user_id, substr(occurred_at, 1, 10), event_name
                             HAVING count(*) > 1)""") == 0
    # no activity outside a customer's subscriptions
    assert one(demo_conn, """SELECT count(*) FROM (SELECT DISTINCT customer_id, substr(occurred_at, 1, 10) AS day FROM events) e
                             WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = e.customer_id
                             AND s.start_date <= e.day AND (s.end_date IS NULL OR e.day < s.end_date))""") == 0


def test_customers_carry_every_attribute_with_some_champions_missing(demo_conn: sqlite3.Connection) -> None:
    for column in ("acquisition_channel", "segment", "plan", "industry", "company_size", "country", "acquisition_cost",
                   "executive_sponsor", "name", "company"):
        assert one(demo_conn, f"SELECT count(*) FROM customers WHERE {column} IS NULL") == 0, column
    assert {c for (c,) in demo_conn.execute("SELECT DISTINCT acquisition_channel FROM customers")} == {
        "organic", "paid_search", "paid_social", "partner", "referral", "outbound"}
    assert {s for (s,) in demo_conn.execute("SELECT DISTINCT segment FROM customers")} == {"SMB", "Mid-Market", "Enterprise"}
    assert {p for (p,) in demo_conn.execute("SELECT DISTINCT plan FROM customers")} == {"Starter", "Growth", "Pro", "Enterprise"}
    assert 0.2 < one(demo_conn, "SELECT avg(champion IS NULL) FROM customers") < 0.8
    assert one(demo_conn, "SELECT count(*) - count(DISTINCT lower(trim(company))) FROM customers") == 0  # one company each


@pytest.mark.parametrize(("table", "column", "text"), [
    *[("customers", "company", t) for t in names.ADVERSARIAL_COMPANIES],
    *[("customers", "name", t) for t in names.ADVERSARIAL_NAMES],
    ("customers", "champion", names.ADVERSARIAL_NAMES[1]),
    ("leads", "company", names.ADVERSARIAL_COMPANIES[0]),
    ("nps_responses", "comment", names.ADVERSARIAL_NPS_COMMENT),
    ("tickets", "subject", names.ADVERSARIAL_TICKET_SUBJECT),
], ids=lambda v: v if len(v) < 20 else v[:12])
def test_adversarial_free_text_is_present_verbatim(demo_conn: sqlite3.Connection, table: str, column: str, text: str) -> None:
    assert one(demo_conn, f"SELECT count(*) FROM {table} WHERE {column} = ?".replace("?", "'" + text.replace("'", "''") + "'")) >= 1


def test_adversarial_text_includes_injection_bidi_override_and_emoji() -> None:
    everything = "".join(names.ADVERSARIAL_COMPANIES + names.ADVERSARIAL_NAMES)
    assert "Ignore previous instructions" in everything
    assert "\u202e" in everything
    assert any(ord(ch) >= 0x1F300 for ch in everything)
