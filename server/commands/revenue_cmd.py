"""`lifecycle revenue`: the monthly MRR bridge — starting MRR, new, expansion, reactivation, contraction, churn,
ending MRR and the customers behind each — as a table, CSV or JSON (``lifecycle.export.series.revenue_bridge``)."""

from __future__ import annotations

from typing import Annotated

import typer

from lifecycle.export.money import currency_of
from lifecycle.export.series import revenue_bridge
from server.commands.root import app
from server.dataset import DEFAULT_ENGINE, EngineOption, SourceOption, engine_name
from server.frames_out import SERIES_FORMATS, print_frame
from server.scope_options import ConfigOption, FilterOptions, filter_values, open_scope


@app.command("revenue")
def revenue_command(
    db: SourceOption = None,
    engine: EngineOption = DEFAULT_ENGINE,
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date (default: the data's last day).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json.")] = "table",
    config_file: ConfigOption = None,
    segment: FilterOptions.SEGMENT = None,
    plan: FilterOptions.PLAN = None,
    channel: FilterOptions.CHANNEL = None,
) -> None:
    """The monthly MRR bridge: starting MRR, new, expansion, reactivation, contraction, churn, ending MRR, customers per movement."""
    if fmt not in SERIES_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(SERIES_FORMATS)}", param_hint="--format")
    with open_scope(db, as_of, config_file, filter_values(segment=segment, plan=plan, channel=channel), engine=engine_name(engine)) as ds:
        frame = revenue_bridge(ds.dataset)
        currency = currency_of(ds.dataset)
        meta = {"as_of": ds.as_of.isoformat(), "currency": currency, "filters": ds.scope.filters.to_dict()}
    print_frame(frame, fmt, meta, title=f"MRR bridge as of {meta['as_of']} ({currency} a month)")
