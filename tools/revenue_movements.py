"""The ``revenue_movements`` tool: the monthly MRR bridge over the period, and who moved in one month.

``lifecycle.metrics.revenue_movements.revenue_movements`` (new, expansion, reactivation, contraction, churn per month,
ChartMogul conventions) for the months of the period; with ``month``, the customers behind that month's bridge
(``lifecycle.metrics.movers.mover_page``: movement types chosen, paged with a cursor, each mover with who they are),
and with ``by`` that month's bridge per group beside the month before (``movers.bridge_by``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.metrics.movers import GroupBridge, Mover, bridge_by, mover_page
from lifecycle.metrics.revenue_movements import MonthMovements, Movement, revenue_movements
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.records import wire_model
from tools.runtime import Work, require, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, resolve_scope
from tools.text import MISSING, data_text, money, page_line, percent, table

NAME = "revenue_movements"
TITLE = "MRR movements"
DESCRIPTION = (
    "The monthly MRR bridge of the period. With month=YYYY-MM: who moved (movements=[\"churn\"] narrows; cursor "
    "pages) with segment, plan, channel and stage; with by: that month's bridge per group beside the month before "
    "(logo and MRR churn reconciled)."
)
MAX_MOVERS = 200
GroupBy = Literal["segment", "plan", "channel", "industry", "country", "company_size", "stage"]


class MonthOut(wire_model(MonthMovements, types={"month": str}, descriptions={"month": "YYYY-MM."})):  # type: ignore[misc]
    """One month of the MRR bridge (``lifecycle.metrics.revenue_movements.MonthMovements``)."""


class MoverOut(wire_model(Mover, descriptions={  # type: ignore[misc]
    "stage": "Lifecycle stage at the start of the month ('new': not signed up yet).",
})):
    """One customer's movement in the month, with who they are."""


class GroupMonth(BaseModel):
    """One group's bridge in one month; logo_churn = churned_customers ÷ starting_customers, mrr_churn = churn ÷
    starting_mrr (same customers)."""

    starting_customers: int
    churned_customers: int
    logo_churn: float | None
    starting_mrr: float
    churn: float
    mrr_churn: float | None
    new: float
    expansion: float
    reactivation: float
    contraction: float
    net_new: float
    ending_mrr: float


class GroupOut(BaseModel):
    group: str
    current: GroupMonth
    previous: GroupMonth | None = Field(description="The month before (null for the first month of data).")
    logo_churn_change: float | None
    mrr_churn_change: float | None


class RevenueMovementsResult(BaseModel):
    scope: ScopeOut
    months: list[MonthOut]
    month: str | None
    movements: list[str]
    movers_total: int
    movers_by_type: dict[str, int]
    offset: int
    limit: int
    next_cursor: str | None = Field(description="Pass as cursor for the next movers; null on the last page.")
    movers: list[MoverOut]
    by: str | None
    groups: list[GroupOut]


def _group_month(row: MonthMovements) -> GroupMonth:
    return GroupMonth(starting_customers=row.starting_customers, churned_customers=row.churned_customers,
                      logo_churn=GroupBridge.logo_churn(row), starting_mrr=row.starting_mrr, churn=row.churn,
                      mrr_churn=GroupBridge.mrr_churn(row), new=row.new, expansion=row.expansion,
                      reactivation=row.reactivation, contraction=row.contraction, net_new=row.net_new,
                      ending_mrr=row.ending_mrr)


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def _group(bridge: GroupBridge) -> GroupOut:
    current = _group_month(bridge.current)
    previous = _group_month(bridge.previous) if bridge.previous is not None else None
    return GroupOut(group=bridge.group, current=current, previous=previous,
                    logo_churn_change=_change(current.logo_churn, previous.logo_churn if previous else None),
                    mrr_churn_change=_change(current.mrr_churn, previous.mrr_churn if previous else None))


def bridge_and_movers(work: Work, scope: Scope, month: str | None, limit: int, kinds: list[str] | None = None,
              cursor: str | None = None, by: str | None = None) -> RevenueMovementsResult:
    require(month is not None or (not kinds and cursor is None and by is None),
            "movements, cursor and by need a month (YYYY-MM): call again with month")
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    work.step(0, 3, "building the MRR bridge")
    table = revenue_movements(dataset)
    start = scope.window.start.replace(day=1)
    rows = [MonthOut.of(r, month=r.label) for r in table.rows if r.month >= start]
    common: dict[str, Any] = {"scope": ScopeOut.of(scope), "months": rows, "month": month, "limit": limit, "by": by}
    if not month:
        return RevenueMovementsResult(**common, movements=[], movers_total=0, movers_by_type={}, offset=0,
                                      next_cursor=None, movers=[], groups=[])
    work.step(1, 3, "listing movers")
    page = mover_page(dataset, month, kinds or None, limit=limit, cursor=cursor)
    movers = [MoverOut.of(m, segment=_clean(m.segment), plan=_clean(m.plan), channel=_clean(m.channel)) for m in page.items]
    groups: list[GroupOut] = []
    if by:
        work.step(2, 3, f"the bridge by {by}")
        groups = [_group(g) for g in bridge_by(dataset, month, by)]
    return RevenueMovementsResult(**common, movements=[m.value for m in page.movements], movers_total=page.total,
                                  movers_by_type=page.counts, offset=page.offset, next_cursor=page.next_cursor,
                                  movers=movers, groups=[g.model_copy(update={"group": data_text(g.group, 60)}) for g in groups])


