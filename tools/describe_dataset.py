"""The ``describe_dataset`` tool: which tables hold data, over which dates, what can be computed, what looks wrong.

The numbers come from ``lifecycle.doctor.diagnose``; this module only shapes them for MCP. The result
carries schema names, counts and dates only — no free text from the data (names, comments) and no
example ids, so nothing a user imported can steer the model.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle.doctor import DatasetReport
from lifecycle.scope import check_as_of
from lifecycle.sources import DataSource
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.runtime import Work, run_tool
from tools.text import data_text, table

NAME = "describe_dataset"
TITLE = "Describe the dataset"
DESCRIPTION = (
    "Each table's rows and date range, which metric groups the data supports (and what the others need), and "
    "data-quality warnings. Call this first."
)


class TableSummary(BaseModel):
    """One canonical table."""

    name: str = Field(description="Canonical table name.")
    rows: int = Field(description="Number of rows (0 when nothing was imported into it).")
    time_column: str | None = Field(description="Column whose dates give the table's date range.")
    first_date: date | None = Field(description="Earliest date in the time column.")
    last_date: date | None = Field(description="Latest date in the time column.")


class MetricGroup(BaseModel):
    """A group of metrics and whether the data supports it."""

    name: str = Field(description="Metric group id, e.g. mrr, nrr, funnel_conversion.")
    label: str = Field(description="Human-readable name.")
    computable: bool = Field(description="True when the tables present hold the data it needs.")
    needs: str = Field(description="The data it needs, e.g. 'subscriptions or orders', 'customers.acquisition_cost'.")


class WarningSummary(BaseModel):
    """A data-quality finding (without example rows; run `lifecycle doctor` to see them)."""

    code: str = Field(description="Check id, e.g. orphan_reference, future_date, negative_amount, duplicate_rows.")
    severity: str = Field(description="'warning' (likely skews metrics) or 'info' (may be fine).")
    table: str
    column: str | None
    count: int = Field(description="Number of offending rows.")
    message: str = Field(description="What the offending rows have in common.")


class DescribeDatasetResult(BaseModel):
    """What the dataset holds and supports."""

    tables: list[TableSummary]
    first_date: date | None
    last_date: date | None
    as_of: date | None
    as_of_inferred: bool = Field(description="as_of defaulted to the latest date.")
    computable: list[str] = Field(description="Computable metric groups.")
    metric_groups: list[MetricGroup]
    warnings_count: int
    info_count: int
    warnings: list[WarningSummary]
    notes: list[str]


def describe_dataset(source: DataSource, as_of: date | None = None) -> DescribeDatasetResult:
    """Describe the data of ``source`` (``DataSource.diagnose``, see ``lifecycle.doctor``) as the tool's output model.

    ``as_of`` only marks which dates count as "in the future" (data-quality warnings), so any calendar day is
    accepted here; the analytical tools hold as_of to the data's range (``lifecycle.scope``)."""
    return result_from_report(source.diagnose(None if as_of is None else check_as_of(as_of)))


def result_from_report(report: DatasetReport) -> DescribeDatasetResult:
    """Shape a ``DatasetReport`` as the tool's output (dropping example ids)."""
    return DescribeDatasetResult(
        tables=[TableSummary(name=t.name, rows=t.rows, time_column=t.time_column, first_date=t.first, last_date=t.last)
                for t in report.tables],
        first_date=report.first,
        last_date=report.last,
        as_of=report.as_of,
        as_of_inferred=report.as_of_inferred,
        computable=list(report.computable),
        metric_groups=[MetricGroup(name=c.name, label=c.label, computable=c.computable, needs=c.needs)
                       for c in report.capabilities],
        warnings_count=sum(1 for w in report.warnings if w.severity == "warning"),
        info_count=sum(1 for w in report.warnings if w.severity == "info"),
        warnings=[WarningSummary(code=w.code, severity=w.severity, table=w.table, column=w.column, count=w.count,
                                 message=w.message) for w in report.warnings],
        notes=list(report.notes),
    )


def summary_text(result: DescribeDatasetResult) -> str:
    """Every table with rows and dates, every metric group with whether it is computable and what it needs, and every
    data-quality finding (counts only; `lifecycle doctor` shows examples)."""
    span = f"{result.first_date} to {result.last_date}" if result.first_date else "no dates"
    lines = [f"Dataset: dates {span}; as_of {result.as_of or 'n/a'}"
             + (" (the data's last day)" if result.as_of_inferred else "") + "."]
    lines += table(("table", "rows", "time column", "first", "last"),
                   ((t.name, f"{t.rows:,}", t.time_column or "-", t.first_date or "-", t.last_date or "-")
                    for t in result.tables))
    lines += ["Metric groups (computable: yes/no; needs):"]
    lines += [f"- {g.name} ({g.label}): {'yes' if g.computable else 'no'}; needs {g.needs}" for g in result.metric_groups]
    lines.append(f"Data-quality findings: {result.warnings_count} warnings, {result.info_count} info"
                 + (":" if result.warnings else "."))
    lines += [f"- {w.severity} {w.code} in {w.table}{'.' + w.column if w.column else ''}: {w.count:,} rows — "
              f"{data_text(w.message, 200)}" for w in result.warnings]
    lines += [f"Note: {data_text(n, 200)}" for n in result.notes]
    lines.append("Examples of offending rows: run `lifecycle doctor` in a terminal.")
    return "\n".join(lines)


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``describe_dataset`` tool to ``server``, reading the dataset of ``ctx``."""

    async def describe_dataset_tool(
        as_of: Annotated[date | None, Field(description="Dates after it are flagged. Default: the latest "
                                                          "date in the data.")] = None,
    ) -> Annotated[CallToolResult, DescribeDatasetResult]:
        def compute(work: Work) -> CallToolResult:
            result = describe_dataset(ctx.source, as_of)
            return structured_result(result, summary_text(result))

        return await run_tool(ctx, None, compute)

    server.add_tool(describe_dataset_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
