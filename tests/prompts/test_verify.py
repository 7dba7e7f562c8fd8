"""The verifier's claim model, one behaviour per test, on a hand-made bundle (values chosen by hand, not computed).

Facts: activation 64.2% (band 60–80%), progression 42.4%, NRR 137.1% (band 100–120%), GRR 86.4% (band 85–95%),
customers 2,022, MRR $2,867,235, time to value 4.0 days (band < 7 days), NPS 11.6 (band 30–50), advocacy 11.6%,
a driver difference −30.3 pts, LTV:CAC 13.92×.
"""

from __future__ import annotations

import pytest

from lifecycle.facts import Fact, FactBundle
from prompts.grounding.numbers import Unit, find_numbers, parse_digits
from prompts.grounding.sentences import split_sentences
from prompts.verify import Verdict, verify_draft

LATE = "driver.purchase_onboarding_to_later_stage.late_payment.difference"


def bundle() -> FactBundle:
    return FactBundle("2025-12-31", {"start": "2025-01-01", "end": "2025-12-31"}, {}, (
        Fact("activation_rate", "Activation rate", 0.642, "ratio", "64.2%", 500, "60–80%+", "within"),
        Fact("progression_rate", "Stage progression rate", 0.424, "ratio", "42.4%", 900),
        Fact("logo_churn_rate", "Logo churn rate (monthly)", 0.038, "ratio", "3.8%", 900),
        Fact("nrr", "Net revenue retention", 1.371, "ratio", "137.1%", 300, "100–120%+", "above"),
        Fact("grr", "Gross revenue retention", 0.864, "ratio", "86.4%", 300, "85–95%+", "within"),
        Fact("population.customers", "Customers in scope", 2022.0, "count", "2,022"),
        Fact("mrr", "Monthly recurring revenue", 2867235.0, "money", "$2,867,235"),
        Fact("time_to_value_days", "Time to value", 4.0, "days", "4.0 days", 400, "< 7 days", "within"),
        Fact("nps", "Net Promoter Score", 11.6, "score", "11.6", 300, "30–50+", "below"),
        Fact("advocacy_generation_rate", "Advocacy generation rate", 0.116, "ratio", "11.6%", 300),
        Fact(LATE, "late payment: difference", -0.303, "ratio", "-30.3 pts", 120),
        Fact("ltv_to_cac", "LTV to CAC ratio", 13.92, "multiple", "13.92×"),
    ))


def statuses(text: str, language: str = "en") -> list[Verdict]:
    return [c.status for c in verify_draft(text, bundle(), language).claims]


@pytest.mark.parametrize(("raw", "language", "value"), [
    ("1,234.5", "en", 1234.5), ("1 234,5", "ru", 1234.5), ("12,5", "ru", 12.5), ("1.234,5", "ru", 1234.5),
    ("1,987", "en", 1987.0), ("0,75", "en", 0.75), ("1\u00a0234", "ru", 1234.0),
])
def test_numbers_parse_by_the_languages_conventions(raw: str, language: str, value: float) -> None:
    assert parse_digits(raw, language)[0] == value


@pytest.mark.parametrize(("text", "language", "value", "unit"), [
    ("fifteen percent", "en", 15.0, Unit.PERCENT), ("a third", "en", 1 / 3, Unit.FRACTION), ("twice", "en", 2.0, Unit.MULTIPLE),
    ("one in four", "en", 0.25, Unit.FRACTION), ("three and a half times", "en", 3.5, Unit.MULTIPLE),
    ("вдвое", "ru", 2.0, Unit.MULTIPLE), ("треть", "ru", 1 / 3, Unit.FRACTION), ("пятнадцать процентов", "ru", 15.0, Unit.PERCENT),
    ("三成", "zh", 0.3, Unit.FRACTION), ("百分之十五", "zh", 15.0, Unit.PERCENT), ("两倍", "zh", 2.0, Unit.MULTIPLE),
    ("$2.87 million", "en", 2_870_000.0, Unit.MONEY), ("2,87 млн долл.", "ru", 2_870_000.0, Unit.MONEY),
    ("286.7万美元", "zh", 2_867_000.0, Unit.MONEY), ("13.9:1", "en", 13.9, Unit.MULTIPLE),
])
def test_numbers_in_words_fractions_multipliers_scales_and_ratios_are_read(text: str, language: str, value: float, unit: Unit) -> None:
    (number,) = find_numbers(text, language)
    assert number.value == pytest.approx(value) and number.unit is unit


