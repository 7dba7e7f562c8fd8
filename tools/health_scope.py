"""The health table of a scope, shared by ``score_health``, ``list_at_risk`` and the ``customer://`` resource.

Customers who have not churned, from the cached as-of snapshot, scored with the configured profile
(``lifecycle.health.score_health``) against the snapshot 30 days earlier for the trend. Memoised per
database file and scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from lifecycle.filters import Scope
from lifecycle.health import HealthTable, score_health
from lifecycle.health.profile import load_health_profile
from lifecycle.snapshot import snapshot_of
from tools.runtime import Work
from tools.scope import ResolvedScope, memo

TREND_DAYS = 30


@dataclass(frozen=True)
class ScopeHealth:
    snapshot: pd.DataFrame  # customers who have not churned, as of the scope's as_of
    table: HealthTable


def scope_health(work: Work, scope: ResolvedScope) -> ScopeHealth:
    """Health of the scope's live customers (memoised)."""
    def compute() -> ScopeHealth:
        dataset = work.dataset(scope.as_of, scope.filters, scope.window)
        work.step(0, 3, "building the snapshot")
        snapshot = snapshot_of(dataset)
        alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
        work.step(1, 3, "building the snapshot 30 days earlier (trend)")
        previous = snapshot_of(dataset.rescoped(Scope.at(scope.as_of - timedelta(days=TREND_DAYS), scope.filters)))
        work.step(2, 3, "scoring health")
        profile = load_health_profile(dataset.models.health)
        return ScopeHealth(alive, score_health(alive, profile, previous))

    return memo(work, "health", scope.key(), compute)
