"""Lifecycle stages: rule-based classification of customers (and leads) from the per-customer snapshot.

A *stage model* is data (TOML, ``lifecycle/stage_models/*.toml`` or a user's own file): ordered stages
(id, name, description, ``order`` for progression/regression, ``expected_days`` for stagnation), ordered
rules — each a stage and a list of conditions ``{feature, op, value}`` that must all hold; the *first*
matching rule wins — and overlays (at_risk, dormant, churned, reactivated, …) set by their own rules,
independently of the stage and of each other (any matching overlay rule sets its overlay).

Classification is vectorised: one boolean mask per rule over the whole snapshot, combined with
``np.select`` in rule order. Condition semantics: ``== < <= > >= in`` are false on a missing value,
``!= not_in`` are their negations (true on missing), ``is_null``/``not_null`` test for missing values.

Time in stage is measured from monthly history (``time_in_stage``): the stage is computed at ``as_of`` and
at the same day 1, 2, … months earlier (each a full as-of snapshot, so no look-ahead); the customer is taken
to have entered the current stage at the earliest checkpoint of the unbroken run ending at ``as_of`` — or
on signup, when the run reaches back past the signup day. The result is a lower bound with monthly
resolution (the true entry lies between that checkpoint and the one before), censored at the history length.
Sources: seed 000 (six stages, transition triggers, stagnation), 002 (timelines), 004 (five stages).
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, next_day_iso
from lifecycle.errors import ConfigError, QueryError
from lifecycle.filters import Scope, add_months
from lifecycle.snapshot import snapshot_of

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null")
UNCLASSIFIED = "unclassified"
POPULATIONS = ("customers", "leads", "both")
LEAD_STATUSES_OPEN = ("lead", "mql", "sql", "opportunity")


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


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    order: int
    description: str = ""
    expected_days: float | None = None
    population: str = "customers"


@dataclass(frozen=True)
class Overlay:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class StageModel:
    """A validated stage model (see ``docs/stages.md`` for the file format)."""

    id: str
    name: str
    description: str
    source: str
    stages: tuple[Stage, ...]
    rules: tuple[Rule, ...]
    lead_rules: tuple[Rule, ...] = ()
    overlays: tuple[Overlay, ...] = ()
    overlay_rules: tuple[Rule, ...] = ()
    completion_stage: str | None = None
    origin: str = ""
    signals: tuple[Rule, ...] = ()  # extra candidate signals for progression drivers (target = "signal")

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise QueryError(f"stage model {self.id!r} has no stage {stage_id!r}; stages: {', '.join(s.id for s in self.stages)}")

    @property
    def order(self) -> dict[str, int]:
        """Stage id → order index (progression = order increases)."""
        return {s.id: s.order for s in self.stages}

    @property
    def customer_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.population in ("customers", "both"))

    @property
    def final_stage(self) -> str:
        """The stage that completes the lifecycle (``completion_stage``, else the highest-order customer stage)."""
        return self.completion_stage or max(self.customer_stages, key=lambda s: s.order).id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the whole model."""
        return {
            "id": self.id, "name": self.name, "description": self.description, "source": self.source,
            "completion_stage": self.final_stage,
            "stages": [{"id": s.id, "name": s.name, "order": s.order, "population": s.population,
                        "expected_days": s.expected_days, "description": s.description} for s in self.stages],
            "rules": [r.to_dict() for r in self.rules], "lead_rules": [r.to_dict() for r in self.lead_rules],
            "overlays": [{"id": o.id, "name": o.name, "description": o.description} for o in self.overlays],
            "overlay_rules": [r.to_dict() for r in self.overlay_rules],
        }


# ------------------------------------------------------------------------------------------- loading

