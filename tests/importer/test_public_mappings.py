"""The mapping files in docs/mappings/ import the public datasets' layouts (tiny samples written in each format).

The real files are fetched by benchmarks/bench_real_data.py; these samples copy their headers and value formats
(retentioneering's ecom and simple_shop clickstreams, CDNOW's whitespace-separated transaction log).
"""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

from lifecycle.importing import ImportOptions, import_file

MAPPINGS = Path(__file__).resolve().parents[2] / "docs" / "mappings"

ECOM = """user_id,session_id,event,timestamp,platform,acquisition_channel,user_cohort,user_lifecycle
user_0000,sess_000001,home,2024-03-13 10:21:14,desktop,email,2024-01,returning
user_0000,sess_000001,add_to_cart,2024-03-13 10:23:32,desktop,email,2024-01,returning
user_0000,sess_000002,purchase,2024-04-02 09:00:00,mobile,email,2024-01,loyal
user_0001,sess_000003,catalog,2024-02-20 18:00:05,mobile,organic,2024-02,new
"""


def _import(table: str, path: Path, mapping: str, db: Path, derive_customers: bool = False) -> None:
    import_file(table, path, db, ImportOptions(mapping=MAPPINGS / mapping, derive_customers=derive_customers))


def test_ecom_event_file_gives_one_customer_per_user_and_every_event(tmp_path: Path) -> None:
    """4 rows of 2 users: customers collapse to 2 with signup on the first of the registration month."""
    source = tmp_path / "ecom.csv.gz"
    source.write_bytes(gzip.compress(ECOM.encode()))
    db = tmp_path / "ecom.db"
    _import("customers", source, "retentioneering-ecom-customers.toml", db)
    _import("events", source, "retentioneering-ecom-events.toml", db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT customer_id, signup_date, acquisition_channel FROM customers ORDER BY 1").fetchall() == [
        ("user_0000", "2024-01-01", "email"), ("user_0001", "2024-02-01", "organic")]
    assert conn.execute("SELECT customer_id, occurred_at, event_name, x_session_id FROM events ORDER BY occurred_at").fetchall() == [
        ("user_0001", "2024-02-20T18:00:05", "catalog", "sess_000003"),
        ("user_0000", "2024-03-13T10:21:14", "home", "sess_000001"),
        ("user_0000", "2024-03-13T10:23:32", "add_to_cart", "sess_000001"),
        ("user_0000", "2024-04-02T09:00:00", "purchase", "sess_000002"),
    ]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    assert not {"x_user_cohort", "x_acquisition_channel", "x_user_lifecycle"} & columns


def test_simple_shop_events_keep_whole_seconds_and_derive_their_customers(tmp_path: Path) -> None:
    source = tmp_path / "simple-onlineshop.csv"
    source.write_text("user_id,event,timestamp\n219483890,catalog,2019-11-01 17:59:13.273932\n"
                      "219483890,cart,2019-11-01 17:59:29.502214\n")
    db = tmp_path / "shop.db"
    _import("events", source, "retentioneering-simple-shop-events.toml", db, derive_customers=True)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT customer_id, signup_date FROM customers").fetchall() == [("219483890", "2019-11-01")]
    assert conn.execute("SELECT occurred_at, event_name FROM events ORDER BY occurred_at").fetchall() == [
        ("2019-11-01T17:59:13", "catalog"), ("2019-11-01T17:59:29", "cart")]


def test_cdnow_master_imports_as_it_ships_with_derived_customers(tmp_path: Path) -> None:
    """The first rows of CDNOW_master.txt (leading space, runs of spaces, CRLF): customer 00002 bought twice on
    1997-01-12 (12.00 and 77.00); customers derive from the first purchase day."""
    source = tmp_path / "CDNOW_master.txt"
    source.write_bytes(b" customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n"
                       b" 00002 19970112  1   12.00\r\n 00002 19970112  5   77.00\r\n")
    db = tmp_path / "cdnow.db"
    _import("orders", source, "cdnow-orders.toml", db, derive_customers=True)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT customer_id, ordered_at, amount, x_number_of_cds FROM orders ORDER BY 1, 3").fetchall() == [
        ("00001", "1997-01-01T00:00:00", 11.77, 1), ("00002", "1997-01-12T00:00:00", 12.0, 1),
        ("00002", "1997-01-12T00:00:00", 77.0, 5)]
    assert conn.execute("SELECT customer_id, signup_date FROM customers ORDER BY 1").fetchall() == [
        ("00001", "1997-01-01"), ("00002", "1997-01-12")]


TELCO = """customer,female,senior_citizen,partner,dependents,tenure,phone_service,multiple_lines,internet_service,online_security,online_backup,device_protection,tech_support,streaming_tv,streaming_movies,contract,paperless_billing,payment_method,monthly_charges,total_charges
T00001,1.0,0,1.0,0.0,1,0.0,No phone service,DSL,No,Yes,No,No,No,No,Month-to-month,1.0,Electronic check,29.85,29.85
T00002,0.0,0,0.0,0.0,34,1.0,No,DSL,Yes,No,Yes,No,No,No,One year,0.0,Mailed check,56.95,1889.5
T00003,0.0,0,0.0,0.0,0,1.0,No,DSL,Yes,No,Yes,No,No,No,Two year,0.0,Mailed check,20.0,
"""


