"""The per-customer snapshot against a hand-computed fixture (as_of 2024-06-30).

Windows used throughout (as_of = 2024-06-30): 7 days = on/after 2024-06-24, 30 days = on/after 2024-06-01,
previous 30 days = 2024-05-02 .. 2024-05-31, 90 days = on/after 2024-04-02. "30/90 days ago" = 2024-05-31 and
2024-04-01. Anything dated after 2024-06-30 must be invisible (no look-ahead).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.config import ActivationConfig, EngineConfig
from lifecycle.filters import Filters
from lifecycle.snapshot import build_snapshot, load_or_build_snapshot, snapshot_cache_path
from tests.builders import make_dataset, make_store

AS_OF = "2024-06-30"


def _ev(cid: str, at: str, name: str, qty: float | None = None) -> dict[str, Any]:
    return {"event_id": f"{cid}-{at}-{name}", "customer_id": cid, "occurred_at": at, "event_name": name, "quantity": qty}


def fixture_tables() -> dict[str, list[dict[str, Any]]]:
    """a: healthy expanding account; b: 10-day-old trial; c: churned; d: reactivated; e: signs up after as_of."""
    onboarding = [_ev("a", f"2024-01-02T0{h}:00:00", "onboarding_step_completed") for h in range(1, 6)]
    return {
        "customers": [
            {"customer_id": "a", "signup_date": "2024-01-01", "segment": "SMB", "plan": "pro", "executive_sponsor": 1, "champion": "Ann"},
            {"customer_id": "b", "signup_date": "2024-06-20", "segment": "SMB", "executive_sponsor": 0},
            {"customer_id": "c", "signup_date": "2023-06-01", "segment": "Enterprise", "champion": ""},
            {"customer_id": "d", "signup_date": "2024-01-15", "segment": "Enterprise"},
            {"customer_id": "e", "signup_date": "2024-07-05", "segment": "SMB"},
        ],
        "subscriptions": [
            {"subscription_id": "s1", "customer_id": "a", "start_date": "2024-01-01", "mrr": 100.0, "seats": 5},
            {"subscription_id": "s2", "customer_id": "a", "start_date": "2024-05-01", "mrr": 50.0, "seats": 3},
            {"subscription_id": "s3", "customer_id": "b", "start_date": "2024-06-20", "mrr": 0.0, "seats": 1},
            {"subscription_id": "s4", "customer_id": "c", "start_date": "2023-06-01", "end_date": "2024-03-01", "mrr": 200.0, "seats": 10},
            {"subscription_id": "s6", "customer_id": "d", "start_date": "2024-01-15", "end_date": "2024-03-15", "mrr": 80.0},
            {"subscription_id": "s7", "customer_id": "d", "start_date": "2024-05-01", "end_date": "2024-09-01", "mrr": 90.0},
        ],
        "orders": [
            {"order_id": "o1", "customer_id": "a", "ordered_at": "2024-02-01T10:00:00", "amount": 30.0, "status": "completed"},
            {"order_id": "o2", "customer_id": "a", "ordered_at": "2024-03-01T10:00:00", "amount": 10.0, "status": "refunded"},
        ],
        "events": [
            *onboarding,
            _ev("a", "2024-01-03T10:00:00", "report_created"),
            _ev("a", "2024-05-10T09:00:00", "login"),
            _ev("a", "2024-05-20T09:00:00", "login", 3),
            _ev("a", "2024-06-10T09:00:00", "dashboard_viewed"),
            _ev("a", "2024-06-25T09:00:00", "report_created", 2),
            _ev("a", "2024-06-25T15:00:00", "integration_connected"),
            _ev("a", "2024-06-30T23:00:00", "login"),
            _ev("a", "2024-07-01T01:00:00", "login"),
            _ev("b", "2024-06-21T08:00:00", "login"),
            _ev("d", "2024-01-25T08:00:00", "report_created"),
        ],
        "nps_responses": [
            {"response_id": "n1", "customer_id": "a", "responded_at": "2024-03-01", "score": 3},
            {"response_id": "n2", "customer_id": "a", "responded_at": "2024-06-01", "score": 9},
            {"response_id": "n3", "customer_id": "a", "responded_at": "2024-07-02", "score": 0},
            {"response_id": "n4", "customer_id": "c", "responded_at": "2024-02-01", "score": 5},
            {"response_id": "n5", "customer_id": "d", "responded_at": "2024-02-01", "score": 7},
        ],
        "tickets": [
            {"ticket_id": "t1", "customer_id": "a", "opened_at": "2024-06-01T10:00:00", "priority": "high"},
            {"ticket_id": "t2", "customer_id": "a", "opened_at": "2024-05-01T10:00:00", "closed_at": "2024-05-03T10:00:00", "priority": "low", "csat": 4},
            {"ticket_id": "t3", "customer_id": "a", "opened_at": "2024-03-01T10:00:00", "closed_at": "2024-04-10T10:00:00", "priority": "normal", "csat": 2},
            {"ticket_id": "t4", "customer_id": "a", "opened_at": "2024-06-20T10:00:00", "closed_at": "2024-07-05T10:00:00", "priority": "urgent", "csat": 5},
        ],
        "invoices": [
            {"invoice_id": "i1", "customer_id": "a", "issued_at": "2024-04-01", "due_date": "2024-04-15", "amount": 1.0, "paid_at": "2024-04-10"},
            {"invoice_id": "i2", "customer_id": "a", "issued_at": "2024-05-01", "due_date": "2024-05-15", "amount": 1.0, "paid_at": "2024-05-20"},
            {"invoice_id": "i3", "customer_id": "a", "issued_at": "2024-06-01", "due_date": "2024-06-15", "amount": 1.0},
            {"invoice_id": "i4", "customer_id": "a", "issued_at": "2024-06-15", "due_date": "2024-06-30", "amount": 1.0},
            {"invoice_id": "i5", "customer_id": "a", "issued_at": "2024-03-01", "due_date": "2024-03-15", "amount": 1.0},
            {"invoice_id": "i6", "customer_id": "a", "issued_at": "2024-05-15", "due_date": "2024-06-01", "amount": 1.0, "status": "void"},
            {"invoice_id": "i7", "customer_id": "a", "issued_at": "2024-07-01", "due_date": "2024-07-15", "amount": 1.0},
            {"invoice_id": "i8", "customer_id": "d", "issued_at": "2024-05-15", "due_date": "2024-06-01", "amount": 1.0, "paid_at": "2024-07-02"},
        ],
        "referrals": [
            {"referral_id": "r1", "referrer_customer_id": "a", "referred_at": "2024-03-01", "referred_customer_id": "b"},
            {"referral_id": "r2", "referrer_customer_id": "a", "referred_at": "2024-04-01", "referred_customer_id": "e"},
            {"referral_id": "r3", "referrer_customer_id": "a", "referred_at": "2024-05-01"},
            {"referral_id": "r4", "referrer_customer_id": "a", "referred_at": "2024-07-10"},
        ],
        "touches": [
            {"touch_id": "m1", "customer_id": "a", "sent_at": "2024-06-01T09:00:00", "channel": "email", "opened_at": "2024-06-02T09:00:00", "clicked_at": "2024-06-02T09:05:00"},
            {"touch_id": "m2", "customer_id": "a", "sent_at": "2024-06-10T09:00:00", "channel": "email", "opened_at": "2024-07-02T09:00:00"},
            {"touch_id": "m3", "customer_id": "a", "sent_at": "2024-05-01T09:00:00", "channel": "in_app", "opened_at": "2024-05-01T09:01:00"},
            {"touch_id": "m4", "customer_id": "a", "sent_at": "2024-03-01T09:00:00", "channel": "email", "opened_at": "2024-03-01T10:00:00"},
        ],
    }


@pytest.fixture()
def snapshot(tmp_path: Path) -> pd.DataFrame:
    return build_snapshot(make_dataset(tmp_path, fixture_tables(), as_of=AS_OF)).set_index("customer_id")


def _same(actual: object, expected: object) -> bool:
    if expected is None:
        return actual is None or actual is pd.NA or actual is pd.NaT or (isinstance(actual, float) and math.isnan(actual))
    if isinstance(expected, float):
        return isinstance(actual, (int, float)) and math.isclose(float(actual), expected, abs_tol=1e-9)
    if isinstance(expected, str) and len(expected) >= 10 and expected[4] == "-":
        return pd.Timestamp(actual) == pd.Timestamp(expected)
    return bool(actual == expected)


GOLDEN: dict[str, dict[str, object]] = {
    # a: Jan 1 → Jun 30 2024 (leap year) = 181 days; MRR 100 + 50 now and on May 31, only s1 (100) on Apr 1.
    "a": {"tenure_days": 181.0, "executive_sponsor": True, "has_champion": True,
          "mrr_current": 150.0, "mrr_30d_ago": 150.0, "mrr_90d_ago": 100.0, "mrr_change_90d": 50.0,
          "seats_current": 8.0, "seats_90d_ago": 5.0, "seats_change_90d": 3.0,
          "ever_paid": True, "is_active_subscriber": True, "churned": False, "churned_at": None, "reactivated": False,
          "first_paid_at": "2024-01-01",
          # 7d: report ×2 + integration + Jun-30 login = 4; 30d: + Jun-10 dashboard = 5; prev: 1 + 3 = 4; 90d: 4 + 5 = 9
          "events_7d": 4.0, "events_30d": 5.0, "events_prev_30d": 4.0, "events_90d": 9.0,
          "active_days_30d": 3.0, "distinct_features_30d": 3.0, "usage_change_30d": 0.25,
          "last_event_at": "2024-06-30T23:00:00", "days_since_last_event": 0.0,
          "activated": True, "activated_at": "2024-01-03T10:00:00", "days_to_value": 2.0,
          "onboarding_steps_done": 4.0, "onboarding_complete": True,
          "used_report_created": True, "used_integration_connected": True, "used_teammate_invited": False,
          "nps_latest": 9.0, "nps_latest_at": "2024-06-01", "nps_category": "promoter",
          # open: t1 (high) and t4 (closes after as_of, urgent); 90d: t1, t2, t4; CSAT of t2 (4) and t3 (2) closed in window
          "tickets_open": 2.0, "tickets_open_high": 2.0, "tickets_90d": 3.0, "csat_avg_90d": 3.0,
          # due in 90d: i1, i2, i3, i4 (i6 void); late: i2 (paid after due), i3 (unpaid past due); overdue: i3, i5
          "invoices_due_90d": 4.0, "invoices_late_90d": 2.0, "invoices_overdue_now": 2.0, "on_time_payment_rate": 0.5,
          "referrals_made": 3.0, "referrals_converted": 1.0,
          "touches_sent_90d": 3.0, "touches_opened_90d": 2.0, "touches_clicked_90d": 1.0, "email_open_rate_90d": 0.5,
          "orders_count": 1.0, "orders_value": 20.0, "last_order_at": "2024-02-01T10:00:00", "days_since_last_order": 150.0},
    # b: trial (mrr 0) is not a purchase; one login; no value event.
    "b": {"tenure_days": 10.0, "executive_sponsor": False, "has_champion": False, "mrr_current": 0.0, "seats_current": 1.0,
          "ever_paid": False, "is_active_subscriber": False, "churned": False, "first_paid_at": None,
          "events_30d": 1.0, "events_prev_30d": 0.0, "usage_change_30d": None, "days_since_last_event": 9.0,
          "activated": False, "activated_at": None, "days_to_value": None, "onboarding_steps_done": 0.0, "onboarding_complete": False,
          "nps_latest": None, "nps_category": None, "tickets_open": 0.0, "csat_avg_90d": None,
          "invoices_due_90d": 0.0, "on_time_payment_rate": None, "referrals_made": 0.0, "email_open_rate_90d": None,
          "orders_count": 0.0, "last_order_at": None, "days_since_last_order": None},
    # c: paid until 2024-03-01, nothing since.
    "c": {"executive_sponsor": None, "has_champion": False, "mrr_current": 0.0, "mrr_90d_ago": 0.0, "ever_paid": True,
          "is_active_subscriber": False, "churned": True, "churned_at": "2024-03-01", "reactivated": False,
          "events_90d": 0.0, "last_event_at": None, "days_since_last_event": None, "activated": False,
          "nps_latest": 5.0, "nps_category": "detractor"},
    # d: paid Jan 15 – Mar 15, gap, again from May 1 (its Sep 1 end is after as_of, so still open); seats unknown.
    "d": {"mrr_current": 90.0, "mrr_30d_ago": 90.0, "mrr_90d_ago": 0.0, "mrr_change_90d": 90.0,
          "seats_current": None, "seats_90d_ago": 0.0, "seats_change_90d": None,
          "is_active_subscriber": True, "churned": False, "reactivated": True, "reactivated_at": "2024-05-01",
          "first_paid_at": "2024-01-15", "activated": False, "days_to_value": 10.0, "nps_category": "passive",
          # i8 is paid on Jul 2, after as_of: unpaid past due on as_of
          "invoices_due_90d": 1.0, "invoices_late_90d": 1.0, "invoices_overdue_now": 1.0, "on_time_payment_rate": 0.0},
}


@pytest.mark.parametrize("customer_id", sorted(GOLDEN))
def test_snapshot_columns_match_the_hand_computed_values(snapshot: pd.DataFrame, customer_id: str) -> None:
    row = snapshot.loc[customer_id]
    wrong = {column: (row[column], expected) for column, expected in GOLDEN[customer_id].items()
             if not _same(row[column], expected)}
    assert not wrong


def test_snapshot_has_one_row_per_customer_signed_up_by_as_of_sorted_by_id(snapshot: pd.DataFrame) -> None:
    assert list(snapshot.index) == ["a", "b", "c", "d"]


CONTRACT_COLUMNS = (
    "customer_id signup_date tenure_days segment plan acquisition_channel industry country company_size executive_sponsor "
    "has_champion mrr_current mrr_30d_ago mrr_90d_ago mrr_change_90d seats_current seats_change_90d ever_paid "
    "is_active_subscriber churned churned_at reactivated first_paid_at events_7d events_30d events_prev_30d events_90d "
    "active_days_30d distinct_features_30d usage_change_30d last_event_at days_since_last_event activated activated_at "
    "days_to_value onboarding_steps_done onboarding_complete nps_latest nps_latest_at nps_category tickets_open "
    "tickets_open_high tickets_90d csat_avg_90d invoices_due_90d invoices_late_90d invoices_overdue_now "
    "on_time_payment_rate referrals_made referrals_converted touches_sent_90d touches_opened_90d touches_clicked_90d "
    "email_open_rate_90d orders_count orders_value last_order_at days_since_last_order"
).split()


def test_every_contract_column_is_present_even_when_only_customers_exist(tmp_path: Path) -> None:
    """Missing source tables give missing values, never zeros standing in for "unknown"."""
    ds = make_dataset(tmp_path, {"customers": [{"customer_id": "a", "signup_date": "2024-01-01"}]}, as_of=AS_OF)
    snap = build_snapshot(ds)
    assert [c for c in CONTRACT_COLUMNS if c not in snap.columns] == []
    row = snap.iloc[0]
    for column in ("mrr_current", "events_30d", "tickets_open", "referrals_made", "orders_count", "churned", "activated"):
        assert pd.isna(row[column]), column


def test_filters_restrict_every_pushed_down_aggregate(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF, filters=Filters(segment=("Enterprise",)))
    snap = build_snapshot(ds).set_index("customer_id")
    assert list(snap.index) == ["c", "d"]
    assert snap.loc["d", "activated_at"] == pd.Timestamp("2024-01-25T08:00:00")


def test_active_events_setting_limits_activity_counts(tmp_path: Path) -> None:
    """Only logins count as activity: a's 30-day logins = the Jun-30 login only → 1; prev 30 days: 1 + 3 = 4."""
    config = EngineConfig(activation=ActivationConfig(active_events=("login",)))
    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF, config=config)
    row = build_snapshot(ds).set_index("customer_id").loc["a"]
    assert (row["events_30d"], row["events_prev_30d"], row["active_days_30d"]) == (1.0, 4.0, 1.0)
    assert row["distinct_features_30d"] == 3.0  # core-feature use is not limited by active_events


