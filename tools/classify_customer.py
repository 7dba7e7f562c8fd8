"""The ``classify_customer`` tool: one customer's lifecycle stage with the evidence behind it.

``lifecycle.stages.classify_customer`` on the cached as-of snapshot: the rule that fired with each check
(feature, operator, threshold, actual value), the overlays that apply (at_risk, dormant, …), and time in
stage from monthly checkpoints when asked.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from lifecycle.scope import Scope
from lifecycle.stages.records import RuleCheck, StageVerdict
from prompts.fence import clean_text
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, check_customer, resolve_scope
from tools.text import data_text, number

NAME = "classify_customer"
TITLE = "Classify one customer's lifecycle stage"
DESCRIPTION = (
    "One customer's lifecycle stage on as_of with the evidence: the rule that fired and its checks (threshold vs "
    "actual value), the overlays (at_risk, dormant, churned, reactivated) and, with time_in_stage=true, days in stage."
)

CustomerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$",
                                  description="A customer_id from the data.")]
JsonScalar = float | int | str | bool | None


class Check(wire_model(RuleCheck, types={"actual": JsonScalar}, descriptions={  # type: ignore[misc]
        "value": "The rule's threshold.", "actual": "The customer's value."})):
    """One condition of the rule that fired (``lifecycle.stages.records.RuleCheck``)."""


class ClassifyCustomerResult(wire_model(  # type: ignore[misc]
        StageVerdict, types={"checks": list[Check], "features": dict[str, JsonScalar]}, extra={"as_of": (str, None)},
        order=("as_of", "customer_id", "stage", "stage_name", "rule_id", "rule_description", "checks", "overlays",
               "overlay_rules", "time_in_stage_days", "time_in_stage_note", "features"))):
    """One customer's stage on as_of and why (``lifecycle.stages.records.StageVerdict``)."""


def _scalar(value: Any) -> JsonScalar:
    if isinstance(value, str):
        return clean_text(value, 120)
    return value if isinstance(value, (int, float, bool)) or value is None else clean_text(value, 120)


def classify(work: Work, scope: Scope, customer_id: str, time_in_stage: bool = False) -> ClassifyCustomerResult:
    """The stage verdict for ``customer_id`` (``QueryError`` when unknown or not yet signed up on as_of)."""
    from lifecycle.snapshot import snapshot_of
    from lifecycle.stages import classify_customer

    with work.connect() as conn:
        check_customer(conn, customer_id)
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    work.step(0, 2, "classifying")
    verdict = classify_customer(snapshot_of(dataset), dataset.stage_model, customer_id, dataset if time_in_stage else None)
    return ClassifyCustomerResult.of(
        verdict, as_of=scope.as_of.isoformat(), checks=[Check.of(c, actual=_scalar(c.actual)) for c in verdict.checks],
        features={k: _scalar(v) for k, v in sorted(verdict.features.items())})


def summary_text(result: ClassifyCustomerResult) -> str:
    """The stage and rule, every check of the rule (feature, operator, threshold, the customer's value), the overlays
    with their rules, time in stage, and every feature the stage rules read."""
    text = f"{result.customer_id} is in {result.stage_name} ({result.stage}) as of {result.as_of}"
    if result.rule_id:
        text += f" by rule {result.rule_id}" + (f": {data_text(result.rule_description, 200).rstrip('.')}"
                                               if result.rule_description else "")
    else:
        text += " (no rule matched)"
    lines = [text + "."]
    if result.checks:
        lines.append("Checks of the rule: " + "; ".join(
            f"{c.feature} {c.op} {_shown(c.value)} (actual {_shown(c.actual)})" for c in result.checks))
    else:
        lines.append("Checks of the rule: none (the rule has no conditions).")
    lines.append("Overlays: " + (", ".join(f"{o}" for o in result.overlays) if result.overlays else "none")
                 + (f" (rules: {', '.join(result.overlay_rules)})" if result.overlay_rules else "") + ".")
    if result.time_in_stage_days is not None:
        lines.append(f"In stage for {result.time_in_stage_days:.0f} days ({result.time_in_stage_note}).")
    lines.append("Features: " + "; ".join(f"{k}={_shown(v)}" for k, v in result.features.items()))
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return "n/a" if value is None else data_text(value, 60)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``classify_customer`` tool to ``server``."""

    async def classify_customer_tool(
        customer_id: CustomerId,
        as_of: AsOf = None,
        time_in_stage: Annotated[bool, Field(description="Also measure time in stage (slower).")] = False,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, ClassifyCustomerResult]:
        def work_fn(work: Work) -> CallToolResult:
            scope = resolve_scope(work, as_of, None)
            result = classify(work, scope, customer_id, time_in_stage)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(classify_customer_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
