"""Advocacy metrics on hand-computed fixtures."""

from __future__ import annotations

from pathlib import Path

from lifecycle.registry import compute_metric
from lifecycle.results import Status
from tests.builders import customers, make_dataset


def test_nps_counts_each_customers_latest_response_in_the_window(tmp_path: Path) -> None:
    """Latest in-window scores: a=10 (its earlier 3 is superseded), b=9, c=7, d=2; e answered after the window.

    promoters = 2 (a, b), detractors = 1 (d), respondents = 4 → NPS = (2 − 1) / 4 × 100 = 25, below 30–50+.
    """
    ds = make_dataset(tmp_path, {
        "customers": customers(("a", "2024-01-01"), ("b", "2024-01-01"), ("c", "2024-01-01"), ("d", "2024-01-01"), ("e", "2024-01-01")),
        "nps_responses": [
            {"response_id": "1", "customer_id": "a", "responded_at": "2024-02-01", "score": 3},
            {"response_id": "2", "customer_id": "a", "responded_at": "2024-03-01", "score": 10},
            {"response_id": "3", "customer_id": "b", "responded_at": "2024-03-01", "score": 9},
            {"response_id": "4", "customer_id": "c", "responded_at": "2024-03-01", "score": 7},
            {"response_id": "5", "customer_id": "d", "responded_at": "2024-03-01", "score": 2},
            {"response_id": "6", "customer_id": "e", "responded_at": "2024-07-01", "score": 0},
        ],
    }, as_of="2024-06-30")
    result = compute_metric(ds, "nps")
    assert (result.numerator, result.denominator, result.value) == (1.0, 4.0, 25.0)
    assert result.status is Status.BELOW


def test_nps_without_responses_is_null_with_a_reason_not_zero(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    result = compute_metric(ds, "nps")
    assert result.value is None and "nps_responses" in (result.reason or "")
