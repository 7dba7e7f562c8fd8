"""One verdict per claim, from the claim (subject, value, unit, precision, kind, citations) and the fact bundle.

The verdict table (docs/verifier.md): verified, rounded_ok and proposal pass; every other verdict fails ``--strict``
and, without ``--strict``, sends the draft back once for revision with the claim listed.

1. A claim backed only by ``[proposal]`` is a **proposal** (listed as such). Citations to ids not in the bundle:
   **unknown_fact**.
2. Uncited: a forecast, change or goal is an **unsupported_projection**; a number equal to a fact about another
   subject than the sentence's is **misattributed**; anything else is **uncited**.
3. Cited: a target claim (a target word next to it) verifies against the ends of the cited fact's target band; a
   band end never verifies a current value. When the clause names a subject, the citation must be about it — or be
   named elsewhere in the sentence — else **misattributed**. The value must equal the fact at the precision written
   (**verified** when it is the display value, **rounded_ok** for a person's rounding such as 42.4% → "about 42%"),
   with a unit the fact can be stated in (days ↔ weeks/months/years convert) and the sign its words carry. A value
   that belongs to another cited fact is **misattributed** (swapped values); a number that matches only in another unit
   is **wrong_unit**; a cited forecast that is not the fact is an **unsupported_projection**; else **wrong_value**.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from lifecycle.facts import Fact
from lifecycle.facts.names import fact_names
from prompts.grounding.claims import Claim, ClaimKind, compatible
from prompts.grounding.numbers import DAYS_PER, Unit


class Verdict(StrEnum):
    VERIFIED = "verified"
    ROUNDED_OK = "rounded_ok"
    PROPOSAL = "proposal"
    WRONG_VALUE = "wrong_value"
    WRONG_UNIT = "wrong_unit"
    MISATTRIBUTED = "misattributed"
    UNSUPPORTED_PROJECTION = "unsupported_projection"
    UNKNOWN_FACT = "unknown_fact"
    UNCITED = "uncited"


PASSING = frozenset({Verdict.VERIFIED, Verdict.ROUNDED_OK, Verdict.PROPOSAL})
NAME_PART = "part of the cited fact's name"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    fact: Fact | None = None  # the fact the claim was judged against, or the suggestion
    detail: str = ""


def _difference_like(fact: Fact) -> bool:
    return fact.id.endswith(".difference") or fact.display.startswith(("+", "-", "−")) or "pts" in fact.display


def fact_value_in(fact: Fact, unit: Unit) -> float | None:
    """The fact's value in the unit a claim was written in (None when incompatible)."""
    if fact.value is None:
        return None
    value = float(fact.value)
    if fact.unit == "ratio":
        return value if unit is Unit.FRACTION else value * 100.0
    if fact.unit in ("days", "months") and unit in DAYS_PER:
        days = value * (1.0 if fact.unit == "days" else DAYS_PER[Unit.MONTHS])
        return days / DAYS_PER[unit]
    return value


def _claim_value(claim: Claim, fact: Fact) -> float:
    number = claim.number
    value = number.value
    if value < 0 or number.negative_word:
        return value
    if claim.direction and _difference_like(fact):
        return claim.direction * abs(value)
    if fact.value is not None and fact.value < 0 and _difference_like(fact):
        return -abs(value)  # "a difference of 30.3 pts" without a direction: the size is what is stated
    return value


def value_matches(claim: Claim, fact: Fact) -> str | None:
    """"exact" / "rounded" when the claim states the fact at its precision in a compatible unit, else None."""
    number = claim.number
    if not compatible(number, fact.unit):
        return None
    expected = fact_value_in(fact, number.unit)
    if expected is None:
        return None
    stated = _claim_value(claim, fact)
    if number.bound == "lt":
        window = 0.1 if number.unit is Unit.FRACTION else max(number.step, 0.1 * abs(stated))
        return "rounded" if stated - window <= expected < stated else None
    if number.bound == "gt":
        window = 0.1 if number.unit is Unit.FRACTION else max(number.step, 0.1 * abs(stated))
        return "rounded" if stated < expected <= stated + window else None
    if abs(stated - expected) > number.tolerance + 1e-9 * max(1.0, abs(expected)):
        return None
    display = _display_number(fact)
    if display is not None and number.unit is not Unit.FRACTION and abs(stated - display) < 1e-9 * max(1.0, abs(display)) \
            and number.unit in _DISPLAY_UNITS.get(fact.unit, ()):
        return "exact"
    return "rounded"


