"""The ``list_at_risk`` tool: who to save first, why, and what to do — ranked, with cursor pagination.

``lifecycle.health.risk.list_at_risk`` over the scope's health table (``tools.health_scope``; ``LiveHealth.at_risk``:
from the whole base's ranking, made once, masked to the scope): customers ranked by
risk × MRR at stake, each with reason codes, the evidence behind each reason and a suggested play. The cursor
is the engine's opaque cursor, bound to the filters of the query that issued it.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.filters import Dimension
from lifecycle.health.profile import Reason
from lifecycle.health.risk import ORDER_KEY, AtRiskItem, ReasonEvidence
from lifecycle.scope import Scope
from prompts.fence import clean_text
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.health_scope import scope_health
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, FilterValue, ScopeOut, check_values, resolve_scope
from tools.text import MISSING, data_text, money, number, page_line, pairs, table

NAME = "list_at_risk"
TITLE = "At-risk customers"
DESCRIPTION = (
    "Customers at risk of churning, ranked by risk × MRR at stake, each with reason codes, the evidence behind each "
    "and a suggested play. Page with cursor=next_cursor (same filters)."
)
JsonScalar = float | int | str | bool | None


class ReasonOut(wire_model(ReasonEvidence, types={"evidence": dict[str, JsonScalar]})):  # type: ignore[misc]
    """One reason the customer is at risk, the values that raised it and the play it calls for."""


class AtRiskCustomer(wire_model(AtRiskItem, types={"reasons": list[ReasonOut]}, descriptions={  # type: ignore[misc]
    "risk": "0–1; noisy-OR of low health and the reasons.",
    "segment": "Health segment.",
    "value": "MRR at stake.",
    "priority": "risk × value.",
})):
    """One customer on the at-risk list."""


class ListAtRiskResult(BaseModel):
    scope: ScopeOut
    total: int = Field(description="Customers on the whole list.")
    offset: int
    limit: int
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")
    order: str
    items: list[AtRiskCustomer]


def _clean(value: Any) -> JsonScalar:
    return clean_text(value, 120) if isinstance(value, str) else value


def at_risk(work: Work, scope: Scope, limit: int, cursor: str | None, health_segment: list[str] | None,
            plan: list[str] | None, reasons: list[Reason] | None, min_risk: float | None) -> ListAtRiskResult:
    plans = list(check_values(work.source, Dimension.PLAN, plan or []))
    health = scope_health(work, scope)
    page = health.at_risk(limit=limit, cursor=cursor, segment=health_segment or None, plan=plans or None,
                          reason=list(reasons or []) or None, min_risk=min_risk)
    items = [AtRiskCustomer.of(item, plan=_clean(item.plan),
                                reasons=[ReasonOut.of(r, evidence={k: _clean(v) for k, v in r.evidence.items()})
                                         for r in item.reasons])
             for item in page.items]
    return ListAtRiskResult(scope=ScopeOut.of(scope), total=page.total, offset=page.offset, limit=page.limit,
                            next_cursor=page.next_cursor, order=ORDER_KEY, items=items)


def summary_text(result: ListAtRiskResult, currency: str = "USD") -> str:
    """Every customer of the page: rank, id, risk, health and band, health segment, plan, MRR at stake, each reason with
    its severity and evidence, and the suggested play; then each reason's play once, and what the other pages hold."""
    lines = [f"{result.total} customers at risk as of {result.scope.as_of}, ranked by risk × MRR at stake "
             f"({result.order})."]
    rows = []
    plays: dict[str, str] = {}
    for item in result.items:
        reasons = "; ".join(f"{r.code} ({number(r.severity)}: {pairs((k, _evidence(v)) for k, v in r.evidence.items())})"
                            for r in item.reasons) or "low health"
        for r in item.reasons:
            plays.setdefault(r.code, data_text(r.play, 160))
        health = MISSING if item.health is None else f"{item.health:.1f} {item.band or ''}".strip()
        rows.append((item.rank, item.customer_id, number(item.risk), health, item.segment or MISSING,
                     data_text(item.plan or MISSING, 40), money(item.value, currency), reasons,
                     data_text(item.suggested_play, 120)))
    lines += table(("rank", "customer", "risk", "health", "health segment", "plan", "MRR at stake", "reasons (severity: "
                    "evidence)", "suggested play"), rows)
    if plays:
        lines.append("Plays by reason: " + "; ".join(f"{code} → {play}" for code, play in sorted(plays.items())))
    lines.append(page_line("customers", result.offset, len(result.items), result.total, result.next_cursor))
    return "\n".join(lines)


def _evidence(value: JsonScalar) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, str):
        return data_text(value, 40)
    return number(float(value))


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``list_at_risk`` tool to ``server``."""

    async def list_at_risk_tool(
        as_of: AsOf = None,
        filters: FiltersArg = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Customers per page.")] = 20,
        cursor: Annotated[str | None, Field(max_length=512, description="A next_cursor.")] = None,
        health_segment: Annotated[list[FilterValue] | None, Field(max_length=10, description="e.g. at_risk, churning, dormant.")] = None,
        reasons: Annotated[list[Reason] | None, Field(max_length=len(Reason), description="Customers with any of these reasons.")] = None,
        min_risk: Annotated[float | None, Field(ge=0, le=1, description="Default: the profile's (0.25).")] = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, ListAtRiskResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters)
            result = at_risk(work, scope, limit, cursor, health_segment, None, reasons, min_risk)
            return structured_result(result, summary_text(result, ctx.config.revenue.currency))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(list_at_risk_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
