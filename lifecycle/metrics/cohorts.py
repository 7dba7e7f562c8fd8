"""Cohort retention triangles: customers grouped by signup month, followed month by month.

``cohort_retention(dataset, mode, basis)`` returns a ``CohortTable`` whose cell (cohort c, month k) is

- logo / recurring: customers of c active in month k after signup ÷ cohort size;
- logo / cumulative ("unbounded", rolling): customers active in month k *or any later observed month* ÷
  cohort size — never below the recurring value, never rising with k;
- revenue / recurring: the cohort's MRR at the end of month k ÷ its MRR at the end of month 0 (may exceed
  1 with expansion);
- revenue / cumulative: Σ over the cohort's customers of the most MRR each had at the end of month k or
  any later observed month ÷ the cohort's month-0 MRR (the revenue analogue of "active now or later").

*Active in a month* means paying (a subscription with ``mrr > 0``) on at least one day of the calendar
month; without subscriptions, a valid order in the month, else an activity event in the month (the rule is
in ``CohortTable.activity``). Revenue is the MRR snapshot at each month's end (ChartMogul convention), so a
plan change inside a month is not counted twice. Month k is observable only when it has ended by ``as_of``;
the month holding ``as_of`` (unless as_of is its last day) and later months read ``None``.

Cohorts are the signup months from the window's first month to its last (every customer who signed up in
those months by ``as_of``, filtered). Sources: seed 000 (retention patterns, engagement evolution),
ChartMogul / Baremetrics cohort analysis; "unbounded retention" as in Amplitude's retention modes. The records
(``CohortTable``, row by row ``CohortRow``) are in ``lifecycle.metrics.cohort_table``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.filters import Filters, add_months
from lifecycle.membership import positions_in
from lifecycle.memo import MEMO, remember
from lifecycle.metrics.cohort_table import CohortTable
from lifecycle.metrics.common import valid_orders
from lifecycle.metrics.event_aggregates import activity_periods
from lifecycle.metrics.revenue_movements import _in_scope
from lifecycle.scope import Scope

Mode = Literal["recurring", "cumulative"]
Basis = Literal["logo", "revenue"]


def month_index(values: pd.Series) -> np.ndarray:
    """Months since year 0 (year × 12 + month − 1) of each timestamp, as int64."""
    return (values.dt.year * 12 + values.dt.month - 1).to_numpy(dtype="int64")


def window_signups(dataset: Dataset) -> tuple[pd.DataFrame, np.ndarray]:
    """The customers of ``dataset`` who signed up in a month of its window (``window.start`` … ``window.end``, whole
    months), sorted by ``customer_id``, and their signup months (``month_index``): the rows of a cohort triangle."""
    customers = dataset.customers().sort_values("customer_id")
    signup_month = month_index(customers["signup_date"])
    lo = dataset.window.start.year * 12 + dataset.window.start.month - 1
    hi = dataset.window.end.year * 12 + dataset.window.end.month - 1
    in_range = (signup_month >= lo) & (signup_month <= hi)
    return customers[in_range], signup_month[in_range]


def _month_start(index: int) -> pd.Timestamp:
    year, month = divmod(index, 12)
    return pd.Timestamp(year=year, month=month + 1, day=1)


def _empty(mode: str, basis: str, activity: str, as_of: date, reason: str) -> CohortTable:
    return CohortTable(mode, basis, "month", activity, as_of, (), (), (), (), (), reason)


def _activity_source(dataset: Dataset, basis: str) -> str:
    if dataset.has("subscriptions"):
        return "subscriptions"
    if basis == "logo" and dataset.has("orders"):
        return "orders"
    if basis == "logo" and dataset.has("events"):
        return "events"
    return "none"


def _monthly_matrix(dataset: Dataset, customer_ids: pd.Index, first: int, months: int, basis: str, source: str) -> np.ndarray:
    """Per customer (rows, in ``customer_ids`` order) and absolute month (columns from ``first``): active flag or month-end MRR."""
    matrix = np.zeros((len(customer_ids), months), dtype="float64")
    if source == "subscriptions":
        # the paying subscriptions (``paying_subscriptions``: mrr > 0) of ``customer_ids``, in table order, as arrays
        frame = dataset.table("subscriptions")
        found = positions_in(frame["customer_id"], customer_ids)
        kept = np.flatnonzero((frame["mrr"].to_numpy(dtype="float64", na_value=np.nan) > 0) & (found >= 0))
        rows = found[kept]
        # paying_during / paying_on on the date arrays (NaT compares False, an open end is NaT): the same masks
        starts = frame["start_date"].to_numpy(dtype="datetime64[us]")[kept]
        ends = frame["end_date"].to_numpy(dtype="datetime64[us]")[kept]
        open_end = np.isnat(ends)
        mrr_values = frame["mrr"].to_numpy(dtype="float64", na_value=np.nan)[kept]
        for j in range(months):
            start, end = _month_start(first + j), _month_start(first + j + 1)
            if basis == "logo":
                during = (starts < end.to_datetime64()) & (open_end | (ends > start.to_datetime64()))
                matrix[rows[during], j] = 1.0  # a customer with several such subscriptions: 1.0 each time
            else:
                day = (end - pd.Timedelta(days=1)).to_datetime64()
                covering = (starts <= day) & (open_end | (ends > day))
                mrr = pd.Series(mrr_values[covering]).groupby(rows[covering]).sum()
                matrix[mrr.index.to_numpy(dtype="int64"), j] = mrr.to_numpy()
        return matrix
    frame, column = (valid_orders(dataset), "ordered_at") if source == "orders" else (activity_periods(dataset, "month"), "day")
    rows = customer_ids.get_indexer(frame["customer_id"].astype(str))
    cols = month_index(frame[column]) - first
    keep = (rows >= 0) & (cols >= 0) & (cols < months)
    matrix[rows[keep], cols[keep]] = 1.0
    return matrix


def cohort_retention(dataset: Dataset, mode: Mode = "recurring", basis: Basis = "logo", period: str = "month") -> CohortTable:
    """The cohort retention triangle of ``dataset`` (rules and sources in the module docstring).

    Vectorised: one pass per calendar month (≤ a few dozen) over the activity table, then a per-customer
    shift to months-since-signup and a group sum per cohort — no loop over customers. Raises
    ``QueryError`` for an unknown mode, basis or period.
    """
    if mode not in ("recurring", "cumulative"):
        raise QueryError(f"unknown cohort mode {mode!r}; valid modes: recurring, cumulative")
    if basis not in ("logo", "revenue"):
        raise QueryError(f"unknown cohort basis {basis!r}; valid bases: logo, revenue")
    if period != "month":
        raise QueryError(f"unknown cohort period {period!r}; valid periods: month")
    as_of = dataset.as_of
    source = _activity_source(dataset, basis)
    if source == "none":
        need = "subscriptions (MRR)" if basis == "revenue" else "subscriptions, orders or events"
        return _empty(mode, basis, source, as_of, f"{basis} cohorts need {need}")
    rows = _customer_months(dataset, basis, source)
    if not len(rows.signup_month):
        return _empty(mode, basis, source, as_of, "no customers signed up in the period")

    first = int(rows.signup_month.min())
    as_of_month = as_of.year * 12 + as_of.month - 1
    months = as_of_month - first + 1
    as_of_is_month_end = add_months(as_of.replace(day=1), 1).toordinal() - 1 == as_of.toordinal()
    observed = months if as_of_is_month_end else months - 1  # absolute months [0, observed) have ended by as_of

    offset = rows.signup_month - first
    recurring = rows.recurring[:, first - rows.first:][:, :observed]
    matrix = recurring
    if mode == "cumulative" and observed:
        matrix = np.maximum.accumulate(recurring[:, ::-1], axis=1)[:, ::-1]
    cohorts, counts = _by_cohort(matrix, offset, months)
    sizes = np.bincount(offset)[cohorts]
    if basis == "logo":
        base = sizes.astype("float64")
    else:  # the cohort's recurring MRR at the end of its signup month, for both modes
        base = _by_cohort(recurring, offset, 1)[1][:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        fractions = counts / base[:, None]
    fractions[base == 0] = np.nan
    return CohortTable(
        mode=mode, basis=basis, period=period, activity=source, as_of=as_of,
        cohorts=tuple(_month_label(first + int(c)) for c in cohorts), sizes=tuple(int(s) for s in sizes),
        values=tuple(tuple(_cell(x) for x in row) for row in fractions),
        counts=tuple(tuple(_cell(x) for x in row) for row in counts),
        base=tuple(_cell(b) for b in base),
        reason="some cohorts had no MRR at the end of their signup month; their revenue retention is None" if (base == 0).any() else None,
    )


def _month_label(index: int) -> str:
    """``YYYY-MM`` of a ``month_index`` (zero-padded: the labels sort as the months do)."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class _CustomerMonths:
    """The rows of a cohort triangle before they are summed per cohort: the window's signup customers (ids sorted),
    their signup months (``month_index``) and, per absolute month from ``first`` (their earliest signup month) to
    as_of's, whether each was active then or (revenue) their month-end MRR (``_monthly_matrix``)."""

    ids: pd.Index
    signup_month: np.ndarray
    first: int
    recurring: np.ndarray


