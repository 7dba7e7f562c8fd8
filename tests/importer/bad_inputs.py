"""The bad-input set: each case writes one export into a test's temporary directory and states the outcome.

An error case names the exception and where it must point (line, column) and a fragment of the reason; a
success case checks the stored values. Files are generated from code so nothing large is committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle.errors import ImportFileError, ImportValidationError, MappingError

Check = Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Case:
    """One bad (or awkward) input and what importing it must do."""

    id: str
    table: str
    filename: str
    content: bytes | Callable[[Path], None]
    options: dict = field(default_factory=dict)
    error: type[Exception] | None = None
    line: int | None = None
    column: str | None = None
    reason: str = ""
    check: Check | None = None

    def write(self, directory: Path) -> Path:
        """Create the case's file in ``directory`` and return its path."""
        path = directory / self.filename
        if callable(self.content):
            self.content(path)
        else:
            path.write_bytes(self.content)
        return path


def rows(conn: sqlite3.Connection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def expect(sql: str, expected: list[tuple]) -> Check:
    """A check that ``sql`` returns exactly ``expected``."""

    def check(conn: sqlite3.Connection) -> None:
        assert rows(conn, sql) == expected

    return check


CUSTOMERS = "customer_id,signup_date,name\n"
SUBSCRIPTIONS = "subscription_id,customer_id,start_date,mrr\n"


def _parquet_events(path: Path) -> None:
    table = pa.table({
        "customer_id": ["C1", "C2"],
        "occurred_at": pa.array([1706695200_000_000, 1706698800_000_000], pa.timestamp("us", "Europe/Berlin")),
        "event_name": ["login", "export"],
        "quantity": [1.0, float("nan")],
    })
    pq.write_table(table, path)


def _big_field(path: Path) -> None:
    comment = "x" * 200_000
    path.write_text(f"response_id,customer_id,responded_at,score,comment\nR1,C1,2024-01-31,9,\"{comment}\"\n", encoding="utf-8")


CASES: list[Case] = [
    # --- encodings ---------------------------------------------------------------------------------------------
    Case("latin1_without_encoding", "customers", "latin1.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,Zoë\n").encode("latin-1"),
         error=ImportFileError, line=3, reason="--encoding"),
    Case("latin1_with_encoding", "customers", "latin1.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,Zoë\n").encode("latin-1"),
         options={"encoding": "latin-1"}, check=expect("SELECT name FROM customers ORDER BY customer_id", [("Ann",), ("Zoë",)])),
    Case("utf8_bom", "customers", "bom.csv", b"\xef\xbb\xbf" + (CUSTOMERS + "C1,2024-01-01,Ann\n").encode(),
         check=expect("SELECT customer_id, name FROM customers", [("C1", "Ann")])),
    Case("utf16_with_bom", "customers", "utf16.csv", (CUSTOMERS + "C1,2024-01-01,Zoë\n").encode("utf-16"),
         check=expect("SELECT name FROM customers", [("Zoë",)])),
    Case("nul_byte", "customers", "nul.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,B\x00b\n").encode(),
         error=ImportFileError, line=3, reason="NUL byte"),
    # --- structure ---------------------------------------------------------------------------------------------
    Case("ragged_row_too_many_fields", "customers", "ragged.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,Smith, Bob\n").encode(),
         error=ImportValidationError, line=3, reason="expected 3 fields as in the header, found 4"),
    Case("ragged_row_too_few_fields", "customers", "short.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,Bo\nC3\n").encode(),
         error=ImportValidationError, line=4, reason="found 1"),
    Case("unterminated_quote", "customers", "quote.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,\"Bob\nC3,2024-01-03,Cy\n").encode(),
         error=ImportFileError, line=3, reason="unterminated quote"),
    Case("multiline_quoted_field_keeps_physical_lines", "customers", "multi.csv",
         (CUSTOMERS + "C1,2024-01-01,\"Ann\nSmith\"\nC2,not a date,Bo\n").encode(),
         error=ImportValidationError, line=4, column="signup_date", reason="not a recognised date"),
    Case("blank_lines_keep_physical_lines", "customers", "blank.csv", (CUSTOMERS + "C1,2024-01-01,Ann\n\n\nC2,2024-13-45,Bo\n").encode(),
         error=ImportValidationError, line=5, column="signup_date", reason="not a recognised date"),
    Case("duplicate_header", "customers", "duphead.csv", b"customer_id,signup_date,name,name\nC1,2024-01-01,a,b\n",
         error=ImportFileError, line=1, reason="duplicate column header 'name' (columns 3 and 4)"),
    Case("empty_header_with_values", "customers", "emptyhead.csv", b"customer_id,,signup_date\nC1,x,2024-01-01\n",
         error=ImportFileError, line=1, reason="column 2 has an empty header"),
    Case("trailing_delimiter_column_is_dropped", "customers", "trailing.csv", b"customer_id,signup_date,\nC1,2024-01-01,\n",
         check=expect("SELECT customer_id, signup_date FROM customers", [("C1", "2024-01-01")])),
    Case("empty_file", "customers", "empty.csv", b"", error=ImportFileError, reason="the file is empty"),
    Case("header_only", "customers", "header.csv", CUSTOMERS.encode(), error=ImportFileError, reason="no data rows"),
    Case("field_of_200_kb", "nps_responses", "big.csv", _big_field,
         check=expect("SELECT length(comment) FROM nps_responses", [(200_000,)])),
    Case("missing_required_column", "customers", "missing.csv", b"customer_id,name\nC1,Ann\n",
         error=MappingError, reason="signup_date; columns found: customer_id, name. Map them with --map"),
    # --- keys --------------------------------------------------------------------------------------------------
    Case("duplicate_keys_with_different_values", "customers", "dupkey.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-02,Bo\nC1,2024-01-05,Ann\n").encode(),
         error=ImportValidationError, line=4, column="customer_id", reason="line 2 has the same key with different values"),
    Case("duplicate_identical_rows_collapse", "customers", "dupsame.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC1,2024-01-01,Ann\n").encode(),
         check=expect("SELECT count(*) FROM customers", [(1,)])),
    Case("leading_zero_ids_survive", "customers", "zeros.csv", (CUSTOMERS + "00042,2024-01-01,Ann\n042,2024-01-01,Bo\n").encode(),
         check=expect("SELECT customer_id FROM customers ORDER BY customer_id", [("00042",), ("042",)])),
    Case("json_ids_beyond_2_53_keep_precision", "customers", "big_ids.json",
         b'[{"customer_id": 9007199254740993, "signup_date": "2024-01-01", "acquisition_cost": 0.10}]',
         check=expect("SELECT customer_id, acquisition_cost FROM customers", [("9007199254740993", 0.1)])),
    # --- business rules ----------------------------------------------------------------------------------------
    Case("negative_mrr", "subscriptions", "neg.csv", (SUBSCRIPTIONS + "S1,C1,2024-01-01,10\nS2,C1,2024-02-01,-10\n").encode(),
         error=ImportValidationError, line=3, column="mrr", reason="negative amounts are not allowed"),
    Case("accounting_negative_amount", "invoices", "acct.csv",
         b"invoice_id,customer_id,issued_at,due_date,amount\nI1,C1,2024-01-01,2024-01-31,(12.00)\n",
         error=ImportValidationError, line=2, column="amount", reason="negative amounts"),
    Case("nps_score_out_of_range", "nps_responses", "nps.csv", b"customer_id,responded_at,score\nC1,2024-01-01,9\nC2,2024-01-02,11\n",
         error=ImportValidationError, line=3, column="score", reason="must be between 0 and 10"),
    Case("category_outside_allowed", "tickets", "prio.csv", b"ticket_id,customer_id,opened_at,priority\nT1,C1,2024-01-01T10:00:00,critical\n",
         error=ImportValidationError, line=2, column="priority", reason="allowed: low, normal, high, urgent"),
    Case("category_any_case", "touches", "chan.csv", b"customer_id,sent_at,channel\nC1,2024-01-01T10:00:00,In App\nC2,2024-01-01T10:00:00,EMAIL\n",
         check=expect("SELECT channel FROM touches ORDER BY customer_id", [("in_app",), ("email",)])),
    Case("future_dates_are_imported", "customers", "future.csv", (CUSTOMERS + "C1,2099-12-31,Ann\n").encode(),
         check=expect("SELECT signup_date FROM customers", [("2099-12-31",)])),
    # --- dates -------------------------------------------------------------------------------------------------
    Case("unparseable_date", "customers", "baddate.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,next tuesday,Bo\n").encode(),
         error=ImportValidationError, line=3, column="signup_date", reason="not a recognised date"),
    Case("impossible_date", "customers", "feb30.csv", (CUSTOMERS + "C1,2024-02-30,Ann\n").encode(),
         error=ImportValidationError, line=2, column="signup_date", reason="not a recognised date"),
    Case("ambiguous_slash_dates_refused", "customers", "ambig.csv", (CUSTOMERS + "C1,03/04/2024,Ann\nC2,05/06/2024,Bo\n").encode(),
         error=ImportValidationError, line=2, column="signup_date", reason="--dayfirst or --monthfirst"),
    Case("ambiguous_slash_dates_with_dayfirst", "customers", "ambig.csv", (CUSTOMERS + "C1,03/04/2024,Ann\n").encode(),
         options={"dayfirst": True}, check=expect("SELECT signup_date FROM customers", [("2024-04-03",)])),
    Case("ambiguous_slash_dates_with_monthfirst", "customers", "ambig.csv", (CUSTOMERS + "C1,03/04/2024,Ann\n").encode(),
         options={"dayfirst": False}, check=expect("SELECT signup_date FROM customers", [("2024-03-04",)])),
    Case("column_proves_day_first", "customers", "proof.csv", (CUSTOMERS + "C1,03/04/2024,Ann\nC2,31/01/2024,Bo\n").encode(),
         check=expect("SELECT signup_date FROM customers ORDER BY customer_id", [("2024-04-03",), ("2024-01-31",)])),
    Case("column_mixing_day_and_month_first", "customers", "mixed.csv", (CUSTOMERS + "C1,31/01/2024,Ann\nC2,01/31/2024,Bo\n").encode(),
         error=ImportValidationError, line=3, column="signup_date", reason="mixes day-first"),
    Case("excel_serial_days", "customers", "excel.csv", (CUSTOMERS + "C1,45322,Ann\nC2,45000,Bo\n").encode(),
         check=expect("SELECT signup_date FROM customers ORDER BY customer_id", [("2024-01-31",), ("2023-03-15",)])),
    Case("zoned_timestamps_to_utc", "events", "zones.csv",
         b"customer_id,occurred_at,event_name\nC1,2024-01-31T10:00:00+02:00,login\nC2,2024-01-31T10:00:00Z,login\nC3,2024-01-31 03:00:00-0500,login\n",
         check=expect("SELECT occurred_at FROM events ORDER BY customer_id",
                      [("2024-01-31T08:00:00",), ("2024-01-31T10:00:00",), ("2024-01-31T08:00:00",)])),
    Case("epoch_milliseconds", "events", "epoch.csv", b"customer_id,occurred_at,event_name\nC1,1706695200000,login\nC2,1706695260000,login\n",
         check=expect("SELECT occurred_at FROM events ORDER BY customer_id", [("2024-01-31T10:00:00",), ("2024-01-31T10:01:00",)])),
    # --- money -------------------------------------------------------------------------------------------------
    Case("unparseable_money", "subscriptions", "badmoney.csv", (SUBSCRIPTIONS + "S1,C1,2024-01-01,12..5\n").encode(),
         error=ImportValidationError, line=2, column="mrr", reason="not an amount"),
    Case("european_money_semicolon_csv", "subscriptions", "eu.csv",
         "subscription_id;customer_id;start_date;mrr\nS1;C1;31.01.2024;1.234,50\nS2;C2;01.02.2024;€ 12\n".encode(),
         options={"dayfirst": True}, check=expect("SELECT mrr, start_date FROM subscriptions ORDER BY subscription_id",
                                                  [(1234.5, "2024-01-31"), (12.0, "2024-02-01")])),
    Case("us_money_with_symbols", "subscriptions", "us.csv", (SUBSCRIPTIONS + 'S1,C1,2024-01-01,"$1,234.50"\nS2,C1,2024-01-01,USD 99\n').encode(),
         check=expect("SELECT mrr FROM subscriptions ORDER BY subscription_id", [(1234.5,), (99.0,)])),
    Case("ambiguous_decimal_separator", "subscriptions", "amb.csv", (SUBSCRIPTIONS + 'S1,C1,2024-01-01,"1,234"\nS2,C1,2024-01-01,"2,500"\n').encode(),
         error=ImportValidationError, line=2, column="mrr", reason="--decimal"),
    Case("ambiguous_decimal_separator_settled", "subscriptions", "amb.csv", (SUBSCRIPTIONS + 'S1,C1,2024-01-01,"1,234"\n').encode(),
         options={"decimal": "."}, check=expect("SELECT mrr FROM subscriptions", [(1234.0,)])),
    # --- JSON / Parquet ------------------------------------------------------------------------------------------
    Case("jsonl_invalid_line", "customers", "bad.jsonl", b'{"customer_id": "C1", "signup_date": "2024-01-01"}\n\n{"customer_id": "C2",\n',
         error=ImportFileError, line=3, reason="not valid JSON"),
    Case("json_not_an_array", "customers", "obj.json", b'{"data": []}', error=ImportFileError, reason="expected a JSON array of objects"),
    Case("json_record_error_uses_record_number", "customers", "rec.json",
         json.dumps([{"customer_id": "C1", "signup_date": "2024-01-01"}, {"customer_id": "C2", "signup_date": "soon"}]).encode(),
         error=ImportValidationError, line=2, column="signup_date", reason="not a recognised date"),
    Case("parquet_zoned_timestamps", "events", "events.parquet", _parquet_events,
         check=expect("SELECT customer_id, occurred_at, quantity FROM events ORDER BY customer_id",
                      [("C1", "2024-01-31T10:00:00", 1.0), ("C2", "2024-01-31T11:00:00", None)])),
]


