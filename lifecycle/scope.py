"""The scope of a computation — as_of, the period ending on it, the population filters — resolved in one place.

``Scope.resolve`` is what the CLI (``lifecycle metrics``, ``lifecycle plan``), every MCP tool, prompt and
resource, the plan runner and the Python front door (``lifecycle.open``) call to turn what a user gave into a
scope:

- ``as_of`` defaults to the data's last day (``DataSource.data_range().last``) and says so (``as_of_inferred``);
- a given ``as_of`` must lie inside the data: before the first day with data, or more than one calendar month
  after the last, is a ``QueryError`` naming the data's range (issue #14: 2030-01-01 gave "100 % stagnation",
  2019-01-01 zeros). The one month of grace after the last day is one monthly billing period: recurring data
  records a renewal at most once a month, so an ongoing subscription with no newer row is still observed until
  its next renewal falls due, and a month-end report (MRR and cohorts are read at month ends) may be taken as of
  the end of the month after the last recorded event. No tolerance before the first day;
- the period is the ``period_months`` calendar months ending on ``as_of`` (``Window.trailing_months``);
- every filter value must be in the data: an unknown segment, plan, channel, … is a ``QueryError`` listing the
  valid values (``check_filter_values``; the plan's are the customers' and the subscriptions' plans, see
  ``lifecycle.filters``). A stage is checked where the stage model is known (``tools.scope``).

``Scope.at`` builds a scope without looking at the data (engine internals, back-tests at earlier days).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters, add_months
from lifecycle.sources import Connection, DataRange, DataSource, distinct_values

DEFAULT_PERIOD_MONTHS = 12
GRACE_MONTHS_AFTER_DATA = 1  # one monthly billing period (module docstring)
MAX_VALUES_LISTED = 40
EARLIEST_AS_OF = date(1900, 1, 1)
LATEST_AS_OF = date(2999, 12, 31)


def check_as_of(day: date) -> date:
    """``day`` if it lies in EARLIEST_AS_OF..LATEST_AS_OF, else ``QueryError``.

    The engine shifts as_of by months and years (windows, cohorts, trends), which must stay inside the calendar
    Python can represent; no business data lies outside these centuries.
    """
    if not EARLIEST_AS_OF <= day <= LATEST_AS_OF:
        raise QueryError(f"as_of {day.isoformat()} is out of range: pick a day between {EARLIEST_AS_OF} and "
                         f"{LATEST_AS_OF}, or omit it to use the data's last day")
    return day


def latest_as_of(data: DataRange) -> date:
    """The last day an as_of may take: ``GRACE_MONTHS_AFTER_DATA`` calendar months after the last day the data records
    (``DataRange.observed_until``: a later cancellation, ticket closing or payment counts)."""
    return add_months(data.observed_until, GRACE_MONTHS_AFTER_DATA)


def check_in_data(day: date, data: DataRange) -> date:
    """``day`` if the data covers it (``data.first`` .. ``latest_as_of(data)``), else ``QueryError`` naming the range."""
    if not data.first <= day <= latest_as_of(data):
        side = "before the data starts" if day < data.first else "after the data ends"
        raise QueryError(f"as_of {day.isoformat()} is {side}: the data runs from {data.describe()} (as_of may be up to "
                         f"{latest_as_of(data).isoformat()}); pick a day in that range, or omit as_of to use the data's "
                         "last day")
    return day


def data_range_ahead(source: DataSource) -> Callable[[], DataRange]:
    """``source.data_range()`` looked up on a thread started now; calling the returned function waits for it and
    returns the range (``Scope.resolve``'s ``data``), or raises what the look-up raised. On SQLite the look-up's
    statements run without the interpreter lock (the ``sqlite3`` module releases it while a statement steps), so the
    caller's own work meanwhile — e.g. ``lifecycle metrics`` importing pandas and the metrics, about a second — runs on
    the other core: a cold catalogue at 100k customers spends ~1.5 s in this look-up. The same value as a direct call
    (the same statements, memoised the same way). Elsewhere (DuckDB, Spark: drivers a thread would import beside the
    caller's imports) the look-up runs when the result is asked for."""
    if source.name != "sqlite":
        return source.data_range
    found: list[DataRange] = []
    failed: list[BaseException] = []

    def look_up() -> None:
        try:
            found.append(source.data_range())
        except BaseException as exc:  # handed to the caller, raised where it asks
            failed.append(exc)

    thread = threading.Thread(target=look_up, name="lifecycle-data-range", daemon=True)
    thread.start()

    def result() -> DataRange:
        thread.join()
        if failed:
            raise failed[0]
        return found[0]

    return result


@dataclass(frozen=True)
class Window:
    """An inclusive date range ``[start, end]`` a metric is measured over."""

    start: date
    end: date

    @classmethod
    def trailing_months(cls, as_of: date, months: int = DEFAULT_PERIOD_MONTHS) -> Window:
        """The ``months`` calendar months ending on ``as_of`` (e.g. TTM: 2024-07-01 .. 2025-06-30 for as_of 2025-06-30)."""
        return cls(add_months(as_of, -months) + timedelta(days=1), as_of)

    @property
    def days(self) -> int:
        """Number of days in the window, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int | None:
        """The number of calendar months the window spans when it is ``trailing_months(end, n)`` (n ≤ 120), else None."""
        for n in range(1, 121):
            start = add_months(self.end, -n) + timedelta(days=1)
            if start == self.start:
                return n
            if start < self.start:
                return None
        return None

    def previous(self) -> Window:
        """The period of the same length just before this one: the same number of calendar months when the window is
        whole trailing months (2025-03-01..2025-03-31 → 2025-02-01..2025-02-28), else the same number of days."""
        before = self.start - timedelta(days=1)
        months = self.months
        if months is not None and self.start.day == 1:  # calendar months: March → February, not Jan 29..Feb 28
            return Window(add_months(self.start, -months), before)
        if months is not None:
            return Window.trailing_months(before, months)
        return Window(before - timedelta(days=self.days - 1), before)

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Scope:
    """Everything that fixes a computation's population and time: as_of, window and filters."""

    as_of: date
    window: Window
    filters: Filters = field(default_factory=Filters)
    as_of_inferred: bool = False  # True when as_of was not given and the data's last day was used

    @classmethod
    def at(cls, as_of: date, filters: Filters | None = None, window: Window | None = None) -> Scope:
        """A scope with the default trailing-12-month window (``as_of`` checked by :func:`check_as_of` only)."""
        check_as_of(as_of)
        return cls(as_of, window or Window.trailing_months(as_of), filters or Filters())

    @classmethod
    def resolve(cls, source: DataSource, as_of: date | None = None, *, filters: Filters | None = None,
                period_months: int = DEFAULT_PERIOD_MONTHS, data: DataRange | None = None) -> Scope:
        """The scope for what a user asked (module docstring): ``as_of`` defaulting to the data's last day and
        otherwise checked against the data's range, the ``period_months`` ending on it, ``filters``.

        ``data`` saves the look-up when the caller already knows the range."""
        if as_of is not None:
            check_as_of(as_of)
        if period_months < 1:
            raise QueryError(f"period_months must be at least 1 (got {period_months})")
        covered = data or source.data_range()
        day = covered.last if as_of is None else check_in_data(as_of, covered)
        if filters is not None and any(filters.values(d) for d in Dimension):
            connection = source.connect()
            try:
                check_filter_values(connection, filters)
            finally:
                connection.close()
        return cls(day, Window.trailing_months(day, period_months), filters or Filters(), as_of is None)

    def with_filters(self, filters: Filters) -> Scope:
        """The same as_of and period for another population."""
        return Scope(self.as_of, self.window, filters, self.as_of_inferred)

    def key(self) -> tuple[date, Window, Filters]:
        """What a computation depends on (caches key on it; ``as_of_inferred`` does not change a number)."""
        return (self.as_of, self.window, self.filters)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: as_of, whether it was inferred, the period and the filters that are set."""
        return {"as_of": self.as_of.isoformat(), "as_of_inferred": self.as_of_inferred, "period": self.window.to_dict(),
                "filters": self.filters.to_dict()}


def dimension_values(connection: Connection, dimension: Dimension) -> list[str]:
    """The values a filter on ``dimension`` can select, sorted: the customers' distinct non-empty values, and for
    ``plan`` also the subscriptions' plans (the plan filter reads the subscription's plan, ``lifecycle.filters``)."""
    values = set(distinct_values(connection, "customers", dimension.customer_column))
    if dimension is Dimension.PLAN:
        values |= set(distinct_values(connection, "subscriptions", "plan"))
    return sorted(values)


def listing(values: list[str]) -> str:
    """``a, b, c`` (at most ``MAX_VALUES_LISTED``, then how many more); ``(none in the data)`` when empty."""
    shown = ", ".join(values[:MAX_VALUES_LISTED]) or "(none in the data)"
    return shown + (f" … and {len(values) - MAX_VALUES_LISTED} more" if len(values) > MAX_VALUES_LISTED else "")


def check_filter_values(connection: Connection, filters: Filters) -> None:
    """``QueryError`` naming the first dimension with a value the data does not hold (``dimension_values``) and
    listing the valid ones — a filter that would silently select nobody."""
    for dimension in Dimension:
        chosen = filters.values(dimension)
        if not chosen:
            continue
        valid = dimension_values(connection, dimension)
        unknown = [v for v in chosen if v not in valid]
        if unknown:
            raise QueryError(f"unknown {dimension.value} value(s) {', '.join(repr(v) for v in unknown)}; "
                             f"valid values: {listing(valid)}")
