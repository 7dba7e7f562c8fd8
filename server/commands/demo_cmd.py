"""`lifecycle demo`: build (or show) the Helloword demo dataset (``data.generator``), or with ``--shop`` the order-based
shop demo (``data.shop``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from data import shop
from data.export import export_csv
from data.generator import DATASET_NAME, DemoSummary, build_demo, read_summary
from lifecycle.errors import DatasetError
from lifecycle.store import META_TABLE, default_db_path, open_readonly
from server.commands.root import app, err_console


@app.command("demo")
def demo_command(
    db: Annotated[Path | None, typer.Option("--db", help="Where the demo database lives. Default: $LIFECYCLE_DB, else demo.db in the data directory.", dir_okay=False, resolve_path=True)] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild the demo even if it already exists (the build is deterministic: same bytes every time).")] = False,
    csv_dir: Annotated[Path | None, typer.Option("--csv-dir", help="Also write every table as <table>.csv into this directory (input for `lifecycle import`).", file_okay=False, resolve_path=True)] = None,
    shop_demo: Annotated[bool, typer.Option("--shop", help="The order-based shop demo instead (3,000 customers, orders from known BG/NBD and Gamma-Gamma parameters); default path shop.db in the data directory.")] = False,
) -> None:
    """Build the Helloword demo dataset (2,000 customers, 24 months) if missing, and print what it holds."""
    title, dataset, build = (("Shop", shop.DATASET_NAME, shop.build_shop) if shop_demo
                             else ("Helloword", DATASET_NAME, build_demo))
    target = db if db is not None else (shop.default_shop_path() if shop_demo else default_db_path())
    if target.exists() and force:
        _refuse_to_overwrite_other_data(target, dataset)
    if force or not target.exists():
        err_console.print(f"Building the {title} demo dataset into {escape(str(target))} …", highlight=False)
        summary = build(target)
    else:
        summary = read_summary(target)
    console = Console()
    print_summary(summary, console, title=f"{title} demo dataset")
    if csv_dir is not None:
        written = export_csv(target, csv_dir)
        console.print(f"Wrote {len(written)} CSV files to {escape(str(csv_dir))}: "
                      + ", ".join(p.name for p in written.values()), highlight=False, soft_wrap=True)


def _refuse_to_overwrite_other_data(target: Path, dataset: str = DATASET_NAME) -> None:
    """--force replaces only the same demo's database, never a dataset someone imported (or the other demo)."""
    conn = open_readonly(target)
    try:
        row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'dataset'").fetchone()
    finally:
        conn.close()
    if row is None or row[0] != dataset:
        labels = {DATASET_NAME: "the Helloword demo", shop.DATASET_NAME: "the shop demo"}
        what = labels.get(row[0], "imported data") if row is not None else "imported data"
        raise DatasetError(f"{target} holds {what}, not {labels[dataset]}; --force would replace it. "
                           "Pass --db with another path to build the demo there")


def print_summary(summary: DemoSummary, console: Console, title: str = "Helloword demo dataset") -> None:
    """Rows and first/last time value per table, then the path, data window and build time."""
    table = Table(title=title, title_justify="left")
    for heading, justify in (("table", "left"), ("rows", "right"), ("first", "left"), ("last", "left")):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for name, count in summary.rows.items():
        first, last = summary.time_ranges.get(name, (None, None))
        table.add_row(name, f"{count:,}", first or "", last or "")
    table.add_row("total", f"{summary.total_rows:,}", "", "", style="bold")
    console.print(table)
    console.print(f"Data window {summary.data_start} … {summary.data_end} (data end {summary.data_end})", highlight=False)
    how = (f"built in {summary.build_seconds:.1f} s" if summary.build_seconds is not None
           else "already present (use --force to rebuild)")
    console.print(f"{escape(str(summary.path))}: {how}", highlight=False, soft_wrap=True)  # paths stay copyable
