"""`lifecycle customers`: one row per customer — stage, health, risk, value — as CSV, JSON Lines, Parquet or a table.

The rows come from ``lifecycle.export.customer_table`` at the scope's as_of (``lifecycle.open``) and are written in
slices of ``CHUNK_ROWS`` (``lifecycle.export.write_chunks``), to ``--out`` or standard output, so the output never
sits in memory whole. Parquet needs ``--out`` (a binary file, not a terminal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lifecycle.export import FORMATS, customer_table, write_chunks
from server.commands.root import app, err_console
from server.dataset import DEFAULT_ENGINE, EngineOption, SourceOption, engine_name
from server.frames_out import destination
from server.scope_options import ConfigOption, FilterOptions, filter_values, open_scope


@app.command("customers")
def customers_command(
    db: SourceOption = None,
    engine: EngineOption = DEFAULT_ENGINE,
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date (default: the data's last day).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | jsonl | parquet | table.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file (default: standard output; parquet needs a file).", dir_okay=False)] = None,
    columns: Annotated[str | None, typer.Option("--columns", help="Comma-separated columns (default: customer_id, stage, stage_rule, health, band, components, risk, reasons, suggested_play, mrr, p_alive, expected_clv, rfm_segment); any snapshot or x_ column.")] = None,
    extra: Annotated[bool, typer.Option("--extra", help="Append every extra (x_) column of the customers table.")] = False,
    config_file: ConfigOption = None,
    segment: FilterOptions.SEGMENT = None,
    plan: FilterOptions.PLAN = None,
    channel: FilterOptions.CHANNEL = None,
) -> None:
    """One row per customer: stage (+ rule), health, band, components, risk, reasons, suggested play, MRR, P(alive), expected CLV, RFM segment."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if fmt == "parquet" and out is None:
        raise typer.BadParameter("parquet is binary: pass --out FILE", param_hint="--format")
    filters = filter_values(segment=segment, plan=plan, channel=channel)
    with open_scope(db, as_of, config_file, filters, engine=engine_name(engine)) as ds:
        table = customer_table(ds.dataset)
    chosen = table.select(columns.split(",") if columns else None, extra=extra)
    with destination(out) as stream:
        rows = write_chunks(table.chunks(chosen), fmt, stream)
    if out is not None:
        err_console.print(f"{rows:,} customers as of {ds.as_of.isoformat()} written to {out}", highlight=False, soft_wrap=True)
