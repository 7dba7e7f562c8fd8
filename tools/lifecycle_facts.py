"""The ``lifecycle_facts`` tool: the fact bundle the prompts use, every fact with a stable id.

The bundle is ``lifecycle.facts.build_facts`` for the scope (memoised per database file and scope, since it
computes the whole catalogue); ``section`` narrows the answer to the facts tagged with one framework section.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.facts import FactBundle, build_facts
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, memo, resolve_scope

NAME = "lifecycle_facts"
TITLE = "Lifecycle fact bundle"
DESCRIPTION = (
    "The fact bundle behind the strategy prompts: every computed number (metrics, stage counts, drivers, health, "
    "at-risk summary) with a stable id, label, exact value, display text, sample size, target and status. Cite facts "
    "as [F:id] when writing a plan; verify_plan checks the citations. section narrows the list."
)


class Section(StrEnum):
    """Framework sections facts are tagged with."""

    OVERVIEW = "overview"
    AWARENESS = "awareness"
    EVALUATION = "evaluation"
    PURCHASE_ONBOARDING = "purchase_onboarding"
    ADOPTION = "adoption"
    GROWTH_EXPANSION = "growth_expansion"
    LOYALTY_ADVOCACY = "loyalty_advocacy"
    FLOW = "flow"
    HEALTH = "health"
    RISK = "risk"
    DRIVERS = "drivers"
    ENGAGEMENT = "engagement"
    MEASUREMENT = "measurement"


class FactOut(BaseModel):
    id: str = Field(description="Stable id; cite as [F:id].")
    label: str
    value: float | None
    unit: str
    display: str = Field(description="The text to quote.")
    sample_size: int | None
    target: str | None
    status: str | None
    definition: str | None
    sections: list[str]
    note: str | None


class LifecycleFactsResult(BaseModel):
    scope: ScopeOut
    section: str | None
    total_facts: int = Field(description="Facts in the whole bundle.")
    facts: list[FactOut]


def facts_for(work: Work, scope: Scope) -> FactBundle:
    """``build_facts`` for the scope, memoised per database file and scope."""
    def compute() -> FactBundle:
        work.step(0, 1, "computing the fact bundle")
        return build_facts(work.dataset(scope.as_of, scope.filters, scope.window))

    return memo(work, "facts", scope.key(), compute)


def lifecycle_facts(work: Work, scope: Scope, section: str | None = None) -> LifecycleFactsResult:
    bundle = facts_for(work, scope)
    chosen = bundle.for_section(section) if section else bundle.facts
    return LifecycleFactsResult(scope=ScopeOut.of(scope), section=section, total_facts=len(bundle.facts),
                                facts=[FactOut.model_validate(f.to_dict()) for f in chosen])


def summary_text(result: LifecycleFactsResult) -> str:
    head = f"{len(result.facts)} facts" + (f" in section {result.section}" if result.section else "")
    lines = [f"{head} as of {result.scope.as_of} ({result.total_facts} in the bundle). First ones:"]
    lines += [f"[F:{f.id}] {f.label} = {f.display}" for f in result.facts[:8]]
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``lifecycle_facts`` tool to ``server``."""

    async def lifecycle_facts_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        section: Annotated[Section | None, Field(description="Only facts of this section.")] = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, LifecycleFactsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = lifecycle_facts(work, scope, section.value if section else None)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(lifecycle_facts_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
