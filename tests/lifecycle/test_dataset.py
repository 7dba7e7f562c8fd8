"""``Dataset.table``: reading only some columns keeps the rows, their order and the as_of cut."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
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


def test_an_earlier_day_derived_in_memory_reads_every_table_as_a_dataset_opened_on_that_day(tmp_path: Path) -> None:
    """``Dataset.earlier(day)`` derives the tables from the later dataset's frames instead of reading them again; every
    table, on days before, on and between the fixture's dates, equals what a dataset opened on that day reads
    (rows, order, values, dtypes). Hand-checked: invoices are known from their due day — on 2024-04-20 i5 (due 03-15,
    unpaid) and i1 (due 04-15, paid 04-10), on 2024-04-09 only i5; ticket t3 (closed 2024-04-10T10:00) is closed on
    04-12 and open on 04-09; subscription s4 (ended 2024-03-01) has ended on 04-12."""
    from lifecycle.dataset import Dataset
    from tests.lifecycle.test_snapshot import fixture_tables

    tables = fixture_tables()
    later = make_dataset(tmp_path, tables, "2024-07-31")
    for day in ("2023-05-31", "2024-01-02", "2024-03-01", "2024-04-09", "2024-04-12", "2024-04-20", "2024-06-30",
                "2024-07-31"):
        derived = later.earlier(date.fromisoformat(day))
        opened = Dataset.open(later.source, date.fromisoformat(day))  # type: ignore[arg-type]
        for name in tables:
            pd.testing.assert_frame_equal(derived.table(name, extra=True), opened.table(name, extra=True), check_exact=True)
        opened.close()
    on_20th, on_12th, on_9th = (later.earlier(date(2024, 4, d)) for d in (20, 12, 9))
    invoices = on_20th.table("invoices").set_index("invoice_id")
    assert list(invoices.index) == ["i1", "i5"] and invoices.loc["i1", "paid_at"] == pd.Timestamp("2024-04-10")
    assert pd.isna(invoices.loc["i5", "paid_at"]) and list(on_9th.table("invoices")["invoice_id"]) == ["i5"]
    assert on_12th.table("tickets").set_index("ticket_id").loc["t3", "closed_at"] == pd.Timestamp("2024-04-10T10:00:00")
    assert pd.isna(on_9th.table("tickets").set_index("ticket_id").loc["t3", "closed_at"])
    assert on_12th.table("subscriptions").set_index("subscription_id").loc["s4", "end_date"] == pd.Timestamp("2024-03-01")


def test_only_an_earlier_day_of_the_whole_base_is_derived(tmp_path: Path) -> None:
    from lifecycle.filters import Filters

    dataset = make_dataset(tmp_path, {"customers": [{"customer_id": "C1", "signup_date": "2024-01-01"}]}, "2024-01-20")
    with pytest.raises(ValueError):
        dataset.earlier(date(2024, 1, 21))
    filtered = make_dataset(tmp_path / "f", {"customers": [{"customer_id": "C1", "signup_date": "2024-01-01"}]},
                            "2024-01-20", filters=Filters(segment=("SMB",)))
    with pytest.raises(ValueError):
        filtered.earlier(date(2024, 1, 10))


@pytest.mark.parametrize("read_first", [False, True], ids=["looked-up", "whole-read-at-hand"])
def test_customers_looked_up_by_id_are_the_rows_of_the_scopes_customers(tmp_path: Path, read_first: bool) -> None:
    """``customers_among`` keeps exactly the rows ``customers()`` holds for the ids asked (by hand, as_of 2024-06-30,
    segment SMB: a and b — not c (Enterprise), not e (signed up 2024-07-05, after as_of), not "zz" (no such
    customer)), in id order, with the same values and types — by id look-up, or from the whole read when it is at hand;
    500+ ids run in several statements."""
    from lifecycle.filters import Filters
    from tests.lifecycle.test_snapshot import fixture_tables

    dataset = make_dataset(tmp_path, fixture_tables(), "2024-06-30", filters=Filters(segment=("SMB",)))
    if read_first:
        dataset.customers()
    asked = ["zz", "e", "c", "b", "a", *(f"none{i:04d}" for i in range(600))]
    found = dataset.customers_among(asked, ("customer_id", "segment", "signup_date"))
    assert list(found["customer_id"]) == ["a", "b"]
    assert list(found["segment"]) == ["SMB", "SMB"]
    assert [str(d.date()) for d in found["signup_date"]] == ["2024-01-01", "2024-06-20"]
    whole = dataset.customers()
    expected = whole[whole["customer_id"].isin(["a", "b"])][["customer_id", "segment", "signup_date"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)


@pytest.mark.parametrize("read_first", [False, True], ids=["narrow-read", "whole-read-at-hand"])
def test_chosen_customer_columns_are_those_of_the_whole_read(tmp_path: Path, read_first: bool) -> None:
    """``customer_columns`` gives ``customers()``'s chosen columns, same rows in the same order (by hand, as_of
    2024-06-30, segment SMB: a and b; e signed up after as_of) — read alone, or taken from the whole read at hand."""
    from lifecycle.filters import Filters
    from tests.lifecycle.test_snapshot import fixture_tables

    dataset = make_dataset(tmp_path, fixture_tables(), "2024-06-30", filters=Filters(segment=("SMB",)))
    if read_first:
        dataset.customers()
    found = dataset.customer_columns(("customer_id", "plan"))
    assert list(found.columns) == ["customer_id", "plan"] and list(found["customer_id"]) == ["a", "b"]
    pd.testing.assert_frame_equal(found.reset_index(drop=True),
                                  dataset.customers()[["customer_id", "plan"]].reset_index(drop=True), check_exact=True)


def test_a_table_on_an_earlier_day_is_derived_from_the_memos_later_read_as_a_fresh_read_gives_it(tmp_path: Path,
                                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A dataset with an identity that reads a table on a day before one whose read is in the process memo (a tool's
    previous period) takes the later frame's rows known on its day (``known_on``) instead of a statement: every table
    of the snapshot fixture, on days before, on and between its dates, equals what a fresh read on that day gives
    (rows, order, values, dtypes; the memo cleared in between), and the derivation ran for each (day, table)."""
    import lifecycle.dataset as dataset_module
    from lifecycle.dataset import Dataset
    from lifecycle.memo import MEMO
    from lifecycle.scope import Scope
    from lifecycle.sources import open_source
    from tests.lifecycle.test_snapshot import fixture_tables

    tables = fixture_tables()
    source = open_source(make_dataset(tmp_path, tables, "2024-07-31").source.path)  # type: ignore[union-attr]
    days = [date.fromisoformat(d) for d in ("2023-05-31", "2024-01-02", "2024-03-01", "2024-04-09", "2024-04-12",
                                            "2024-04-20", "2024-06-30")]
    derived_from_memo: list[str] = []
    original = dataset_module._known_from_later_read

    def spy(reads: tuple[object, str, str], table: str, day: date, extra: bool) -> pd.DataFrame | None:
        found = original(reads, table, day, extra)
        if found is not None:
            derived_from_memo.append(f"{table}@{day}")
        return found

    monkeypatch.setattr(dataset_module, "_known_from_later_read", spy)
    for day in days:
        MEMO.clear()
        fresh = Dataset.over(source, Scope.at(day))
        expected = {name: fresh.table(name) for name in tables}
        MEMO.clear()
        later = Dataset.over(source, Scope.at(date(2024, 7, 31)))
        for name in tables:
            later.table(name)
        earlier = Dataset.over(source, Scope.at(day))
        for name in tables:
            pd.testing.assert_frame_equal(earlier.table(name), expected[name], check_exact=True)
        for d in (fresh, later, earlier):
            d.close()
    assert sorted(derived_from_memo) == sorted(f"{name}@{day}" for day in days for name in tables)
