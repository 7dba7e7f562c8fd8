"""The health of a scope's live customers: who has not churned on as_of, scored against 30 days earlier.

One definition for every caller — the MCP tools (``score_health``, ``list_at_risk``, the ``customer://``
resource), the prompts and the Python front door (``lifecycle.open(...).health()``).

A filtered scope's health can be derived from the whole base's (``live_health(dataset, whole=...)``): every number of
a customer's health depends on that customer's snapshot row alone, and a filtered scope's snapshot is the whole
base's restricted to its customers (``lifecycle.snapshot.snapshot_of``), so its table is the whole table's rows of
those customers — a mask, not another scoring. Only the trend depends on the scope: it compares with the scope's
snapshot ``TREND_DAYS`` earlier, which holds the customers the filters selected *on that day* (a plan filter reads
the plan paid then, a stage filter the stage then), so a customer outside it has no previous health — the derived
table clears those trends exactly as a direct scoring leaves them missing. A server answers a new filter over a
million customers in a few hundred milliseconds instead of re-scoring the scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from lifecycle.dataset import Dataset
from lifecycle.filters import Dimension
from lifecycle.health.risk import AtRiskPage, RiskRanking, list_at_risk_ranked, risk_ranking
from lifecycle.health.score import HealthTable, restricted_table, score_health
from lifecycle.lazy import deferred_module
from lifecycle.membership import is_member
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

TREND_DAYS = 30


class Derivation:
    """Where a derived scope's rows come from: the whole base's ``LiveHealth`` and the positions of the scope's
    customers in its snapshot. A plain object (not a dataclass), so the memo's size estimate of a derived scope
    counts its own frames, not the whole base it points to."""

    __slots__ = ("base", "rows")

    def __init__(self, base: LiveHealth, rows: np.ndarray) -> None:
        self.base = base
        self.rows = rows


@dataclass(frozen=True)
class Earlier:
    """The whole base's snapshot ``TREND_DAYS`` earlier, reduced to what a filter selects on (customer_id,
    signup_date, the attribute columns as categoricals), and for each live customer its row there (−1: absent).
    Derived scopes share it; the memo counts it with the whole base's entry."""

    frame: pd.DataFrame
    rows: np.ndarray


@dataclass(frozen=True)
class LiveHealth:
    """The live customers' snapshot rows and their health table (trend against ``TREND_DAYS`` earlier).

    A scope derived from the whole base's health (``live_health(dataset, whole=...)``) gives its table and snapshot
    rows on first use (``table``, ``snapshot``: the at-risk list needs neither, ``at_risk`` pages the whole base's
    ranking); ``derivation`` says which rows of the whole base it holds."""

    scored: HealthTable | None = None  # the table, unless derived (``table`` masks the whole base's on first use)
    rows_of_snapshot: pd.DataFrame | None = None  # customers who have not churned, as of the scope's as_of
    derivation: Derivation | None = None
    earlier: Earlier | None = None  # the whole base only: what a derived scope's trend needs
    trend_kept: np.ndarray | None = None  # derived only: which rows keep their trend
    _lazy: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self) -> HealthTable:
        """The health table of the scope's live customers (a derived scope's: the whole base's rows, on first use)."""
        if self.scored is not None:
            return self.scored
        if "table" not in self._lazy:
            assert self.derivation is not None and self.trend_kept is not None
            self._lazy["table"] = restricted_table(self.derivation.base.table, self.derivation.rows, self.trend_kept)
        return self._lazy["table"]  # type: ignore[no-any-return]

    @property
    def snapshot(self) -> pd.DataFrame:
        """Snapshot rows of the scored customers (not churned on as_of), in the table's order."""
        if self.rows_of_snapshot is not None:
            return self.rows_of_snapshot
        if "snapshot" not in self._lazy:
            assert self.derivation is not None
            whole = self.derivation.base.snapshot
            self._lazy["snapshot"] = whole.iloc[self.derivation.rows].reset_index(drop=True)
        return self._lazy["snapshot"]  # type: ignore[no-any-return]

    def base_rows(self) -> tuple[LiveHealth, np.ndarray | None]:
        """The health whose snapshot holds this scope's rows, and their positions there (None: all of them)."""
        if self.derivation is None:
            return self, None
        return self.derivation.base, self.derivation.rows

    def ranking(self, value_column: str = "mrr_current") -> RiskRanking:
        """Every row ranked for the at-risk list (``lifecycle.health.risk.risk_ranking``), made once per value column."""
        key = f"ranking:{value_column}"
        if key not in self._lazy:
            self._lazy[key] = risk_ranking(self.snapshot, self.table, value_column)
        return self._lazy[key]  # type: ignore[no-any-return]

    def at_risk(self, **query: Any) -> AtRiskPage:
        """A page of this scope's at-risk list (``list_at_risk``'s arguments but ``value_column``, default MRR): from
        the ranking of the whole base it was derived from, masked to its rows — the same page as
        ``list_at_risk(self.snapshot, self.table, ...)``, without sorting the scope or reading rows off the page."""
        base, rows = self.base_rows()
        return list_at_risk_ranked(base.ranking(), rows, **query)


