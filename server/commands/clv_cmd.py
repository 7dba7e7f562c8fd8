"""`lifecycle clv`: the CLV fit report, the calibration/holdout check, the summary, and per-customer predictions.

Without ``--format`` it prints the report (fit, why this model, the check by calibration frequency, spend model,
summary, the top customers); ``--json`` prints it as one JSON document (``lifecycle.export.clv.ClvReport``);
``--format csv|jsonl|parquet|table`` writes every customer's prediction (ranked by expected CLV) to ``--out`` or
standard output, streamed in slices, with a one-line summary on standard error.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lifecycle.export import FORMATS, write_chunks
from lifecycle.export.clv import MODELS, ClvReport, clv_report
from lifecycle.export.money import currency_of
from server.commands.root import app, err_console
from server.dataset import DEFAULT_ENGINE, EngineOption, SourceOption, engine_name, parse_as_of
from server.frames_out import destination
from server.scope_options import ConfigOption, FilterOptions, filter_values, open_scope

TOP = 10
TOP_COLUMNS = ("frequency", "p_alive", "expected_purchases", "clv", "rfm_segment",
               "renewals", "mrr", "p_renew", "residual_value")
"""The prediction columns the printed report shows for the top customers (every column: ``--format``)."""


@app.command("clv")
def clv_command(
    db: SourceOption = None,
    engine: EngineOption = DEFAULT_ENGINE,
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date (default: the data's last day).")] = None,
    model: Annotated[str, typer.Option("--model", help="auto (orders: the model the holdout check picks; else sbg) | bg_nbd | mbg_nbd | pareto_nbd | sbg.")] = "auto",
    horizon: Annotated[int, typer.Option("--horizon", help="Months of future value (1–120).", min=1, max=120)] = 12,
    discount: Annotated[float, typer.Option("--discount", help="Annual discount rate (0.1 = 10 % a year).")] = 0.1,
    calibration_end: Annotated[str | None, typer.Option("--calibration-end", help="Holdout check: the calibration period ends on this day (default: the first two thirds of the history).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Write every customer's prediction: csv | jsonl | parquet | table.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="File for --format (default: standard output; parquet needs a file).", dir_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report (fits, check, summary) as JSON.")] = False,
    config_file: ConfigOption = None,
    segment: FilterOptions.SEGMENT = None,
    plan: FilterOptions.PLAN = None,
    channel: FilterOptions.CHANNEL = None,
) -> None:
    """CLV: model fit (parameters, log-likelihood, convergence), the calibration/holdout check, summary, and per-customer predictions."""
    if model not in MODELS:
        raise typer.BadParameter(f"choose one of {', '.join(MODELS)}", param_hint="--model")
    if fmt is not None and fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if fmt == "parquet" and out is None:
        raise typer.BadParameter("parquet is binary: pass --out FILE", param_hint="--format")
    if as_json and fmt is not None:
        raise typer.BadParameter("--json prints the report; --format writes the predictions: pass one", param_hint="--json")
    if not -1 < discount <= 1:
        raise typer.BadParameter("must be within (-1, 1] (0.1 = 10 % a year)", param_hint="--discount")
    calibration: date | None = parse_as_of(calibration_end, "--calibration-end")
    with open_scope(db, as_of, config_file, filter_values(segment=segment, plan=plan, channel=channel), engine=engine_name(engine)) as ds:
        report = clv_report(ds.dataset, model, horizon, discount, calibration, currency_of(ds.dataset))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    elif fmt is not None:
        predictions = report.predictions.reset_index()
        with destination(out) as stream:
            rows = write_chunks((predictions.iloc[i:i + 10_000] for i in range(0, len(predictions), 10_000)), fmt, stream)
        err_console.print(f"{report.model}: {rows:,} customers as of {report.as_of.isoformat()}"
                          + (f" written to {escape(str(out))}" if out else ""), highlight=False, soft_wrap=True)
    else:
        print_report(report, Console())


def _number(value: float | None) -> str:
    """A value for reading: thousands separators from 100 up, 2 decimals from 1, else 4 (never scientific)."""
    if value is None or pd.isna(value):
        return ""
    size = abs(float(value))
    return f"{value:,.0f}" if size >= 100 else f"{value:.2f}" if size >= 1 else f"{value:.4f}"


def _parameter(value: float) -> str:
    return f"{value:.4g}"


def _money(value: float | None, currency: str) -> str:
    return "" if value is None or pd.isna(value) else f"{value:,.2f} {currency}"


def print_report(report: ClvReport, console: Console) -> None:
    """The report as text and tables (module docstring)."""
    fit = report.fit
    console.print(f"[bold]CLV as of {report.as_of.isoformat()}[/] — {report.horizon_months} months at "
                  f"{report.discount_rate_annual:.0%} a year, money in {report.currency}", highlight=False)
    params = ", ".join(f"{k} = {_parameter(v)}" for k, v in fit.params.items())
    console.print(f"Model {fit.model}: {params}; log-likelihood {fit.log_likelihood:,.2f} on {fit.n:,} customers; "
                  f"{'converged' if fit.converged else 'NOT converged'}" + ("; penalised (MAP)" if fit.penalized else ""),
                  highlight=False, soft_wrap=True)
    for text in filter(None, (fit.note, report.model_choice, report.spend_note, report.check_note, *report.warnings)):
        console.print(escape(text), highlight=False, soft_wrap=True)
    if report.spend is not None:
        spend = ", ".join(f"{k} = {_parameter(v)}" for k, v in report.spend.params.items())
        console.print(f"Spend model {report.spend.model}: {spend} on {report.spend.n:,} repeat buyers", highlight=False)
    if report.check is not None:
        check = report.check
        table = Table(title=f"Holdout check: calibration {check.first_purchase} … {check.calibration_end}, holdout to "
                            f"{check.holdout_end} ({check.holdout_length:.1f} {check.time_unit}); mean purchases per customer",
                      title_justify="left")
        names = [m.model for m in check.models]
        for heading in ("calibration frequency", "customers", "actual", *names):
            table.add_column(heading, justify="right")
        for group in check.groups:
            table.add_row(group.label, f"{group.customers:,}", _number(group.actual),
                          *[_number(group.predicted.get(name)) for name in names])
        table.add_row("frequency-group error", "", "", *[_pct(m.group_error) for m in check.models], style="bold")
        table.add_row("total error", "", f"{check.actual_total:,}", *[_pct(m.total_error) for m in check.models])
        console.print(table)
    summary = Table(title="Summary", title_justify="left", show_header=False)
    for key, value in report.summary.items():
        if key in ("segments", "survival"):
            continue
        summary.add_row(key.replace("_", " "), _summary_value(key, value, report.currency))
    console.print(summary)
    shown = [c for c in TOP_COLUMNS if c in report.predictions.columns] or list(report.predictions.columns)
    top = report.predictions.head(TOP)[shown]
    listing = Table(title=f"Top {len(top)} of {len(report.predictions):,} by value (all of them: --format csv)",
                    title_justify="left")
    listing.add_column("customer_id", overflow="fold")
    for column in top.columns:
        listing.add_column(column, justify="right", overflow="fold")
    for customer_id, row in top.iterrows():
        listing.add_row(escape(str(customer_id)), *[_number(v) if isinstance(v, float) else escape(str(v)) for v in row])
    console.print(listing)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.1%}"


def _summary_value(key: str, value: object, currency: str) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_number(v) if isinstance(v, float) else v}" for k, v in value.items())
    if isinstance(value, float):
        return _money(value, currency) if ("clv" in key or "mrr" in key or "value" in key) else _number(value)
    return str(value)
