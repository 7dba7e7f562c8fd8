"""The stage rule language: conditions ``{feature, op, value}`` on snapshot columns and rules that combine them.

A ``Rule`` assigns its ``target`` (a stage, an overlay, or a driver signal) to the rows where *all* its
``Condition``s hold; evaluation is vectorised (one boolean mask per condition over the whole snapshot).
Condition semantics: ``== < <= > >= in`` are false on a missing value, ``!= not_in`` are their negations
(true on missing), ``is_null``/``not_null`` test for missing values; on a datetime column the value (text or
list of texts) is read as timestamps. The file format is in ``docs/stages.md``; parsing and validation are in
``lifecycle.stages.model``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null")


@dataclass(frozen=True)
class Condition:
    """``feature op value``, e.g. ``tenure_days <= 14``."""

    feature: str
    op: str
    value: Any = None

    def describe(self) -> str:
        """Readable text, e.g. ``tenure_days <= 14``, ``activated_at is_null``."""
        return f"{self.feature} {self.op}" + ("" if self.op in ("is_null", "not_null") else f" {json.dumps(self.value)}")

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` satisfying the condition (missing values: see the module docstring)."""
        import pandas as pd  # with the first classification, not with the stage model (lifecycle.lazy)

        series = frame[self.feature]
        if self.op in ("is_null", "not_null"):
            missing = series.isna().to_numpy()
            return missing if self.op == "is_null" else ~missing
        if self.op in ("!=", "not_in"):
            return ~Condition(self.feature, "==" if self.op == "!=" else "in", self.value).mask(frame)
        value = self.value
        if pd.api.types.is_datetime64_any_dtype(series):
            value = [pd.Timestamp(v) for v in value] if isinstance(value, list) else pd.Timestamp(value)
        if self.op == "in":
            result = series.isin(value)
        else:
            result = {"==": series.__eq__, "<": series.__lt__, "<=": series.__le__,
                      ">": series.__gt__, ">=": series.__ge__}[self.op](value)
        return pd.Series(result).fillna(False).to_numpy(dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"feature": self.feature, "op": self.op}
        if self.op not in ("is_null", "not_null"):
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Rule:
    """Conditions that together assign ``target`` (a stage, or an overlay for overlay rules)."""

    id: str
    target: str
    conditions: tuple[Condition, ...]
    description: str = ""

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows satisfying every condition (all rows when there are none)."""
        import numpy as np

        result = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            result &= condition.mask(frame)
        return result

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.feature for c in self.conditions))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "description": self.description,
                "conditions": [c.to_dict() for c in self.conditions]}
