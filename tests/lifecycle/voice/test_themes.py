"""Recurring themes of short customer texts in English, Russian and Chinese (TF-IDF + NMF).

Each fixture holds three themes of four texts each, written by hand so that a theme's texts share its words and
no other theme's, plus texts that share nothing with anything. The expected grouping is therefore known without
running the code: every theme is exactly its four texts, and the loose texts have no theme.
"""

from __future__ import annotations

import pytest

from lifecycle.voice.themes import find_themes

FIXTURES = {
    "en": (
        [("CSV export fails every time", "The CSV export fails on large files", "Export to CSV fails again",
          "CSV export keeps failing"),
         ("The price is too high", "Price went up again, too high", "High price for a small team", "Price too high for us"),
         ("Onboarding took weeks", "Onboarding was slow and took weeks", "Weeks of onboarding before we started",
          "Onboarding took three weeks")],
        ["ok", "Thanks!"],
    ),
    "ru": (
        [("Отчёты не загружаются", "Отчеты долго загружаются", "Отчёт не загружается снова", "Опять не загружаются отчеты"),
         ("Слишком высокая цена", "Цена слишком высокая для нас", "Высокая цена подписки", "Цены высокие"),
         ("Поддержка отвечает медленно", "Медленно отвечает поддержка", "Поддержка отвечает очень медленно",
          "Поддержка медленно отвечает на вопросы")],
        ["Спасибо", "да"],
    ),
    "zh": (
        [("报表导出失败", "导出报表总是失败", "报表导出又失败了", "导出报表失败"),
         ("价格太贵了", "价格太贵", "价格还是太贵", "觉得价格太贵"),
         ("客服回复太慢", "客服回复很慢", "客服的回复太慢了", "客服回复速度太慢")],
        ["挺好的", "谢谢"],
    ),
}


def interleaved(groups: list[tuple[str, ...]], loose: list[str]) -> tuple[list[str], list[set[int]], set[int]]:
    """The texts with the themes interleaved (theme 1's first text, theme 2's first, …, then the loose ones), the
    index set of each theme and of the loose texts."""
    texts: list[str] = []
    members: list[set[int]] = [set() for _ in groups]
    for row in range(4):
        for g, group in enumerate(groups):
            members[g].add(len(texts))
            texts.append(group[row])
    loose_ids = set(range(len(texts), len(texts) + len(loose)))
    return texts + loose, members, loose_ids


@pytest.mark.parametrize("language", sorted(FIXTURES))
def test_each_hand_made_theme_is_found_with_exactly_its_texts(language: str) -> None:
    groups, loose = FIXTURES[language]
    texts, members, loose_ids = interleaved(groups, loose)
    fit = find_themes(texts)
    assert sorted(map(sorted, (set(t.texts) for t in fit.themes))) == sorted(map(sorted, members))
    assert all(t.count == 4 for t in fit.themes)
    assert {i for i in loose_ids if fit.assignment[i] is not None} == set()
    assert fit.total == len(texts)


@pytest.mark.parametrize(("language", "words_of_a_theme"), [
    ("en", {"csv", "export", "fails", "failing"}),
    ("ru", {"отчеты", "отчет", "загружаются", "загружается"}),
    ("zh", {"报表", "导出", "失败", "报表导出", "导出报表", "导出失败"}),
])
def test_a_theme_is_named_by_its_own_words_as_written(language: str, words_of_a_theme: set[str]) -> None:
    groups, loose = FIXTURES[language]
    texts, members, _ = interleaved(groups, loose)
    fit = find_themes(texts)
    theme = next(t for t in fit.themes if set(t.texts) == members[0])
    shown = {part for term in theme.terms for part in term.split(" ")}
    assert shown & words_of_a_theme and shown <= words_of_a_theme, theme.terms