_DISPLAY_UNITS = {"ratio": (Unit.PERCENT, Unit.POINTS), "money": (Unit.MONEY, Unit.PLAIN), "days": (Unit.DAYS, Unit.PLAIN),
                  "months": (Unit.MONTHS, Unit.PLAIN), "count": (Unit.COUNT, Unit.PLAIN), "score": (Unit.PLAIN, Unit.POINTS),
                  "multiple": (Unit.MULTIPLE, Unit.PLAIN)}


def _display_number(fact: Fact) -> float | None:
    match = re.search(r"[-−+]?\d[\d,]*(?:\.\d+)?", fact.display)
    if not match:
        return None
    return float(match.group(0).replace(",", "").replace("−", "-"))


def _matches_in_other_unit(claim: Claim, fact: Fact) -> bool:
    """The number equals the fact's value read in the fact's own display unit, though written in another unit."""
    display = _display_number(fact)
    if display is None or compatible(claim.number, fact.unit) and claim.number.unit not in DAYS_PER:
        return False
    return abs(abs(claim.number.value) - abs(display)) <= max(claim.number.step / 2, 1e-9)


def band_ends(fact: Fact) -> list[float]:
    """The numbers of the fact's target-band text, in its display unit ('60–80%+' → [60, 80], '< 7 days' → [7])."""
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", fact.target or "")]


def _band_matches(claim: Claim, fact: Fact) -> bool:
    if not fact.target or not compatible(claim.number, fact.unit):
        return False
    value = claim.number.value
    if fact.unit == "ratio" and claim.number.unit is Unit.FRACTION:
        value *= 100.0
    if fact.unit in ("days", "months") and claim.number.unit in DAYS_PER:
        value = value * DAYS_PER[claim.number.unit] / (1.0 if fact.unit == "days" else DAYS_PER[Unit.MONTHS])
    return any(abs(value - end) <= claim.number.tolerance + 1e-9 for end in band_ends(fact))


def _suggestion(claim: Claim, facts: dict[str, Fact]) -> Fact | None:
    """The fact the sentence is about (matching value first), else None."""
    about = [facts[i] for i in sorted(claim.subject) if i in facts and facts[i].value is not None]
    if claim.kind is not ClaimKind.CHANGE:  # "Churn is 12%" is about churn, not its change or its previous value
        about = [f for f in about if _family(f.id) not in DERIVED_FAMILIES] or about
    for fact in about:
        if value_matches(claim, fact):
            return fact
    headline = [f for f in about if not f.detail] or about
    return headline[0] if headline else None


def _any_fact_with_value(claim: Claim, facts: dict[str, Fact]) -> Fact | None:
    for fact in facts.values():
        if value_matches(claim, fact):
            return fact
    return None


DERIVED_FAMILIES = frozenset({"change", "previous", "gap"})  # lifecycle.facts.derived: named with their metric's words


def _family(fact_id: str) -> str:
    return fact_id.split(".")[0] if "." in fact_id else fact_id


def _cited_subject_named(claim: Claim, known: list[Fact]) -> bool:
    """The sentence names a cited fact somewhere, or its subject words are part of a cited fact's name ("MRR" in "new MRR")."""
    if any(f.id in claim.named or any(_family(f.id) == _family(n) and "." in n for n in claim.named) for f in known):
        return True
    words = claim.subject_text.lower().strip()
    return bool(words) and any(words in name.lower() for f in known for name in fact_names(f.id).of(claim.language))


_LABEL_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\+|-|\s)?\s*(day|days|month|months|%|core)?")


def _part_of_name(claim: Claim, known: list[Fact]) -> bool:
    """A number that is part of a cited fact's name or definition ("after twelve months", "in the last 30 days", "(0–100)")."""
    number = claim.number
    if number.unit not in (Unit.PLAIN, Unit.DAYS, Unit.MONTHS, Unit.WEEKS, Unit.COUNT):
        return False
    for fact in known:
        text = f"{fact.label} {fact.definition or ''}"
        for match in _LABEL_NUMBER.finditer(text):
            if abs(float(match.group(1)) - abs(number.value)) < 1e-9 and not (match.group(2) or "").startswith("%"):
                return True
    return False


