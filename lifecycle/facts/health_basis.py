"""What the health and at-risk facts of a scope read: its live customers' health (no trend) and its at-risk list.

For the whole base: the snapshot's customers who have not churned on as_of, scored with the configured health profile
(``lifecycle.health.score_health`` without a previous snapshot) and ranked once for the at-risk list
(``lifecycle.health.risk.risk_ranking``, once per value column the snapshot has), memoised per data, as_of, period and
configuration (``lifecycle.memo``).

A filtered scope takes its customers' rows of the whole base's (``Filters.select`` on the whole base's snapshot, and
the stage members for a stage filter — the mask ``lifecycle.snapshot.build.restricted`` puts on the snapshot — read on
its live rows): every number of a customer's health and risk rests on that customer's snapshot row alone
(``lifecycle.health.live``), and the at-risk list's order (priority, risk descending, customer id) is total, so the rows
a scope keeps, taken in the whole base's order, are the list ``rank_at_risk`` sorts for the scope. A new filter costs
masks, not another scoring and sort.

The memoised basis is slim — what the facts read and nothing else: the health table's ``frame`` and ``components``
(the coverage summary reads which components have data), and per value column the ranking as arrays (order, risk,
value at stake, reason flags, churned) and which rows have a value. No snapshot columns, signal scores or values,
effective weights or exclusions: at a million customers the whole table and the live snapshot rows weighed 753 MB of
the memo's budget and pushed out the whole base's table reads (lifecycle_facts at 1M 21 → 39 s, reverted in 15ca694);
this basis is about a seventh of that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.filters import Filters
from lifecycle.health.risk import Reason, risk_ranking
from lifecycle.health.score import HealthTable, score_health
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of

VALUE_COLUMNS = ("mrr_current", "expected_clv")
"""The snapshot columns the facts may count value at stake in (``facts.sources._value_at_stake_column``)."""


@dataclass(frozen=True)
class AtRiskRows:
    """The at-risk list of a scope as columns in list order: value at stake and one boolean array per reason."""

    value: np.ndarray
    flags: dict[Reason, np.ndarray]

    def __len__(self) -> int:
        return len(self.value)


@dataclass(frozen=True)
class RankedRows:
    """``risk_ranking`` of the whole base's live rows for one value column, as arrays: ``order`` (row positions in
    list order), ``risk``, ``value`` (at stake), ``flags`` (rows × ``Reason``, in ``Reason``'s order), ``churned`` (the
    rows ``risk._kept`` never lists), and ``present`` (the rows with a value in the column). Each array owns its
    memory — copies, not views of the ranking's frames — so the memo sizes what the basis holds."""

    order: np.ndarray
    risk: np.ndarray
    value: np.ndarray
    flags: np.ndarray
    churned: np.ndarray
    present: np.ndarray


@dataclass(frozen=True)
class HealthBasis:
    """The live customers of a scope scored without a trend: ``table`` (only ``frame`` and ``components``; the other
    parts empty — module docstring), ``ranked`` (the whole base's ``RankedRows`` per value column) and ``rows`` (the
    positions of this scope's live customers among the whole base's; None: all of them)."""

    table: HealthTable
    ranked: dict[str, RankedRows]
    rows: np.ndarray | None = None

    def has_values(self, column: str) -> bool:
        """Whether ``column`` is a snapshot column with a value for at least one of the scope's live customers."""
        found = self.ranked.get(column)
        if found is None:
            return False
        return bool(found.present.any() if self.rows is None else found.present[self.rows].any())

    def at_risk(self, value_column: str, min_risk: float) -> AtRiskRows:
        """The rows ``rank_at_risk(alive, table, RiskQuery(value_column=..., min_risk=...))`` lists, in its order:
        the whole base's ranking masked to this scope's rows and the threshold."""
        ranked = self.ranked.get(value_column)
        if ranked is None:
            raise QueryError(f"value column {value_column!r} is not in the snapshot")
        order = ranked.order
        listed = (ranked.risk[order] >= min_risk) & ~ranked.churned[order]
        if self.rows is not None:
            inside = np.zeros(len(ranked.risk), dtype=bool)
            inside[self.rows] = True
            listed &= inside[order]
        picked = order[listed]
        return AtRiskRows(ranked.value[picked], {r: ranked.flags[picked, k] for k, r in enumerate(Reason)})