def test_keys_are_ascii_slugs_or_ranks() -> None:
    en = find_themes(interleaved(*FIXTURES["en"])[0])
    zh = find_themes(interleaved(*FIXTURES["zh"])[0])
    assert all(t.key.replace("_", "").isalnum() and t.key.isascii() for t in en.themes)
    assert [t.key for t in zh.themes] == ["theme1", "theme2", "theme3"]


def test_same_texts_give_byte_identical_themes() -> None:
    texts = interleaved(*FIXTURES["en"])[0]
    assert find_themes(texts) == find_themes(list(texts))


def test_a_theme_needs_min_texts_texts() -> None:
    """Two texts about exports and two about prices: nothing recurs three times, so no theme (min_texts=3);
    with min_texts=2 both pairs are themes."""
    texts = ["CSV export fails", "CSV export fails again", "Price too high", "High price"]
    assert find_themes(texts).themes == ()
    assert sorted(t.count for t in find_themes(texts, min_texts=2).themes) == [2, 2]


def test_unrelated_texts_have_no_theme() -> None:
    texts = ["Great dashboards", "Slow onboarding", "Pricing unclear", "Support was helpful", "Login broken"]
    fit = find_themes(texts)
    assert fit.themes == () and fit.assignment == (None,) * 5


def test_empty_and_wordless_input() -> None:
    assert find_themes([]).themes == ()
    assert find_themes(["", "ok", "!!!"]).assignment == (None, None, None)


def test_a_repeated_text_counts_as_often_as_it_occurs_in_the_label() -> None:
    """'exports' in one text written three times outnumbers 'export' in two other texts (3 > 2): the theme reads
    'exports'. With that text once and 'export' in three texts (1 < 3) it reads 'export'."""
    login = ["login page slow", "login page slow today", "slow login page again"]
    repeated = find_themes(["exports fail again"] * 3 + ["export fails today", "export failing badly"] + login)
    single = find_themes(["exports fail again", "export fails today", "export failing badly", "export fail"] + login)
    assert repeated.themes[0].terms[0] == "exports fail"
    assert single.themes[0].terms[0] == "export fail"


def _documents_with_repeats() -> list[list[str]]:
    """Every fixture text's terms, each distinct text's list shared by its repeats (as ``find_themes`` passes them),
    texts repeated 1-3 times in an interleaved order."""
    from lifecycle.voice.words import terms, words

    texts = [text for groups, loose in FIXTURES.values() for group in groups for text in group] + ["ok", "Thanks!"]
    split = {text: terms(words(text)) for text in texts}
    return [split[text] for i in range(3) for j, text in enumerate(texts) if (i + j) % 3 <= i]


def test_term_weights_are_scikit_learns_tfidf_counting_each_distinct_text_once() -> None:
    """Invariant: counting a repeated document once and copying its row gives scikit-learn's own TF-IDF matrix —
    the same vocabulary, values, column order and sparse layout — as counting every document."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from lifecycle.voice import themes

    documents = _documents_with_repeats()
    assert len({id(d) for d in documents}) < len(documents)  # repeats present
    matrix, names = themes._tfidf(documents)
    reference = TfidfVectorizer(analyzer=themes._identity, min_df=themes.MIN_TERM_TEXTS, sublinear_tf=True, norm="l2")
    expected = reference.fit_transform(documents)
    assert names == list(reference.get_feature_names_out())
    for part in ("data", "indices", "indptr"):
        assert getattr(matrix, part).tolist() == getattr(expected, part).tolist(), part
        assert getattr(matrix, part).dtype == getattr(expected, part).dtype, part


@pytest.mark.parametrize("k", [1, 3, 6])
def test_the_factorisation_is_scikit_learns_nmf_bit_for_bit(k: int) -> None:
    """Invariant: the coordinate-descent sweeps run without the estimator give the arrays of scikit-learn's ``NMF``
    estimator with the same settings, bit for bit (each on its own copy of the matrix: the estimator sorts its
    indices in place)."""
    import numpy as np

    from lifecycle.voice import themes

    documents = _documents_with_repeats()
    matrix, _ = themes._tfidf(documents)
    assert not matrix.has_canonical_format  # the case the estimator's in-place sort matters for
    weights, components = themes._factorise(matrix.copy(), k)
    ref_weights, ref_components = themes._factorise_with_estimator(matrix.copy(), k)
    assert np.array_equal(weights, ref_weights) and np.array_equal(components, ref_components)
    assert weights.shape == (len(documents), k)


def _renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """scikit-learn without the private sweep under its name (as after a rename)."""
    import sklearn.decomposition._cdnmf_fast as fast

    monkeypatch.delattr(fast, "_update_cdnmf_fast")


def _module_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """scikit-learn without the private module (as after a move): importing it fails."""
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.decomposition._cdnmf_fast", None)


def _resigned(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep with another signature (one more argument): calling it as before raises TypeError."""
    import sklearn.decomposition._cdnmf_fast as fast

    monkeypatch.setattr(fast, "_update_cdnmf_fast", lambda W, HHt, XHt, permutation, shuffle: 0.0)


