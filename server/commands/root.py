"""The root `lifecycle` typer app every command module registers on, and the console errors are written to.

It lives apart from ``server.cli`` (which runs the app) so that the command modules depend on it and nothing
here depends on them — one direction, no circle.

Commands load on first use. ``COMMANDS`` names each command, the module that defines it and the one line
``lifecycle --help`` lists; the root group (``LazyCommandGroup``) imports a command's module only when that
command runs (or its own ``--help`` is asked for). So ``lifecycle --help`` imports typer and rich, not pandas,
the MCP SDK, matplotlib or scipy, and ``lifecycle serve`` never imports the plan pipeline. Each module still
imports what it needs at its top; ``tests/server/test_cli_start.py`` checks the table against the modules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info

from server.startup import end_start_up

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class CommandEntry:
    """One `lifecycle` command: its name, the module registering it on ``app``, the line the root help lists."""

    name: str
    module: str
    summary: str


COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("clv", "server.commands.clv_cmd",
                 "CLV: model fit (parameters, log-likelihood, convergence), the calibration/holdout check, summary, and per-customer predictions."),
    CommandEntry("config", "server.commands.config_cmd",
                 "Print the configuration reference: every setting with its default and meaning."),
    CommandEntry("customers", "server.commands.customers_cmd",
                 "One row per customer: stage (+ rule), health, band, components, risk, reasons, suggested play, MRR, P(alive), expected CLV, RFM segment."),
    CommandEntry("demo", "server.commands.demo_cmd",
                 "Build the Helloword demo dataset (2,000 customers, 24 months) if missing, and print what it holds."),
    CommandEntry("doctor", "server.commands.doctor_cmd",
                 "Check the dataset: tables, date coverage, computable metrics and data-quality warnings."),
    CommandEntry("import", "server.commands.import_cmd",
                 "Import an export file into one canonical table: all rows or none (the database is unchanged on error)."),
    CommandEntry("metrics", "server.commands.metrics_cmd",
                 "Compute every metric in the catalogue for a scope (or print the definitions)."),
    CommandEntry("migrate", "server.commands.migrate_cmd",
                 "Upgrade a database written by an older version to the current schema, in place and atomically."),
    CommandEntry("plan", "server.commands.plan_cmd",
                 "Write lifecycle strategy documents grounded in computed facts (offline without an API key)."),
    CommandEntry("revenue", "server.commands.revenue_cmd",
                 "The monthly MRR bridge: starting MRR, new, expansion, reactivation, contraction, churn, ending MRR, customers per movement."),
    CommandEntry("schema", "server.commands.schema_cmd",
                 "Print the canonical data model (tables, columns, kinds, meanings)."),
    CommandEntry("serve", "server.commands.serve_cmd",
                 "Run the Lifecycle MCP server (read-only tools over the dataset) for an MCP client."),
)
"""Every command, in the order ``lifecycle --help`` lists them."""

_ENTRIES = {entry.name: entry for entry in COMMANDS}


class LazyCommandGroup(TyperGroup):
    """The root group: lists every command of ``COMMANDS`` and imports a command's module when it is resolved.

    Listing (``lifecycle --help``) uses a stand-in carrying the summary; running or asking a command's own help
    goes through ``resolve_command``, which imports the module and builds the real command from what it
    registered on ``app``.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [entry.name for entry in COMMANDS] + [name for name in self.commands if name not in _ENTRIES]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in _ENTRIES:
            return self.commands.get(cmd_name)
        entry = _ENTRIES[cmd_name]
        return typer.core.TyperCommand(name=entry.name, short_help=entry.summary, help=entry.summary)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in _ENTRIES and args[0] not in self.commands:
            self.commands[args[0]] = load_command(args[0])
            end_start_up()  # the command's code is loaded: the collector resumes before it computes (server.startup)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="lifecycle",
    cls=LazyCommandGroup,
    help="Lifecycle MCP: map your customer lifecycle with computed, verifiable numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def __getattr__(name: str) -> Console:
    """``err_console``: rich's console on stderr, created (and rich imported, ~15 ms) on first use — a command that
    writes nothing to it, such as ``lifecycle metrics --json``, never loads rich."""
    if name != "err_console":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    console = globals()["err_console"] = Console(stderr=True)
    return console


@app.callback()
def _root() -> None:
    """Lifecycle MCP: map your customer lifecycle with computed, verifiable numbers."""


def load_command(name: str) -> Any:
    """The click command ``name`` (a ``COMMANDS`` entry): its module imported, the command it registered on ``app``
    built as typer would, with the summary from ``COMMANDS`` as its short help."""
    entry = _ENTRIES[name]
    importlib.import_module(entry.module)
    info = next(info for info in app.registered_commands if info.name == name)
    command = get_command_from_info(info, pretty_exceptions_short=app.pretty_exceptions_short,
                                    rich_markup_mode=app.rich_markup_mode)
    command.short_help = entry.summary
    return command
