"""Renewal terms, payment failures and expansion in the snapshot, against hand-computed values (as_of 2024-06-30).

Calendar facts used below: 2024 is a leap year; 2024-06-30 → 2024-07-31 is 31 days, → 2025-03-15 is 258 days
(31 + 31 + 30 + 31 + 30 + 31 + 31 + 28 + 15), → 2025-07-10 is 375 days (365 + 10).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.snapshot import build_snapshot
from lifecycle.snapshot.renewals import next_renewal
from tests.builders import make_dataset

AS_OF = "2024-06-30"


def _sub(sid: str, cid: str, start: str, **extra: Any) -> dict[str, Any]:
    return {"subscription_id": sid, "customer_id": cid, "start_date": start, "mrr": 50.0, **extra}


def _tables() -> dict[str, list[dict[str, Any]]]:
    ids = ("m", "y", "t", "w", "n", "x", "p", "e")
    return {
        "customers": [{"customer_id": c, "signup_date": "2022-01-01"} for c in ids],
        "subscriptions": [
            _sub("s-m", "m", "2024-01-31", term_months=1),                      # monthly from Jan 31: next Jul 31
            _sub("s-y", "y", "2022-03-15", term_months=12, current_period_end="2026-03-15"),  # export's period end, later
            _sub("s-t", "t", "2023-07-10", term_months=24, cancel_at_period_end=1),        # two-year, auto-renew off
            _sub("s-w", "w", "2024-06-01", term_months=12 / 52),                # weekly: every 7 days from Jun 1
            _sub("s-n", "n", "2024-01-01", current_period_end="2024-07-20"),     # no term, a period end ahead
            _sub("s-x1", "x", "2024-01-31", term_months=1, cancel_at_period_end=0),
            _sub("s-x2", "x", "2022-03-15", term_months=12, cancel_at_period_end=0),
            {**_sub("s-p", "p", "2024-06-25", trial_end="2024-07-09"), "mrr": 0.0},    # a trial, not paying yet
            _sub("s-e", "e", "2023-01-01", term_months=12, end_date="2024-05-01"),  # ended before as_of
        ],
    }


@pytest.fixture()
def snapshot(tmp_path: Path) -> pd.DataFrame:
    return build_snapshot(make_dataset(tmp_path, _tables(), as_of=AS_OF)).set_index("customer_id")


def _value(cell: object) -> object:
    return None if cell is pd.NA or (isinstance(cell, float) and math.isnan(cell)) else cell


def test_days_to_renewal_counts_to_the_first_renewal_after_as_of(snapshot: pd.DataFrame) -> None:
    """m: Jan 31 + 6 months = Jul 31 (Jun 30 itself is not after as_of) → 31; y: the exported period end 2026-03-15
    rolled back by whole years → 2025-03-15, 258; t: 2023-07-10 + 24 months → 375; w: Jun 1 + 5 × 7 days = Jul 6 → 6;
    n: no term, its period end Jul 20 → 20; x: the nearer of its monthly (31) and annual (258) renewals → 31."""
    got = {c: _value(snapshot.at[c, "days_to_renewal"]) for c in ("m", "y", "t", "w", "n", "x", "p", "e")}
    assert got == {"m": 31.0, "y": 258.0, "t": 375.0, "w": 6.0, "n": 20.0, "x": 31.0, "p": None, "e": None}


def test_term_is_the_longest_commitment_of_the_active_paying_subscriptions(snapshot: pd.DataFrame) -> None:
    got = {c: _value(snapshot.at[c, "term_months"]) for c in ("m", "y", "t", "n", "x", "p", "e")}
    assert got == {"m": 1.0, "y": 12.0, "t": 24.0, "n": None, "x": 12.0, "p": None, "e": None}
    assert math.isclose(snapshot.at["w", "term_months"], 12 / 52)


def test_auto_renew_off_and_trials_are_read_where_recorded(snapshot: pd.DataFrame) -> None:
    """Only t turned auto-renew off; x recorded it as on; the others never recorded the flag (unknown, not off).
    p's trial ends after as_of; the table records trial ends, so everyone else is known not to be in a trial."""
    assert {c: _value(snapshot.at[c, "cancel_at_period_end"]) for c in ("t", "x", "m")} == {"t": True, "x": False, "m": None}
    assert snapshot["in_trial"].to_dict() == {c: c == "p" for c in snapshot.index}


def test_without_renewal_data_the_columns_are_missing_not_zero(tmp_path: Path) -> None:
    tables = {"customers": [{"customer_id": "a", "signup_date": "2024-01-01"}],
              "subscriptions": [_sub("s", "a", "2024-01-01")]}
    row = build_snapshot(make_dataset(tmp_path, tables, as_of=AS_OF)).iloc[0]
    assert all(pd.isna(row[c]) for c in ("term_months", "days_to_renewal", "cancel_at_period_end", "in_trial"))


def test_next_renewal_steps_whole_months_from_the_anchor_not_from_the_previous_renewal() -> None:
    """From Jan 31 by one month: Feb 29, Mar 31, Apr 30 … each clamped from the anchor (never drifting to the 29th)."""
    anchor = np.array(["2024-01-31"] * 3, dtype="datetime64[D]")
    as_of = [np.datetime64("2024-02-29"), np.datetime64("2024-03-30"), np.datetime64("2023-12-31")]
    got = [str(next_renewal(anchor[:1], np.array([1.0]), day)[0]) for day in as_of]
    assert got == ["2024-03-31", "2024-03-31", "2024-01-31"]