def health_basis(dataset: Dataset) -> HealthBasis | None:
    """The health facts' basis of ``dataset``'s scope (module docstring); None when no customer is live on as_of."""
    if dataset.identity is None:
        return _scored(snapshot_of(dataset), dataset)
    from lifecycle.memo import remember

    whole_dataset = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = whole_dataset.memo_key("health-facts-basis")
    whole = remember(key, lambda: _scored(snapshot_of(whole_dataset), whole_dataset))
    if whole is None or dataset.filters.is_empty():
        return whole
    from lifecycle.stages.scope_rows import scope_mask, whole_snapshot

    # the memo's whole snapshot (or its Parquet cache's): only its mask is read — ``restricted``'s, kept per dataset
    # (the stage counts and the drivers of the same bundle take it too)
    rows = np.flatnonzero(scope_mask(dataset)[_live(whole_snapshot(dataset))])
    if not len(rows):
        return None
    return HealthBasis(_rows_of(whole.table, rows), whole.ranked, rows)


def _live(snapshot: pd.DataFrame) -> np.ndarray:
    """The snapshot's rows of customers who have not churned on as_of (missing counts as not churned)."""
    return ~snapshot["churned"].fillna(False).astype(bool).to_numpy()


def _scored(snapshot: pd.DataFrame, dataset: Dataset) -> HealthBasis | None:
    alive = snapshot[_live(snapshot)].reset_index(drop=True)
    if alive.empty:
        return None
    table = score_health(alive, dataset.health_profile)
    ranked = {}
    for column in VALUE_COLUMNS:
        if column not in alive.columns:
            continue
        present = alive[column].notna().to_numpy(dtype=bool, copy=True)
        if column != "mrr_current" and not present.any():
            continue  # never the value column of any scope (``has_values``); mrr_current is the fallback, kept
        try:
            ranking = risk_ranking(alive, table, column)
        except QueryError:  # not a money column: a scope that picks it meets the error in ``at_risk``
            continue
        churned = (ranking.frame["churned"].to_numpy(dtype="float64", na_value=0.0) == 1.0
                   if "churned" in ranking.frame.columns else np.zeros(len(alive), dtype=bool))
        ranked[column] = RankedRows(ranking.order.copy(), ranking.risk.copy(), ranking.value.copy(),
                                    np.column_stack([ranking.flags[r] for r in Reason]).astype(bool), churned, present)
    return HealthBasis(_slim(table, table.frame, table.components), ranked)


def _slim(table: HealthTable, frame: pd.DataFrame, components: pd.DataFrame) -> HealthTable:
    """A health table of ``table``'s profile with ``frame`` and ``components`` only: the other parts empty frames on
    ``frame``'s index, no exclusions."""
    empty = pd.DataFrame(index=frame.index)
    return HealthTable(profile=table.profile, frame=frame, components=components, effective_weights=empty,
                       signal_scores=empty, signal_values=empty, exclusions=())


def _rows_of(table: HealthTable, rows: np.ndarray) -> HealthTable:
    """The slim ``table``'s customers at positions ``rows`` (in that order) — ``health.score.restricted_table`` of the
    parts the basis keeps (no trend was scored, so none to clear)."""
    index = table.frame.index.take(rows)

    def take(part: pd.DataFrame) -> pd.DataFrame:
        return part.reset_index(drop=True).take(rows).set_axis(index, axis=0)

    return _slim(table, take(table.frame), take(table.components))
