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

from lifecycle.doctor import Capability, DatasetReport, DataWarning, TableReport
from lifecycle.scope import check_as_of
from lifecycle.sources import DataSource
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.text import data_text, table

NAME = "describe_dataset"
TITLE = "Describe the dataset"
DESCRIPTION = (
    "Each table's rows and date range, which metric groups the data supports (and what the others need), and "
    "data-quality warnings. Call this first."
)


class TableSummary(wire_model(TableReport, rename={"first": "first_date", "last": "last_date"}, descriptions={  # type: ignore[misc]
    "name": "Canonical table name.",
    "rows": "Number of rows (0 when nothing was imported into it).",
    "time_column": "Column whose dates give the table's date range.",
    "first_date": "Earliest date in the time column.",
    "last_date": "Latest date in the time column.",
})):
    """One canonical table."""


class MetricGroup(wire_model(Capability, descriptions={  # type: ignore[misc]
    "name": "Metric group id, e.g. mrr, nrr, funnel_conversion.",
    "label": "Human-readable name.",
    "computable": "True when the tables present hold the data it needs.",
    "needs": "The data it needs, e.g. 'subscriptions or orders', 'customers.acquisition_cost'.",
})):
    """A group of metrics and whether the data supports it."""


class WarningSummary(wire_model(DataWarning, exclude=("examples",), types={"severity": str}, descriptions={  # type: ignore[misc]
    "code": "Check id, e.g. orphan_reference, future_date, negative_amount, duplicate_rows.",
    "severity": "'warning' (likely skews metrics) or 'info' (may be fine).",
    "count": "Number of offending rows.",
    "message": "What the offending rows have in common.",
})):
    """A data-quality finding (without example rows; run `lifecycle doctor` to see them)."""


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
    accepted here; the analytical tools hold as_of to the data's range (``lifecycle.scope``). The output carries no
    example rows, so none are looked up (``examples=False``: a new as_of then costs a count per later column)."""
    return result_from_report(source.diagnose(None if as_of is None else check_as_of(as_of), examples=False))


def result_from_report(report: DatasetReport) -> DescribeDatasetResult:
    """Shape a ``DatasetReport`` as the tool's output (dropping example ids)."""
    return DescribeDatasetResult(
        tables=[TableSummary.of(t) for t in report.tables],
        first_date=report.first,
        last_date=report.last,
        as_of=report.as_of,
        as_of_inferred=report.as_of_inferred,
        computable=list(report.computable),
        metric_groups=[MetricGroup.of(c) for c in report.capabilities],
        warnings_count=sum(1 for w in report.warnings if w.severity == "warning"),
        info_count=sum(1 for w in report.warnings if w.severity == "info"),
        warnings=[WarningSummary.of(w) for w in report.warnings],
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
