"""Advocacy metrics (NPS, promoter/detractor shares, referral rate and conversion, advocacy generation) on hand-computed fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.filters import Filters
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.results import Status
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_dataset, quick_store


def test_nps_counts_each_customers_latest_response_in_the_window(tmp_path: Path) -> None:
    """Latest in-window scores: a=10 (its earlier 3 is superseded), b=9, c=7, d=2; e answered after the window.

    promoters = 2 (a, b), detractors = 1 (d), respondents = 4 → NPS = (2 − 1) / 4 × 100 = 25, below 30–50+.
    """
    ds = quick_dataset(tmp_path, {
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
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    result = compute_metric(ds, "nps")
    assert result.value is None and "nps_responses" in (result.reason or "")


# --- referrals and advocacy -------------------------------------------------------------------------------------
# Window 2024-01-01..2024-06-30, as_of 2024-06-30. Paying in the window (active): a b c d n1; e stopped in 2023.
# Referrals: r1 a 02-01 → n1 (signed up 03-01); r2 a 04-01 → nobody; r3 b 05-01 → n2 (signs up 08-01, after as_of);
# r4 e 03-01 → nobody (e not active); r5 c 2023-12-01 (before the window).
# Latest NPS in the window: a 10, b 9 (after a 6), c 10, d 3, n1 8.
WINDOW = ("2024-01-01", "2024-06-30")
ADVOCACY_TABLES = {
    "customers": [{"customer_id": cid, "signup_date": day, "segment": seg} for cid, day, seg in (
        ("a", "2023-01-01", "SMB"), ("b", "2023-06-01", "ENT"), ("c", "2024-03-01", "SMB"), ("d", "2023-01-01", "ENT"),
        ("e", "2023-01-01", "ENT"), ("n1", "2024-03-01", "ENT"), ("n2", "2024-08-01", "ENT"))],
    "subscriptions": [{"subscription_id": f"s-{cid}", "customer_id": cid, "start_date": start, "end_date": end, "mrr": 10.0}
                      for cid, start, end in (("a", "2023-01-01", None), ("b", "2023-06-01", None), ("c", "2024-03-01", None),
                                              ("d", "2023-01-01", "2024-02-01"), ("e", "2023-01-01", "2023-11-01"),
                                              ("n1", "2024-03-01", None), ("n2", "2024-08-01", None))],
    "referrals": [{"referral_id": rid, "referrer_customer_id": who, "referred_at": day, "referred_customer_id": to}
                  for rid, who, day, to in (("r1", "a", "2024-02-01", "n1"), ("r2", "a", "2024-04-01", None),
                                            ("r3", "b", "2024-05-01", "n2"), ("r4", "e", "2024-03-01", None),
                                            ("r5", "c", "2023-12-01", None))],
    "nps_responses": [{"response_id": rid, "customer_id": cid, "responded_at": day, "score": score}
                      for rid, cid, day, score in (("p1", "a", "2024-03-01", 10), ("p2", "b", "2024-02-01", 6),
                                                   ("p3", "b", "2024-05-01", 9), ("p4", "c", "2024-04-01", 10),
                                                   ("p5", "d", "2024-01-15", 3), ("p6", "n1", "2024-04-01", 8))],
}


@pytest.fixture(scope="module")
def advocacy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("advocacy") / "advocacy.db", ADVOCACY_TABLES)


def test_referral_rate_is_active_customers_who_referred_over_active_customers(advocacy_store: Path) -> None:
    """Active: a b c d n1 (5). Referred in the window: a, b, e — e is not active → 2/5 = 0.4, above the 10–30% band."""
    result = compute_metric(open_at(advocacy_store, "2024-06-30", WINDOW), "referral_rate")
    assert (result.numerator, result.denominator) == (2.0, 5.0)
    assert result.status is Status.ABOVE
    assert "paying subscribers" in (result.reason or "")


def test_referral_conversion_counts_referred_customers_signed_up_by_as_of(advocacy_store: Path) -> None:
    """Referrals in the window: r1 r2 r3 r4 (4). Converted: r1 (n1 signed up 03-01); r3's n2 signs up after as_of → 1/4."""
    result = compute_metric(open_at(advocacy_store, "2024-06-30", WINDOW), "referral_conversion_rate")
    assert (result.numerator, result.denominator) == (1.0, 4.0)
    assert "1 referral(s) name a customer not signed up" in (result.reason or "")


def test_referral_conversion_once_as_of_passes_the_referred_signup(advocacy_store: Path) -> None:
    """as_of 2024-08-31, same window: n2 has signed up → r1 and r3 of 4 → 2/4."""
    result = compute_metric(open_at(advocacy_store, "2024-08-31", WINDOW), "referral_conversion_rate")
    assert (result.numerator, result.denominator) == (2.0, 4.0)


