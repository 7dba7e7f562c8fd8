"""The `lifecycle` command: a thin layer over the library (every command can also be scripted from Python).

Each command lives in its own module under ``server/commands/`` and registers itself on ``app``; a module is
imported only when its command runs, so ``lifecycle --help`` starts without the engine. Errors from
the library (``LifecycleError``) become one ``Error: …`` line on stderr and exit code 1 — never a traceback.
Exit codes: 0 success; 1 a library error or a failed run (``plan`` with a document that failed verification under
``--strict`` or an error); 2 a usage error (unknown option, bad value); 130 interrupted.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from lifecycle.errors import LifecycleError

# One module per command (server/commands/<name>_cmd.py), imported when its command runs (server.commands.root).
from server.commands.root import app, err_console

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: run the app, turning library errors into one clear line and exit 1."""
    try:
        # Outside standalone mode click *returns* the code of a ``typer.Exit`` raised by a command (plan --strict's 1)
        # instead of exiting with it: pass it on, or every such failure would exit 0.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
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
    main()
