"""The customers' own words in the fact bundle: theme counts with trend, bands, per-stage themes and verbatims.

Fixture: ``tests.lifecycle.voice.test_needs`` (its docstring has the hand count): 13 NPS comments in the window and 2
in the previous one; export, price and onboarding themes of 4 each (previous window: 2, 0, 0); the churned customer
C6 wrote 2 (one export, one price); three ticket subjects, none in the previous window.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.facts.needs import needs_facts
from tests.builders import make_dataset
from tests.lifecycle.voice.test_needs import EXPORT, dataset, tables


def facts_of(tmp_path: Path) -> dict[str, object]:
    return {f.id: f for f in needs_facts(dataset(tmp_path))}


def export_key(facts: dict[str, object]) -> str:
    return next(fid.split(".")[2] for fid, f in facts.items()
                if fid.startswith("needs.nps.") and fid.endswith(".count") and f.quotes and f.quotes[0] in EXPORT)  # type: ignore[attr-defined]


def test_theme_facts_carry_counts_trend_share_and_quotes(tmp_path: Path) -> None:
    facts = facts_of(tmp_path)
    assert (facts["needs.nps.texts"].value, facts["needs.nps.texts_previous"].value) == (13.0, 2.0)  # type: ignore[attr-defined]
    key = export_key(facts)
    count = facts[f"needs.nps.{key}.count"]
    assert (count.value, count.sample_size, count.display) == (4.0, 13, "4")  # type: ignore[attr-defined]
    assert set(count.quotes) <= set(EXPORT[:4]) and len(count.quotes) == 3  # type: ignore[attr-defined]
    assert facts[f"needs.nps.{key}.previous_count"].value == 2.0  # type: ignore[attr-defined]
    assert facts[f"needs.nps.{key}.share"].value == pytest.approx(4 / 13)  # type: ignore[attr-defined]
    assert facts[f"needs.nps.{key}.band.detractor.count"].value == 4.0  # type: ignore[attr-defined]
    assert {"needs", "overview"} <= set(count.sections)  # type: ignore[attr-defined]


def test_stage_facts_feed_the_stage_sections(tmp_path: Path) -> None:
    """Churned C6 wrote 2 comments on 2 themes: the stage total is a fact, but no theme reaches 2 texts there."""
    facts = facts_of(tmp_path)
    churned = facts["needs.churned.nps.texts"]
    assert churned.value == 2.0 and set(churned.sections) == {"risk", "needs:churned"}  # type: ignore[attr-defined]
    assert not [fid for fid in facts if fid.startswith("needs.churned.nps.") and fid.endswith(".count")]
    staged = [f for fid, f in facts.items() if fid.count(".") == 4 and not fid.startswith("needs.churned")
              and fid.endswith(".count")]
    assert staged and all(f.quotes and f.detail for f in staged)  # type: ignore[attr-defined]
    for fact in staged:
        stage = fact.id.split(".")[1]  # type: ignore[attr-defined]
        assert f"needs:{stage}" in fact.sections  # type: ignore[attr-defined]


def test_no_previous_texts_gives_no_trend_rather_than_zero(tmp_path: Path) -> None:
    facts = facts_of(tmp_path)
    previous = [f for fid, f in facts.items() if fid.startswith("needs.tickets.") and fid.endswith(".previous_count")]
    assert previous and all(f.value is None and "no trend" in f.note for f in previous)  # type: ignore[attr-defined]


def test_absent_table_is_no_data_with_a_reason(tmp_path: Path) -> None:
    data = tables()
    data["nps_responses"] = []
    facts = {f.id: f for f in needs_facts(make_dataset(tmp_path, data, "2025-06-30"))}
    texts = facts["needs.nps.texts"]
    assert texts.value is None and texts.display == "no data" and "nps_responses" in texts.note
    assert not [fid for fid in facts if fid.startswith("needs.nps.") and fid != "needs.nps.texts"]
