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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from lifecycle import paging
from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters
from lifecycle.lazy import deferred_module
from lifecycle.membership import is_member, positions_in
from lifecycle.metrics.revenue_movements import (
    MOVEMENTS,
    CustomerMovement,
    MonthMovements,
    Movement,
    customer_mrr_matrix,
    month_moves,
    month_row,
)
from lifecycle.scope import Scope

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from lifecycle.stages.history import StageStates
    from lifecycle.stages.model import StageModel
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

STAGE = "stage"
KEPT_MONTHS = 24
"""``_kept_stages`` also looks for stage states on as_of and the same day 1..k months earlier for every k up to this
(``lifecycle.stages.history.checkpoints``: the stagnation metric's time in stage keeps such states), beside the flow
metrics' own checkpoints."""
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


def stage_at_month_start(dataset: Dataset, month: date, customer_ids: Sequence[str] | None = None) -> pd.Series:
    """Each customer's lifecycle stage on the last day of the month before ``month`` (``churned`` when churned by
    then), indexed by customer_id; customers who signed up later are absent. With ``customer_ids``, only the rows of
    the customers among them (the same values: a page of movers names 50 stages, not a million).

    When that day is one of the monthly checkpoints whose stage states are already at hand (``_kept_stages``: the
    flow metrics' states, in the process memo or kept as Parquet by an earlier process) they are read from there
    instead of classifying the whole base on that day (a narrow snapshot of every customer: seconds at a million):
    the same ``stages_at`` per day, for every customer in the scope on as_of — which holds every customer of the MRR
    matrix, the only ones looked up (a customer absent on the day reads as not signed up yet either way). Otherwise
    ``stages_at`` of the day, or with ``customer_ids`` ``stages_among`` (only their snapshot rows classified)."""
    from lifecycle.stages.history import stages_among, stages_at
    from lifecycle.stages.model import model_for

    day = min(month - timedelta(days=1), dataset.as_of)
    model = model_for(dataset)
    kept = _kept_stages(dataset, model, day, customer_ids)
    if kept is not None:
        return kept
    stages = stages_at(dataset, model, day) if customer_ids is None else stages_among(dataset, model, day, customer_ids)
    return stages["stage"].astype("string").where(~stages["churned"], "churned")


def _kept_stages(dataset: Dataset, model: StageModel, day: date, customer_ids: Sequence[str] | None = None) -> pd.Series | None:
    """``stage_at_month_start``'s series on ``day`` from stage states at hand whose checkpoints include ``day`` (the
    flow metrics' ``spell_checkpoints``, or as_of and 1..``KEPT_MONTHS`` months before it), restricted to the
    customers in the scope on ``day`` (and to those among ``customer_ids`` when given: only their rows of the states
    are looked at); None when no such states are at hand."""
    from lifecycle.metrics.flow import spell_checkpoints
    from lifecycle.stages.history import checkpoints, kept_day_rows, stage_states, states_at_hand, states_held

    whole = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    candidates = [tuple(spell_checkpoints(dataset)), *(tuple(checkpoints(dataset.as_of, k)) for k in range(KEPT_MONTHS, 0, -1))]
    filters = dataset.filters
    by_population = not filters.is_empty() and not filters.stage and filters.cohort_from is None and filters.cohort_to is None
    for days in dict.fromkeys(candidates):
        if day in days and states_at_hand(whole, model, days):
            j = days.index(day)
            if customer_ids is not None and (by_population or filters.is_empty()) and not states_held(whole, model, days):
                rows = kept_day_rows(whole, model, days, j, customer_ids)  # only their rows of the day's column
                if rows is not None:
                    return _named(dataset, rows, by_population)
            states = stage_states(whole if by_population else dataset, model, days)
            rows = _rows_among(states, customer_ids)
            inside = states.codes[rows, j] >= 0
            if by_population:  # the whole base's rows of the population (``_population_states``)
                inside &= _population_states(dataset, states, rows, j)
            rows = rows[inside]
            labels = np.asarray(states.labels, dtype=object)[states.codes[rows, j]]
            named = np.where(states.churned[rows, j], "churned", labels)
            return pd.Series(pd.array(named, dtype="string"), index=states.ids[rows], name="stage")
    return None


def _named(dataset: Dataset, rows: pd.DataFrame, by_population: bool) -> pd.Series:
    """``_kept_stages``' series from ``kept_day_rows``' rows: those signed up that day (a stage) and, for attribute
    filters, in the population and (plan filter) paying for a chosen plan that day (``_population_states``)."""
    inside = np.array(rows["stage"].notna().to_numpy(), dtype=bool)  # a copy: it is narrowed in place
    if by_population:
        inside &= is_member(rows["customer_id"], dataset.population())
        if dataset.filters.plan:
            inside &= is_member(rows["plan"], list(dataset.filters.plan))
    kept = rows[inside]
    named = np.where(kept["churned"].to_numpy(dtype=bool), "churned", kept["stage"].to_numpy(dtype=object))
    return pd.Series(pd.array(named, dtype="string"), index=pd.Index(kept["customer_id"], dtype="string", name="customer_id"),
                     name="stage")


def _rows_among(states: StageStates, customer_ids: Sequence[str] | None) -> np.ndarray:
    """The rows of ``states`` (ascending) of the customers among ``customer_ids``; every row when None."""
    if customer_ids is None:
        return np.arange(len(states.ids))
    found = positions_in(pd.array(list(map(str, customer_ids)), dtype="string"), states.ids)
    return np.unique(found[found >= 0])


