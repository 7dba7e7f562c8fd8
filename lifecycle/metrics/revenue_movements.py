"""Revenue movements: customer-level MRR per month and the monthly MRR bridge (new, expansion, ...).

Conventions (ChartMogul "MRR movements", https://help.chartmogul.com/hc/en-us/articles/214008345;
Baremetrics "MRR", https://baremetrics.com/academy/saas-calculations-how-to-calculate-mrr):

- **MRR on a day** d is the sum of ``subscriptions.mrr`` over subscriptions active on d,
  ``start_date ≤ d < end_date`` (an empty ``end_date`` is open). Negative or missing ``mrr`` counts as 0.
- **Month-end MRR** of month m is the MRR on m's last day; for the month containing ``as_of`` it is the MRR
  on ``as_of`` and that month is marked ``partial``. Customer-level month-end MRR is a (customers × months)
  matrix (``customer_mrr_matrix``). Amounts are rounded to 1e-6 so that float summation noise
  (0.1 + 0.2 ≠ 0.3) is never reported as a movement.
- **Movements** of month m compare each customer's MRR at the end of m−1 (prev) with the end of m (cur):
  new (prev = 0 < cur, never paid at an earlier month-end), reactivation (prev = 0 < cur, paid at an earlier
  month-end), expansion (0 < prev < cur), contraction (0 < cur < prev), churn (prev > 0 = cur: the customer's
  MRR is gone — no active paid subscription remains; cancelling one of two subscriptions is contraction, and
  a downgrade to a free plan is churn, as in ChartMogul). Movements inside a month that cancel out by its end
  (a subscription started and cancelled within the month) are invisible in a month-end bridge.
- **Identity** (the MRR bridge): ending = starting + new + expansion + reactivation − contraction − churn.

Everything is computed on ``Dataset.table("subscriptions")``: only the scope's customers, and only what was
known on ``as_of`` (a subscription ending after ``as_of`` reads as still active).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.filters import Filters, add_months
from lifecycle.lazy import deferred_module
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.scope import Scope, Window

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

MONEY_DECIMALS = 6
_OPEN_END = 2**63 - 1  # np.iinfo(np.int64).max, without loading NumPy at import


class Movement(StrEnum):
    """A kind of MRR movement, in bridge order."""

    NEW = "new"
    EXPANSION = "expansion"
    REACTIVATION = "reactivation"
    CONTRACTION = "contraction"
    CHURN = "churn"

    @property
    def sign(self) -> int:
        """+1 for movements that add MRR, −1 for those that remove it."""
        return -1 if self in (Movement.CONTRACTION, Movement.CHURN) else 1


@dataclass(frozen=True)
class _Subscriptions:
    customer_ids: pd.Index  # sorted unique customer ids
    codes: np.ndarray  # row → position in customer_ids
    start: np.ndarray  # day numbers (int64)
    end: np.ndarray  # day numbers, _OPEN_END when open
    mrr: np.ndarray  # float64, ≥ 0

    @property
    def empty(self) -> bool:
        return len(self.mrr) == 0


def _day_numbers(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[D]").astype("int64")


def _to_day_number(day: date) -> int:
    return int(np.datetime64(day, "D").astype("int64"))


def _subscriptions(dataset: Dataset) -> _Subscriptions:
    """The scope's subscriptions as arrays (customer codes in id order, day numbers, MRR ≥ 0), once per ``Dataset``:
    the MRR matrix, the point-in-time MRR and the cohort retention of one scope share them (read-only). The whole
    base's once per data identity and as_of in the process memo: every whole-base dataset of a call (a group's
    baseline, the rescoped whole behind a filtered scope's rows) reads the same arrays."""
    key = "__subscription_arrays__"
    if key not in dataset._cache:
        whole = dataset.identity is not None and dataset.filters.is_empty()  # the whole base's: once per data and as_of
        memo = ("subscription-arrays", dataset.identity, dataset.as_of)
        dataset._cache[key] = (remember(memo, lambda: _subscription_arrays(dataset)) if whole  # type: ignore[assignment]
                               else _subscription_arrays(dataset))
    return dataset._cache[key]  # type: ignore[return-value]


def _subscription_arrays(dataset: Dataset) -> _Subscriptions:
    frame = dataset.table("subscriptions")
    frame = frame[frame["start_date"].notna()]
    codes, uniques = pd.factorize(frame["customer_id"], sort=True)
    end = frame["end_date"]
    end_days = np.full(len(frame), _OPEN_END, dtype="int64")
    known = end.notna().to_numpy()
    if known.any():
        end_days[known] = _day_numbers(end[known])
    mrr = frame["mrr"].to_numpy(dtype="float64", na_value=0.0)
    return _Subscriptions(
        customer_ids=pd.Index(uniques, dtype="string", name="customer_id"), codes=np.asarray(codes, dtype="int64"),
        start=_day_numbers(frame["start_date"]), end=end_days, mrr=np.clip(mrr, 0.0, None),
    )


