"""The ``compare_segments`` tool: the same metrics side by side for each value of one customer dimension.

For each value of ``dimension`` (every value in the data, or the chosen ones; for ``stage`` the configured model's
stages and ``churned``) the scope's filters are narrowed to that value and each metric is computed with
``lifecycle.metrics.registry.compute_metric`` — and, by default, on the previous period of the same length
(``lifecycle.metrics.change``) — plus the whole population as the baseline row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters
from lifecycle.metrics.change import metric_changes, previous_period
from lifecycle.metrics.registry import compute_metric
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.compute_metrics import METRICS_HELP, MetricId, MetricValue, check_metric_ids, metric_text, metric_value
from tools.runtime import Work, run_tool
from tools.scope import (
    STAGE,
    AsOf,
    FilterKey,
    FiltersArg,
    FilterValue,
    PeriodMonths,
    ScopeOut,
    check_stages,
    check_values,
    known_values,
    listing,
    resolve_scope,
    stage_ids,
)
from tools.text import data_text

NAME = "compare_segments"
TITLE = "Compare metrics across a dimension"
DESCRIPTION = (
    "Metrics side by side for each value of one customer dimension (segment, plan, channel, industry, country, "
    "company_size) or lifecycle stage, with the whole filtered population as the first row, each metric with its "
    "previous period of the same length and the change. values picks some of the dimension's values (default: all, "
    "at most 12)."
)
MAX_GROUPS = 12
MAX_METRICS = 8
WHOLE_COLUMN_GROUPS = 8
"""From this many groups on, the compared customers attribute is read whole once (``Dataset.attribute_values``) and
each group's population is a mask over it (``Dataset.population``) instead of one statement per value: at a million
customers a statement per value cost 0.14–0.43 s of CPU and the whole column 0.9–1.2 s."""


class GroupRow(BaseModel):
    value: str | None = Field(description="The dimension value; null for the whole population.")
    customers: int = Field(description="Customers in the group (signed up by as_of).")
    metrics: list[MetricValue]


class CompareSegmentsResult(BaseModel):
    scope: ScopeOut
    dimension: str
    currency: str
    groups: list[GroupRow]


def _narrowed(filters: Filters, dimension: str, value: str) -> Filters:
    if dimension == STAGE:
        return replace(filters, stage=(value,))
    return replace(filters, **{Dimension(dimension).value: (value,)})  # type: ignore[arg-type]  # a Dimension names a tuple field of Filters


def _chosen(filters: Filters, dimension: str) -> tuple[str, ...]:
    return filters.stage if dimension == STAGE else filters.values(Dimension(dimension))


def compare(work: Work, scope: Scope, dimension: Dimension | str, metric_ids: list[str],
            values: list[str] | None, compare_previous: bool = True) -> CompareSegmentsResult:
    from lifecycle.metrics.common import customer_count  # pandas: loaded by the first call, not at serve start
    from lifecycle.metrics.grouped import prepare

    key = str(dimension)
    if _chosen(scope.filters, key):
        raise QueryError(f"filters already restrict {key}; pass those values as values instead")
    if key == STAGE:
        valid = stage_ids(work, scope.as_of)
        chosen = list(check_stages(values, valid)) if values else list(valid)
    else:
        dim = Dimension(key)
        chosen = list(check_values(work.source, dim, values)) if values else known_values(work.source, dim)
    if len(chosen) > MAX_GROUPS:
        raise QueryError(f"{key} has {len(chosen)} values, more than {MAX_GROUPS}; pick up to {MAX_GROUPS} "
                         f"with values: {listing(chosen)}")
    ids = list(dict.fromkeys(metric_ids))
    groups: list[GroupRow] = []
    targets: list[tuple[str | None, Filters]] = [(None, scope.filters)] + [(v, _narrowed(scope.filters, key, v)) for v in chosen]
    whole = work.dataset(scope.as_of, scope.filters, scope.window)
    if key != STAGE and len(chosen) >= WHOLE_COLUMN_GROUPS:
        whole.attribute_values(Dimension(key))
    datasets = [whole if value is None else whole.rescoped(Scope(scope.as_of, scope.window, filters))  # one connection
                for value, filters in targets]
    previous = [previous_period(dataset) for dataset in datasets] if compare_previous else []
    if key == Dimension.PLAN.value or scope.filters.plan:  # every group filters by plan: one whole read per day, then masks
        for day in datasets[:1] + previous[:1]:
            day.attribute_values(Dimension.PLAN)
    if key != STAGE:  # the groups' shared work in one pass per metric family (lifecycle.metrics.grouped)
        current = prepare(datasets[1:], ids)
        prepare(previous[1:], ids, like=current)  # the same populations in both periods: one coder (grouped.join)
    for i, (value, _) in enumerate(targets):
        work.step(i, len(targets), f"computing {value or 'all customers'}")
        dataset = datasets[i]
        if compare_previous:
            changes = metric_changes(dataset, ids, previous[i])
            metrics = [metric_value(changes[m].current, changes[m]) for m in ids]
        else:
            metrics = [metric_value(compute_metric(dataset, m)) for m in ids]
        groups.append(GroupRow(value=value, customers=customer_count(dataset), metrics=metrics))
    work.step(len(targets), len(targets), "done")
    return CompareSegmentsResult(scope=ScopeOut.of(scope), dimension=key, currency=work.ctx.config.revenue.currency,
                                 groups=groups)


def summary_text(result: CompareSegmentsResult, currency: str | None = None) -> str:
    """Every group (the whole population first) with every metric: value, n, target status and the previous period."""
    currency = currency or result.currency
    lines = [f"By {result.dimension} as of {result.scope.as_of} (period {result.scope.period_start} to "
             f"{result.scope.period_end}; ratios in %, money in {currency}):"]
    for group in result.groups:
        name = "all customers" if group.value is None else data_text(group.value, 60)
        lines.append(f"## {name} ({group.customers} customers)")
        lines += [f"- {metric_text(m, currency)}" for m in group.metrics]
    lines.append(f"All {len(result.groups)} groups × {len(result.groups[0].metrics) if result.groups else 0} metrics shown.")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``compare_segments`` tool to ``server``."""

    async def compare_segments_tool(
        dimension: Annotated[FilterKey, Field(description="The customer attribute to compare by, or stage (on "  # type: ignore[valid-type]
                                                           "as_of; \"churned\" for churned customers).")],
        metrics: Annotated[list[MetricId], Field(min_length=1, max_length=MAX_METRICS, description=METRICS_HELP)],
        values: Annotated[list[FilterValue] | None, Field(max_length=MAX_GROUPS, description="Default: all.")] = None,
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        compare_previous: Annotated[bool, Field(description="Add the previous period and the change.")] = True,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, CompareSegmentsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = compare(work, scope, dimension.value, check_metric_ids(metrics), values, compare_previous)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(compare_segments_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
