"""Who moved MRR in one month, and the month's bridge per group — the drill-down behind "why did churn rise in M?".

``mover_page`` lists the customers behind month M's bridge (``movements_by_customer``), optionally only some movement
types, each with the customer's segment, plan and channel and their lifecycle stage at the start of M (the stage on
the last day of M−1: what they were before they moved; ``new`` when they had not signed up yet), paged with an opaque
cursor bound to the query (``lifecycle.paging``). Order: movement in bridge order, then amount descending, then id.

``bridge_by`` splits month M's bridge — and month M−1's, for the change — by one customer attribute (segment, plan,
channel, …) or by ``stage`` at the start of each month. Each group's row is the same month-end classification as the
whole bridge (``revenue_movements.month_row``), so the groups add up to the bridge, and logo churn
(churned ÷ starting customers) and MRR churn (churned MRR ÷ starting MRR) come from the same customers: a group
cannot show 0 % logo churn beside churned MRR.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from lifecycle import paging
from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.filters import Dimension
from lifecycle.lazy import deferred_module
from lifecycle.metrics.revenue_movements import (
    CustomerMovement,
    MonthMovements,
    Movement,
    customer_mrr_matrix,
    ever_paid_before,
    month_row,
    movements_by_customer,
    previous_month_values,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

STAGE = "stage"
NEW_STAGE = "new"
NO_VALUE = "(none)"
WRONG_QUERY = ("this cursor belongs to a different movers query (other month, movement types or filters): repeat the "
               "original arguments with it, or omit cursor to start from the first page")


@dataclass(frozen=True)
class Mover:
    """One customer's movement in the month, with who they are."""

    customer_id: str
    movement: Movement
    previous_mrr: float
    current_mrr: float
    amount: float
    segment: str | None
    plan: str | None
    channel: str | None
    stage: str | None  # lifecycle stage at the start of the month; "new" when not signed up yet


@dataclass(frozen=True)
class MoverPage:
    """One page of a month's movers: ``total`` movers match, ``items`` start at ``offset``."""

    month: str
    movements: tuple[Movement, ...]
    total: int
    offset: int
    limit: int
    next_cursor: str | None
    items: tuple[Mover, ...]
    counts: dict[str, int]  # movers per movement type (all matching, not only this page)
    amounts: dict[str, float]  # MRR moved per movement type


def month_start(month: str | date) -> date:
    """The first day of ``month`` (``YYYY-MM`` or any day of it); ``QueryError`` for other text."""
    if isinstance(month, date):
        return month.replace(day=1)
    try:
        return date.fromisoformat(str(month)[:7] + "-01")
    except ValueError:
        raise QueryError(f"month must be YYYY-MM, got {month!r}") from None


def stage_at_month_start(dataset: Dataset, month: date) -> pd.Series:
    """Each customer's lifecycle stage on the last day of the month before ``month`` (``churned`` when churned by
    then), indexed by customer_id; customers who signed up later are absent."""
    from lifecycle.stages.history import stages_at
    from lifecycle.stages.model import model_for

    day = min(month - timedelta(days=1), dataset.as_of)
    stages = stages_at(dataset, model_for(dataset), day)
    return stages["stage"].astype("string").where(~stages["churned"], "churned")


def _attributes(dataset: Dataset) -> pd.DataFrame:
    customers = dataset.customers()
    return pd.DataFrame({d.value: customers[d.customer_column].astype("string").to_numpy()
                         for d in (Dimension.SEGMENT, Dimension.PLAN, Dimension.CHANNEL)},
                        index=customers["customer_id"].astype("string"))


def _text(value: object) -> str | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else str(value)


