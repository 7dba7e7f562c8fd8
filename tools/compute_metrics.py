"""The ``compute_metrics`` tool: any metrics of the registry for one scope (as_of, period, filters).

Every number is ``lifecycle.metrics.registry.compute_metric``'s ``MetricResult.to_dict()``; this module only picks
the metrics, reports progress per metric and shapes the output.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.errors import QueryError
from lifecycle.metrics.change import MetricChange, metric_changes, previous_period
from lifecycle.metrics.registry import compute_metric, definition, metric_ids
from lifecycle.metrics.results import MetricResult, TargetBand, finite_or_none
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, PopulationFilters, ScopeOut, resolve_scope
from tools.text import MISSING, data_text, number, percent, points, value_text

NAME = "compute_metrics"
TITLE = "Compute lifecycle metrics"
DESCRIPTION = (
    "Registry metrics for one scope, each with numerator, denominator, n, target band, status and its previous "
    "period of the same length; a metric the data cannot support is null with a reason. Formulas: "
    "lifecycle://metrics/definitions."
)

MetricId = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
"""A registered metric id. Not an enum: the 51 ids would be repeated in two tools' schemas (tools/list stays small);
they are listed by the ``lifecycle://metrics/definitions`` resource and completed on ``lifecycle://metrics/{metric_id}``,
and an unknown id is an error naming every valid one (``check_metric_ids``)."""
METRICS_HELP = "e.g. mrr, nrr, logo_churn_rate (all: lifecycle://metrics/definitions)."
MAX_METRICS = 20


def check_metric_ids(ids: list[str]) -> list[str]:
    """``ids`` without repeats when each is registered; else ``QueryError`` listing every valid id."""
    unknown = [m for m in ids if m not in metric_ids()]
    if unknown:
        raise QueryError(f"unknown metric(s) {', '.join(repr(m) for m in unknown)}; valid metrics: {', '.join(metric_ids())}. "
                         "Call again with valid ids.")
    return list(dict.fromkeys(ids))


class Target(wire_model(TargetBand, exclude=("open_ended_high",))):  # type: ignore[misc]
    """The metric's target band (``lifecycle.metrics.results.TargetBand``); either end may be open (null)."""


class BreakdownValue(BaseModel):
    """One row of a metric's breakdown (e.g. conversion by channel)."""

    key: str
    value: float | None
    numerator: float | None
    denominator: float | None
    sample_size: int
    reason: str | None


class PreviousValue(BaseModel):
    """The metric in the previous period of the same length, as known at that period's end."""

    start: date
    end: date
    value: float | None
    sample_size: int
    reason: str | None
    change: float | None = Field(description="value now − value then, in the metric's unit (ratios: fraction points).")
    relative_change: float | None = Field(description="change ÷ |value then|.")


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
    previous: PreviousValue | None = Field(None, description="The previous period of the same length (compare=true).")


class ComputeMetricsResult(BaseModel):
    scope: ScopeOut
    currency: str
    metrics: list[MetricValue]


def metric_value(result: MetricResult, change: MetricChange | None = None) -> MetricValue:
    """Shape ``MetricResult.to_dict()`` as the tool's output (with the previous period's value when ``change`` is given)."""
    data: dict[str, Any] = result.to_dict()
    previous = None
    if change is not None:
        before = change.previous
        previous = PreviousValue(start=before.scope.window.start, end=before.scope.window.end,
                                 value=finite_or_none(before.value), sample_size=int(before.sample_size),
                                 reason=before.reason, change=finite_or_none(change.change),
                                 relative_change=finite_or_none(change.relative_change))
    return MetricValue(
        metric_id=data["metric_id"], name=definition(result.metric_id).name, value=data["value"], unit=data["unit"],
        numerator=data["numerator"], denominator=data["denominator"], sample_size=data["sample_size"],
        target=Target.of(result.target) if result.target is not None else None,
        status=data["status"], reason=data["reason"],
        breakdown=[BreakdownValue(key=str(b["key"]), value=b["value"], numerator=b["numerator"], denominator=b["denominator"],
                                  sample_size=b["sample_size"], reason=b["reason"]) for b in data["breakdown"]],
        previous=previous,
    )


