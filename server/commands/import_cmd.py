"""`lifecycle import TABLE FILE`: load an export into a canonical table, all or nothing (see docs/importing.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lifecycle.config import load_config
from lifecycle.errors import ImportFileError
from lifecycle.importing import ImportOptions, ImportReport, import_file, preset_names
from lifecycle.importing.limits import ReadLimits, parse_size
from lifecycle.write_lock import DEFAULT_WAIT_S
from server.commands.root import app, err_console


@app.command("import")
def import_command(
    table: str = typer.Argument(..., help="Canonical table to import into (see `lifecycle schema`)."),
    file: Path = typer.Argument(..., help="Export file: .csv, .tsv, .json (array of objects), .jsonl, .parquet (optionally .gz)."),
    mapping: Path | None = typer.Option(None, "--map", help="TOML mapping from your column names to canonical ones."),
    preset: str | None = typer.Option(None, "--preset", help="Built-in mapping for a known export: " + ", ".join(preset_names()) + "."),
    db: Path | None = typer.Option(None, "--db", help="Database file (default: $LIFECYCLE_DB, else the data directory's demo.db)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of the file (default UTF-8; e.g. latin-1, cp1252, utf-16)."),
    dayfirst: bool = typer.Option(False, "--dayfirst", help="Read ambiguous slash dates as day/month/year (31/01/2024)."),
    monthfirst: bool = typer.Option(False, "--monthfirst", help="Read ambiguous slash dates as month/day/year (01/31/2024)."),
    decimal: str | None = typer.Option(None, "--decimal", help="Decimal separator of amounts and numbers: '.' or ','."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the valid rows; write the rejected ones with reasons to a CSV."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Where --skip-invalid writes rejected rows (default FILE.rejects.csv)."),
    fmt: str | None = typer.Option(None, "--format", help="csv | tsv | json | jsonl | parquet (default: from the extension; .txt is delimited text)."),
    delimiter: str | None = typer.Option(None, "--delimiter", help="Delimiter of a CSV/text file: , ; | tab whitespace (default: sniffed from the first lines)."),
    currency: str | None = typer.Option(None, "--currency", help="ISO 4217 code of the file's money (e.g. EUR); recorded as the dataset currency."),
    rates: Path | None = typer.Option(None, "--rates", help="Rate table (TOML: base = \"USD\", [rates] EUR = 1.08) converting other currencies."),
    replace: bool = typer.Option(False, "--replace", help="Full refresh: also delete the table's rows the file no longer holds (with --source: only that source's rows)."),
    source: str | None = typer.Option(None, "--source", help="Label of the system the rows come from (default: the file name); --replace then refreshes only its rows."),
    derive_customers: bool = typer.Option(False, "--derive-customers", help="Create the customers this table names but `customers` lacks (signup = their first row's day)."),
    wait: float = typer.Option(DEFAULT_WAIT_S, "--wait", min=0, help="Seconds to wait while another import writes to the same database (0: fail at once)."),
    config_file: Path | None = typer.Option(None, "--config", help="Configuration TOML; its [import] table sets the read limits below."),
    max_bytes: str | None = typer.Option(None, "--max-bytes", help="Largest file to read (default 1G; e.g. 4G, 500M)."),
    max_decompressed: str | None = typer.Option(None, "--max-decompressed", help="Largest decompressed size of a .gz file or Parquet data (default 1G)."),
    max_columns: int | None = typer.Option(None, "--max-columns", min=1, help="Most columns in the file (default 500)."),
    max_depth: int | None = typer.Option(None, "--max-depth", min=1, help="Deepest JSON nesting (default 32)."),
    max_field: int | None = typer.Option(None, "--max-field", min=1, help="Longest field, in characters (default 1048576)."),
) -> None:
    """Import an export file into one canonical table: all rows or none (the database is unchanged on error)."""
    if dayfirst and monthfirst:
        raise ImportFileError(str(file), "--dayfirst and --monthfirst contradict each other: pass one")
    if decimal not in (None, ".", ","):
        raise ImportFileError(str(file), f"--decimal must be '.' or ',', not {decimal!r}")
    if rejects is not None and not skip_invalid:
        raise ImportFileError(str(file), "--rejects only applies with --skip-invalid")
    options = ImportOptions(
        format=fmt, encoding=encoding, dayfirst=True if dayfirst else (False if monthfirst else None), decimal=decimal,
        mapping=mapping, preset=preset, skip_invalid=skip_invalid, rejects=rejects, wait_s=wait, on_wait=_say_waiting,
        delimiter=delimiter, currency=currency, rates=rates, replace=replace, source=source, derive_customers=derive_customers,
        limits=_limits(config_file, max_bytes, max_decompressed, max_columns, max_depth, max_field),
    )
    report = import_file(table, file, db, options)
    _print_summary(report)


def _limits(config_file: Path | None, max_bytes: str | None, max_decompressed: str | None, max_columns: int | None,
            max_depth: int | None, max_field: int | None) -> ReadLimits:
    """The config file's [import] limits (defaults without one), with the command-line options on top."""
    limits = load_config(config_file).import_limits
    given = {"max_bytes": _size(max_bytes, "--max-bytes"), "max_decompressed_bytes": _size(max_decompressed, "--max-decompressed"),
             "max_columns": max_columns, "max_depth": max_depth, "max_field_chars": max_field}
    return replace(limits, **{k: v for k, v in given.items() if v is not None})


