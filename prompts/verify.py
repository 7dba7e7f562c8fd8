"""The grounding verifier: every number in a draft plan must be a cited, correctly stated fact.

Pipeline: split the draft into sentences → extract every numeric claim (percentages, money, counts, days,
months, multiples, ranges; English ``1,234.5``, Russian ``1 234,5`` / ``12,5 %``, Chinese ``1.2万``) →
skip structural numbers (citations, dates, stage and list numbering, numbers the prompt's own
instructions used) → match each claim to a fact:

- **verified**: a fact cited in the same sentence (``[F:id]``) has this value at the claim's precision
  and a compatible unit (a ratio fact is stated as a percentage, money as money, days as days, …), or the
  number is an end of that fact's target band;
- **wrong_unit**: the cited fact has the value but the claim states another unit;
- **wrong_value**: a cited fact exists but no cited fact has this value;
- **unknown_fact**: the cited id is not in the bundle;
- **uncited**: no citation in the sentence (the report names a fact with that value, if one exists);
- **fabricated**: no citation and no fact anywhere has this value.

Only *verified* claims pass. The labelled corpus in ``tests/prompts/verifier_corpus.jsonl`` measures
precision and recall (see docs/verifier.md); every fabricated number must be caught.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lifecycle.facts import Fact, FactBundle


class ClaimStatus(StrEnum):
    VERIFIED = "verified"
    WRONG_VALUE = "wrong_value"
    WRONG_UNIT = "wrong_unit"
    UNKNOWN_FACT = "unknown_fact"
    UNCITED = "uncited"
    FABRICATED = "fabricated"


class ClaimUnit(StrEnum):
    PERCENT = "percent"
    MONEY = "money"
    DAYS = "days"
    MONTHS = "months"
    MULTIPLE = "multiple"
    POINTS = "points"  # percentage points of a ratio, or points of a score
    PLAIN = "plain"


@dataclass(frozen=True)
class Claim:
    """One number stated in the draft."""

    text: str
    value: float
    unit: ClaimUnit
    decimals: int  # precision as written (after scaling words like 万 or k: in units of the value)
    step: float  # the rounding step the writer used: 0.1 for "64.2%", 100 for "$12.3k"
    sentence: str
    cited: tuple[str, ...]
    status: ClaimStatus = ClaimStatus.FABRICATED
    fact_id: str | None = None
    expected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "unit": self.unit.value, "sentence": self.sentence,
                "cited": list(self.cited), "status": self.status.value, "fact_id": self.fact_id, "expected": self.expected}


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on a draft: each claim with its status."""

    claims: tuple[Claim, ...] = field(default=())

    @property
    def unverified(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.status is not ClaimStatus.VERIFIED)

    @property
    def ok(self) -> bool:
        return not self.unverified

    def counts(self) -> dict[str, int]:
        out = {status.value: 0 for status in ClaimStatus}
        for claim in self.claims:
            out[claim.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts(), "claims": [c.to_dict() for c in self.claims]}

    def markdown(self) -> str:
        """A short Markdown report: counts, then each unverified claim with its sentence."""
        counts = self.counts()
        lines = [f"Numbers checked: {len(self.claims)}; verified: {counts['verified']}; unverified: {len(self.unverified)}."]
        for claim in self.unverified:
            hint = f" (expected {claim.expected} for [F:{claim.fact_id}])" if claim.expected else ""
            lines.append(f"- **{claim.text}** — {claim.status.value}{hint}: “{claim.sentence.strip()[:240]}”")
        return "\n".join(lines)


CITATION = re.compile(r"\[F:([A-Za-z0-9_.\-]+)\]")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?\b")
_STRUCTURAL = re.compile(
    r"(?:^|\n)\s*(?:#+\s*)?(?:\d+[.)]\s)"  # list / heading numbering "1. ", "2) "
    r"|\b(?:Stages?|Этап[а-я]*|Phase|Step|Week|Weeks|Q)\s*\d+(?:\s*[–-]\s*\d+)?"
    r"|阶段\s*\d+|第\s*\d+\s*(?:阶段|步|周)"
    r"|\b\d+(?:st|nd|rd|th)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？;；])\s+|\n+|(?<=[。！？；])")

# A number: optional sign, digits with thousands separators (comma, dot, space, NBSP, thin space), decimals.
_NUMBER = re.compile(
    r"(?P<pre>[$€£¥₽])?\s?"
    r"(?P<num>[-−+]?\d{1,3}(?:[,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|[-−+]?\d+(?:[.,]\d+)?)"
    r"(?P<scale>\s?(?:万|亿|千|百万|k|K|M|bn|тыс\.?|млн|млрд)(?![A-Za-zА-Яа-я]))?"
    r"(?P<post>\s?(?:%|％|процент[а-я]*|percentage points|pp|pts?\b|points?\b|п\.\s?п\.|пункт[а-я]*|个百分点|分(?!钟)|"
    r"[$€£¥₽]|USD|EUR|долл[а-я.]*|руб[а-я.]*|美元|元|"
    r"days?|дн[а-я]*|день|суток|天|日|"
    r"months?|мес[а-я.]*|个月|"
    r"[x×]|раз[а]?|倍))?",
)
_SCALES = {"万": 1e4, "亿": 1e8, "千": 1e3, "百万": 1e6, "k": 1e3, "K": 1e3, "M": 1e6, "bn": 1e9,
           "тыс": 1e3, "тыс.": 1e3, "млн": 1e6, "млрд": 1e9}


