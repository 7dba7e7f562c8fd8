"""`lifecycle doctor`: what the dataset holds, what it can compute, and what looks wrong (``lifecycle.doctor``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lifecycle.config import load_config
from lifecycle.doctor import DatasetReport
from lifecycle.readiness import EngineReadiness, engine_readiness
from lifecycle.sources import open_source
from server.commands.root import app
from server.dataset import DbOption, parse_as_of, resolve_db

QUERY_TIME_LIMIT_S = 120.0


@app.command("doctor")
def doctor_command(
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day the data should describe (YYYY-MM-DD); later dates are flagged. Default: the latest date in the data.", metavar="DATE")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config_file: Annotated[Path | None, typer.Option("--config", help="Engine configuration TOML: also compute every metric "
                                                     "with it (computable or not, and why) and propose activation events.",
                                                     metavar="FILE")] = None,
    metrics: Annotated[bool, typer.Option("--metrics", help="Compute every metric with the default configuration (as "
                                          "--config does with yours) and propose activation events.")] = False,
) -> None:
    """Check the dataset: tables, date coverage, computable metrics and data-quality warnings."""
    day = parse_as_of(as_of)
    source = open_source(resolve_db(db), time_limit_s=QUERY_TIME_LIMIT_S)
    config = load_config(config_file) if config_file is not None or metrics else None
    report = source.diagnose(day)
    engine = (engine_readiness(source.with_time_limit(None), day or source.data_range().last, config,
                               str(config_file) if config_file else "the default configuration")
              if config is not None else None)
    if as_json:
        data = report.to_dict()
        if engine is not None:
            data["engine"] = engine.to_dict()
        typer.echo(json.dumps(data, indent=2))
    else:
        print_report(report, Console(), engine)


def print_report(report: DatasetReport, console: Console, engine: EngineReadiness | None = None) -> None:
    """Render the report as rich tables (tables, metric groups, warnings; with ``engine``: every metric with its
    reason, small samples, and candidate activation events with a config snippet) plus notes."""
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
    elif engine is not None and engine.small_samples:
        console.print("Data quality: no data problems found, but some headlines rest on small samples (below).")
    else:
        console.print("Data quality: no problems found.")
    if engine is not None:
        print_engine(engine, console)
    as_of = _day(report.as_of) + (" (inferred from the data)" if report.as_of_inferred else "")
    console.print(f"As of: {as_of}")
    for note in report.notes:
        console.print(f"Note: {escape(note)}", highlight=False)


def print_engine(engine: EngineReadiness, console: Console) -> None:
    """Every metric computable or not (with the reason), headlines on small samples, activation candidates."""
    table = Table(title=f"Metrics with {engine.config_name} (stage model {engine.stage_model}, health profile {engine.health_profile})",
                  title_justify="left")
    for heading in ("metric", "computable", "value", "n", "why / caveat"):
        table.add_column(heading, overflow="fold")
    for row in engine.metrics:
        table.add_row(row.metric_id, "[green]yes[/]" if row.computable else "[dim]no[/]", escape(row.display),
                      str(row.sample_size), escape(row.reason or ""))
    console.print(table)
    if engine.small_samples:
        console.print("Small samples (read as indicative, not as a trend):", highlight=False)
        for line in engine.small_samples:
            console.print(f"  - {escape(line)}", highlight=False)
    candidates = engine.candidates
    title = (f"Candidate activation events: done in the first {candidates.early_days} days after signup, lift in the share "
             f"active in days {candidates.early_days + 1}–{candidates.early_days + candidates.horizon_days} "
             f"({candidates.cohort:,} customers old enough to judge, {candidates.retained:,} active then)")
    if not candidates.candidates:
        console.print(f"{title}: none — {escape(candidates.note or '')}", highlight=False)
        return
    found = Table(title=title, title_justify="left")
    for heading, justify in (("event", "left"), ("did it", "right"), ("active after, did", "right"),
                             ("active after, did not", "right"), ("lift [95% CI]", "right")):
        found.add_column(heading, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for c in candidates.candidates:
        found.add_row(escape(c.event_name), f"{c.did:,}", f"{c.rate_did:.0%}", f"{c.rate_did_not:.0%}",
                      f"{c.lift:.2f} [{c.lift_low:.2f}–{c.lift_high:.2f}]")
    console.print(found)
    snippet = candidates.snippet()
    if snippet:
        console.print("Suggested configuration (an association, not a cause: check each event is a real product moment):",
                      highlight=False)
        console.print(escape(snippet), highlight=False, soft_wrap=True)
    else:
        console.print("No event's lift interval lies above 1: no activation event to propose yet.", highlight=False)


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"