def _customer_mrr_on_days(subs: _Subscriptions, days: list[date]) -> np.ndarray:
    """(customers × days) MRR: Σ mrr of subscriptions with start ≤ day < end, rounded to MONEY_DECIMALS."""
    day_numbers = np.array([_to_day_number(d) for d in days], dtype="int64")
    out = np.zeros((len(subs.customer_ids), len(days)))
    for j, day in enumerate(day_numbers):  # per day, a weighted count in subscription order (as a running sum would add)
        covering = (subs.start <= day) & (day < subs.end)
        out[:, j] = np.bincount(subs.codes, weights=np.where(covering, subs.mrr, 0.0), minlength=len(subs.customer_ids))
    return np.round(out, MONEY_DECIMALS)


def customer_mrr_on(dataset: Dataset, day: date) -> pd.Series:
    """Each customer's MRR on ``day`` (Σ mrr of subscriptions with start ≤ day < end), indexed by customer_id.

    Covers every customer of the scope with a subscription known on ``as_of``; customers paying nothing show 0.
    A filtered scope's are the whole base's rows of its customers (``_mrr_on_days``).
    """
    ids, values = _mrr_on_days(dataset, (day,))
    return pd.Series(values[:, 0], index=ids, name="mrr", dtype="float64")


def mrr_values_on(dataset: Dataset, day: date) -> np.ndarray:
    """``customer_mrr_on(dataset, day)``'s values without their ids (same values, same order): what a point-in-time
    total and count need, without taking a filtered scope's ids out of the whole base's per metric and group."""
    if dataset.identity is None or dataset.filters.is_empty():
        return _mrr_on_days(dataset, (day,))[1][:, 0]
    ids, values = remember(("mrr-on-days", dataset.identity, dataset.as_of, dataset.config.fingerprint(), (day,)),
                           lambda: _mrr_on_days(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters())), (day,)))
    return values[np.flatnonzero(_in_scope(ids, dataset)), 0]


def _mrr_on_days(dataset: Dataset, days: tuple[date, ...]) -> tuple[pd.Index, np.ndarray]:
    """The scope's customers with a subscription (ids in order) and their MRR on each of ``days`` (``_customer_mrr_on_days``).

    A customer's MRR on a day is the sum over their own subscriptions, in the order the table holds them, whoever
    else is in the scope: a filtered scope (opened through ``Dataset.over``) takes the rows of its customers (the
    population, and the stage members for a stage filter: the rows ``Dataset.table`` keeps) from the whole base's
    values, memoised per data identity, as_of, configuration and days — the same ids in the same order and the same
    floats its own subscriptions give, without factorising its subscriptions again per segment."""
    if dataset.identity is None or dataset.filters.is_empty():
        subs = _subscriptions(dataset)
        values = _customer_mrr_on_days(subs, list(days)) if not subs.empty else np.zeros((0, len(days)))
        return subs.customer_ids, values

    def whole_values() -> tuple[pd.Index, np.ndarray]:
        return _mrr_on_days(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters())), days)

    ids, values = remember(("mrr-on-days", dataset.identity, dataset.as_of, dataset.config.fingerprint(), days), whole_values)
    rows = np.flatnonzero(_in_scope(ids, dataset))
    return ids[rows], values[rows]


def _in_scope(ids: pd.Index, dataset: Dataset) -> np.ndarray:
    """Which of the customer ``ids`` the filtered ``dataset`` keeps: the population, and the stage members for a stage
    filter (what ``Dataset.table`` keeps of each table). Once per dataset for the whole base's subscriber ids (the
    point-in-time MRR, the MRR matrix and the cohort retention of one scope all mask the same memoised ids: at a million
    subscribers each mask is a pass over a million strings)."""
    found = dataset._cache.get("__in_scope__")
    if found is not None and found[0] is ids:  # type: ignore[index]  # (ids, mask) kept below
        return found[1]  # type: ignore[index,no-any-return]
    from lifecycle.metrics.grouped import group_mask  # pandas: this module stays cheap to import

    grouped = group_mask(dataset, ("ids", id(ids)), ids)  # compare_segments' groups (lifecycle.metrics.grouped)
    keep = grouped if grouped is not None else is_member(ids, dataset.population())
    if dataset.filters.stage:
        keep &= is_member(ids, dataset.stage_members())
    keep.flags.writeable = False  # shared by the scope's readers
    dataset._cache["__in_scope__"] = (ids, keep)  # type: ignore[assignment]  # the dataset's per-scope cache
    return keep


