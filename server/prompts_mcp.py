"""The MCP prompts: the five strategy templates, rendered with the fact bundle of the requested scope.

Each prompt computes ``lifecycle.facts.build_facts`` for its scope (the whole base, or one value of a segment
dimension) and renders with ``prompts.render.render_prompt`` — the same rendering as ``lifecycle plan``.
``at_risk_intervention`` takes a customer (its free-text fields, stage, health and at-risk reasons with their
evidence go into the fenced SUBJECT block) or a segment. Bad arguments are JSON-RPC errors (-32602) whose
message names the valid values; no path, SQL or stack trace is ever sent.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from lifecycle.errors import DatasetUnreadableError, LifecycleError, QueryError
from lifecycle.filters import Dimension
from lifecycle.scope import Scope
from lifecycle.sources import customer_record
from prompts.fence import clean_text
from prompts.render import BusinessContext, Language, PromptName, framework_stages, render_prompt
from server.resources import mcp_errors
from tools.base import UNREADABLE_DATASET_MESSAGE, ToolContext, tool_message
from tools.runtime import Work, run_gated
from tools.scope import check_customer, resolve_scope

PROMPT_DESCRIPTIONS: dict[PromptName, str] = {
    PromptName.LIFECYCLE_MAP: "Map the customer lifecycle (six stages) with the computed facts of the data.",
    PromptName.STAGE_STRATEGY: "A strategy for one lifecycle stage (stage), grounded in that stage's facts.",
    PromptName.AT_RISK_INTERVENTION: "Intervention plan for an at-risk customer (customer_id) or a segment "
                                     "(segment_dimension + segment_value).",
    PromptName.SUCCESS_MEASUREMENT: "Success measurement plan: metrics, targets and cadence from the facts.",
    PromptName.EXECUTIVE_SUMMARY: "Executive summary of lifecycle performance with cited facts.",
}
CONTEXT_FIELDS = ("company", "business_model", "relationship_length", "value_realization_time", "growth_opportunities",
                  "competitive_factors")


def _invalid(message: str) -> MCPError:
    return MCPError(code=INVALID_PARAMS, message=message)


def _as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(f"as_of must be a date YYYY-MM-DD, got {clean_text(text, 40)!r}") from None


def _language(text: str | None) -> Language:
    try:
        return Language(text or "en")
    except ValueError:
        raise _invalid(f"unknown language {clean_text(text, 20)!r}; valid: {', '.join(l.value for l in Language)}") from None


def _filters(dimension: str | None, value: str | None) -> dict[Dimension, list[str]] | None:
    if not dimension and not value:
        return None
    if not dimension or not value:
        raise _invalid("give both segment_dimension and segment_value, or neither")
    try:
        return {Dimension(dimension): [value]}
    except ValueError:
        raise _invalid(f"unknown segment_dimension {clean_text(dimension, 40)!r}; valid: "
                       f"{', '.join(d.value for d in Dimension)}") from None


def customer_subject(work: Work, scope: Scope, customer_id: str) -> dict[str, object]:
    """The customer's free-text fields, stage, health and at-risk reasons with evidence (all fenced by the template)."""
    # the engine loads with the first rendering, not with the server (tests/server/test_cli_start.py)
    from lifecycle.health.risk import list_at_risk
    from lifecycle.snapshot import snapshot_of
    from lifecycle.stages import classify_customers, model_for
    from tools.health_scope import scope_health

    with work.connect() as conn:
        check_customer(conn, customer_id)
        record = customer_record(conn, customer_id, ("name", "company", "segment", "plan", "industry", "country", "champion"))
    subject: dict[str, object] = {"customer_id": customer_id}
    for key, value in (record or {}).items():
        if value not in (None, ""):
            subject[key] = value
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    snapshot = snapshot_of(dataset)
    stage = classify_customers(snapshot[snapshot["customer_id"] == customer_id], model_for(dataset), evidence=False)
    if len(stage):
        subject["stage"] = str(stage["stage"].iloc[0])
        subject["overlays"] = str(stage["overlays"].iloc[0]) or "none"
    health = scope_health(work, scope)
    if customer_id not in health.table.frame.index:
        subject["status"] = "churned or not yet signed up on as_of: no health score or at-risk reasons"
        return subject
    one = health.snapshot[health.snapshot["customer_id"] == customer_id]
    page = list_at_risk(one, health.table, limit=1, min_risk=0.0)
    if page.items:
        item = page.items[0]
        subject["health"] = "unknown" if item.health is None else f"{item.health:.1f} ({item.band})"
        subject["risk"] = f"{item.risk:.2f}"
        subject["mrr_at_stake"] = f"{item.value:,.2f}"
        for i, reason in enumerate(item.reasons, 1):
            evidence = ", ".join(f"{k}={v}" for k, v in reason.evidence.items())
            subject[f"reason_{i}"] = f"{reason.code.value} (severity {reason.severity:g}; {evidence}); play: {reason.play}"
        subject["suggested_play"] = item.suggested_play
    return subject


