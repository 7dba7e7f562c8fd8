"""Import options for files as they come: delimiters and header-less files, derived keys for every table, names kept
by derived mappings, [where], --replace / --source, --derive-customers, the errors' likely fixes, and the schema
migration that added ``_source``. Expected rows are written out by hand in each test."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from lifecycle.errors import ImportFileError, ImportValidationError, MappingError
from lifecycle.importing import ImportOptions, import_file
from lifecycle.importing.readers import WHITESPACE, sniff_delimiter
from lifecycle.schema import SCHEMA_VERSION, TABLES
from lifecycle.store import open_readonly
from tests.console import lifecycle, one_error_line

SAMPLES = Path(__file__).parent / "samples"


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ("a,b\n1,2\n", ","),
    ("a;b\n1,5;2\n", ";"),          # the comma inside a value does not split every line alike
    ("a\tb\n1\t2\n", "\t"),
    ("a|b\n1|2\n", "|"),
    (" 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n", WHITESPACE),
    ('name,city\n"Smith, J",Paris\n', ","),  # quoted delimiters respected
    ("name\nJohn Smith\n", ","),     # one column with spaces in values: not whitespace-separated
], ids=["comma", "semicolon", "tab", "pipe", "whitespace", "quoted", "one-column"])
def test_delimiter_is_sniffed_from_the_first_lines(text: str, expected: str) -> None:
    assert sniff_delimiter(text) == expected


def test_a_headerless_file_is_refused_with_the_column_names_advice(tmp_path: Path) -> None:
    data = _write(tmp_path / "t.txt", "C1 20240101 9.5\nC2 20240102 3\n")
    with pytest.raises(ImportFileError, match=r"t.txt:1: the first line holds values \(C1|column_names") as caught:
        import_file("orders", data, tmp_path / "x.db")
    assert "column_names" in str(caught.value) and "--map" in str(caught.value)
    mapping = _write(tmp_path / "m.toml", '[options]\ncolumn_names = ["customer_id", "ordered_at", "amount"]\n')
    report = import_file("orders", data, tmp_path / "x.db", ImportOptions(mapping=mapping))
    assert report.inserted == 2 and report.derived_keys


def test_column_names_must_name_every_field(tmp_path: Path) -> None:
    data = _write(tmp_path / "t.txt", "C1 20240101 9.5\n")
    mapping = _write(tmp_path / "m.toml", '[options]\ncolumn_names = ["customer_id", "ordered_at"]\n')
    with pytest.raises(ImportFileError, match="names 2 columns but the first line has 3 fields"):
        import_file("orders", data, tmp_path / "x.db", ImportOptions(mapping=mapping))


def test_wrong_delimiter_error_names_the_likely_one(tmp_path: Path) -> None:
    data = _write(tmp_path / "c.csv", "customer_id;signup_date\nC1;2024-01-01\n")
    with pytest.raises(MappingError, match=r"^c.csv: the file lacks .*delimiter is probably ';'; pass --delimiter ';'"):
        import_file("customers", data, tmp_path / "x.db", ImportOptions(delimiter=","))


def test_export_of_a_known_system_suggests_its_preset(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"re-run with --preset shopify-orders"):
        import_file("orders", SAMPLES / "shopify_orders.csv", tmp_path / "x.db")


def test_every_table_but_customers_takes_a_file_without_its_key(tmp_path: Path) -> None:
    """tickets and invoices have no natural-key-less export in the presets; the key is derived all the same."""
    tickets = _write(tmp_path / "t.csv", "customer_id,opened_at,subject\nC1,2024-01-02T10:00:00Z,Login fails\n")
    assert import_file("tickets", tickets, tmp_path / "x.db").derived_keys
    customers = _write(tmp_path / "c.csv", "signup_date,name\n2024-01-01,Ann\n")
    with pytest.raises(MappingError, match="customer_id"):
        import_file("customers", customers, tmp_path / "x.db")


def test_derived_order_keys_are_stable_and_repeated_purchases_stay_apart(tmp_path: Path) -> None:
    """Two identical lines → two orders; importing the same file again changes nothing (3 unchanged)."""
    data = _write(tmp_path / "o.csv", "customer_id,ordered_at,amount\nC1,2024-01-01,5\nC1,2024-01-01,5\nC2,2024-01-02,7\n")
    first = import_file("orders", data, tmp_path / "x.db")
    again = import_file("orders", data, tmp_path / "x.db")
    assert (first.inserted, first.collapsed) == (3, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_a_column_read_by_a_derived_value_still_feeds_its_own_canonical_column(tmp_path: Path) -> None:
    """The issue's bug: name = join(customer_id, company) left customer_id unmatched ("lacks required column(s):
    customer_id; columns found: customer_id, …")."""
    data = _write(tmp_path / "c.csv", "customer_id,signup_date,company\nC1,2024-01-01,Acme\n")
    mapping = _write(tmp_path / "m.toml", '[columns]\nname = { function = "join", columns = ["customer_id", "company"], sep = " @ " }\n')
    import_file("customers", data, tmp_path / "x.db", ImportOptions(mapping=mapping))
    assert _rows(tmp_path / "x.db", "SELECT customer_id, name, company FROM customers") == [("C1", "C1 @ Acme", "Acme")]