def month_end(month: date, as_of: date) -> date:
    """The day month-end MRR is read for ``month``: its last day, or ``as_of`` inside the month holding it."""
    last = add_months(month.replace(day=1), 1) - timedelta(days=1)
    return min(last, as_of)


@dataclass(frozen=True)
class MrrMatrix:
    """Customer-level month-end MRR: ``values[i, j]`` is customer i's MRR at ``month_ends[j]``."""

    customer_ids: pd.Index
    months: tuple[date, ...]  # first day of each month, oldest first, ending with the month holding as_of
    month_ends: tuple[date, ...]  # the day each month's MRR is read on
    partial_last: bool  # True when the last month is read on as_of before its last day
    values: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a frame: one row per customer, one column per month labelled ``YYYY-MM``."""
        return pd.DataFrame(self.values, index=self.customer_ids, columns=[m.strftime("%Y-%m") for m in self.months])


def customer_mrr_matrix(dataset: Dataset) -> MrrMatrix:
    """Month-end MRR per customer and month, from the month of the first subscription to the month of ``as_of``.

    Built vectorised over subscriptions × month-ends (no loop over customers). An empty matrix (no months)
    when the scope has no subscriptions.

    Once per ``Dataset``; the whole base's matrix once per (data, as_of) in the process memo, and a filtered scope's is
    its rows of the scope's customers from the month of their first subscription on (``_rows_of``): a customer's
    month-end MRR is the sum over their own subscriptions, whoever else is in the scope.
    """
    key = "__mrr_matrix__"
    if key not in dataset._cache:
        if dataset.identity is None:
            matrix = _matrix(dataset)
        elif dataset.filters.is_empty():
            matrix = _whole_matrix(dataset).matrix
        else:
            matrix = _rows_of(_whole_matrix(dataset), dataset)
        dataset._cache[key] = matrix  # type: ignore[assignment]  # the dataset's per-scope cache
    return dataset._cache[key]  # type: ignore[return-value]


@dataclass(frozen=True)
class _WholeMatrix:
    matrix: MrrMatrix
    first_start: np.ndarray  # per customer (matrix row), the day number of their first subscription's start


def _whole_matrix(dataset: Dataset) -> _WholeMatrix:
    """The whole base's matrix on the dataset's as_of (memoised per data identity, as_of and configuration)."""
    def build() -> _WholeMatrix:
        whole = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
        subs = _subscriptions(whole)
        first = np.full(len(subs.customer_ids), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, subs.codes, subs.start)
        return _WholeMatrix(_matrix(whole), first)

    return remember(("mrr-matrix", dataset.identity, dataset.as_of, dataset.config.fingerprint()), build)


def _rows_of(whole: _WholeMatrix, dataset: Dataset) -> MrrMatrix:
    """The filtered scope's matrix from the whole base's: the rows of the customers the filters select (the rows
    ``Dataset.table`` keeps: the population, and the stage members for a stage filter), in id order, from the month
    of their earliest subscription start — what ``_matrix`` builds from the scope's own subscriptions."""
    matrix = whole.matrix
    rows = np.flatnonzero(_in_scope(matrix.customer_ids, dataset))
    ids = matrix.customer_ids[rows]
    if not len(rows) or not matrix.months:
        return MrrMatrix(ids, (), (), False, np.zeros((0, 0)))
    first = pd.Timestamp(np.datetime64(int(whole.first_start[rows].min()), "D")).date().replace(day=1)
    j = matrix.months.index(first)
    return MrrMatrix(ids, matrix.months[j:], matrix.month_ends[j:], matrix.partial_last, matrix.values[rows, j:])


def _matrix(dataset: Dataset) -> MrrMatrix:
    subs = _subscriptions(dataset)
    as_of = dataset.as_of
    if subs.empty:
        return MrrMatrix(subs.customer_ids, (), (), False, np.zeros((0, 0)))
    first = pd.Timestamp(np.datetime64(int(subs.start.min()), "D")).date().replace(day=1)
    months: list[date] = []
    month = first
    while month <= as_of:
        months.append(month)
        month = add_months(month, 1)
    ends = [month_end(m, as_of) for m in months]
    partial = ends[-1] != add_months(months[-1], 1) - timedelta(days=1)
    return MrrMatrix(subs.customer_ids, tuple(months), tuple(ends), partial, _customer_mrr_on_days(subs, ends))


