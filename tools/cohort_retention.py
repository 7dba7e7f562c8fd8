"""The ``cohort_retention`` tool: the retention triangle of signup-month cohorts over the period.

``lifecycle.metrics.cohorts.cohort_retention`` (logo or revenue basis, recurring or cumulative mode); cohorts are the
signup months of the period. ``chart: true`` adds the heatmap as a PNG.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.metrics.cohorts import CohortTable, cohort_retention
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.charts import cohort_heatmap
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, resolve_scope

NAME = "cohort_retention"
TITLE = "Cohort retention triangle"
DESCRIPTION = (
    "Retention of signup-month cohorts month by month since signup: logo basis (share of customers active) or "
    "revenue basis (MRR vs month 0, may exceed 1 with expansion); recurring (active that month) or cumulative "
    "(active that month or later) mode. Cohorts are the signup months of the period; unobserved months are null. "
    "chart=true adds a heatmap image."
)


class CohortRow(BaseModel):
    cohort: str = Field(description="Signup month YYYY-MM.")
    size: int
    base: float | None = Field(description="Cohort size (logo) or month-0 MRR (revenue).")
    values: list[float | None] = Field(description="Retained fraction for month 0, 1, 2, … since signup.")
    counts: list[float | None]


class CohortRetentionResult(BaseModel):
    scope: ScopeOut
    mode: str
    basis: str
    activity: str = Field(description="What counts as active: subscriptions, orders or events.")
    reason: str | None
    rows: list[CohortRow]


def cohorts(work: Work, scope: Scope, mode: str, basis: str) -> tuple[CohortRetentionResult, CohortTable]:
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    work.step(0, 1, "building cohorts")
    table = cohort_retention(dataset, mode=mode, basis=basis)  # type: ignore[arg-type]
    data = table.to_dict()
    result = CohortRetentionResult(scope=ScopeOut.of(scope), mode=data["mode"], basis=data["basis"], activity=data["activity"],
                                   reason=data["reason"], rows=[CohortRow.model_validate(r) for r in data["rows"]])
    return result, table


def summary_text(result: CohortRetentionResult) -> str:
    lines = [f"{len(result.rows)} cohorts ({result.basis}, {result.mode}) as of {result.scope.as_of}."]
    if result.reason:
        lines.append(result.reason)
    for row in result.rows[:6]:
        month3 = row.values[3] if len(row.values) > 3 else None
        lines.append(f"- {row.cohort} (n={row.size}): month 3 " + (f"{month3 * 100:.0f}%" if month3 is not None else "n/a"))
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``cohort_retention`` tool to ``server``."""

    async def cohort_retention_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        basis: Annotated[Literal["logo", "revenue"], Field(description="Customers or MRR.")] = "logo",
        mode: Annotated[Literal["recurring", "cumulative"], Field(description="Active that month, or then or later.")] = "recurring",
        chart: Annotated[bool, Field(description="Also return a PNG heatmap.")] = False,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, CohortRetentionResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result, table = cohorts(work, scope, mode, basis)
            images = (cohort_heatmap(table),) if chart and table.cohorts else ()
            return structured_result(result, summary_text(result), images)

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(cohort_retention_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
