"""The ``verify_plan`` tool: check every number in a draft plan against the fact bundle of its scope.

``prompts.verify.verify_draft`` — the same call the ``lifecycle plan`` pipeline makes, so both give the same
verdicts — turns each sentence into claims (subject, value, unit, precision, kind, citations) and judges each
against ``lifecycle.facts.build_facts`` for the same as_of, period and filters: verified, rounded_ok, proposal
(passing); wrong_value, wrong_unit, misattributed, unsupported_projection, unknown_fact, uncited (failing). For a
failing claim, ``fact_id``/``expected`` name the fact the sentence is about (its subject), not just any fact that
happens to have a similar value.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.scope import Scope
from prompts.grounding.records import ClaimCheck
from prompts.render import Language
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.lifecycle_facts import facts_for
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, resolve_scope
from tools.text import data_text

NAME = "verify_plan"
TITLE = "Verify a draft plan's numbers"
DESCRIPTION = (
    "Check each number of a draft plan against the facts of its scope (as_of, filters): pass (verified, rounded_ok, "
    "proposal) or fail (wrong_value, wrong_unit, misattributed, unsupported_projection, unknown_fact, uncited). Cite "
    "[F:id] after each number; mark the plan's own goals [proposal]."
)
MAX_DRAFT_CHARS = 60_000


def passing_statuses() -> frozenset[str]:
    """The claim statuses that pass (``prompts.grounding.verdicts.PASSING``)."""
    from prompts.grounding.verdicts import PASSING

    return frozenset(v.value for v in PASSING)


class ClaimOut(wire_model(ClaimCheck, descriptions={  # type: ignore[misc]
        "text": "The number as written.", "kind": "current, target, change, forecast or proposal.",
        "fact_id": "The fact the claim was judged against, or the one the sentence is about.",
        "expected": "That fact's display text, for a failing claim.",
        "subject": "Fact ids the sentence names next to the number."},
        order=("text", "value", "unit", "kind", "status", "fact_id", "expected", "detail", "cited", "subject",
               "sentence"))):
    """One number of the draft and its verdict (``prompts.grounding.records.ClaimCheck``; the sentence shortened to
    300 characters, at most 8 subject fact ids)."""


class VerifyPlanResult(BaseModel):
    scope: ScopeOut
    ok: bool = Field(description="True when every claim is verified.")
    counts: dict[str, int]
    claims: list[ClaimOut]


def verify_plan(work: Work, scope: Scope, draft: str, language: str = "en") -> VerifyPlanResult:
    """Verify ``draft`` against the scope's fact bundle."""
    from prompts.verify import verify_draft  # the verifier's patterns compile on the first call, not at start

    bundle = facts_for(work, scope)
    work.step(1, 2, "checking claims")
    report = verify_draft(draft, bundle, language)
    records = [c.record() for c in report.claims]
    claims = [ClaimOut.of(r, sentence=r.sentence.strip()[:300], subject=r.subject[:8]) for r in records]
    return VerifyPlanResult(scope=ScopeOut.of(scope), ok=report.ok, counts=report.counts(), claims=claims)


def summary_text(result: VerifyPlanResult) -> str:
    """Every claim: the number as written, its status, the fact the sentence is about and that fact's display text,
    and the sentence it sits in (shortened)."""
    passing = passing_statuses()
    bad = [c for c in result.claims if c.status not in passing]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
    lines = [f"Numbers checked: {len(result.claims)} ({counts}); {'all pass' if not bad else f'{len(bad)} fail'} "
             f"(facts as of {result.scope.as_of}). Fix each failing number: cite its fact as [F:id] with the fact's "
             "display value, mark a goal of the plan [proposal], or remove it."]
    for claim in result.claims:
        fact = f" [F:{claim.fact_id}]" if claim.fact_id else ""
        expected = f" = {claim.expected}" if claim.expected and claim.status not in passing else ""
        lines.append(f"- {data_text(claim.text, 40)}: {claim.status}{fact}{expected} — “{data_text(claim.sentence, 160)}”")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``verify_plan`` tool to ``server``."""

    async def verify_plan_tool(
        draft: Annotated[str, Field(min_length=1, max_length=MAX_DRAFT_CHARS, description="The draft plan text.")],
        language: Annotated[Language, Field(description="Language of the draft.")] = Language.EN,
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, VerifyPlanResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = verify_plan(work, scope, draft, language.value)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(verify_plan_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