def classify(previous: np.ndarray, current: np.ndarray, paid_before: np.ndarray) -> dict[Movement, np.ndarray]:
    """Per-customer movement amounts (all ≥ 0) from MRR ``previous`` → ``current``.

    new = cur if prev = 0 < cur and not ``paid_before``; reactivation = cur if prev = 0 < cur and ``paid_before``;
    expansion = cur − prev if 0 < prev < cur; contraction = prev − cur if 0 < cur < prev; churn = prev if
    prev > 0 = cur. Exactly one applies (or none when MRR is unchanged), so per customer
    cur − prev = new + expansion + reactivation − contraction − churn.
    """
    was, now = previous > 0, current > 0
    return {
        Movement.NEW: np.where(~was & now & ~paid_before, current, 0.0),
        Movement.EXPANSION: np.where(was & (current > previous), current - previous, 0.0),
        Movement.REACTIVATION: np.where(~was & now & paid_before, current, 0.0),
        Movement.CONTRACTION: np.where(now & (current < previous), previous - current, 0.0),
        Movement.CHURN: np.where(was & ~now, previous, 0.0),
    }


@dataclass(frozen=True)
class MonthMovements:
    """One month of the MRR bridge: amounts in money per month, and how many customers each movement holds."""

    month: date  # first day of the month
    month_end: date  # the day ending MRR is read on (as_of for the month holding it)
    partial: bool
    starting_mrr: float
    new: float
    expansion: float
    reactivation: float
    contraction: float
    churn: float
    ending_mrr: float
    net_new: float  # new + expansion + reactivation − contraction − churn
    starting_customers: int  # paying (MRR > 0) at the end of the previous month
    new_customers: int
    expansion_customers: int
    reactivation_customers: int
    contraction_customers: int
    churned_customers: int
    ending_customers: int

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")

    def amount(self, movement: Movement) -> float:
        """The month's MRR moved by ``movement`` (≥ 0)."""
        return float(getattr(self, movement.value))

    def count(self, movement: Movement) -> int:
        """How many customers made ``movement`` this month."""
        return int(getattr(self, "churned_customers" if movement is Movement.CHURN else f"{movement.value}_customers"))

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["month"], out["month_end"] = self.label, self.month_end.isoformat()
        return out


@dataclass(frozen=True)
class MovementTable:
    """The monthly MRR bridge, oldest month first."""

    rows: tuple[MonthMovements, ...]
    as_of: date

    def complete_in(self, window: Window) -> tuple[MonthMovements, ...]:
        """Complete calendar months lying wholly inside ``window`` (first day ≥ start, last day ≤ end, not partial)."""
        return tuple(r for r in self.rows if not r.partial and r.month >= window.start and r.month_end <= window.end)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_dict() for r in self.rows])


def ever_paid_before(values: np.ndarray) -> np.ndarray:
    """paid_before[i, j]: customer i had MRR > 0 at some month-end before month j."""
    ever = np.logical_or.accumulate(values > 0, axis=1)
    return np.hstack([np.zeros((values.shape[0], 1), dtype=bool), ever[:, :-1]])


def previous_month_values(values: np.ndarray) -> np.ndarray:
    return np.hstack([np.zeros((values.shape[0], 1)), values[:, :-1]])


def revenue_movements(dataset: Dataset) -> MovementTable:
    """The monthly MRR bridge (new, expansion, reactivation, contraction, churn) for every month of the matrix.

    Per month m and customer: prev = MRR at the end of m−1, cur = MRR at the end of m (see ``classify``);
    amounts are summed over customers with ``math.fsum``. ending_mrr = Σ cur, starting_mrr = Σ prev, so
    ending = starting + net_new up to float rounding (≤ 1e-9 for realistic amounts).
    Source: ChartMogul MRR movements; Baremetrics MRR growth.

    Built once per ``Dataset`` (one scope) and shared by every metric that reads the bridge (new, expansion,
    contraction, churned and reactivation MRR, MRR churn rates, quick ratio, LTV, logo churn): the table is frozen.
    The whole base's is also kept in the process memo per (data, as_of, configuration).
    """
    key = "__revenue_movements__"
    if key not in dataset._cache:
        whole = dataset.identity is not None and dataset.filters.is_empty()  # the whole base's: once per data and as_of
        memo = ("revenue-movements", dataset.identity, dataset.as_of, dataset.config.fingerprint())
        dataset._cache[key] = remember(memo, lambda: _movements(dataset)) if whole else _movements(dataset)  # type: ignore[assignment]
    return dataset._cache[key]  # type: ignore[return-value]


BRIDGE_READERS = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr", "gross_mrr_churn_rate",
                  "net_mrr_churn_rate", "quick_ratio", "ltv", "ltv_to_cac", "cac_payback_months", "logo_churn_rate")
"""Metrics that read a scope's bridge (``revenue_movements``): its movement totals, the MRR churn rates, the quick
ratio, LTV and what divides by it, logo churn (``seed_group_movements`` fills the bridges of a group of scopes)."""


