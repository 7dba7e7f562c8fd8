"""The ``revenue_movements`` tool: the monthly MRR bridge over the period, and who moved in one month.

``lifecycle.metrics.revenue_movements.revenue_movements`` (new, expansion, reactivation, contraction, churn per month,
ChartMogul conventions) for the months of the period; with ``month``, the customers behind that month's bridge
(``movements_by_customer``), largest amounts first.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.metrics.revenue_movements import movements_by_customer, revenue_movements
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, resolve_scope

NAME = "revenue_movements"
TITLE = "MRR movements"
DESCRIPTION = (
    "The monthly MRR bridge for the months of the period: starting MRR, new, expansion, reactivation, contraction, "
    "churn, ending MRR and customer counts per movement (the month holding as_of is partial). With month "
    "(YYYY-MM), also the customers behind that month's movements, largest first."
)


class MonthOut(BaseModel):
    month: str
    month_end: date
    partial: bool
    starting_mrr: float
    new: float
    expansion: float
    reactivation: float
    contraction: float
    churn: float
    ending_mrr: float
    net_new: float
    starting_customers: int
    new_customers: int
    expansion_customers: int
    reactivation_customers: int
    contraction_customers: int
    churned_customers: int
    ending_customers: int


class MoverOut(BaseModel):
    customer_id: str
    movement: str
    previous_mrr: float
    current_mrr: float
    amount: float


class RevenueMovementsResult(BaseModel):
    scope: ScopeOut
    months: list[MonthOut]
    month: str | None = Field(description="The month whose movers are listed.")
    movers_total: int
    movers: list[MoverOut]


def movements(work: Work, scope: Scope, month: str | None, limit: int) -> RevenueMovementsResult:
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    work.step(0, 2, "building the MRR bridge")
    table = revenue_movements(dataset)
    start = scope.window.start.replace(day=1)
    rows = [MonthOut.model_validate(r.to_dict()) for r in table.rows if r.month >= start]
    movers: list[MoverOut] = []
    total = 0
    if month:
        work.step(1, 2, "listing movers")
        found = movements_by_customer(dataset, month)
        total = len(found)
        ranked = sorted(found, key=lambda m: (-m.amount, m.customer_id))[:limit]
        movers = [MoverOut(customer_id=m.customer_id, movement=m.movement.value, previous_mrr=m.previous_mrr,
                           current_mrr=m.current_mrr, amount=m.amount) for m in ranked]
    return RevenueMovementsResult(scope=ScopeOut.of(scope), months=rows, month=month, movers_total=total, movers=movers)


def summary_text(result: RevenueMovementsResult) -> str:
    lines = [f"MRR bridge as of {result.scope.as_of}, {len(result.months)} months:"]
    for row in result.months[-6:]:
        lines.append(f"- {row.month}{' (partial)' if row.partial else ''}: {row.starting_mrr:,.0f} → {row.ending_mrr:,.0f} "
                     f"(new {row.new:,.0f}, expansion {row.expansion:,.0f}, churn {row.churn:,.0f})")
    if result.month:
        lines.append(f"{result.movers_total} customers moved in {result.month}.")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``revenue_movements`` tool to ``server``."""

    async def revenue_movements_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        month: Annotated[str | None, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM: also list "
                                                                                       "this month's movers.")] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Movers to list.")] = 20,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, RevenueMovementsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = movements(work, scope, month, limit)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(revenue_movements_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