def preset_names() -> tuple[str, ...]:
    """Shipped stage models (``lifecycle/stage_models/*.toml``)."""
    folder = resources.files("lifecycle") / "stage_models"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def load_model(name_or_path: str | Path = "default") -> StageModel:
    """A shipped preset by name (default, saas, aarrr, ecommerce) or a user's TOML file by path.

    Raises ``ConfigError`` naming the file and the rule when the model is invalid.
    """
    text = str(name_or_path)
    if text in preset_names():
        return _load_preset(text)
    path = Path(text).expanduser()
    if not path.is_file():
        raise ConfigError(f"unknown stage model {text!r}: use one of {', '.join(preset_names())} or a path to a TOML file")
    stat = path.stat()
    return _load_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def model_for(dataset: Dataset) -> StageModel:
    """The stage model the dataset's configuration selects (``models.stages``)."""
    return load_model(dataset.config.models.stages)


@lru_cache(maxsize=16)
def _load_preset(name: str) -> StageModel:
    source = resources.files("lifecycle") / "stage_models" / f"{name}.toml"
    return parse_model(source.read_text(encoding="utf-8"), f"{name}.toml")


@lru_cache(maxsize=32)
def _load_file(path: str, mtime_ns: int, size: int) -> StageModel:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read stage model: {exc.strerror}") from None
    return parse_model(text, path)


