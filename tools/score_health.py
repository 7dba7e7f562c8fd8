"""The ``score_health`` tool: the explainable health score (0–100) of one customer, or of the whole scope.

For a customer: ``lifecycle.health.explain_health`` — every component with its score, weight, effective weight
after redistribution, contribution and impact, every signal with its value and score, band, trend vs 30 days
earlier, segment and the most impactful component. For the scope: band and segment counts, mean health, and
mean component scores. ``chart: true`` adds the component breakdown as a PNG.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.errors import QueryError
from lifecycle.health import (
    ComponentExplanation,
    ComponentSummary,
    HealthCount,
    HealthExplanation,
    HealthSummary,
    SignalExplanation,
    explain_health,
    summarize_health,
)
from lifecycle.scope import Scope
from prompts.fence import clean_text
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.charts import health_breakdown
from tools.classify_customer import CustomerId
from tools.health_scope import scope_health
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, ScopeOut, check_customer, resolve_scope
from tools.text import data_text, number, table

NAME = "score_health"
TITLE = "Customer health score"
DESCRIPTION = (
    "Explainable health (0–100) of one customer_id: components and signals with weights, band, trend, segment "
    "and the component to fix first; without customer_id, the scope's bands, segments and component means."
)
JsonScalar = float | int | str | bool | None


class SignalOut(wire_model(SignalExplanation, types={"value": JsonScalar})):  # type: ignore[misc]
    """One signal of a component: its value, score and weight (``lifecycle.health.score.SignalExplanation``)."""


class ComponentOut(wire_model(  # type: ignore[misc]
        ComponentExplanation, types={"contribution": float | None, "impact": float | None, "signals": list[SignalOut]},
        descriptions={"weight": "Declared weight (percent).",
                      "effective_weight": "Percent of health after redistributing excluded components.",
                      "contribution": "Health points it adds.", "impact": "Health points to gain if it were perfect."},
        order=("name", "score", "weight", "effective_weight", "contribution", "impact", "excluded_reason", "signals"))):
    """One health component: its score, weights and signals (``lifecycle.health.score.ComponentExplanation``)."""


class CustomerHealth(wire_model(  # type: ignore[misc]
        HealthExplanation, exclude=("excluded",), types={"components": list[ComponentOut]},
        extra={"headline": (str, None)},
        descriptions={"coverage": "Share of the profile's designed weight backed by data (0-1)."},
        order=("customer_id", "profile", "health", "band", "segment", "strategy", "most_impactful", "previous_health",
               "trend_delta", "trend", "coverage", "headline", "components"))):
    """One customer's health and why (``lifecycle.health.score.HealthExplanation``; ``headline`` its one line)."""


class CountOut(wire_model(HealthCount)):  # type: ignore[misc]
    """How many scored customers have one band, segment or trend (``lifecycle.health.summary.HealthCount``)."""


class ComponentMean(wire_model(ComponentSummary, descriptions={  # type: ignore[misc]
        "most_impactful_for": "Customers for whom it is the component to fix first."})):
    """One component over the scope (``lifecycle.health.summary.ComponentSummary``)."""


class ScopeHealthSummary(wire_model(  # type: ignore[misc]
        HealthSummary, types={"bands": list[CountOut], "segments": list[CountOut], "trends": list[CountOut],
                              "components": list[ComponentMean]}, descriptions={
        "customers": "Customers scored (signed up by as_of, not churned).",
        "coverage": "Mean share of the profile's designed weight backed by data (0-1).",
        "bands_calibrated": "False when a component has no data at all or the profile is not a shipped one.",
        "caveat": "Why the bands cannot be read as designed (low coverage, uncalibrated), if so."})):
    """The scope's health at a glance (``lifecycle.health.summary.HealthSummary``)."""


class ScoreHealthResult(BaseModel):
    scope: ScopeOut
    customer: CustomerHealth | None
    summary: ScopeHealthSummary | None


def _value(value: Any) -> JsonScalar:
    if isinstance(value, str):
        return clean_text(value, 120)
    return value if isinstance(value, (int, float, bool)) or value is None else clean_text(value, 120)


def customer_health(work: Work, scope: Scope, customer_id: str) -> CustomerHealth:
    with work.connect() as conn:
        check_customer(conn, customer_id)
    health = scope_health(work, scope)
    if customer_id not in health.table.frame.index:
        raise QueryError(f"customer {customer_id!r} has no health score on {scope.as_of}: they churned or signed up "
                         "later. Call classify_customer to see their stage.")
    explanation = explain_health(health.table, customer_id)
    components = [ComponentOut.of(c, signals=[SignalOut.of(s, value=_value(s.value)) for s in c.signals])
                  for c in explanation.components]
    return CustomerHealth.of(explanation, headline=explanation.headline(), components=components)


