"""Argument completions (``completion/complete``) for the prompts and the ``customer://`` template.

Values come from the data (customer ids by prefix, the distinct values of the chosen segment dimension) or
from fixed lists (stages, dimensions, languages, and the metric ids of ``lifecycle://metrics/{metric_id}`` — the ids
``compute_metrics`` and ``compare_segments`` accept, which their schemas do not enumerate). Lookups use bound parameters only; at most 100 values.
"""

from __future__ import annotations

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from lifecycle.errors import LifecycleError
from lifecycle.filters import Dimension
from lifecycle.metrics.registry import metric_ids
from prompts.render import Language, framework_stages
from tools.base import ToolContext
from tools.scope import customer_ids_like, known_values

MAX_VALUES = 100
METRIC_TEMPLATE = "lifecycle://metrics/{metric_id}"


def _data_values(ctx: ToolContext, argument: str, prefix: str, context: dict[str, str]) -> list[str]:
    try:
        with ctx.connect() as conn:
            if argument == "customer_id":
                return customer_ids_like(conn, prefix, MAX_VALUES + 1)
            try:
                dimension = Dimension(context.get("segment_dimension", ""))
            except ValueError:
                return []
            return [v for v in known_values(ctx.source, dimension) if v.startswith(prefix)]
    except LifecycleError:
        return []  # no dataset yet: nothing to suggest


def values_for(ctx: ToolContext, argument: str, prefix: str, context: dict[str, str]) -> list[str]:
    """Completion values for ``argument`` starting with ``prefix``."""
    fixed = {"stage": [s.id for s in framework_stages()], "segment_dimension": [d.value for d in Dimension],
             "language": [lang.value for lang in Language]}
    if argument in fixed:
        return [v for v in fixed[argument] if v.startswith(prefix)]
    if argument in ("customer_id", "segment_value"):
        return _data_values(ctx, argument, prefix, context)
    return []


def register_completions(server: MCPServer, ctx: ToolContext) -> None:
    """Install the completion handler on ``server``."""

    @server.completion()
    async def complete(ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                       context: CompletionContext | None) -> Completion:
        resolved = dict(context.arguments or {}) if context is not None and context.arguments else {}
        if isinstance(ref, ResourceTemplateReference) and ref.uri == METRIC_TEMPLATE:
            ids = [m for m in metric_ids() if m.startswith(argument.value)] if argument.name == "metric_id" else []
            return Completion(values=ids[:MAX_VALUES], total=len(ids), has_more=len(ids) > MAX_VALUES)
        if isinstance(ref, ResourceTemplateReference) and ref.uri != "customer://{customer_id}":
            return Completion(values=[])
        found = await anyio.to_thread.run_sync(values_for, ctx, argument.name, argument.value, resolved)
        return Completion(values=found[:MAX_VALUES], total=None, has_more=len(found) > MAX_VALUES)
