"""Stage models: rules fire as written, first match wins, overlays, evidence, validation, presets, leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.errors import ConfigError
from lifecycle.stages import (
    UNCLASSIFIED,
    RuleCheck,
    classify_customer,
    classify_customers,
    classify_leads,
    load_model,
    parse_model,
    preset_names,
    stage_distribution,
    time_in_stage,
)
from tests.builders import make_dataset
from tests.lifecycle.test_snapshot import AS_OF, fixture_tables

BASE: dict[str, Any] = {
    # a mature, activated, steadily-using customer that matches only the catch-all adoption rule
    "tenure_days": 200.0, "nps_category": "passive", "referrals_made": 0.0, "mrr_change_90d": 0.0, "mrr_90d_ago": 100.0,
    "seats_change_90d": 0.0, "seats_90d_ago": 5.0, "distinct_features_30d": 2.0, "active_days_30d": 5.0,
    "onboarding_complete": True, "activated": True, "activated_at": pd.Timestamp("2024-01-03"), "churned": False,
    "usage_change_30d": 0.0, "invoices_overdue_now": 0.0, "tickets_open_high": 0.0, "days_since_last_event": 1.0,
    "last_event_at": pd.Timestamp("2024-06-29"), "events_90d": 40.0, "reactivated": False,
    "orders_count": 0.0, "days_since_last_order": np.nan,
}
BOOLEANS = ("onboarding_complete", "activated", "churned", "reactivated")


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A snapshot-shaped frame: BASE values overridden per row, contract dtypes."""
    records = [{"customer_id": f"c{i}", **BASE, **row} for i, row in enumerate(rows)]
    out = pd.DataFrame(records)
    out["customer_id"] = out["customer_id"].astype("string")
    out["nps_category"] = out["nps_category"].astype("string")
    for column in BOOLEANS:
        out[column] = out[column].astype("boolean")
    for column in ("activated_at", "last_event_at"):
        out[column] = pd.to_datetime(out[column]).astype("datetime64[us]")
    return out


DEFAULT = load_model("default")


@pytest.mark.parametrize(("rule_id", "stage", "overrides"), [
    ("advocacy_promoter", "loyalty_advocacy", {"nps_category": "promoter"}),
    ("advocacy_referrer", "loyalty_advocacy", {"referrals_made": 2.0}),
    ("growth_mrr", "growth_expansion", {"mrr_change_90d": 20.0}),
    ("growth_seats", "growth_expansion", {"seats_change_90d": 2.0}),
    ("growth_heavy_usage", "growth_expansion", {"distinct_features_30d": 4.0, "active_days_30d": 15.0}),
    ("onboarding_first_14_days", "purchase_onboarding", {"tenure_days": 10.0}),
    ("onboarding_incomplete", "purchase_onboarding", {"tenure_days": 25.0, "onboarding_complete": False}),
    ("onboarding_no_value_yet", "purchase_onboarding", {"activated_at": pd.NaT, "activated": False}),
    ("adoption_early", "adoption", {"tenure_days": 45.0}),
    ("adoption_steady", "adoption", {}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_default_rule_fires_on_its_crafted_customer(rule_id: str, stage: str, overrides: dict[str, Any]) -> None:
    result = classify_customers(frame(overrides), DEFAULT).iloc[0]
    assert (result["rule_id"], result["stage"]) == (rule_id, stage)


def test_first_matching_rule_wins_in_file_order() -> None:
    """A promoter whose MRR also grew matches advocacy_promoter and growth_mrr; the earlier rule wins."""
    result = classify_customers(frame({"nps_category": "promoter", "mrr_change_90d": 20.0}), DEFAULT).iloc[0]
    assert result["rule_id"] == "advocacy_promoter"


def _two_rule_model(first: str, second: str) -> str:
    rules = {"big": '{ feature = "tenure_days", op = ">", value = 100 }', "old": '{ feature = "tenure_days", op = ">=", value = 150 }'}
    return ('id = "mine"\n[[stages]]\nid = "big"\n[[stages]]\nid = "old"\n'
            f'[[rules]]\nid = "{first}"\nstage = "{first}"\nconditions = [{rules[first]}]\n'
            f'[[rules]]\nid = "{second}"\nstage = "{second}"\nconditions = [{rules[second]}]\n')


def test_swapping_two_overlapping_rules_swaps_the_stage() -> None:
    row = frame({"tenure_days": 200.0})
    assert classify_customers(row, parse_model(_two_rule_model("big", "old"), "mine.toml"))["stage"].iloc[0] == "big"
    assert classify_customers(row, parse_model(_two_rule_model("old", "big"), "mine.toml"))["stage"].iloc[0] == "old"


def test_evidence_holds_each_threshold_and_the_customers_value() -> None:
    evidence = classify_customers(frame({"mrr_change_90d": 20.0}), DEFAULT)["evidence"].iloc[0]
    assert evidence == {"rule": "growth_mrr", "checks": [
        {"feature": "mrr_change_90d", "op": ">", "value": 0, "actual": 20.0},
        {"feature": "mrr_90d_ago", "op": ">", "value": 0, "actual": 100.0},
    ]}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"usage_change_30d": -0.5}, {"at_risk"}),
    ({"nps_category": "detractor"}, {"at_risk"}),
    ({"invoices_overdue_now": 1.0}, {"at_risk"}),
    ({"tickets_open_high": 1.0}, {"at_risk"}),
    ({"days_since_last_event": 30.0}, {"dormant"}),
    ({"last_event_at": pd.NaT, "days_since_last_event": np.nan, "tenure_days": 40.0}, {"dormant"}),
    ({"reactivated": True}, {"reactivated"}),
    ({"churned": True, "usage_change_30d": -0.9, "days_since_last_event": 90.0}, {"churned"}),
    ({"usage_change_30d": -0.49, "days_since_last_event": 29.0}, set()),
], ids=["usage-halved", "detractor", "overdue", "high-ticket", "inactive-30d", "never-used", "reactivated",
        "churned-only", "just-below-thresholds"])
