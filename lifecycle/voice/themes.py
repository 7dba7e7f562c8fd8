"""Recurring themes in a set of short customer texts (NPS comments, ticket subjects): TF-IDF + NMF.

Method (Lee & Seung 1999, non-negative matrix factorisation, as applied to topic extraction in scikit-learn's
"Topic extraction with NMF" example): each text becomes its terms (``lifecycle.voice.words``: stems and adjacent
stem pairs); terms used in fewer than ``MIN_TERM_TEXTS`` texts are dropped; the texts × terms matrix is weighted
by TF-IDF (sublinear term frequency, smoothed idf, rows L2-normalised) and factorised as W·H with k themes
(``init="nndsvd"``: a deterministic start from the SVD, ``random_state=0``). Each text is assigned to the theme
with its largest weight in W (ties: the lower theme index); a text with no weight (no kept term) has no theme.

The number of themes: the largest k ≤ ``max_themes`` (and ≤ texts with terms ÷ ``min_texts``) for which every
theme is the strongest theme of at least ``min_texts`` texts — k is lowered one by one until that holds, so no
theme rests on one or two texts. A theme is named by its top terms in H (up to three of the six heaviest, a pair
preferred to a single word it contains, a term skipped when its stems are already shown), each in its most frequent
surface form.

Same texts in the same order ⇒ the same themes (BLAS limited to one thread, so sums run in one order).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lifecycle.voice.words import Vocabulary, Word, terms, words

MAX_THEMES = 12
MIN_TEXTS = 3
MIN_TERM_TEXTS = 2
LABEL_TERMS = 3
CANDIDATE_TERMS = 6


@dataclass(frozen=True)
class Theme:
    """One recurring theme: its key (``reports_break``, or ``theme<rank>`` for non-Latin labels), the label shown
    ("reports break · data"), its top terms as written, and the indexes of the texts assigned to it, strongest
    first (ties: earlier text first)."""

    key: str
    label: str
    terms: tuple[str, ...]
    texts: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class ThemeFit:
    """The themes of ``total`` texts (largest first; ties by label) and each text's theme index (None: no theme)."""

    themes: tuple[Theme, ...]
    assignment: tuple[int | None, ...]
    total: int

    def theme_of(self, text_index: int) -> Theme | None:
        index = self.assignment[text_index]
        return None if index is None else self.themes[index]


