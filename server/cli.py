"""The `lifecycle` command: a thin layer over the library (every command can also be scripted from Python).

Each command lives in its own module under ``server/commands/`` and registers itself on ``app``. Errors from
the library (``LifecycleError``) become one ``Error: …`` line on stderr and exit code 1 — never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from lifecycle.errors import LifecycleError

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


def _register_commands() -> None:
    # Imported for their side effect of adding commands to `app`; one module per command.
    from server.commands import schema_cmd  # noqa: F401

    for name in ("import_cmd", "demo_cmd", "doctor_cmd", "serve_cmd", "metrics_cmd", "config_cmd", "plan_cmd", "bench_cmd"):
        try:
            __import__(f"server.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"server.commands.{name}":
                raise


def main() -> None:
    """Console-script entry point: run the app, turning library errors into one clear line and exit 1."""
    _register_commands()
    try:
        app(standalone_mode=False)
    except LifecycleError as exc:
        # escape: messages quote TOML such as [values.status], which rich would otherwise eat as markup
        err_console.print(f"[bold red]Error:[/] {escape(exc.user_message)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("Aborted.")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err_console.print(f"Error: {exc}")
        sys.exit(getattr(exc, "exit_code", 2))


if __name__ == "__main__":
    # `python -m server.cli` runs this file as __main__; the command modules register on the importable
    # `server.cli.app`, so run that module's main rather than this copy's.
    from server.cli import main as _main

    _main()
