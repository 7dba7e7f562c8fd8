"""Built-in presets import small realistic exports (headers as the real Stripe/HubSpot/Segment/PostHog exports)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from lifecycle.errors import MappingError
from lifecycle.importing import ImportOptions, import_file, load_preset, preset_names

SAMPLES = Path(__file__).parent / "samples"


def _import(table: str, sample: str, preset: str, db: Path) -> sqlite3.Connection:
    import_file(table, SAMPLES / sample, db, ImportOptions(preset=preset))
    return sqlite3.connect(db)


def test_every_preset_loads_and_names_its_table() -> None:
    names = preset_names()
    assert {"stripe-subscriptions", "hubspot-contacts", "hubspot-contacts-customers", "hubspot-deals",
            "segment-events", "posthog-events"} <= set(names)
    for name in names:
        assert load_preset(name).table is not None


def test_stripe_subscriptions_mrr_is_amount_times_quantity_per_month(tmp_path: Path) -> None:
    """49×1 = 49; 1,200×5 = 6000; 1,188×3 per year / 12 = 297; 12 per week × 52/12 = 52."""
    conn = _import("subscriptions", "stripe_subscriptions.csv", "stripe-subscriptions", tmp_path / "s.db")
    got = conn.execute("SELECT subscription_id, customer_id, start_date, end_date, mrr, seats, status FROM subscriptions ORDER BY subscription_id").fetchall()
    assert [g[:4] + g[5:] for g in got] == [
        ("sub_1OaBcDeFgHiJkL01", "cus_PqRsTuVwXyZ001", "2024-01-05", None, 1, "active"),
        ("sub_1OaBcDeFgHiJkL02", "cus_PqRsTuVwXyZ002", "2024-01-20", None, 5, "active"),
        ("sub_1OaBcDeFgHiJkL03", "cus_PqRsTuVwXyZ003", "2023-06-01", "2024-02-10", 3, "canceled"),
        ("sub_1OaBcDeFgHiJkL04", "cus_PqRsTuVwXyZ004", "2024-02-28", None, 1, "trialing"),
    ]
    for (_, _, _, _, mrr, _, _), expected in zip(got, [49.0, 6000.0, 297.0, 52.0]):
        assert math.isclose(mrr, expected, abs_tol=1e-6)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(subscriptions)")}
    assert "x_customer_email" not in columns and "x_product" in columns


def test_stripe_subscriptions_carry_their_renewal_terms(tmp_path: Path) -> None:
    """Term = one billing period in months (month 1, year 12, week 12/52 = 0.230769); the renewal day is Current
    Period End, auto-renew off is Cancel At Period End (Globex turned it off), and Hooli's trial ends on 2024-03-13."""
    conn = _import("subscriptions", "stripe_subscriptions.csv", "stripe-subscriptions", tmp_path / "s.db")
    got = conn.execute("SELECT subscription_id, term_months, current_period_end, cancel_at_period_end, trial_end "
                       "FROM subscriptions ORDER BY subscription_id").fetchall()
    assert [g[0][-2:] for g in got] == ["01", "02", "03", "04"]
    assert [g[1] for g in got[:3]] == [1.0, 1.0, 12.0] and math.isclose(got[3][1], 12 / 52, rel_tol=1e-5)
    assert [g[2:] for g in got] == [("2024-04-05", 0, None), ("2024-04-20", 1, None), ("2024-06-01", 0, None),
                                    ("2024-03-06", 0, "2024-03-13")]


def test_hubspot_contacts_become_leads_with_funnel_dates(tmp_path: Path) -> None:
    conn = _import("leads", "hubspot_contacts.csv", "hubspot-contacts", tmp_path / "h.db")
    got = conn.execute("SELECT lead_id, created_at, source, status, mql_at, sql_at, opportunity_at, won_at, company FROM leads ORDER BY lead_id").fetchall()
    assert got == [
        ("51", "2024-01-03", "Organic Search", "won", "2024-01-05", "2024-01-10", "2024-01-15", "2024-02-01", "Analytical Engines"),
        ("52", "2024-01-04", "Paid Search", "sql", "2024-01-06", "2024-01-20", None, None, "COBOL Systems"),
        ("53", "2024-02-11", "Direct Traffic", "lead", None, None, None, None, None),
        ("54", "2024-02-15", "Referrals", "mql", "2024-02-16", None, None, None, "Shortest Path BV"),
    ]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(leads)")}
    assert not {"x_email", "x_first_name", "x_phone_number"} & columns
    assert "x_lead_status" in columns


