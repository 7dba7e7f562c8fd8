"""Purchase metrics on a hand-computed order fixture.

Window 2024-01-01..2024-06-30, as_of 2024-06-30:

| order | customer | placed     | amount | status    |
|-------|----------|------------|--------|-----------|
| o1    | a        | 2023-12-15 | 100    | completed | (before the window: a's first order)
| o2    | a        | 2024-02-01 | 50     | completed |
| o3    | b        | 2024-01-10 | 80     | completed |
| o4    | b        | 2024-03-05 | 120    | completed |
| o5    | c        | 2024-02-20 | 40     | completed |
| o6    | c        | 2024-02-25 | 40     | refunded  | (does not count)
| o7    | d        | 2024-05-05 | 60     | (none)    |
| o8    | d        | 2024-07-02 | 70     | completed | (after as_of)
| o9    | e        | 2024-06-01 | 30     | Cancelled | (does not count, any case)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.filters import Filters
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.results import Unit
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_dataset, quick_store

WINDOW = ("2024-01-01", "2024-06-30")


def order(order_id: str, customer: str, at: str, amount: float, status: str | None = "completed") -> dict[str, object]:
    return {"order_id": order_id, "customer_id": customer, "ordered_at": at + "T12:00:00", "amount": amount, "status": status}


ORDERS = [order("o1", "a", "2023-12-15", 100.0), order("o2", "a", "2024-02-01", 50.0), order("o3", "b", "2024-01-10", 80.0),
          order("o4", "b", "2024-03-05", 120.0), order("o5", "c", "2024-02-20", 40.0), order("o6", "c", "2024-02-25", 40.0, "refunded"),
          order("o7", "d", "2024-05-05", 60.0, None), order("o8", "d", "2024-07-02", 70.0), order("o9", "e", "2024-06-01", 30.0, "Cancelled")]
BUYERS = [{"customer_id": cid, "signup_date": "2023-12-01", "segment": seg}
          for cid, seg in (("a", "ENT"), ("b", "SMB"), ("c", "SMB"), ("d", "ENT"), ("e", "ENT"))]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("orders") / "orders.db", {"customers": BUYERS, "orders": ORDERS})


def test_repeat_purchase_rate_follows_first_time_buyers_of_the_window(store: Path) -> None:
    """First valid order in the window: b, c, d (a's first was 2023-12-15; e has no valid order).
    ≥ 2 valid orders by as_of: b only (c's second is refunded, d's is after as_of) → 1/3."""
    result = compute_metric(open_at(store, "2024-06-30", WINDOW), "repeat_purchase_rate")
    assert (result.numerator, result.denominator) == (1.0, 3.0)


def test_repeat_purchase_counts_a_second_order_once_as_of_reaches_it(store: Path) -> None:
    """as_of 2024-07-31 (window to 07-31): d's second order (07-02) is now known → b, d of b, c, d → 2/3."""
    result = compute_metric(open_at(store, "2024-07-31", ("2024-01-01", "2024-07-31")), "repeat_purchase_rate")
    assert (result.numerator, result.denominator) == (2.0, 3.0)


def test_purchase_frequency_is_valid_orders_per_buyer_in_the_window(store: Path) -> None:
    """Valid orders in the window: o2 o3 o4 o5 o7 = 5; buyers a b c d = 4 → 1.25 orders per buyer."""
    result = compute_metric(open_at(store, "2024-06-30", WINDOW), "purchase_frequency")
    assert (result.numerator, result.denominator, result.value) == (5.0, 4.0, 1.25)
    assert result.unit is Unit.COUNT


def test_average_order_value_excludes_refunded_and_cancelled_orders(store: Path) -> None:
    """(50 + 80 + 120 + 40 + 60) / 5 = 350 / 5 = 70."""
    result = compute_metric(open_at(store, "2024-06-30", WINDOW), "average_order_value")
    assert (result.numerator, result.denominator, result.value) == (350.0, 5.0, 70.0)


def test_segment_filter_narrows_orders_to_the_selected_buyers(store: Path) -> None:
    """SMB = b, c: valid orders in the window o3 o4 o5 = (80 + 120 + 40) / 3 = 80."""
    result = compute_metric(open_at(store, "2024-06-30", WINDOW, filters=Filters(segment=("SMB",))), "average_order_value")
    assert result.value == 80.0


@pytest.mark.parametrize("metric_id", ["repeat_purchase_rate", "purchase_frequency", "average_order_value"])
def test_no_orders_in_the_window_gives_none_with_a_reason(store: Path, metric_id: str) -> None:
    result = compute_metric(open_at(store, "2024-06-30", ("2022-01-01", "2022-12-31")), metric_id)
    assert result.value is None and result.reason


def test_order_metrics_without_an_orders_table_are_none(tmp_path: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    assert compute_metric(ds, "average_order_value").value is None
