"""Any metric as a monthly series, and the monthly MRR bridge as a table — what ``lifecycle metrics --monthly`` and
``lifecycle revenue`` write.

``monthly_series(dataset, metric_ids, months)`` computes each metric once per calendar month, for the ``months``
months ending with the month of the dataset's ``as_of``: month m is measured at ``as_of`` = its last day (the
dataset's ``as_of`` for the month holding it, which is then *partial*) over the window ``[first day of m, that
as_of]`` — so a flow metric (new customers, churned MRR, conversion) counts that month's events and a stock metric
(MRR, customers) is read at the month's end. The filters stay those of the dataset. Months before the data's first
day are left out. One row per (month, metric), long format, in month then registry order.

``revenue_bridge(dataset)`` is the MRR bridge (``lifecycle.metrics.revenue_movements``: starting MRR, new,
expansion, reactivation, contraction, churn, ending MRR and the customers behind each) month by month up to
``as_of``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from lifecycle.errors import QueryError
from lifecycle.filters import add_months
from lifecycle.metrics.registry import compute_all, definition, metric_ids
from lifecycle.metrics.results import finite_or_none
from lifecycle.metrics.revenue_movements import revenue_movements
from lifecycle.scope import Scope, Window

DEFAULT_MONTHS = 12
MAX_MONTHS = 120
SERIES_COLUMNS = ("month", "start", "end", "partial", "metric_id", "name", "unit", "value", "numerator", "denominator",
                  "sample_size", "status", "reason")


def month_windows(as_of: date, months: int, first_day: date | None = None) -> list[tuple[str, Window, bool]]:
    """The ``months`` calendar months ending with ``as_of``'s month, oldest first: (``YYYY-MM``, window, partial)."""
    if not 1 <= months <= MAX_MONTHS:
        raise QueryError(f"months must be within 1..{MAX_MONTHS}, got {months}")
    current = as_of.replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        start = add_months(current, -back)
        last = add_months(start, 1) - timedelta(days=1)
        end = min(last, as_of)
        if first_day is not None and end < first_day:
            continue
        out.append((start.strftime("%Y-%m"), Window(start, end), end < last))
    return out


def monthly_series(dataset: Any, ids: tuple[str, ...] | None = None, months: int = DEFAULT_MONTHS,
                   first_day: date | None = None) -> pd.DataFrame:
    """Metrics ``ids`` (default: the whole registry) month by month (module docstring); ``QueryError`` for an
    unknown metric id (listing the valid ones) or a number of months outside 1..``MAX_MONTHS``."""
    chosen = tuple(ids) if ids else metric_ids()
    unknown = [m for m in chosen if m not in metric_ids()]
    if unknown:
        raise QueryError(f"unknown metric(s) {', '.join(unknown)}; valid: {', '.join(metric_ids())}")
    rows: list[dict[str, Any]] = []
    for label, window, partial in month_windows(dataset.as_of, months, first_day):
        scoped = dataset.rescoped(Scope(window.end, window, dataset.filters))
        for metric_id, result in compute_all(scoped, chosen).items():
            rows.append({
                "month": label, "start": window.start.isoformat(), "end": window.end.isoformat(), "partial": partial,
                "metric_id": metric_id, "name": definition(metric_id).name, "unit": result.unit.value,
                "value": finite_or_none(result.value), "numerator": finite_or_none(result.numerator),
                "denominator": finite_or_none(result.denominator), "sample_size": int(result.sample_size),
                "status": result.status.value if result.status else None, "reason": result.reason,
            })
    return pd.DataFrame(rows, columns=list(SERIES_COLUMNS))


def revenue_bridge(dataset: Any) -> pd.DataFrame:
    """The monthly MRR bridge up to ``as_of`` (module docstring), one row per month, oldest first."""
    return revenue_movements(dataset).to_frame()
