"""Which metrics a sentence names: spans of the names and synonyms of ``lifecycle.facts.names``, resolved to fact ids.

Matching: English words exactly, with an optional plural ending; Russian words on their Snowball stem
(``snowballstemmer``) plus up to four letters of ending, so "удержание", "удержания", "удержанию" match one name;
Chinese as substrings. Words of a name may be joined by spaces, hyphens, slashes or arrows in the text. Of
overlapping spans the longest wins: "email open rate" hides the "open rate" inside it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lifecycle.facts.names import fact_names

_JOIN = r"[\s\-–—/→:()«»\"']{0,4}"


@dataclass(frozen=True)
class Mention:
    """A span of the sentence that names one or more facts."""

    start: int
    end: int
    text: str
    fact_ids: frozenset[str]


@lru_cache(maxsize=1)
def _ru_stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("russian")


def _word_pattern(word: str, language: str) -> str:
    if any(ch.isdigit() for ch in word):
        return re.escape(word)
    if language == "ru" and re.fullmatch(r"[а-яё]+", word.lower()) and len(word) > 3:
        stem = _ru_stemmer().stemWord(word.lower().replace("ё", "е"))
        return re.escape(stem).replace("е", "[её]") + r"\w{0,6}"
    if language == "en" and word.isalpha() and word.islower() and len(word) > 2:
        if word.endswith("y"):
            return re.escape(word[:-1]) + r"(?:y|ies)"
        return re.escape(word) + r"(?:s|es)?"
    return re.escape(word)


@lru_cache(maxsize=8192)
def phrase_pattern(phrase: str, language: str) -> re.Pattern[str]:
    """The regex that finds ``phrase`` in text of ``language``."""
    if language == "zh":
        return re.compile(re.escape(phrase), re.I)
    words = re.findall(r"[\w+.]+|[→:/]", phrase)
    words = [w.rstrip(".") if w.endswith(".") and len(w) > 2 and not w[:-1].isdigit() else w for w in words]
    parts = [_word_pattern(w, language) if w not in "→:/" else re.escape(w) for w in words if w]
    body = _JOIN.join(parts)
    return re.compile(rf"(?<![\w]){body}(?![\w])", re.I)


class SubjectIndex:
    """Names of the facts of one bundle in one language, and the fact ids each name stands for."""

    def __init__(self, fact_ids: Iterable[str], language: str) -> None:
        self.language = language
        by_phrase: dict[str, set[str]] = defaultdict(set)
        for fact_id in fact_ids:
            for phrase in fact_names(fact_id).of(language):
                by_phrase[phrase.lower()].add(fact_id)
            by_phrase[fact_id.lower()].add(fact_id)  # a plan may name a fact by its id
        self.phrases = {phrase: frozenset(ids) for phrase, ids in by_phrase.items()}

    def mentions(self, text: str) -> list[Mention]:
        """Non-overlapping mentions in ``text`` (longest span first wins), in order of position."""
        found: dict[tuple[int, int], set[str]] = defaultdict(set)
        lower = text.lower()
        for phrase, ids in self.phrases.items():
            if self.language == "zh" and phrase not in lower:
                continue
            if self.language != "zh" and phrase.split()[0][:3].replace("-", "") not in lower.replace("ё", "е") and \
                    not any(ch.isdigit() for ch in phrase):
                continue  # cheap prefilter: the first word's start must occur
            for match in phrase_pattern(phrase, self.language).finditer(text):
                if match.end() > match.start():
                    found[(match.start(), match.end())] |= ids
        spans = sorted(found.items(), key=lambda kv: (-(kv[0][1] - kv[0][0]), kv[0][0]))
        kept: list[Mention] = []
        for (start, end), hits in spans:
            if any(start < m.end and m.start < end for m in kept):
                continue
            kept.append(Mention(start, end, text[start:end], frozenset(hits)))
        return sorted(kept, key=lambda m: m.start)


@lru_cache(maxsize=64)
def subject_index(fact_ids: tuple[str, ...], language: str) -> SubjectIndex:
    """The (cached) index for a bundle's fact ids."""
    return SubjectIndex(fact_ids, language)