def test_cached_snapshot_round_trips_and_a_rewrite_changes_the_cache_key(tmp_path: Path) -> None:
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    as_of = date.fromisoformat(AS_OF)
    first = load_or_build_snapshot(path, as_of)
    cache_file = snapshot_cache_path(path, as_of, EngineConfig(), Filters())
    assert cache_file.exists()
    again = load_or_build_snapshot(path, as_of)
    pd.testing.assert_frame_equal(first, again)
    make_store(path, {"customers": [{"customer_id": "z", "signup_date": "2024-01-01"}]})
    assert snapshot_cache_path(path, as_of, EngineConfig(), Filters()) != cache_file
    assert list(load_or_build_snapshot(path, as_of)["customer_id"]) == ["a", "b", "c", "d", "z"]


def test_a_partial_snapshot_equals_the_same_columns_of_the_full_one(tmp_path: Path) -> None:
    """``columns=`` runs fewer sections but must not change any value (the stage history relies on it)."""
    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF)
    wanted = ["churned", "activated_at", "onboarding_complete", "distinct_features_30d", "nps_category", "referrals_made"]
    part = build_snapshot(ds, wanted)
    assert "tickets_open" not in part.columns and "email_open_rate_90d" not in part.columns
    pd.testing.assert_frame_equal(part[["customer_id", *wanted]], build_snapshot(ds)[["customer_id", *wanted]])


