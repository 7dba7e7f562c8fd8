"""Whole-import behaviour: idempotence, --skip-invalid and its rejects file, extra columns, mappings, the log."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from pathlib import Path

import pytest

from lifecycle.errors import ImportValidationError, MappingError, UnknownTableError
from lifecycle.importing import ImportOptions, import_file
from lifecycle.store import extra_columns

EVENTS = (
    "customer_id,occurred_at,event_name,quantity,Plan Tier\n"
    "C1,2024-01-31T10:00:00Z,login,1,pro\n"
    "C1,2024-01-31T11:00:00Z,report_created,2,pro\n"
    "C2,2024-02-01T09:00:00+01:00,login,,basic\n"
)


def _table(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_reimporting_the_same_file_is_idempotent(tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text(EVENTS, encoding="utf-8")
    db = tmp_path / "x.db"
    first = import_file("events", source, db)
    content = _table(db, "SELECT * FROM events ORDER BY event_id")
    second = import_file("events", source, db)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert _table(db, "SELECT * FROM events ORDER BY event_id") == content
    assert first.derived_keys and len({row[0] for row in content}) == 3


def test_derived_key_is_the_documented_sha256_of_the_canonical_content(tmp_path: Path) -> None:
    """Key = sha256('C1␟2024-01-31T10:00:00␟login␟1.0␟␟pro')[:24] — customer, instant, name, quantity, user (empty),
    then the extra column x_plan_tier."""
    source = tmp_path / "events.csv"
    source.write_text(EVENTS, encoding="utf-8")
    db = tmp_path / "x.db"
    import_file("events", source, db)
    expected = hashlib.sha256("C1\x1f2024-01-31T10:00:00\x1flogin\x1f1.0\x1f\x1fpro".encode()).hexdigest()[:24]
    assert _table(db, "SELECT event_id FROM events WHERE occurred_at = '2024-01-31T10:00:00'") == [(expected,)]


def test_changed_rows_are_updated_on_their_key(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    (tmp_path / "a.csv").write_text("customer_id,signup_date,plan\nC1,2024-01-01,basic\nC2,2024-01-02,pro\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("customer_id,signup_date,plan\nC1,2024-01-01,pro\nC2,2024-01-02,pro\nC3,2024-01-03,pro\n", encoding="utf-8")
    import_file("customers", tmp_path / "a.csv", db)
    report = import_file("customers", tmp_path / "b.csv", db)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    assert _table(db, "SELECT customer_id, plan FROM customers ORDER BY customer_id") == [("C1", "pro"), ("C2", "pro"), ("C3", "pro")]


def test_columns_a_file_does_not_provide_keep_their_values(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    (tmp_path / "a.csv").write_text("customer_id,signup_date,plan\nC1,2024-01-01,basic\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("customer_id,signup_date,country\nC1,2024-01-01,DE\n", encoding="utf-8")
    import_file("customers", tmp_path / "a.csv", db)
    import_file("customers", tmp_path / "b.csv", db)
    assert _table(db, "SELECT plan, country FROM customers") == [("basic", "DE")]


def test_skip_invalid_imports_valid_rows_and_writes_rejects_with_lines_and_reasons(tmp_path: Path) -> None:
    source = tmp_path / "subs.csv"
    source.write_text(
        "subscription_id,customer_id,start_date,mrr\n"
        "S1,C1,2024-01-01,10\n"
        "S2,C1,2024-02-01,-10\n"
        "S3,C2,someday,abc\n"
        "S4,C2,2024-03-01,30,extra\n"
        "S5,C3,2024-04-01,50\n",
        encoding="utf-8",
    )
    db = tmp_path / "x.db"
    report = import_file("subscriptions", source, db, ImportOptions(skip_invalid=True))
    assert (report.inserted, report.rejected) == (2, 3)
    assert report.rejects_path == tmp_path / "subs.csv.rejects.csv"
    assert _table(db, "SELECT subscription_id FROM subscriptions ORDER BY 1") == [("S1",), ("S5",)]
    with open(report.rejects_path, newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert [r["_line"] for r in rejected] == ["3", "4", "5"]
    assert "column 'mrr': negative amounts are not allowed" in rejected[0]["_reason"]
    assert rejected[0]["subscription_id"] == "S2"
    assert "column 'start_date': not a recognised date" in rejected[1]["_reason"]
    assert "column 'mrr': not an amount" in rejected[1]["_reason"]
    assert "expected 4 fields" in rejected[2]["_reason"]
    assert _table(db, "SELECT source, rows, rejected FROM _imports") == [("subs.csv", 2, 3)]


def test_skip_invalid_rejects_every_row_of_a_conflicting_key(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("customer_id,signup_date\nC1,2024-01-01\nC2,2024-01-02\nC1,2024-01-03\n", encoding="utf-8")
    rejects = tmp_path / "out" / "r.csv"
    rejects.parent.mkdir()
    report = import_file("customers", source, tmp_path / "x.db", ImportOptions(skip_invalid=True, rejects=rejects))
    assert (report.inserted, report.rejected, report.rejects_path) == (1, 2, rejects)
    assert "line 4 has the same key" in rejects.read_text(encoding="utf-8")


def test_without_skip_invalid_nothing_is_written_and_every_bad_row_is_counted(tmp_path: Path) -> None:
    source = tmp_path / "n.csv"
    source.write_text("customer_id,responded_at,score\nC1,2024-01-01,11\nC2,2024-01-01,-1\nC3,2024-01-01,5\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as info:
        import_file("nps_responses", source, tmp_path / "x.db")
    assert info.value.total_invalid_rows == 2
    assert "n.csv:2: column 'score': must be between 0 and 10 (value '11')" in str(info.value)
    assert not (tmp_path / "x.db").exists()


def test_extra_columns_are_typed_recorded_and_added_to_an_existing_table(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    (tmp_path / "a.csv").write_text("customer_id,signup_date,Seats Count\nC1,2024-01-01,5\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("customer_id,signup_date,Health Note,Renewal Date\nC2,2024-01-02,ok,2025-01-02\n", encoding="utf-8")
    import_file("customers", tmp_path / "a.csv", db)
    import_file("customers", tmp_path / "b.csv", db)
    conn = sqlite3.connect(db)
    recorded = [(e.column, e.kind.value, e.source_name) for e in extra_columns(conn, "customers")]
    assert recorded == [("x_health_note", "text", "Health Note"), ("x_renewal_date", "date", "Renewal Date"),
                        ("x_seats_count", "integer", "Seats Count")]
    assert conn.execute("SELECT customer_id, x_seats_count, x_renewal_date FROM customers ORDER BY 1").fetchall() == [
        ("C1", 5, None), ("C2", None, "2025-01-02")]


def test_extra_column_widens_from_integer_to_number(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    (tmp_path / "a.csv").write_text("customer_id,signup_date,Score\nC1,2024-01-01,5\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("customer_id,signup_date,Score\nC2,2024-01-01,2.5\n", encoding="utf-8")
    import_file("customers", tmp_path / "a.csv", db)
    import_file("customers", tmp_path / "b.csv", db)
    conn = sqlite3.connect(db)
    assert [e.kind.value for e in extra_columns(conn, "customers")] == ["number"]
    assert conn.execute("SELECT x_score FROM customers ORDER BY customer_id").fetchall() == [(5,), (2.5,)]


def test_extra_column_turning_from_numbers_to_text_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    (tmp_path / "a.csv").write_text("customer_id,signup_date,Score\nC1,2024-01-01,5\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("customer_id,signup_date,Score\nC2,2024-01-01,high\n", encoding="utf-8")
    import_file("customers", tmp_path / "a.csv", db)
    with pytest.raises(MappingError, match="x_score as integer before"):
        import_file("customers", tmp_path / "b.csv", db)


def test_mapping_file_renames_columns_maps_values_and_sets_options(tmp_path: Path) -> None:
    (tmp_path / "deals.csv").write_text(
        "Deal;Opened;Stage;Account\nD1;31.01.2024;Closed Won;Acme\nD2;01.02.2024;negotiation;Globex\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text(
        '[columns]\nlead_id = "Deal"\ncreated_at = "Opened"\nstatus = "Stage"\ncompany = "Account"\n'
        '[values.status]\n"Closed Won" = "won"\n"Negotiation" = "opportunity"\n'
        '[options]\ndate_format = "%d.%m.%Y"\n', encoding="utf-8")
    db = tmp_path / "x.db"
    import_file("leads", tmp_path / "deals.csv", db, ImportOptions(mapping=tmp_path / "map.toml"))
    assert _table(db, "SELECT lead_id, created_at, status, company FROM leads ORDER BY 1") == [
        ("D1", "2024-01-31", "won", "Acme"), ("D2", "2024-02-01", "opportunity", "Globex")]


def test_mapping_naming_a_column_the_file_lacks_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("id,created\nC1,2024-01-01\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text('[columns]\ncustomer_id = "Account ID"\nsignup_date = "created"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="no column 'Account ID'; found: id, created"):
        import_file("customers", tmp_path / "c.csv", tmp_path / "x.db", ImportOptions(mapping=tmp_path / "map.toml"))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[colums]\n", "unknown section"),
        ("[columns]\nnot_a_column = \"x\"\n", r"not column\(s\) of table 'customers'"),
        ("[options]\ndecimal = \";\"\n", "decimal must be"),
        ("[columns\n", "not valid TOML"),
    ],
    ids=["typo-section", "unknown-canonical", "bad-option", "bad-toml"],
)
def test_malformed_mapping_is_a_mapping_error(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        import_file("customers", tmp_path / "c.csv", tmp_path / "x.db", ImportOptions(mapping=tmp_path / "map.toml"))


def test_unknown_table_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownTableError, match="valid tables: customers, leads"):
        import_file("accounts", tmp_path / "x.csv", tmp_path / "x.db")


def test_import_is_logged_with_the_file_sha256(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    import_file("customers", source, tmp_path / "x.db")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert _table(tmp_path / "x.db", "SELECT table_name, source, rows, rejected, sha256 FROM _imports") == [("customers", "c.csv", 1, 0, digest)]


def test_default_database_is_the_store_default(tmp_path: Path, isolated_data_dir: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    report = import_file("customers", source)
    assert report.db_path == isolated_data_dir / "demo.db" and report.db_path.exists()


def test_missing_file_and_directory_name_the_path(tmp_path: Path) -> None:
    from lifecycle.errors import ImportFileError

    with pytest.raises(ImportFileError, match="no such file"):
        import_file("customers", tmp_path / "nope.csv", tmp_path / "x.db")
    with pytest.raises(ImportFileError, match="is a directory"):
        import_file("customers", tmp_path, tmp_path / "x.db", ImportOptions(format="csv"))


@pytest.mark.parametrize(("option", "message"), [('timezone = "Mars/Olympus"', "unknown timezone"),
                                                  ('date_format = "%Q-%d"', "not a valid strptime format")])
def test_bad_timezone_or_date_format_is_a_mapping_error(tmp_path: Path, option: str, message: str) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text(f"[options]\n{option}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        import_file("customers", tmp_path / "c.csv", tmp_path / "x.db", ImportOptions(mapping=tmp_path / "map.toml"))


def test_a_db_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    from lifecycle.errors import DatasetError

    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello", encoding="utf-8")
    with pytest.raises(DatasetError, match="not an SQLite database"):
        import_file("customers", tmp_path / "c.csv", not_a_db)
    assert not_a_db.read_text(encoding="utf-8") == "hello"
