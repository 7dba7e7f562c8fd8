"""A one-million-row event export imports completely, with exact counts and values at both ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from lifecycle.importing import import_file


@pytest.mark.slow
def test_one_million_event_rows(tmp_path: Path) -> None:
    """Row i: customer C(i mod 1000), second i after 2024-01-01T00:00:00Z, event 'login', quantity 1 + i mod 3."""
    n = 1_000_000
    i = np.arange(n)
    start = np.datetime64("2024-01-01T00:00:00", "s")
    stamps = np.char.add(np.datetime_as_string(start + i.astype("timedelta64[s]"), unit="s"), "Z")
    customers = np.char.add("C", (i % 1000).astype(str))
    quantity = (1 + i % 3).astype(str)
    lines = np.char.add(np.char.add(np.char.add(np.char.add(customers, ","), stamps), ",login,"), quantity)
    source = tmp_path / "events.csv"
    source.write_text("customer_id,occurred_at,event_name,quantity\n" + "\n".join(lines.tolist()) + "\n", encoding="utf-8")
    report = import_file("events", source, tmp_path / "x.db")
    assert (report.rows_read, report.inserted, report.rejected) == (n, n, 0)
    conn = sqlite3.connect(tmp_path / "x.db")
    assert conn.execute("SELECT count(*), min(occurred_at), max(occurred_at), sum(quantity) FROM events").fetchone() == (
        n, "2024-01-01T00:00:00", "2024-01-12T13:46:39", 1_999_999.0)


def test_line_numbers_stay_exact_deep_into_a_large_file(tmp_path: Path) -> None:
    """A bad value on physical line 50,002 (row 50,001 after the header) is reported there."""
    rows = [f"C{i},2024-01-01T00:00:00Z,login" for i in range(50_000)] + ["C-bad,yesterday,login"]
    source = tmp_path / "events.csv"
    source.write_text("customer_id,occurred_at,event_name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    from lifecycle.errors import ImportValidationError

    with pytest.raises(ImportValidationError) as info:
        import_file("events", source, tmp_path / "x.db")
    assert [(e.line, e.column) for e in info.value.errors] == [(50_002, "occurred_at")]
