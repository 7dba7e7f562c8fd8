"""The ``compare_segments`` tool: the same metrics side by side for each value of one customer dimension.

For each value of ``dimension`` (every value in the data, or the chosen ones) the scope's filters are
narrowed to that value and each metric is computed with ``lifecycle.metrics.registry.compute_metric``, plus the
whole population as the baseline row.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters
from lifecycle.metrics.registry import compute_metric
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.compute_metrics import MetricId, MetricValue, metric_value
from tools.runtime import Work, run_tool
from tools.scope import (
    AsOf,
    FiltersArg,
    FilterValue,
    PeriodMonths,
    ScopeOut,
    check_values,
    distinct_values,
    listing,
    resolve_scope,
)

NAME = "compare_segments"
TITLE = "Compare metrics across a dimension"
DESCRIPTION = (
    "Metrics side by side for each value of one customer dimension (segment, plan, channel, industry, country, "
    "company_size), with the whole filtered population as the first row. values picks some of the dimension's "
    "values (default: all, at most 12)."
)
MAX_GROUPS = 12
MAX_METRICS = 8


class GroupRow(BaseModel):
    value: str | None = Field(description="The dimension value; null for the whole population.")
    customers: int = Field(description="Customers in the group (signed up by as_of).")
    metrics: list[MetricValue]


class CompareSegmentsResult(BaseModel):
    scope: ScopeOut
    dimension: str
    groups: list[GroupRow]


def _narrowed(filters: Filters, dimension: Dimension, value: str) -> Filters:
    data = {d.value: filters.values(d) for d in Dimension}
    data[dimension.value] = (value,)
    return Filters(**data, cohort_from=filters.cohort_from, cohort_to=filters.cohort_to)


def compare(work: Work, scope: Scope, dimension: Dimension, metric_ids: list[str],
            values: list[str] | None) -> CompareSegmentsResult:
    if scope.filters.values(dimension):
        raise QueryError(f"filters already restrict {dimension.value}; pass those values as values instead")
    with work.connect() as conn:
        chosen = list(check_values(conn, dimension, values)) if values else distinct_values(conn, dimension)
    if len(chosen) > MAX_GROUPS:
        raise QueryError(f"{dimension.value} has {len(chosen)} values, more than {MAX_GROUPS}; pick up to {MAX_GROUPS} "
                         f"with values: {listing(chosen)}")
    ids = list(dict.fromkeys(metric_ids))
    groups: list[GroupRow] = []
    targets: list[tuple[str | None, Filters]] = [(None, scope.filters)] + [(v, _narrowed(scope.filters, dimension, v)) for v in chosen]
    for i, (value, filters) in enumerate(targets):
        work.step(i, len(targets), f"computing {value or 'all customers'}")
        dataset = work.dataset(scope.as_of, filters, scope.window)
        groups.append(GroupRow(value=value, customers=len(dataset.customers()),
                               metrics=[metric_value(compute_metric(dataset, m)) for m in ids]))
    work.step(len(targets), len(targets), "done")
    return CompareSegmentsResult(scope=ScopeOut.of(scope), dimension=dimension.value, groups=groups)


def summary_text(result: CompareSegmentsResult) -> str:
    lines = [f"By {result.dimension} as of {result.scope.as_of}:"]
    for group in result.groups:
        shown = []
        for m in group.metrics:
            if m.value is None:
                shown.append(f"{m.metric_id} n/a")
            else:
                shown.append(f"{m.metric_id} {m.value * 100:.1f}%" if m.unit == "ratio" else f"{m.metric_id} {m.value:,.2f}")
        lines.append(f"- {group.value or 'all'} (n={group.customers}): {', '.join(shown)}")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``compare_segments`` tool to ``server``."""

    async def compare_segments_tool(
        dimension: Annotated[Dimension, Field(description="The customer attribute to compare by.")],
        metrics: Annotated[list[MetricId], Field(min_length=1, max_length=MAX_METRICS,  # type: ignore[valid-type]
                                                  description="Metric ids to compare.")],
        values: Annotated[list[FilterValue] | None, Field(max_length=MAX_GROUPS, description="Some values of the "
                                                          "dimension (default: all).")] = None,
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, CompareSegmentsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = compare(work, scope, dimension, [m.value for m in metrics], values)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(compare_segments_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
