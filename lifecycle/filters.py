"""Population filters and time windows, applied uniformly to every metric.

A ``Filters`` value selects customers by their attributes (any-of within a dimension, all-of across
dimensions), by signup cohort range and by lifecycle stage on as_of (``Dataset`` resolves the stage from the
classification of the population the other filters select); every other table is restricted to the selected
customers. Leads
are not customers yet: lead-based metrics apply the dimensions leads carry (``segment``; ``channel`` →
``leads.source``) and report the others as not applicable in ``Filters.lead_notes``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

from lifecycle.errors import QueryError


class Dimension(StrEnum):
    """A customer attribute that populations can be filtered and compared by."""

    SEGMENT = "segment"
    PLAN = "plan"
    CHANNEL = "channel"
    INDUSTRY = "industry"
    COUNTRY = "country"
    COMPANY_SIZE = "company_size"

    @property
    def customer_column(self) -> str:
        """The ``customers`` column holding this attribute."""
        return "acquisition_channel" if self is Dimension.CHANNEL else self.value

    @property
    def lead_column(self) -> str | None:
        """The ``leads`` column holding this attribute, or None when leads do not carry it."""
        return {Dimension.SEGMENT: "segment", Dimension.CHANNEL: "source"}.get(self)


@dataclass(frozen=True)
class Filters:
    """Which customers a computation covers. Empty tuples mean "all"."""

    segment: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    industry: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    company_size: tuple[str, ...] = ()
    cohort_from: date | None = None
    cohort_to: date | None = None
    stage: tuple[str, ...] = ()  # lifecycle stage on as_of ("churned" for churned customers); resolved by Dataset

    def values(self, dimension: Dimension) -> tuple[str, ...]:
        """The selected values of ``dimension`` (empty = all)."""
        return getattr(self, dimension.value)

    def is_empty(self) -> bool:
        """True when the filters select every customer."""
        return (not any(self.values(d) for d in Dimension) and self.cohort_from is None and self.cohort_to is None
                and not self.stage)

    def without_stage(self) -> Filters:
        """The same filters without the stage (the population whose stages decide who is in)."""
        return replace(self, stage=())

    def customer_sql(self, alias: str = "") -> tuple[str, list[object]]:
        """A SQL boolean expression over ``customers`` (column prefix ``alias``) and its bound parameters."""
        prefix = f"{alias}." if alias else ""
        clauses: list[str] = []
        params: list[object] = []
        for dimension in Dimension:
            chosen = self.values(dimension)
            if chosen:
                clauses.append(f"{prefix}{dimension.customer_column} IN ({', '.join('?' * len(chosen))})")
                params.extend(chosen)
        if self.cohort_from is not None:
            clauses.append(f"{prefix}signup_date >= ?")
            params.append(self.cohort_from.isoformat())
        if self.cohort_to is not None:
            clauses.append(f"{prefix}signup_date <= ?")
            params.append(self.cohort_to.isoformat())
        return (" AND ".join(clauses) or "1 = 1"), params

    def lead_sql(self, alias: str = "") -> tuple[str, list[object]]:
        """A SQL boolean expression over ``leads`` for the dimensions leads carry, and its parameters."""
        prefix = f"{alias}." if alias else ""
        clauses: list[str] = []
        params: list[object] = []
        for dimension in Dimension:
            chosen = self.values(dimension)
            if chosen and dimension.lead_column:
                clauses.append(f"{prefix}{dimension.lead_column} IN ({', '.join('?' * len(chosen))})")
                params.extend(chosen)
        if self.cohort_from is not None:
            clauses.append(f"{prefix}created_at >= ?")
            params.append(self.cohort_from.isoformat())
        if self.cohort_to is not None:
            clauses.append(f"{prefix}created_at <= ?")
            params.append(self.cohort_to.isoformat())
        return (" AND ".join(clauses) or "1 = 1"), params

    @property
    def lead_notes(self) -> tuple[str, ...]:
        """Dimensions that cannot be applied to leads (they are ignored there, and results say so)."""
        notes = tuple(f"filter '{d.value}' does not apply to leads" for d in Dimension if self.values(d) and d.lead_column is None)
        return notes + (("filter 'stage' does not apply to leads",) if self.stage else ())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description with only the filters that are set (stable key order)."""
        out: dict[str, object] = {d.value: list(self.values(d)) for d in Dimension if self.values(d)}
        if self.cohort_from is not None:
            out["cohort_from"] = self.cohort_from.isoformat()
        if self.cohort_to is not None:
            out["cohort_to"] = self.cohort_to.isoformat()
        if self.stage:
            out["stage"] = list(self.stage)
        return out


def add_months(day: date, months: int) -> date:
    """``day`` shifted by whole calendar months, clamped to the target month's last day."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Window:
    """An inclusive date range ``[start, end]`` a metric is measured over."""

    start: date
    end: date

    @classmethod
    def trailing_months(cls, as_of: date, months: int = 12) -> Window:
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

    @classmethod
    def at(cls, as_of: date, filters: Filters | None = None, window: Window | None = None) -> Scope:
        """A scope with the default trailing-12-month window (``as_of`` checked by :func:`check_as_of`)."""
        check_as_of(as_of)
        return cls(as_of, window or Window.trailing_months(as_of), filters or Filters())


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
