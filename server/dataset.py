"""Which database a command works on: ``--db``, else the default path (building the demo there if missing)."""

from __future__ import annotations

import contextlib
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from lifecycle.errors import DatasetNotFoundError, QueryError
from lifecycle.scope import check_as_of
from lifecycle.store import data_dir, default_db_path

DEMO_DB_NAME = "demo.db"

DB_OPTION_HELP = "SQLite dataset to read. Default: $LIFECYCLE_DB, else the demo database in the data directory."


DbOption = Annotated[Path | None, typer.Option("--db", help=DB_OPTION_HELP, dir_okay=False, resolve_path=True)]
"""The shared ``--db`` option: ``def command(db: DbOption = None)``."""


def resolve_db(db: Path | None, *, must_exist: bool = True, build_demo: bool = True) -> Path:
    """The database to use: ``db`` when given, else ``default_db_path()``.

    When the default is the demo database (``$LIFECYCLE_DB`` unset) and it does not exist yet, it is built
    with ``data.generator.ensure_demo()`` if the demo generator is installed (its output goes to stderr).
    With ``must_exist``, a database that still does not exist raises ``DatasetNotFoundError`` (which names
    the next step: ``lifecycle demo`` or ``lifecycle import``).
    """
    path = db if db is not None else default_db_path()
    if db is None and build_demo and not path.exists() and path == data_dir() / DEMO_DB_NAME:
        path = _build_demo(path)
    if must_exist and not path.exists():
        raise DatasetNotFoundError(str(path))
    return path


def _build_demo(path: Path) -> Path:
    try:
        from data.generator import ensure_demo
    except ModuleNotFoundError as exc:
        if exc.name not in ("data.generator", "data"):
            raise
        return path
    with contextlib.redirect_stdout(sys.stderr):
        return Path(ensure_demo(path))


def parse_as_of(text: str | None, param_hint: str = "--as-of") -> date | None:
    """The ``--as-of`` option as a date (None when not given); a usage error for a non-date or a day out of range."""
    if text is None:
        return None
    try:
        return check_as_of(date.fromisoformat(text))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD", param_hint=param_hint) from None
    except QueryError as exc:
        raise typer.BadParameter(exc.user_message, param_hint=param_hint) from None