def compute_metrics(work: Work, scope: Scope, ids: list[str], compare: bool = True) -> ComputeMetricsResult:
    """Compute ``ids`` (in the given order, duplicates dropped) on the scope's dataset, and on the previous period of
    the same length when ``compare``."""
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    before = previous_period(dataset) if compare else None
    unique = list(dict.fromkeys(ids))
    values = []
    for i, metric_id in enumerate(unique):
        work.step(i, len(unique), f"computing {metric_id}")
        if before is not None:
            change = metric_changes(dataset, [metric_id], before)[metric_id]
            values.append(metric_value(change.current, change))
        else:
            values.append(metric_value(compute_metric(dataset, metric_id)))
    work.step(len(unique), len(unique), "done")
    return ComputeMetricsResult(scope=ScopeOut.of(scope), currency=dataset.config.revenue.currency, metrics=values)


def metric_text(metric: MetricValue, currency: str) -> str:
    """One metric on one line: value with unit and currency, n, numerator/denominator, target and status, the previous
    period's value with the change and its n, the reason or caveat."""
    parts = [f"{metric.metric_id} = {value_text(metric.value, metric.unit, currency)}", f"n={metric.sample_size}"]
    if metric.numerator is not None and metric.denominator is not None:
        parts.append(f"{number(metric.numerator)}/{number(metric.denominator)}")
    if metric.target is not None:
        parts.append(f"target {_band(metric.target, metric.unit, currency)} → {metric.status or MISSING}")
    if metric.previous is not None:
        p = metric.previous
        change = points(p.change) if metric.unit == "ratio" else (
            "n/a" if p.change is None else ("+" if p.change >= 0 else "-") + value_text(abs(p.change), metric.unit, currency))
        parts.append(f"previous {p.start}..{p.end}: {value_text(p.value, metric.unit, currency)} (n={p.sample_size}), "
                     f"change {change}" + (f" ({percent(p.relative_change)})" if p.relative_change is not None else ""))
    text = "; ".join(parts)
    if metric.reason:
        text += f" — {data_text(metric.reason, 240)}"
    if metric.breakdown:
        rows = "; ".join(f"{data_text(b.key, 40)} {value_text(b.value, metric.unit, currency)} (n={b.sample_size})"
                         for b in metric.breakdown)
        text += f"\n  by {_breakdown_key(metric.metric_id)}: {rows}"
    return text


def _band(target: Target, unit: str, currency: str) -> str:
    low = value_text(target.low, unit, currency) if target.low is not None else None
    high = value_text(target.high, unit, currency) if target.high is not None else None
    return f"{low}–{high}" if low and high else (f"≥ {low}" if low else f"≤ {high}")


def _breakdown_key(metric_id: str) -> str:
    return {"conversion_by_channel": "channel"}.get(metric_id, "key")


def summary_text(result: ComputeMetricsResult, currency: str | None = None) -> str:
    """Every metric of the result, each with its breakdown rows (see ``metric_text``)."""
    currency = currency or result.currency
    lines = [f"As of {result.scope.as_of} (period {result.scope.period_start} to {result.scope.period_end}; "
             f"ratios in %, money in {currency}):"]
    lines += [f"- {metric_text(m, currency)}" for m in result.metrics]
    lines.append(f"All {len(result.metrics)} metrics shown.")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``compute_metrics`` tool to ``server``."""

    async def compute_metrics_tool(
        metrics: Annotated[list[MetricId], Field(min_length=1, max_length=MAX_METRICS, description=METRICS_HELP)],
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        compare: Annotated[bool, Field(description="Add the previous period and the change.")] = True,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, ComputeMetricsResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = compute_metrics(work, scope, check_metric_ids(metrics), compare)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(compute_metrics_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)


__all__ = ["NAME", "ComputeMetricsResult", "MetricId", "MetricValue", "PopulationFilters", "compute_metrics", "date",
           "register"]
