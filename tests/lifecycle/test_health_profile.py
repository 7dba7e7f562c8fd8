"""Health profiles are data: the shipped default matches seed 002, and a bad TOML names the file and the key."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from lifecycle.errors import ConfigError
from lifecycle.health.profile import (
    PROFILES_DIR,
    Direction,
    Reason,
    Scoring,
    bundled_profiles,
    load_health_profile,
    profile_from_dict,
)

SEED_RANGES = {"usage": (30, 40), "engagement": (20, 25), "growth": (15, 20), "relationship": (15, 20), "payment": (5, 10)}
SEED_SEGMENTS = {
    "champions": "Advocacy, referrals, expansion", "healthy": "Expansion opportunities",
    "at_risk": "Intervention, support", "dormant": "Re-activation campaign", "churning": "Save team escalation",
}


def default_data() -> dict[str, Any]:
    return tomllib.loads((PROFILES_DIR / "default.toml").read_text(encoding="utf-8"))


def test_default_weights_sit_inside_the_seed_ranges_and_sum_to_100() -> None:
    """Seed 002: usage 30–40 %, engagement 20–25 %, growth 15–20 %, relationship 15–20 %, payment 5–10 %."""
    profile = load_health_profile()
    weights = {c.name: c.weight for c in profile.components}
    assert set(weights) == set(SEED_RANGES)
    assert all(SEED_RANGES[name][0] <= w <= SEED_RANGES[name][1] for name, w in weights.items())
    assert sum(weights.values()) == 100
    assert all(sum(s.weight for s in c.signals) == 100 for c in profile.components)


def test_default_segments_carry_the_seed_strategies() -> None:
    profile = load_health_profile()
    assert {s.name: s.strategy for s in profile.segments} == SEED_SEGMENTS


def test_default_risk_rules_cover_every_reason_with_a_play() -> None:
    rules = load_health_profile().risk
    assert [r for r, _ in rules.reasons] == list(Reason)
    assert all(0 < rule.severity <= 1 and rule.play for _, rule in rules.reasons)
    assert (rules.usage_drop_at, rules.inactive_days, rules.detractor_max) == (-0.3, 30, 6)


def test_bundled_profile_is_found_by_name_and_a_file_by_path(tmp_path: Path) -> None:
    assert "default" in bundled_profiles()
    path = tmp_path / "mine.toml"
    path.write_text((PROFILES_DIR / "default.toml").read_text(encoding="utf-8").replace('name = "default"', 'name = "mine"'),
                    encoding="utf-8")
    assert load_health_profile(path).name == "mine"
    assert load_health_profile(path).fingerprint() != load_health_profile().fingerprint()


def test_default_signals_read_the_snapshot_contract_columns() -> None:
    """Every default signal column is documented in docs/snapshot-contract.md."""
    contract = (Path(__file__).resolve().parents[2] / "docs" / "snapshot-contract.md").read_text(encoding="utf-8")
    for component in load_health_profile().components:
        for signal in component.signals:
            assert signal.column in contract, signal.column
            assert signal.scoring in Scoring and signal.direction in Direction


def edit(path: str, value: Any) -> dict[str, Any]:
    """The default profile with the value at dotted ``path`` replaced (``None`` deletes it)."""
    data = copy.deepcopy(default_data())
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(("path", "value", "key", "why"), [
    pytest.param("components.usage.weight", 40, "components", "must sum to 100, got 105", id="component-weights-sum"),
    pytest.param("components.usage.signals.events_30d.weight", 10, "components.usage.signals", "must sum to 100, got 80",
                 id="signal-weights-sum"),
    pytest.param("components.usage.signals.events_30d.direction", "upwards",
                 "components.usage.signals.events_30d.direction", "not one of", id="unknown-direction"),
    pytest.param("components.usage.signals.events_30d.scoring", "cubic",
                 "components.usage.signals.events_30d.scoring", "not one of", id="unknown-scoring"),
    pytest.param("components.usage.signals.events_30d.good", -5, "components.usage.signals.events_30d.good",
                 "contradict direction", id="thresholds-against-direction"),
    pytest.param("components.usage.signals.events_30d.bad", None, "components.usage.signals.events_30d.bad",
                 "missing", id="missing-threshold"),
    pytest.param("components.usage.signals.events_30d.good", "lots", "components.usage.signals.events_30d.good",
                 "expected a number", id="threshold-not-a-number"),
    pytest.param("components.usage.signals.events_30d.colour", "red", "components.usage.signals.events_30d",
                 "unknown key(s) colour", id="typo-in-signal"),
    pytest.param("components.growth.signals.mrr_growth_90d.zero", 120, "components.growth.signals.mrr_growth_90d.zero",
                 "within 0..100", id="score-above-100"),
    pytest.param("components.relationship.signals.has_champion.scores", {"true": 0, "false": 100},
                 "components.relationship.signals.has_champion.scores", "contradict direction", id="lookup-against-direction"),
    pytest.param("bands.yellow_max", 40, "bands.yellow_max", "must exceed red_max", id="bands-out-of-order"),
    pytest.param("segments.0.op", "~", "segments[0]", "unknown key(s) op", id="segment-typo"),
    pytest.param("segments.0.any", [{"column": "churned", "op": "~=", "value": True}], "segments[0].any[0].op",
                 "not one of", id="segment-unknown-op"),
    pytest.param("segments.0.strategy", None, "segments[0].strategy", "missing text", id="segment-without-strategy"),
    pytest.param("risk.reasons.usage_drop.severity", 2, "risk.reasons.usage_drop.severity", "within 0..1", id="severity-above-1"),
    pytest.param("risk.reasons.no_champion", None, "risk.reasons", "missing reason(s) no_champion", id="reason-missing"),
    pytest.param("risk.min_risk", "high", "risk.min_risk", "expected a number", id="risk-threshold-not-a-number"),
])
def test_invalid_profile_is_a_config_error_naming_file_and_key(path: str, value: Any, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        profile_from_dict(edit(path, value), where="custom.toml")
    message = str(caught.value)
    assert message.startswith(f"custom.toml: {key}:"), message
    assert why in message


def test_profile_file_errors_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    text = (PROFILES_DIR / "default.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("weight = 35\n", "weight = 36\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"custom\.toml: components: component weights must sum to 100, got 101"):
        load_health_profile(path)
    path.write_text("[components\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="custom.toml: invalid TOML"):
        load_health_profile(path)
    with pytest.raises(ConfigError, match="health profile 'nope' not found: use one of activity, default, ecommerce"):
        load_health_profile("nope")


def test_a_profile_is_read_once_and_again_only_when_its_file_changes(tmp_path: Path) -> None:
    """Every caller asking for the same profile gets the same object; editing the file gives the edited profile."""
    assert load_health_profile("ecommerce") is load_health_profile("ecommerce")
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n', encoding="utf-8")
    first = load_health_profile(path)
    assert load_health_profile(str(path)) is first and first.name == "mine"
    path.write_text('name = "mine, edited"\n', encoding="utf-8")
    assert load_health_profile(path).name == "mine, edited"


def test_the_dataset_profile_follows_its_tables_when_auto(tmp_path: Path) -> None:
    """``auto`` (the default): orders and no subscriptions → the ecommerce profile (lifecycle.config.choose_models)."""
    from datetime import date

    from lifecycle.dataset import Dataset
    from lifecycle.health.profile import profile_for
    from lifecycle.store import atomic_write

    path = tmp_path / "shop.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01"})
        db["orders"].insert({"order_id": "O1", "customer_id": "C1", "ordered_at": "2024-01-02T00:00:00", "amount": 5.0})
    dataset = Dataset.open(path, date(2024, 6, 30))
    try:
        assert profile_for(dataset) is load_health_profile("ecommerce")
    finally:
        dataset.close()