def test_russian_abbreviations_do_not_end_the_sentence_before_its_citation() -> None:
    sentences = split_sentences("MRR — 2,87 млн долл. [F:mrr], т. е. почти 3 млн. Окупаемость — 1,9 мес. [F:x]. Далее.", "ru")
    assert sentences[0].endswith("[F:mrr], т. е. почти 3 млн.") and sentences[1].startswith("Окупаемость")


def test_a_persons_rounding_passes_and_a_wrong_rounding_does_not() -> None:
    """42.4% written "about 42%" rounds correctly; "43%" does not."""
    assert statuses("About 42% of customers moved up a stage [F:progression_rate].") == [Verdict.ROUNDED_OK]
    assert statuses("About 43% of customers moved up a stage [F:progression_rate].") == [Verdict.WRONG_VALUE]
    assert statuses("Stage progression is 42.4% [F:progression_rate].") == [Verdict.VERIFIED]


def test_a_band_endpoint_never_verifies_a_current_value_but_verifies_a_stated_target() -> None:
    assert statuses("GRR is 95% [F:grr].") == [Verdict.WRONG_VALUE]
    assert statuses("The target band for GRR is 85–95% [F:grr].") == [Verdict.VERIFIED, Verdict.VERIFIED]
    assert statuses("NRR is 100 days [F:nrr].") != [Verdict.VERIFIED]


def test_the_right_number_under_another_metrics_citation_is_misattributed() -> None:
    assert statuses("Churn is 42.4% [F:progression_rate].") == [Verdict.MISATTRIBUTED]
    assert statuses("Our NPS is 11.6 [F:advocacy_generation_rate].") == [Verdict.MISATTRIBUTED]


def test_an_uncited_number_equal_to_another_metrics_fact_is_misattributed_not_verified() -> None:
    assert statuses("Churn is 42.4%.") == [Verdict.MISATTRIBUTED]


def test_swapped_values_between_two_cited_facts_are_caught() -> None:
    assert statuses("GRR is 137.1% and NRR is 86.4% [F:grr][F:nrr].") == [Verdict.MISATTRIBUTED, Verdict.MISATTRIBUTED]
    assert statuses("GRR is 86.4% and NRR is 137.1% [F:grr][F:nrr].") == [Verdict.VERIFIED, Verdict.VERIFIED]


def test_counts_between_1990_and_2100_are_checked_and_years_are_not() -> None:
    assert statuses("We serve 2,050 customers [F:population.customers].") == [Verdict.WRONG_VALUE]
    assert statuses("2050名客户处于健康状态。", "zh") == [Verdict.UNCITED]
    assert statuses("We serve 2,022 customers [F:population.customers] in 2025.") == [Verdict.VERIFIED]


def test_numbers_in_words_are_claims() -> None:
    assert statuses("Fifteen percent of customers churn every month [F:logo_churn_rate].") == [Verdict.WRONG_VALUE]
    assert statuses("Активируется лишь каждый четвёртый клиент [F:activation_rate].", "ru") == [Verdict.WRONG_VALUE]
    assert statuses("净推荐值为百分之十一点六 [F:nps]。", "zh") != [Verdict.VERIFIED]


def test_structure_phrases_do_not_hide_a_number() -> None:
    assert statuses("At this stage 45% of customers stall.") == [Verdict.UNCITED]
    assert statuses("На этом этапе 45 % клиентов останавливаются.", "ru") == [Verdict.UNCITED]