def find_themes(texts: Sequence[str], *, max_themes: int = MAX_THEMES, min_texts: int = MIN_TEXTS) -> ThemeFit:
    """The recurring themes of ``texts`` (see the module docstring for the method and the choice of k)."""
    documents: list[list[str]] = []
    seen: dict[str, tuple[list[Word], list[str]]] = {}  # customers repeat themselves: split each distinct text once
    repeats: dict[str, int] = {}
    for text in texts:
        if text not in seen:
            kept = words(text)
            seen[text] = (kept, terms(kept))
        repeats[text] = repeats.get(text, 0) + 1
        documents.append(seen[text][1])
    empty = ThemeFit((), tuple(None for _ in texts), len(texts))
    matrix, names = _tfidf(documents)
    if matrix is None:
        return empty
    usable = int((matrix.getnnz(axis=1) > 0).sum())
    for k in range(min(max_themes, len(names), usable // max(min_texts, 1)), 0, -1):
        weights, components = _factorise(matrix, k)
        best = _strongest(weights)
        counts = np.bincount(best[best >= 0], minlength=k)
        if (counts >= min_texts).all():
            vocabulary = Vocabulary()  # the surface forms of every text, a repeated text counted as often as it occurs
            for text, times in repeats.items():
                vocabulary.add(seen[text][0], times)
            return _fit(weights, components, best, names, vocabulary, len(texts))
    return empty


def _tfidf(documents: list[list[str]]):  # type: ignore[no-untyped-def]
    if sum(1 for d in documents if d) < MIN_TERM_TEXTS:
        return None, []
    vectorizer = _vectorizer_class()(analyzer=_identity, min_df=MIN_TERM_TEXTS, sublinear_tf=True, norm="l2")
    try:
        with _checks_skipped():
            matrix = vectorizer.fit_transform(documents)
    except ValueError:  # no term survives min_df
        return None, []
    return matrix, list(vectorizer.get_feature_names_out())


def _identity(document: list[str]) -> list[str]:
    return document


@lru_cache(maxsize=1)
def _vectorizer_class() -> type:
    """scikit-learn's ``TfidfVectorizer`` counting each distinct document once: its term counts (``_count_vocab``) are
    computed over the documents in order of first occurrence — a repeated document (the same list object: a text
    customers wrote again, ``find_themes``) adds no term, so the vocabulary is numbered as over every document — and
    each document's row is then that count row, in the documents' order (``X[rows]``). The same count matrix as
    counting every document; the demo's NPS comments are ~14 distinct texts among hundreds."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    class DistinctDocumentsTfidf(TfidfVectorizer):
        def _count_vocab(self, raw_documents, fixed_vocab):  # type: ignore[no-untyped-def]
            position: dict[int, int] = {}
            distinct: list[list[str]] = []
            rows: list[int] = []
            for document in raw_documents:
                row = position.get(id(document))
                if row is None:
                    row = position[id(document)] = len(distinct)
                    distinct.append(document)
                rows.append(row)
            vocabulary, counts = super()._count_vocab(distinct, fixed_vocab)
            if len(distinct) == len(rows):
                return vocabulary, counts
            return vocabulary, counts[np.asarray(rows, dtype=np.intp)]

    return DistinctDocumentsTfidf


NMF_MAX_ITER = 500
NMF_TOL = 1e-4


PRIVATE_STEPS_FAILED = (ImportError, AttributeError, TypeError, ValueError)
"""What ``_factorise``'s private scikit-learn steps raise when a version moved, renamed or re-signed them."""


def _factorise(matrix, k: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """W (texts × k) and H (k × terms) of scikit-learn's ``NMF(n_components=k, init="nndsvd", random_state=0,
    max_iter=NMF_MAX_ITER, tol=NMF_TOL)`` (coordinate descent, no regularisation), computed by its own steps without
    the estimator around them: the same start (``_initialize_nmf``), then sweeps of ``_update_cdnmf_fast`` over W and
    then H until a sweep's violation is at most ``NMF_TOL`` of the first sweep's (``_fit_coordinate_descent``). The
    estimator re-validates its input, transposes the matrix on every sweep and computes a reconstruction error the
    themes do not read: ~30 % of a fit on the demo's texts. Same arrays, bit for bit.

    Those two functions are private to scikit-learn: when this version does not have them where and as this expects
    (missing, renamed, another signature, results of another shape — ``PRIVATE_STEPS_FAILED``), the estimator
    factorises instead (``_factorise_with_estimator``: the same arrays, only slower)."""
    try:
        return _factorise_by_steps(matrix, k)
    except PRIVATE_STEPS_FAILED:
        return _factorise_with_estimator(matrix, k)


def _factorise_by_steps(matrix, k: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    from sklearn.decomposition._cdnmf_fast import _update_cdnmf_fast
    from sklearn.decomposition._nmf import _initialize_nmf

    with _thread_controller().limit(limits=1), warnings.catch_warnings(), _checks_skipped():
        warnings.simplefilter("ignore")
        matrix.sum_duplicates()  # the estimator's ``X.min()`` puts the matrix in canonical form (indices sorted) first
        start_w, start_h = _initialize_nmf(matrix, k, init="nndsvd", random_state=0)
        if np.shape(start_w) != (matrix.shape[0], k) or np.shape(start_h) != (k, matrix.shape[1]):
            raise TypeError("scikit-learn's _initialize_nmf returned factors of another shape")
        w, ht = np.ascontiguousarray(start_w), np.ascontiguousarray(start_h.T)
        transposed = matrix.T
        order = np.arange(k, dtype=np.intp)
        first = 0.0
        for sweep in range(NMF_MAX_ITER):
            violation = 0.0
            violation += float(_update_cdnmf_fast(w, np.dot(ht.T, ht), matrix @ ht, order))
            violation += float(_update_cdnmf_fast(ht, np.dot(w.T, w), transposed @ w, order))
            if sweep == 0:
                first = violation
            if first == 0 or violation / first <= NMF_TOL:
                break
    return w, ht.T


def _factorise_with_estimator(matrix, k: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """``_factorise`` through scikit-learn's ``NMF`` estimator."""
    from sklearn.decomposition import NMF

    with _thread_controller().limit(limits=1), warnings.catch_warnings(), _checks_skipped():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter: the factors are still usable
        model = NMF(n_components=k, init="nndsvd", random_state=0, max_iter=NMF_MAX_ITER, tol=NMF_TOL)
        weights = model.fit_transform(matrix)
    return np.asarray(weights), np.asarray(model.components_)


def _checks_skipped():  # type: ignore[no-untyped-def]
    """scikit-learn's configuration (thread-local) with its argument checks skipped — ``skip_parameter_validation``
    (the estimator's fixed parameters) and ``assume_finite`` (the term weights are finite by construction): the
    same computation, without re-validating it on every fit (~8 % of a theme search on the demo)."""
    import sklearn

    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


@lru_cache(maxsize=1)
def _thread_controller():  # type: ignore[no-untyped-def]
    """A threadpoolctl controller over the loaded BLAS and OpenMP libraries, built once — scanning them costs ~3 ms,
    which ``threadpool_limits`` paid on every fit — after scikit-learn's NMF (and with it SciPy's and NumPy's BLAS and
    scikit-learn's OpenMP) is loaded, since a controller only sees the libraries loaded when it is built
    (as ``lifecycle.clv._fitting._blas_controller``)."""
    from sklearn.decomposition import NMF  # noqa: F401  (its libraries must be loaded for the controller to limit them)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _strongest(weights: np.ndarray) -> np.ndarray:
    """Per text, the index of its largest theme weight, or -1 when every weight is 0."""
    best = weights.argmax(axis=1)
    return np.where(weights.max(axis=1) > 0, best, -1)


def _fit(weights: np.ndarray, components: np.ndarray, best: np.ndarray, names: list[str], vocabulary: Vocabulary,
         total: int) -> ThemeFit:
    drafts = []
    for j in range(components.shape[0]):
        members = np.flatnonzero(best == j)
        order = members[np.lexsort((members, -weights[members, j]))]
        shown = _label_terms(components[j], names, vocabulary)
        drafts.append((" · ".join(shown), shown, tuple(order.tolist()), j))  # Python ints, in one call
    drafts.sort(key=lambda d: (-len(d[2]), d[0]))
    position = {j: rank for rank, (_, _, _, j) in enumerate(drafts)}
    keys = _keys([shown for _, shown, _, _ in drafts])
    themes = tuple(Theme(key, label, shown, members) for key, (label, shown, members, _) in zip(keys, drafts))
    assignment = tuple(None if b < 0 else position[int(b)] for b in best)
    return ThemeFit(themes, assignment, total)


def _label_terms(row: np.ndarray, names: list[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    """Up to ``LABEL_TERMS`` of the theme's ``CANDIDATE_TERMS`` heaviest terms, heaviest first; a single word gives way
    to a heavy pair containing it ("bit pricey" rather than "bit"), and a term whose stems are all shown is skipped."""
    order = [i for i in np.lexsort((np.arange(len(row)), -row))[:CANDIDATE_TERMS] if row[i] > 0]
    pairs = [names[i] for i in order if " " in names[i]]
    chosen: list[str] = []
    covered: set[str] = set()
    for index in order:
        term = names[index]
        if " " not in term:
            term = next((p for p in pairs if term in p.split(" ") and not set(p.split(" ")) <= covered), term)
        stems = set(term.split(" "))
        if stems <= covered:
            continue
        chosen.append(vocabulary.show(term))
        covered |= stems
        if len(chosen) == LABEL_TERMS:
            break
    return tuple(chosen)


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _keys(labels: list[tuple[str, ...]]) -> list[str]:
    """A key per theme: its first term as an ASCII slug (``reports_break``), or ``theme<rank>`` when the term is not
    ASCII letters; a repeated key gets ``_2``, ``_3``."""
    keys: list[str] = []
    for rank, shown in enumerate(labels, 1):
        first = shown[0] if shown else ""
        slug = _NOT_SLUG.sub("_", first.lower()).strip("_") if first.isascii() else ""
        key = slug or f"theme{rank}"
        base, n = key, 2
        while key in keys:
            key, n = f"{base}_{n}", n + 1
        keys.append(key)
    return keys