def live_health(dataset: Dataset, step: Callable[[float, float, str], None] | None = None,
                whole: LiveHealth | None = None) -> LiveHealth:
    """Customers of ``dataset`` who have not churned on as_of, scored with the configured health profile
    (``lifecycle.health.score_health``) against the snapshot ``TREND_DAYS`` days earlier for the trend.
    ``step(done, total, message)`` is told about each of the three phases (progress reporting).

    ``whole``: the whole base's ``live_health`` on the same as_of and configuration; a filtered ``dataset`` then takes
    its customers' rows of it (module docstring) — the same table a direct scoring gives."""
    report = step or (lambda done, total, message: None)
    if whole is not None and not dataset.filters.is_empty() and whole.earlier is not None:
        report(0, 1, "selecting the scope's customers from the whole base's health")
        return _derived(dataset, whole)
    report(0, 3, "building the snapshot")
    snapshot = snapshot_of(dataset)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    report(1, 3, "building the snapshot 30 days earlier (trend)")
    scope = dataset.scope
    previous = snapshot_of(dataset.rescoped(Scope.at(scope.as_of - timedelta(days=TREND_DAYS), scope.filters)))
    report(2, 3, "scoring health")
    profile = dataset.health_profile
    table = score_health(alive, profile, previous)
    earlier = _earlier(alive, previous) if dataset.filters.is_empty() else None
    return LiveHealth(table, alive, earlier=earlier)


_FILTER_COLUMNS = tuple(d.customer_column for d in Dimension)


def _earlier(alive: pd.DataFrame, previous: pd.DataFrame) -> Earlier:
    frame = pd.DataFrame({"customer_id": previous["customer_id"].astype("string").to_numpy()})
    if "signup_date" in previous.columns:
        frame["signup_date"] = previous["signup_date"].to_numpy()
    for column in _FILTER_COLUMNS:
        if column in previous.columns:
            frame[column] = previous[column].astype("category").to_numpy()
    rows = pd.Index(frame["customer_id"]).get_indexer(pd.Index(alive["customer_id"].astype("string")))
    return Earlier(frame, rows.astype(np.int64))


def _derived(dataset: Dataset, whole: LiveHealth) -> LiveHealth:
    """The rows of ``whole`` the filters of ``dataset`` select (``snapshot.build.restricted``'s mask on the live rows),
    with the trend kept only where the customer was in the scope ``TREND_DAYS`` earlier too."""
    assert whole.earlier is not None
    filters = dataset.filters
    keep = filters.select(whole.snapshot)
    if filters.stage:
        keep &= is_member(whole.snapshot["customer_id"], dataset.stage_members())
    rows = np.flatnonzero(keep)
    earlier_scope = dataset.rescoped(Scope.at(dataset.as_of - timedelta(days=TREND_DAYS), filters))
    then = whole.earlier.frame
    was = filters.select(then) if len(then) else np.zeros(0, dtype=bool)
    if filters.stage and len(then):
        was &= is_member(then["customer_id"], earlier_scope.stage_members())
    at = whole.earlier.rows[rows]
    found = at >= 0
    trend_kept = np.zeros(len(rows), dtype=bool)
    trend_kept[found] = was[at[found]]
    return LiveHealth(derivation=Derivation(whole, rows), trend_kept=trend_kept)
