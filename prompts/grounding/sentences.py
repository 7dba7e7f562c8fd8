"""Splitting a draft into sentences that keep each citation with the number it belongs to.

Libraries: ``razdel`` (Russian; rule-based, knows "т. е.", "тыс.", "млн" and the like) and ``pysbd`` (English;
the "Golden Rules" segmenter). Chinese ends sentences with full-width 。！？；, so a plain split is exact. No segmenter
knows every abbreviation ("approx.", "мес.", "табл."), so the pieces are glued back when a piece cannot start a
sentence: it begins with a citation ``[F:…]``/``[proposal]``, a lower-case letter, a digit, a currency sign, a
closing bracket or punctuation. Markdown lines (headings, list items, table rows) are split first: a sentence never
spans two lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

_STARTS_MID_SENTENCE = re.compile(r"^\s*(?:\[(?:F:|proposal)|[0-9$€£¥₽),;:%）\]—–-])")
_LOWER_START = re.compile(r"^\s*[a-zа-яё]")
_WORD_START = re.compile(r"^\s*[A-ZА-ЯЁ][a-zа-яё]")  # a capitalised word: a new sentence even after an abbreviation
# Abbreviations after which a capital letter does not start a new sentence ("1,36 млн долл. MRR", "approx. MRR").
_ABBREVIATION_END = re.compile(r"(?:\b(?:approx|vs|e\.g|i\.e|incl|esp|cf|avg|est|No|Mr|Ms|Mrs|Dr|St|fig|Fig|p\.p|pp)|"
                               r"(?<![а-яё])(?:долл|тыс|млн|млрд|руб|мес|дн|ок|т\. е|т\.е|т\. к|п\. п|п\.п|табл|рис|см|ср|г|гг|"
                               r"прим|напр|в т\. ч|осн|ед|чел|шт|кв))\.\s*$", re.I)
_CJK_END = re.compile(r"(?<=[。！？；])")


@lru_cache(maxsize=1)
def _english_segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _split_line(line: str, language: str) -> list[str]:
    if language == "zh":
        parts = [p for p in _CJK_END.split(line)]
        out: list[str] = []
        for part in parts:  # an English run inside Chinese text may still end with ". "
            out.extend(_latin_split(part, "en") if re.search(r"[A-Za-z]{3,}[.!?]\s+[A-Z]", part) else [part])
        return out
    return _latin_split(line, language)


def _latin_split(text: str, language: str) -> list[str]:
    if language == "ru":
        from razdel import sentenize

        return [s.text for s in sentenize(text)]
    return list(_english_segmenter().segment(text))


def _glued(pieces: list[str]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if not piece.strip():
            continue
        if out and (_STARTS_MID_SENTENCE.match(piece) or (_ABBREVIATION_END.search(out[-1]) and not _WORD_START.match(piece)) or (_LOWER_START.match(piece) and not out[-1].rstrip().endswith(("!", "?", "。")))):
            out[-1] = out[-1].rstrip() + " " + piece.strip()
        else:
            out.append(piece.strip())
    return out


def split_sentences(draft: str, language: str = "en") -> list[str]:
    """The sentences of ``draft`` in order (each Markdown line split on its own, pieces glued as described above)."""
    sentences: list[str] = []
    for line in draft.splitlines():
        if line.strip():
            sentences.extend(_glued(_split_line(line, language)))
    return sentences