def _gzip(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import gzip

        path.write_bytes(gzip.compress(text.encode("utf-8")))

    return write


CASES += [
    Case("crlf_line_ends", "customers", "crlf.csv", (CUSTOMERS + "C1,2024-01-01,Ann\nC2,2024-01-0x,Bo\n").replace("\n", "\r\n").encode(),
         error=ImportValidationError, line=3, column="signup_date", reason="not a recognised date"),
    Case("tsv_with_quoted_tab", "customers", "c.tsv", b'customer_id\tsignup_date\tname\nC1\t2024-01-01\t"Ann\tLee"\n',
         check=expect("SELECT name FROM customers", [("Ann\tLee",)])),
    Case("gzipped_csv", "customers", "c.csv.gz", _gzip(CUSTOMERS + "C1,2024-01-01,Ann\n"),
         check=expect("SELECT customer_id FROM customers", [("C1",)])),
    Case("us_timestamps_with_am_pm", "tickets", "ampm.csv",
         b"ticket_id,customer_id,opened_at,closed_at\nT1,C1,01/31/2024 2:30 PM,01/31/2024 12:05 AM\n",
         check=expect("SELECT opened_at, closed_at FROM tickets", [("2024-01-31T14:30:00", "2024-01-31T00:05:00")])),
    Case("keyless_events_differing_only_in_a_property_stay_two_rows", "events", "props.csv",
         b"customer_id,occurred_at,event_name,Browser\nC1,2024-01-31T10:00:00Z,login,Chrome\nC1,2024-01-31T10:00:00Z,login,Firefox\n",
         check=expect("SELECT x_browser FROM events ORDER BY x_browser", [("Chrome",), ("Firefox",)])),
    Case("unknown_format_extension", "customers", "c.xlsx", b"PK\x03\x04", error=ImportFileError, reason="--format"),
]
