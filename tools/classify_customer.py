"""The ``classify_customer`` tool: one customer's lifecycle stage with the evidence behind it.

``lifecycle.stages.classify_customer`` on the cached as-of snapshot: the rule that fired with each check
(feature, operator, threshold, actual value), the overlays that apply (at_risk, dormant, …), and time in
stage from monthly checkpoints when asked.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.scope import Scope
from lifecycle.snapshot import snapshot_of
from lifecycle.stages import classify_customer, model_for
from prompts.fence import clean_text
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.runtime import Work, run_tool
from tools.scope import AsOf, check_customer, resolve_scope

NAME = "classify_customer"
TITLE = "Classify one customer's lifecycle stage"
DESCRIPTION = (
    "The lifecycle stage of one customer on as_of with the evidence: the rule that fired, each of its checks "
    "(feature, operator, threshold, actual value), the overlays that apply (at_risk, dormant, churned, reactivated) "
    "and, with time_in_stage=true, how long they have been in the stage (monthly checkpoints, a lower bound)."
)

CustomerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$",
                                  description="A customer_id from the data.")]
JsonScalar = float | int | str | bool | None


class Check(BaseModel):
    feature: str
    op: str
    value: Any = Field(description="The rule's threshold.")
    actual: JsonScalar = Field(description="The customer's value.")


class ClassifyCustomerResult(BaseModel):
    as_of: str
    customer_id: str
    stage: str
    stage_name: str
    rule_id: str | None
    rule_description: str
    checks: list[Check]
    overlays: list[str]
    overlay_rules: list[str]
    time_in_stage_days: float | None
    time_in_stage_note: str
    features: dict[str, JsonScalar] = Field(description="Every snapshot feature the stage rules read.")


def _scalar(value: Any) -> JsonScalar:
    if isinstance(value, str):
        return clean_text(value, 120)
    return value if isinstance(value, (int, float, bool)) or value is None else clean_text(value, 120)


def classify(work: Work, scope: Scope, customer_id: str, time_in_stage: bool = False) -> ClassifyCustomerResult:
    """The stage verdict for ``customer_id`` (``QueryError`` when unknown or not yet signed up on as_of)."""
    with work.connect() as conn:
        check_customer(conn, customer_id)
    dataset = work.dataset(scope.as_of, scope.filters, scope.window)
    work.step(0, 2, "classifying")
    verdict = classify_customer(snapshot_of(dataset), model_for(dataset), customer_id, dataset if time_in_stage else None)
    data = verdict.to_dict()
    return ClassifyCustomerResult(
        as_of=scope.as_of.isoformat(), customer_id=customer_id, stage=data["stage"], stage_name=data["stage_name"],
        rule_id=data["rule_id"], rule_description=data["rule_description"],
        checks=[Check(feature=c["feature"], op=c["op"], value=c.get("value"), actual=_scalar(c.get("actual")))
                for c in data["checks"]],
        overlays=data["overlays"], overlay_rules=data["overlay_rules"], time_in_stage_days=data["time_in_stage_days"],
        time_in_stage_note=data["time_in_stage_note"], features={k: _scalar(v) for k, v in sorted(verdict.features.items())},
    )


def summary_text(result: ClassifyCustomerResult) -> str:
    text = f"{result.customer_id} is in {result.stage_name} ({result.stage}) as of {result.as_of}"
    if result.rule_id:
        text += f" by rule {result.rule_id}"
    if result.overlays:
        text += f"; overlays: {', '.join(result.overlays)}"
    if result.time_in_stage_days is not None:
        text += f"; in stage {result.time_in_stage_days:.0f} days ({result.time_in_stage_note})"
    return text + "."


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