@pytest.mark.parametrize("steps", [4, 7])
def test_milestones_on_any_as_of_from_the_one_pass_equal_each_as_of_own_statement(tmp_path: Path, steps: int) -> None:
    """The stage history builds the milestone columns on many as_of days from one pass over the events
    (``milestone_events``: first value event, first ``steps`` onboarding times per customer); on every day the columns
    equal those of that day's own statement (a dataset without identity runs it). Hand-checked: on 2024-01-02 ``a``
    has done its 5 onboarding events (4 steps count: complete with 4 steps, not with 7) and nobody has a value event
    yet (the activation columns are missing, not False); on 2024-01-25 ``d``'s first report (08:00 that day) counts."""
    from lifecycle.dataset import Dataset
    from lifecycle.scope import Scope
    from lifecycle.snapshot import MILESTONE_COLUMNS
    from lifecycle.sources import SqliteSource

    path = make_store(tmp_path / "fixture.db", fixture_tables())
    config = EngineConfig(activation=ActivationConfig(onboarding_steps=steps))
    source = SqliteSource(path)
    seen: dict[str, pd.DataFrame] = {}
    for day in ("2023-12-31", "2024-01-02", "2024-01-03", "2024-01-25", "2024-03-31", AS_OF, "2024-07-31"):
        scope = Scope.at(date.fromisoformat(day))
        memoised = Dataset.over(source, scope, config)  # has an identity: the one pass, memoised
        alone = Dataset(source.connect(), scope, config)  # no identity: the day's own statement
        try:
            ours = build_snapshot(memoised, list(MILESTONE_COLUMNS))
            pd.testing.assert_frame_equal(ours, build_snapshot(alone, list(MILESTONE_COLUMNS)), check_exact=True)
        finally:
            memoised.close()
            alone.close()
        seen[day] = ours.set_index("customer_id")
    early = seen["2024-01-02"].loc["a"]
    assert early["onboarding_steps_done"] == min(5, steps) and bool(early["onboarding_complete"]) is (steps <= 5)
    assert pd.isna(early["activated"]) and pd.isna(early["activated_at"])
    assert seen["2024-01-25"].loc["d", "activated_at"] == pd.Timestamp("2024-01-25T08:00:00")