def mover_page(dataset: Dataset, month: str | date, movements: Iterable[Movement | str] | None = None, *,
               limit: int = 50, cursor: str | None = None, with_stage: bool = True) -> MoverPage:
    """One page of the customers behind ``month``'s MRR bridge (see the module docstring); ``movements`` keeps only
    those types (default: all). ``QueryError`` for a month after as_of or a cursor of another query."""
    first = month_start(month)
    kinds = tuple(dict.fromkeys(Movement(m) for m in movements)) if movements else tuple(Movement)
    kinds = tuple(m for m in Movement if m in kinds)
    digest = paging.query_digest({"month": first.isoformat(), "movements": [m.value for m in kinds],
                                  "filters": dataset.filters.to_dict()})
    offset = paging.decode_cursor(cursor, digest, WRONG_QUERY) if cursor is not None else 0
    found = [m for m in movements_by_customer(dataset, first) if m.movement in kinds]
    page = found[offset: offset + limit]
    attributes = _attributes(dataset)
    stages = stage_at_month_start(dataset, first) if with_stage and page else pd.Series(dtype="string")
    items = tuple(_mover(m, attributes, stages, with_stage) for m in page)
    end = offset + len(page)
    counts = {k.value: sum(1 for m in found if m.movement is k) for k in kinds}
    amounts = {k.value: float(sum(m.amount for m in found if m.movement is k)) for k in kinds}
    return MoverPage(first.strftime("%Y-%m"), kinds, len(found), offset, limit,
                     paging.encode_cursor(end, digest) if end < len(found) else None, items, counts, amounts)


def _mover(move: CustomerMovement, attributes: pd.DataFrame, stages: pd.Series, with_stage: bool) -> Mover:
    row = attributes.loc[move.customer_id] if move.customer_id in attributes.index else None
    stage = _text(stages.get(move.customer_id)) if with_stage else None
    return Mover(move.customer_id, move.movement, move.previous_mrr, move.current_mrr, move.amount,
                 None if row is None else _text(row["segment"]), None if row is None else _text(row["plan"]),
                 None if row is None else _text(row["channel"]), stage or (NEW_STAGE if with_stage else None))


@dataclass(frozen=True)
class GroupBridge:
    """Month M's bridge for the customers of one group, and month M−1's (None when M is the first month)."""

    group: str
    current: MonthMovements
    previous: MonthMovements | None

    @staticmethod
    def logo_churn(row: MonthMovements | None) -> float | None:
        """churned ÷ starting customers (None without starting customers)."""
        return row.churned_customers / row.starting_customers if row and row.starting_customers else None

    @staticmethod
    def mrr_churn(row: MonthMovements | None) -> float | None:
        """churned MRR ÷ starting MRR (None without starting MRR)."""
        return row.churn / row.starting_mrr if row and row.starting_mrr > 0 else None


def group_key(dataset: Dataset, by: Dimension | str, month: date) -> pd.Series:
    """Customer id → group label for ``by``: a customer attribute, or ``stage`` at the start of ``month``."""
    if by == STAGE:
        return stage_at_month_start(dataset, month)
    dimension = Dimension(by)
    customers = dataset.customers()
    return pd.Series(customers[dimension.customer_column].astype("string").to_numpy(),
                     index=customers["customer_id"].astype("string"))


def bridge_by(dataset: Dataset, month: str | date, by: Dimension | str) -> tuple[GroupBridge, ...]:
    """Month ``month``'s bridge and the month before's, per group of ``by`` (groups by starting MRR descending, then
    name; customers without a value in ``(none)``; for ``stage``, customers not signed up at the month's start in
    ``new``). The groups' rows add up to ``revenue_movements``' rows for the two months."""
    first = month_start(month)
    if first > dataset.as_of:
        raise QueryError(f"month {first:%Y-%m} is after as_of {dataset.as_of.isoformat()}; pick an earlier month")
    matrix = customer_mrr_matrix(dataset)
    if first not in matrix.months:
        return ()
    j = matrix.months.index(first)
    values = matrix.values
    previous, paid = previous_month_values(values), ever_paid_before(values)
    fallback = NEW_STAGE if by == STAGE else NO_VALUE
    labels = {k: group_key(dataset, by, matrix.months[k]).reindex(matrix.customer_ids).astype("string").fillna(fallback)
              for k in ((j - 1, j) if j > 0 else (j,))}
    out = []
    for group in sorted(set().union(*(set(labels[k]) for k in labels))):
        mask = (labels[j] == group).to_numpy()
        current = month_row(matrix, j, previous[mask, j], values[mask, j], paid[mask, j])
        before = None
        if j > 0:
            was = (labels[j - 1] == group).to_numpy()
            before = month_row(matrix, j - 1, previous[was, j - 1], values[was, j - 1], paid[was, j - 1])
        out.append(GroupBridge(group, current, before))
    return tuple(sorted(out, key=lambda g: (-g.current.starting_mrr, g.group)))