def scope_summary(work: Work, scope: Scope) -> ScopeHealthSummary:
    """The scope's health summary (``lifecycle.health.summarize_health`` on the memoised health table)."""
    return ScopeHealthSummary.of(summarize_health(scope_health(work, scope).table))


def score(work: Work, scope: Scope, customer_id: str | None) -> ScoreHealthResult:
    if customer_id:
        return ScoreHealthResult(scope=ScopeOut.of(scope), customer=customer_health(work, scope, customer_id), summary=None)
    return ScoreHealthResult(scope=ScopeOut.of(scope), customer=None, summary=scope_summary(work, scope))


def summary_text(result: ScoreHealthResult) -> str:
    """One customer: the headline, every component (score, weights, contribution, impact) with every signal; the scope:
    every band, segment and trend count and every component's mean."""
    if result.customer is not None:
        c = result.customer
        lines = [f"{c.customer_id} as of {result.scope.as_of}: {data_text(c.headline, 300)}.",
                 f"Health {number(c.health, 1)} ({c.band or 'n/a'}), segment {c.segment or 'n/a'}"
                 + (f" → strategy: {data_text(c.strategy, 160)}" if c.strategy else "")
                 + f"; trend {c.trend or 'n/a'} ({number(c.previous_health, 1)} → {number(c.health, 1)}, "
                 f"{number(c.trend_delta, 1)}); fix first: {c.most_impactful or 'n/a'}; profile {c.profile}."]
        lines += table(("component", "score", "weight %", "effective %", "contribution", "impact", "signals (value → score)"),
                       ((k.name, number(k.score, 1), number(k.weight, 1), number(k.effective_weight, 1),
                         number(k.contribution, 1), number(k.impact, 1),
                         "; ".join(f"{g.name}={_signal(g.value)} → {number(g.score, 1)}"
                                   + (f" (excluded: {data_text(g.excluded_reason, 80)})" if g.excluded_reason else "")
                                   for g in k.signals)
                         + (f" [excluded: {data_text(k.excluded_reason, 80)}]" if k.excluded_reason else ""))
                        for k in c.components))
        return "\n".join(lines)
    summary = result.summary
    assert summary is not None
    lines = [f"Health as of {result.scope.as_of}: {summary.customers} customers scored (not churned), mean "
             f"{number(summary.mean_health, 1)}.",
             "Bands: " + ", ".join(f"{b.name} {b.count}" for b in summary.bands) + ".",
             "Segments: " + (", ".join(f"{g.name} {g.count}" for g in summary.segments) or "none") + ".",
             "Trend vs 30 days earlier: " + ", ".join(f"{t.name} {t.count}" for t in summary.trends) + "."]
    lines += table(("component", "weight %", "mean score", "fix first for"),
                   ((k.name, number(k.weight, 1), number(k.mean_score, 1), k.most_impactful_for) for k in summary.components))
    if summary.caveat:
        lines.append(f"Caveat — {clean_text(summary.caveat, 400)}.")
    lines.append("One customer's breakdown: call again with customer_id.")
    return "\n".join(lines)


def _signal(value: JsonScalar) -> str:
    if isinstance(value, float):
        return number(value)
    return "n/a" if value is None else data_text(value, 40)


def breakdown_png(result: ScoreHealthResult) -> bytes:
    if result.customer is not None:
        parts = [(c.name, c.score, c.effective_weight) for c in result.customer.components]
        return health_breakdown(parts, result.customer.health, f"Health of {result.customer.customer_id}")
    summary = result.summary
    assert summary is not None
    parts = [(c.name, c.mean_score, c.weight) for c in summary.components]
    return health_breakdown(parts, summary.mean_health, "Mean component scores")


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``score_health`` tool to ``server``."""

    async def score_health_tool(
        customer_id: Annotated[CustomerId | None, Field(description="One customer; omit for the whole scope.")] = None,
        as_of: AsOf = None,
        filters: FiltersArg = None,
        chart: Annotated[bool, Field(description="Add a PNG breakdown.")] = False,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, ScoreHealthResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, None if customer_id else filters)
            result = score(work, scope, customer_id)
            return structured_result(result, summary_text(result), (breakdown_png(result),) if chart else ())

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(score_health_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
