"""Helpers shared by the metric modules: windows, caveats, medians and "who was active when".

Nothing here is a metric; every function states the rule it applies so the metric docstrings can name it.
Activity rules (used by retention, cohorts and advocacy):

- *paying on a day*: a subscription with ``mrr > 0`` covers the day (``start_date <= day < end_date``; an
  empty ``end_date`` — including one masked because it lies after ``as_of`` — means still active).
- *valid order*: an order whose status is not refunded / cancelled.
- *activity event*: an event whose name is in ``config.activation.active_events`` (all events when empty).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.metrics.event_aggregates import activity_periods, name_summary, population
from lifecycle.metrics.grouped import group_mask
from lifecycle.metrics.registry import definition
from lifecycle.metrics.results import MetricResult, TargetBand, missing_result
from lifecycle.scope import Scope

T = TypeVar("T")


def per_scope(dataset: Dataset, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``Dataset`` (one scope, one tool call or ``compute_all``): an intermediate result several
    metrics of that scope share (the lead cohort, the latest NPS scores, the active customers, …), kept with the
    dataset's table cache. Values are shared, not copied: callers never modify them."""
    key = f"__shared__:{name}"
    if key not in dataset._cache:
        dataset._cache[key] = compute()  # type: ignore[assignment]  # the cache holds any per-scope value
    return dataset._cache[key]  # type: ignore[return-value]


PerCustomer = TypeVar("PerCustomer", pd.Series, pd.DataFrame, pd.Index)


def per_customer(dataset: Dataset, name: str, compute: Callable[[Dataset], PerCustomer]) -> PerCustomer:
    """``compute``'s per-customer answer (a Series or frame indexed by customer id, or an Index of ids) for the scope's
    customers: ``compute`` runs once on the whole base with the scope's as_of and window — memoised per data identity,
    as_of, window and configuration (``lifecycle.memo``) — and a filtered scope keeps the rows of the customers it
    selects (``event_aggregates.population``, the customers ``Dataset.table`` keeps), in the same order.

    Only for answers where each customer's row is a function of that customer's own rows (``compute`` must not
    depend on who else is in the population): then the kept rows are exactly what ``compute`` gives on the filtered
    scope, and a new filter or segment costs a mask instead of a re-run. Once per ``Dataset`` (``per_scope``)."""

    def scoped() -> PerCustomer:
        if dataset.identity is None:
            return compute(dataset)
        whole = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
        key = ("per-customer", name, dataset.identity, dataset.as_of, dataset.window, dataset.config.fingerprint())
        answer = remember(key, lambda: compute(whole))
        ids = population(dataset)
        if ids is None:
            return answer
        keys = answer if isinstance(answer, pd.Index) else answer.index
        mask = group_mask(dataset, key, keys)  # compare_segments' groups: one look-up for all (lifecycle.metrics.grouped)
        return answer[mask if mask is not None else is_member(keys, ids)]

    return per_scope(dataset, f"per_customer:{name}", scoped)


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


SMALL_SAMPLE = "small sample"
"""Every small-sample caveat starts with this; ``with_notes`` sets ``MetricResult.small_sample`` when it sees one."""


def small_sample_note(dataset: Dataset, n: int, unit: str = "customers") -> str | None:
    """A caveat when a value rests on fewer than ``config.small_sample`` units (and at least one)."""
    if 0 < n < dataset.config.small_sample:
        return f"{SMALL_SAMPLE}: {n} {unit} (< {dataset.config.small_sample}); read with caution"
    return None


def few_events_note(dataset: Dataset, events: int, what: str = "churn events") -> str | None:
    """A caveat when a rate's numerator rests on fewer than ``config.small_events`` events (zero included: a rate of 0
    from a handful of months is not evidence of no churn)."""
    if events < dataset.config.small_events:
        return f"{SMALL_SAMPLE}: {events} {what} (< {dataset.config.small_events}); read with caution"
    return None


def with_notes(result: MetricResult, *notes: str | None | Iterable[str]) -> MetricResult:
    """``result`` with ``notes`` appended to its reason (keeps an existing reason first); a small-sample note also sets
    ``small_sample``."""
    reason = join_notes(result.reason, *notes)
    small = result.small_sample or any(part.startswith(SMALL_SAMPLE) for part in (reason or "").split("; "))
    if reason == result.reason and small == result.small_sample:
        return result
    return replace(result, reason=reason, small_sample=small)


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


SIGNUP_COLUMNS = ("customer_id", "signup_date", "acquisition_cost")
"""The customers columns the window's signups carry (``signups_in_window``): who, when, at what acquisition cost."""


