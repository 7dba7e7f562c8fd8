"""The ``stage_distribution`` tool: customers and leads per lifecycle stage, their flows, and progression drivers.

Counts come from ``lifecycle.stages.stage_distribution`` (on the cached as-of snapshot), transitions from
``lifecycle.metrics.flow.transition_matrix`` between the day before the period and as_of, the flow rates
(progression, regression, stagnation, velocity, completion) from the registry, and the drivers from
``lifecycle.stages.drivers.progression_drivers``. ``chart: true`` adds the stage funnel as a PNG.

The ``stage`` argument's enum lists the customer stages of the server's configured stage model, so it is built per
server in ``register``. This module therefore evaluates annotations eagerly (no ``from __future__ import
annotations``): the SDK resolves a tool's annotations in the module's globals, where that enum does not live.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.config import EngineConfig
from lifecycle.metrics.flow import transition_matrix, window_start_day
from lifecycle.metrics.registry import MetricGroup, compute_metric, metric_ids_in
from lifecycle.metrics.results import finite_or_none
from lifecycle.scope import Scope
from lifecycle.stages import load_model, model_for, stage_distribution
from lifecycle.stages.drivers import CAVEAT, progression_drivers
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.charts import stage_funnel
from tools.compute_metrics import MetricValue, metric_value
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, resolve_scope

NAME = "stage_distribution"
TITLE = "Lifecycle stage distribution and flow"
DESCRIPTION = (
    "Leads and customers per lifecycle stage on as_of (with overlay counts such as at_risk), moves between stages "
    "over the period (transition counts; progression, regression, stagnation, stage velocity, completion), and "
    "signals that go with progressing or churning (drivers: rates with vs without each signal — association, not "
    "causation). chart=true adds a funnel image."
)



def stage_enum(config: EngineConfig) -> type[StrEnum]:
    """The customer stages of ``config``'s stage model, as the enum of the tool's ``stage`` argument."""
    return StrEnum("StageId", {s.id: s.id for s in load_model(config.models.stages).customer_stages})  # type: ignore[return-value]


class OverlayCount(BaseModel):
    overlay: str
    count: int


class StageCount(BaseModel):
    stage: str
    name: str
    order: int | None
    population: str = Field(description="customers or leads.")
    count: int
    share: float | None = Field(description="Share of its population (customers incl. churned, or leads).")
    overlays: list[OverlayCount]


class TransitionCount(BaseModel):
    from_state: str = Field(description="Stage at the period start ('new' = signed up during the period).")
    to_state: str = Field(description="Stage on as_of, or 'churned'.")
    count: int


class GroupRateOut(BaseModel):
    successes: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


class DriverOut(BaseModel):
    transition: str
    signal: str
    signal_description: str
    with_signal: GroupRateOut
    without_signal: GroupRateOut
    difference: float | None = Field(description="Rate with − rate without (95% Newcombe interval in low/high).")
    difference_low: float | None
    difference_high: float | None
    lift: float | None
    small_sample: bool


class DriversOut(BaseModel):
    signal_date: date
    horizon_days: int
    note: str
    populations: dict[str, int]
    rows: list[DriverOut] = Field(description="Top signals per transition by |difference|.")


class StageDistributionResult(BaseModel):
    scope: ScopeOut
    model: str
    stages: list[StageCount]
    transitions: list[TransitionCount]
    flow: list[MetricValue]
    drivers: DriversOut | None


def _stage_rows(table: Any, overlay_ids: list[str]) -> list[StageCount]:
    rows = []
    for record in table.to_dict(orient="records"):
        order = record.get("order")
        rows.append(StageCount(
            stage=str(record["stage"]), name=str(record["name"]), population=str(record["population"]),
            order=None if finite_or_none(order) is None else int(order), count=int(record["count"]),
            share=finite_or_none(record.get("share")),
            overlays=[OverlayCount(overlay=o, count=int(record.get(f"overlay_{o}") or 0)) for o in overlay_ids
                      if record["population"] == "customers" and finite_or_none(record.get(f"overlay_{o}")) is not None],
        ))
    return rows


def _drivers(work: Work, dataset: Any, model: Any, stage: str | None, horizon_days: int, top: int) -> DriversOut:
    report = progression_drivers(dataset, model, horizon_days=horizon_days)
    kept: dict[str, int] = {}
    rows = []
    for row in report.rows:
        if stage is not None and row.transition not in (f"{stage}->later_stage", "any->churned"):
            continue
        if kept.get(row.transition, 0) >= top:
            continue
        kept[row.transition] = kept.get(row.transition, 0) + 1
        data = row.to_dict()
        rows.append(DriverOut.model_validate(data))
    populations = {k: v for k, v in report.populations.items() if k in kept or stage is None}
    return DriversOut(signal_date=report.signal_date, horizon_days=report.horizon_days, note=CAVEAT,
                      populations=populations, rows=rows)


def stage_flow(work: Work, scope: Scope, stage: str | None = None, drivers: bool = True, horizon_days: int = 90,
               top_signals: int = 3) -> StageDistributionResult:
    """Stage counts, transitions over the period, flow metrics and (optionally) the progression drivers."""
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    model = model_for(dataset)
    total = 4 if drivers else 3
    work.step(0, total, "classifying customers")
    table = stage_distribution(dataset, model)
    work.step(1, total, "measuring transitions")
    matrix = transition_matrix(dataset, model, window_start_day(dataset), dataset.as_of)
    transitions = [TransitionCount(from_state=str(f), to_state=str(t), count=int(matrix.at[f, t]))
                   for f in matrix.index for t in matrix.columns
                   if int(matrix.at[f, t]) and (stage is None or f == stage)]
    work.step(2, total, "flow metrics")
    flow = [metric_value(compute_metric(dataset, m)) for m in metric_ids_in(MetricGroup.FLOW)]
    found = None
    if drivers:
        work.step(3, total, "progression drivers")
        found = _drivers(work, dataset, model, stage, horizon_days, top_signals)
    work.step(total, total, "done")
    return StageDistributionResult(scope=ScopeOut.of(scope), model=model.id, stages=_stage_rows(table, [o.id for o in model.overlays]),
                                   transitions=transitions, flow=flow, drivers=found)


def summary_text(result: StageDistributionResult) -> str:
    customers = [s for s in result.stages if s.population == "customers"]
    parts = ", ".join(f"{s.stage} {s.count}" for s in customers)
    lines = [f"Stages as of {result.scope.as_of} (model {result.model}): {parts}."]
    for metric in result.flow:
        if metric.value is not None:
            shown = f"{metric.value * 100:.1f}%" if metric.unit == "ratio" else f"{metric.value:.1f} {metric.unit}"
            lines.append(f"- {metric.metric_id}: {shown}")
    if result.drivers and result.drivers.rows:
        best = result.drivers.rows[0]
        lines.append(f"Top driver ({best.transition}): {best.signal} ({CAVEAT}).")
    return "\n".join(lines)


def funnel_png(result: StageDistributionResult) -> bytes:
    counts = [(s.name, s.count) for s in result.stages if s.population == "customers"]
    return stage_funnel(counts, title=f"Customers by lifecycle stage, {result.scope.as_of}")


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``stage_distribution`` tool to ``server``, its ``stage`` enum from the server's stage model."""
    StageId = stage_enum(ctx.config)

    async def stage_distribution_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        stage: Annotated[StageId | None, Field(description="Only transitions and drivers from this stage.")] = None,  # type: ignore[valid-type]
        drivers: Annotated[bool, Field(description="Include progression drivers.")] = True,
        horizon_days: Annotated[int, Field(ge=30, le=365, description="Drivers: signals measured this many days "
                                                                      "before as_of.")] = 90,
        chart: Annotated[bool, Field(description="Also return a PNG funnel.")] = False,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, StageDistributionResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = stage_flow(work, scope, stage.value if stage else None, drivers, horizon_days)
            return structured_result(result, summary_text(result), (funnel_png(result),) if chart else ())

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(stage_distribution_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
