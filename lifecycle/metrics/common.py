"""Helpers shared by the metric modules: windows, caveats, medians and "who was active when".

Nothing here is a metric; every function states the rule it applies so the metric docstrings can name it.
Activity rules (used by retention, cohorts and advocacy):

- *paying on a day*: a subscription with ``mrr > 0`` covers the day (``start_date <= day < end_date``; an
  empty ``end_date`` — including one masked because it lies after ``as_of`` — means still active).
- *valid order*: an order whose status is not refunded / cancelled.
- *activity event*: an event whose name is in ``config.activation.active_events`` (all events when empty).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters, Scope
from lifecycle.metrics.registry import definition
from lifecycle.metrics.results import MetricResult, TargetBand

EVENT_COLUMNS: tuple[str, ...] = ("customer_id", "occurred_at", "event_name")
"""The events columns the metrics read (loading the others would only cost time)."""

EXCLUDED_ORDER_STATUSES = ("refunded", "cancelled", "canceled")
DAY = pd.Timedelta(days=1)


def target(dataset: Dataset, metric_id: str) -> TargetBand | None:
    """The target band of ``metric_id`` for this dataset (company override, else the seed band)."""
    return definition(metric_id).target_for(dataset)


def window_bounds(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` timestamps of the scope's window: start midnight, the day after the end at midnight."""
    return pd.Timestamp(dataset.window.start), pd.Timestamp(dataset.window.end) + DAY


def in_window(frame: pd.DataFrame, column: str, dataset: Dataset) -> pd.DataFrame:
    """Rows of ``frame`` whose ``column`` falls inside the scope's window (inclusive days)."""
    start, end = window_bounds(dataset)
    values = frame[column]
    return frame[(values >= start) & (values < end)]


def as_of_ts(dataset: Dataset) -> pd.Timestamp:
    """``as_of`` as a midnight timestamp."""
    return pd.Timestamp(dataset.as_of)


def join_notes(*notes: str | None | Iterable[str]) -> str | None:
    """Non-empty notes joined with '; ' (None when there are none)."""
    flat: list[str] = []
    for note in notes:
        if note is None:
            continue
        if isinstance(note, str):
            if note:
                flat.append(note)
        else:
            flat.extend(n for n in note if n)
    return "; ".join(flat) or None


def small_sample_note(dataset: Dataset, n: int, unit: str = "customers") -> str | None:
    """A caveat when a value rests on fewer than ``config.small_sample`` units (and at least one)."""
    if 0 < n < dataset.config.small_sample:
        return f"small sample: {n} {unit} (< {dataset.config.small_sample}); read with caution"
    return None


def with_notes(result: MetricResult, *notes: str | None | Iterable[str]) -> MetricResult:
    """``result`` with ``notes`` appended to its reason (keeps an existing reason first)."""
    reason = join_notes(result.reason, *notes)
    return replace(result, reason=reason) if reason != result.reason else result


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole calendar days from ``earlier`` to ``later`` (both floored to the day), as float (NaN when missing)."""
    return (later.dt.floor("D") - earlier.dt.floor("D")).dt.days.astype("float64")


def days_after_signup(events: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """``events`` of ``customers`` with a ``day`` column: calendar days after signup, events before signup at day 0."""
    joined = events.merge(customers[["customer_id", "signup_date"]], on="customer_id", how="inner")
    joined["day"] = days_between(joined["occurred_at"], joined["signup_date"]).clip(lower=0.0)
    return joined


def median(values: pd.Series | np.ndarray) -> float | None:
    """Median of the non-missing values (None when there are none); numpy's median is order-independent."""
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    return float(np.median(array)) if array.size else None


def signups_in_window(dataset: Dataset) -> pd.DataFrame:
    """Customers (filtered) whose ``signup_date`` lies in the window, sorted by id."""
    return in_window(dataset.customers(), "signup_date", dataset).sort_values("customer_id")


def eligible_signups(dataset: Dataset, observe_days: int) -> tuple[pd.DataFrame, int]:
    """Signups in the window with at least ``observe_days`` days observed: ``signup_date <= as_of − observe_days``.

    Returns the eligible customers and how many window signups were too recent to judge.
    """
    signups = signups_in_window(dataset)
    cutoff = as_of_ts(dataset) - pd.Timedelta(days=observe_days)
    eligible = signups[signups["signup_date"] <= cutoff]
    return eligible, len(signups) - len(eligible)


def too_recent_note(count: int, days: int) -> str | None:
    """Caveat naming window signups left out because fewer than ``days`` days are observed."""
    if count:
        return f"{count} signup(s) in the period have fewer than {days} days observed before as_of and are left out"
    return None


def valid_orders(dataset: Dataset) -> pd.DataFrame:
    """Orders known on as_of, without refunded / cancelled ones (status compared case-insensitively)."""
    orders = dataset.table("orders")
    status = orders["status"].astype("string").str.lower()
    return orders[~status.isin(EXCLUDED_ORDER_STATUSES).fillna(False).astype(bool)]


def activity_events(dataset: Dataset) -> pd.DataFrame:
    """Events that count as activity (``config.activation.active_events``; all events when empty)."""
    events = dataset.table("events", columns=EVENT_COLUMNS)
    names = dataset.config.activation.active_events
    return events[events["event_name"].isin(names)] if names else events


def paying_subscriptions(dataset: Dataset) -> pd.DataFrame:
    """Subscriptions with ``mrr > 0`` (free / trial rows do not make a customer paying)."""
    subs = dataset.table("subscriptions")
    return subs[subs["mrr"] > 0]


def paying_on(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Boolean mask of ``subs`` rows covering ``day``: ``start_date <= day < end_date`` (open end = active)."""
    return (subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))


def paying_during(subs: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Boolean mask of ``subs`` rows covering at least one day of ``[start, end)``."""
    return (subs["start_date"] < end) & (subs["end_date"].isna() | (subs["end_date"] > start))


def active_in_window(dataset: Dataset) -> tuple[pd.Index, str]:
    """Customers active in the window and the rule used, chosen by the data available.

    1. subscriptions: paying on at least one day of the window;
    2. else orders: at least one valid order in the window;
    3. else events: at least one activity event in the window;
    4. else every customer signed up by the window's end ("customers on record").
    Ids are sorted; all come from the filtered population.
    """
    start, end = window_bounds(dataset)
    if dataset.has("subscriptions"):
        subs = paying_subscriptions(dataset)
        ids = subs.loc[paying_during(subs, start, end), "customer_id"]
        rule = "paying subscribers in the period"
    elif dataset.has("orders"):
        ids = in_window(valid_orders(dataset), "ordered_at", dataset)["customer_id"]
        rule = "customers with an order in the period"
    elif dataset.has("events"):
        ids = in_window(activity_events(dataset), "occurred_at", dataset)["customer_id"]
        rule = "customers with activity events in the period"
    else:
        customers = dataset.customers()
        ids = customers.loc[customers["signup_date"] < end, "customer_id"]
        rule = "customers on record"
    return pd.Index(sorted(set(ids.astype(str)))), rule


def all_customers_by(dataset: Dataset, day: date) -> pd.Index:
    """Ids of every customer (ignoring the filters) who had signed up by ``day`` — e.g. referred customers."""
    unfiltered = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    customers = unfiltered.customers()
    return pd.Index(customers.loc[customers["signup_date"] <= pd.Timestamp(day), "customer_id"].astype(str))