def test_telco_export_gives_open_subscriptions_with_the_contract_as_renewal_term(tmp_path: Path) -> None:
    """Export day 2024-06-30: tenure 1 → signup 2024-05-30; 34 months → 2021-08-30; 0 → the export day itself.
    Month-to-month renews every month (1), one year every 12, two years every 24; nobody has an end date."""
    source = tmp_path / "telco.csv"
    source.write_text(TELCO, encoding="utf-8")
    db = tmp_path / "telco.db"
    _import("customers", source, "telco-customers.toml", db)
    _import("subscriptions", source, "telco-subscriptions.toml", db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT customer_id, signup_date, plan FROM customers ORDER BY 1").fetchall() == [
        ("T00001", "2024-05-30", "Month-to-month"), ("T00002", "2021-08-30", "One year"), ("T00003", "2024-06-30", "Two year")]
    assert conn.execute("SELECT customer_id, start_date, end_date, mrr, term_months FROM subscriptions ORDER BY 1").fetchall() == [
        ("T00001", "2024-05-30", None, 29.85, 1.0), ("T00002", "2021-08-30", None, 56.95, 12.0),
        ("T00003", "2024-06-30", None, 20.0, 24.0)]


RAVENSTACK = """subscription_id,account_id,start_date,end_date,plan_tier,seats,mrr_amount,arr_amount,is_trial,upgrade_flag,downgrade_flag,billing_frequency,auto_renew_flag
S-8cec59,A-3c1a3f,2023-12-23,2024-04-12,Enterprise,14,2786,33432,False,False,False,monthly,True
S-0f6f44,A-9b9fe9,2024-06-11,,Pro,17,833,9996,False,False,False,annual,False
"""


def test_ravenstack_billing_frequency_is_the_term_and_auto_renew_off_is_cancel_at_period_end(tmp_path: Path) -> None:
    source = tmp_path / "ravenstack.csv"
    source.write_text(RAVENSTACK, encoding="utf-8")
    db = tmp_path / "rs.db"
    _import("subscriptions", source, "ravenstack-subscriptions.toml", db, derive_customers=True)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT customer_id, start_date, end_date, plan, seats, mrr, term_months, cancel_at_period_end "
                        "FROM subscriptions ORDER BY 1").fetchall() == [
        ("S-0f6f44", "2024-06-11", None, "Pro", 17, 833.0, 12.0, 1),
        ("S-8cec59", "2023-12-23", "2024-04-12", "Enterprise", 14, 2786.0, 1.0, 0)]
    assert conn.execute("SELECT customer_id, signup_date FROM customers ORDER BY 1").fetchall() == [
        ("S-0f6f44", "2024-06-11"), ("S-8cec59", "2023-12-23")]


def test_saas_churn_accounts_sign_up_months_active_before_the_export_day(tmp_path: Path) -> None:
    source = tmp_path / "saas.csv"
    source.write_text("account,csat_score,months_active\nA00001,9,3.0\nA00002,7,14.0\n", encoding="utf-8")
    db = tmp_path / "saas.db"
    _import("customers", source, "saas-churn-customers.toml", db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT customer_id, signup_date, x_csat_score FROM customers ORDER BY 1").fetchall() == [
        ("A00001", "2024-03-30", 9), ("A00002", "2023-04-30", 7)]


CONTRACTS = """contract_id,account_id,contract_start,cancelled_on,monthly_fee,contract_type,renewal_date,auto_renew,trial_ends
C1,A1,2023-07-01,,100,One year,2024-07-01,no,
C2,A2,2024-06-01,,50,Month-to-month,,yes,2024-06-15
"""


def test_the_documented_contract_mapping_reads_term_renewal_day_auto_renew_and_trial(tmp_path: Path) -> None:
    """docs/importing.md 'Contracts and renewals', as printed: One year → 12 months, auto_renew no → cancel at period
    end (1), yes → 0; the renewal and trial days are kept as given."""
    from tests.console import documented_mapping

    mapping = tmp_path / "contract.toml"
    mapping.write_text(documented_mapping("contract"), encoding="utf-8")
    source = tmp_path / "contracts.csv"
    source.write_text(CONTRACTS, encoding="utf-8")
    db = tmp_path / "c.db"
    import_file("subscriptions", source, db, ImportOptions(mapping=mapping, derive_customers=True))
    rows = sqlite3.connect(db).execute("SELECT customer_id, plan, term_months, current_period_end, cancel_at_period_end, "
                                       "trial_end FROM subscriptions ORDER BY 1").fetchall()
    assert rows == [("A1", "One year", 12.0, "2024-07-01", 1, None), ("A2", "Month-to-month", 1.0, None, 0, "2024-06-15")]
