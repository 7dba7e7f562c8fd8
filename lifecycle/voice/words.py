"""The words of customer text in English, Russian and Chinese: terms to count, and the forms to show.

A text is split into runs of one script. Chinese runs (CJK ideographs) are segmented into words by jieba's
dictionary (its default mode: the most probable segmentation, with the HMM for unknown words — deterministic);
other runs are split into letter sequences (``\\w+``, Unicode-aware). Each word is lowercased (``ё`` read as
``е``), dropped when it is a stop word of its script's language or too short to carry a topic (one Chinese
character, fewer than three letters otherwise, or digits only), and otherwise reduced to its stem — Snowball's
Russian stemmer for Cyrillic words, its English (Porter2) stemmer for Latin ones, the word itself for Chinese.
Stems make "report", "reports" and "reporting", or "отчёт", "отчёты" and "отчетов", one term.

A document's terms are its stems and the pairs of adjacent kept stems ("support slow" from "Support is slow"),
so a theme can be a phrase. ``Vocabulary`` remembers, for every stem, the surface word seen most often (ties: the
alphabetically first), so a theme reads "reports", not "report"'s stem.

Stop words: scikit-learn's English list (318 words, bundled in ``lifecycle.voice.english``: splitting words imports no
scikit-learn), the ``stop-words`` package's Russian and Chinese lists.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LETTERS = rf"[^\W\d_{_CJK}]+"
_RUNS = re.compile(rf"[{_CJK}]+|{_LETTERS}(?:['’]{_LETTERS})*", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_JIEBA_LOCK = threading.Lock()

MIN_LETTERS = 3
"""Latin and Cyrillic words shorter than this carry no topic ("ok", "да") and are dropped."""


@dataclass(frozen=True)
class Word:
    """One kept word: its stem (the term counted) and its surface form (lowercased, as written)."""

    stem: str
    surface: str
    chinese: bool = False


@lru_cache(maxsize=1)
def _stop_words() -> dict[str, frozenset[str]]:
    from stop_words import get_stop_words

    from lifecycle.voice.english import ENGLISH_STOP_WORDS

    return {"en": frozenset(ENGLISH_STOP_WORDS) | {"don", "doesn", "didn", "isn", "wasn", "won", "can't", "don't"},
            "ru": frozenset(w.replace("ё", "е") for w in get_stop_words("russian")),
            "zh": frozenset(get_stop_words("chinese"))}


@lru_cache(maxsize=2)
def _stemmer(language: str):  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer(language)


_STEM_LOCK = threading.Lock()


@lru_cache(maxsize=200_000)
def _stem(language: str, token: str) -> str:
    """Snowball's stem of ``token`` (memoised: a corpus repeats a small vocabulary; the stemmer is not thread-safe)."""
    with _STEM_LOCK:
        return str(_stemmer(language).stemWord(token))


def _segment(run: str) -> list[str]:
    """jieba's words of a Chinese run (the dictionary loads once, quietly: jieba logs to stderr only)."""
    import jieba

    with _JIEBA_LOCK:
        jieba.setLogLevel(logging.WARNING)
        return jieba.lcut(run, HMM=True)


def words(text: str) -> list[Word]:
    """The kept words of ``text`` in reading order (see the module docstring for the rules)."""
    stops = _stop_words()
    out: list[Word] = []
    for run in _RUNS.findall(text or ""):
        if _HAS_CJK.match(run):
            for token in _segment(run):
                if len(token) >= 2 and _HAS_CJK.search(token) and token not in stops["zh"]:
                    out.append(Word(token, token, chinese=True))
            continue
        token = run.lower().replace("ё", "е").replace("’", "'")
        if len(token) < MIN_LETTERS:
            continue
        if _CYRILLIC.search(token):
            if token not in stops["ru"]:
                out.append(Word(_stem("russian", token), token))
        elif token not in stops["en"] and token.split("'")[0] not in stops["en"]:
            out.append(Word(_stem("english", token.split("'")[0]), token))
    return out


def terms(kept: Sequence[Word]) -> list[str]:
    """A document's terms: every stem, then every pair of adjacent stems joined by a space."""
    stems = [w.stem for w in kept]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:]) if a != b]


@dataclass
class Vocabulary:
    """The surface forms seen for each stem, to show a term as a reader would write it."""

    _seen: dict[str, Counter[str]] = field(default_factory=dict)
    _chinese: set[str] = field(default_factory=set)

    def add(self, kept: Iterable[Word], times: int = 1) -> None:
        """Count the words of one text (``times``: the text occurs that many times)."""
        for word in kept:
            self._seen.setdefault(word.stem, Counter())[word.surface] += times
            if word.chinese:
                self._chinese.add(word.stem)

    def show(self, term: str) -> str:
        """``term`` as written: each stem's most frequent surface form (ties: alphabetically first); the two words
        of a pair joined by a space, or directly when both are Chinese."""
        parts = term.split(" ")
        shown = [self._surface(p) for p in parts]
        if len(parts) == 2 and all(p in self._chinese for p in parts):
            return "".join(shown)
        return " ".join(shown)

    def _surface(self, stem: str) -> str:
        counts = self._seen.get(stem)
        if not counts:
            return stem
        return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
