"""Which database a command works on: ``--db``, else the default path (building the demo there if missing)."""

from __future__ import annotations

import contextlib
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lifecycle.errors import DatasetNotFoundError, QueryError
from lifecycle.scope import check_as_of
from lifecycle.store import data_dir, default_db_path, schema_is_outdated

DEMO_DB_NAME = "demo.db"

DB_OPTION_HELP = "SQLite dataset to read. Default: $LIFECYCLE_DB, else the demo database in the data directory."


DbOption = Annotated[Path | None, typer.Option("--db", help=DB_OPTION_HELP, dir_okay=False, resolve_path=True)]
"""The shared ``--db`` option: ``def command(db: DbOption = None)``."""

SOURCE_OPTION_HELP = (DB_OPTION_HELP + " With --engine duckdb or spark it may also be a folder of Parquet tables "
                      "(<table>.parquet or <table>/ part files).")

SourceOption = Annotated[Path | None, typer.Option("--db", help=SOURCE_OPTION_HELP, resolve_path=True)]
"""``--db`` on the commands that take ``--engine``: the SQLite file, or a Parquet folder for DuckDB and Spark."""


class Engine(str, Enum):
    """The engines ``--engine`` offers (``lifecycle.sources.ENGINES``; a test holds the two lists together)."""

    SQLITE = "sqlite"
    DUCKDB = "duckdb"
    SPARK = "spark"


DEFAULT_ENGINE: Engine | None = None
"""No ``--engine`` and no ``$LIFECYCLE_ENGINE``: the configuration's ``[source] engine`` decides (default sqlite)."""

ENGINE_OPTION_HELP = ("Engine that runs the queries: sqlite (embedded default), duckdb (the SQLite file or a Parquet "
                      "folder), spark (pyspark; Parquet, exported from the SQLite file on first use). Default: "
                      "$LIFECYCLE_ENGINE, else engine under [source] in --config, else sqlite. Every engine gives the "
                      "same answers (docs/scale.md).")

EngineOption = Annotated[Engine | None, typer.Option("--engine", envvar="LIFECYCLE_ENGINE", case_sensitive=False,
                                              help=ENGINE_OPTION_HELP)]
"""The shared ``--engine`` option: ``def command(engine: EngineOption = DEFAULT_ENGINE)``; ``$LIFECYCLE_ENGINE``
sets it for every command; ``engine_name(engine)`` is what to hand to ``open_configured`` / ``open_scope``."""


def engine_name(engine: Engine | None) -> str | None:
    """The engine the command line (``--engine`` or ``$LIFECYCLE_ENGINE``) names, None when neither does."""
    return engine.value if engine is not None else None


def resolve_db(db: Path | None, *, must_exist: bool = True, build_demo: bool = True) -> Path:
    """The database to use: ``db`` when given, else ``default_db_path()``.

    When the default is the demo database (``$LIFECYCLE_DB`` unset) and it does not exist yet (or was written by an
    older schema), it is built
    with ``data.generator.ensure_demo()`` if the demo generator is installed (its output goes to stderr).
    With ``must_exist``, a database that still does not exist raises ``DatasetNotFoundError`` (which names
    the next step: ``lifecycle demo`` or ``lifecycle import``).
    """
    path = db if db is not None else default_db_path()
    if db is None and build_demo and path == data_dir() / DEMO_DB_NAME and (not path.exists() or schema_is_outdated(path)):
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