def signups_in_window(dataset: Dataset) -> pd.DataFrame:
    """Customers (filtered) whose ``signup_date`` lies in the window, sorted by id — their ``SIGNUP_COLUMNS``, labelled
    with their row positions in ``customers()`` (once per scope, ``per_scope``; a shallow copy per call)."""
    found = per_scope(dataset, "signups_in_window", lambda: _signups_in_window(dataset))
    return found.copy(deep=False)


def _signups_in_window(dataset: Dataset) -> pd.DataFrame:
    """``signups_in_window``'s frame. A filtered scope whose customers are not read yet takes the whole base's window
    signups (from the memoised customers read every scope masks; memoised per data identity, as_of, window and
    configuration) that ``Dataset.table`` keeps (``kept_whole_customers``), labelled with their positions among the kept
    customers — the frame ``customers()`` masked and sorted gives (same rows, order, values and labels) without copying
    the scope's customers for the few who signed up in the window (compare_segments asks once per group and period)."""
    if dataset.identity is None or dataset.filters.is_empty() or dataset.customers_read():
        customers = dataset.customers()[list(SIGNUP_COLUMNS)]
        return in_window(customers, "signup_date", dataset).sort_values("customer_id")
    signups = whole_window_signups(dataset)
    keep = kept_whole_customers(dataset)
    rows = signups.index.to_numpy(dtype="int64")
    chosen = keep[rows]
    found = signups[chosen]
    found.index = pd.Index((np.cumsum(keep) - 1)[rows[chosen]], dtype="int64")
    return found


def whole_window_signups(dataset: Dataset) -> pd.DataFrame:
    """The whole base's window signups (``signups_in_window`` of the unfiltered scope with ``dataset``'s as_of and
    window), labelled with their row positions in the whole base's ``customers()`` (the rows ``kept_whole_customers``
    masks); memoised per data identity, as_of, window and configuration. Callers do not modify it."""
    whole = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))

    def whole_signups() -> pd.DataFrame:
        customers = whole.customers()[list(SIGNUP_COLUMNS)].reset_index(drop=True)  # labels = row positions
        return in_window(customers, "signup_date", whole).sort_values("customer_id")

    return remember(("window-signups", dataset.identity, dataset.as_of, dataset.window, dataset.config.fingerprint()),
                    whole_signups)


def customer_count(dataset: Dataset) -> int:
    """``len(dataset.customers())``: the customers the scope selects who signed up by as_of. A filtered scope whose
    customers are not read yet counts the whole base's customers that ``Dataset.table`` keeps
    (``kept_whole_customers``) instead of copying every column of its rows to count them (compare_segments counts
    each group)."""
    if dataset.identity is None or dataset.filters.is_empty() or dataset.customers_read():
        return len(dataset.customers())
    return int(np.count_nonzero(kept_whole_customers(dataset)))


def kept_whole_customers(dataset: Dataset) -> np.ndarray:
    """Which rows of the whole base's ``customers()`` on as_of (the memoised read every scope masks) a filtered
    ``dataset`` keeps (``kept_customers``), once per scope (``per_scope``); the whole base's ids are memoised per data
    identity and as_of."""

    def keep() -> np.ndarray:
        whole = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
        key = ("customer-ids", dataset.identity, dataset.as_of)
        ids = remember(key, lambda: whole.customers()["customer_id"].reset_index(drop=True))
        mask = group_mask(dataset, key, ids)  # compare_segments' groups: one look-up for all (lifecycle.metrics.grouped)
        return mask if mask is not None else kept_customers(dataset, ids)

    return per_scope(dataset, "kept_whole_customers", keep)


def kept_customers(dataset: Dataset, ids: pd.Series) -> np.ndarray:
    """Which of the whole base's customer ``ids`` a filtered ``dataset``'s tables keep: its population, and the stage
    members for a stage filter (``Dataset._load``)."""
    keep = is_member(ids, dataset.population())
    if dataset.filters.stage:
        keep &= is_member(ids, dataset.stage_members())
    return keep


def eligible_signups(dataset: Dataset, observe_days: int) -> tuple[pd.DataFrame, int]:
    """Signups in the window with at least ``observe_days`` days observed: ``signup_date <= as_of − observe_days``.

    Returns the eligible customers and how many window signups were too recent to judge. Selected once per scope and
    ``observe_days`` (``per_scope``: the activation and retention metrics ask for the same few cut-offs dozens of
    times), a shallow copy per call.
    """

    def select() -> tuple[pd.DataFrame, int]:
        signups = signups_in_window(dataset)
        cutoff = as_of_ts(dataset) - pd.Timedelta(days=observe_days)
        eligible = signups[signups["signup_date"] <= cutoff]
        return eligible, len(signups) - len(eligible)

    eligible, too_recent = per_scope(dataset, f"eligible_signups:{int(observe_days)}", select)
    return eligible.copy(deep=False), too_recent


