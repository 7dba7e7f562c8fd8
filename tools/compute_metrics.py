"""The ``compute_metrics`` tool: any metrics of the registry for one scope (as_of, period, filters).

Every number is ``lifecycle.metrics.registry.compute_metric``'s ``MetricResult.to_dict()``; this module only picks
the metrics, reports progress per metric and shapes the output.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.metrics.registry import compute_metric, definition, metric_ids
from lifecycle.metrics.results import MetricResult
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, PopulationFilters, ScopeOut, resolve_scope

NAME = "compute_metrics"
TITLE = "Compute lifecycle metrics"
DESCRIPTION = (
    "Metrics from the definitions registry (funnel, activation, retention, revenue, orders, advocacy, engagement, "
    "stage flow) for one scope (as_of, trailing period, filters), each with numerator, denominator, sample size, "
    "target band and status; a metric the data cannot support has value null and a reason. Formulas: "
    "lifecycle://metrics/definitions."
)

MetricId = StrEnum("MetricId", {m: m for m in metric_ids()})  # type: ignore[misc]
"""Every registered metric id (the tool's enum)."""
MAX_METRICS = 20


class Target(BaseModel):
    low: float | None
    high: float | None
    source: str


class BreakdownValue(BaseModel):
    """One row of a metric's breakdown (e.g. conversion by channel)."""

    key: str
    value: float | None
    numerator: float | None
    denominator: float | None
    sample_size: int
    reason: str | None


class MetricValue(BaseModel):
    """One computed metric."""

    metric_id: str
    name: str
    value: float | None = Field(description="Ratios are fractions (0.62 = 62%); money in the dataset currency.")
    unit: str
    numerator: float | None
    denominator: float | None
    sample_size: int
    target: Target | None
    status: str | None = Field(description="below / within / above the target band.")
    reason: str | None = Field(description="Why value is null, or a caveat.")
    breakdown: list[BreakdownValue]


class ComputeMetricsResult(BaseModel):
    scope: ScopeOut
    metrics: list[MetricValue]


def metric_value(result: MetricResult) -> MetricValue:
    """Shape ``MetricResult.to_dict()`` as the tool's output."""
    data: dict[str, Any] = result.to_dict()
    return MetricValue(
        metric_id=data["metric_id"], name=definition(result.metric_id).name, value=data["value"], unit=data["unit"],
        numerator=data["numerator"], denominator=data["denominator"], sample_size=data["sample_size"],
        target=Target(**{k: data["target"][k] for k in ("low", "high", "source")}) if data["target"] else None,
        status=data["status"], reason=data["reason"],
        breakdown=[BreakdownValue(key=str(b["key"]), value=b["value"], numerator=b["numerator"], denominator=b["denominator"],
                                  sample_size=b["sample_size"], reason=b["reason"]) for b in data["breakdown"]],
    )


def compute_metrics(work: Work, scope: Scope, ids: list[str]) -> ComputeMetricsResult:
    """Compute ``ids`` (in the given order, duplicates dropped) on the scope's dataset."""
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    unique = list(dict.fromkeys(ids))
    values = []
    for i, metric_id in enumerate(unique):
        work.step(i, len(unique), f"computing {metric_id}")
        values.append(metric_value(compute_metric(dataset, metric_id)))
    work.step(len(unique), len(unique), "done")
    return ComputeMetricsResult(scope=ScopeOut.of(scope), metrics=values)


def _display(metric: MetricValue) -> str:
    if metric.value is None:
        return "no value" + (f" ({metric.reason})" if metric.reason else "")
    if metric.unit == "ratio":
        return f"{metric.value * 100:.1f}%"
    return f"{metric.value:,.2f} {metric.unit}"


def summary_text(result: ComputeMetricsResult) -> str:
    lines = [f"As of {result.scope.as_of} (period {result.scope.period_start} to {result.scope.period_end}):"]
    lines += [f"- {m.metric_id}: {_display(m)}" + (f" [{m.status}]" if m.status else "") for m in result.metrics]
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``compute_metrics`` tool to ``server``."""

    async def compute_metrics_tool(
        metrics: Annotated[list[MetricId], Field(min_length=1, max_length=MAX_METRICS,  # type: ignore[valid-type]
                                                  description="Metric ids to compute.")],
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, ComputeMetricsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = compute_metrics(work, scope, [m.value for m in metrics])
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(compute_metrics_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)


__all__ = ["ComputeMetricsResult", "MetricId", "MetricValue", "PopulationFilters", "compute_metrics", "date"]
