"""Stage models: the dataclasses of a validated model and their loading from TOML (shipped presets or a user's file).

A *stage model* is data (TOML, ``lifecycle/stages/models/*.toml`` or a user's own file): ordered stages
(id, name, description, ``order`` for progression/regression, ``expected_days`` for stagnation, the
``population`` — customers, leads or both), ordered ``[[rules]]`` (customers) and ``[[lead_rules]]`` — each a
stage and a list of conditions (``lifecycle.stages.rules``) — overlays with their ``[[overlay_rules]]`` (or
``overlays_from`` another model) and ``[[signals]]`` for the progression drivers. ``parse_model`` validates
everything and raises ``ConfigError`` naming the file and the rule. Format: ``docs/stages.md``.
Sources: seed 000 (six stages, transition triggers, stagnation), 002 (timelines), 004 (five stages).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError, QueryError
from lifecycle.stages.rules import OPS, Condition, Rule

if TYPE_CHECKING:  # the dataset sits above the model: a configuration holds its loaded model
    from lifecycle.dataset import Dataset

POPULATIONS = ("customers", "leads", "both")


@dataclass(frozen=True)
class Stage:
    """One stage: ``order`` ranks progression, ``expected_days`` is the stagnation threshold, ``population`` whom it holds."""

    id: str
    name: str
    order: int
    description: str = ""
    expected_days: float | None = None
    population: str = "customers"


@dataclass(frozen=True)
class Overlay:
    """A flag beside the stage (at_risk, dormant, …), set by any of its overlay rules."""

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
    """Shipped stage models (``lifecycle/stages/models/*.toml``)."""
    folder = resources.files("lifecycle.stages") / "models"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def load_model(name_or_path: str | Path = "default") -> StageModel:
    """A shipped preset by name (default, saas, aarrr, ecommerce, activity) or a user's TOML file by path.

    ``auto`` without a dataset to look at is ``default`` (a ``Dataset`` resolves ``auto`` from its tables first:
    ``lifecycle.config.choose_models``). Raises ``ConfigError`` naming the file and the rule when the model is invalid.
    """
    text = "default" if str(name_or_path) == "auto" else str(name_or_path)
    if text in preset_names():
        return _load_preset(text)
    path = Path(text).expanduser()
    if not path.is_file():
        raise ConfigError(f"unknown stage model {text!r}: use one of {', '.join(preset_names())} or a path to a TOML file")
    stat = path.stat()
    return _load_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def model_for(dataset: Dataset) -> StageModel:
    """The stage model the dataset's configuration selects (``models.stages``; ``auto`` resolved from its tables):
    ``dataset.stage_model``, held by the configuration."""
    return dataset.stage_model


@lru_cache(maxsize=16)
def _load_preset(name: str) -> StageModel:
    source = resources.files("lifecycle.stages") / "models" / f"{name}.toml"
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
    if not isinstance(target, str) or targets.get(target) not in (population, "both"):
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
