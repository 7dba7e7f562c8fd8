"""The root `lifecycle` typer app every command module registers on, and the console errors are written to.

It lives apart from ``server.cli`` (which imports the command modules and runs the app) so that the command
modules depend on it and ``server.cli`` depends on them — one direction, no circle.
"""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="lifecycle",
    help="Lifecycle MCP: map your customer lifecycle with computed, verifiable numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Lifecycle MCP: map your customer lifecycle with computed, verifiable numbers."""
