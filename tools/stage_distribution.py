"""The ``stage_distribution`` tool: customers and leads per lifecycle stage, their flows, and progression drivers.

Counts come from ``lifecycle.stages.stage_distribution`` (on the cached as-of snapshot), transitions from
``lifecycle.metrics.flow.transition_matrix`` between the day before the period and as_of, the flow rates
(progression, regression, stagnation, velocity, completion) from the registry, and the drivers from
``lifecycle.stages.drivers.progression_drivers``. ``chart: true`` adds the stage funnel as a PNG.

The ``stage`` argument's enum lists the customer stages of the server's configured stage model, so it is built per
server in ``register``. This module therefore evaluates annotations eagerly (no ``from __future__ import
annotations``): the SDK resolves a tool's annotations in the module's globals, where that enum does not live.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.config import EngineConfig
from lifecycle.filters import Dimension
from lifecycle.metrics.registry import MetricGroup, compute_metric, metric_ids_in
from lifecycle.metrics.results import finite_or_none
from lifecycle.scope import Scope
from lifecycle.stages.drivers import CAVEAT, DriverRow, GroupRate
from prompts.fence import clean_text
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.charts import stage_funnel
from tools.compute_metrics import MetricValue, metric_text, metric_value
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, PeriodMonths, ScopeOut, memo, resolve_scope
from tools.text import MISSING, data_text, money, number, pairs, percent, points, table

NAME = "stage_distribution"
TITLE = "Lifecycle stage distribution and flow"
DESCRIPTION = (
    "Leads and customers per lifecycle stage on as_of with overlays, customers and MRR per stage (by: stage × "
    "segment), moves between stages, flow rates, and drivers of progressing or churning (association, not causation). "
    "chart=true adds a funnel."
)



def stage_enum(config: EngineConfig) -> type[StrEnum]:
    """The customer stages of ``config``'s stage model, as the enum of the tool's ``stage`` argument."""
    return StrEnum("StageId", {s.id: s.id for s in config.stage_model.customer_stages})  # type: ignore[return-value]


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


class GroupRateOut(wire_model(GroupRate)):  # type: ignore[misc]
    """``successes`` of ``n`` made the transition; ``rate`` with its 95% Wilson interval (null when n = 0)."""


class DriverOut(wire_model(DriverRow, types={"with_signal": GroupRateOut, "without_signal": GroupRateOut}, descriptions={  # type: ignore[misc]
    "difference": "Rate with − rate without (95% Newcombe interval in low/high).",
})):
    """One (transition, signal) comparison (``lifecycle.stages.drivers.DriverRow``)."""


class DriversOut(BaseModel):
    signal_date: date
    horizon_days: int
    note: str
    populations: dict[str, int]
    rows: list[DriverOut] = Field(description="Top signals per transition by |difference|.")


class StageValue(BaseModel):
    """Customers and MRR of one stage on as_of (one stage × value of ``by`` when asked)."""

    stage: str
    group: str | None = Field(description="The value of by (null without by).")
    customers: int
    paying_customers: int
    mrr: float
    mrr_share: float | None = Field(description="Share of all MRR in scope.")
    arpa: float | None = Field(description="MRR ÷ paying customers.")


class StageDistributionResult(BaseModel):
    scope: ScopeOut
    model: str
    currency: str
    stages: list[StageCount]
    transitions: list[TransitionCount]
    flow: list[MetricValue]
    drivers: DriversOut | None
    by: str | None
    value: list[StageValue] = Field(description="Customers and MRR per stage (× by).")


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


def _drivers(report: Any, stage: str | None, top: int) -> DriversOut:
    """The ``top`` signals per transition of ``report`` (``progression_drivers``), only the transitions out of
    ``stage`` and into churned when a stage is given."""
    kept: dict[str, int] = {}
    rows = []
    for row in report.rows:
        if stage is not None and row.transition not in (f"{stage}->later_stage", "any->churned"):
            continue
        if kept.get(row.transition, 0) >= top:
            continue
        kept[row.transition] = kept.get(row.transition, 0) + 1
        rows.append(DriverOut.of(row))
    populations = {k: v for k, v in report.populations.items() if k in kept or stage is None}
    return DriversOut(signal_date=report.signal_date, horizon_days=report.horizon_days, note=CAVEAT,
                      populations=populations, rows=rows)


def _value_rows(table: Any, by: str | None) -> list[StageValue]:
    return [StageValue(stage=str(r["stage"]), group=None if by is None else clean_text(r[by], 60),
                       customers=int(r["customers"]), paying_customers=int(r["paying_customers"]), mrr=float(r["mrr"]),
                       mrr_share=finite_or_none(r["mrr_share"]), arpa=finite_or_none(r["arpa"]))
            for r in table.to_dict(orient="records")]


@dataclass(frozen=True)
class ScopeFlow:
    """What ``stage_distribution`` answers for a scope whatever its ``stage`` and ``by``: the stage counts, every
    transition of the period, the flow metrics and (when asked) the progression drivers' full report."""

    stages: list[StageCount]
    transitions: list[TransitionCount]
    flow: list[MetricValue]
    drivers: Any  # lifecycle.stages.drivers.DriversReport | None