def test_milestone_times_rank_the_texts_once_and_compare_each_cut_as_text() -> None:
    """``MilestoneTimes.before(column, cut)`` is "present and ``< cut`` as text" for every cut, from one coding.
    By hand for the cut ``2024-01-25``: 08:00 that day is not before it, nor is the bare day (equal), nor a missing
    value; the empty text and 23:59:59 the day before are (text order). ``2024-01-26`` takes the two equal times of
    the 25th as well. An unparsable time leaves ``first_value`` None (each as_of parses its own rows), the ranks still
    answer."""
    from lifecycle.snapshot.sql import MilestoneTimes

    events = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                           "first_value_at": ["2024-01-25T08:00:00", None, "", "2024-01-24T23:59:59", "2024-01-25"],
                           "onboarding_1": ["2024-01-25T08:00:00", "2024-01-25T08:00:00", None, None, "2023-12-31"]},
                          dtype="string")
    times = MilestoneTimes.of(events, 1)
    assert times.before("first_value_at", "2024-01-25").tolist() == [False, False, True, True, False]
    assert times.before("first_value_at", "2024-01-26").tolist() == [True, False, True, True, True]
    assert times.before("onboarding_1", "2024-01-25").tolist() == [False, False, False, False, True]
    assert times.before("onboarding_1", "2024-01-26").tolist() == [True, True, False, False, True]
    assert times.before("onboarding_1", "2023-01-01").tolist() == [False] * 5
    assert times.first_value is not None and times.first_value.iloc[0] == pd.Timestamp("2024-01-25T08:00:00")
    broken = MilestoneTimes.of(events.assign(first_value_at=["2024-13-45", None, None, None, None]), 1)
    assert broken.first_value is None
    assert broken.before("first_value_at", "2025-01-01").tolist() == [True, False, False, False, False]
    assert times.before("first_value_at", "2024-01-25T08:00:01").tolist() == [True, False, True, True, True]  # not a day


