"""The shape of every metric result: value with numerator, denominator, sample size, target band and status.

A result whose data cannot support it has ``value = None`` and a ``reason`` — never a made-up zero.
Values are rounded nowhere here: presentation layers round; the engine keeps full precision so that
results are reproducible bit for bit and comparable across backends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from lifecycle.scope import Scope


class Status(StrEnum):
    """Where a value sits relative to its target band."""

    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


class Unit(StrEnum):
    """Units of metric values. Ratios are fractions (0.62 = 62 %); money is in the dataset currency."""

    RATIO = "ratio"
    MONEY = "money"
    DAYS = "days"
    MONTHS = "months"
    COUNT = "count"
    SCORE = "score"  # NPS: -100..100
    MULTIPLE = "multiple"  # LTV/CAC, quick ratio


@dataclass(frozen=True)
class TargetBand:
    """A target range; either end may be open (``None``). ``source`` says where it comes from."""

    low: float | None
    high: float | None
    source: str
    open_ended_high: bool = False  # "100–120%+": above the band is still good

    def status(self, value: float | None) -> Status | None:
        """below / within / above the band (None when there is no value)."""
        if value is None:
            return None
        if self.low is not None and value < self.low:
            return Status.BELOW
        if self.high is not None and value > self.high:
            return Status.ABOVE
        return Status.WITHIN

    def describe(self, unit: Unit) -> str:
        """Human text, e.g. '60–80%', '< 7 days', '100–120%+'."""
        def fmt(x: float) -> str:
            if unit is Unit.RATIO:
                return f"{x * 100:g}%"
            if unit is Unit.DAYS:
                return f"{x:g} days"
            return f"{x:g}"

        if self.low is None and self.high is not None:
            return f"< {fmt(self.high)}"
        if self.high is None and self.low is not None:
            return f"≥ {fmt(self.low)}"
        text = f"{fmt(self.low)}–{fmt(self.high)}" if self.low is not None and self.high is not None else "any"
        if unit is Unit.RATIO:
            text = text.replace("%–", "–")
        return text + ("+" if self.open_ended_high else "")

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "source": self.source, "open_ended_high": self.open_ended_high}


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or None when it is None, NaN or infinite (JSON has no NaN/Infinity)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class MetricResult:
    """One computed metric for one scope.

    ``value = numerator / denominator`` for ratio metrics; for others (medians, money) numerator and
    denominator may be None and ``sample_size`` says how many units the value rests on.
    """

    metric_id: str
    value: float | None
    unit: Unit
    scope: Scope
    sample_size: int
    numerator: float | None = None
    denominator: float | None = None
    target: TargetBand | None = None
    reason: str | None = None  # why value is None, or a caveat (small sample, filter not applicable)
    breakdown: tuple[tuple[str, MetricResult], ...] = field(default=())
    interval: tuple[float, float] | None = None  # 95 % confidence interval of value (Wilson for proportions)
    small_sample: bool = False  # the value rests on fewer units (or events) than the configured minimum

    @property
    def status(self) -> Status | None:
        """below / within / above the target band, when both exist."""
        return self.target.status(self.value) if self.target is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, NaN-free, stable key order."""
        return {
            "metric_id": self.metric_id,
            "value": finite_or_none(self.value),
            "unit": self.unit.value,
            "numerator": finite_or_none(self.numerator),
            "denominator": finite_or_none(self.denominator),
            "sample_size": int(self.sample_size),
            "as_of": self.scope.as_of.isoformat(),
            "period": self.scope.window.to_dict(),
            "filters": self.scope.filters.to_dict(),
            "target": self.target.to_dict() if self.target else None,
            "status": self.status.value if self.status else None,
            "reason": self.reason,
            "interval": list(self.interval) if self.interval is not None else None,
            "interval_method": "wilson_95" if self.interval is not None else None,
            "small_sample": self.small_sample,
            "breakdown": [{"key": key, **result.to_dict()} for key, result in self.breakdown],
        }


def _is_count(x: float) -> bool:
    return math.isfinite(x) and float(x).is_integer() and x >= 0


def ratio_result(metric_id: str, numerator: float, denominator: float, unit: Unit, scope: Scope,
                 target: TargetBand | None = None, empty_reason: str = "no units in the denominator",
                 sample_size: int | None = None) -> MetricResult:
    """A ratio metric ``numerator / denominator``; ``value = None`` with ``empty_reason`` when the denominator is 0.

    A proportion (unit ratio, whole counts with numerator ≤ denominator) carries its Wilson 95 % interval
    (``lifecycle.metrics.intervals.wilson_interval``).
    """
    from lifecycle.metrics.intervals import wilson_interval

    value = numerator / denominator if denominator else None
    proportion = unit is Unit.RATIO and _is_count(numerator) and _is_count(denominator) and numerator <= denominator
    return MetricResult(
        metric_id=metric_id, value=value, unit=unit, scope=scope,
        sample_size=int(sample_size if sample_size is not None else denominator),
        numerator=float(numerator), denominator=float(denominator), target=target,
        reason=None if denominator else empty_reason,
        interval=wilson_interval(numerator, denominator) if proportion and denominator else None,
    )


def rescoped_result(result: MetricResult, scope: Scope) -> MetricResult:
    """``result`` (and each entry of its breakdown) labelled with ``scope`` instead of its own — for a metric whose
    value reads nothing of a scope but what two scopes share (e.g. the lead metrics of scopes whose filters differ only
    in a dimension leads do not carry: ``lifecycle.metrics.grouped``)."""
    return replace(result, scope=scope, breakdown=tuple((key, rescoped_result(entry, scope)) for key, entry in result.breakdown))


def missing_result(metric_id: str, unit: Unit, scope: Scope, reason: str, target: TargetBand | None = None) -> MetricResult:
    """A result the data cannot support: ``value = None`` and why."""
    return MetricResult(metric_id=metric_id, value=None, unit=unit, scope=scope, sample_size=0, target=target, reason=reason)
