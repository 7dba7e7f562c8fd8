"""`lifecycle doctor`: what the dataset holds, what it can compute, and what looks wrong (``lifecycle.doctor``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lifecycle.doctor import DatasetReport, diagnose
from lifecycle.store import open_readonly
from server.commands.root import app
from server.dataset import DbOption, parse_as_of, resolve_db

QUERY_TIME_LIMIT_S = 120.0


@app.command("doctor")
def doctor_command(
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day the data should describe (YYYY-MM-DD); later dates are flagged. Default: the latest date in the data.", metavar="DATE")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the dataset: tables, date coverage, computable metrics and data-quality warnings."""
    day = parse_as_of(as_of)
    path = resolve_db(db)
    conn = open_readonly(path, QUERY_TIME_LIMIT_S)
    try:
        report = diagnose(conn, day)
    finally:
        conn.close()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report, Console())


def print_report(report: DatasetReport, console: Console) -> None:
    """Render the report as three rich tables (tables, metric groups, warnings) plus notes."""
    tables = Table(title="Tables", title_justify="left")
    for heading, justify in (("table", "left"), ("rows", "right"), ("from", "left"), ("to", "left")):
        tables.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for t in report.tables:
        tables.add_row(t.name, f"{t.rows:,}", _day(t.first), _day(t.last))
    console.print(tables)

    groups = Table(title="Metric groups", title_justify="left")
    for heading in ("group", "computable", "needs"):
        groups.add_column(heading)
    for c in report.capabilities:
        groups.add_row(c.label, "[green]yes[/]" if c.computable else "[dim]no[/]", c.needs)
    console.print(groups)

    if report.warnings:
        found = Table(title="Data quality", title_justify="left")
        found.add_column("severity")
        found.add_column("check", no_wrap=True)
        found.add_column("rows", justify="right")
        found.add_column("what")
        found.add_column("e.g.")
        for w in report.warnings:
            colour = "yellow" if w.severity == "warning" else "cyan"
            found.add_row(f"[{colour}]{w.severity}[/]", w.code, f"{w.count:,}", escape(w.message),
                          escape(", ".join(w.examples)))
        console.print(found)
    else:
        console.print("Data quality: no problems found.")
    as_of = _day(report.as_of) + (" (inferred from the data)" if report.as_of_inferred else "")
    console.print(f"As of: {as_of}")
    for note in report.notes:
        console.print(f"Note: {escape(note)}", highlight=False)


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"