def test_referrals_on_any_as_of_from_one_read_equal_each_as_of_own_statement(tmp_path: Path) -> None:
    """The referral columns of a whole base opened with an identity come from one read of every referral
    (``ReferralDays``), coded by day; on each day they equal that day's own statement (a dataset without identity runs
    it). By hand (fixture: ``a`` refers b on 03-01 — b signs up 06-20 —, e on 04-01 — e signs up 07-05 —, nobody on
    05-01 and 07-10): made/converted on 02-29 0/0, 03-01 1/0, 06-19 3/0, 06-20 3/1, 07-05 3/2, 07-31 4/2."""
    from lifecycle.dataset import Dataset
    from lifecycle.scope import Scope
    from lifecycle.sources import SqliteSource

    path = make_store(tmp_path / "fixture.db", fixture_tables())
    source = SqliteSource(path)
    expected = {"2024-02-29": (0, 0), "2024-03-01": (1, 0), "2024-06-19": (3, 0), "2024-06-20": (3, 1),
                "2024-07-05": (3, 2), "2024-07-31": (4, 2)}
    wanted = ["referrals_made", "referrals_converted"]
    for day, (made, converted) in expected.items():
        scope = Scope.at(date.fromisoformat(day))
        memoised = Dataset.over(source, scope)  # has an identity: the one read, memoised
        alone = Dataset(source.connect(), scope)  # no identity: the day's own statement
        try:
            ours = build_snapshot(memoised, wanted)
            pd.testing.assert_frame_equal(ours, build_snapshot(alone, wanted), check_exact=True)
        finally:
            memoised.close()
            alone.close()
        assert tuple(ours.set_index("customer_id").loc["a", wanted]) == (made, converted)
        assert set(ours.loc[ours["customer_id"] != "a", wanted].to_numpy().ravel()) <= {0.0}


