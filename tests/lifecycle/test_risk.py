"""The at-risk list on a hand-made snapshot: risk, ranking, reasons with evidence, filters, cursor pagination.

Health here comes from a one-signal profile (health = x_value, linear 0→0, 100→100) so that the reason columns
do not move health; severities are the default profile's: usage_drop .25, no_recent_activity .35,
detractor_nps .2, open_high_priority_tickets .2, late_payment .3, contraction .2, no_champion .1.
risk = 1 − (1 − h) × Π(1 − severity), h = (100 − health) / 100 (0.5 when health is unknown); listed when
risk ≥ 0.25 and not churned; priority = risk × MRR.

    a  health 80 → h .2, MRR 1000, no reason                        risk .2 < .25 → not listed
    b  health 40 → h .6, MRR 100                                    risk .6    priority 60
    c  health 70 → h .3, MRR 500, late_payment                      risk 1 − .7×.7 = .51          priority 255
    d  health 90 → h .1, MRR 300, usage_drop + no_champion          risk 1 − .9×.75×.9 = .3925    priority 117.75
    e  health 10, MRR 2000, churned                                 excluded (win-back)
    f  health 40 → h .6, MRR 100                                    risk .6    priority 60 (tie with b → b first)
    g  health 60 → h .4, MRR unknown (→ 0), 45 idle days            risk 1 − .6×.65 = .61         priority 0
    h  health unknown → h .5, MRR 200, NPS 3                        risk 1 − .5×.8 = .6           priority 120

Order: c (255), h (120), d (117.75), b (60, risk .6), f (60, risk .6, id after b), g (0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.errors import QueryError
from lifecycle.health import HealthTable, score_health
from lifecycle.health.profile import Reason, load_health_profile
from lifecycle.health.risk import list_at_risk, reason_flags
from tests.lifecycle.test_health import make_snapshot, one_signal_profile

ROWS = [
    {"customer_id": "a", "x_value": 80, "mrr_current": 1000, "plan": "pro", "x_clv": 100},
    {"customer_id": "b", "x_value": 40, "mrr_current": 100, "plan": "basic", "x_clv": 5000},
    {"customer_id": "c", "x_value": 70, "mrr_current": 500, "plan": "pro", "invoices_overdue_now": 1, "invoices_late_90d": 2,
     "x_clv": 100},
    {"customer_id": "d", "x_value": 90, "mrr_current": 300, "plan": "basic", "usage_change_30d": -0.5, "events_30d": 10,
     "events_prev_30d": 20, "has_champion": False, "executive_sponsor": True, "x_clv": 100},
    {"customer_id": "e", "x_value": 10, "mrr_current": 2000, "plan": "pro", "churned": True, "x_clv": 100},
    {"customer_id": "f", "x_value": 40, "mrr_current": 100, "plan": "basic", "x_clv": 100},
    {"customer_id": "g", "x_value": 60, "plan": "pro", "days_since_last_event": 45, "x_clv": 100},
    {"customer_id": "h", "mrr_current": 200, "plan": "basic", "nps_latest": 3, "x_clv": 100},
]
ORDER = ["c", "h", "d", "b", "f", "g"]


@pytest.fixture(scope="module")
def snapshot() -> pd.DataFrame:
    return make_snapshot(*ROWS)


@pytest.fixture(scope="module")
def health(snapshot: pd.DataFrame) -> HealthTable:
    return score_health(snapshot, one_signal_profile(column="x_value"))


def ids(page) -> list[str]:
    return [item.customer_id for item in page.items]


def test_list_is_ranked_by_risk_times_value_then_risk_then_customer_id(snapshot: pd.DataFrame, health: HealthTable) -> None:
    page = list_at_risk(snapshot, health)
    assert ids(page) == ORDER and page.total == 6 and page.next_cursor is None
    risk = {item.customer_id: item.risk for item in page.items}
    assert risk == pytest.approx({"c": 0.51, "h": 0.6, "d": 0.3925, "b": 0.6, "f": 0.6, "g": 0.61})
    assert [item.priority for item in page.items] == pytest.approx([255.0, 120.0, 117.75, 60.0, 60.0, 0.0])
    assert [item.rank for item in page.items] == [1, 2, 3, 4, 5, 6]
    assert page.items[1].health is None and page.items[1].band is None


def test_reasons_carry_their_evidence_and_plays(snapshot: pd.DataFrame, health: HealthTable) -> None:
    items = {item.customer_id: item for item in list_at_risk(snapshot, health).items}
    late = items["c"].reasons
    assert [r.code for r in late] == [Reason.LATE_PAYMENT]
    assert late[0].evidence == {"invoices_overdue_now": 1.0, "invoices_late_90d": 2.0}
    assert late[0].strategy == "Save team escalation" and items["c"].suggested_play == late[0].play
    assert [r.code for r in items["d"].reasons] == [Reason.USAGE_DROP, Reason.NO_CHAMPION]  # by severity .25, .1
    assert items["d"].reasons[0].evidence == {"usage_change_30d": -0.5, "events_30d": 10.0, "events_prev_30d": 20.0}
    assert items["d"].reasons[1].evidence == {"has_champion": False}
    assert [r.code for r in items["g"].reasons] == [Reason.NO_RECENT_ACTIVITY]
    assert items["g"].reasons[0].strategy == "Re-activation campaign"
    assert items["h"].reasons[0].evidence == {"nps_latest": 3.0}
    assert items["b"].reasons == () and items["b"].suggested_play.startswith("Anything: review the health explanation")


def test_churned_customers_are_left_to_win_back(snapshot: pd.DataFrame, health: HealthTable) -> None:
    assert "e" not in ids(list_at_risk(snapshot, health, limit=100))


@pytest.mark.parametrize(("filters", "expected"), [
    pytest.param({"reason": "late_payment"}, ["c"], id="one-reason"),
    pytest.param({"reason": [Reason.USAGE_DROP, "detractor_nps"]}, ["h", "d"], id="any-of-two-reasons"),
    pytest.param({"plan": "pro"}, ["c", "g"], id="plan"),
    pytest.param({"plan": ["basic"], "segment": "all"}, ["h", "d", "b", "f"], id="plan-and-segment"),
    pytest.param({"min_risk": 0.6}, ["h", "b", "f", "g"], id="min-risk"),
    pytest.param({"value_column": "x_clv"}, ["b", "g", "f", "h", "c", "d"], id="expected-value-column"),
])
def test_filters_and_value_column(snapshot: pd.DataFrame, health: HealthTable, filters: dict, expected: list[str]) -> None:
    """Value x_clv (b 5000, everyone else 100): b 3000, g 61, f 60 and h 60 (same risk .6 → by id), c 51, d 39.25."""
    page = list_at_risk(snapshot, health, limit=100, **filters)
    assert ids(page) == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"reason": "bored"}, "unknown reason", id="unknown-reason"),
    pytest.param({"segment": "vip"}, "unknown segment", id="unknown-segment"),
    pytest.param({"value_column": "arr"}, "not in the snapshot; numeric columns:", id="missing-value-column"),
    pytest.param({"value_column": "plan"}, "not numeric", id="text-value-column"),
    pytest.param({"limit": 0}, "limit must be at least 1", id="zero-limit"),
    pytest.param({"cursor": "not-a-cursor"}, "invalid cursor", id="garbage-cursor"),
])
def test_bad_arguments_are_query_errors(snapshot: pd.DataFrame, health: HealthTable, kwargs: dict, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        list_at_risk(snapshot, health, **kwargs)


def test_pages_concatenate_to_the_full_list_without_duplicates(snapshot: pd.DataFrame, health: HealthTable) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = list_at_risk(snapshot, health, limit=4 if pages == 0 else 2, cursor=cursor)
        seen += ids(page)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ORDER and pages == 2 and len(set(seen)) == len(seen)


def test_each_page_continues_the_ranks(snapshot: pd.DataFrame, health: HealthTable) -> None:
    first = list_at_risk(snapshot, health, limit=4)
    second = list_at_risk(snapshot, health, limit=4, cursor=first.next_cursor)
    assert [i.rank for i in second.items] == [5, 6] and second.offset == 4 and second.next_cursor is None


@pytest.mark.parametrize("other", [
    pytest.param({"plan": "pro"}, id="other-filter"),
    pytest.param({"value_column": "x_clv"}, id="other-value-column"),
    pytest.param({"min_risk": 0.5}, id="other-threshold"),
])
def test_cursor_from_another_query_is_rejected(snapshot: pd.DataFrame, health: HealthTable, other: dict) -> None:
    cursor = list_at_risk(snapshot, health, limit=2).next_cursor
    with pytest.raises(QueryError, match="different at-risk query"):
        list_at_risk(snapshot, health, limit=2, cursor=cursor, **other)


def test_cursor_does_not_depend_on_the_page_size(snapshot: pd.DataFrame, health: HealthTable) -> None:
    cursor = list_at_risk(snapshot, health, limit=2).next_cursor
    assert ids(list_at_risk(snapshot, health, limit=3, cursor=cursor)) == ORDER[2:5]


def test_list_is_deterministic_whatever_the_row_order(snapshot: pd.DataFrame, health: HealthTable) -> None:
    shuffled = snapshot.sample(frac=1.0, random_state=7)
    again = list_at_risk(shuffled, score_health(shuffled, health.profile))
    assert ids(again) == ORDER and again.to_dict() == list_at_risk(snapshot, health).to_dict()


@pytest.mark.parametrize(("row", "reason", "raised"), [
    pytest.param({"usage_change_30d": -0.3}, Reason.USAGE_DROP, True, id="usage-down-30pct"),
    pytest.param({"usage_change_30d": -0.29}, Reason.USAGE_DROP, False, id="usage-down-29pct"),
    pytest.param({"days_since_last_event": 30}, Reason.NO_RECENT_ACTIVITY, True, id="idle-30-days"),
    pytest.param({"days_since_last_event": 29}, Reason.NO_RECENT_ACTIVITY, False, id="idle-29-days"),
    pytest.param({"events_30d": 0, "tenure_days": 40}, Reason.NO_RECENT_ACTIVITY, True, id="never-active-40-days-in"),
    pytest.param({"events_30d": 0, "tenure_days": 10}, Reason.NO_RECENT_ACTIVITY, False, id="never-active-10-days-in"),
    pytest.param({"nps_latest": 6}, Reason.DETRACTOR_NPS, True, id="nps-6"),
    pytest.param({"nps_latest": 7}, Reason.DETRACTOR_NPS, False, id="nps-7"),
    pytest.param({"tickets_open_high": 1}, Reason.OPEN_HIGH_PRIORITY_TICKETS, True, id="one-urgent-ticket"),
    pytest.param({"invoices_late_90d": 1, "invoices_overdue_now": 0}, Reason.LATE_PAYMENT, True, id="paid-late"),
    pytest.param({"invoices_late_90d": 0, "invoices_overdue_now": 0}, Reason.LATE_PAYMENT, False, id="paid-on-time"),
    pytest.param({"mrr_change_90d": -1}, Reason.CONTRACTION, True, id="mrr-down"),
    pytest.param({"mrr_change_90d": 0}, Reason.CONTRACTION, False, id="mrr-flat"),
    pytest.param({"executive_sponsor": False, "has_champion": True}, Reason.NO_EXECUTIVE_SPONSOR, True, id="no-sponsor"),
    pytest.param({"executive_sponsor": False, "has_champion": True}, Reason.NO_CHAMPION, False, id="champion-without-sponsor"),
    pytest.param({"executive_sponsor": True, "has_champion": False}, Reason.NO_CHAMPION, True, id="no-champion"),
    pytest.param({"executive_sponsor": True, "has_champion": True}, Reason.NO_CHAMPION, False, id="sponsor-and-champion"),
    pytest.param({}, Reason.NO_CHAMPION, False, id="unknown-champion-is-no-reason"),
    pytest.param({"cancel_at_period_end": True}, Reason.AUTO_RENEW_OFF, True, id="auto-renew-off"),
    pytest.param({"cancel_at_period_end": False}, Reason.AUTO_RENEW_OFF, False, id="auto-renew-on"),
    pytest.param({}, Reason.AUTO_RENEW_OFF, False, id="auto-renew-unknown-is-no-reason"),
    pytest.param({"payment_failures_90d": 1}, Reason.PAYMENT_FAILED, True, id="one-failed-payment"),
    pytest.param({"payment_failures_90d": 0}, Reason.PAYMENT_FAILED, False, id="no-failed-payment"),
    pytest.param({}, Reason.PAYMENT_FAILED, False, id="failures-unrecorded-is-no-reason"),
    pytest.param({"days_to_renewal": 60, "term_months": 12}, Reason.RENEWAL_DUE, True, id="annual-renews-in-60-days"),
    pytest.param({"days_to_renewal": 61, "term_months": 12}, Reason.RENEWAL_DUE, False, id="annual-renews-in-61-days"),
    pytest.param({"days_to_renewal": 10, "term_months": 1}, Reason.RENEWAL_DUE, False, id="month-to-month-always-renews"),
    pytest.param({"days_to_renewal": 10}, Reason.RENEWAL_DUE, False, id="renewal-without-known-term"),
])
def test_reason_thresholds(row: dict, reason: Reason, raised: bool) -> None:
    frame = make_snapshot({"customer_id": "x", **row})
    assert bool(reason_flags(frame, load_health_profile().risk)[reason][0]) is raised


def test_missing_reason_columns_raise_no_reason() -> None:
    flags = reason_flags(pd.DataFrame({"customer_id": ["x"]}), load_health_profile().risk)
    assert not any(bool(mask[0]) for mask in flags.values())


def test_every_reason_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "health-and-risk.md").read_text(encoding="utf-8")
    assert [r.value for r in Reason if f"`{r.value}`" not in doc] == []


def test_page_serialises_without_nan(snapshot: pd.DataFrame, health: HealthTable) -> None:
    text = json.dumps(list_at_risk(snapshot, health).to_dict(), allow_nan=False)
    assert '"late_payment"' in text and not np.isnan(list_at_risk(snapshot, health).items[0].risk)


def test_a_champion_without_an_executive_sponsor_is_no_executive_sponsor_not_no_champion() -> None:
    """Row 0: champion known, no sponsor → only no_executive_sponsor. Row 1: neither → both. Row 2: both known → none.
    Row 3: nothing recorded (NA) → no reason: a missing value never raises one."""
    snapshot = pd.DataFrame({"has_champion": pd.array([True, False, True, pd.NA], dtype="boolean"),
                             "executive_sponsor": pd.array([False, False, True, pd.NA], dtype="boolean")})
    flags = reason_flags(snapshot, load_health_profile("default").risk)
    assert flags[Reason.NO_CHAMPION].tolist() == [False, True, False, False]
    assert flags[Reason.NO_EXECUTIVE_SPONSOR].tolist() == [True, True, False, False]