def too_recent_note(count: int, days: int) -> str | None:
    """Caveat naming window signups left out because fewer than ``days`` days are observed."""
    if count:
        return f"{count} signup(s) in the period have fewer than {days} days observed before as_of and are left out"
    return None


EVENT_COUNTS_KEY = "__event_name_counts__"
FREQUENT_EVENTS_SHOWN = 5


def event_counts(dataset: Dataset) -> pd.Series:
    """How often each event name occurs in the scope's events by as_of, most frequent first (ties by name); cached.

    Summed from the per-(customer, event name) counts the database computes once per data and as_of
    (``lifecycle.metrics.event_aggregates.name_summary``)."""
    cache = dataset._cache
    if EVENT_COUNTS_KEY not in cache:
        ids = population(dataset) if dataset.identity is not None else None
        if ids is None:
            summary = name_summary(dataset)
            counts = summary.groupby("event_name")["events"].sum()
        else:  # a filtered scope: the whole base's (customer, name) rows, coded once, masked and summed per name
            coded = _coded_name_summary(dataset)
            keep = is_member(coded.customer_ids, ids) & (coded.codes >= 0)
            rows = np.bincount(coded.codes[keep], minlength=len(coded.names))
            sums = np.bincount(coded.codes[keep], weights=coded.events[keep], minlength=len(coded.names))
            present = rows > 0
            counts = pd.Series(np.rint(sums[present]).astype("int64"), index=coded.names[present], name="events")
        names, values = counts.index.tolist(), counts.to_numpy()
        order = sorted(range(len(names)), key=lambda i: (-int(values[i]), names[i]))  # labels are unique: by position
        cache[EVENT_COUNTS_KEY] = counts.iloc[order]
    return cache[EVENT_COUNTS_KEY]


@dataclass(frozen=True)
class _CodedSummary:
    customer_ids: pd.Series
    codes: np.ndarray  # per row: the position of its event name in ``names`` (−1: no name)
    events: np.ndarray
    names: pd.Index  # sorted, as ``groupby`` orders them


def _coded_name_summary(dataset: Dataset) -> _CodedSummary:
    """The whole base's per-(customer, event name) summary (``name_summary`` of the unfiltered scope on as_of) with its
    names coded, memoised per data identity, as_of and configuration."""

    def code() -> _CodedSummary:
        summary = name_summary(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters())))
        codes, names = pd.factorize(summary["event_name"], sort=True)
        return _CodedSummary(summary["customer_id"], np.asarray(codes, dtype="int64"),
                             summary["events"].to_numpy(dtype="float64"),
                             pd.Index(names, dtype=summary["event_name"].dtype, name="event_name"))

    return remember(("coded-name-summary", dataset.identity, dataset.as_of, dataset.config.fingerprint()), code)


def frequent_events_text(dataset: Dataset, limit: int = FREQUENT_EVENTS_SHOWN) -> str:
    """'catalog (14,510), main (5,629), …' — the most frequent event names in scope, or a note that there are none."""
    counts = event_counts(dataset)
    if counts.empty:
        return "the scope has no events"
    return "the most frequent events are " + ", ".join(f"{name} ({int(n):,})" for name, n in counts.head(limit).items())


def absent_event_names(dataset: Dataset, names: Iterable[str]) -> tuple[str, ...]:
    """The names among ``names`` that never occur in the scope's events by as_of (sorted); once per scope and names
    (``per_scope``: the activation metrics of a scope ask about the same configured names).

    A filtered scope whose event counts are not at hand looks only at the customers who have a row of each name
    (the whole base's (customer, name) rows, ``_customers_with_name``) and asks whether one of them is among its
    customers — a name occurs when one of them has a row, as in ``event_counts`` — instead of counting every name of
    every customer: compare_segments asks this per group and period of each activation metric."""
    wanted = tuple(sorted(set(names)))
    return per_scope(dataset, f"absent_event_names:{wanted!r}", lambda: _absent_event_names(dataset, wanted))


def _absent_event_names(dataset: Dataset, wanted: tuple[str, ...]) -> tuple[str, ...]:
    ids = None
    if EVENT_COUNTS_KEY not in dataset._cache and dataset.identity is not None:
        ids = population(dataset)
    if ids is None:
        seen = set(event_counts(dataset).index)
        return tuple(name for name in wanted if name not in seen)
    return tuple(name for name in wanted if not is_member(_customers_with_name(dataset, name), ids).any())


