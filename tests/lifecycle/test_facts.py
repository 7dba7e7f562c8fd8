"""The fact bundle: stable ids, reproducible, every number the prompts may cite."""

from __future__ import annotations

from pathlib import Path

from lifecycle.facts import build_facts, format_value
from lifecycle.metrics.registry import metric_ids
from lifecycle.metrics.results import Unit
from tests.builders import make_dataset


def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    customers = [{"customer_id": f"c{i}", "signup_date": "2024-01-10", "segment": "SMB"} for i in range(4)]
    subs = [{"subscription_id": f"s{i}", "customer_id": f"c{i}", "start_date": "2024-01-10", "mrr": 100.0,
             "end_date": "2024-04-01" if i == 0 else None} for i in range(4)]
    nps = [{"response_id": f"n{i}", "customer_id": f"c{i}", "responded_at": "2024-05-01", "score": 10 - 3 * i} for i in range(4)]
    return make_dataset(tmp_path, {"customers": customers, "subscriptions": subs, "nps_responses": nps}, as_of="2024-06-30")


def test_bundle_has_unique_ids_every_metric_and_stage_facts(tmp_path: Path) -> None:
    bundle = build_facts(tiny(tmp_path))
    ids = [f.id for f in bundle.facts]
    assert len(ids) == len(set(ids))
    assert set(metric_ids()) <= set(ids)
    assert "population.customers" in ids and any(i.startswith("stage.") for i in ids)
    facts = bundle.by_id()
    # 4 customers signed up; latest NPS scores 10, 7, 4, 1 → promoters 1, detractors 2 → NPS = −25.
    assert facts["population.customers"].value == 4.0
    assert facts["nps"].value == -25.0 and facts["nps"].display == "-25.0"


def test_missing_data_is_no_data_not_zero(tmp_path: Path) -> None:
    facts = build_facts(tiny(tmp_path)).by_id()
    assert facts["activation_rate"].value is None and facts["activation_rate"].display == "no data"
    assert "events" in (facts["activation_rate"].note or "")


def test_same_data_same_as_of_gives_an_identical_bundle(tmp_path: Path) -> None:
    first = build_facts(tiny(tmp_path / "a")).to_dict()
    second = build_facts(tiny(tmp_path / "b")).to_dict()
    assert first == second


def test_display_formats_follow_the_unit() -> None:
    assert format_value(0.6424, Unit.RATIO) == "64.2%"
    assert format_value(182345.5, Unit.MONEY) == "$182,346"
    assert format_value(12.5, Unit.MONEY, "EUR") == "€12.50"
    assert format_value(5.44, Unit.DAYS) == "5.4 days"
    assert format_value(None, Unit.COUNT) == "no data"