def parse_model(text: str, where: str) -> StageModel:
    """Parse and validate a stage model from TOML ``text``; ``where`` names the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    _known(data, {"id", "name", "description", "source", "completion_stage", "overlays_from", "stages", "rules",
                  "lead_rules", "overlays", "overlay_rules", "signals"}, where)
    stages = tuple(_stage(item, i, where) for i, item in enumerate(_tables(data, "stages", where), start=1))
    if not stages:
        raise ConfigError(f"{where}: a stage model needs at least one [[stages]] entry")
    _unique([s.id for s in stages], where, "stage")
    population = {s.id: s.population for s in stages}
    rules = tuple(_rule(item, where, "rules", "stage", population, "customers") for item in _tables(data, "rules", where))
    lead_rules = tuple(_rule(item, where, "lead_rules", "stage", population, "leads") for item in _tables(data, "lead_rules", where))
    if "overlays_from" in data:
        base = load_model(str(data["overlays_from"]))
        overlays, overlay_rules = base.overlays, base.overlay_rules
    else:
        overlays = tuple(_overlay(item, where) for item in _tables(data, "overlays", where))
        known_overlays = {o.id: "overlays" for o in overlays}
        overlay_rules = tuple(_rule(item, where, "overlay_rules", "overlay", known_overlays, "overlays")
                              for item in _tables(data, "overlay_rules", where))
    _unique([r.id for r in (*rules, *lead_rules)], where, "rule")
    _unique([o.id for o in overlays], where, "overlay")
    signals = tuple(_signal(item, where) for item in _tables(data, "signals", where))
    _unique([r.id for r in signals], where, "signal")
    completion = data.get("completion_stage")
    if completion is not None and population.get(completion) not in ("customers", "both"):
        raise ConfigError(f"{where}: completion_stage {completion!r} is not a customer stage")
    if not rules:
        raise ConfigError(f"{where}: a stage model needs at least one [[rules]] entry for customers")
    return StageModel(id=str(data.get("id", Path(where).stem)), name=str(data.get("name", data.get("id", where))),
                      description=str(data.get("description", "")), source=str(data.get("source", where)),
                      stages=stages, rules=rules, lead_rules=lead_rules, overlays=overlays, overlay_rules=overlay_rules,
                      completion_stage=completion, origin=where, signals=signals)


def _known(item: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{where}: {key} must be an array of tables ([[{key}]])")
    return items


def _unique(ids: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ConfigError(f"{where}: {what} id {item!r} is defined twice")
        seen.add(item)


def _stage(item: dict[str, Any], position: int, where: str) -> Stage:
    _known(item, {"id", "name", "description", "order", "expected_days", "population"}, f"{where}: stage")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise ConfigError(f"{where}: stage #{position} needs a text id")
    sid = item["id"]
    order = item.get("order", position)
    expected = item.get("expected_days")
    if isinstance(order, bool) or not isinstance(order, int):
        raise ConfigError(f"{where}: stage {sid!r}: order must be an integer")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, (int, float)) or expected < 0):
        raise ConfigError(f"{where}: stage {sid!r}: expected_days must be a number >= 0")
    population = item.get("population", "customers")
    if population not in POPULATIONS:
        raise ConfigError(f"{where}: stage {sid!r}: population must be one of {', '.join(POPULATIONS)}")
    return Stage(sid, str(item.get("name", sid)), order, str(item.get("description", "")),
                 None if expected is None else float(expected), population)


def _overlay(item: dict[str, Any], where: str) -> Overlay:
    _known(item, {"id", "name", "description"}, f"{where}: overlay")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise ConfigError(f"{where}: every [[overlays]] entry needs a text id")
    return Overlay(item["id"], str(item.get("name", item["id"])), str(item.get("description", "")))


def _rule(item: dict[str, Any], where: str, section: str, target_key: str, targets: dict[str, str], population: str) -> Rule:
    rid = item.get("id")
    if not isinstance(rid, str) or not rid:
        raise ConfigError(f"{where}: every [[{section}]] entry needs a text id")
    context = f"{where}: rule {rid!r}"
    _known(item, {"id", target_key, "description", "conditions"}, context)
    target = item.get(target_key)
    if targets.get(target) not in (population, "both"):
        valid = [t for t, p in targets.items() if p in (population, "both")]
        raise ConfigError(f"{context}: {target_key} {target!r} is not one of the model's {population} entries ({', '.join(valid)})")
    raw = item.get("conditions", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{context}: conditions must be a list of {{feature, op, value}} tables")
    return Rule(rid, target, tuple(_condition(c, context) for c in raw), str(item.get("description", "")))


def _signal(item: dict[str, Any], where: str) -> Rule:
    sid = item.get("id")
    if not isinstance(sid, str) or not sid:
        raise ConfigError(f"{where}: every [[signals]] entry needs a text id")
    context = f"{where}: signal {sid!r}"
    _known(item, {"id", "description", "conditions"}, context)
    raw = item.get("conditions", [])
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{context}: conditions must be a non-empty list of {{feature, op, value}} tables")
    return Rule(sid, "signal", tuple(_condition(c, context) for c in raw), str(item.get("description", "")))


def _condition(item: Any, context: str) -> Condition:
    if not isinstance(item, dict):
        raise ConfigError(f"{context}: each condition must be a table {{feature, op, value}}")
    _known(item, {"feature", "op", "value"}, f"{context}: condition")
    feature, op = item.get("feature"), item.get("op")
    if not isinstance(feature, str) or not feature:
        raise ConfigError(f"{context}: a condition needs a feature name")
    if op not in OPS:
        raise ConfigError(f"{context}: condition on {feature!r}: op {op!r} is not one of {' '.join(OPS)}")
    value = item.get("value")
    if op in ("is_null", "not_null"):
        return Condition(feature, op)
    if "value" not in item:
        raise ConfigError(f"{context}: condition {feature} {op} needs a value")
    if op in ("in", "not_in") and not isinstance(value, list):
        raise ConfigError(f"{context}: condition {feature} {op} needs a list value, got {value!r}")
    if op in ("<", "<=", ">", ">=") and (isinstance(value, bool) or not isinstance(value, (int, float, str, date))):
        raise ConfigError(f"{context}: condition {feature} {op} needs a number or date, got {value!r}")
    if isinstance(value, date):
        value = value.isoformat()
    return Condition(feature, op, value)


# ------------------------------------------------------------------------------------------- classification

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


def _first_match(frame: pd.DataFrame, rules: tuple[Rule, ...], model: StageModel) -> tuple[np.ndarray, np.ndarray]:
    """Stage id and rule id of the first matching rule per row (``UNCLASSIFIED`` / "" when none matches)."""
    if not rules or frame.empty:
        return np.full(len(frame), UNCLASSIFIED, dtype=object), np.full(len(frame), "", dtype=object)
    masks = _masks(frame, rules, model)
    stage = np.select(masks, [r.target for r in rules], default=UNCLASSIFIED).astype(object)
    rule = np.select(masks, [r.id for r in rules], default="").astype(object)
    return stage, rule


def _json_values(series: pd.Series) -> list[Any]:
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
        values = {f: _json_values(subset[f]) for f in rule.features}
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
    stage, rule_ids = _first_match(snapshot, model.rules, model)
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


@dataclass(frozen=True)
class StageVerdict:
    """Why one customer is in their stage: the rule that fired, its checks and the overlays that apply."""

    customer_id: str
    stage: str
    stage_name: str
    rule_id: str | None
    rule_description: str
    checks: tuple[dict[str, Any], ...]
    overlays: tuple[str, ...]
    overlay_rules: tuple[str, ...]
    time_in_stage_days: float | None = None
    time_in_stage_note: str = ""
    features: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "stage": self.stage, "stage_name": self.stage_name,
                "rule_id": self.rule_id, "rule_description": self.rule_description, "checks": list(self.checks),
                "overlays": list(self.overlays), "overlay_rules": list(self.overlay_rules),
                "time_in_stage_days": self.time_in_stage_days, "time_in_stage_note": self.time_in_stage_note}


def classify_customer(snapshot: pd.DataFrame, model: StageModel, customer_id: str,
                      dataset: Dataset | None = None) -> StageVerdict:
    """The verdict for one customer; pass ``dataset`` to also measure time in stage (see ``time_in_stage``)."""
    row = snapshot[snapshot["customer_id"] == customer_id]
    if row.empty:
        raise QueryError(f"customer {customer_id!r} is not in the snapshot (unknown id, filtered out, or signed up after as_of)")
    verdict = classify_customers(row, model).iloc[0]
    fired = [r for r in model.overlay_rules if r.mask(row)[0]]
    rule = next((r for r in model.rules if r.id == verdict["rule_id"]), None)
    stage_name = model.stage(verdict["stage"]).name if verdict["stage"] != UNCLASSIFIED else "Unclassified"
    days, note = None, ""
    if dataset is not None:
        tis = time_in_stage(dataset, model, customer_ids=[customer_id])
        if not tis.empty:
            days = float(tis["days_in_stage"].iloc[0])
            note = "at least (monthly checkpoints)" + (", censored at the history length" if tis["censored"].iloc[0] else "")
    features = {f: _json_values(row[f])[0] for r in (*model.rules, *model.overlay_rules) for f in r.features}
    return StageVerdict(customer_id=customer_id, stage=verdict["stage"], stage_name=stage_name,
                        rule_id=rule.id if rule else None, rule_description=rule.description if rule else "",
                        checks=tuple(verdict["evidence"]["checks"]), overlays=tuple(o for o in verdict["overlays"].split(",") if o),
                        overlay_rules=tuple(r.id for r in fired), time_in_stage_days=days, time_in_stage_note=note,
                        features=features)


def lead_features(dataset: Dataset) -> pd.DataFrame:
    """Open leads on ``as_of``: ``lead_id``, ``funnel_status``, ``days_since_created``, ``source``, ``segment``.

    ``funnel_status`` is the furthest funnel date reached by as_of (won, lost, opportunity, sql, mql; later
    dates are masked by the as-of view), else — for a lead without any funnel date — its status column.
    Leads that converted (won by as_of, or linked to a customer who had signed up by as_of) or were lost are
    left out: they are no longer in the pre-customer funnel.
    """
    leads = dataset.table("leads")
    if leads.empty:
        return pd.DataFrame({"lead_id": pd.Series([], dtype="string"), "funnel_status": pd.Series([], dtype="string"),
                             "days_since_created": pd.Series([], dtype="float64")})
    dates = ["won_at", "lost_at", "opportunity_at", "sql_at", "mql_at"]
    status = np.select([leads[c].notna().to_numpy() for c in dates], ["won", "lost", "opportunity", "sql", "mql"], default="lead")
    fallback = leads["status"].astype("string").str.lower().fillna("lead").to_numpy(dtype=object)
    dated = leads[dates].notna().any(axis=1).to_numpy()
    funnel = np.where(dated, status, fallback)
    converted = leads["customer_id"].isin(_customers_by(dataset)).to_numpy()
    out = pd.DataFrame({"lead_id": leads["lead_id"].astype("string"), "funnel_status": pd.array(funnel, dtype="string"),
                        "days_since_created": (pd.Timestamp(dataset.as_of) - leads["created_at"]).dt.days.astype("float64"),
                        "source": leads["source"].astype("string"), "segment": leads["segment"].astype("string")})
    keep = out["funnel_status"].isin(LEAD_STATUSES_OPEN).to_numpy() & ~converted
    return out[keep].reset_index(drop=True)


def _customers_by(dataset: Dataset) -> pd.Index:
    """Ids of every customer (ignoring filters) who had signed up by as_of and is linked from a lead."""
    sql = ("SELECT c.customer_id AS customer_id FROM customers c WHERE c.signup_date < ? AND c.customer_id IN "
           "(SELECT l.customer_id FROM leads l WHERE l.customer_id IS NOT NULL)")
    frame = dataset.backend.query(sql, [next_day_iso(dataset.as_of)])
    return pd.Index(frame["customer_id"].astype("string") if len(frame) else [], dtype="string")


def classify_leads(dataset: Dataset, model: StageModel | None = None) -> pd.DataFrame:
    """Stage and rule for every open lead (columns ``lead_id``, ``stage``, ``rule_id``, ``funnel_status``)."""
    model = model or model_for(dataset)
    leads = lead_features(dataset)
    stage, rule_ids = _first_match(leads, model.lead_rules, model)
    return pd.DataFrame({"lead_id": leads["lead_id"], "stage": pd.array(stage, dtype="string"),
                         "rule_id": pd.array(rule_ids, dtype="string"), "funnel_status": leads["funnel_status"]})


def stage_distribution(dataset: Dataset, model: StageModel | None = None) -> pd.DataFrame:
    """How many leads and customers are in each stage on ``as_of``, with overlay counts per stage.

    One row per model stage in order (leads stages count open leads; customer stages count customers who
    are not churned), then ``churned`` (customers with the churned flag) and ``unclassified`` when a
    population matched no rule. Columns: stage, name, order, population, count, share (of its population
    row group: leads or customers incl. churned), and ``overlay_<id>`` counts. ``model`` defaults to the
    configured one (``model_for``).
    """
    model = model or model_for(dataset)
    snap = snapshot_of(dataset)
    classified = classify_customers(snap, model, evidence=False)
    churned = snap["churned"].fillna(False).to_numpy(dtype=bool)
    leads = classify_leads(dataset, model)
    rows: list[dict[str, Any]] = []
    overlay_cols = [f"overlay_{o.id}" for o in model.overlays]
    live = classified[~churned]
    for stage in model.stages:
        for population in (("leads", "customers") if stage.population == "both" else (stage.population,)):
            row: dict[str, Any] = {"stage": stage.id, "name": stage.name, "order": stage.order, "population": population}
            if population == "leads":
                row["count"] = int((leads["stage"] == stage.id).sum())
            else:
                in_stage = live[live["stage"] == stage.id]
                row["count"] = len(in_stage)
                row.update({c: int(in_stage[c].sum()) for c in overlay_cols})
            rows.append(row)
    rows.append({"stage": "churned", "name": "Churned", "order": None, "population": "customers", "count": int(churned.sum())})
    for population, frame in (("customers", live), ("leads", leads)):
        unmatched = int((frame["stage"] == UNCLASSIFIED).sum())
        if unmatched:
            rows.append({"stage": UNCLASSIFIED, "name": "Unclassified", "order": None, "population": population, "count": unmatched})
    out = pd.DataFrame(rows)
    totals = out.groupby("population")["count"].transform("sum")
    out["share"] = out["count"] / totals.where(totals > 0)
    for column in overlay_cols:
        out[column] = out.get(column, pd.Series(dtype="float64")).fillna(0).astype("int64")
    return out


# ------------------------------------------------------------------------------------------- history

def checkpoints(as_of: date, months: int) -> list[date]:
    """``as_of`` and the same day 1..``months`` calendar months earlier (clamped to month ends), newest first."""
    return [add_months(as_of, -k) for k in range(months + 1)]


def stage_features(model: StageModel) -> tuple[str, ...]:
    """Snapshot columns the model's customer rules read, plus those the stage history needs."""
    return tuple(sorted({f for r in model.rules for f in r.features} | {"customer_id", "signup_date", "churned"}))