def _customers_with_name(dataset: Dataset, name: str) -> pd.Series:
    """The customer ids of the whole base's (customer, event name) rows of ``name`` by as_of (``_coded_name_summary``;
    none when the name never occurs), memoised per data identity, as_of, configuration and name."""

    def select() -> pd.Series:
        coded = _coded_name_summary(dataset)
        code = coded.names.get_indexer(pd.Index([name], dtype=coded.names.dtype))[0]
        rows = np.flatnonzero(coded.codes == code) if code >= 0 else np.zeros(0, dtype="int64")
        return coded.customer_ids.iloc[rows].reset_index(drop=True)

    return remember(("customers-with-event-name", dataset.identity, dataset.as_of, dataset.config.fingerprint(), name), select)


def missing_signal_reason(dataset: Dataset, key: str, names: tuple[str, ...]) -> str:
    """Why a metric has no value: the configured event(s) under config ``key`` never occur; what the data has instead;
    what to set. E.g. "activation.value_event 'report_created' never occurs in the events in scope; the most frequent
    events are …; set activation.value_event in the config (`lifecycle doctor --config` proposes candidates)"."""
    shown = ", ".join(f"'{n}'" for n in names) or "(none configured)"
    verb = "never occurs" if len(names) == 1 else "never occur"
    return (f"{key} {shown} {verb} in the events in scope; {frequent_events_text(dataset)}; set {key} in the config "
            "(`lifecycle doctor --config` proposes candidates)")


def no_event_signal(dataset: Dataset, metric_id: str, key: str, names: Iterable[str]) -> MetricResult | None:
    """A ``None`` result naming what is missing when none of the configured event ``names`` occurs in scope, else None.

    A rate over events that never happen is not 0 % (nobody did it) but unknown (the data does not record it): the
    rule behind "no confident zeros".
    """
    names = tuple(names)
    if names and len(absent_event_names(dataset, names)) < len(set(names)):
        return None
    spec = definition(metric_id)
    return missing_result(metric_id, spec.unit, dataset.scope, missing_signal_reason(dataset, key, names), spec.target_for(dataset))


def valid_orders(dataset: Dataset) -> pd.DataFrame:
    """Orders known on as_of, without refunded / cancelled ones (status compared case-insensitively)."""
    orders = dataset.table("orders")
    status = orders["status"].astype("string").str.lower()
    return orders[~status.isin(EXCLUDED_ORDER_STATUSES).fillna(False).astype(bool)]


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
    Ids are sorted; all come from the filtered population. Computed once per scope (``per_scope``); whether a customer
    is active depends on their own rows only, so a filtered scope's ids are the whole base's masked (``per_customer``).
    """
    return per_scope(dataset, "active_in_window",
                     lambda: (per_customer(dataset, "active_in_window", _active_ids), _active_rule(dataset)))


def _active_rule(dataset: Dataset) -> str:
    """Which rule of ``active_in_window`` the data allows (the tables that hold rows)."""
    if dataset.has("subscriptions"):
        return "paying subscribers in the period"
    if dataset.has("orders"):
        return "customers with an order in the period"
    if dataset.has("events"):
        return "customers with activity events in the period"
    return "customers on record"


def _active_ids(dataset: Dataset) -> pd.Index:
    start, end = window_bounds(dataset)
    if dataset.has("subscriptions"):
        subs = paying_subscriptions(dataset)
        ids = subs.loc[paying_during(subs, start, end), "customer_id"]
    elif dataset.has("orders"):
        ids = in_window(valid_orders(dataset), "ordered_at", dataset)["customer_id"]
    elif dataset.has("events"):
        ids = activity_periods(dataset, None, dataset.window.start, dataset.window.end)["customer_id"]
    else:
        customers = dataset.customers()
        ids = customers.loc[customers["signup_date"] < end, "customer_id"]
    return sorted_ids(ids)


def sorted_ids(ids: pd.Series) -> pd.Index:
    """The distinct ids of ``ids`` as text, sorted (code-point order, as Python sorts text) — Arrow's kernels instead of
    a Python string per row (``sorted(set(ids.astype(str)))``: seconds at a million rows)."""
    unique = pd.Series(ids.astype(str).unique())
    return pd.Index(unique.sort_values(ignore_index=True))


def all_customers_by(dataset: Dataset, day: date) -> pd.Index:
    """Ids of every customer (ignoring the filters) who had signed up by ``day`` — e.g. referred customers."""
    unfiltered = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    customers = unfiltered.customers()
    return pd.Index(customers.loc[customers["signup_date"] <= pd.Timestamp(day), "customer_id"].astype(str))