def test_headings_dates_stage_numbers_and_numbers_in_a_metrics_name_are_not_claims() -> None:
    text = "### 2.3 Onboarding\n1. As of 2025-12-31, Stage 3 matters in Q4 and 90-day retention is the metric to watch."
    assert verify_draft(text, bundle()).claims == ()
    assert verify_draft("第3阶段：90天留存率是关键。截至2025年12月31日。", bundle(), "zh").claims == ()


def test_a_sign_carried_by_a_word_is_read() -> None:
    assert statuses(f"A late payment lowers progression by 30.3 pts [F:{LATE}].") == [Verdict.VERIFIED]
    assert statuses(f"A late payment raises progression by 30.3 pts [F:{LATE}].") == [Verdict.WRONG_VALUE]


def test_wrong_unit_words_are_caught_and_a_correct_conversion_passes() -> None:
    assert statuses("Time to value is 4 weeks [F:time_to_value_days].") == [Verdict.WRONG_UNIT]
    assert statuses("NPS is 11.6% [F:nps].") == [Verdict.WRONG_UNIT]
    assert statuses("LTV:CAC is 13.9:1 [F:ltv_to_cac].") == [Verdict.ROUNDED_OK]


def test_proposals_are_allowed_only_with_the_marker_and_are_listed() -> None:
    report = verify_draft("Lift activation to 70% by Q3 [proposal].", bundle())
    assert report.ok and [c.status for c in report.claims] == [Verdict.PROPOSAL] and len(report.proposals) == 1
    assert statuses("Lift activation to 70% by Q3.") == [Verdict.UNSUPPORTED_PROJECTION]
    assert statuses("Activation will reach 70% next year.") == [Verdict.UNSUPPORTED_PROJECTION]


def test_numbers_of_the_templates_fixed_text_are_exempt_but_its_example_value_is_not() -> None:
    assert verify_draft("Over the next 90 days we focus on onboarding.", bundle()).claims == ()
    assert statuses("Activation is 64.2%.") == [Verdict.UNCITED]  # the grounding contract's example value


def test_suggestions_name_the_fact_the_sentence_is_about() -> None:
    """"Churn is 12%" is about logo churn (3.8%), not about the advocacy rate whose value is nearer."""
    (claim,) = verify_draft("Churn is 12%.", bundle()).claims
    assert claim.fact_id == "logo_churn_rate" and claim.expected == "3.8%"


def test_an_unknown_citation_is_reported() -> None:
    assert statuses("Churn is 3.8% [F:churn_rate].") == [Verdict.UNKNOWN_FACT]


def test_a_cited_forecast_that_is_not_the_fact_is_an_unsupported_projection() -> None:
    report = verify_draft("MRR is $2,867,235 [F:mrr] and could reach $3,500,000 next year.", bundle())
    assert [c.status for c in report.claims] == [Verdict.VERIFIED, Verdict.UNSUPPORTED_PROJECTION]
    assert not report.ok and "3,500,000" in report.markdown()


def test_citation_variants_models_write_are_read_as_citations() -> None:
    assert statuses("Activation is 64.2% [F: activation_rate].") == [Verdict.VERIFIED]
    assert statuses("GRR is 86.4% and NRR 137.1% [F:grr, F:nrr].") == [Verdict.VERIFIED, Verdict.VERIFIED]


def test_a_fact_id_cell_cites_the_numbers_of_its_table_row() -> None:
    """The measurement prompt asks for a table with a fact-id column: the id cites the row's value and band."""
    assert statuses("| Activation rate | `activation_rate` | 64.2% | 60–80%+ | within |") == [Verdict.VERIFIED] * 3
    assert statuses("| Activation rate | activation_rate | 61% | 60–80%+ | within |")[0] is Verdict.WRONG_VALUE