def test_a_partial_snapshot_computes_only_the_window_columns_it_names(tmp_path: Path) -> None:
    """The stage history asks for the 30-day counts: the build reads the last 30 days only and leaves the other window
    columns out — a column it names is still the full build's. Hand-checked for ``a`` (module docstring windows): 3
    active days (06-10, 06-25, 06-30) and 5 events in the last 30 days, 4 in the 30 before (1 + 3), so usage change
    (5 − 4) ÷ 4 = 0.25."""
    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF)
    wanted = ["active_days_30d", "usage_change_30d"]
    part = build_snapshot(ds, wanted)
    # the counts the usage change is made of are computed, not kept (only the named columns and the customer's are)
    assert not {"events_7d", "events_90d", "distinct_features_30d", "events_30d", "events_prev_30d"} & set(part.columns)
    row = part.set_index("customer_id").loc["a"]
    assert (row["active_days_30d"], row["usage_change_30d"]) == (3.0, 0.25)
    whole = build_snapshot(ds)
    assert tuple(whole.set_index("customer_id").loc["a", ["events_30d", "events_prev_30d"]]) == (5.0, 4.0)
    shown = ["customer_id", *wanted]
    pd.testing.assert_frame_equal(part[shown], whole[shown], check_exact=True)


def test_subscription_columns_belong_to_their_customer_whatever_the_row_order(tmp_path: Path) -> None:
    """The subscriptions section groups rows by customer (on integer codes of the ids): each sum and flag must land on
    its own customer when the rows of customers interleave and come in another order than the ids sort.

    By hand, as of 2024-07-01 (90 days earlier: 2024-04-02):
    z — 30/month 2024-01-01..03-01 (3 seats), then 40 from 2024-05-01 (2 seats): MRR 40 now, 0 then; two paying blocks,
        the current one since 2024-05-01: reactivated on 2024-05-01; seats 2 now, 0 then.
    a — 10 from 2024-01-01 (1 seat) and 5 from 2024-03-01 (seats unknown): MRR 15 now and then, one block; seats unknown.
    m — 20 from 2024-02-01 to 2024-06-01: MRR 0 now, 20 then; churned on 2024-06-01."""
    tables = {
        "customers": [{"customer_id": "z", "signup_date": "2024-01-01"}, {"customer_id": "a", "signup_date": "2024-01-01"},
                      {"customer_id": "m", "signup_date": "2024-02-01"}],
        "subscriptions": [
            {"subscription_id": "s1", "customer_id": "z", "start_date": "2024-05-01", "mrr": 40.0, "seats": 2},
            {"subscription_id": "s2", "customer_id": "a", "start_date": "2024-01-01", "mrr": 10.0, "seats": 1},
            {"subscription_id": "s3", "customer_id": "z", "start_date": "2024-01-01", "end_date": "2024-03-01", "mrr": 30.0, "seats": 3},
            {"subscription_id": "s4", "customer_id": "m", "start_date": "2024-02-01", "end_date": "2024-06-01", "mrr": 20.0},
            {"subscription_id": "s5", "customer_id": "a", "start_date": "2024-03-01", "mrr": 5.0},
        ],
    }
    snap = build_snapshot(make_dataset(tmp_path, tables, as_of="2024-07-01")).set_index("customer_id")
    assert snap.loc[["z", "a", "m"], "mrr_current"].tolist() == [40.0, 15.0, 0.0]
    assert snap.loc[["z", "a", "m"], "mrr_90d_ago"].tolist() == [0.0, 15.0, 20.0]
    assert snap.loc[["z", "a", "m"], "mrr_change_90d"].tolist() == [40.0, 0.0, -20.0]
    assert snap.loc["z", "seats_current"] == 2.0 and snap.loc["z", "seats_90d_ago"] == 0.0
    assert math.isnan(snap.loc["a", "seats_current"])
    assert snap.loc[["z", "a", "m"], "is_active_subscriber"].tolist() == [True, True, False]
    assert snap.loc[["z", "a", "m"], "reactivated"].tolist() == [True, False, False]
    assert snap.loc["z", "reactivated_at"] == pd.Timestamp("2024-05-01")
    assert snap.loc[["z", "a", "m"], "churned"].tolist() == [False, False, True]
    assert snap.loc["m", "churned_at"] == pd.Timestamp("2024-06-01") and pd.isna(snap.loc["z", "churned_at"])
    assert snap.loc[["z", "a", "m"], "first_paid_at"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01"),
                                                                   pd.Timestamp("2024-02-01")]