def seed_group_movements(datasets: Sequence[Dataset]) -> None:
    """Each of ``datasets``' bridge (``revenue_movements``) from one pass over the whole base's MRR matrix — disjoint
    filtered scopes of one as_of (``lifecycle.metrics.grouped``: compare_segments' groups). A scope's own bridge
    classifies its rows of the whole matrix (``_rows_of``) from the month of its earliest subscription start, where the
    month before is zero for all of them (nobody paid before their first start) — so its movements are the whole
    matrix's classification (``classify``) on its rows from that month on. Here the whole matrix is classified once,
    every non-zero entry labelled with its customer's scope (the scope masks ``_in_scope`` gives), and each scope's
    amounts are the ``math.fsum`` of its entries per movement and month — exactly rounded, so the same floats as its
    own pass; counts, starting and ending values as ``bridge_rows`` has them. Left to each scope's own path: a whole
    matrix above ``WHOLE_PASS_ENTRIES``, overlapping scopes, a scope whose bridge is already at hand."""
    from lifecycle.metrics.grouped import mask_codes

    key = "__revenue_movements__"
    if not datasets or any(key in d._cache for d in datasets):
        return
    first = datasets[0]
    whole = _whole_matrix(first)
    matrix = whole.matrix
    values, months, size = matrix.values, len(matrix.months), len(matrix.customer_ids)
    if not months or values.size > WHOLE_PASS_ENTRIES:
        return
    masks = [_in_scope(matrix.customer_ids, d) for d in datasets]
    codes = mask_codes(masks, size)
    if codes is None:
        return
    moved = classify(previous_month_values(values), values, ever_paid_before(values))
    stacked = np.vstack([*(moved[k].T for k in MOVEMENTS), values.T])  # rows: movement k of month j at k·months + j
    lines, customers = np.nonzero(stacked)
    group = codes[customers]
    kept = group >= 0
    flat = group[kept] * len(stacked) + lines[kept]  # (scope, line), in line order within a scope below
    order = np.argsort(flat, kind="stable")
    flat = flat[order]
    amounts_of = stacked[lines[kept], customers[kept]][order]
    cells = len(datasets) * len(stacked)
    bounds = np.searchsorted(flat, np.arange(cells + 1)).tolist()
    positive = np.bincount(flat[amounts_of > 0], minlength=cells).tolist()
    entries = amounts_of.tolist()
    for position, dataset in enumerate(datasets):
        rows = np.flatnonzero(masks[position])
        if not len(rows):
            dataset._cache[key] = MovementTable((), dataset.as_of)  # type: ignore[assignment]  # the per-scope cache
            continue
        start = pd.Timestamp(np.datetime64(int(whole.first_start[rows].min()), "D")).date().replace(day=1)
        base = position * len(stacked)
        sums = [math.fsum(entries[bounds[base + i]:bounds[base + i + 1]]) for i in range(len(stacked))]
        counts = positive[base:base + len(stacked)]
        ending_mrr, ending_n = sums[len(MOVEMENTS) * months:], counts[len(MOVEMENTS) * months:]
        out = []
        for j in range(matrix.months.index(start), months):
            amounts = {k: sums[i * months + j] for i, k in enumerate(MOVEMENTS)}
            n = {k: counts[i * months + j] for i, k in enumerate(MOVEMENTS)}
            later = matrix.months[j] != start
            out.append(MonthMovements(
                month=matrix.months[j], month_end=matrix.month_ends[j], partial=matrix.partial_last and j == months - 1,
                starting_mrr=ending_mrr[j - 1] if later else 0.0, new=amounts[Movement.NEW],
                expansion=amounts[Movement.EXPANSION], reactivation=amounts[Movement.REACTIVATION],
                contraction=amounts[Movement.CONTRACTION], churn=amounts[Movement.CHURN], ending_mrr=ending_mrr[j],
                net_new=math.fsum(k.sign * a for k, a in amounts.items()),
                starting_customers=ending_n[j - 1] if later else 0, new_customers=n[Movement.NEW],
                expansion_customers=n[Movement.EXPANSION], reactivation_customers=n[Movement.REACTIVATION],
                contraction_customers=n[Movement.CONTRACTION], churned_customers=n[Movement.CHURN],
                ending_customers=ending_n[j],
            ))
        dataset._cache[key] = MovementTable(tuple(out), dataset.as_of)  # type: ignore[assignment]  # the per-scope cache


def _movements(dataset: Dataset) -> MovementTable:
    return MovementTable(bridge_rows(customer_mrr_matrix(dataset)), dataset.as_of)


WHOLE_PASS_ENTRIES = 2_000_000
"""Largest matrix (customers × months) ``bridge_rows`` classifies in one pass (six float copies of it are held);
a larger one goes month by month through ``month_row`` (the same rows)."""


