"""Classifying customers with a stage model: first matching rule, overlays and the evidence of each verdict.

Vectorised: one boolean mask per rule over the whole snapshot, combined with ``np.select`` in rule order — the
*first* matching rule sets the stage (``UNCLASSIFIED`` when none matches); overlays (at_risk, dormant, churned,
reactivated, …) are set by their own rules, independently of the stage and of each other (any matching overlay
rule sets its overlay). Evidence lists, per customer, each condition of the fired rule with its threshold and
the customer's value.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError
from lifecycle.lazy import deferred_module
from lifecycle.stages.model import StageModel
from lifecycle.stages.rules import Rule

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

UNCLASSIFIED = "unclassified"


def _masks(frame: pd.DataFrame, rules: tuple[Rule, ...], model: StageModel) -> list[np.ndarray]:
    missing = sorted({f for r in rules for f in r.features if f not in frame.columns})
    if missing:
        users = [r.id for r in rules if set(r.features) & set(missing)]
        raise ConfigError(f"{model.origin}: rule {users[0]!r} uses feature(s) {', '.join(missing)} the snapshot does not have")
    masks = []
    for rule in rules:
        try:
            masks.append(rule.mask(frame))
        except TypeError as exc:
            raise ConfigError(f"{model.origin}: rule {rule.id!r}: a value does not fit its feature's type ({exc})") from None
    return masks


def first_match(frame: pd.DataFrame, rules: tuple[Rule, ...], model: StageModel) -> tuple[np.ndarray, np.ndarray]:
    """Stage id and rule id of the first matching rule per row (``UNCLASSIFIED`` / "" when none matches)."""
    if not rules or frame.empty:
        return np.full(len(frame), UNCLASSIFIED, dtype=object), np.full(len(frame), "", dtype=object)
    masks = _masks(frame, rules, model)
    stage = np.select(masks, [r.target for r in rules], default=UNCLASSIFIED).astype(object)
    rule = np.select(masks, [r.id for r in rules], default="").astype(object)
    return stage, rule


def json_values(series: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values (NaN/NA → None, timestamps → ISO text), converted column-wise."""
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%dT%H:%M:%S")
        return text.astype(object).where(series.notna(), None).tolist()
    out = series.astype(object).where(series.notna(), None).tolist()
    return [x if not isinstance(x, float) or math.isfinite(x) else None for x in out]


def _evidence(frame: pd.DataFrame, stage: np.ndarray, rule_ids: np.ndarray, model: StageModel) -> list[dict[str, Any]]:
    """Per row: the fired rule, each condition's threshold and the customer's value (built per rule group)."""
    evidence: list[dict[str, Any]] = [{"rule": None, "checks": []} for _ in range(len(frame))]
    for rule in model.rules:
        rows = np.flatnonzero(rule_ids == rule.id)
        if not len(rows):
            continue
        subset = frame.iloc[rows]
        values = {f: json_values(subset[f]) for f in rule.features}
        for position, row in enumerate(rows):
            evidence[row] = {"rule": rule.id, "checks": [
                {**c.to_dict(), "actual": values[c.feature][position]} for c in rule.conditions]}
    return evidence


def classify_customers(snapshot: pd.DataFrame, model: StageModel, evidence: bool = True, overlays: bool = True) -> pd.DataFrame:
    """Stage, firing rule, overlays and evidence for every customer of ``snapshot`` (vectorised).

    Columns: ``customer_id``, ``stage``, ``stage_order``, ``rule_id``, one boolean column per overlay
    (``overlay_<id>``), ``overlays`` (comma-separated ids, "" when none) and, with ``evidence=True``,
    ``evidence``: ``{"rule": id, "checks": [{feature, op, value (threshold), actual}]}``. ``overlays=False``
    skips the overlay columns (the stage history needs stages only).
    """
    stage, rule_ids = first_match(snapshot, model.rules, model)
    out = pd.DataFrame({"customer_id": snapshot["customer_id"].astype("string").to_numpy(),
                        "stage": pd.array(stage, dtype="string"), "rule_id": pd.array(rule_ids, dtype="string")})
    out["stage_order"] = out["stage"].map(model.order).astype("Float64")
    overlay_rules = model.overlay_rules if overlays else ()
    masks = _masks(snapshot, overlay_rules, model) if len(snapshot) else [np.zeros(0, bool)] * len(overlay_rules)
    labels = np.full(len(snapshot), "", dtype=object)
    for overlay in model.overlays if overlays else ():
        hit = np.zeros(len(snapshot), dtype=bool)
        for rule, mask in zip(model.overlay_rules, masks):
            if rule.target == overlay.id:
                hit |= mask
        out[f"overlay_{overlay.id}"] = hit
        labels = np.where(hit, np.where(labels == "", overlay.id, labels + "," + overlay.id), labels)
    out["overlays"] = pd.array(labels, dtype="string")
    if evidence:
        out["evidence"] = _evidence(snapshot, stage, rule_ids, model)
    return out
