"""Real exports imported as they come, through the mappings docs/importing.md prints (read from the page) or a
preset, with the installed console script — no pre-processing.

Golden values: the CDNOW BG/NBD and Gamma-Gamma fits are the published ones (Fader, Hardie & Lee 2005, quoted in
../shared/data/README.md); line-item totals, dates and derived signup days are worked out by hand in each docstring.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from lifecycle.clv.customer_value import predict_customer_value
from lifecycle.dataset import Dataset
from tests.conftest import SHARED_DATA
from tests.console import documented_mapping, lifecycle, one_error_line

SAMPLES = Path(__file__).parent / "samples"
CDNOW_SAMPLE = SHARED_DATA / "cdnow" / "CDNOW_sample.txt"


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _mapping(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(documented_mapping(name), encoding="utf-8")
    return path


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def cdnow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt imported with the documented mapping and --derive-customers."""
    folder = tmp_path_factory.mktemp("cdnow")
    out = _ok(lifecycle("import", "orders", str(CDNOW_SAMPLE), "--map", str(_mapping(folder, "cdnow")),
                        "--derive-customers", "--db", "cdnow.db", cwd=folder))
    assert "Currency: USD" in out
    return folder / "cdnow.db"


def test_cdnow_sample_imports_whole_whitespace_separated_headerless_and_without_order_ids(cdnow_db: Path) -> None:
    """6,919 purchase lines of 2,357 customers (../shared/data/README.md); the 21 pairs of identical lines stay
    separate purchases, so every line is a row; each customer is derived from the day of their first purchase."""
    assert _rows(cdnow_db, "SELECT count(*), count(DISTINCT order_id), count(DISTINCT customer_id) FROM orders") == [(6919, 6919, 2357)]
    assert _rows(cdnow_db, "SELECT count(*), min(signup_date), max(signup_date) FROM customers") == [(2357, "1997-01-01", "1997-03-25")]
    assert _rows(cdnow_db, "SELECT ordered_at, amount, x_cds, x_master_id FROM orders WHERE customer_id = '0001' ORDER BY ordered_at") == [
        ("1997-01-01T00:00:00", 29.33, 2, "00004"), ("1997-01-18T00:00:00", 29.73, 2, "00004"),
        ("1997-08-02T00:00:00", 14.96, 1, "00004"), ("1997-12-12T00:00:00", 26.48, 2, "00004")]


def test_cdnow_import_reproduces_the_published_bg_nbd_and_gamma_gamma_fits(cdnow_db: Path) -> None:
    """Calibration ends 1997-09-30, weeks: BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4;
    Gamma-Gamma on the 946 repeat buyers p = 6.25, q = 3.74, gamma = 15.44 (published, rounded as printed)."""
    table = predict_customer_value(Dataset.open(cdnow_db, date(1997, 9, 30)), model="bg_nbd")
    fit, spend = table.transactions, table.spend
    assert fit.n == 2357 and fit.converged and not fit.penalized
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert fit.params[name] == pytest.approx(published, abs=1e-3), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert spend is not None and spend.n == 946
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert spend.params[name] == pytest.approx(published, abs=5e-3), name


def test_line_item_export_becomes_one_order_per_invoice(tmp_path: Path) -> None:
    """UCI Online Retail rows (the file's first invoices): 536365 = 6x2.55 + 6x3.39 + 8x2.75 + 6x3.39 + 6x3.39 +
    2x7.65 + 6x4.25 = 139.12; 536366 = 6x1.85 + 6x1.85 = 22.20; 536367 = 32x1.69 + 6x2.10 = 66.68 (the shared
    online_retail_invoices.csv has 139.12 and 22.2 for the first two). The C-invoice and the customer-less row are
    left out by [where]; 11 lines make 3 orders (8 merged); dates 12/1/2010 are month-first."""
    out = _ok(lifecycle("import", "orders", str(SAMPLES / "online_retail_lines.csv"), "--map",
                        str(_mapping(tmp_path, "online-retail")), "--derive-customers", "--db", "x.db", cwd=tmp_path))
    assert "left out by [where]" in out and "line items merged" in out
    assert _rows(tmp_path / "x.db", "SELECT order_id, customer_id, ordered_at, round(amount, 2) FROM orders ORDER BY order_id") == [
        ("536365", "17850", "2010-12-01T08:26:00", 139.12), ("536366", "17850", "2010-12-01T08:28:00", 22.2),
        ("536367", "13047", "2010-12-01T08:34:00", 66.68)]
    assert _rows(tmp_path / "x.db", "SELECT customer_id, signup_date FROM customers ORDER BY 1") == [("13047", "2010-12-01"), ("17850", "2010-12-01")]
    assert _rows(tmp_path / "x.db", "SELECT value FROM _meta WHERE key = 'currency'") == [("GBP",)]


def test_shopify_line_items_merge_into_orders_with_status_and_currency(tmp_path: Path) -> None:
    """Four orders in 7 rows; Total is on each order's first row (#1001: 49.80 + 4.90 shipping = 54.70);
    "2024-10-07 09:50:26 +0200" is 07:50:26 UTC; voided → cancelled; Email is the customer; addresses and line-item
    columns are not copied."""
    out = _ok(lifecycle("import", "orders", str(SAMPLES / "shopify_orders.csv"), "--preset", "shopify-orders",
                        "--derive-customers", "--db", "x.db", cwd=tmp_path))
    assert "Currency: EUR" in out
    db = tmp_path / "x.db"
    assert _rows(db, "SELECT order_id, customer_id, ordered_at, amount, status FROM orders ORDER BY order_id") == [
        ("#1001", "ana@example.com", "2024-10-07T07:50:26", 54.7, "paid"),
        ("#1002", "bo@example.com", "2024-10-08T16:02:11", 39.8, "refunded"),
        ("#1003", "ana@example.com", "2024-11-02T10:15:00", 84.6, "cancelled"),
        ("#1004", "ana@example.com", "2024-12-01T07:00:00", 19.8, "paid")]
    columns = {row[1] for row in _rows(db, "PRAGMA table_info(orders)")}
    assert not {c for c in columns if c.startswith(("x_billing", "x_shipping_name", "x_lineitem", "x_phone"))}
    assert _rows(db, "SELECT customer_id, signup_date FROM customers ORDER BY 1") == [("ana@example.com", "2024-10-07"), ("bo@example.com", "2024-10-08")]


