"""The stage verdict's records: why one customer is in their stage (``lifecycle.stages.verdict.classify_customer``).

Plain dataclasses with no pandas or NumPy behind them, so the MCP tool listing can derive its output schema from them
(``tools.records.wire_model``) without loading the engine's libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RuleCheck:
    """One condition of the rule that fired: ``feature op value`` (the rule's threshold; ``None`` for ``is_null`` and
    ``not_null``) and the customer's ``actual`` value of the feature."""

    feature: str
    op: str
    value: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        """The condition's own form (``Condition.to_dict``: no ``value`` for ``is_null``/``not_null``) with ``actual``."""
        out: dict[str, Any] = {"feature": self.feature, "op": self.op}
        if self.op not in ("is_null", "not_null"):
            out["value"] = self.value
        return {**out, "actual": self.actual}


@dataclass(frozen=True)
class StageVerdict:
    """Why one customer is in their stage: the rule that fired, its checks and the overlays that apply."""

    customer_id: str
    stage: str
    stage_name: str
    rule_id: str | None
    rule_description: str
    checks: tuple[RuleCheck, ...]
    overlays: tuple[str, ...]
    overlay_rules: tuple[str, ...]
    time_in_stage_days: float | None = None
    time_in_stage_note: str = ""
    features: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "stage": self.stage, "stage_name": self.stage_name,
                "rule_id": self.rule_id, "rule_description": self.rule_description,
                "checks": [c.to_dict() for c in self.checks], "overlays": list(self.overlays),
                "overlay_rules": list(self.overlay_rules), "time_in_stage_days": self.time_in_stage_days,
                "time_in_stage_note": self.time_in_stage_note}


__all__ = ["RuleCheck", "StageVerdict"]
