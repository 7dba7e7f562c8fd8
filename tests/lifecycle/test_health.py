"""Health score on hand-made snapshot frames (columns per docs/snapshot-contract.md), hand-computed.

Default profile (lifecycle/health/profiles/default.toml), used by the golden tests:
usage 35 = events_30d 30 (0→0, 60→100) + active_days_30d 30 (0→0, 15→100) + distinct_features_30d 20 (0→0, 4→100)
           + usage_change_30d 20 (−0.5→0, 0.1→100)
engagement 22.5 = email_open_rate_90d 30 (0.05→0, 0.40→100) + nps_latest 40 (4→0, 9→100) + tickets_open_high 30 (3→0, 0→100)
growth 17.5 = mrr_growth_90d 60 (sign: −→0, 0→60, +→100) + seats_growth_90d 40 (same)
relationship 17.5 = executive_sponsor 21 (true 100 / false 0) + has_champion 24 (same)
                    + tenure_days 15 (log: 30→0, 1826→100; the geometric mean √(30·1826) scores 50)
                    + days_to_renewal 20 (31→0, 120→100) + cancel_at_period_end 20 (true 0 / false 100)
payment 7.5 = on_time_payment_rate 30 (0.5→0, 1→100) + invoices_overdue_now 20 (2→0, 0→100)
              + payment_failures_90d 20 (2→0, 0→100) + term_months 15 (log: 1→0, 24→100; √24 scores 50)
              + in_trial 15 (true 0 / false 100)
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.errors import ConfigError, QueryError
from lifecycle.health import explain_health, score_health
from lifecycle.health.profile import PROFILES_DIR, HealthProfile, load_health_profile, profile_from_dict

BOOLEAN_COLUMNS = ("executive_sponsor", "has_champion", "churned", "cancel_at_period_end", "in_trial")
NUMERIC_COLUMNS = (
    "events_30d", "events_prev_30d", "active_days_30d", "distinct_features_30d", "usage_change_30d",
    "days_since_last_event", "email_open_rate_90d", "nps_latest", "tickets_open_high", "mrr_current",
    "mrr_90d_ago", "mrr_change_90d", "seats_change_90d", "tenure_days", "on_time_payment_rate",
    "invoices_overdue_now", "invoices_late_90d", "mrr_growth_90d", "seats_growth_90d", "days_to_renewal",
    "term_months", "payment_failures_90d",
)


def make_snapshot(*rows: dict[str, Any]) -> pd.DataFrame:
    """A snapshot frame with every column the default profile and the risk reasons read; unset cells are missing."""
    data: dict[str, Any] = {"customer_id": pd.array([r["customer_id"] for r in rows], dtype="str")}
    for column in NUMERIC_COLUMNS:
        data[column] = np.array([r.get(column, np.nan) for r in rows], dtype="float64")
    for column in BOOLEAN_COLUMNS:
        data[column] = pd.array([r.get(column, pd.NA) for r in rows], dtype="boolean")
    data["plan"] = pd.array([r.get("plan") for r in rows], dtype="str")
    extra = sorted({k for r in rows for k in r} - set(data))
    for column in extra:
        data[column] = [r.get(column) for r in rows]
    return pd.DataFrame(data)


FULL = {  # every signal present
    "customer_id": "full", "events_30d": 30, "active_days_30d": 6, "distinct_features_30d": 3, "usage_change_30d": -0.2,
    "email_open_rate_90d": 0.225, "nps_latest": 8, "tickets_open_high": 0, "mrr_change_90d": 10, "seats_change_90d": 0,
    "mrr_growth_90d": 0.1, "seats_growth_90d": 0.0, "executive_sponsor": False, "has_champion": True,
    "tenure_days": (30 * 1826) ** 0.5, "days_to_renewal": 75.5, "cancel_at_period_end": False,
    "on_time_payment_rate": 0.9, "invoices_overdue_now": 0, "payment_failures_90d": 1, "term_months": 24 ** 0.5,
    "in_trial": False, "days_since_last_event": 2, "churned": False,
}
SPARSE = {  # engagement has no data at all; other components miss some signals
    "customer_id": "sparse", "events_30d": 60, "mrr_change_90d": -5, "mrr_growth_90d": -0.05, "tenure_days": 1826,
    "invoices_overdue_now": 0, "churned": False,
}
EMPTY = {"customer_id": "empty"}


@pytest.fixture(scope="module")
def profile() -> HealthProfile:
    return load_health_profile("default")


def one_signal_profile(**signal: Any) -> HealthProfile:
    """A profile with one component holding one signal (so health = that signal's score)."""
    spec = {"weight": 100, "direction": "higher_is_better", "scoring": "linear", "bad": 0, "good": 100, **signal}
    return profile_from_dict({
        "components": {"only": {"weight": 100, "signals": {"x": spec}}},
        "segments": [{"name": "all", "strategy": "Anything"}],
        "risk": _risk_table(),
    }, where="one.toml")


def _risk_table() -> dict[str, Any]:
    """The default profile's [risk] table (every profile needs one)."""
    return tomllib.loads((PROFILES_DIR / "default.toml").read_text(encoding="utf-8"))["risk"]


def test_full_customer_golden_score(profile: HealthProfile) -> None:
    """Every signal present.

    usage = .3×(30/60=50) + .3×(6/15=40) + .2×(3/4=75) + .2×((−0.2+0.5)/0.6=50) = 15 + 12 + 15 + 10 = 52
    engagement = .3×((0.225−0.05)/0.35=50) + .4×((8−4)/5=80) + .3×(0 tickets=100) = 15 + 32 + 30 = 77
    growth = .6×(+10 % → 100) + .4×(0 → 60) = 84
    relationship = .21×(no sponsor 0) + .24×(champion 100) + .15×(tenure √(30·1826) → 50)
                   + .20×(renewal in 75.5 days: (75.5−31)/89 = 50) + .20×(auto-renew on 100) = 0 + 24 + 7.5 + 10 + 20 = 61.5
    payment = .3×((0.9−0.5)/0.5=80) + .2×(0 overdue → 100) + .2×(1 failure: (2−1)/2 = 50) + .15×(term √24 → 50)
              + .15×(not in trial 100) = 24 + 20 + 10 + 7.5 + 15 = 76.5
    health = .35×52 + .225×77 + .175×84 + .175×61.5 + .075×76.5 = 18.2 + 17.325 + 14.7 + 10.7625 + 5.7375 = 66.725
    → yellow. impact (100 − C)×W%: usage 48×.35 = 16.8, engagement 5.175, growth 2.8, relationship 6.7375, payment
    1.7625 → usage.
    """
    table = score_health(make_snapshot(FULL), profile)
    assert table.components.loc["full"].to_dict() == pytest.approx(
        {"usage": 52.0, "engagement": 77.0, "growth": 84.0, "relationship": 61.5, "payment": 76.5})
    row = table.frame.loc["full"]
    assert row["health"] == pytest.approx(66.725)
    assert (row["band"], row["most_impactful"], row["segment"]) == ("yellow", "usage", "healthy")
    assert row["coverage"] == pytest.approx(1.0)
    explanation = explain_health(table, "full")
    usage = explanation.components[0]
    assert (usage.name, usage.effective_weight, usage.contribution, usage.impact) == ("usage", pytest.approx(35.0),
                                                                                        pytest.approx(18.2), pytest.approx(16.8))
    nps = next(s for s in explanation.components[1].signals if s.name == "nps_latest")
    assert (nps.value, nps.score, nps.weight) == (8.0, pytest.approx(80.0), 40.0)
    assert explanation.excluded == () and explanation.strategy == "Expansion opportunities"


def test_missing_signals_and_components_are_excluded_and_their_weight_redistributed(profile: HealthProfile) -> None:
    """usage: only events_30d (60 → 100) has data, so its weight is all of usage: usage = 100.
    engagement: no data → excluded. growth: mrr −5 % → 0 (seats missing) = 0. relationship: only tenure 1826 (five
    years) → 100. payment: only 0 overdue → 100.
    Weights with data: 35 + 17.5 + 17.5 + 7.5 = 77.5; health = (35×100 + 17.5×0 + 17.5×100 + 7.5×100) ÷ 77.5
    = 6000 ÷ 77.5 = 77.419… → green. Effective weights: usage 35/77.5 = 45.16 %, growth and relationship 22.58 %,
    payment 9.68 %. Most impactful: growth (100 × 22.58 % = 22.58 points).
    Coverage = (35×.30 + 17.5×.60 + 17.5×.15 + 7.5×.20) ÷ 100 = 25.125 ÷ 100.
    """
    table = score_health(make_snapshot(SPARSE), profile)
    row = table.frame.loc["sparse"]
    assert row["health"] == pytest.approx(6000 / 77.5)
    assert row["band"] == "green" and row["most_impactful"] == "growth"
    assert row["coverage"] == pytest.approx(0.25125)
    assert table.effective_weights.loc["sparse"].to_dict() == pytest.approx(
        {"usage": 3500 / 77.5, "engagement": 0.0, "growth": 1750 / 77.5, "relationship": 1750 / 77.5, "payment": 750 / 77.5})
    explanation = explain_health(table, "sparse")
    engagement = explanation.components[1]
    assert engagement.score is None and "no data" in engagement.excluded_reason
    excluded = {(e.component, e.signal) for e in explanation.excluded}
    assert ("engagement", None) in excluded and ("usage", "active_days_30d") in excluded
    events = explanation.components[0].signals[0]
    assert (events.name, events.effective_weight) == ("events_30d", pytest.approx(100.0))


def test_customer_without_any_data_has_unknown_health_not_zero(profile: HealthProfile) -> None:
    table = score_health(make_snapshot(FULL, EMPTY), profile)
    explanation = explain_health(table, "empty")
    assert explanation.health is None and explanation.band is None and explanation.most_impactful is None
    assert explanation.segment is None and explanation.headline().startswith("Health unknown")
    assert {e.component for e in explanation.excluded if e.signal is None} == set(profile.component_names)


def test_table_lists_signals_missing_from_the_snapshot(profile: HealthProfile) -> None:
    snapshot = make_snapshot(FULL).drop(columns=["nps_latest"])
    table = score_health(snapshot, profile)
    missing = [e for e in table.exclusions if e.signal == "nps_latest"]
    assert missing and "not in the snapshot" in missing[0].reason and missing[0].customers == 1
    assert "not in the snapshot" in next(s for s in explain_health(table, "full").components[1].signals
                                         if s.name == "nps_latest").excluded_reason


@pytest.mark.parametrize(("score", "band"), [
    pytest.param(0.0, "red", id="0-red"),
    pytest.param(50.0, "red", id="50-red"),
    pytest.param(50.4, "yellow", id="50.4-yellow"),
    pytest.param(51.0, "yellow", id="51-yellow"),
    pytest.param(75.0, "yellow", id="75-yellow"),
    pytest.param(75.01, "green", id="75.01-green"),
    pytest.param(100.0, "green", id="100-green"),
])
def test_band_boundaries_score_at_most_50_red_at_most_75_yellow(score: float, band: str) -> None:
    """With one signal linear 0→0, 100→100, health equals the value."""
    table = score_health(make_snapshot({"customer_id": "c", "x_value": score}), one_signal_profile(column="x_value"))
    assert table.frame.loc["c", "health"] == pytest.approx(score)
    assert table.frame.loc["c", "band"] == band


@pytest.mark.parametrize(("on_time", "expected", "health"), [
    pytest.param(0.5, "payment", 100 - 7 - 7.5, id="payment-0-beats-the-heavier-usage"),
    pytest.param(0.7, "usage", 100 - 7 - 5.7, id="usage-80-beats-the-lower-payment-24"),
])
def test_most_impactful_component_weighs_the_gap_by_the_weight(profile: HealthProfile, on_time: float, expected: str,
                                                               health: float) -> None:
    """Impact = (100 − component score) × effective weight: the health points at stake, not the lowest score
    nor the largest weight.

    usage 80 (events 48/60, active 12/15, features 3.2/4, change −0.02 → 0.48/0.6: all 80): 20 × 35 % = 7 points.
    payment with 2 overdue invoices (→ 0): on-time 0.5 → 0 gives payment 0: 100 × 7.5 % = 7.5 points → payment;
    on-time 0.7 → 40 gives payment (30×40 + 20×0) ÷ 50 = 24: 76 × 7.5 % = 5.7 points → usage. Every other component is
    100 (tenure of five years or more scores 100; the renewal signals are missing, so excluded).
    """
    row = {"customer_id": "c", "events_30d": 48, "active_days_30d": 12, "distinct_features_30d": 3.2,
           "usage_change_30d": -0.02, "email_open_rate_90d": 0.5, "nps_latest": 10, "tickets_open_high": 0,
           "mrr_growth_90d": 0.1, "seats_growth_90d": 0.1, "executive_sponsor": True, "has_champion": True,
           "tenure_days": 2000, "on_time_payment_rate": on_time, "invoices_overdue_now": 2}
    table = score_health(make_snapshot(row), profile)
    assert table.components.loc["c", "usage"] == pytest.approx(80.0)
    assert table.frame.loc["c", "most_impactful"] == expected
    assert table.frame.loc["c", "health"] == pytest.approx(health)


def test_perfect_customer_has_nothing_to_fix(profile: HealthProfile) -> None:
    row = {"customer_id": "c", "events_30d": 100, "tenure_days": 2000}
    table = score_health(make_snapshot(row), profile)
    assert table.frame.loc["c", "health"] == pytest.approx(100.0)
    assert explain_health(table, "c").most_impactful is None


@pytest.mark.parametrize(("row", "segment"), [
    pytest.param({"churned": True, "events_30d": 60}, "churning", id="churned"),
    pytest.param({"invoices_overdue_now": 1, "events_30d": 60}, "churning", id="overdue-invoice"),
    pytest.param({"tickets_open_high": 2, "events_30d": 60}, "churning", id="high-priority-complaint"),
    pytest.param({"cancel_at_period_end": True, "events_30d": 60}, "churning", id="auto-renew-off-is-a-cancel-signal"),
    pytest.param({"events_30d": 1, "tenure_days": 400}, "dormant", id="minimal-usage"),
    pytest.param({"events_30d": 40, "usage_change_30d": -0.35, "tenure_days": 400}, "at_risk", id="usage-down-35pct"),
    pytest.param({"events_30d": 40, "nps_latest": 5, "email_open_rate_90d": 0.05}, "at_risk", id="low-engagement"),
    pytest.param({"events_30d": 60, "active_days_30d": 15, "nps_latest": 9}, "champions", id="high-usage-promoter"),
    pytest.param({"events_30d": 60, "active_days_30d": 15, "nps_latest": 8}, "healthy", id="high-usage-passive"),
])
def test_segments_follow_the_seed_matrix(profile: HealthProfile, row: dict[str, Any], segment: str) -> None:
    """Rules in order: churning (churned, overdue, high-priority ticket), dormant (≤ 2 events or 30 idle days),
    at_risk (usage −30 % or worse, engagement < 50, red band), champions (usage ≥ 75 and NPS ≥ 9), healthy.
    low-engagement: NPS 5 → 20, open rate 5 % → 0: engagement = (.4×20 + .3×0) ÷ .7 = 11.4 < 50.
    """
    table = score_health(make_snapshot({"customer_id": "c", **row}), profile)
    assert table.frame.loc["c", "segment"] == segment
    assert explain_health(table, "c").strategy == {
        "churning": "Save team escalation", "dormant": "Re-activation campaign", "at_risk": "Intervention, support",
        "champions": "Advocacy, referrals, expansion", "healthy": "Expansion opportunities"}[segment]


def test_trend_compares_with_the_previous_snapshot_under_the_same_profile(profile: HealthProfile) -> None:
    """Only events_30d present: health = events score. Now 45 → 75; 30 days earlier 30 → 50: up 25.
    b: 30 both times → flat (|Δ| = 0 ≤ 1). c: absent earlier → no trend. d: 60 → 30: down 50.
    """
    now = make_snapshot(*({"customer_id": c, "events_30d": e} for c, e in [("a", 45), ("b", 30), ("c", 30), ("d", 30)]))
    before = make_snapshot(*({"customer_id": c, "events_30d": e} for c, e in [("a", 30), ("b", 30), ("d", 60)]))
    frame = score_health(now, profile, previous=before).frame
    assert frame["trend_delta"].tolist()[:2] == pytest.approx([25.0, 0.0])
    assert frame.loc["d", "trend_delta"] == pytest.approx(-50.0)
    assert [frame.loc[c, "trend"] for c in "abd"] == ["up", "flat", "down"]
    assert pd.isna(frame.loc["c", "trend"]) and np.isnan(frame.loc["c", "previous_health"])
    explanation = explain_health(score_health(now, profile, previous=before), "a")
    assert explanation.headline().startswith("Health 75.0 (yellow), up 25.0 vs 30 days earlier")


def test_imported_extra_columns_and_categories_can_be_signals() -> None:
    """x_plan_fit lookup {good 100, poor 0, other 50}; x_logins linear 0→0, 10→100. Components 50/50.
    a: good, 5 logins → (100 + 50) ÷ 2 = 75. b: unknown category 'meh' → default 50, logins missing → 50.
    """
    profile = profile_from_dict({
        "components": {
            "fit": {"weight": 50, "signals": {"x_plan_fit": {"weight": 100, "scoring": "lookup",
                                                             "scores": {"good": 100, "poor": 0}, "default": 50}}},
            "use": {"weight": 50, "signals": {"logins": {"column": "x_logins", "weight": 100, "direction": "higher_is_better",
                                                         "bad": 0, "good": 10}}},
        },
        "risk": _risk_table(),
    }, where="extra.toml")
    snapshot = pd.DataFrame({"customer_id": ["a", "b"], "x_plan_fit": ["good", "meh"], "x_logins": [5.0, np.nan]})
    health = score_health(snapshot, profile).frame["health"]
    assert health.tolist() == pytest.approx([75.0, 50.0])


def test_text_column_with_linear_scoring_is_a_config_error() -> None:
    snapshot = pd.DataFrame({"customer_id": ["a"], "x_value": ["high"]})
    with pytest.raises(ConfigError, match="x_value.*not numeric"):
        score_health(snapshot, one_signal_profile(column="x_value"))


def test_duplicate_customers_are_rejected(profile: HealthProfile) -> None:
    with pytest.raises(QueryError, match="one row per customer"):
        score_health(make_snapshot(FULL, FULL), profile)


def test_explaining_an_unknown_customer_is_a_query_error(profile: HealthProfile) -> None:
    with pytest.raises(QueryError, match="no customer 'zz'"):
        explain_health(score_health(make_snapshot(FULL), profile), "zz")


def test_explanation_serialises_without_nan(profile: HealthProfile) -> None:
    payload = explain_health(score_health(make_snapshot(SPARSE), profile), "sparse").to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert '"engagement"' in text and payload["health"] == pytest.approx(6000 / 77.5)


def test_scores_are_deterministic(profile: HealthProfile) -> None:
    snapshot = make_snapshot(FULL, SPARSE, EMPTY)
    first, second = score_health(snapshot, profile), score_health(snapshot.iloc[::-1], profile)
    pd.testing.assert_frame_equal(first.frame, second.frame.loc[first.frame.index])
