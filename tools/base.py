"""What every MCP tool adapter shares: the dataset it reads, read-only annotations, and the error edge.

A tool module (``tools/<name>.py``) holds a plain function doing the work (testable without MCP), its
pydantic output model, and ``register(server, ctx)``, which adds the MCP adapter to the server. The
adapter wraps the work in ``call_safely`` so that a ``LifecycleError`` becomes an ``isError`` result whose
text tells the model its next step — never a stack trace, SQL or a file path.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError

from lifecycle.config import DEFAULT_CONFIG, EngineConfig
from lifecycle.errors import (
    DatabaseFileError,
    DatasetNotFoundError,
    DatasetUnreadableError,
    LifecycleError,
    ModelFitError,
    QueryTimeoutError,
)
from lifecycle.sources import Connection, DataSource
from tools.gate import TIME_LIMIT_ADVICE, CallGate, CallTimeLimitError

logger = logging.getLogger(__name__)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
"""Annotations of every tool that only reads the dataset."""

NO_DATASET_MESSAGE = (
    "No dataset is available to this server yet. Next step: ask the user to run `lifecycle demo` "
    "(demo data) or `lifecycle import` (their own data) in a terminal, then call this tool again."
)
UNREADABLE_DATASET_MESSAGE = (
    "The dataset could not be read (the file is damaged or not a Lifecycle MCP database). Next step: ask the "
    "user to run `lifecycle doctor` in a terminal, or re-import the data with `lifecycle import`."
)


@dataclass(frozen=True)
class ToolContext:
    """What a tool needs from the server: the data source it reads (with the server's time limit per query), the
    engine configuration every dataset is opened with (``lifecycle serve --config``; the same numbers as
    ``lifecycle plan``) and the gate every computing call passes (slots and the per-call time limit)."""

    source: DataSource
    config: EngineConfig = DEFAULT_CONFIG
    gate: CallGate = field(default_factory=CallGate)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A fresh read-only connection on the source, closed after use.

        One connection per call: tools run on worker threads and connections must not be shared.
        """
        conn = self.source.connect()
        try:
            yield conn
        finally:
            conn.close()


class ToolModule(Protocol):
    """The shape of a ``tools/<name>.py`` module listed in ``server.app.TOOL_MODULES``."""

    NAME: str

    def register(self, server: MCPServer, ctx: ToolContext) -> None: ...


def structured_result(output: BaseModel, text: str, images: tuple[bytes, ...] = ()) -> CallToolResult:
    """A successful result: ``output`` as ``structuredContent`` (matching the tool's outputSchema) plus a short text
    and optional PNG images (``ImageContent``). NaN and infinities become ``null``: JSON has neither."""
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    content += [ImageContent(type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png")
                for png in images]
    return CallToolResult(content=content, structured_content=finite(output.model_dump(mode="json", by_alias=True)))


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (at any depth) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def error_result(message: str) -> CallToolResult:
    """An ``isError`` result carrying one actionable sentence."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def call_safely(ctx: ToolContext, compute: Callable[[], CallToolResult]) -> CallToolResult:
    """Run a tool's work; turn deliberate errors (and database failures) into actionable ``isError`` results.

    Anything else propagates to the SDK, which answers with a generic ``Error executing tool <name>``
    and logs the traceback on stderr — the crash's text never reaches the client.
    """
    try:
        return compute()
    except LifecycleError as exc:
        logger.info("tool error: %s", type(exc).__name__)
        return error_result(tool_message(exc, ctx))


def tool_message(exc: LifecycleError, ctx: ToolContext) -> str:
    """The sentence the model sees for ``exc``: a known next step, with file paths removed."""
    if isinstance(exc, DatasetNotFoundError):
        return NO_DATASET_MESSAGE
    if isinstance(exc, (DatabaseFileError, DatasetUnreadableError)):  # not SQLite, another application's tables, damaged
        return UNREADABLE_DATASET_MESSAGE
    if isinstance(exc, CallTimeLimitError):
        return (f"{exc.user_message[:1].upper()}{exc.user_message[1:]}. Next step: call again with a narrower date "
                "range or filters, or ask the user to raise the limit.")
    if isinstance(exc, QueryTimeoutError):
        return (f"{exc.user_message}. Next step: call the tool again with a narrower date range or filters (the "
                f"server's limit: {TIME_LIMIT_ADVICE}).")
    if isinstance(exc, ModelFitError):
        return scrub_paths(fit_failure_message(exc), ctx.source)
    return scrub_paths(exc.user_message, ctx.source)


def argument_error_message(tool: str, exc: ValidationError) -> str:
    """One sentence per invalid argument, e.g. ``model: input should be 'bg_nbd' or 'sbg' (got 'xyz')``, and the next step.

    Replaces the SDK's text (pydantic's multi-line report naming an internal model and a documentation URL).
    """
    problems = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "arguments"
        what = error.get("msg", "invalid value")
        what = what[:1].lower() + what[1:]
        given = "" if error.get("type") == "missing" else f" (got {_short_repr(error.get('input'))})"
        problems.append(f"{where}: {what}{given}")
    more = f"; and {len(exc.errors()) - 5} more" if len(exc.errors()) > 5 else ""
    return (f"Invalid arguments for {tool}: " + "; ".join(problems) + more
            + f". Next step: call {tool} again with corrected arguments (its inputSchema lists the valid values).")


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_failure_message(exc: ModelFitError) -> str:
    """What went wrong in a CLV fit, without the library's advice (it names arguments a tool does not take), and
    the next step a tool caller can take."""
    what = exc.user_message.split(". Data:")[0].rstrip(".")
    return (f"The CLV model could not be fitted: {what}. Next step: call again with the other model, fewer filters "
            "or a later as_of (more customers and repeat purchases).")


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\s'\"`,;()]+[\\/])*[^\s'\"`,;():]*")


def scrub_paths(message: str, source: DataSource | None = None) -> str:
    """``message`` with the source's file (if it has one) named "the dataset" and any other absolute path replaced
    by ``<path>``, so no file location leaks to a client."""
    path = getattr(source, "path", None)
    for known in (str(path), str(path.resolve())) if path is not None and path.is_absolute() else ():
        message = message.replace(f"--db {known}", "--db <the server's database file>").replace(known, "the dataset")
    return _ABSOLUTE_PATH.sub("<path>", message)


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """``schema`` made small for ``tools/list`` (which must stay under 24 KB for every tool together).

    Always: no ``title`` (pydantic puts one on every node), no ``"default": null``, no descriptions on enum
    definitions, nullable types written as type lists, and a definition referenced once written in place of its
    ``$ref`` (same meaning, fewer bytes). For an ``output`` schema also: only the top level is
    spelled out — nested models become ``object`` (arrays of ``object``) with their description kept — and no
    ``required`` lists (structured content always carries every field; the pydantic output model in
    ``tools/<name>.py`` is the full contract). Property *names* are never touched.
    """
    compacted = _compact(schema)
    if not isinstance(compacted, dict):
        return compacted
    if output:
        compacted.pop("$defs", None)
        compacted.pop("required", None)
        compacted.pop("description", None)  # the result model's docstring: the tool's description says it
        compacted["properties"] = {name: _shallow(sub) for name, sub in compacted.get("properties", {}).items()}
    elif "$defs" in compacted:
        compacted["$defs"] = {name: {k: v for k, v in sub.items() if not (k == "description" and "enum" in sub)}
                              for name, sub in compacted["$defs"].items()}
        compacted = _inline_single_use_defs(compacted)
    return compacted


def _refs(schema: Any) -> list[str]:
    """Every ``$ref`` target name in ``schema`` (with repeats)."""
    if isinstance(schema, dict):
        own = [schema["$ref"].rsplit("/", 1)[1]] if isinstance(schema.get("$ref"), str) else []
        return own + [name for value in schema.values() for name in _refs(value)]
    if isinstance(schema, list):
        return [name for item in schema for name in _refs(item)]
    return []


def _inline_single_use_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each ``$defs`` entry that is referenced exactly once (and refers to no definition itself)
    written where it is referenced; ``$defs`` dropped when it ends up empty."""
    defs: dict[str, Any] = schema["$defs"]
    counts = {name: _refs(schema).count(name) for name in defs}
    inline = {name: sub for name, sub in defs.items() if counts[name] == 1 and not _refs(sub)}

    def replace(node: Any) -> Any:
        if isinstance(node, list):
            return [replace(item) for item in node]
        if not isinstance(node, dict):
            return node
        target = node.get("$ref", "").rsplit("/", 1)[-1] if isinstance(node.get("$ref"), str) else None
        if target in inline:
            return {**inline[target], **{k: replace(v) for k, v in node.items() if k != "$ref"}}
        return {k: replace(v) for k, v in node.items()}

    out = {k: replace(v) for k, v in schema.items() if k != "$defs"}
    kept = {name: replace(sub) for name, sub in defs.items() if name not in inline}
    return _compact({**out, "$defs": kept} if kept else out)  # an inlined definition may now sit in a nullable anyOf


def _compact(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_compact(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = _nullable_as_type_list(schema)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if (key == "title" and isinstance(value, str)) or (key == "default" and value is None):
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: _compact(sub) for name, sub in value.items()}
        else:
            out[key] = _compact(value)
    return out


def _mentions_ref(schema: Any) -> bool:
    if isinstance(schema, dict):
        return "$ref" in schema or any(_mentions_ref(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_mentions_ref(v) for v in schema)
    return False


def _shallow(prop: dict[str, Any]) -> dict[str, Any]:
    """A top-level output property with any nested model replaced by ``object``."""
    if not _mentions_ref(prop):
        return prop
    kept = {k: v for k, v in prop.items() if k == "description"}
    nullable = any(o == {"type": "null"} for o in prop.get("anyOf", ())) or "null" in (prop.get("type") or [])
    is_array = prop.get("type") in ("array", ["array", "null"])
    shape: dict[str, Any] = {"type": "array", "items": {"type": "object"}} if is_array else {"type": "object"}
    if nullable:
        shape["type"] = [shape["type"], "null"]
    return {**kept, **shape}


def _nullable_as_type_list(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"anyOf": [{"type": T, ...}, {"type": "null"}]}`` → ``{"type": [T, "null"], ...}`` (same meaning, shorter; an
    ``enum`` gains ``null`` so that null stays valid)."""
    options = schema.get("anyOf")
    if not (isinstance(options, list) and len(options) == 2 and {"type": "null"} in options):
        return schema
    other = next(o for o in options if o != {"type": "null"})
    if not isinstance(other.get("type"), str) or "anyOf" in other:
        return schema
    merged = {k: v for k, v in schema.items() if k != "anyOf"}
    merged.update({**other, "type": [other["type"], "null"]})
    if isinstance(merged.get("enum"), list) and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged


def compact_tool_schemas(server: MCPServer) -> None:
    """Compact every registered tool's input and output schema in place (see ``compact_schema``).

    The SDK reads ``Tool.parameters`` and ``fn_metadata.output_schema`` live; it has no public setter, hence
    the private ``_tool_manager``.
    """
    for tool in server._tool_manager.list_tools():  # noqa: SLF001
        tool.parameters = compact_schema(tool.parameters)
        if tool.fn_metadata.output_schema is not None:
            tool.fn_metadata.output_schema = compact_schema(tool.fn_metadata.output_schema, output=True)