def bridge_rows(matrix: MrrMatrix, whole_pass_entries: int = WHOLE_PASS_ENTRIES) -> tuple[MonthMovements, ...]:
    """Every month of ``matrix`` as a bridge row: what ``month_row`` gives month by month, classified over the whole
    (customers × months) matrix at once and each amount the ``math.fsum`` of its month's non-zero entries — fsum is
    exactly rounded, so which entries are summed in which order cannot change a bit; a customer whose MRR did not
    change classifies to zeros, which add nothing. A month's starting MRR is the previous month's ending MRR (the same
    column of ``values``), summed once. Per group of compare_segments (a few hundred customers, 12–40 months) the
    month-by-month loop cost ~0.2 ms of NumPy calls per month; this is one pass per movement. A matrix of more than
    ``whole_pass_entries`` entries goes month by month (``month_row``)."""
    values = matrix.values
    months = len(matrix.months)
    if not months:
        return ()
    previous, paid_before = previous_month_values(values), ever_paid_before(values)
    if values.size > whole_pass_entries:  # the whole base of a large data set: month by month, only who changed
        return tuple(month_row(matrix, j, previous[:, j], values[:, j], paid_before[:, j]) for j in range(months))
    moved = classify(previous, values, paid_before)
    stacked = np.vstack([*(moved[k].T for k in MOVEMENTS), values.T])  # rows: movement k of month j at k·months + j
    rows, cols = np.nonzero(stacked)
    entries = stacked[rows, cols].tolist()
    bounds = np.searchsorted(rows, np.arange(len(stacked) + 1)).tolist()
    sums = [math.fsum(entries[bounds[i]:bounds[i + 1]]) for i in range(len(stacked))]
    counts = (stacked > 0).sum(axis=1).tolist()
    ending_mrr, ending_n = sums[len(MOVEMENTS) * months:], counts[len(MOVEMENTS) * months:]
    out = []
    for j in range(months):
        amounts = {k: sums[i * months + j] for i, k in enumerate(MOVEMENTS)}
        n = {k: counts[i * months + j] for i, k in enumerate(MOVEMENTS)}
        out.append(MonthMovements(
            month=matrix.months[j], month_end=matrix.month_ends[j], partial=matrix.partial_last and j == months - 1,
            starting_mrr=ending_mrr[j - 1] if j else 0.0, new=amounts[Movement.NEW], expansion=amounts[Movement.EXPANSION],
            reactivation=amounts[Movement.REACTIVATION], contraction=amounts[Movement.CONTRACTION],
            churn=amounts[Movement.CHURN], ending_mrr=ending_mrr[j],
            net_new=math.fsum(k.sign * a for k, a in amounts.items()),
            starting_customers=ending_n[j - 1] if j else 0, new_customers=n[Movement.NEW],
            expansion_customers=n[Movement.EXPANSION], reactivation_customers=n[Movement.REACTIVATION],
            contraction_customers=n[Movement.CONTRACTION], churned_customers=n[Movement.CHURN],
            ending_customers=ending_n[j],
        ))
    return tuple(out)


def _fsum(values: np.ndarray) -> float:
    """``math.fsum`` of ``values`` over its non-zero entries only: the same exactly rounded sum (zeros add nothing),
    without a Python float per customer who did not move."""
    return math.fsum(values[values != 0])


def month_row(matrix: MrrMatrix, j: int, previous: np.ndarray, current: np.ndarray, paid_before: np.ndarray) -> MonthMovements:
    """Month ``j`` of ``matrix`` as a bridge row over the customers given (``previous``/``current``: their MRR at the
    ends of months j−1 and j; ``paid_before``: paid at an earlier month-end) — all customers, or one group's."""
    changed = np.flatnonzero(previous != current)  # a customer whose MRR did not change made no movement
    moved = classify(previous[changed], current[changed], paid_before[changed])
    amounts = {k: _fsum(v) for k, v in moved.items()}  # fsum is exactly rounded: the zeros left out change nothing
    counts = {k: int((v > 0).sum()) for k, v in moved.items()}
    return MonthMovements(
        month=matrix.months[j], month_end=matrix.month_ends[j], partial=matrix.partial_last and j == len(matrix.months) - 1,
        starting_mrr=_fsum(previous), new=amounts[Movement.NEW], expansion=amounts[Movement.EXPANSION],
        reactivation=amounts[Movement.REACTIVATION], contraction=amounts[Movement.CONTRACTION],
        churn=amounts[Movement.CHURN], ending_mrr=_fsum(current),
        net_new=math.fsum(k.sign * a for k, a in amounts.items()),
        starting_customers=int((previous > 0).sum()), new_customers=counts[Movement.NEW],
        expansion_customers=counts[Movement.EXPANSION], reactivation_customers=counts[Movement.REACTIVATION],
        contraction_customers=counts[Movement.CONTRACTION], churned_customers=counts[Movement.CHURN],
        ending_customers=int((current > 0).sum()),
    )