def test_default_overlays(overrides: dict[str, Any], expected: set[str]) -> None:
    result = classify_customers(frame(overrides), DEFAULT).iloc[0]
    assert set(filter(None, result["overlays"].split(","))) == expected


def test_missing_churned_flag_does_not_block_at_risk() -> None:
    """``!=`` is the negation of ``==``: an unknown churned flag is "not known to be churned"."""
    row = frame({"usage_change_30d": -0.8})
    row["churned"] = pd.array([pd.NA], dtype="boolean")
    assert classify_customers(row, DEFAULT)["overlay_at_risk"].iloc[0]


@pytest.mark.parametrize(("toml", "message"), [
    ('id = "x"\n[[stages]]\nid = "a"\n[[rules]]\nid = "r1"\nstage = "a"\nconditions = [{ feature = "tenure_days", op = "~", value = 1 }]',
     "rule 'r1'"),
    ('id = "x"\n[[stages]]\nid = "a"\n[[rules]]\nid = "r2"\nstage = "zzz"\nconditions = []', "rule 'r2'"),
    ('id = "x"\n[[stages]]\nid = "a"\n[[rules]]\nid = "r3"\nstage = "a"\nconditions = [{ feature = "tenure_days", op = "<" }]',
     "rule 'r3'"),
    ('id = "x"\n[[stages]]\nid = "a"\n[[rules]]\nid = "r4"\nstage = "a"\nconditions = [{ feature = "plan", op = "in", value = "pro" }]',
     "rule 'r4'"),
    ('id = "x"\n[[stages]]\nid = "a"\nexpected_days = -3\n[[rules]]\nid = "r5"\nstage = "a"', "stage 'a'"),
    ('id = "x"\n[[stages]]\nid = "a"\n[[rules]]\nid = "r6"\nstage = "a"\n[[rules]]\nid = "r6"\nstage = "a"', "'r6' is defined twice"),
    ('id = "x"\n[[stages]\nid = "a"', "invalid TOML"),
    ('id = "x"\nfoo = 1\n[[stages]]\nid = "a"', "unknown key(s) foo"),
], ids=["bad-op", "unknown-stage", "missing-value", "in-needs-list", "negative-expected-days", "duplicate-rule",
        "toml-syntax", "unknown-key"])