def test_where_conditions_keep_matching_rows_only(tmp_path: Path) -> None:
    """Kept: status paid (any case) and id not starting with T → only O1 and O4 (O2 refunded, O3 a test order)."""
    data = _write(tmp_path / "o.csv", "order_id,customer_id,ordered_at,amount,status\nO1,C1,2024-01-01,5,PAID\n"
                                      "O2,C1,2024-01-02,6,refunded\nTO3,C2,2024-01-03,7,paid\nO4,C2,2024-01-04,8,paid\n")
    mapping = _write(tmp_path / "m.toml", '[where]\nstatus = "paid"\norder_id = { not_matches = "T.*" }\n')
    report = import_file("orders", data, tmp_path / "x.db", ImportOptions(mapping=mapping))
    assert (report.filtered, report.inserted) == (2, 2)
    assert _rows(tmp_path / "x.db", "SELECT order_id FROM orders ORDER BY 1") == [("O1",), ("O4",)]


def test_where_on_a_missing_column_names_it(tmp_path: Path) -> None:
    data = _write(tmp_path / "o.csv", "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-01,5\n")
    mapping = _write(tmp_path / "m.toml", '[where]\nevent = "payment_done"\n')
    with pytest.raises(MappingError, match=r"o.csv: m.toml: \[where\] reads column 'event'"):
        import_file("orders", data, tmp_path / "x.db", ImportOptions(mapping=mapping))


def test_an_invalid_line_item_rejects_its_whole_record(tmp_path: Path) -> None:
    """Order A's second line has a bad quantity: with --skip-invalid both A lines are rejected, B is imported."""
    data = _write(tmp_path / "o.csv", "order,customer_id,ordered_at,qty,price\nA,C1,2024-01-01,2,5\nA,C1,2024-01-01,x,5\n"
                                      "B,C2,2024-01-02,1,4\n")
    mapping = _write(tmp_path / "m.toml", '[columns]\norder_id = "order"\namount = { function = "multiply", columns = ["qty", "price"] }\n'
                                          '[line_items]\nsum = ["amount"]\n')
    report = import_file("orders", data, tmp_path / "x.db", ImportOptions(mapping=mapping, skip_invalid=True))
    assert (report.inserted, report.rejected) == (1, 2)
    assert _rows(tmp_path / "x.db", "SELECT order_id, amount FROM orders") == [("B", 4.0)]
    rejects = (tmp_path / "o.csv.rejects.csv").read_text(encoding="utf-8")
    assert "another line item of the same record is invalid" in rejects and "not a number" in rejects


