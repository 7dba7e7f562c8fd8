"""Change versus the previous period: the same metric, same definition and filters, one window earlier.

The previous period of a scope with window ``[start, end]`` and ``as_of = end`` is the window of the same number of
days ending the day before ``start`` (for the default trailing 12 months: the 12 months before), seen as of its own
end (no look-ahead: ``Dataset`` masks what happened later). The change is ``current − previous`` in the metric's
own unit for rates, scores, days, months and multiples (a ratio's change is in percentage points), and the relative
change ``current ÷ previous − 1`` for money and counts, whose size depends on the base. Either side ``None`` (the
data cannot support the metric then), or resting on fewer than ``config.small_sample`` units, gives a change of ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lifecycle.dataset import Dataset
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.results import MetricResult, Unit, finite_or_none
from lifecycle.scope import EARLIEST_AS_OF, Scope, Window

RELATIVE_UNITS = (Unit.MONEY, Unit.COUNT)


@dataclass(frozen=True)
class MetricChange:
    """``metric_id`` now and in the previous period, with the n behind each and the change (see module docstring)."""

    metric_id: str
    unit: Unit
    current: float | None
    previous: float | None
    current_n: int
    previous_n: int
    previous_start: str
    previous_end: str
    min_n: int = 1

    @property
    def comparable(self) -> bool:
        """Both periods rest on at least ``min_n`` units (a change between tiny samples is noise, not news)."""
        return self.current_n >= self.min_n and self.previous_n >= self.min_n

    @property
    def relative(self) -> bool:
        """Whether the change is relative (money, counts) rather than a difference in the metric's unit."""
        return self.unit in RELATIVE_UNITS

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None or not self.comparable:
            return None
        if self.relative:
            return self.current / self.previous - 1.0 if self.previous else None
        return self.current - self.previous


def previous_scope(scope: Scope) -> Scope | None:
    """The scope one window earlier (same filters), or None before the calendar's start: a trailing-months window
    gives the same number of calendar months before it, any other window the same number of days."""
    end = scope.window.start - timedelta(days=1)
    if end < EARLIEST_AS_OF:
        return None
    months = (scope.as_of.year - end.year) * 12 + scope.as_of.month - end.month
    if months > 0 and scope.window == Window.trailing_months(scope.as_of, months):
        window = Window.trailing_months(end, months)
    else:
        window = Window(end - timedelta(days=scope.window.days - 1), end)
    if window.start < EARLIEST_AS_OF:
        return None
    return Scope(end, window, scope.filters)


def metric_changes(dataset: Dataset, current: dict[str, MetricResult], metric_ids: tuple[str, ...]) -> list[MetricChange]:
    """For each of ``metric_ids`` in ``current``: its value in the previous period (computed on the previous scope
    with the registry's definition) and the change — None when either period rests on fewer than
    ``config.small_sample`` units. Metrics the previous period cannot support get ``previous=None``."""
    scope = previous_scope(dataset.scope)
    if scope is None:
        return []
    earlier = dataset.rescoped(scope)
    out = []
    for metric_id in metric_ids:
        now = current.get(metric_id)
        if now is None:
            continue
        before = compute_metric(earlier, metric_id)
        out.append(MetricChange(metric_id, now.unit, finite_or_none(now.value), finite_or_none(before.value), int(now.sample_size),
                                int(before.sample_size), scope.window.start.isoformat(), scope.window.end.isoformat(),
                                dataset.config.small_sample))
    return out