def stages_at(dataset: Dataset, model: StageModel, day: date) -> pd.DataFrame:
    """Stage and churned flag of every customer (signed up by ``day``) as known on ``day`` (no look-ahead)."""
    key = f"__stages__:{model.origin}:{model.id}:{day.isoformat()}"  # memoised with the dataset's table cache
    if key not in dataset._cache:
        view = dataset if day == dataset.as_of else dataset.rescoped(Scope.at(day, dataset.filters))
        snap = snapshot_of(view, stage_features(model))
        classified = classify_customers(snap, model, evidence=False, overlays=False)
        dataset._cache[key] = pd.DataFrame({
            "customer_id": classified["customer_id"], "stage": classified["stage"],
            "churned": snap["churned"].fillna(False).astype(bool).to_numpy(),
            "signup_date": snap["signup_date"].to_numpy()}).set_index("customer_id")
    return dataset._cache[key]


def stage_history(dataset: Dataset, model: StageModel, days: list[date]) -> pd.DataFrame:
    """Stage per customer (rows, customers known on ``days[0]``) at each day in ``days`` (columns); NA before signup."""
    frames = {day: stages_at(dataset, model, day)["stage"] for day in days}
    base = frames[days[0]].index
    return pd.DataFrame({day: frames[day].reindex(base) for day in days})