def _own_months(dataset: Dataset, basis: str, source: str) -> _CustomerMonths:
    customers, signup_month = window_signups(dataset)
    ids = pd.Index(customers["customer_id"].astype(str))
    if customers.empty:
        return _CustomerMonths(ids, signup_month, 0, np.zeros((0, 0)))
    first = int(signup_month.min())
    months = dataset.as_of.year * 12 + dataset.as_of.month - 1 - first + 1
    return _CustomerMonths(ids, signup_month, first, _monthly_matrix(dataset, ids, first, months, basis, source))


def _customer_months(dataset: Dataset, basis: str, source: str) -> _CustomerMonths:
    """``_CustomerMonths`` of ``dataset``. With a data identity and subscriptions, the whole base's are memoised per
    data, scope (as_of, window), configuration and basis, and a filtered scope takes its customers' rows from them when
    they are at hand — the customers the filters keep (``Dataset.table``: the population, and the stage members for a
    stage filter), in the same id order. A customer's row is read from their own subscriptions only (a flag, or the
    sum of their subscriptions' MRR in table order), whoever else is in the scope, so the rows are the ones the scope
    builds itself; only the columns before the scope's own first signup month are left out. Without the whole base's
    rows at hand a filtered scope builds its own (the rows of a small scope cost less than the whole base's)."""
    if dataset.identity is None or source != "subscriptions":
        return _own_months(dataset, basis, source)
    whole = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = whole.memo_key("cohort-customer-months", basis)
    if dataset.filters.is_empty():
        return remember(key, lambda: _own_months(dataset, basis, source))
    found = MEMO.peek(key)
    if found is None:
        return _own_months(dataset, basis, source)
    chosen = np.flatnonzero(_in_scope(found.ids, dataset))
    signup_month = found.signup_month[chosen]
    return _CustomerMonths(found.ids[chosen], signup_month, found.first, found.recurring[chosen])


def _by_cohort(matrix: np.ndarray, offset: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The cohorts (their signup months as offsets from the first column, ascending) and, per cohort, the sum over its
    customers of month k after signup for k < ``width`` — NaN where that month has not ended (``matrix``: one row per
    customer, one column per absolute month observed; ``offset``: each customer's signup month, as a column of it).

    The customers of a cohort share their signup month, so month k after signup is one absolute column for all of
    them: the column sums per cohort of the absolute matrix, shifted by the cohort's offset — the same sums, in the
    same row order, as summing each customer's row shifted to months since signup, without building that matrix."""
    sums = pd.DataFrame(matrix).groupby(offset, sort=True).sum(min_count=1)
    shift = sums.index.to_numpy(dtype=np.int64)
    observed = matrix.shape[1]
    columns = shift[:, None] + np.arange(width)[None, :]
    inside = columns < observed
    values = np.full((len(sums), width), np.nan)
    if observed:
        absolute = sums.to_numpy(dtype="float64")
        values[inside] = absolute[np.nonzero(inside)[0], columns[inside]]
    return shift, values


def _cell(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