def _invoice(iid: str, cid: str, due: str, **extra: Any) -> dict[str, Any]:
    return {"invoice_id": iid, "customer_id": cid, "issued_at": due, "due_date": due, "amount": 10.0, **extra}


def test_payment_failures_count_invoices_due_in_90_days_with_a_failed_status_or_a_failed_attempt(tmp_path: Path) -> None:
    """y: paid on the 2nd attempt (1 failed) → 1; m: 'Past Due' (a failed status, any spelling) → 1, its 'failed'
    invoice of February is older than 90 days; x: paid on the first attempt → 0; k: no invoice, in a table that
    records failures → 0; o: attempted once, unpaid on as_of (paid on Jul 3, after it) → 1."""
    tables = {
        "customers": [{"customer_id": c, "signup_date": "2024-01-01"} for c in ("y", "m", "x", "k", "o")],
        "invoices": [
            _invoice("i1", "y", "2024-06-01", paid_at="2024-06-05", attempt_count=2, status="paid"),
            _invoice("i2", "m", "2024-06-10", status="Past Due"),
            _invoice("i3", "m", "2024-02-01", status="failed"),
            _invoice("i4", "x", "2024-06-01", paid_at="2024-06-01", attempt_count=1, status="paid"),
            _invoice("i5", "o", "2024-06-20", paid_at="2024-07-03", attempt_count=1, status="paid"),
        ],
    }
    snap = build_snapshot(make_dataset(tmp_path, tables, as_of=AS_OF)).set_index("customer_id")
    assert snap["payment_failures_90d"].to_dict() == {"k": 0.0, "m": 1.0, "o": 1.0, "x": 0.0, "y": 1.0}


def test_payment_failures_are_unknown_when_invoices_cannot_record_a_failure(tmp_path: Path) -> None:
    """Statuses paid/open and no attempt counts: the source never says a payment failed, so 0 would be a guess."""
    tables = {"customers": [{"customer_id": "a", "signup_date": "2024-01-01"}],
              "invoices": [_invoice("i1", "a", "2024-06-01", status="open"), _invoice("i2", "a", "2024-05-01", status="paid")]}
    snap = build_snapshot(make_dataset(tmp_path, tables, as_of=AS_OF))
    assert snap["payment_failures_90d"].isna().all()


def test_customers_not_paying_at_the_start_of_the_growth_window_have_no_expansion(tmp_path: Path) -> None:
    """a paid 100 on 2024-04-01 and 150 now → +50 %; b started paying on 2024-05-01 (new, not expanding) → unknown;
    c went from 100 to 80 → −20 %. Seats alike: a 5 → 8 (+60 %), b none 90 days ago → unknown."""
    tables = {
        "customers": [{"customer_id": c, "signup_date": "2024-01-01"} for c in ("a", "b", "c")],
        "subscriptions": [
            {**_sub("s1", "a", "2024-01-01", seats=5), "mrr": 100.0},
            {**_sub("s2", "a", "2024-05-01", seats=3), "mrr": 50.0},
            {**_sub("s3", "b", "2024-05-01", seats=2), "mrr": 90.0},
            {**_sub("s4", "c", "2024-01-01", end_date="2024-05-01", seats=4), "mrr": 100.0},
            {**_sub("s5", "c", "2024-05-01", seats=4), "mrr": 80.0},
        ],
    }
    snap = build_snapshot(make_dataset(tmp_path, tables, as_of=AS_OF)).set_index("customer_id")
    assert snap["mrr_change_90d"].to_dict() == {"a": 50.0, "b": 90.0, "c": -20.0}  # the bridge's change is unchanged
    growth = snap["mrr_growth_90d"].to_dict()
    assert math.isclose(growth["a"], 0.5) and math.isnan(growth["b"]) and math.isclose(growth["c"], -0.2)
    seats = snap["seats_growth_90d"].to_dict()
    assert math.isclose(seats["a"], 0.6) and math.isnan(seats["b"]) and seats["c"] == 0.0


def test_duckdb_reads_renewals_and_payment_failures_like_sqlite(tmp_path: Path) -> None:
    """The seam's promise on the schema-3 columns: DuckDB reading the same file gives the same renewal section,
    payment failures and growth, column for column (the hand-computed values above are SQLite's)."""
    from datetime import date

    from lifecycle.dataset import Dataset
    from lifecycle.scope import Scope
    from lifecycle.sources import DuckDBSource, SqliteSource
    from tests.builders import make_store

    tables = _tables()
    tables["invoices"] = [_invoice("i1", "y", "2024-06-01", paid_at="2024-06-05", attempt_count=2, status="paid"),
                          _invoice("i2", "m", "2024-06-10", status="Past Due")]
    path = make_store(tmp_path / "fixture.db", tables)
    scope = Scope.at(date.fromisoformat(AS_OF))
    sqlite, duck = SqliteSource(path).connect(), DuckDBSource(path).connect()
    try:
        on_sqlite, on_duck = build_snapshot(Dataset(sqlite, scope)), build_snapshot(Dataset(duck, scope))
    finally:
        sqlite.close()
        duck.close()
    columns = ["customer_id", "term_months", "days_to_renewal", "cancel_at_period_end", "in_trial",
               "payment_failures_90d", "mrr_growth_90d", "seats_growth_90d"]
    pd.testing.assert_frame_equal(on_sqlite[columns], on_duck[columns], check_dtype=False)
    assert on_sqlite.set_index("customer_id").at["t", "cancel_at_period_end"] == True  # noqa: E712