def _unit_of(pre: str | None, post: str | None) -> ClaimUnit:
    post = (post or "").strip().lower()
    if pre:
        return ClaimUnit.MONEY
    if not post:
        return ClaimUnit.PLAIN
    if post in ("%", "％") or post.startswith("процент"):
        return ClaimUnit.PERCENT
    if post in ("pp", "pt", "pts", "point", "points", "percentage points", "个百分点", "分") or post.startswith(("п.", "пункт")):
        return ClaimUnit.POINTS
    if post[0] in "$€£¥₽" or post.startswith(("usd", "eur", "долл", "руб", "美元", "元")):
        return ClaimUnit.MONEY
    if post.startswith(("day", "дн", "день", "суток", "天", "日")):
        return ClaimUnit.DAYS
    if post.startswith(("month", "мес", "个月")):
        return ClaimUnit.MONTHS
    return ClaimUnit.MULTIPLE


def parse_number(raw: str, language: str = "en") -> tuple[float, int]:
    """The value of a number as written and its decimals: en ``1,234.5``, ru ``1 234,5``, zh like en.

    In Russian a comma is the decimal separator unless it is followed by exactly three digits and a
    space/NBSP/dot also appears as a grouping mark; a lone ``1,234`` is read by the language's convention.
    """
    text = raw.replace("−", "-").replace("\u00a0", " ").replace("\u202f", " ")
    text = text.replace(" ", "")
    if language == "ru":
        if "," in text and "." in text:  # 1.234,5
            text = text.replace(".", "").replace(",", ".")
        elif "," in text:
            text = text.replace(",", ".")
    else:
        if "," in text and "." in text:
            text = text.replace(",", "")
        elif "," in text:
            head, _, tail = text.rpartition(",")
            text = text.replace(",", "") if len(tail) == 3 else head.replace(",", "") + "." + tail
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), decimals


def extract_claims(draft: str, language: str = "en", ignore: frozenset[tuple[float, str]] = frozenset()) -> list[Claim]:
    """Every numeric claim in ``draft``, with the sentence it stands in and the fact ids cited there.

    ``ignore`` holds (value, unit) pairs the prompt's own instructions used (e.g. 90 days in "the next 90
    days"), which an uncited sentence of the answer may repeat as structure.
    """
    claims: list[Claim] = []
    for sentence in _sentences(draft):
        cited = tuple(CITATION.findall(sentence))
        masked = _mask(sentence)
        for match in _NUMBER.finditer(masked):
            raw = match.group("num")
            if not raw or not any(ch.isdigit() for ch in raw):
                continue
            start = match.start("num")
            if start > 0 and (masked[start - 1].isascii() and (masked[start - 1].isalnum() or masked[start - 1] == "_")):
                continue  # part of an identifier like retention_30d or "Q3"
            value, decimals = parse_number(raw, language)
            scale_word = (match.group("scale") or "").strip()
            scale = _SCALES.get(scale_word, 1.0)
            unit = _unit_of(match.group("pre"), match.group("post"))
            if not cited and (value * scale, unit.value) in ignore:
                continue
            if unit is ClaimUnit.PLAIN and not scale_word and _is_year(value, decimals):
                continue
            step = (10.0 ** -decimals) * scale
            claims.append(Claim(match.group(0).strip(), value * scale, unit, decimals, step, sentence, cited))
    return claims


def _sentences(draft: str) -> list[str]:
    """Lines, minus list/heading numbering, split at sentence ends (a decimal point never ends a sentence)."""
    out: list[str] = []
    for line in draft.splitlines():
        line = _LINE_NUMBERING.sub("", line)
        parts = re.split(r"(?<![0-9])[.!?](?=\s)|(?<=[0-9])[.!?](?=\s+[A-ZА-Я\[#*-])|[。！？；]", line)
        out.extend(p for p in parts if p and p.strip())
    return out


_LINE_NUMBERING = re.compile(r"^\s*(?:#+\s*)?(?:[-*+]\s+)?(?:\(?\d+(?:\.\d+)*[.)]\s+)?")


def _mask(sentence: str) -> str:
    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    masked = CITATION.sub(blank, sentence)
    masked = _ISO_DATE.sub(blank, masked)
    masked = _STRUCTURAL.sub(blank, masked)
    return masked


def _is_year(value: float, decimals: int) -> bool:
    return decimals == 0 and 1990 <= value <= 2100