def _size(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        size = parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    if size < 1:
        raise typer.BadParameter("must be at least 1 byte", param_hint=option)
    return size


def _say_waiting(holder: str) -> None:
    err_console.print(f"Waiting for another import into this database to finish: {escape(holder)}", highlight=False, soft_wrap=True)


def _print_summary(report: ImportReport) -> None:
    console = Console()
    console.print(f"[bold]Imported {escape(report.source)} into {report.table}[/]", highlight=False)
    grid = Table(show_header=False)
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_row("rows read", f"{report.rows_read:,}")
    if report.filtered:
        grid.add_row("left out by \\[where]", f"{report.filtered:,}")
    if report.merged:
        grid.add_row("line items merged", f"{report.merged:,}")
    grid.add_row("inserted", f"{report.inserted:,}")
    grid.add_row("updated", f"{report.updated:,}")
    grid.add_row("unchanged", f"{report.unchanged:,}")
    if report.collapsed:
        grid.add_row("identical duplicates collapsed", f"{report.collapsed:,}")
    grid.add_row("rejected", f"{report.rejected:,}")
    if report.removed:
        grid.add_row("removed (no longer in the source)", f"{report.removed:,}")
    if report.customers_created or report.customers_moved:
        grid.add_row("customers derived", f"{report.customers_created:,}")
    grid.add_row("time", f"{report.seconds:.2f} s")
    grid.add_row("rate", f"{report.rows_per_second:,.0f} rows/s")
    console.print(grid)
    if report.derived_keys:
        console.print(f"Keys: the file has no {report.table} key column, so each row's key was derived from its content.")
    if report.currency:
        converted = f" ({', '.join(report.converted)} converted at the rate table's rates)" if report.converted else ""
        console.print(f"Currency: {report.currency}{converted}", highlight=False)
    if report.auto_matched:
        console.print("Matched by name: " + ", ".join(report.auto_matched))
    if report.extra_columns:
        kept = ", ".join(f"{e.column} ({e.kind.value}, from {e.source_name!r})" for e in report.extra_columns)
        console.print("Extra columns kept: " + escape(kept), highlight=False)
    console.print(f"Database: {escape(str(report.db_path))}", highlight=False)
    if report.rejects_path is not None:
        err_console.print(f"[yellow]{report.rejected:,} rejected row(s) written to {escape(str(report.rejects_path))}[/]", highlight=False)
