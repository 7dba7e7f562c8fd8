"""`lifecycle metrics --monthly`: metrics as monthly series (``lifecycle.export.series.monthly_series``).

One row per (month, metric), in month then registry order; money metrics carry the dataset currency as their unit.
"""

from __future__ import annotations

import lifecycle
from lifecycle.export.money import currency_of
from lifecycle.export.series import monthly_series
from server.frames_out import print_frame


def print_monthly(ds: lifecycle.Lifecycle, metric_ids: list[str] | None, months: int, fmt: str) -> None:
    """Compute the series for ``ds``'s scope and print it as ``fmt`` (table, csv or json)."""
    currency = currency_of(ds.dataset)
    frame = monthly_series(ds.dataset, tuple(metric_ids) if metric_ids else None, months, ds.source.data_range().first)
    frame["unit"] = frame["unit"].replace({"money": currency})
    meta = {"as_of": ds.as_of.isoformat(), "currency": currency, "months": months, "filters": ds.scope.filters.to_dict()}
    print_frame(frame, fmt, meta, title=f"Metrics by month to {meta['as_of']} (money in {currency})")
