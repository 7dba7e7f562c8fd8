"""The generated bad-input corpus: the same hostile and awkward shapes for every canonical table and every format.

``tests/importer/bad_inputs.py`` holds hand-written cases (encodings, quoting, dates, money, keys); this module
adds the systematic sweep: for each of the ten tables, a valid two-row export in each format (CSV, TSV, JSON,
JSON Lines, Parquet, gzipped CSV) and one file per failure shape — a required value missing, an unparseable or
out-of-range time, a required column missing, a ragged row, an ``Infinity`` token, nesting past the limit, two
headers matching one column, a truncated gzip, a bad number or category where the table has one, and ``NaN``
read as missing. Each case states the outcome (error type, line, column, reason) or checks the stored rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle.errors import ImportFileError, ImportLimitError, ImportValidationError, MappingError
from lifecycle.schema import TABLES, ColumnKind
from tests.importer.bad_inputs import Case, expect

# Two valid rows per table (row k has ids ending in k). Keys are omitted where the table derives them.
ROWS: dict[str, list[dict[str, str]]] = {
    "customers": [{"customer_id": f"C{k}", "signup_date": "2024-01-31", "segment": "SMB", "acquisition_cost": "12.5"} for k in (1, 2)],
    "leads": [{"lead_id": f"L{k}", "created_at": "2024-01-31", "status": "mql", "company": f"Co {k}"} for k in (1, 2)],
    "subscriptions": [{"subscription_id": f"S{k}", "customer_id": f"C{k}", "start_date": "2024-01-31", "mrr": "99.5", "seats": "3"} for k in (1, 2)],
    "orders": [{"order_id": f"O{k}", "customer_id": f"C{k}", "ordered_at": "2024-01-31T10:00:00Z", "amount": "20.5", "status": "paid"} for k in (1, 2)],
    "events": [{"customer_id": f"C{k}", "occurred_at": "2024-01-31T10:00:00Z", "event_name": "login", "quantity": "2"} for k in (1, 2)],
    "nps_responses": [{"customer_id": f"C{k}", "responded_at": "2024-01-31", "score": "9", "comment": "fine"} for k in (1, 2)],
    "tickets": [{"ticket_id": f"T{k}", "customer_id": f"C{k}", "opened_at": "2024-01-31T10:00:00Z", "priority": "high", "csat": "4"} for k in (1, 2)],
    "referrals": [{"referral_id": f"R{k}", "referrer_customer_id": f"C{k}", "referred_at": "2024-01-31", "referred_lead_id": f"L{k}"} for k in (1, 2)],
    "invoices": [{"invoice_id": f"I{k}", "customer_id": f"C{k}", "issued_at": "2024-01-01", "due_date": "2024-01-31", "amount": "100", "status": "open"} for k in (1, 2)],
    "touches": [{"customer_id": f"C{k}", "sent_at": "2024-01-31T10:00:00Z", "channel": "email", "campaign": "spring"} for k in (1, 2)],
}
STORED_TIME = {"date": "2024-01-31", "datetime": "2024-01-31T10:00:00"}  # what the time column holds after import
BAD_NUMBER = {ColumnKind.MONEY: "twelve", ColumnKind.NUMBER: "twelve", ColumnKind.INTEGER: "many"}
NUMBER_WHY = {ColumnKind.MONEY: "not an amount", ColumnKind.NUMBER: "not a number", ColumnKind.INTEGER: "not a whole number"}

Writer = Callable[[Path], None]


def _delimited(rows: list[dict[str, str]], delimiter: str = ",", headers: list[str] | None = None,
               extra: list[list[str]] | None = None) -> bytes:
    headers = headers or list(rows[0])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    for row in extra or []:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def _json(rows: list[dict[str, object]]) -> bytes:
    return json.dumps(rows).encode("utf-8")


def _jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")


def _parquet(rows: list[dict[str, str]]) -> Writer:
    def write(path: Path) -> None:
        pq.write_table(pa.table({h: [r[h] for r in rows] for h in rows[0]}), path)
    return write


def _gzip(data: bytes) -> Writer:
    def write(path: Path) -> None:
        path.write_bytes(gzip.compress(data))
    return write


def _truncated_gzip(data: bytes) -> Writer:
    def write(path: Path) -> None:
        compressed = gzip.compress(data)
        path.write_bytes(compressed[: len(compressed) // 2])
    return write


def _raw_json(text: str) -> bytes:
    return text.encode("utf-8")


def _first_required(table: str) -> str:
    """The first required column other than the key (present in every table's rows above)."""
    spec = TABLES[table]
    return next(c.name for c in spec.columns if c.required and c.name != spec.primary_key)


def _column_of_kind(table: str, kinds: tuple[ColumnKind, ...]) -> str | None:
    return next((c for c in ROWS[table][0] if TABLES[table].column(c).kind in kinds), None)


def _with(rows: list[dict[str, str]], index: int, **changes: str) -> list[dict[str, str]]:
    out = [dict(r) for r in rows]
    out[index].update(changes)
    return out


def table_cases(table: str) -> list[Case]:
    """Every generated case for ``table`` (ids prefixed with the table name)."""
    spec = TABLES[table]
    rows = ROWS[table]
    time = spec.time_column
    assert time is not None
    stored = STORED_TIME[spec.column(time).kind.value]
    # rows of this case only (the corpus test seeds the database with an older customer)
    count = expect(f"SELECT count(*), min({time}), max({time}) FROM {table} WHERE {time} >= '2024'", [(2, stored, stored)])
    required = _first_required(table)
    cases = [
        Case(f"{table}-valid-csv", table, "t.csv", _delimited(rows), check=count),
        Case(f"{table}-valid-tsv", table, "t.tsv", _delimited(rows, "\t"), check=count),
        Case(f"{table}-valid-json", table, "t.json", _json(rows), check=count),  # type: ignore[arg-type]
        Case(f"{table}-valid-jsonl", table, "t.jsonl", _jsonl(rows), check=count),  # type: ignore[arg-type]
        Case(f"{table}-valid-parquet", table, "t.parquet", _parquet(rows), check=count),
        Case(f"{table}-valid-csv-gz", table, "t.csv.gz", _gzip(_delimited(rows)), check=count),
        Case(f"{table}-required-value-missing", table, "missing.csv", _delimited(_with(rows, 1, **{required: ""})),
             error=ImportValidationError, line=3, column=required, reason="a value is required"),
        Case(f"{table}-time-unparseable", table, "time.jsonl", _jsonl(_with(rows, 1, **{time: "someday"})),  # type: ignore[arg-type]
             error=ImportValidationError, line=2, column=time, reason="not a recognised date"),
        Case(f"{table}-time-out-of-range", table, "far.json", _json(_with(rows, 1, **{time: "9999-12-31"})),  # type: ignore[arg-type]
             error=ImportValidationError, line=2, column=time, reason="outside the supported years 1900-2999"),
        Case(f"{table}-year-zero", table, "zero.csv", _delimited(_with(rows, 0, **{time: "0000-01-01"})),
             error=ImportValidationError, line=2, column=time, reason="outside the supported years 1900-2999"),
        Case(f"{table}-required-column-missing", table, "nocol.tsv",
             _delimited(rows, "\t", headers=[h for h in rows[0] if h != required]),
             error=MappingError, reason=f"nocol.tsv: the file lacks required column(s) for table '{table}': {required}"),
        Case(f"{table}-ragged-row", table, "ragged.csv", _delimited(rows, extra=[[*rows[1].values(), "surplus"]]),
             error=ImportValidationError, line=4, reason=f"expected {len(rows[0])} fields as in the header, found {len(rows[0]) + 1}"),
        Case(f"{table}-infinity-token", table, "inf.jsonl",
             _jsonl([rows[0]]) + _raw_json(json.dumps(rows[1])[:-1] + ', "level": Infinity}\n'),  # type: ignore[list-item]
             error=ImportFileError, line=2, reason="holds Infinity, which no column can store"),
        Case(f"{table}-nested-too-deep", table, "deep.json",
             _raw_json(json.dumps(rows)[:-2] + ', "props": ' + "[" * 40 + "]" * 40 + "}]"),
             error=ImportLimitError, reason="nested more than 32 levels deep", line=2),
        Case(f"{table}-two-headers-one-column", table, "dup.csv",
             _delimited([{**r, time.replace("_", " ").title(): r[time]} for r in rows]),
             error=MappingError, reason=f"both match {table}.{time}"),
        Case(f"{table}-truncated-gzip", table, "cut.csv.gz", _truncated_gzip(_delimited(rows * 400)),
             error=ImportFileError, reason="is not a valid gzip file"),
        Case(f"{table}-nan-token-is-missing", table, "nan.json",
             _raw_json(json.dumps(rows)[:-2] + ', "level": NaN}]'),
             check=expect(f"SELECT count(*), count(x_level) FROM {table} WHERE {time} >= '2024'", [(2, 0)])),
    ]
    number = _column_of_kind(table, (ColumnKind.MONEY, ColumnKind.NUMBER, ColumnKind.INTEGER))
    if number is not None:
        kind = spec.column(number).kind
        cases.append(Case(f"{table}-bad-number-parquet", table, "num.parquet", _parquet(_with(rows, 1, **{number: BAD_NUMBER[kind]})),
                          error=ImportValidationError, line=2, column=number, reason=NUMBER_WHY[kind]))
    category = _column_of_kind(table, (ColumnKind.CATEGORY,))
    if category is not None:
        cases.append(Case(f"{table}-category-outside", table, "cat.tsv", _delimited(_with(rows, 0, **{category: "bogus"}), "\t"),
                          error=ImportValidationError, line=2, column=category, reason="allowed: "))
    return cases


GENERATED: list[Case] = [case for table in TABLES for case in table_cases(table)]
