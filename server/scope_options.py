"""The scope options the per-customer and series commands share: ``--as-of``, ``--config`` and the filters.

Filters are repeatable (``--plan Pro --plan Team`` selects either). ``open_scope`` is the one place these commands
open the data (``lifecycle.open``: the data-source seam and ``Scope.resolve``), so an engine option reaches them all.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

import lifecycle
from lifecycle.scope import DEFAULT_PERIOD_MONTHS
from server.dataset import parse_as_of, resolve_db

ConfigOption = Annotated[Path | None, typer.Option("--config", help="Engine configuration TOML (as for `lifecycle plan`).", dir_okay=False)]


class FilterOptions:
    """``Annotated`` types of the filter options (repeatable; any of the given values)."""

    SEGMENT = Annotated[list[str] | None, typer.Option("--segment", help="Only these segments (repeatable).")]
    PLAN = Annotated[list[str] | None, typer.Option("--plan", help="Only these plans: the subscription's plan where subscriptions exist, else the customer's (repeatable).")]
    CHANNEL = Annotated[list[str] | None, typer.Option("--channel", help="Only these acquisition channels (repeatable).")]


def filter_values(**given: list[str] | None) -> dict[str, list[str]]:
    """The filters a user gave, by dimension name (``lifecycle.open``'s keyword arguments)."""
    return {name: list(values) for name, values in given.items() if values}


def scope_as_of(text: str | None) -> date | None:
    """``--as-of`` as a date (None: the data's last day); a usage error for a non-date."""
    return parse_as_of(text)


def open_scope(db: Path | None, as_of: str | None, config: Path | None, filters: dict[str, list[str]],
               engine: str | None = None) -> lifecycle.Lifecycle:
    """The dataset ``--db`` (default: $LIFECYCLE_DB, else the demo) at ``--as-of`` for ``filters``, read by
    ``engine`` (None: the configuration's ``[source] engine``) — ``lifecycle.open`` with the CLI's defaults
    (``QueryError`` for a day outside the data)."""
    return lifecycle.open(resolve_db(db), scope_as_of(as_of), config, period_months=DEFAULT_PERIOD_MONTHS,
                          engine=engine, **filters)