def _returns_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep that updates in place but no longer returns its violation."""
    import sklearn.decomposition._cdnmf_fast as fast

    original = fast._update_cdnmf_fast
    monkeypatch.setattr(fast, "_update_cdnmf_fast", lambda *args: (original(*args), None)[1])


def _start_transposed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An initialiser whose factors come back in another layout (H before W)."""
    import sklearn.decomposition._nmf as nmf

    original = nmf._initialize_nmf
    monkeypatch.setattr(nmf, "_initialize_nmf", lambda *args, **kwargs: original(*args, **kwargs)[::-1])


def _keyword_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An initialiser whose ``init`` keyword was renamed: calling it as before raises TypeError."""
    import sklearn.decomposition._nmf as nmf

    original = nmf._initialize_nmf
    monkeypatch.setattr(nmf, "_initialize_nmf", lambda X, n_components, method, random_state=None: original(
        X, n_components, init=method, random_state=random_state))


@pytest.mark.parametrize("change", [_renamed, _module_gone, _resigned, _returns_nothing, _start_transposed,
                                    _keyword_renamed])
def test_a_scikit_learn_without_the_private_nmf_steps_factorises_through_its_estimator_to_the_same_themes(
        monkeypatch: pytest.MonkeyPatch, change) -> None:  # type: ignore[no-untyped-def]
    """The private steps ``_factorise`` calls may move, be renamed or change their signature in a later scikit-learn
    (the dependency is not capped): each such change makes the factorisation fall back to the public ``NMF``
    estimator, which gives the same arrays bit for bit — so the same themes, labels and assignments as the private
    path on an unchanged scikit-learn."""
    import numpy as np
    import sklearn.decomposition._nmf as nmf

    from lifecycle.voice import themes

    documents = _documents_with_repeats()
    matrix, _ = themes._tfidf(documents)
    k = 3
    assert matrix.shape[0] != matrix.shape[1]  # a transposed start has another shape
    texts = [text for groups, loose in FIXTURES.values() for group in groups for text in group] + ["ok", "Thanks!"]
    fast_weights, fast_components = themes._factorise(matrix.copy(), k)
    fast_fit = themes.find_themes(texts)
    used: list[int] = []
    estimator, own_start = themes._factorise_with_estimator, nmf._initialize_nmf

    def through_estimator(m, n):  # type: ignore[no-untyped-def]
        used.append(n)
        changed, nmf._initialize_nmf = nmf._initialize_nmf, own_start  # that version's estimator and its own start agree
        try:
            return estimator(m, n)
        finally:
            nmf._initialize_nmf = changed

    monkeypatch.setattr(themes, "_factorise_with_estimator", through_estimator)
    change(monkeypatch)
    weights, components = themes._factorise(matrix.copy(), k)
    assert used == [k]  # the estimator answered
    assert np.array_equal(weights, fast_weights) and np.array_equal(components, fast_components)
    assert themes.find_themes(texts) == fast_fit
    assert len(used) > 1
