"""A custom health profile overrides only what it names; what it lacks is inherited or reported, never silently empty.

Also pins the ``log`` scoring (tenure, contract length) by hand computation and the reasons a missing signal gives.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.errors import ConfigError
from lifecycle.health import explain_health, score_health
from lifecycle.health.profile import Reason, load_health_profile
from lifecycle.health.score import coverage_summary, score_signal
from tests.lifecycle.test_health import FULL, make_snapshot

DEFAULT = load_health_profile("default")


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profile_with_only_weights_loads_and_inherits_everything_else(tmp_path: Path) -> None:
    profile = load_health_profile(write(tmp_path, "[weights]\nusage = 30\nengagement = 20\ngrowth = 15\n"
                                                  "relationship = 25\npayment = 10\n"))
    assert {c.name: c.weight for c in profile.components} == {
        "usage": 30, "engagement": 20, "growth": 15, "relationship": 25, "payment": 10}
    assert [c.signals for c in profile.components] == [c.signals for c in DEFAULT.components]
    assert profile.segments == DEFAULT.segments and profile.risk == DEFAULT.risk and profile.bands == DEFAULT.bands
    assert profile.name == "mine" and profile.extends == "default" and profile.notes == ()


def test_a_weight_of_zero_drops_an_inherited_component(tmp_path: Path) -> None:
    """usage 35 + engagement 22.5 + growth 17.5 + relationship 17.5 = 92.5 … so payment's 7.5 goes to usage (42.5)."""
    profile = load_health_profile(write(tmp_path, "[weights]\npayment = 0\nusage = 42.5\n"))
    assert profile.component_names == ("usage", "engagement", "growth", "relationship")


