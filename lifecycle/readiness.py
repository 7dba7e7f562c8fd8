"""What the engine can compute on a dataset under a configuration: every metric computable or not (and why), the
headline values resting on small samples, and candidate activation events — ``lifecycle doctor --config``.

``lifecycle.doctor`` checks the data with SQL alone; this module runs the engine itself, so a metric whose configured
events never occur is reported with the reason the metric gives (what is missing, what the data has, the key to
set) rather than "computable" because the events table has rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lifecycle.activation_candidates import CandidateReport, activation_candidates
from lifecycle.config import EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.facts.bundle import format_value
from lifecycle.metrics.registry import compute_all
from lifecycle.sources import DataSource


@dataclass(frozen=True)
class MetricReadiness:
    """One metric on this dataset: its value (or None) and why."""

    metric_id: str
    computable: bool
    value: float | None
    display: str
    sample_size: int
    small_sample: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"metric_id": self.metric_id, "computable": self.computable, "value": self.value, "display": self.display,
                "sample_size": self.sample_size, "small_sample": self.small_sample, "reason": self.reason}


@dataclass(frozen=True)
class EngineReadiness:
    """The engine's view of a dataset under one configuration."""

    config_name: str
    stage_model: str
    health_profile: str
    metrics: tuple[MetricReadiness, ...]
    candidates: CandidateReport
    small_samples: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config_name, "stage_model": self.stage_model, "health_profile": self.health_profile,
                "metrics": [m.to_dict() for m in self.metrics], "small_samples": list(self.small_samples),
                "candidates": self.candidates.to_dict()}


def engine_readiness(source: DataSource | str | Path, as_of: date, config: EngineConfig,
                     config_name: str = "the configuration") -> EngineReadiness:
    """Compute every registered metric on ``source`` (a ``DataSource`` or the store's path) with ``config`` and
    propose activation events."""
    dataset = Dataset.open(source, as_of, config=config, time_limit_s=None)
    try:
        results = compute_all(dataset)
        rows = tuple(MetricReadiness(
            metric_id=mid, computable=r.value is not None, value=r.value,
            display=format_value(r.value, r.unit, config.revenue.currency), sample_size=int(r.sample_size),
            small_sample=r.small_sample, reason=r.reason) for mid, r in results.items())
        small = tuple(f"{m.metric_id} = {m.display}: {_small_part(m.reason)}" for m in rows if m.small_sample and m.computable)
        candidates = activation_candidates(dataset)
        models = dataset.models
    finally:
        dataset.close()
    return EngineReadiness(config_name, models.stages, models.health, rows, candidates, small)


def _small_part(reason: str | None) -> str:
    parts = [p for p in (reason or "").split("; ") if p.startswith("small sample")]
    return "; ".join(parts) or "small sample"
