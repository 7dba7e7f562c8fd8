"""The ``cohort_retention`` tool: the retention triangle of signup-month cohorts over the period.

``lifecycle.metrics.cohorts.cohort_retention`` (logo or revenue basis, recurring or cumulative mode); cohorts are the
signup months of the period. ``chart: true`` adds the heatmap as a PNG.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from lifecycle.metrics import cohort_table
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.charts import cohort_heatmap
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, memo, resolve_scope
from tools.text import data_text, number

NAME = "cohort_retention"
TITLE = "Cohort retention triangle"
DESCRIPTION = (
    "Retention of the period's signup-month cohorts by month since signup: logo (customers) or revenue (MRR vs "
    "month 0) basis; recurring (active that month) or cumulative (then or later). chart=true adds a heatmap."
)


class CohortRow(wire_model(cohort_table.CohortRow, descriptions={  # type: ignore[misc]
        "cohort": "Signup month YYYY-MM.", "base": "Cohort size (logo) or month-0 MRR (revenue).",
        "values": "Retained fraction for month 0, 1, 2, … since signup."})):
    """One signup-month cohort (``lifecycle.metrics.cohort_table.CohortRow``)."""


class CohortRetentionResult(wire_model(  # type: ignore[misc]
        cohort_table.CohortTable, exclude=("period", "as_of", "cohorts", "sizes", "values", "counts", "base"),
        types={"reason": str | None}, extra={"scope": (ScopeOut, None), "rows": (list[CohortRow], None)},
        descriptions={"activity": "What counts as active: subscriptions, orders or events."},
        order=("scope", "mode", "basis", "activity", "reason", "rows"))):
    """The retention triangle row by row (``lifecycle.metrics.cohort_table.CohortTable``; ``rows`` is its ``rows``)."""


def cohorts(work: Work, scope: Scope, mode: str, basis: str) -> tuple[CohortRetentionResult, cohort_table.CohortTable]:
    """The scope's triangle in ``mode`` and ``basis`` — computed once per data, configuration, scope, mode and basis in
    this process (``tools.scope.memo``: the same question again costs its serialisation only; at a million customers
    the whole base's triangle took ~1.5 s of CPU); the result names the call's own scope."""

    def compute() -> cohort_table.CohortTable:
        from lifecycle.metrics.cohorts import cohort_retention

        dataset = work.dataset(scope.as_of, scope.filters, scope.window)
        work.step(0, 1, "building cohorts")
        return cohort_retention(dataset, mode=mode, basis=basis)  # type: ignore[arg-type]

    table = memo(work, "cohort_retention", (scope.key(), mode, basis), compute)
    result = CohortRetentionResult.of(table, scope=ScopeOut.of(scope), rows=[CohortRow.of(r) for r in table.rows])
    return result, table


def summary_text(result: CohortRetentionResult) -> str:
    """Every cohort with its size, base and retained share for every month since signup (percent, unobserved months
    as '.')."""
    base = "customers" if result.basis == "logo" else "month-0 MRR"
    lines = [f"{len(result.rows)} signup-month cohorts as of {result.scope.as_of} ({result.basis} basis, {result.mode} "
             f"mode; activity: {result.activity}). Each row: cohort (size; base = {base}): retained % at month 0, 1, 2, …"]
    if result.reason:
        lines.append(data_text(result.reason, 300))
    for row in result.rows:
        cells = " ".join("." if v is None else f"{v * 100:.0f}" for v in row.values)
        lines.append(f"{row.cohort} (n={row.size}; base {number(row.base)}): {cells}")
    lines.append(f"All {len(result.rows)} cohorts shown.")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``cohort_retention`` tool to ``server``."""

    async def cohort_retention_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        basis: Annotated[Literal["logo", "revenue"], Field(description="Customers or MRR.")] = "logo",
        mode: Annotated[Literal["recurring", "cumulative"], Field(description="Active that month, or then or later.")] = "recurring",
        chart: Annotated[bool, Field(description="Add a PNG heatmap.")] = False,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, CohortRetentionResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result, table = cohorts(work, scope, mode, basis)
            images = (cohort_heatmap(table),) if chart and table.cohorts else ()
            return structured_result(result, summary_text(result), images)

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(cohort_retention_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