def test_weights_that_do_not_sum_to_100_name_the_inherited_components(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_health_profile(write(tmp_path, "[weights]\nusage = 50\n"))
    message = str(caught.value)
    assert "mine.toml: components: component weights must sum to 100, got 115" in message
    assert "inherited from 'default'" in message and "[weights]" in message


def test_a_named_component_replaces_its_namesake_and_the_rest_is_inherited(tmp_path: Path) -> None:
    text = """
[components.growth]
weight = 17.5
[components.growth.signals.seats_growth_90d]
weight = 100
direction = "higher_is_better"
scoring = "sign"
negative = 0
zero = 50
positive = 100
"""
    profile = load_health_profile(write(tmp_path, text))
    assert profile.component_names == DEFAULT.component_names
    assert [s.name for s in profile.component("growth").signals] == ["seats_growth_90d"]
    assert profile.component("usage") == DEFAULT.component("usage")


def test_components_carrying_100_between_them_are_a_whole_model(tmp_path: Path) -> None:
    text = """
[components.tenure]
weight = 100
[components.tenure.signals.tenure_days]
weight = 100
direction = "higher_is_better"
bad = 0
good = 365
"""
    profile = load_health_profile(write(tmp_path, text))
    assert profile.component_names == ("tenure",)
    assert profile.risk == DEFAULT.risk  # the other tables are still inherited


def test_risk_settings_merge_key_by_key(tmp_path: Path) -> None:
    text = '[risk]\ninactive_days = 14\n[risk.reasons.usage_drop]\nseverity = 0.4\n'
    rules = load_health_profile(write(tmp_path, text)).risk
    assert rules.inactive_days == 14 and rules.usage_drop_at == DEFAULT.risk.usage_drop_at
    drop, default_drop = rules.rule(Reason.USAGE_DROP), DEFAULT.risk.rule(Reason.USAGE_DROP)
    assert (drop.severity, drop.play, drop.strategy) == (0.4, default_drop.play, default_drop.strategy)
    assert rules.rule(Reason.AUTO_RENEW_OFF) == DEFAULT.risk.rule(Reason.AUTO_RENEW_OFF)


def test_segments_missing_from_a_profile_are_reported(tmp_path: Path) -> None:
    text = '[[segments]]\nname = "churning"\nstrategy = "Save team escalation"\nany = [{ column = "churned", op = "==", value = true }]\n'
    profile = load_health_profile(write(tmp_path, text))
    assert [s.name for s in profile.segments] == ["churning"]
    assert profile.missing_segments == ("dormant", "at_risk", "champions", "healthy")
    assert len(profile.notes) == 1 and "segments missing from the profile: dormant, at_risk, champions, healthy" in profile.notes[0]
    caveat = coverage_summary(score_health(make_snapshot(FULL), profile)).caveat()
    assert caveat is not None and "segments missing from the profile" in caveat


def test_a_profile_without_segment_rules_says_every_segment_is_empty(tmp_path: Path) -> None:
    profile = load_health_profile(write(tmp_path, "segments = []\n"))
    assert profile.segments == () and "every customer's segment is empty" in profile.notes[0]


def test_a_profile_can_extend_another_shipped_profile(tmp_path: Path) -> None:
    profile = load_health_profile(write(tmp_path, 'extends = "activity"\n[bands]\nred_max = 40\n'))
    assert profile.component_names == ("recency", "frequency", "trend") and profile.bands.red_max == 40
    assert profile.bands.yellow_max == 75


def test_extending_an_unknown_profile_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mine\.toml: extends: 'saas' is not a shipped profile"):
        load_health_profile(write(tmp_path, 'extends = "saas"\n'))


def test_the_shipped_profiles_stay_complete_and_name_every_seed_segment() -> None:
    for name in ("default", "ecommerce", "activity"):
        profile = load_health_profile(name)
        assert profile.extends == "none" and profile.notes == () and profile.missing_segments == ()
        assert {r for r, _ in profile.risk.reasons} == set(Reason)


@pytest.mark.parametrize(("value", "score"), [
    pytest.param(30.0, 0.0, id="first-month-0"),
    pytest.param(10.0, 0.0, id="below-bad-clipped-0"),
    pytest.param(0.0, 0.0, id="zero-days-0"),
    pytest.param(1826.0, 100.0, id="five-years-100"),
    pytest.param(4000.0, 100.0, id="beyond-good-clipped-100"),
    pytest.param(365.0, 100.0 * math.log(365 / 30) / math.log(1826 / 30), id="a-year-60.8"),
    pytest.param(math.sqrt(30 * 1826), 50.0, id="geometric-mean-50"),
])
def test_tenure_is_scored_on_a_log_scale_between_a_month_and_five_years(value: float, score: float) -> None:
    """log: clip((ln x − ln 30) ÷ (ln 1826 − ln 30), 0, 1) × 100; a year: ln(12.17) ÷ ln(60.87) = 2.4987 ÷ 4.1087."""
    tenure = next(s for s in DEFAULT.component("relationship").signals if s.name == "tenure_days")
    got = score_signal(tenure, pd.Series([value]))[0]
    assert got == pytest.approx(score)
    assert math.isnan(score_signal(tenure, pd.Series([np.nan]))[0])


def test_log_scoring_needs_positive_thresholds(tmp_path: Path) -> None:
    text = """
[components.relationship.signals.tenure_days]
weight = 100
direction = "higher_is_better"
scoring = "log"
bad = 0
good = 365
[components.relationship]
weight = 17.5
"""
    with pytest.raises(ConfigError, match="log scoring needs positive bad and good"):
        load_health_profile(write(tmp_path, text))


def test_a_signal_the_source_cannot_record_is_excluded_with_the_reason() -> None:
    """No invoices that can record a failure: payment_failures_90d is NaN and its exclusion says why, not 'no value'."""
    row = {**FULL, "payment_failures_90d": np.nan}
    table = score_health(make_snapshot(row), DEFAULT)
    exclusion = next(e for e in table.exclusions if e.signal == "payment_failures_90d")
    assert "cannot record a failed payment" in exclusion.reason and exclusion.customers == 1
    signal = next(s for s in explain_health(table, "full").components[4].signals if s.name == "payment_failures_90d")
    assert signal.value is None and signal.score is None and "cannot record a failed payment" in signal.excluded_reason


def test_new_business_is_not_expansion() -> None:
    """A customer who started paying inside the growth window has no growth (NaN): the component is excluded for them
    and its reason says so, instead of scoring full 'expansion' points."""
    row = {**FULL, "customer_id": "new", "mrr_growth_90d": np.nan, "seats_growth_90d": np.nan, "mrr_change_90d": 50.0}
    explanation = explain_health(score_health(make_snapshot(row), DEFAULT), "new")
    growth = explanation.components[2]
    assert growth.score is None and growth.effective_weight == 0.0
    assert any("new business is not expansion" in (s.excluded_reason or "") for s in growth.signals)