def test_invalid_model_raises_config_error_naming_file_and_rule(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad_model.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_model(path)
    assert "bad_model.toml" in str(caught.value) and message in str(caught.value)


def test_rule_on_a_feature_the_snapshot_lacks_is_a_config_error_naming_the_rule() -> None:
    model = parse_model('id = "x"\n[[stages]]\nid = "a"\n[[rules]]\nid = "needs_magic"\nstage = "a"\n'
                        'conditions = [{ feature = "x_magic", op = ">", value = 1 }]', "own.toml")
    with pytest.raises(ConfigError, match=r"own.toml: rule 'needs_magic'.*x_magic"):
        classify_customers(frame({}), model)


def test_unknown_model_name_lists_the_presets() -> None:
    with pytest.raises(ConfigError, match="default, ecommerce, saas"):
        load_model("nope")


def test_presets_are_shipped_and_valid() -> None:
    assert set(preset_names()) >= {"default", "saas", "aarrr", "ecommerce"}
    for name in preset_names():
        model = load_model(name)
        assert model.rules and model.final_stage in {s.id for s in model.customer_stages}


@pytest.mark.parametrize(("overrides", "stage"), [
    ({"tenure_days": 10.0}, "onboard"), ({"tenure_days": 30.0}, "activate"), ({"tenure_days": 61.0}, "retain"),
    ({"tenure_days": 61.0, "mrr_change_90d": 5.0}, "expand"), ({"tenure_days": 61.0, "referrals_made": 1.0}, "advocate"),
], ids=["day-10", "day-30", "day-61", "expansion", "referrer"])
def test_saas_preset_follows_the_seed_timelines(overrides: dict[str, Any], stage: str) -> None:
    """seed 002: onboarding days 1–14, adoption days 15–60, retention day 60+."""
    assert classify_customers(frame(overrides), load_model("saas"))["stage"].iloc[0] == stage


@pytest.mark.parametrize(("orders", "days_since", "stage"), [
    (0.0, np.nan, "acquisition"), (1.0, 20.0, "first_purchase"), (3.0, 20.0, "repeat"), (6.0, 20.0, "loyal"),
    (6.0, 200.0, "win_back"),
], ids=["none", "one", "three", "six", "lapsed"])
def test_ecommerce_preset_reads_order_counts_and_recency(orders: float, days_since: float, stage: str) -> None:
    row = frame({"orders_count": orders, "days_since_last_order": days_since})
    assert classify_customers(row, load_model("ecommerce"))["stage"].iloc[0] == stage


FEATURES = st.fixed_dictionaries({
    "tenure_days": st.floats(0, 2000), "nps_category": st.sampled_from(["promoter", "passive", "detractor", None]),
    "referrals_made": st.sampled_from([0.0, 1.0, np.nan]), "mrr_change_90d": st.floats(-100, 100) | st.just(np.nan),
    "seats_change_90d": st.sampled_from([-1.0, 0.0, 2.0, np.nan]), "distinct_features_30d": st.floats(0, 6),
    "active_days_30d": st.floats(0, 30), "onboarding_complete": st.sampled_from([True, False, None]),
    "activated": st.sampled_from([True, False, None]), "churned": st.sampled_from([True, False, None]),
    "usage_change_30d": st.floats(-1, 3) | st.just(np.nan), "days_since_last_event": st.floats(0, 400) | st.just(np.nan),
})


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(FEATURES, min_size=1, max_size=40), model_name=st.sampled_from(["default", "saas", "aarrr"]))
def test_every_customer_gets_exactly_one_stage_and_classification_is_deterministic(rows: list[dict[str, Any]], model_name: str) -> None:
    snap = frame(*rows)
    model = load_model(model_name)
    first = classify_customers(snap, model)
    counts = first["stage"].value_counts()
    assert counts.sum() == len(snap) and UNCLASSIFIED not in counts  # every preset ends with a catch-all rule
    shuffled = classify_customers(snap.sample(frac=1.0, random_state=7), model).set_index("customer_id")
    pd.testing.assert_frame_equal(first.set_index("customer_id"), shuffled.loc[first["customer_id"]])


@pytest.mark.slow
def test_classifying_100k_customers_is_vectorised() -> None:
    """100k rows through every rule and overlay; a per-row Python loop would take minutes, this takes seconds."""
    rng = np.random.default_rng(1)
    n = 100_000
    snap = frame({})
    snap = snap.loc[np.zeros(n, dtype=int)].reset_index(drop=True)
    snap["customer_id"] = pd.array([f"c{i:06d}" for i in range(n)], dtype="string")
    snap["tenure_days"] = rng.uniform(0, 1000, n)
    snap["mrr_change_90d"] = rng.normal(0, 10, n)
    snap["nps_category"] = pd.array(rng.choice(["promoter", "passive", "detractor"], n), dtype="string")
    result = classify_customers(snap, DEFAULT)
    assert len(result) == n and result["stage"].notna().all()


# --------------------------------------------------------------------------- on a real store


