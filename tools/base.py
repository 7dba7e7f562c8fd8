"""What every MCP tool adapter shares: the dataset it reads, read-only annotations, and the error edge.

A tool module (``tools/<name>.py``) holds a plain function doing the work (testable without MCP), its
pydantic output model, and ``register(server, ctx)``, which adds the MCP adapter to the server. The
adapter wraps the work in ``call_safely`` so that a ``LifecycleError`` becomes an ``isError`` result whose
text tells the model its next step — never a stack trace, SQL or a file path.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from lifecycle.errors import DatasetError, DatasetNotFoundError, LifecycleError, QueryTimeoutError
from lifecycle.store import open_readonly

logger = logging.getLogger(__name__)

DEFAULT_QUERY_TIME_LIMIT_S = 10.0

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
    """What a tool needs from the server: the database it reads and the time limit per query."""

    db_path: Path
    query_time_limit_s: float = DEFAULT_QUERY_TIME_LIMIT_S

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh read-only connection (``open_readonly`` with the time limit), closed after use.

        One connection per call: tools run on worker threads and sqlite3 connections must not be shared.
        """
        try:
            conn = open_readonly(self.db_path, self.query_time_limit_s)
        except sqlite3.DatabaseError as exc:
            raise DatasetError(UNREADABLE_DATASET_MESSAGE) from exc
        try:
            yield conn
        finally:
            conn.close()


class ToolModule(Protocol):
    """The shape of a ``tools/<name>.py`` module listed in ``server.app.TOOL_MODULES``."""

    NAME: str

    def register(self, server: MCPServer, ctx: ToolContext) -> None: ...


def structured_result(output: BaseModel, text: str) -> CallToolResult:
    """A successful result: ``output`` as ``structuredContent`` (matching the tool's outputSchema) plus a short text."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=output.model_dump(mode="json", by_alias=True),
    )


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
    except sqlite3.Error:
        logger.exception("database error in a tool call")
        return error_result(UNREADABLE_DATASET_MESSAGE)


def tool_message(exc: LifecycleError, ctx: ToolContext) -> str:
    """The sentence the model sees for ``exc``: a known next step, with file paths removed."""
    if isinstance(exc, DatasetNotFoundError):
        return NO_DATASET_MESSAGE
    if isinstance(exc, QueryTimeoutError):
        return f"{exc.user_message}. Next step: call the tool again with a narrower date range or filters."
    return scrub_paths(exc.user_message, ctx.db_path)


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\s'\"`,;()]+[\\/])*[^\s'\"`,;():]*")


def scrub_paths(message: str, db_path: Path) -> str:
    """Replace the dataset's path (and any other absolute path) in ``message`` so no file location leaks."""
    for known in (str(db_path), str(db_path.resolve()) if db_path.is_absolute() else None):
        if known:
            message = message.replace(known, "the dataset")
    return _ABSOLUTE_PATH.sub("<path>", message)