_SAMPLE_SIZE = re.compile(r"(?:\bn\s*=\s*|\bN\s*=\s*|sample (?:size )?of\s+|выборк\w*\s+|样本量?\s*[:：=为]?\s*)$", re.I)


def _sample_size(claim: Claim, facts: dict[str, Fact]) -> Judgement | None:
    """A sample size written "n=506" next to a citation: checked against the cited facts' sample sizes."""
    if not _SAMPLE_SIZE.search(claim.sentence[:claim.number.start]):
        return None
    cited = [facts[i] for i in re.findall(r"\[F:([A-Za-z0-9_.\-]+)\]", claim.sentence) if i in facts]
    for fact in cited:
        if fact.sample_size is not None and abs(fact.sample_size - claim.number.value) <= claim.number.tolerance:
            return Judgement(Verdict.VERIFIED, fact, "sample size")
    return Judgement(Verdict.WRONG_VALUE, cited[0] if cited else None, "no cited fact has this sample size")


def judge(claim: Claim, facts: dict[str, Fact], name_numbers: bool = True) -> Judgement:
    """The verdict on ``claim`` (rules in the module docstring). ``name_numbers``: a cited number that is part of the
    cited fact's name passes (the caller allows it only when the sentence also states the fact's value)."""
    if claim.proposal and not claim.citations:
        return Judgement(Verdict.PROPOSAL)
    sample = _sample_size(claim, facts)
    if sample is not None:
        return sample
    if not claim.citations:
        about = _suggestion(claim, facts)
        if claim.kind in (ClaimKind.FORECAST, ClaimKind.CHANGE, ClaimKind.TARGET):
            return Judgement(Verdict.UNSUPPORTED_PROJECTION, about, "no fact states it; write it as a proposal or remove it")
        other = _any_fact_with_value(claim, facts)
        if other is not None and claim.subject and other.id not in claim.subject:
            return Judgement(Verdict.MISATTRIBUTED, about, f"the value of {other.id}, stated about another metric")
        return Judgement(Verdict.UNCITED, about or other, "cite the fact it comes from")
    known = [facts[i] for i in claim.citations if i in facts]
    if not known:
        return Judgement(Verdict.UNKNOWN_FACT, _suggestion(claim, facts), f"no fact {claim.citations[0]!r}")
    if name_numbers and not any(value_matches(claim, f) or _band_matches(claim, f) for f in known) and _part_of_name(claim, known):
        return Judgement(Verdict.VERIFIED, known[0], NAME_PART)
    local = [f for f in known if f.id in claim.subject]
    if claim.subject and not local and not _cited_subject_named(claim, known):
        return Judgement(Verdict.MISATTRIBUTED, _suggestion(claim, facts) or known[0],
                         f"[F:{known[0].id}] is about another metric than the sentence")
    candidates = local or known
    if claim.number.in_range:
        for fact in known:
            if _band_matches(claim, fact):
                return Judgement(Verdict.VERIFIED, fact, "target band")
    if claim.kind is ClaimKind.TARGET:
        for fact in candidates + [f for f in known if f not in candidates]:
            if _band_matches(claim, fact):
                return Judgement(Verdict.VERIFIED, fact, "target band")
    for fact in candidates:
        found = value_matches(claim, fact)
        if found:
            return Judgement(Verdict.VERIFIED if found == "exact" else Verdict.ROUNDED_OK, fact)
    for fact in known:
        if fact not in candidates and value_matches(claim, fact):
            return Judgement(Verdict.MISATTRIBUTED, candidates[0], f"the value of [F:{fact.id}], stated about another metric")
    if claim.kind is ClaimKind.FORECAST:
        return Judgement(Verdict.UNSUPPORTED_PROJECTION, candidates[0], "no fact states it; write it as a proposal or remove it")
    for fact in candidates:
        if _matches_in_other_unit(claim, fact):
            return Judgement(Verdict.WRONG_UNIT, fact, f"[F:{fact.id}] is {fact.display}")
    return Judgement(Verdict.WRONG_VALUE, candidates[0], f"[F:{candidates[0].id}] is {candidates[0].display}")
