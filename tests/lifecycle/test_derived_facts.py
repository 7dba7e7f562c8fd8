"""Derived facts: gaps to target bands, changes vs the previous period, and the previous period itself."""

from __future__ import annotations

from datetime import date

from lifecycle.facts.derived import gap_to_band, signed_display
from lifecycle.metrics.period_change import MetricChange, previous_scope
from lifecycle.metrics.results import MetricResult, TargetBand, Unit
from lifecycle.scope import Scope, Window

SCOPE = Scope.at(date(2025, 12, 31))


def _result(value: float | None, band: TargetBand | None, unit: Unit = Unit.RATIO) -> MetricResult:
    return MetricResult("m", value, unit, SCOPE, 100, target=band)


def test_gap_is_the_distance_to_the_band_end_missed_in_the_bad_direction() -> None:
    """Activation 58.5% vs 60–80%+: 1.5 points short. NRR 137% vs 100–120%+: above an open band, no gap.
    Time to value 9 days vs < 7 days: 2 days over. Within the band: no gap."""
    activation = TargetBand(0.60, 0.80, "seed", open_ended_high=True)
    assert abs(gap_to_band(_result(0.585, activation)) - 0.015) < 1e-12  # type: ignore[operator]
    assert gap_to_band(_result(1.371, TargetBand(1.0, 1.2, "seed", open_ended_high=True))) is None
    assert gap_to_band(_result(9.0, TargetBand(None, 7.0, "seed"), Unit.DAYS)) == 2.0
    assert gap_to_band(_result(0.7, activation)) is None
    assert gap_to_band(_result(None, activation)) is None


def test_previous_period_of_a_trailing_year_is_the_calendar_year_before() -> None:
    previous = previous_scope(SCOPE)
    assert previous is not None
    assert (previous.as_of, previous.window) == (date(2024, 12, 31), Window(date(2024, 1, 1), date(2024, 12, 31)))
    custom = Scope(date(2025, 3, 10), Window(date(2025, 3, 1), date(2025, 3, 10)))
    earlier = previous_scope(custom)
    assert earlier is not None and earlier.window == Window(date(2025, 2, 19), date(2025, 2, 28))


def test_change_is_a_difference_for_rates_and_relative_for_money_and_needs_enough_units_on_both_sides() -> None:
    """Rate 0.563 → 0.585: +2.2 points. MRR 869,341 → 2,867,235: × 3.298 − 1 = +229.8 %. n 12 < 30: no change."""
    rate = MetricChange("activation_rate", Unit.RATIO, 0.585, 0.563, 1230, 748, "2024-01-01", "2024-12-31", 30)
    assert abs(rate.change - 0.022) < 1e-12  # type: ignore[operator]
    money = MetricChange("mrr", Unit.MONEY, 2_867_235.0, 869_341.0, 1460, 603, "2024-01-01", "2024-12-31", 30)
    assert signed_display(money.change, Unit.MONEY, relative=True) == "+229.8%"
    tiny = MetricChange("nrr", Unit.RATIO, 1.37, 0.9, 603, 12, "2024-01-01", "2024-12-31", 30)
    assert tiny.change is None
    assert MetricChange("nrr", Unit.RATIO, 1.37, None, 603, 0, "", "", 30).change is None


def test_signed_display_reads_points_for_rates_and_scores() -> None:
    assert signed_display(-0.0112, Unit.RATIO) == "-1.1 pts"
    assert signed_display(7.4, Unit.SCORE) == "+7.4 pts"
    assert signed_display(-1.0, Unit.DAYS) == "-1.0 days"


def test_breakdown_rows_carry_their_metrics_band_and_their_own_status() -> None:
    """Activation 0.62 overall (within 60–80%+), SMB 0.55 (below), Enterprise 0.85 (above an open band)."""
    from types import SimpleNamespace

    from lifecycle.facts import metric_facts

    band = TargetBand(0.60, 0.80, "seed", open_ended_high=True)
    rows = (("SMB", _result(0.55, None)), ("Enterprise", _result(0.85, None)))
    result = MetricResult("activation_rate", 0.62, Unit.RATIO, SCOPE, 100, target=band, breakdown=rows)
    facts = {f.id: f for f in metric_facts([result], {"activation_rate": SimpleNamespace(name="Activation rate", formula="a/b")})}
    assert (facts["activation_rate"].status, facts["activation_rate.smb"].status, facts["activation_rate.enterprise"].status) == \
        ("within", "below", "above")
    assert facts["activation_rate.smb"].target == "60–80%+"