def _population_states(dataset: Dataset, whole: StageStates, rows: np.ndarray, j: int) -> np.ndarray:
    """Which of the rows ``rows`` of the whole base's states ``whole`` are in the scope of ``dataset`` (attribute
    filters only) on its ``j``-th day, given they are signed up by then: in the filters' population
    (``Dataset.population``: the rows ``Filters.select`` keeps of the snapshot on as_of, ``stage_states``' first day)
    and, for a plan filter, paying for a chosen plan that day — what ``stage_states`` of the filtered dataset marks,
    without classifying the filtered customers on as_of (a snapshot of the whole base read and classified: seconds at
    a million customers)."""
    inside = is_member(whole.ids[rows], dataset.population())
    if dataset.filters.plan:
        assert whole.plan_codes is not None
        chosen = [k for k, plan in enumerate(whole.plans) if plan in dataset.filters.plan]
        inside &= np.isin(whole.plan_codes[rows, j], chosen)
    return inside


def _attributes(dataset: Dataset, customer_ids: list[str]) -> pd.DataFrame:
    """Segment, plan and channel of the scope's customers among ``customer_ids``, indexed by customer_id — the page's
    customers looked up by id (``Dataset.customers_among``), not every customer read."""
    dimensions = (Dimension.SEGMENT, Dimension.PLAN, Dimension.CHANNEL)
    customers = dataset.customers_among(customer_ids, ("customer_id", *(d.customer_column for d in dimensions)))
    ids = customers["customer_id"].astype("string")
    return pd.DataFrame({d.value: customers[d.customer_column].astype("string").to_numpy() for d in dimensions},
                        index=ids)


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
    moves = month_moves(dataset, first)
    codes = [MOVEMENTS.index(k) for k in kinds]
    found = np.flatnonzero(np.isin(moves.kinds, codes))  # the movers of the chosen types, in the movers' order
    page = [moves.movement(int(i)) for i in found[offset: offset + limit]]  # objects for the page only
    attributes = _attributes(dataset, [m.customer_id for m in page])
    stages = (stage_at_month_start(dataset, first, [m.customer_id for m in page]) if with_stage and page
              else pd.Series(dtype="string"))
    stages = stages[is_member(stages.index, [m.customer_id for m in page])]  # a look-up per mover in a short index
    items = tuple(_mover(m, attributes, stages, with_stage) for m in page)
    end = offset + len(page)
    kind_of, amount_of = moves.kinds[found], moves.amounts[found]
    counts = {k.value: int((kind_of == c).sum()) for k, c in zip(kinds, codes, strict=True)}
    # Python's sum in the movers' order, as a list of the movers summed it
    amounts = {k.value: float(sum(amount_of[kind_of == c].tolist())) for k, c in zip(kinds, codes, strict=True)}
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
    customers = dataset.customer_columns(("customer_id", dimension.customer_column))
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
    fallback = NEW_STAGE if by == STAGE else NO_VALUE
    months = (j - 1, j) if j > 0 else (j,)
    if by == STAGE:  # the stage at each month's start
        labels = {k: _labels(group_key(dataset, by, matrix.months[k]), matrix.customer_ids, fallback) for k in months}
    else:  # an attribute: the same labels for both months
        same = _labels(group_key(dataset, by, first), matrix.customer_ids, fallback)
        labels = {k: same for k in months}
    paid = {k: _paid_before(values, k) for k in months}  # every customer's, once per month, then masked per group
    out = []
    for group in sorted(set().union(*(set(labels[k].categories[np.unique(labels[k].codes)]) for k in labels))):
        mask = _members(labels[j], group)
        current = month_row(matrix, j, _column(values, j - 1, mask), values[mask, j], paid[j][mask])
        before = None
        if j > 0:
            was = _members(labels[j - 1], group)
            before = month_row(matrix, j - 1, _column(values, j - 2, was), values[was, j - 1], paid[j - 1][was])
        out.append(GroupBridge(group, current, before))
    return tuple(sorted(out, key=lambda g: (-g.current.starting_mrr, g.group)))


def _labels(keys: pd.Series, customer_ids: pd.Index, fallback: str) -> pd.Categorical:
    """Each matrix customer's group label (``fallback`` where ``keys`` has none), as a categorical."""
    return pd.Categorical(keys.reindex(customer_ids).astype("string").fillna(fallback))


def _members(labels: pd.Categorical, group: str) -> np.ndarray:
    return labels.codes == labels.categories.get_loc(group) if group in labels.categories else np.zeros(len(labels), dtype=bool)


def _column(values: np.ndarray, k: int, mask: np.ndarray) -> np.ndarray:
    """Month-end MRR of month ``k`` of the rows in ``mask`` (0 before the first month: ``previous_month_values``)."""
    return values[mask, k] if k >= 0 else np.zeros(int(mask.sum()))


def _paid_before(values: np.ndarray, j: int) -> np.ndarray:
    """Whether each row paid at a month-end before month ``j`` (``ever_paid_before``)."""
    return np.asarray((values[:, :j] > 0).any(axis=1), dtype=bool) if j > 0 else np.zeros(values.shape[0], dtype=bool)