def _clean(value: str | None) -> str | None:
    return None if value is None else data_text(value, 60)


def summary_text(result: RevenueMovementsResult, currency: str = "USD") -> str:
    """Every month of the bridge, every mover of the page (with who they are) and every group of ``by``, then what is
    left out."""
    m = lambda v: money(v, currency)  # noqa: E731
    lines = [f"MRR bridge as of {result.scope.as_of} ({len(result.months)} months; amounts in {currency} per month; "
             "counts are customers):"]
    lines += table(("month", "starting MRR", "new", "expansion", "reactivation", "contraction", "churn", "ending MRR",
                    "net new", "customers start→end", "new/exp/react/contr/churned customers"),
                   ((f"{r.month}{' (partial)' if r.partial else ''}", m(r.starting_mrr), m(r.new), m(r.expansion),
                     m(r.reactivation), m(r.contraction), m(r.churn), m(r.ending_mrr), m(r.net_new),
                     f"{r.starting_customers}→{r.ending_customers}",
                     f"{r.new_customers}/{r.expansion_customers}/{r.reactivation_customers}/{r.contraction_customers}/"
                     f"{r.churned_customers}") for r in result.months))
    if result.month is None:
        lines.append("Movers are not listed: call again with month=YYYY-MM (and movements=[\"churn\"] to see only "
                     "churned customers, by=segment|plan|channel|stage for the month's bridge per group).")
        return "\n".join(lines)
    types = ", ".join(f"{k} {v}" for k, v in result.movers_by_type.items())
    lines.append(f"Movers in {result.month} ({', '.join(result.movements)}): {result.movers_total} ({types}).")
    lines += table(("customer", "movement", "MRR before→after", "amount", "segment", "plan", "channel",
                    "stage at month start"),
                   ((v.customer_id, v.movement, f"{m(v.previous_mrr)}→{m(v.current_mrr)}", m(v.amount),
                     v.segment or MISSING, v.plan or MISSING, v.channel or MISSING, v.stage or MISSING)
                    for v in result.movers))
    lines.append(page_line("movers", result.offset, len(result.movers), result.movers_total, result.next_cursor))
    if result.by:
        lines.append(f"{result.month} bridge by {result.by} (previous month in brackets; logo churn = churned ÷ "
                     "starting customers, MRR churn = churned ÷ starting MRR):")
        lines += table((result.by, "starting customers", "churned", "logo churn", "starting MRR", "churned MRR",
                        "MRR churn", "new", "expansion", "contraction", "ending MRR"),
                       (_group_cells(g, m) for g in result.groups))
        lines.append(f"All {len(result.groups)} groups shown.")
    return "\n".join(lines)


def _group_cells(group: GroupOut, m: Any) -> tuple[str, ...]:
    now, before = group.current, group.previous

    def was(value: str) -> str:
        return f" [{value}]" if before is not None else ""

    return (group.group, f"{now.starting_customers}{was(str(before.starting_customers) if before else '')}",
            f"{now.churned_customers}{was(str(before.churned_customers) if before else '')}",
            f"{percent(now.logo_churn)}{was(percent(before.logo_churn) if before else '')}",
            f"{m(now.starting_mrr)}{was(m(before.starting_mrr) if before else '')}",
            f"{m(now.churn)}{was(m(before.churn) if before else '')}",
            f"{percent(now.mrr_churn)}{was(percent(before.mrr_churn) if before else '')}",
            m(now.new), m(now.expansion), m(now.contraction), m(now.ending_mrr))


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``revenue_movements`` tool to ``server``."""

    async def revenue_movements_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        month: Annotated[str | None, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="List this month's movers.")] = None,
        movements: Annotated[list[Movement] | None, Field(max_length=5, description="Only these movement types "
                                                                                    "(default: all).")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_MOVERS, description="Movers per page.")] = 50,
        cursor: Annotated[str | None, Field(max_length=512, description="A next_cursor.")] = None,
        by: Annotated[GroupBy | None, Field(description="The month's bridge per group (stage: at month start).")] = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, RevenueMovementsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = bridge_and_movers(work, scope, month, limit, [m.value for m in movements or []], cursor, by)
            return structured_result(result, summary_text(result, ctx.config.revenue.currency))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(revenue_movements_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)

