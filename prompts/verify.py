"""The grounding verifier: every number in a plan must be a correctly stated, correctly attributed, cited fact.

One entry point, ``verify_draft(draft, bundle, language)``, used by the MCP tool ``verify_plan`` and by the
``lifecycle plan`` pipeline alike: same input, same verdicts. The draft is split into sentences
(``prompts.grounding.sentences``), each sentence into claims (``claims``: subject, value, unit, precision, kind,
citations), each claim judged against the bundle (``verdicts``). Numbers that only repeat the templates' fixed text
as structure ("the next 90 days") are left out (``exemptions``); nothing rendered into a prompt exempts a number.

Verdicts (docs/verifier.md has the table): verified, rounded_ok, proposal pass; wrong_value, wrong_unit,
misattributed, unsupported_projection, unknown_fact and uncited fail ``--strict`` and trigger one revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lifecycle.facts import Fact, FactBundle
from prompts.grounding.claims import Claim, ClaimKind, sentence_claims
from prompts.grounding.exemptions import TIMELINE_BEFORE, template_numbers
from prompts.grounding.numbers import Unit
from prompts.grounding.records import ClaimCheck
from prompts.grounding.sentences import split_sentences
from prompts.grounding.subjects import subject_index
from prompts.grounding.verdicts import NAME_PART, PASSING, Judgement, Verdict, judge

ClaimStatus = Verdict  # the name the report and its readers used before the claim model
CITATION_MARK = "[F:id]"


@dataclass(frozen=True)
class CheckedClaim:
    """A claim and its verdict."""

    claim: Claim
    judgement: Judgement

    @property
    def status(self) -> Verdict:
        return self.judgement.verdict

    @property
    def text(self) -> str:
        return self.claim.text

    @property
    def fact_id(self) -> str | None:
        return self.judgement.fact.id if self.judgement.fact else None

    @property
    def expected(self) -> str | None:
        return self.judgement.fact.display if self.judgement.fact and self.status not in PASSING else None

    def record(self) -> ClaimCheck:
        """The claim and its verdict as one flat record (what ``verify_plan`` sends and ``to_dict`` writes)."""
        number = self.claim.number
        return ClaimCheck(text=self.text, value=number.value, unit=number.unit.value, kind=self.claim.kind.value,
                          sentence=self.claim.sentence, cited=tuple(self.claim.citations),
                          subject=tuple(sorted(self.claim.subject)), status=self.status.value, fact_id=self.fact_id,
                          expected=self.expected, detail=self.judgement.detail)

    def to_dict(self) -> dict[str, Any]:
        return self.record().to_dict()


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on a draft: each claim with its verdict."""

    claims: tuple[CheckedClaim, ...] = field(default=())

    @property
    def unverified(self) -> tuple[CheckedClaim, ...]:
        return tuple(c for c in self.claims if c.status not in PASSING)

    @property
    def proposals(self) -> tuple[CheckedClaim, ...]:
        return tuple(c for c in self.claims if c.status is Verdict.PROPOSAL)

    @property
    def ok(self) -> bool:
        return not self.unverified

    def counts(self) -> dict[str, int]:
        out = {verdict.value: 0 for verdict in Verdict}
        for claim in self.claims:
            out[claim.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts(), "claims": [c.to_dict() for c in self.claims],
                "proposals": [c.claim.sentence.strip()[:300] for c in self.proposals]}

    def markdown(self) -> str:
        """A short Markdown report: counts, each unverified claim with its sentence and the fact it should match, proposals."""
        counts = self.counts()
        passed = counts["verified"] + counts["rounded_ok"]
        lines = [f"Numbers checked: {len(self.claims)}; verified: {passed}; proposals: {counts['proposal']}; "
                 f"unverified: {len(self.unverified)}."]
        for claim in self.unverified:
            hint = f" (the sentence is about [F:{claim.fact_id}] = {claim.expected})" if claim.expected else ""
            detail = f"; {claim.judgement.detail}" if claim.judgement.detail else ""
            lines.append(f"- **{_md(claim.text)}** — {claim.status.value}{detail}{hint}: “{_md(claim.claim.sentence.strip()[:240])}”")
        for claim in self.proposals:
            lines.append(f"- proposal: “{_md(claim.claim.sentence.strip()[:240])}”")
        return "\n".join(lines)


def _md(text: str) -> str:
    """Model text quoted in a Markdown report: no raw HTML, no emphasis or link syntax of its own."""
    return text.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*").replace("`", "\\`")


def _exempt(claim: Claim) -> bool:
    """An uncited number the templates' fixed text also uses, stated as structure (no subject, or a timeline)."""
    number = claim.number
    if claim.citations or claim.proposal:
        return False
    if (round(number.value, 6), number.unit) not in template_numbers() and \
            (round(number.value, 6), Unit.PLAIN) not in template_numbers():
        return False
    if number.unit not in (Unit.PLAIN, Unit.DAYS, Unit.WEEKS, Unit.MONTHS):
        return False
    before = claim.sentence[:number.start]
    return not claim.subject or bool(TIMELINE_BEFORE.search(before))


def extract_claims(draft: str, bundle: FactBundle, language: str = "en") -> list[Claim]:
    """Every claim of ``draft`` (structure and exempt numbers left out), in order."""
    units = {f.id: f.unit for f in bundle.facts}
    index = subject_index(tuple(sorted(units)), language)
    claims: list[Claim] = []
    for sentence in split_sentences(draft, language):
        claims.extend(c for c in sentence_claims(sentence, language, index, units) if not _exempt(c))
    return claims


def verify_draft(draft: str, bundle: FactBundle, language: str = "en") -> VerificationReport:
    """Extract and judge every claim of ``draft`` against ``bundle`` (the one verifier of both front ends).

    A number that is only part of the cited fact's name ("after twelve months") passes when another number of the
    same sentence, backed by the same citation, states the fact; alone it is judged as a value.
    """
    facts = bundle.by_id()
    checked = [CheckedClaim(claim, judge(claim, facts)) for claim in extract_claims(draft, bundle, language)]
    out: list[CheckedClaim] = []
    for item in checked:
        if item.judgement.detail == NAME_PART and not any(
                other is not item and other.claim.sentence == item.claim.sentence and set(other.claim.citations) & set(item.claim.citations)
                and other.status in PASSING and other.judgement.detail != NAME_PART for other in checked):
            item = CheckedClaim(item.claim, judge(item.claim, facts, name_numbers=False))
        out.append(item)
    return VerificationReport(tuple(out))


__all__ = ["CITATION_MARK", "CheckedClaim", "ClaimKind", "ClaimStatus", "Fact", "PASSING", "VerificationReport", "Verdict", "extract_claims",
           "verify_draft"]
