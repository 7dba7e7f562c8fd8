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
