"""Every metric with its change versus the previous period of the same length, and the n behind both values.

The previous period is ``Window.previous()`` of the scope's window (the same number of calendar months, else days),
seen as of its own last day: the previous value is what the metric read at the end of that period, with nothing
known later (``Dataset.rescoped`` to as_of = previous window end). Same filters.

``change = current − previous`` in the metric's unit (a ratio's change is in fraction points: 0.052 → 0.061 is
+0.009, i.e. +0.9 percentage points); ``relative_change = change ÷ |previous|``. Either is None when a value is None
(or the previous value is 0, for the relative change) — never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.results import MetricResult
from lifecycle.scope import Scope

if TYPE_CHECKING:
    from lifecycle.dataset import Dataset


@dataclass(frozen=True)
class MetricChange:
    """A metric in the scope's period and in the previous period of the same length."""

    current: MetricResult
    previous: MetricResult

    @property
    def metric_id(self) -> str:
        return self.current.metric_id

    @property
    def change(self) -> float | None:
        """current − previous, in the metric's unit (None when either value is None)."""
        if self.current.value is None or self.previous.value is None:
            return None
        return float(self.current.value) - float(self.previous.value)

    @property
    def relative_change(self) -> float | None:
        """change ÷ |previous| (None when the change is None or the previous value is 0)."""
        change = self.change
        if change is None or not self.previous.value:
            return None
        return change / abs(float(self.previous.value))


def previous_period(dataset: Dataset) -> Dataset:
    """``dataset`` seen over the previous period of the same length, as of that period's last day (same filters)."""
    window = dataset.window.previous()
    return dataset.rescoped(Scope(window.end, window, dataset.filters))


def metric_changes(dataset: Dataset, metric_ids: Iterable[str], previous: Dataset | None = None) -> dict[str, MetricChange]:
    """Each metric of ``metric_ids`` on ``dataset`` and on its previous period (``previous_period``; pass ``previous``
    to reuse one across calls, sharing its loaded tables)."""
    before = previous if previous is not None else previous_period(dataset)
    return {m: MetricChange(compute_metric(dataset, m), compute_metric(before, m)) for m in dict.fromkeys(metric_ids)}
