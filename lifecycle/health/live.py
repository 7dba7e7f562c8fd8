"""The health of a scope's live customers: who has not churned on as_of, scored against 30 days earlier.

One definition for every caller — the MCP tools (``score_health``, ``list_at_risk``, the ``customer://``
resource), the prompts and the Python front door (``lifecycle.open(...).health()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.health.score import HealthTable, score_health
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of

TREND_DAYS = 30


@dataclass(frozen=True)
class LiveHealth:
    """The live customers' snapshot rows and their health table (trend against ``TREND_DAYS`` earlier)."""

    snapshot: pd.DataFrame  # customers who have not churned, as of the scope's as_of
    table: HealthTable


def live_health(dataset: Dataset, step: Callable[[float, float, str], None] | None = None) -> LiveHealth:
    """Customers of ``dataset`` who have not churned on as_of, scored with the configured health profile
    (``lifecycle.health.score_health``) against the snapshot ``TREND_DAYS`` days earlier for the trend.
    ``step(done, total, message)`` is told about each of the three phases (progress reporting)."""
    report = step or (lambda done, total, message: None)
    report(0, 3, "building the snapshot")
    snapshot = snapshot_of(dataset)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    report(1, 3, "building the snapshot 30 days earlier (trend)")
    scope = dataset.scope
    previous = snapshot_of(dataset.rescoped(Scope.at(scope.as_of - timedelta(days=TREND_DAYS), scope.filters)))
    report(2, 3, "scoring health")
    profile = dataset.health_profile
    return LiveHealth(alive, score_health(alive, profile, previous))
