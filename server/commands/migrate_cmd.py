"""`lifecycle migrate`: upgrade a database written by an older Lifecycle MCP to the current schema, in place."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from lifecycle.store import Upgrade, upgrade_in_place
from lifecycle.write_lock import DEFAULT_WAIT_S
from server.commands.root import app, err_console
from server.dataset import DbOption, resolve_db


@app.command("migrate")
def migrate_command(
    db: DbOption = None,
    wait: float = typer.Option(DEFAULT_WAIT_S, "--wait", min=0, help="Seconds to wait while an import writes to the same database (0: fail at once)."),
) -> None:
    """Upgrade a database written by an older version to the current schema, in place and atomically.

    The columns newer versions read are added empty (unknown), every row is kept, and on any failure the file is
    left as it was (the same migration and build-and-swap an import runs). A file without a current events rollup
    (imported by an older version, or its events changed by another program) gets it built, which speeds up the
    monthly stage history; one written before an index was added gets it."""
    path: Path = resolve_db(db, build_demo=False)
    done = upgrade_in_place(path, wait, on_wait=_say_waiting)
    if not done.rewritten:
        typer.echo(f"{path} is already at schema version {done.now}: nothing to do")
    elif done.found == done.now:
        typer.echo(f"{path} is at schema version {done.now}: {_what_was_added(done)}")
    else:
        typer.echo(f"{path}: upgraded from schema version {done.found} to {done.now}")


def _what_was_added(done: Upgrade) -> str:
    """The parts a current-schema file lacked and the upgrade built: the events rollup, the extra indexes by name."""
    parts = ["built the events rollup it lacked (lifecycle.events_daily)"] if done.rollup_built else []
    if done.indexes_added:
        parts.append(f"created the {'index' if len(done.indexes_added) == 1 else 'indexes'} it lacked: "
                     + ", ".join(done.indexes_added))
    return "; ".join(parts) or "rewritten"


def _say_waiting(holder: str) -> None:
    err_console.print(f"Waiting for an import into this database to finish: {escape(holder)}", highlight=False, soft_wrap=True)
