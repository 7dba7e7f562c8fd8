"""The `lifecycle` command: a thin layer over the library (every command can also be scripted from Python).

Each command lives in its own module under ``server/commands/`` and registers itself on ``app``; a module is
imported only when its command runs, so ``lifecycle --help`` starts without the engine. Errors from
the library (``LifecycleError``) become one ``Error: …`` line on stderr and exit code 1 — never a traceback.
Exit codes: 0 success; 1 a library error or a failed run (``plan`` with a document that failed verification under
``--strict`` or an error); 2 a usage error (unknown option, bad value); 130 interrupted.

Anything else that escapes a command — a damaged SQLite file (the driver's ``DatabaseError``), running out of memory, a
bug — is still one ``Error:`` line and exit 1, never a traceback; ``LIFECYCLE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

import typer

from lifecycle.errors import LifecycleError

# One module per command (server/commands/<name>_cmd.py), imported when its command runs (server.commands.root).
from server.commands import root
from server.commands.root import app
from server.startup import freeze_at_exit, pause_collector, resume_collector

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: run the app, turning library errors into one clear line and exit 1.

    The command's code loads with the cyclic garbage collector paused (``server.startup``: the root group resumes it
    once the command's module is loaded; here it is resumed in any case when the app returns or fails)."""
    collecting = pause_collector()
    freeze_at_exit()  # the interpreter's last collection at exit skips what the command leaves alive
    try:
        # Outside standalone mode click *returns* the code of a ``typer.Exit`` raised by a command (plan --strict's 1)
        # instead of exiting with it: pass it on, or every such failure would exit 0.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except LifecycleError as exc:
        # escape: messages quote TOML such as [values.status], which rich would otherwise eat as markup
        root.err_console.print(f"[bold red]Error:[/] {_escape(exc.user_message)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        root.err_console.print("Aborted.")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            root.err_console.print(f"Error: {exc}")
        sys.exit(getattr(exc, "exit_code", 2))
    except Exception as exc:  # the last resort: one line, never a traceback (unless asked for)
        if os.environ.get(DEBUG_ENV):
            raise
        root.err_console.print(f"[bold red]Error:[/] {_escape(unexpected_error_message(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    finally:
        resume_collector(collecting)


DEBUG_ENV = "LIFECYCLE_DEBUG"


def _escape(text: str) -> str:
    """rich's markup escape, imported when an error is written (a command that fails on nothing never loads rich)."""
    from rich.markup import escape

    return escape(text)


def unexpected_error_message(exc: BaseException) -> str:
    """One line for an exception no command turned into a ``LifecycleError``: what happened and what to do."""
    detail = (str(exc).strip().splitlines() or [""])[0][:300]
    from lifecycle.store import DRIVER_DATABASE_ERROR  # the engine owns the driver (tests/test_architecture.py)

    if isinstance(exc, DRIVER_DATABASE_ERROR):
        return (f"the database could not be read ({detail}): the file is damaged or not a Lifecycle MCP database; "
                "restore it from a backup, or import your exports into a new database file with --db")
    if isinstance(exc, MemoryError):
        return ("ran out of memory: the data is too large for this machine's memory; import smaller files or lower the "
                "read limits (lifecycle import --max-bytes)")
    shown = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"unexpected internal error ({shown}); please report it with the command you ran ({DEBUG_ENV}=1 shows the traceback)"


if __name__ == "__main__":
    main()