def scope_flow(work: Work, scope: Scope, dataset: Any, drivers: bool = True, horizon_days: int = 90) -> ScopeFlow:
    """The scope's stage counts, transitions over the period, flow metrics and (optionally) the progression drivers'
    report — once per scope, drivers and horizon in this process (``tools.scope.memo``): calls about another stage or
    another ``by`` of the same scope only pick from it. ``dataset``: the scope's, computed on when not memoised."""

    def compute() -> ScopeFlow:
        from lifecycle.metrics.flow import transition_matrix, window_start_day
        from lifecycle.stages import stage_distribution
        from lifecycle.stages.drivers import progression_drivers

        model = dataset.stage_model
        total = 4 if drivers else 3
        work.step(0, total, "classifying customers")
        table = stage_distribution(dataset, model)
        work.step(1, total, "measuring transitions")
        matrix = transition_matrix(dataset, model, window_start_day(dataset), dataset.as_of)
        transitions = [TransitionCount(from_state=str(f), to_state=str(t), count=int(matrix.at[f, t]))
                       for f in matrix.index for t in matrix.columns if int(matrix.at[f, t])]
        work.step(2, total, "flow metrics")
        flow = [metric_value(compute_metric(dataset, m)) for m in metric_ids_in(MetricGroup.FLOW)]
        report = None
        if drivers:
            work.step(3, total, "progression drivers")
            report = progression_drivers(dataset, model, horizon_days=horizon_days)
        return ScopeFlow(_stage_rows(table, [o.id for o in model.overlays]), transitions, flow, report)

    return memo(work, "scope_flow", (scope.key(), drivers, horizon_days), compute)


def stage_flow(work: Work, scope: Scope, stage: str | None = None, drivers: bool = True, horizon_days: int = 90,
               top_signals: int = 3, by: str | None = None) -> StageDistributionResult:
    """Stage counts, value per stage (× ``by``), transitions over the period (out of ``stage`` when given), flow
    metrics and (optionally) the progression drivers (``scope_flow``, shared by every stage and ``by``)."""
    from lifecycle.stages.value import stage_value

    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    found = scope_flow(work, scope, dataset, drivers, horizon_days)
    model = dataset.stage_model
    value = _value_rows(stage_value(dataset, model, Dimension(by) if by else None), by)
    transitions = [t for t in found.transitions if stage is None or t.from_state == stage]
    report = None if found.drivers is None else _drivers(found.drivers, stage, top_signals)
    work.step(1, 1, "done")
    return StageDistributionResult(scope=ScopeOut.of(scope), model=model.id, currency=dataset.config.revenue.currency,
                                   stages=found.stages, transitions=transitions, flow=found.flow, drivers=report, by=by,
                                   value=value)