@pytest.mark.parametrize("engine", ["sqlite", "sqlite-events", "duckdb"])
@pytest.mark.parametrize("value_event", ["report_created", "onboarding_step_completed"])
def test_milestone_events_keep_the_first_value_time_and_the_first_onboarding_steps(tmp_path: Path, value_event: str,
                                                                                   engine: str) -> None:
    """``milestone_events``: per customer the first value event's time and the times of the first ``steps`` onboarding
    events, in time order whatever the row order. By hand (3 steps): ``p`` reports at 03-05, 03-01 and 03-09 (first
    03-01) and onboards at 02-03, 02-01, 02-02 and 02-04 (first three 02-01, 02-02, 02-03); ``q`` onboards once (02-10).
    When the value event is the onboarding event itself, its first time is the first step's: 02-01 for ``p``, 02-10
    for ``q``. The same on DuckDB (one statement numbering both names), and on SQLite both from the events rollup's
    per-name first times (written by the store) and, without that table (``sqlite-events``), from the events."""
    import sqlite3

    from lifecycle import events_daily
    from lifecycle.dataset import Dataset
    from lifecycle.scope import Scope
    from lifecycle.snapshot.sql import milestone_events
    from lifecycle.sources import open_source

    onboard = "onboarding_step_completed"
    events = [_ev("p", "2024-03-05T10:00:00", "report_created"), _ev("p", "2024-02-03T10:00:00", onboard),
              _ev("p", "2024-03-01T10:00:00", "report_created"), _ev("p", "2024-02-01T10:00:00", onboard),
              _ev("q", "2024-02-10T10:00:00", onboard), _ev("p", "2024-02-04T10:00:00", onboard),
              _ev("p", "2024-02-02T10:00:00", onboard), _ev("p", "2024-03-09T10:00:00", "report_created"),
              _ev("q", "2024-02-11T10:00:00", "login")]
    path = make_store(tmp_path / "fixture.db", {"customers": [{"customer_id": "p", "signup_date": "2024-01-01"},
                                                              {"customer_id": "q", "signup_date": "2024-01-01"}],
                                                "events": events})
    if engine == "sqlite-events":  # a rollup written before it had the per-name table
        conn = sqlite3.connect(path)
        with conn:
            conn.execute(f"DROP TABLE {events_daily.BY_NAME_TABLE}")
        conn.close()
    config = EngineConfig(activation=ActivationConfig(value_event=value_event, onboarding_event=onboard))
    dataset = Dataset.over(open_source(path, engine=engine.split("-")[0]), Scope.at(date(2024, 6, 30)), config)
    assert dataset.connection.dialect == engine.split("-")[0]  # SQLite numbers the onboarding events only; DuckDB both
    assert events_daily.by_name_present(dataset.connection) == (engine == "sqlite")
    try:
        found = milestone_events(dataset, 3).set_index("customer_id").astype("string")
    finally:
        dataset.close()
    first_p = "2024-03-01T10:00:00" if value_event == "report_created" else "2024-02-01T10:00:00"
    first_q = None if value_event == "report_created" else "2024-02-10T10:00:00"
    assert found.loc["p"].tolist() == [first_p, "2024-02-01T10:00:00", "2024-02-02T10:00:00", "2024-02-03T10:00:00"]
    assert [None if pd.isna(v) else v for v in found.loc["q"].tolist()] == [first_q, "2024-02-10T10:00:00", None, None]