def time_in_stage(dataset: Dataset, model: StageModel, months: int = 12, customer_ids: list[str] | None = None,
                  enough: dict[str, float] | None = None) -> pd.DataFrame:
    """Days each customer has been in their current stage on ``as_of`` (monthly resolution, lower bound).

    Walks back over the checkpoints (as_of, as_of − 1 month, …, as_of − ``months``): the entry is the
    earliest checkpoint of the unbroken run in the current stage, or the signup day when the run reaches back
    past signup. ``censored`` is true when the run spans the whole history, or — with ``enough`` (stage id →
    days) — when the walk stopped early because the run already exceeded that many days (stages missing from
    ``enough`` need no history then). Only as many earlier snapshots are built as some customer still needs.
    Columns: customer_id, stage, entered_at, days_in_stage, censored.
    """
    days = [np.datetime64(d, "us") for d in checkpoints(dataset.as_of, months)]
    current = stages_at(dataset, model, dataset.as_of)
    if customer_ids is not None:
        current = current.loc[current.index.intersection(pd.Index(customer_ids, dtype="string"))]
    ids = current.index
    stage = current["stage"].to_numpy(dtype=object)
    signup = current["signup_date"].to_numpy(dtype="datetime64[us]")
    entered = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[us]")
    censored = np.zeros(len(ids), dtype=bool)
    open_ = np.ones(len(ids), dtype=bool)
    limit = (current["stage"].map(enough).to_numpy(dtype="float64", na_value=np.nan) if enough is not None
             else np.full(len(ids), np.inf))
    if enough is not None:
        limit = np.where(np.isnan(limit), -1.0, limit)  # no threshold: nothing to find out
    for k in range(1, len(days)):
        run_days = (days[0] - days[k - 1]) / np.timedelta64(1, "D")
        settled = open_ & (run_days > limit)
        entered[settled], censored[settled] = days[k - 1], True
        open_ &= ~settled
        if not open_.any():
            break
        before = stages_at(dataset, model, days[k].astype("datetime64[D]").item())["stage"].reindex(ids)
        same = before.to_numpy(dtype=object, na_value=None) == stage
        broke = open_ & ~same
        entered[broke] = np.where(signup[broke] > days[k], signup[broke], days[k - 1])
        open_ &= same
    if open_.any():  # unbroken over the whole history
        last = days[-1]
        entered[open_] = np.where(signup[open_] >= last, signup[open_], last)
        censored[open_] = signup[open_] < last
    return pd.DataFrame({"customer_id": pd.array(ids, dtype="string"), "stage": stage, "entered_at": entered,
                         "days_in_stage": ((days[0] - entered) / np.timedelta64(1, "D")).astype("float64"),
                         "censored": censored})
