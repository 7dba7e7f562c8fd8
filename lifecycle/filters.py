"""Population filters, applied uniformly to every metric (the time side of a scope: ``lifecycle.scope``).

A ``Filters`` value selects customers by their attributes (any-of within a dimension, all-of across
dimensions), by signup cohort range and by lifecycle stage on as_of (``Dataset`` resolves the stage from the
classification of the population the other filters select); every other table is restricted to the selected
customers. Leads
are not customers yet: lead-based metrics apply the dimensions leads carry (``segment``; ``channel`` →
``leads.source``) and report the others as not applicable in ``Filters.lead_notes``.

``plan`` is the plan a customer pays for where the data has subscriptions: the ``plan`` of the customer's latest
subscription started by as_of (latest ``start_date``, then ``subscription_id``) that names one; the customer's own
``customers.plan`` only when no such subscription exists (``plan_sql``). So a customer who upgraded from Basic to
Pro on 1 March is a Basic customer in February and a Pro customer from March on — and moves with all of their MRR.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any


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

    @classmethod
    def by_dimension(cls, chosen: Mapping[Dimension | str, Sequence[str]]) -> Filters:
        """Filters selecting, in each dimension given, the customers with any of its values."""
        changes: dict[str, object] = {Dimension(d).value: tuple(values) for d, values in chosen.items()}
        return replace(cls(), **changes)  # type: ignore[arg-type]  # the keys are field names, by construction

    def values(self, dimension: Dimension) -> tuple[str, ...]:
        """The selected values of ``dimension`` (empty = all)."""
        return getattr(self, dimension.value)

    def is_empty(self) -> bool:
        """True when the filters select every customer. Worked out once per (frozen) value and kept in its
        ``__dict__``: a filtered fact bundle asks ~95 times, each a pass over the dimensions."""
        found = self.__dict__.get("_is_empty")
        if found is None:
            found = (not any(self.values(d) for d in Dimension) and self.cohort_from is None and self.cohort_to is None
                     and not self.stage)
            object.__setattr__(self, "_is_empty", found)  # not a field: equality, hash and repr ignore it
        return found

    def without_stage(self) -> Filters:
        """The same filters without the stage (the population whose stages decide who is in)."""
        return replace(self, stage=())

    def customer_sql(self, alias: str = "", plans_before: str | None = None) -> tuple[str, list[object]]:
        """A SQL boolean expression over ``customers`` (column prefix ``alias``) and its bound parameters.

        ``plans_before`` (ISO text of the day after as_of; pass it when the data has a subscriptions table) makes
        the plan dimension read the subscription's plan (module docstring, ``plan_sql``); without it, and for every
        other dimension, the ``customers`` column."""
        prefix = f"{alias}." if alias else ""
        clauses: list[str] = []
        params: list[object] = []
        for dimension in Dimension:
            chosen = self.values(dimension)
            if chosen:
                if dimension is Dimension.PLAN and plans_before is not None:
                    clauses.append(f"{plan_sql(alias or 'customers')} IN ({', '.join('?' * len(chosen))})")
                    params.append(plans_before)
                else:
                    clauses.append(f"{prefix}{dimension.customer_column} IN ({', '.join('?' * len(chosen))})")
                params.extend(chosen)
        if self.cohort_from is not None:
            clauses.append(f"{prefix}signup_date >= ?")
            params.append(self.cohort_from.isoformat())
        if self.cohort_to is not None:
            clauses.append(f"{prefix}signup_date <= ?")
            params.append(self.cohort_to.isoformat())
        return (" AND ".join(clauses) or "1 = 1"), params

    def select(self, snapshot: Any) -> Any:
        """Which rows of a per-customer snapshot (``lifecycle.snapshot``: the attribute columns, ``plan`` as the plan
        the customer pays for on its as_of, ``signup_date``) the attribute and cohort filters select — the rows
        ``customer_sql`` selects, evaluated in pandas (a boolean numpy array). The stage filter is not applied here
        (``Dataset.stage_members``).

        The snapshot's ``plan`` is the plan ``plan_sql`` reads (latest named subscription started by as_of, else the
        customer's own), so a filtered scope is a mask over the whole base's snapshot, not another query."""
        import numpy as np  # a snapshot exists only once pandas is loaded; this module stays cheap to import

        from lifecycle.membership import is_member

        keep = np.ones(len(snapshot), dtype=bool)
        for dimension in Dimension:
            chosen = self.values(dimension)
            if chosen:
                keep &= is_member(snapshot[dimension.customer_column], chosen)
        signup = snapshot["signup_date"] if (self.cohort_from or self.cohort_to) else None
        if signup is not None and self.cohort_from is not None:
            keep &= (signup >= np.datetime64(self.cohort_from.isoformat(), "us")).fillna(False).to_numpy(dtype=bool)
        if signup is not None and self.cohort_to is not None:
            keep &= (signup <= np.datetime64(self.cohort_to.isoformat(), "us")).fillna(False).to_numpy(dtype=bool)
        return keep

    def select_leads(self, leads: Any) -> Any:
        """Which rows of the ``leads`` table (``segment``, ``source``, ``created_at`` parsed) ``lead_sql`` selects,
        evaluated in pandas (a boolean numpy array): a filtered scope masks the whole table's cached rows."""
        import numpy as np

        from lifecycle.membership import is_member

        keep = np.ones(len(leads), dtype=bool)
        for dimension in Dimension:
            chosen = self.values(dimension)
            if chosen and dimension.lead_column:
                keep &= is_member(leads[dimension.lead_column], chosen)
        if self.cohort_from is not None:
            keep &= (leads["created_at"] >= np.datetime64(self.cohort_from.isoformat(), "us")).fillna(False).to_numpy(dtype=bool)
        if self.cohort_to is not None:
            keep &= (leads["created_at"] <= np.datetime64(self.cohort_to.isoformat(), "us")).fillna(False).to_numpy(dtype=bool)
        return keep

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


def plan_sql(customers: str) -> str:
    """SQL for a customer's plan (module docstring) over the ``customers`` row named ``customers``: the plan of the
    latest subscription started before the one bound parameter (the day after as_of) that names a plan, else
    ``customers.plan``."""
    return (f"COALESCE((SELECT s.plan FROM subscriptions s WHERE s.customer_id = {customers}.customer_id "
            f"AND s.plan IS NOT NULL AND s.plan <> '' AND s.start_date < ? "
            f"ORDER BY s.start_date DESC, s.subscription_id DESC LIMIT 1), {customers}.plan)")


def add_months(day: date, months: int) -> date:
    """``day`` shifted by whole calendar months, clamped to the target month's last day."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