def _with_leads() -> dict[str, list[dict[str, Any]]]:
    tables = fixture_tables()
    tables["leads"] = [
        {"lead_id": "L1", "created_at": "2024-06-01", "status": "lead"},
        {"lead_id": "L2", "created_at": "2024-05-01", "status": "sql", "mql_at": "2024-05-05", "sql_at": "2024-05-20"},
        {"lead_id": "L3", "created_at": "2024-05-01", "status": "won", "mql_at": "2024-05-02", "won_at": "2024-07-10"},
        {"lead_id": "L4", "created_at": "2024-04-01", "status": "lost", "lost_at": "2024-05-01"},
        {"lead_id": "L5", "created_at": "2024-05-15", "status": "won", "won_at": "2024-06-20", "customer_id": "b"},
    ]
    return tables


def test_leads_are_classified_as_of_their_funnel_dates(tmp_path: Path) -> None:
    """L1 lead → awareness; L2 sql → evaluation; L3 won only after as_of, so on as_of it was an MQL → evaluation;
    L4 lost and L5 converted (customer b signed up 2024-06-20) are no longer leads."""
    ds = make_dataset(tmp_path, _with_leads(), as_of=AS_OF)
    leads = classify_leads(ds, DEFAULT).set_index("lead_id")
    assert leads["stage"].to_dict() == {"L1": "awareness", "L2": "evaluation", "L3": "evaluation"}


def test_stage_distribution_counts_leads_customers_and_churned(tmp_path: Path) -> None:
    """Fixture customers on 2024-06-30: a promoter past 90 days → loyalty; b day 10 → onboarding; c churned;
    d (value reached, day 167; paid nothing on Apr 1, so its MRR "growth" is not expansion) → adoption."""
    ds = make_dataset(tmp_path, _with_leads(), as_of=AS_OF)
    dist = stage_distribution(ds, DEFAULT)
    counts = {(r.stage, r.population): r.count for r in dist.itertuples()}
    assert counts == {("awareness", "leads"): 1, ("evaluation", "leads"): 2, ("purchase_onboarding", "customers"): 1,
                      ("adoption", "customers"): 1, ("growth_expansion", "customers"): 0,
                      ("loyalty_advocacy", "customers"): 1, ("churned", "customers"): 1}
    assert dist.loc[dist["stage"] == "adoption", "overlay_reactivated"].item() == 1


def test_time_in_stage_uses_monthly_as_of_checkpoints(tmp_path: Path) -> None:
    """a: on 2024-03-30 its tenure (89 days) was too short for advocacy; on 2024-04-30 (120 days, a referral on
    Mar 1) it qualified, and stayed through Jun 30 → entered 2024-04-30, 61 days. b signed up 2024-06-20 and has
    been onboarding since → 10 days (from signup, not censored)."""
    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF)
    tis = time_in_stage(ds, DEFAULT, months=6).set_index("customer_id")
    assert tis.loc["a", "stage"] == "loyalty_advocacy"
    assert (str(tis.loc["a", "entered_at"].date()), tis.loc["a", "days_in_stage"], tis.loc["a", "censored"]) == ("2024-04-30", 61.0, False)
    assert (tis.loc["b", "days_in_stage"], tis.loc["b", "censored"]) == (10.0, False)


def test_classify_customer_explains_the_verdict(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF)
    from lifecycle.snapshot import build_snapshot

    verdict = classify_customer(build_snapshot(ds), DEFAULT, "a", dataset=ds)
    assert (verdict.stage, verdict.rule_id) == ("loyalty_advocacy", "advocacy_promoter")
    assert RuleCheck("tenure_days", ">", 90, 181.0) in verdict.checks
    assert verdict.overlays == ("at_risk",)
    assert set(verdict.overlay_rules) == {"at_risk_overdue_invoice", "at_risk_high_priority_ticket"}
    assert verdict.time_in_stage_days == 61.0


def test_the_example_model_in_docs_stages_md_is_valid() -> None:
    """docs/stages.md shows a user's own model; it must load and classify as described."""
    import re

    text = (Path(__file__).resolve().parents[2] / "docs" / "stages.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n# my_stages.toml\n(.*?)```", text, re.S)
    assert block is not None
    model = parse_model(block.group(1), "my_stages.toml")
    snap = frame({"nps_category": "promoter"}, {})
    snap["mrr_current"] = [1500.0, 1500.0]
    assert list(classify_customers(snap, model)["stage"]) == ["champion", "new"]
    assert [s.id for s in model.signals] == ["uses_our_api"]


def test_stage_distribution_defaults_to_the_configured_model(tmp_path: Path) -> None:
    from lifecycle.config import EngineConfig, ModelsConfig

    ds = make_dataset(tmp_path, fixture_tables(), as_of=AS_OF, config=EngineConfig(models=ModelsConfig(stages="saas")))
    assert "onboard" in set(stage_distribution(ds)["stage"])