def render(ctx: ToolContext, name: PromptName, args: dict[str, str | None], work: Work | None = None) -> str:
    """The rendered prompt text for ``name`` with the prompt ``args`` (runs on a worker thread, with the call's
    ``work`` when given)."""
    from tools.lifecycle_facts import facts_for

    language = _language(args.get("language"))
    as_of = _as_of(args.get("as_of"))
    filters = _filters(args.get("segment_dimension"), args.get("segment_value"))
    stage = args.get("stage")
    valid_stages = [s.id for s in framework_stages()]
    if name is PromptName.STAGE_STRATEGY and stage not in valid_stages:
        raise _invalid(f"unknown stage {clean_text(stage, 40)!r}; valid: {', '.join(valid_stages)}")
    customer_id = args.get("customer_id")
    if customer_id and filters:
        raise _invalid("give customer_id or a segment, not both")
    context = BusinessContext(**{k: given for k in CONTEXT_FIELDS if (given := args.get(k))})
    work = work or Work(ctx)
    try:
        scope = resolve_scope(work, as_of, filters)  # type: ignore[arg-type]
        subject: dict[str, object] | None = customer_subject(work, scope, customer_id) if customer_id else (
            {f"segment_{k}": v for k, v in (("dimension", args.get("segment_dimension")), ("value", args.get("segment_value")))
             if v} or None)
        bundle = facts_for(work, scope)
        return render_prompt(name, bundle, context, language, stage=stage, subject=subject).text
    except DatasetUnreadableError:
        raise MCPError(code=INTERNAL_ERROR, message=UNREADABLE_DATASET_MESSAGE) from None
    except LifecycleError as exc:
        raise _invalid(tool_message(exc, ctx)) from None
    finally:
        work.close()


def _prompt_function(ctx: ToolContext, name: PromptName, extra: tuple[str, ...]) -> Callable[..., Any]:
    """An async function whose keyword parameters are the prompt's arguments (all optional strings but ``stage``)."""
    names = (*CONTEXT_FIELDS, *extra, "as_of", "language")
    required = {"stage"} if name is PromptName.STAGE_STRATEGY else set()

    async def prompt_fn(**kwargs: str | None) -> str:
        return await run_gated(ctx, lambda work: render(ctx, name, kwargs, work), edge=lambda run: mcp_errors(ctx, run))

    parameters = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=str if n in required else str | None,
                                    default=inspect.Parameter.empty if n in required else None) for n in names]
    prompt_fn.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    prompt_fn.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": str}
    prompt_fn.__name__ = name.value
    return prompt_fn


PROMPT_ARGUMENTS: dict[PromptName, tuple[str, ...]] = {
    PromptName.LIFECYCLE_MAP: ("segment_dimension", "segment_value"),
    PromptName.STAGE_STRATEGY: ("stage", "segment_dimension", "segment_value"),
    PromptName.AT_RISK_INTERVENTION: ("customer_id", "segment_dimension", "segment_value"),
    PromptName.SUCCESS_MEASUREMENT: ("segment_dimension", "segment_value"),
    PromptName.EXECUTIVE_SUMMARY: ("segment_dimension", "segment_value"),
}
ARGUMENT_HELP = {
    "company": "Company name.", "business_model": "e.g. B2B SaaS, subscription e-commerce.",
    "relationship_length": "Typical customer relationship duration.", "value_realization_time": "Time to first value.",
    "growth_opportunities": "Expansion opportunities.", "competitive_factors": "Competitive factors.",
    "stage": "Framework stage id.", "segment_dimension": "segment, plan, channel, industry, country or company_size.",
    "segment_value": "A value of segment_dimension from the data.", "customer_id": "A customer from the data.",
    "as_of": "YYYY-MM-DD (default: the last day with data).", "language": "en, ru or zh (default en).",
}


class _Prompt(Prompt):
    """A prompt whose missing required arguments are an invalid-params error naming the valid values (the SDK's
    own check answers with a bare internal error)."""

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> Any:  # type: ignore[override]
        missing = sorted({a.name for a in self.arguments or [] if a.required} - set(arguments or {}))
        if missing:
            hint = f" (one of {', '.join(s.id for s in framework_stages())})" if "stage" in missing else ""
            raise _invalid(f"missing argument(s): {', '.join(missing)}{hint}")
        return await super().render(arguments, context)


def register_prompts(server: MCPServer, ctx: ToolContext) -> None:
    """Add the five prompts to ``server``."""
    for name in PromptName:
        prompt = _Prompt.from_function(_prompt_function(ctx, name, PROMPT_ARGUMENTS[name]), name=name.value,
                                      title=name.value.replace("_", " ").capitalize(), description=PROMPT_DESCRIPTIONS[name])
        for argument in prompt.arguments or []:
            argument.description = ARGUMENT_HELP.get(argument.name)
        server.add_prompt(prompt)


__all__ = ["PROMPT_ARGUMENTS", "QueryError", "customer_subject", "register_prompts", "render"]
