"""The words of customer text: stems merge inflections, stop words and scraps are dropped, Chinese is segmented."""

from __future__ import annotations

import pytest

from lifecycle.voice.words import Vocabulary, terms, words


def stems(text: str) -> list[str]:
    return [w.stem for w in words(text)]


@pytest.mark.parametrize(("forms", "language"), [
    (("report", "reports", "reporting"), "en"),
    (("отчёт", "отчеты", "отчётов", "ОТЧЁТАМИ"), "ru"),
])
def test_inflections_of_one_word_are_one_term(forms: tuple[str, ...], language: str) -> None:
    assert len({stem for form in forms for stem in stems(form)}) == 1, language


def test_stop_words_and_short_scraps_carry_no_term() -> None:
    """'the', 'is', 'too', 'и', 'не', 'очень' are stop words; 'ok' and 'да' are shorter than three letters; '42' is digits."""
    assert stems("The price is too high") == stems("price high")
    assert stems("ok 42 да и не очень") == []


def test_chinese_text_is_segmented_into_words_without_particles() -> None:
    """jieba splits 报表导出又失败了 into 报表 / 导出 / 又 / 失败 / 了; the one-character words are dropped."""
    assert stems("报表导出又失败了") == ["报表", "导出", "失败"]


def test_mixed_scripts_keep_each_words_own_rules() -> None:
    assert stems("CSV导出超时") == ["csv", "导出", "超时"]
    assert stems("Отчёты в Excel") == [stems("отчёты")[0], "excel"]


def test_terms_are_stems_then_adjacent_pairs() -> None:
    kept = words("Support answers slowly")
    assert terms(kept) == ["support", "answer", "slowli", "support answer", "answer slowli"]


def test_vocabulary_shows_the_most_frequent_written_form() -> None:
    """'reports' written twice, 'report' once: the stem reads 'reports'; a pair of Chinese words is joined without a space."""
    vocabulary = Vocabulary()
    for text in ("reports", "reports", "report", "报表导出"):
        vocabulary.add(words(text))
    assert vocabulary.show("report") == "reports"
    assert vocabulary.show("报表 导出") == "报表导出"


def test_a_text_counted_several_times_weighs_as_often_as_it_occurs() -> None:
    """'report' in one text counted 3 times beats 'reports' written twice: the stem reads 'report' (3 > 2); counted
    once it loses (1 < 2) — ``times`` is the number of occurrences, as find_themes counts a repeated text."""
    thrice, once = Vocabulary(), Vocabulary()
    for vocabulary, times in ((thrice, 3), (once, 1)):
        vocabulary.add(words("reports"))
        vocabulary.add(words("reports"))
        vocabulary.add(words("report"), times)
    assert thrice.show("report") == "report"
    assert once.show("report") == "reports"


def test_the_bundled_english_stop_words_are_scikit_learns_list() -> None:
    """The bundled list is scikit-learn's published ``ENGLISH_STOP_WORDS`` (318 words), word for word."""
    text = pytest.importorskip("sklearn.feature_extraction.text")
    from lifecycle.voice.english import ENGLISH_STOP_WORDS

    assert ENGLISH_STOP_WORDS == text.ENGLISH_STOP_WORDS
    assert len(ENGLISH_STOP_WORDS) == 318
