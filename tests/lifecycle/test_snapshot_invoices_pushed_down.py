"""The snapshot's invoice counts run as one aggregate in the database (``lifecycle.snapshot.sql.invoice_frame``) and
give what reading the invoices into pandas gives (the fallback for free-text statuses), on SQLite and DuckDB.

Hand-computed at as_of 2024-06-30 (90 days: due 2024-04-02 .. 2024-06-30):
- a: i1 due 06-01 paid 06-10 (late), i2 due 06-15 unpaid (late, overdue), i3 'VOID ' ignored, i4 due 03-01 unpaid
  (overdue, not recent), i5 due 07-15 (after as_of: not read) → due 2, late 2, overdue 2, on time 0.0;
- b: i6 'Past - Due' due 06-20 paid 07-05 (after as_of: unknown, so unpaid → late, overdue, failed status),
  i7 due 05-01 paid 05-01 on the 3rd attempt (2 failed) → due 2, late 1, overdue 1, failures 2;
- c: only a void invoice → 0 everywhere, on-time rate unknown; d: no invoice → 0.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.snapshot import build_snapshot, sql
from lifecycle.sources import open_source
from tests.builders import make_dataset, make_store

AS_OF = "2024-06-30"
COLUMNS = ["invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "payment_failures_90d", "on_time_payment_rate"]


def _invoice(iid: str, cid: str, due: str, **extra: Any) -> dict[str, Any]:
    return {"invoice_id": iid, "customer_id": cid, "issued_at": due, "due_date": due, "amount": 10.0, **extra}


TABLES = {
    "customers": [{"customer_id": c, "signup_date": "2024-01-01"} for c in ("a", "b", "c", "d")],
    "invoices": [
        _invoice("i1", "a", "2024-06-01", paid_at="2024-06-10", status="paid"),
        _invoice("i2", "a", "2024-06-15", status="open"),
        _invoice("i3", "a", "2024-06-16", status="VOID "),
        _invoice("i4", "a", "2024-03-01"),
        _invoice("i5", "a", "2024-07-15", status="open"),
        _invoice("i6", "b", "2024-06-20", paid_at="2024-07-05", status="Past - Due"),
        _invoice("i7", "b", "2024-05-01", paid_at="2024-05-01", attempt_count=3, status="paid"),
        _invoice("i8", "c", "2024-06-01", status="void"),
    ],
}
EXPECTED = {
    "a": [2.0, 2.0, 2.0, 0.0, 0.0],
    "b": [2.0, 1.0, 1.0, 2.0, 0.5],
    "c": [0.0, 0.0, 0.0, 0.0, math.nan],
    "d": [0.0, 0.0, 0.0, 0.0, math.nan],
}


@pytest.mark.parametrize(("engine", "pushed_down"), [("sqlite", True), ("duckdb", True), ("sqlite", False)],
                         ids=["one SQLite aggregate", "one DuckDB aggregate", "pandas fallback"])
def test_invoice_counts_match_the_hand_computed_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str,
                                                       pushed_down: bool) -> None:
    if not pushed_down:
        monkeypatch.setattr(sql, "MAX_INVOICE_STATUSES", 0)
    source = open_source(make_store(tmp_path / "store.db", TABLES), engine=engine)
    got = build_snapshot(Dataset.open(source, date.fromisoformat(AS_OF))).set_index("customer_id")[COLUMNS]
    expected = pd.DataFrame.from_dict(EXPECTED, orient="index", columns=COLUMNS).rename_axis("customer_id")
    pd.testing.assert_frame_equal(got.sort_index(), expected, check_dtype=False, check_index_type=False)


def test_failures_stay_unknown_when_no_invoice_can_record_one_in_either_path(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tables = {"customers": TABLES["customers"],
              "invoices": [_invoice("i1", "a", "2024-06-01", status="paid"), _invoice("i2", "b", "2024-06-01", status="open")]}
    dataset = make_dataset(tmp_path, tables, as_of=AS_OF)
    assert build_snapshot(dataset)["payment_failures_90d"].isna().all()
    monkeypatch.setattr(sql, "MAX_INVOICE_STATUSES", 0)
    assert build_snapshot(dataset)["payment_failures_90d"].isna().all()