def test_hubspot_contacts_as_customers(tmp_path: Path) -> None:
    """signup_date is the 'Became a Customer Date' when set, else the create date; name joins first and last."""
    conn = _import("customers", "hubspot_contacts.csv", "hubspot-contacts-customers", tmp_path / "c.db")
    got = conn.execute("SELECT customer_id, signup_date, name, acquisition_channel FROM customers ORDER BY customer_id").fetchall()
    assert got[0] == ("51", "2024-02-01", "Ada Lovelace", "Organic Search")
    assert got[1] == ("52", "2024-01-04", "Grace Hopper", "Paid Search")


def test_hubspot_deals_become_leads_with_won_and_lost_days(tmp_path: Path) -> None:
    conn = _import("leads", "hubspot_deals.csv", "hubspot-deals", tmp_path / "d.db")
    got = conn.execute("SELECT lead_id, status, created_at, opportunity_at, won_at, lost_at, company, x_amount FROM leads ORDER BY lead_id").fetchall()
    assert got == [
        ("9001", "won", "2024-01-15", "2024-01-15", "2024-02-01", None, "Analytical Engines", 14400),
        ("9002", "opportunity", "2024-01-20", "2024-01-20", None, None, "COBOL Systems", 588),
        ("9003", "lost", "2024-02-16", "2024-02-16", None, "2024-03-05", "Shortest Path BV", 7200),
        ("9004", "sql", "2024-03-01", "2024-03-01", None, None, "Hooli", None),
    ]


def test_segment_events_from_json_lines(tmp_path: Path) -> None:
    """08:30 at +01:00 is 07:30 UTC; fractions of a second are dropped; properties.quantity feeds quantity."""
    conn = _import("events", "segment_events.jsonl", "segment-events", tmp_path / "e.db")
    got = conn.execute("SELECT event_id, customer_id, occurred_at, event_name, quantity, x_properties_integration FROM events ORDER BY occurred_at").fetchall()
    assert got == [
        ("ajs-next-1706695200-1", "cus_PqRsTuVwXyZ001", "2024-01-31T10:00:00", "Report Created", 1.0, None),
        ("api-2RZ9x", "cus_PqRsTuVwXyZ002", "2024-02-01T07:30:00", "Integration Connected", None, "salesforce"),
        ("ajs-next-1706900000-9", "cus_PqRsTuVwXyZ001", "2024-02-02T19:33:20", "Seats Added", 3.0, None),
    ]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    assert not [c for c in columns if c.startswith("x_context")]


def test_posthog_events_drop_dollar_properties(tmp_path: Path) -> None:
    """07:00 at -05:00 is 12:00 UTC."""
    conn = _import("events", "posthog_events.csv", "posthog-events", tmp_path / "p.db")
    got = conn.execute("SELECT event_id, customer_id, occurred_at, event_name, x_properties_plan FROM events ORDER BY event_id").fetchall()
    assert got[2] == ("018d5f2a-6b1e-7c3d-9a10-000000000003", "cus_PqRsTuVwXyZ003", "2024-02-01T12:00:00", "login", "starter")
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    assert not [c for c in columns if "browser" in c or "elements" in c]


def test_preset_for_another_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="imports into table 'subscriptions'"):
        import_file("events", SAMPLES / "stripe_subscriptions.csv", tmp_path / "x.db", ImportOptions(preset="stripe-subscriptions"))


def test_unknown_preset_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="available presets: .*stripe-subscriptions"):
        import_file("events", SAMPLES / "posthog_events.csv", tmp_path / "x.db", ImportOptions(preset="salesforce"))