def test_referral_metrics_filter_referrers_but_not_the_customers_they_brought(advocacy_store: Path) -> None:
    """SMB = a, c. Active: a c; referred: a → 1/2. Referrals by SMB referrers in the window: r1 r2; r1's n1 (ENT)
    still counts as converted → 1/2."""
    ds = open_at(advocacy_store, "2024-06-30", WINDOW, filters=Filters(segment=("SMB",)))
    rate = compute_metric(ds, "referral_rate")
    conversion = compute_metric(ds, "referral_conversion_rate")
    assert (rate.numerator, rate.denominator) == (1.0, 2.0)
    assert (conversion.numerator, conversion.denominator) == (1.0, 2.0)


def test_advocacy_generation_counts_active_promoters_who_referred(advocacy_store: Path) -> None:
    """Promoters (latest 9–10): a b c; referred: a b (e) → advocates a b of 5 active = 0.4."""
    result = compute_metric(open_at(advocacy_store, "2024-06-30", WINDOW), "advocacy_generation_rate")
    assert (result.numerator, result.denominator) == (2.0, 5.0)


@pytest.mark.parametrize(("metric_id", "numerator"), [
    pytest.param("nps_promoter_share", 3, id="promoters-a-b-c"),
    pytest.param("nps_detractor_share", 1, id="detractor-d"),
])
def test_nps_shares_use_each_customers_latest_score(advocacy_store: Path, metric_id: str, numerator: int) -> None:
    """Latest scores: a 10, b 9, c 10, d 3, n1 8 → promoters 3/5, detractors 1/5 (b's earlier 6 is superseded)."""
    result = compute_metric(open_at(advocacy_store, "2024-06-30", WINDOW), metric_id)
    assert (result.numerator, result.denominator) == (numerator, 5.0)


def test_referral_rate_without_active_customers_is_none(advocacy_store: Path) -> None:
    result = compute_metric(open_at(advocacy_store, "2024-06-30", ("2020-01-01", "2020-12-31")), "referral_rate")
    assert result.value is None and "no customers active" in (result.reason or "")


def test_referral_metrics_without_a_referrals_table_are_none(tmp_path: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    assert compute_metric(ds, "referral_rate").value is None


# --- each customer's latest score, picked in the database -----------------------------------------------------------
# Window 2024-01-01..2024-06-30, as_of 2024-06-30; times as the importer writes them (YYYY-MM-DDTHH:MM:SS, UTC).
# a: two answers at the same latest time → the greater response id ("r9", 10) wins over "r1" (2);
# b: "z1" (9) in February, "a1" (3) in May → the later time wins though its id is smaller: 3;
# c: "c1" (10) a second before the window, "c2" (7) at its first instant → 7;
# d: "d1" (0) at the window's last second, "d2" (10) the day after as_of → 0;
# e: answered before the window only → no score.
LATEST_TABLES = {
    "customers": [{"customer_id": cid, "signup_date": "2023-01-01", "segment": seg}
                  for cid, seg in (("a", "SMB"), ("b", "ENT"), ("c", "SMB"), ("d", "ENT"), ("e", "SMB"))],
    "nps_responses": [{"response_id": rid, "customer_id": cid, "responded_at": at, "score": score}
                      for rid, cid, at, score in (("r1", "a", "2024-03-01T10:00:00", 2), ("r9", "a", "2024-03-01T10:00:00", 10),
                                                  ("z1", "b", "2024-02-01T08:00:00", 9), ("a1", "b", "2024-05-01T08:00:00", 3),
                                                  ("c1", "c", "2023-12-31T23:59:59", 10), ("c2", "c", "2024-01-01T00:00:00", 7),
                                                  ("d1", "d", "2024-06-30T23:59:59", 0), ("d2", "d", "2024-07-01T00:00:00", 10),
                                                  ("e1", "e", "2023-12-31T12:00:00", 9))],
}


def test_latest_scores_break_ties_at_the_latest_time_by_the_greatest_response_id(tmp_path: Path) -> None:
    """Hand-picked latest scores (table above): a 10, b 3, c 7, d 0; e none. NPS: promoters {a}, detractors {b, d} of 4
    respondents → (1 − 2) / 4 × 100 = −25. The same answer again from the Parquet copy kept between processes (the
    process memo emptied), and for a filtered scope (segment SMB: a 10, c 7 → (1 − 0) / 2 × 100 = 50)."""
    from lifecycle.memo import MEMO
    from lifecycle.metrics.advocacy import latest_nps_scores

    store = quick_store(tmp_path / "latest.db", LATEST_TABLES)
    expected = {"a": 10, "b": 3, "c": 7, "d": 0}
    for _ in range(2):
        ds = open_at(store, "2024-06-30", WINDOW)
        assert latest_nps_scores(ds).to_dict() == expected
        assert compute_metric(ds, "nps").value == -25.0
        MEMO.clear()
    smb = open_at(store, "2024-06-30", WINDOW, Filters(segment=("SMB",)))
    assert latest_nps_scores(smb).to_dict() == {"a": 10, "c": 7}
    assert compute_metric(smb, "nps").value == 50.0
