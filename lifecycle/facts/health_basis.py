"""What the health and at-risk facts of a scope read: its live customers' health (no trend) and its at-risk list.

For the whole base: the snapshot's customers who have not churned on as_of, scored with the configured health profile
(``lifecycle.health.score_health`` without a previous snapshot) and ranked once for the at-risk list
(``lifecycle.health.risk.risk_ranking``), memoised per data, as_of, period and configuration (``lifecycle.memo``).

A filtered scope takes its customers' rows of the whole base's (``Filters.select`` on the live rows, and the stage
members for a stage filter — the mask ``lifecycle.snapshot.build.restricted`` puts on the snapshot): every number of a
customer's health and risk rests on that customer's snapshot row alone (``lifecycle.health.live``), and the at-risk
list's order (priority, risk descending, customer id) is total, so the rows a scope keeps, taken in the whole base's
order, are the list ``rank_at_risk`` sorts for the scope. A new filter costs masks, not another scoring and sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.health.risk import Reason, RiskRanking, risk_ranking
from lifecycle.health.score import HealthTable, restricted_table, score_health
from lifecycle.membership import is_member
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of


@dataclass(frozen=True)
class AtRiskRows:
    """The at-risk list of a scope as columns in list order: value at stake and one boolean array per reason."""

    value: np.ndarray
    flags: dict[Reason, np.ndarray]

    def __len__(self) -> int:
        return len(self.value)


@dataclass(frozen=True)
class HealthBasis:
    """The live customers of a scope (snapshot rows, not churned on as_of) and their health ``table`` (scored without
    a trend). ``alive``: the whole base's live rows; ``rows``: the positions of this scope's among them (None: all)."""

    alive: pd.DataFrame
    table: HealthTable
    whole: HealthBasis | None = None
    rows: np.ndarray | None = None
    _rankings: dict[str, RiskRanking] = field(default_factory=dict, repr=False, compare=False)

    def has_values(self, column: str) -> bool:
        """Whether ``column`` is a snapshot column with a value for at least one of the scope's live customers."""
        if column not in self.alive.columns:
            return False
        present = self.alive[column].notna().to_numpy(dtype=bool)
        return bool(present.any() if self.rows is None else present[self.rows].any())

    def at_risk(self, value_column: str, min_risk: float) -> AtRiskRows:
        """The rows ``rank_at_risk(alive, table, RiskQuery(value_column=..., min_risk=...))`` lists, in its order:
        the whole base's ranking (once per value column) masked to this scope's rows and the threshold."""
        base = self if self.whole is None else self.whole
        ranking = base.ranking(value_column)
        order = ranking.order
        listed = ranking.risk[order] >= min_risk
        frame = ranking.frame
        if "churned" in frame.columns:  # ``risk._kept``: a churned row is never listed (live rows are not churned)
            listed &= ~(frame["churned"].to_numpy(dtype="float64", na_value=0.0)[order] == 1.0)
        if self.rows is not None:
            inside = np.zeros(len(frame), dtype=bool)
            inside[self.rows] = True
            listed &= inside[order]
        picked = order[listed]
        return AtRiskRows(ranking.value[picked], {r: ranking.flags[r][picked] for r in Reason})

    def ranking(self, value_column: str) -> RiskRanking:
        """``risk_ranking`` of this basis's rows, once per value column."""
        if value_column not in self._rankings:
            self._rankings[value_column] = risk_ranking(self.alive, self.table, value_column)
        return self._rankings[value_column]


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
    keep = dataset.filters.select(whole.alive)
    if dataset.filters.stage:
        keep &= is_member(whole.alive["customer_id"], dataset.stage_members())
    rows = np.flatnonzero(keep)
    if not len(rows):
        return None
    table = restricted_table(whole.table, rows, np.ones(len(rows), dtype=bool))  # no trend to clear: none was scored
    return HealthBasis(whole.alive, table, whole, rows)


def _scored(snapshot: pd.DataFrame, dataset: Any) -> HealthBasis | None:
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    if alive.empty:
        return None
    return HealthBasis(alive, score_health(alive, dataset.health_profile))