def summary_text(result: StageDistributionResult, currency: str | None = None) -> str:
    """Every stage (leads and customers) with count, share and overlays; the value per stage (× by); every transition;
    every flow metric; every driver row with its rates, n, difference and interval."""
    currency = currency or result.currency
    lines = [f"Stages as of {result.scope.as_of} (model {result.model}; leads: open leads, customers: incl. churned):"]
    lines += table(("stage", "population", "count", "share", "overlays"),
                   ((s.stage, s.population, s.count, percent(s.share),
                     pairs((o.overlay, o.count) for o in s.overlays if o.count) or "-") for s in result.stages))
    lines.append(f"Value on as_of{' by ' + result.by if result.by else ''} (money in {currency}):")
    lines += table(("stage",) + ((result.by,) if result.by else ()) + ("customers", "paying", "MRR", "MRR share", "ARPA"),
                   ((v.stage,) + ((v.group or MISSING,) if result.by else ()) + (
                       v.customers, v.paying_customers, money(v.mrr, currency), percent(v.mrr_share), money(v.arpa, currency))
                    for v in result.value))
    lines.append(f"Moves between stages from {result.scope.period_start} to {result.scope.as_of} (from → to: customers): "
                 + ("; ".join(f"{t.from_state}→{t.to_state}: {t.count}" for t in result.transitions) or "none"))
    lines.append("Flow over the period:")
    lines += [f"- {metric_text(m, currency)}" for m in result.flow]
    if result.drivers is not None:
        d = result.drivers
        lines.append(f"Drivers (signals on {d.signal_date}, outcome within {d.horizon_days} days; {d.note}; populations: "
                     f"{pairs(d.populations.items())}):")
        lines += table(("transition", "signal", "rate with (n)", "rate without (n)", "difference [95% CI]", "lift"),
                       ((r.transition, f"{r.signal} ({data_text(r.signal_description, 80)})",
                         f"{percent(r.with_signal.rate)} ({r.with_signal.n})",
                         f"{percent(r.without_signal.rate)} ({r.without_signal.n})",
                         f"{points(r.difference)} [{points(r.difference_low)}, {points(r.difference_high)}]"
                         + (" small sample" if r.small_sample else ""), number(r.lift))
                        for r in d.rows))
    return "\n".join(lines)


def stage_flow_once(work: Work, scope: Scope, stage: str | None, drivers: bool, horizon_days: int,
                    by: str | None) -> StageDistributionResult:
    """``stage_flow`` computed once per data, configuration, scope and arguments in this process (``tools.scope.memo``:
    a repeated question costs its serialisation only — on the demo the drivers and flow alone were ~0.1 s of CPU per
    call); the result names the call's own scope (whether its as_of was inferred does not change a number)."""
    result = memo(work, "stage_flow", (scope.key(), stage, drivers, horizon_days, by),
                  lambda: stage_flow(work, scope, stage, drivers, horizon_days, by=by))
    return result.model_copy(update={"scope": ScopeOut.of(scope)})


def funnel_png(result: StageDistributionResult) -> bytes:
    """The whole funnel: open leads per lead stage, then customers per stage (churned last)."""
    ordered = sorted(result.stages, key=lambda s: s.population != "leads")  # stable: model order within each
    return stage_funnel([(f"{s.name} ({s.population})", s.count) for s in ordered],
                        title=f"Leads and customers by lifecycle stage, {result.scope.as_of}")


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``stage_distribution`` tool to ``server``, its ``stage`` enum from the server's stage model."""
    StageId = stage_enum(ctx.config)

    async def stage_distribution_tool(
        as_of: AsOf = None,
        period_months: PeriodMonths = 12,
        filters: FiltersArg = None,
        stage: Annotated[StageId | None, Field(description="Only transitions and drivers from this stage.")] = None,  # type: ignore[valid-type]
        drivers: Annotated[bool, Field(description="Include progression drivers.")] = True,
        horizon_days: Annotated[int, Field(ge=30, le=365, description="Drivers: signals read this many days earlier.")] = 90,
        by: Annotated[Dimension | None, Field(description="Split the value per stage (stage × segment).")] = None,
        chart: Annotated[bool, Field(description="Add a PNG funnel.")] = False,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, StageDistributionResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, filters, period_months)
            result = stage_flow_once(work, scope, str(stage) if stage else None, drivers, horizon_days,
                                     by.value if by else None)
            return structured_result(result, summary_text(result), (funnel_png(result),) if chart else ())

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(stage_distribution_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