@dataclass(frozen=True)
class CustomerMovement:
    """One customer's movement in one month: who moved, how, and by how much."""

    customer_id: str
    movement: Movement
    previous_mrr: float
    current_mrr: float
    amount: float  # ≥ 0; the bridge adds it for new/expansion/reactivation and subtracts it otherwise


def _month_of(month: date | str) -> date:
    if isinstance(month, str):
        try:
            return date.fromisoformat(month[:7] + "-01")
        except ValueError:
            raise QueryError(f"month must be YYYY-MM or a date, got {month!r}") from None
    return month.replace(day=1)


def movements_by_customer(dataset: Dataset, month: date | str) -> tuple[CustomerMovement, ...]:
    """The customers behind ``month``'s bridge (``YYYY-MM`` or any day of it), largest amounts first per movement.

    Same classification as ``revenue_movements``; customers whose MRR did not change are left out. A month
    before the first subscription has no movers; a month after ``as_of`` is a ``QueryError``.
    """
    moves = month_moves(dataset, month)
    return tuple(moves.movement(i) for i in range(len(moves)))


@dataclass(frozen=True)
class MonthMoves:
    """``movements_by_customer`` as arrays, in its order (movement in bridge order, amount descending, customer_id):
    entry i is matrix row ``rows[i]``'s movement ``MOVEMENTS[kinds[i]]``. A page of movers builds objects for its
    own entries only."""

    customer_ids: pd.Index  # the matrix's
    rows: np.ndarray
    kinds: np.ndarray
    previous: np.ndarray
    current: np.ndarray
    amounts: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def movement(self, i: int) -> CustomerMovement:
        """Entry ``i`` as a ``CustomerMovement``."""
        return CustomerMovement(str(self.customer_ids[self.rows[i]]), MOVEMENTS[int(self.kinds[i])],
                                float(self.previous[i]), float(self.current[i]), float(self.amounts[i]))


MOVEMENTS = tuple(Movement)
"""The movements in bridge order (``MonthMoves.kinds`` index it)."""


def month_moves(dataset: Dataset, month: date | str) -> MonthMoves:
    """The movers of ``month`` as ``MonthMoves`` (see ``movements_by_customer``): the month's two matrix columns, the
    customers whose MRR changed, one sort of those."""
    first_day = _month_of(month)
    if first_day > dataset.as_of:
        raise QueryError(f"month {first_day:%Y-%m} is after as_of {dataset.as_of.isoformat()}; pick an earlier month")
    matrix = customer_mrr_matrix(dataset)
    empty = np.zeros(0)
    if first_day not in matrix.months:
        return MonthMoves(matrix.customer_ids, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty, empty)
    j = matrix.months.index(first_day)
    current = matrix.values[:, j]
    previous = matrix.values[:, j - 1] if j > 0 else np.zeros(len(current))
    changed = np.flatnonzero(previous != current)  # an unchanged MRR is no movement (``classify``)
    paid = np.asarray((matrix.values[changed, :j] > 0).any(axis=1), dtype=bool) if j > 0 else np.zeros(len(changed), dtype=bool)
    moved = classify(previous[changed], current[changed], paid)
    rows, kinds, amounts = [], [], []
    for code, kind in enumerate(MOVEMENTS):
        hit = np.flatnonzero(moved[kind] > 0)
        rows.append(changed[hit])
        kinds.append(np.full(len(hit), code, dtype=np.int64))
        amounts.append(moved[kind][hit])
    row, kind_codes, amount = np.concatenate(rows), np.concatenate(kinds), np.concatenate(amounts)
    ids = matrix.customer_ids
    rank = row if ids.is_monotonic_increasing else _id_rank(ids, row)  # rows in id order: the row is the id's rank
    order = np.lexsort((rank, -amount, kind_codes))
    row = row[order]
    return MonthMoves(ids, row, kind_codes[order], previous[row], current[row], amount[order])


def _id_rank(ids: pd.Index, rows: np.ndarray) -> np.ndarray:
    """Rank of ``ids[rows]`` in ascending id order (Python string order)."""
    chosen = [str(ids[r]) for r in rows]
    rank = np.empty(len(chosen), dtype=np.int64)
    rank[sorted(range(len(chosen)), key=chosen.__getitem__)] = np.arange(len(chosen))
    return rank