def test_event_log_gives_customers_and_its_payment_events_give_orders(tmp_path: Path) -> None:
    """events_payments.csv: u1 first seen 2024-03-01, u2 2024-03-04, u3 2024-04-05 (signup = first event's UTC day);
    the three payment_done events (29, 29, 99) become orders, the four others are left out by [where]."""
    events = SAMPLES / "events_payments.csv"
    _ok(lifecycle("import", "events", str(events), "--preset", "segment-events", "--derive-customers", "--db", "x.db", cwd=tmp_path))
    out = _ok(lifecycle("import", "orders", str(events), "--map", str(_mapping(tmp_path, "payment-orders")), "--db", "x.db", cwd=tmp_path))
    assert "left out by [where]" in out
    db = tmp_path / "x.db"
    assert _rows(db, "SELECT customer_id, signup_date, _source FROM customers ORDER BY 1") == [
        ("u1", "2024-03-01", "derived from events"), ("u2", "2024-03-04", "derived from events"), ("u3", "2024-04-05", "derived from events")]
    assert _rows(db, "SELECT customer_id, ordered_at, amount FROM orders ORDER BY ordered_at") == [
        ("u1", "2024-03-01T09:05:00", 29.0), ("u1", "2024-04-01T09:05:00", 29.0), ("u2", "2024-04-02T10:00:00", 99.0)]
    assert _rows(db, "SELECT count(*), count(x_amount) FROM events") == [(7, 3)]


def test_whitespace_transaction_log_with_a_header_imports_with_the_transactions_preset(tmp_path: Path) -> None:
    """transactions.txt: padded columns, CRLF line ends; the two identical A1 lines of 2024-02-11 are two purchases."""
    out = _ok(lifecycle("import", "orders", str(SAMPLES / "transactions.txt"), "--preset", "transactions", "--currency", "usd",
                        "--derive-customers", "--db", "x.db", cwd=tmp_path))
    assert "Currency: USD" in out
    assert _rows(tmp_path / "x.db", "SELECT customer_id, ordered_at, amount FROM orders ORDER BY ordered_at, customer_id") == [
        ("A1", "2024-01-03T00:00:00", 10.5), ("A2", "2024-01-04T00:00:00", 7.25),
        ("A1", "2024-02-11T00:00:00", 12.0), ("A1", "2024-02-11T00:00:00", 12.0)]


def test_signup_is_the_snapshot_day_minus_tenure_months(tmp_path: Path) -> None:
    """Exported 2024-06-30: 1 month before = 2024-05-30; 13 months = 2023-05-30; 4 months = 2024-02-30, clamped to
    2024-02-29 (calendar months, as dateutil.relativedelta)."""
    _ok(lifecycle("import", "customers", str(SAMPLES / "accounts_tenure.csv"), "--map", str(_mapping(tmp_path, "tenure")),
                  "--db", "x.db", cwd=tmp_path))
    assert _rows(tmp_path / "x.db", "SELECT customer_id, signup_date, plan FROM customers ORDER BY 1") == [
        ("acme", "2024-05-30", "pro"), ("globex", "2023-05-30", "basic"), ("initech", "2024-02-29", "basic")]


def test_mixed_currency_file_is_refused_with_one_line_and_nothing_written(tmp_path: Path) -> None:
    result = lifecycle("import", "orders", str(SAMPLES / "orders_mixed_currency.csv"), "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert "orders_mixed_currency.csv" in line and "EUR, USD" in line and "--rates" in line
    assert not (tmp_path / "x.db").exists()


def test_a_rate_table_converts_other_currencies_into_its_base(tmp_path: Path) -> None:
    """rates.toml: base USD, EUR = 1.10 → 100 EUR = 110 USD, 20 EUR ('eur') = 22 USD; 50 USD unchanged."""
    out = _ok(lifecycle("import", "orders", str(SAMPLES / "orders_mixed_currency.csv"), "--rates", str(SAMPLES / "rates.toml"),
                        "--db", "x.db", cwd=tmp_path))
    assert "Currency: USD (EUR converted" in out
    assert _rows(tmp_path / "x.db", "SELECT order_id, amount, x_currency FROM orders ORDER BY 1") == [
        ("O1", 110.0, "EUR"), ("O2", 50.0, "USD"), ("O3", 22.0, "eur")]


def test_a_file_in_another_currency_than_the_dataset_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,5\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("order_id,customer_id,ordered_at,amount\nO2,C1,2024-01-02,7\n", encoding="utf-8")
    _ok(lifecycle("import", "orders", "a.csv", "--currency", "EUR", "--db", "x.db", cwd=tmp_path))
    result = lifecycle("import", "orders", "b.csv", "--currency", "GBP", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert "b.csv: amounts are in GBP but the dataset's money is in EUR" in line
    assert _rows(tmp_path / "x.db", "SELECT order_id FROM orders") == [("O1",)]