def _fact_scaled(fact: Fact, unit: ClaimUnit) -> tuple[float | None, bool]:
    """The fact's value in the claim's unit, and whether the units are compatible."""
    if fact.value is None:
        return None, False
    value = fact.value
    if fact.unit == "ratio":
        if unit in (ClaimUnit.PERCENT, ClaimUnit.POINTS):
            return value * 100.0, True
        return value, unit is ClaimUnit.PLAIN
    compatible = {
        "money": (ClaimUnit.MONEY, ClaimUnit.PLAIN),
        "days": (ClaimUnit.DAYS, ClaimUnit.PLAIN),
        "months": (ClaimUnit.MONTHS, ClaimUnit.PLAIN),
        "count": (ClaimUnit.PLAIN,),
        "score": (ClaimUnit.PLAIN, ClaimUnit.POINTS),
        "multiple": (ClaimUnit.MULTIPLE, ClaimUnit.PLAIN),
    }.get(fact.unit, (ClaimUnit.PLAIN,))
    return value, unit in compatible


def _close(claim: Claim, target: float) -> bool:
    """The claim equals ``target`` rounded at the claim's precision (half a step either way)."""
    return abs(claim.value - target) <= claim.step / 2 + 1e-9 * max(1.0, abs(target))


def _band_values(fact: Fact) -> list[float]:
    """Numbers in the fact's target-band text, in the fact's display unit (e.g. '60–80%+' → [60, 80])."""
    if not fact.target:
        return []
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", fact.target)]


def _matches(claim: Claim, fact: Fact) -> tuple[bool, bool]:
    """(value matches in some unit, value matches in a compatible unit)."""
    compatible_hit = any_hit = False
    for unit in (claim.unit,) + tuple(u for u in ClaimUnit if u is not claim.unit):
        scaled, compatible = _fact_scaled(fact, unit)
        if scaled is None:
            continue
        if _close(claim, scaled) or (unit is ClaimUnit.PERCENT and claim.unit is ClaimUnit.PLAIN and _close(claim, scaled)):
            if unit is claim.unit and compatible:
                compatible_hit = True
            any_hit = True
    if not compatible_hit and claim.unit in (ClaimUnit.PERCENT, ClaimUnit.PLAIN, ClaimUnit.DAYS, ClaimUnit.MULTIPLE):
        if any(math.isclose(claim.value, band) for band in _band_values(fact)):
            compatible_hit = any_hit = True
    return any_hit, compatible_hit


def verify_claims(claims: list[Claim], bundle: FactBundle) -> VerificationReport:
    """Match each claim to the bundle's facts (see the module docstring for the statuses)."""
    facts = bundle.by_id()
    checked: list[Claim] = []
    for claim in claims:
        checked.append(_verdict(claim, facts))
    return VerificationReport(tuple(checked))


def _verdict(claim: Claim, facts: dict[str, Fact]) -> Claim:
    from dataclasses import replace

    if claim.cited:
        known = [facts[i] for i in claim.cited if i in facts]
        if not known:
            return replace(claim, status=ClaimStatus.UNKNOWN_FACT, fact_id=claim.cited[0])
        wrong_unit_fact = None
        for fact in known:
            any_hit, compatible = _matches(claim, fact)
            if compatible:
                return replace(claim, status=ClaimStatus.VERIFIED, fact_id=fact.id)
            if any_hit and wrong_unit_fact is None:
                wrong_unit_fact = fact
        if wrong_unit_fact is not None:
            return replace(claim, status=ClaimStatus.WRONG_UNIT, fact_id=wrong_unit_fact.id, expected=wrong_unit_fact.display)
        # A cited sentence may also state an uncited number that is another fact's value.
        other = _any_fact_with_value(claim, facts)
        if other is not None:
            return replace(claim, status=ClaimStatus.UNCITED, fact_id=other.id, expected=other.display)
        first = known[0]
        return replace(claim, status=ClaimStatus.WRONG_VALUE, fact_id=first.id, expected=first.display)
    other = _any_fact_with_value(claim, facts)
    if other is not None:
        return replace(claim, status=ClaimStatus.UNCITED, fact_id=other.id, expected=other.display)
    return replace(claim, status=ClaimStatus.FABRICATED)


def _any_fact_with_value(claim: Claim, facts: dict[str, Fact]) -> Fact | None:
    for fact in facts.values():
        if _matches(claim, fact)[1]:
            return fact
    return None


def instruction_numbers(prompt_text: str, fence_token: str | None = None) -> frozenset[tuple[float, str]]:
    """(value, unit) pairs the rendered prompt's own instructions state, outside its data fences."""
    text = prompt_text
    if fence_token:
        text = re.sub(rf"<<UNTRUSTED-{re.escape(fence_token)}>>.*?<</UNTRUSTED-{re.escape(fence_token)}>>", " ", text, flags=re.S)
    return frozenset((c.value, c.unit.value) for c in extract_claims(text))


def verify_draft(draft: str, bundle: FactBundle, language: str = "en", prompt_text: str | None = None,
                 fence_token: str | None = None) -> VerificationReport:
    """Extract and verify every numeric claim of ``draft`` against ``bundle``."""
    ignore = instruction_numbers(prompt_text, fence_token) if prompt_text else frozenset()
    return verify_claims(extract_claims(draft, language, ignore), bundle)