@dataclass(frozen=True)
class CohortRetention:
    """MRR retention of the customers paying at the window start (the starting cohort).

    ``starting_mrr`` is read on ``start_day`` (the day before the window starts), ``ending_mrr`` on ``end_day``
    (the window end, or ``as_of`` if earlier). ``retained_mrr`` = Σ min(end, start) per member. The movement
    components are the cohort's month-by-month movements between the two days (month-ends in between), so
    ending = starting + expansion + reactivation − contraction − churn; a member who churned and came back
    inside the window contributes churn and reactivation.
    """

    start_day: date
    end_day: date
    customers: int
    starting_mrr: float
    ending_mrr: float
    retained_mrr: float
    expansion: float
    reactivation: float
    contraction: float
    churn: float

    @property
    def nrr(self) -> float | None:
        """Net revenue retention: ending ÷ starting MRR of the cohort (None without a cohort)."""
        return self.ending_mrr / self.starting_mrr if self.starting_mrr > 0 else None

    @property
    def grr(self) -> float | None:
        """Gross revenue retention: Σ min(end, start) ÷ starting MRR of the cohort (None without a cohort)."""
        return self.retained_mrr / self.starting_mrr if self.starting_mrr > 0 else None


def _month_ends_between(start: date, end: date) -> list[date]:
    """Last days of calendar months strictly between ``start`` and ``end``."""
    out, month = [], start.replace(day=1)
    while month <= end:
        last = add_months(month, 1) - timedelta(days=1)
        if start < last < end:
            out.append(last)
        month = add_months(month, 1)
    return out


def cohort_retention(dataset: Dataset) -> CohortRetention:
    """Retention of the starting cohort over the scope's window (see ``CohortRetention``).

    Sources: ChartMogul "Net MRR retention" / "Gross MRR retention"; seed 002 (NRR target 100–120%+, GRR 85–95%).
    """
    start_day = dataset.window.start - timedelta(days=1)
    end_day = max(min(dataset.window.end, dataset.as_of), start_day)
    days = [start_day, *_month_ends_between(start_day, end_day), end_day]
    values = _mrr_on_days(dataset, tuple(days))[1]
    cohort = values[values[:, 0] > 0]
    steps = {k: 0.0 for k in Movement}
    if len(cohort):
        paid = np.ones(len(cohort), dtype=bool)
        parts = [classify(cohort[:, j - 1], cohort[:, j], paid) for j in range(1, len(days))]
        steps = {k: math.fsum(float(p[k].sum()) for p in parts) for k in Movement}
    start, end = cohort[:, 0] if len(cohort) else np.zeros(0), cohort[:, -1] if len(cohort) else np.zeros(0)
    return CohortRetention(
        start_day=start_day, end_day=end_day, customers=len(cohort), starting_mrr=math.fsum(start),
        ending_mrr=math.fsum(end), retained_mrr=math.fsum(np.minimum(start, end)),
        expansion=steps[Movement.EXPANSION], reactivation=steps[Movement.REACTIVATION],
        contraction=steps[Movement.CONTRACTION], churn=steps[Movement.CHURN],
    )


@dataclass(frozen=True)
class LogoChurn:
    """Logo (customer) churn over a run of months: churned customer-months ÷ customer-months at risk."""

    months: int  # months with at least one customer paying at their start
    churned: int  # customers churned over those months (Σ of the bridge's churned_customers)
    paying_at_start: int  # Σ customers paying at each month's start (customer-months at risk)

    @property
    def rate(self) -> float | None:
        """Pooled monthly rate Σ churned ÷ Σ paying at month start (None when nobody was at risk)."""
        return self.churned / self.paying_at_start if self.paying_at_start else None


def monthly_logo_churn(rows: tuple[MonthMovements, ...]) -> LogoChurn:
    """THE logo-churn definition of the product, used by ``logo_churn_rate``, LTV, the facts and the plans.

    Month m's customers at risk are those paying at the end of m−1 (MRR > 0 on its last day: the bridge's
    ``starting_customers``); churned are those of them with MRR 0 at the end of m (the bridge's
    ``churned_customers``: a customer with several subscriptions churns only when the last one ends; one who
    leaves and returns within the month is not churned). Rate = Σ churned ÷ Σ at risk over ``rows`` — the monthly
    rates averaged with customers at month start as weights, i.e. the maximum-likelihood estimate of a constant
    monthly churn probability. Source: ChartMogul customer churn rate (churned in the period ÷ customers at its
    start), pooled over months as in Fader & Hardie's retention rate of a cohort.
    """
    usable = [r for r in rows if r.starting_customers > 0]
    return LogoChurn(months=len(usable), churned=sum(r.churned_customers for r in usable),
                     paying_at_start=sum(r.starting_customers for r in usable))
