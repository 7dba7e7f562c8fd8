"""The verifier's extraction and matching rules, one behaviour per test."""

from __future__ import annotations

import pytest

from lifecycle.facts import Fact, FactBundle
from prompts.verify import ClaimStatus, ClaimUnit, extract_claims, parse_number, verify_draft


def bundle() -> FactBundle:
    return FactBundle("2025-12-31", {"start": "2025-01-01", "end": "2025-12-31"}, {}, (
        Fact("activation_rate", "Activation", 0.642, "ratio", "64.2%", 500, "60–80%+", "within"),
        Fact("mrr", "MRR", 182345.5, "money", "$182,346"),
        Fact("nps", "NPS", 27.5, "score", "27.5", 300, "30–50+", "below"),
    ))


@pytest.mark.parametrize(("raw", "language", "value"), [
    ("1,234.5", "en", 1234.5), ("1 234,5", "ru", 1234.5), ("12,5", "ru", 12.5), ("1.234,5", "ru", 1234.5),
    ("1,987", "en", 1987.0), ("0,75", "en", 0.75), ("1\u00a0234", "ru", 1234.0),
])
def test_numbers_parse_by_the_languages_conventions(raw: str, language: str, value: float) -> None:
    assert parse_number(raw, language)[0] == value


def test_chinese_wan_and_russian_mln_scale_the_value() -> None:
    (wan,) = extract_claims("收入为18.2万美元。", "zh")
    assert wan.value == 182000.0 and wan.unit is ClaimUnit.MONEY and wan.step == 1000.0
    (mln,) = extract_claims("Выручка 1,2 млн $.", "ru")
    assert mln.value == 1_200_000.0


def test_rounded_citation_at_coarser_precision_is_verified() -> None:
    report = verify_draft("Activation is 64% [F:activation_rate].", bundle())
    assert [c.status for c in report.claims] == [ClaimStatus.VERIFIED]


def test_rounding_to_a_wrong_value_is_caught() -> None:
    report = verify_draft("Activation is 65% [F:activation_rate].", bundle())
    assert report.claims[0].status is ClaimStatus.WRONG_VALUE and report.claims[0].expected == "64.2%"


def test_citing_an_unknown_fact_is_reported() -> None:
    assert verify_draft("Churn is 3% [F:made_up].", bundle()).claims[0].status is ClaimStatus.UNKNOWN_FACT


def test_dates_stage_numbers_list_numbering_and_citation_ids_are_not_claims() -> None:
    text = "## Stage 3: Purchase\n1. As of 2025-12-31 the retention_30d fact [F:activation_rate] matters in Q3 and week 2."
    assert extract_claims(text) == []


def test_numbers_the_prompt_itself_used_are_structure_not_claims() -> None:
    prompt = "Plan the next 90 days."
    report = verify_draft("Over the next 90 days we focus on onboarding.", bundle(), prompt_text=prompt)
    assert report.claims == ()


def test_target_band_ends_cited_with_their_metric_are_verified() -> None:
    report = verify_draft("NPS is 27.5 [F:nps], below the 30–50 band [F:nps].", bundle())
    assert [c.status for c in report.claims] == [ClaimStatus.VERIFIED] * 3


def test_a_sentence_mixing_a_cited_fact_and_an_invented_number_flags_only_the_invented_one() -> None:
    report = verify_draft("MRR is $182,346 [F:mrr] and could reach $250,000 next year.", bundle())
    assert [c.status for c in report.claims] == [ClaimStatus.VERIFIED, ClaimStatus.WRONG_VALUE]
    assert not report.ok and "250,000" in report.markdown()


def test_percentage_points_match_a_ratio_difference_and_points_match_a_score() -> None:
    facts = FactBundle("2025-12-31", {"start": "2025-01-01", "end": "2025-12-31"}, {}, (
        Fact("driver.x.difference", "difference", 0.696, "ratio", "+69.6 pts"),
        Fact("nps", "NPS", 12.1, "score", "12.1"),
    ))
    report = verify_draft("Early activators progress +69.6 pts more [F:driver.x.difference]; NPS is 12.1 points [F:nps].", facts)
    assert [c.status for c in report.claims] == [ClaimStatus.VERIFIED, ClaimStatus.VERIFIED]
    assert verify_draft("NPS is 12.1% [F:nps].", facts).claims[0].status is ClaimStatus.WRONG_UNIT