def test_replace_deletes_the_rows_the_new_export_no_longer_holds(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    old = _write(tmp_path / "old.csv", "customer_id,signup_date\nC1,2024-01-01\nC2,2024-01-02\nC3,2024-01-03\n")
    new = _write(tmp_path / "new.csv", "customer_id,signup_date\nC1,2024-01-01\nC3,2024-01-05\nC4,2024-01-04\n")
    import_file("customers", old, db)
    report = import_file("customers", new, db, ImportOptions(replace=True))
    assert (report.inserted, report.updated, report.unchanged, report.removed) == (1, 1, 1, 1)
    assert _rows(db, "SELECT customer_id, signup_date FROM customers ORDER BY 1") == [
        ("C1", "2024-01-01"), ("C3", "2024-01-05"), ("C4", "2024-01-04")]


def test_replace_with_a_source_refreshes_only_that_sources_rows(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    shop = _write(tmp_path / "shop.csv", "order_id,customer_id,ordered_at,amount\nS1,C1,2024-01-01,5\nS2,C1,2024-01-02,6\n")
    pos = _write(tmp_path / "pos.csv", "order_id,customer_id,ordered_at,amount\nP1,C2,2024-01-01,9\n")
    shop_now = _write(tmp_path / "shop2.csv", "order_id,customer_id,ordered_at,amount\nS2,C1,2024-01-02,6\n")
    import_file("orders", shop, db, ImportOptions(source="shopify"))
    import_file("orders", pos, db, ImportOptions(source="pos"))
    report = import_file("orders", shop_now, db, ImportOptions(source="shopify", replace=True))
    assert report.removed == 1
    assert _rows(db, "SELECT order_id, _source FROM orders ORDER BY 1") == [("P1", "pos"), ("S2", "shopify")]


def test_replace_keeps_records_whose_new_export_row_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    import_file("customers", _write(tmp_path / "a.csv", "customer_id,signup_date\nC1,2024-01-01\nC2,2024-01-02\n"), db)
    bad = _write(tmp_path / "b.csv", "customer_id,signup_date\nC1,2024-01-01\nC2,someday\n")
    report = import_file("customers", bad, db, ImportOptions(replace=True, skip_invalid=True))
    assert (report.rejected, report.removed) == (1, 0)
    assert _rows(db, "SELECT customer_id FROM customers ORDER BY 1") == [("C1",), ("C2",)]


def test_derived_customers_move_back_but_imported_customers_never_change(tmp_path: Path) -> None:
    """C1 is imported (signup 2024-05-01) and keeps it; C2 is derived from its 2024-03-10 order, then moves back to
    2024-02-01 when an earlier order arrives; a later order does not move it forward."""
    db = tmp_path / "x.db"
    import_file("customers", _write(tmp_path / "c.csv", "customer_id,signup_date\nC1,2024-05-01\n"), db)
    first = import_file("orders", _write(tmp_path / "o1.csv", "customer_id,ordered_at,amount\nC1,2024-01-01,5\nC2,2024-03-10,5\n"),
                        db, ImportOptions(derive_customers=True))
    second = import_file("orders", _write(tmp_path / "o2.csv", "customer_id,ordered_at,amount\nC2,2024-02-01,5\nC2,2024-04-01,5\n"),
                         db, ImportOptions(derive_customers=True))
    assert (first.customers_created, second.customers_created, second.customers_moved) == (1, 0, 1)
    assert _rows(db, "SELECT customer_id, signup_date, _source FROM customers ORDER BY 1") == [
        ("C1", "2024-05-01", "c.csv"), ("C2", "2024-02-01", "derived from orders")]


def test_derive_customers_needs_a_table_with_customers_and_time(tmp_path: Path) -> None:
    data = _write(tmp_path / "r.csv", "referral_id,referrer_customer_id,referred_at\nR1,C1,2024-01-01\n")
    with pytest.raises(ImportFileError, match="--derive-customers"):
        import_file("referrals", data, tmp_path / "x.db", ImportOptions(derive_customers=True))


def test_currency_options_on_a_table_without_money_are_refused(tmp_path: Path) -> None:
    data = _write(tmp_path / "e.csv", "customer_id,occurred_at,event_name\nC1,2024-01-01,login\n")
    with pytest.raises(ImportFileError, match="no money columns"):
        import_file("events", data, tmp_path / "x.db", ImportOptions(currency="EUR"))


def test_a_version_1_database_is_migrated_on_the_next_import(tmp_path: Path) -> None:
    """A database written before ``_source`` existed: its rows keep NULL sources and the version becomes 2."""
    db_path = tmp_path / "old.db"
    db = sqlite_utils.Database(db_path)
    for spec in TABLES.values():
        db[spec.name].create({c.name: str for c in spec.columns}, pk=spec.primary_key)
    db["_meta"].insert({"key": "schema_version", "value": "1"}, pk="key")
    db["customers"].insert({"customer_id": "C0", "signup_date": "2023-12-01"})
    db.close()
    import_file("customers", _write(tmp_path / "c.csv", "customer_id,signup_date\nC1,2024-01-01\n"), db_path)
    conn = open_readonly(db_path)
    try:
        assert conn.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        assert conn.execute("SELECT customer_id, _source FROM customers ORDER BY 1").fetchall() == [("C0", None), ("C1", "c.csv")]
    finally:
        conn.close()


def test_console_script_replace_and_delimiter_flags(tmp_path: Path) -> None:
    _write(tmp_path / "a.txt", "customer_id signup_date\nC1 2024-01-01\nC2 2024-01-02\n")
    _write(tmp_path / "b.txt", "customer_id|signup_date\nC2|2024-01-02\n")
    assert lifecycle("import", "customers", "a.txt", "--delimiter", "whitespace", "--db", "x.db", cwd=tmp_path).returncode == 0
    result = lifecycle("import", "customers", "b.txt", "--delimiter", "|", "--replace", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "removed (no longer in the source)" in result.stdout
    assert _rows(tmp_path / "x.db", "SELECT customer_id FROM customers") == [("C2",)]
    bad = lifecycle("import", "customers", "b.txt", "--delimiter", "colon", "--db", "x.db", cwd=tmp_path)
    assert bad.returncode == 1 and "unknown delimiter 'colon'" in one_error_line(bad.stderr)


def test_line_item_rows_that_clash_on_the_key_get_the_line_items_advice(tmp_path: Path) -> None:
    """Two rows of order A with different products: a duplicate-key error, and the advice to merge line items."""
    data = _write(tmp_path / "o.csv", "order_id,customer_id,ordered_at,amount,product\nA,C1,2024-01-01,5,pen\nA,C1,2024-01-01,5,ink\n")
    with pytest.raises(ImportValidationError, match=r"duplicate key") as caught:
        import_file("orders", data, tmp_path / "x.db")
    assert "[line_items]" in str(caught.value) and "--preset shopify-orders" in str(caught.value)
