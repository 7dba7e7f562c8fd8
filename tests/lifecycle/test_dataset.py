"""``Dataset.table``: reading only some columns keeps the rows, their order and the as_of cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.errors import QueryError
from tests.builders import make_dataset


def test_a_table_read_with_chosen_columns_has_the_same_rows_in_the_same_order(tmp_path: Path) -> None:
    events = [{"event_id": f"E{i:02d}", "customer_id": f"C{i % 3}", "occurred_at": f"2024-01-{1 + i % 28:02d}T10:00:00",
               "event_name": ("login", "report_created")[i % 2], "quantity": float(i)} for i in range(40, 0, -1)]
    customers = [{"customer_id": f"C{i}", "signup_date": "2024-01-01"} for i in range(3)]
    dataset = make_dataset(tmp_path, {"customers": customers, "events": events}, "2024-01-20")
    columns = ("customer_id", "occurred_at", "event_name")
    narrow, full = dataset.table("events", columns=columns), dataset.table("events")
    # 40 events on days 1..28 (i % 28 + 1); those after 2024-01-20 are not known on as_of
    assert len(full) == sum(1 for e in events if e["occurred_at"] < "2024-01-21")
    assert list(narrow.columns) == list(columns)
    assert narrow.reset_index(drop=True).equals(full[list(columns)].reset_index(drop=True))


def test_an_unknown_column_is_a_query_error(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path, {"customers": [{"customer_id": "C1", "signup_date": "2024-01-01"}]}, "2024-01-20")
    with pytest.raises(QueryError, match="unknown column"):
        dataset.table("customers", columns=("password",))