def test_milestone_events_are_kept_between_processes_and_read_back_without_a_pass(tmp_path: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``milestone_events`` of a dataset with an identity is kept as Parquet beside the snapshots: a later process (the
    memo cleared, every statement refused) reads the same frame from the file — the values by hand as in the test
    above (``p``: first report 03-01, onboarding 02-01, 02-02, 02-03; ``q``: no report, onboarding 02-10 only), the
    same dtypes; a re-import (another identity) never reads it."""
    from lifecycle.dataset import Dataset
    from lifecycle.memo import MEMO
    from lifecycle.scope import Scope
    from lifecycle.snapshot import sql
    from lifecycle.sources import open_source

    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(tmp_path / "data"))
    onboard = "onboarding_step_completed"
    events = [_ev("p", "2024-03-05T10:00:00", "report_created"), _ev("p", "2024-02-03T10:00:00", onboard),
              _ev("p", "2024-03-01T10:00:00", "report_created"), _ev("p", "2024-02-01T10:00:00", onboard),
              _ev("q", "2024-02-10T10:00:00", onboard), _ev("p", "2024-02-04T10:00:00", onboard),
              _ev("p", "2024-02-02T10:00:00", onboard)]
    path = make_store(tmp_path / "fixture.db", {"customers": [{"customer_id": "p", "signup_date": "2024-01-01"},
                                                              {"customer_id": "q", "signup_date": "2024-01-01"}],
                                                "events": events})
    config = EngineConfig(activation=ActivationConfig(value_event="report_created", onboarding_event=onboard))

    def opened() -> Dataset:
        return Dataset.over(open_source(path), Scope.at(date(2024, 6, 30)), config)

    MEMO.clear()
    first = opened()
    computed = sql.milestone_events(first, 3)
    first.close()
    MEMO.clear()

    def refused(*args: object) -> None:
        raise AssertionError("the milestone pass ran again")

    monkeypatch.setattr(sql, "_run", refused)
    later = opened()
    try:
        read = sql.milestone_events(later, 3)
    finally:
        later.close()
    pd.testing.assert_frame_equal(read, computed, check_exact=True)
    found = read.set_index("customer_id").astype("string")
    assert found.loc["p"].tolist() == ["2024-03-01T10:00:00", "2024-02-01T10:00:00", "2024-02-02T10:00:00",
                                       "2024-02-03T10:00:00"]
    assert [None if pd.isna(v) else v for v in found.loc["q"].tolist()] == [None, "2024-02-10T10:00:00", None, None]
    MEMO.clear()
    make_store(path, {"events": [_ev("q", "2024-03-02T10:00:00", "report_created")]})  # a re-import: a new identity
    again = opened()
    try:
        with pytest.raises(AssertionError, match="ran again"):
            sql.milestone_events(again, 3)
    finally:
        again.close()
