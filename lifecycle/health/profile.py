"""The health & risk profile: every tunable definition of the health score and the at-risk list, as data.

A profile is a TOML file (the shipped one is ``lifecycle/health/profiles/default.toml``) with:

- ``[components.<name>]`` — a health component with its ``weight`` (component weights sum to 100) and
  ``[components.<name>.signals.<signal>]`` — one snapshot column scored 0–100 (signal weights within a
  component sum to 100). Scoring functions: ``linear`` (``bad`` → 0, ``good`` → 100, clipped), ``log`` (the same
  in ln(value): a tenure's tenth year adds less than its second), ``sign``
  (scores for ``negative``/``zero``/``positive`` values) and ``lookup`` (a ``scores`` table for categories
  or booleans, with an optional ``default`` for unlisted values).
- ``[bands]`` — ``red_max`` and ``yellow_max``: score ≤ red_max is red, ≤ yellow_max yellow, else green.
- ``[trend]`` — ``flat_within``: a change of at most this many points counts as flat.
- ``[[segments]]`` — ordered rules (first match wins) assigning the seed's segments and their strategies.
- ``[risk]`` — thresholds, severities and suggested plays of the at-risk reason codes.
- ``[weights]`` — ``component = weight``: re-weights components (inherited or named here); 0 drops one.
- ``extends`` — the shipped profile it builds on (``default`` unless it says otherwise; ``none``: stand-alone).

Inheritance (``load_health_profile`` of a file; ``profile_from_dict`` when ``extends`` is given): a profile overrides
only what it names. ``[bands]``, ``[trend]``, ``[risk]`` and each ``[risk.reasons.<code>]`` merge key by key;
``[[segments]]``, when given, replace the base's list (rules are ordered); ``[components.<name>]`` replaces the base
component of that name whole or adds a new one — except that components which carry 100 of weight between them are a
complete model and replace the base's set; ``[weights]`` applies last. Seed segments a profile lacks are reported in
``HealthProfile.notes`` (customers they would take fall to the next rule that matches, or get none).

Source of the components, their weight ranges, the segments and their strategies: seed 002
("Customer Health Score Components", "Customer Segmentation Matrix"). Errors are ``ConfigError`` naming the
file and the dotted key.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError

if TYPE_CHECKING:  # the dataset's modules sit above the profile
    from lifecycle.dataset import Dataset

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
WEIGHT_TOLERANCE = 1e-6
SEED_SEGMENTS = ("churning", "dormant", "at_risk", "champions", "healthy")
"""The segments of seed 002's "Customer Segmentation Matrix" (the shipped profiles name all five)."""
NO_BASE = "none"


class Direction(StrEnum):
    """Which way a signal's value is good."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    CATEGORICAL = "categorical"  # lookups over unordered categories


class Scoring(StrEnum):
    """How a signal's value becomes a 0–100 score."""

    LINEAR = "linear"
    LOG = "log"
    SIGN = "sign"
    LOOKUP = "lookup"


class Reason(StrEnum):
    """Why a customer is on the at-risk list (each carries its evidence values)."""

    USAGE_DROP = "usage_drop"
    NO_RECENT_ACTIVITY = "no_recent_activity"
    DETRACTOR_NPS = "detractor_nps"
    OPEN_HIGH_PRIORITY_TICKETS = "open_high_priority_tickets"
    LATE_PAYMENT = "late_payment"
    CONTRACTION = "contraction"
    NO_CHAMPION = "no_champion"
    NO_EXECUTIVE_SPONSOR = "no_executive_sponsor"
    AUTO_RENEW_OFF = "auto_renew_off"
    PAYMENT_FAILED = "payment_failed"
    RENEWAL_DUE = "renewal_due"


OPTIONAL_REASONS = {Reason.NO_EXECUTIVE_SPONSOR: Reason.NO_CHAMPION}
"""Reasons a profile may leave out (profiles written before they existed): they take the severity and strategy of the
reason named here, and ``DEFAULT_PLAYS``' play."""
DEFAULT_PLAYS = {Reason.NO_EXECUTIVE_SPONSOR: "Find an executive sponsor: ask the champion to bring in the budget owner "
                                              "for an executive business review."}


@dataclass(frozen=True)
class ReasonRule:
    """How a reason code weighs on risk (``severity`` in [0, 1]) and what to do about it."""

    severity: float
    strategy: str
    play: str


DEFAULT_REASON_RULES = {
    Reason.AUTO_RENEW_OFF: ReasonRule(0.35, "Save team escalation",
                                      "Save-team call before the term ends: ask why auto-renew was turned off, agree what "
                                      "would make renewing worth it (plan, price, a fix), confirm the renewal in writing."),
    Reason.PAYMENT_FAILED: ReasonRule(0.3, "Save team escalation",
                                      "Recover the payment: ask for an updated card or bank details (email and in-app), "
                                      "retry the charge, and call when the MRR is material before access is cut."),
    Reason.RENEWAL_DUE: ReasonRule(0.15, "Intervention, support",
                                   "Renewal review before the renewal day: an executive business review with the value "
                                   "delivered this term; settle open tickets and pricing questions now."),
}
"""Reasons newer than some profiles (renewal-aware subscriptions): a profile that leaves them out gets these rules."""


@dataclass(frozen=True)
class Signal:
    """One snapshot column scored 0–100 with ``weight`` (percent of its component)."""

    name: str
    column: str
    weight: float
    direction: Direction
    scoring: Scoring
    bad: float | None = None
    good: float | None = None
    negative: float | None = None
    zero: float | None = None
    positive: float | None = None
    scores: tuple[tuple[str, float], ...] = ()
    default: float | None = None
    help: str = ""

    def describe(self) -> str:
        """The scoring rule in words, e.g. 'linear: 0 at 0, 100 at 60 (higher is better)'."""
        way = self.direction.value.replace("_", " ")
        if self.scoring is Scoring.LINEAR:
            return f"linear: 0 at {self.bad:g}, 100 at {self.good:g}, clipped ({way})"
        if self.scoring is Scoring.LOG:
            return f"log: 0 at {self.bad:g}, 100 at {self.good:g}, linear in ln(value) between, clipped ({way})"
        if self.scoring is Scoring.SIGN:
            return f"sign: negative → {self.negative:g}, zero → {self.zero:g}, positive → {self.positive:g} ({way})"
        table = ", ".join(f"{key} → {value:g}" for key, value in self.scores)
        tail = f", other → {self.default:g}" if self.default is not None else ", other → excluded"
        return f"lookup: {table}{tail}"


@dataclass(frozen=True)
class Component:
    """A health component (seed 002): its weight (percent of health) and its signals."""

    name: str
    weight: float
    signals: tuple[Signal, ...]
    help: str = ""


@dataclass(frozen=True)
class Condition:
    """``column op value``; ``column`` is a snapshot column, ``health``, ``band`` or ``component.<name>``."""

    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class SegmentRule:
    """A segment: matches when all of ``all_of`` and (if given) any of ``any_of`` hold; no conditions = everyone."""

    name: str
    strategy: str
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Bands:
    """Score ≤ ``red_max`` is red, ≤ ``yellow_max`` yellow, else green (fractional scores use the same rule)."""

    red_max: float = 50.0
    yellow_max: float = 75.0

    def band(self, score: float | None) -> str | None:
        """red / yellow / green for one score (None when the score is unknown)."""
        if score is None or math.isnan(score):
            return None
        return "red" if score <= self.red_max else "yellow" if score <= self.yellow_max else "green"


@dataclass(frozen=True)
class RiskRules:
    """Thresholds of the reason codes and of the at-risk list (see docs/health-and-risk.md)."""

    usage_drop_at: float = -0.3
    inactive_days: float = 30.0
    detractor_max: float = 6.0
    min_risk: float = 0.25
    unknown_health_risk: float = 0.5
    renewal_window_days: float = 60.0
    renewal_min_term_months: float = 12.0
    reasons: tuple[tuple[Reason, ReasonRule], ...] = ()

    def rule(self, reason: Reason) -> ReasonRule:
        return dict(self.reasons)[reason]


@dataclass(frozen=True)
class HealthProfile:
    """Components, bands, trend tolerance, segments and risk rules of one health model."""

    name: str
    components: tuple[Component, ...]
    bands: Bands
    segments: tuple[SegmentRule, ...]
    risk: RiskRules
    trend_flat_within: float = 1.0
    description: str = ""
    source: str = "<dict>"
    extends: str = "none"
    notes: tuple[str, ...] = ()

    @property
    def missing_segments(self) -> tuple[str, ...]:
        """Seed 002 segments (``SEED_SEGMENTS``) this profile has no rule for."""
        names = {s.name for s in self.segments}
        return tuple(name for name in SEED_SEGMENTS if name not in names)

    def component(self, name: str) -> Component:
        """The component called ``name`` (ConfigError when absent)."""
        for component in self.components:
            if component.name == name:
                return component
        raise ConfigError(f"{self.source}: no component {name!r}; components: {', '.join(self.component_names)}")

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def strategy_for(self, segment: str | None) -> str | None:
        """The seed strategy text of ``segment``."""
        return next((s.strategy for s in self.segments if s.name == segment), None)

    def fingerprint(self) -> str:
        """A short stable id of the profile's content (sha256 of its canonical JSON; the file name is ignored) —
        computed once per profile object (frozen: its content cannot change; every health table's coverage summary
        compares two of them)."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        payload = asdict(self)
        for key in ("source", "extends", "notes"):
            payload.pop(key)
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- parsing -------------------------------------------------------------------------------------------------

_SIGNAL_KEYS = {"column", "weight", "direction", "scoring", "bad", "good", "negative", "zero", "positive",
                "scores", "default", "help"}
_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")


def _fail(where: str, key: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: {key}: {why}")


def _table(data: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(where, key, f"expected a table, got {data!r}")
    return data


def _number(data: dict[str, Any], name: str, where: str, key: str, *,
            low: float | None = None, high: float | None = None) -> float:
    """The number at ``data[name]``, required (ConfigError naming ``where`` and the dotted key when missing, not a
    finite number, or outside ``low``..``high``)."""
    found = _optional_number(data, name, where, key, low=low, high=high)
    if found is None:
        raise _fail(where, f"{key}.{name}", "missing (a number is required)")
    return found


def _optional_number(data: dict[str, Any], name: str, where: str, key: str, *,
                     low: float | None = None, high: float | None = None) -> float | None:
    """The number at ``data[name]``, or None when absent (checked as ``_number`` checks it)."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, f"{key}.{name}", f"expected a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bound = (f"within {low:g}..{high:g}" if low is not None and high is not None
                 else f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise _fail(where, f"{key}.{name}", f"must be {bound}, got {value!r}")
    return float(value)


def _unknown(data: dict[str, Any], known: set[str], where: str, key: str) -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise _fail(where, key, f"unknown key(s) {', '.join(extra)}; known: {', '.join(sorted(known))}")


def _enum(enum: type[StrEnum], value: Any, where: str, key: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise _fail(where, key, f"{value!r} is not one of {', '.join(e.value for e in enum)}") from None


def _signal(name: str, data: Any, where: str, key: str) -> Signal:
    data = _table(data, where, key)
    _unknown(data, _SIGNAL_KEYS, where, key)
    scoring = _enum(Scoring, data.get("scoring", "linear"), where, f"{key}.scoring")
    default_direction = "categorical" if scoring is Scoring.LOOKUP else None
    if "direction" not in data and default_direction is None:
        raise _fail(where, f"{key}.direction", "missing: higher_is_better or lower_is_better")
    direction = _enum(Direction, data.get("direction", default_direction), where, f"{key}.direction")
    column = data.get("column", name)
    if not isinstance(column, str) or not column:
        raise _fail(where, f"{key}.column", f"expected a column name, got {column!r}")
    fields: dict[str, Any] = {"name": name, "column": column, "direction": direction, "scoring": scoring,
                              "weight": _number(data, "weight", where, key, low=0, high=100),
                              "help": str(data.get("help", ""))}
    if scoring is not Scoring.LOOKUP and direction is Direction.CATEGORICAL:
        raise _fail(where, f"{key}.direction", f"{scoring.value} scoring needs higher_is_better or lower_is_better")
    if scoring in (Scoring.LINEAR, Scoring.LOG):
        bad, good = _number(data, "bad", where, key), _number(data, "good", where, key)
        if scoring is Scoring.LOG and not (bad > 0 and good > 0):
            raise _fail(where, f"{key}.bad", f"log scoring needs positive bad and good, got bad={bad:g}, good={good:g}")
        if (direction is Direction.HIGHER_IS_BETTER and not good > bad) or (direction is Direction.LOWER_IS_BETTER and not good < bad):
            raise _fail(where, f"{key}.good", f"good={good:g} and bad={bad:g} contradict direction {direction.value}")
        fields.update(bad=bad, good=good)
    elif scoring is Scoring.SIGN:
        neg, zero, pos = (_number(data, k, where, key, low=0, high=100) for k in ("negative", "zero", "positive"))
        ordered = neg <= zero <= pos if direction is Direction.HIGHER_IS_BETTER else neg >= zero >= pos
        if not ordered:
            raise _fail(where, f"{key}.zero", f"negative/zero/positive scores {neg:g}/{zero:g}/{pos:g} contradict {direction.value}")
        fields.update(negative=neg, zero=zero, positive=pos)
    else:
        scores = _table(data.get("scores"), where, f"{key}.scores")
        if not scores:
            raise _fail(where, f"{key}.scores", "a lookup needs at least one value → score")
        pairs = tuple((str(k), _number(scores, k, where, f"{key}.scores", low=0, high=100)) for k in scores)
        lookup = dict(pairs)
        if direction is not Direction.CATEGORICAL and {"true", "false"} <= set(lookup):
            better, worse = ("true", "false") if direction is Direction.HIGHER_IS_BETTER else ("false", "true")
            if lookup[better] < lookup[worse]:
                raise _fail(where, f"{key}.scores", f"scores contradict direction {direction.value}")
        fields.update(scores=pairs, default=_optional_number(data, "default", where, key, low=0, high=100))
    return Signal(**fields)


def _weights_sum_to_100(weights: list[float], where: str, key: str, what: str, hint: str = "") -> None:
    total = sum(weights)
    if abs(total - 100.0) > WEIGHT_TOLERANCE:
        raise _fail(where, key, f"{what} weights must sum to 100, got {total:g}{hint}")


def _component(name: str, data: Any, where: str) -> Component:
    key = f"components.{name}"
    data = _table(data, where, key)
    _unknown(data, {"weight", "signals", "help"}, where, key)
    signals_data = _table(data.get("signals", {}), where, f"{key}.signals")
    if not signals_data:
        raise _fail(where, f"{key}.signals", "a component needs at least one signal")
    signals = tuple(_signal(sname, sdata, where, f"{key}.signals.{sname}") for sname, sdata in signals_data.items())
    _weights_sum_to_100([s.weight for s in signals], where, f"{key}.signals", f"component {name!r} signal")
    return Component(name=name, weight=_number(data, "weight", where, key, low=0, high=100), signals=signals,
                     help=str(data.get("help", "")))


def _condition(data: Any, where: str, key: str) -> Condition:
    data = _table(data, where, key)
    _unknown(data, {"column", "op", "value"}, where, key)
    if not isinstance(data.get("column"), str):
        raise _fail(where, f"{key}.column", "missing column name")
    if data.get("op") not in _OPS:
        raise _fail(where, f"{key}.op", f"{data.get('op')!r} is not one of {', '.join(_OPS)}")
    if "value" not in data:
        raise _fail(where, f"{key}.value", "missing")
    value = data["value"]
    if data["op"] in ("in", "not in") and not isinstance(value, list):
        raise _fail(where, f"{key}.value", f"{data['op']!r} needs a list")
    return Condition(column=data["column"], op=data["op"], value=tuple(value) if isinstance(value, list) else value)


def _segment(index: int, data: Any, where: str) -> SegmentRule:
    key = f"segments[{index}]"
    data = _table(data, where, key)
    _unknown(data, {"name", "strategy", "all", "any", "help"}, where, key)
    for field_name in ("name", "strategy"):
        if not isinstance(data.get(field_name), str) or not data[field_name]:
            raise _fail(where, f"{key}.{field_name}", "missing text")
    conditions = {}
    for group in ("all", "any"):
        items = data.get(group, [])
        if not isinstance(items, list):
            raise _fail(where, f"{key}.{group}", "expected a list of {column, op, value} tables")
        conditions[group] = tuple(_condition(c, where, f"{key}.{group}[{i}]") for i, c in enumerate(items))
    return SegmentRule(name=data["name"], strategy=data["strategy"], all_of=conditions["all"],
                       any_of=conditions["any"], help=str(data.get("help", "")))


def _risk(data: Any, where: str) -> RiskRules:
    data = _table(data, where, "risk")
    _unknown(data, {"usage_drop_at", "inactive_days", "detractor_max", "min_risk", "unknown_health_risk",
                    "renewal_window_days", "renewal_min_term_months", "reasons"}, where, "risk")
    reasons_data = _table(data.get("reasons", {}), where, "risk.reasons")
    _unknown(reasons_data, {r.value for r in Reason}, where, "risk.reasons")
    missing = [r.value for r in Reason if r.value not in reasons_data and r not in OPTIONAL_REASONS
               and r not in DEFAULT_REASON_RULES]
    if missing:
        raise _fail(where, "risk.reasons", f"missing reason(s) {', '.join(missing)}")
    reasons = []
    for reason in Reason:
        key = f"risk.reasons.{reason.value}"
        if reason.value not in reasons_data and reason in DEFAULT_REASON_RULES:
            reasons.append((reason, DEFAULT_REASON_RULES[reason]))
            continue
        if reason.value not in reasons_data:
            base = dict(reasons)[OPTIONAL_REASONS[reason]]
            reasons.append((reason, ReasonRule(severity=base.severity, strategy=base.strategy, play=DEFAULT_PLAYS[reason])))
            continue
        rdata = _table(reasons_data[reason.value], where, key)
        _unknown(rdata, {"severity", "strategy", "play"}, where, key)
        for text in ("strategy", "play"):
            if not isinstance(rdata.get(text), str) or not rdata[text]:
                raise _fail(where, f"{key}.{text}", "missing text")
        reasons.append((reason, ReasonRule(severity=_number(rdata, "severity", where, key, low=0, high=1),
                                           strategy=rdata["strategy"], play=rdata["play"])))
    defaults = RiskRules()
    values = {name: _optional_number(data, name, where, "risk") for name in
              ("usage_drop_at", "inactive_days", "detractor_max")}
    values.update({name: _optional_number(data, name, where, "risk", low=0) for name in
                   ("renewal_window_days", "renewal_min_term_months")})
    values["min_risk"] = _optional_number(data, "min_risk", where, "risk", low=0, high=1)
    values["unknown_health_risk"] = _optional_number(data, "unknown_health_risk", where, "risk", low=0, high=1)
    return RiskRules(**{k: (getattr(defaults, k) if v is None else v) for k, v in values.items()}, reasons=tuple(reasons))


_TOP_KEYS = {"name", "description", "extends", "weights", "components", "bands", "trend", "segments", "risk"}


def _bundled_data(name: str) -> dict[str, Any]:
    return tomllib.loads((PROFILES_DIR / f"{name}.toml").read_text(encoding="utf-8"))


def _base_name(data: dict[str, Any], where: str, default: str) -> str:
    base = data.get("extends", default)
    if base != NO_BASE and (not isinstance(base, str) or base not in bundled_profiles()):
        raise _fail(where, "extends", f"{base!r} is not a shipped profile ({', '.join(bundled_profiles())}) or "
                                      f"{NO_BASE!r} (a stand-alone profile)")
    return base


def _own_components_complete(components: dict[str, Any]) -> bool:
    """The components a profile names carry 100 of weight between them: a whole model, not an override."""
    weights = [c.get("weight") for c in components.values() if isinstance(c, dict)]
    numbers = [w for w in weights if isinstance(w, (int, float)) and not isinstance(w, bool)]
    return bool(components) and len(numbers) == len(components) and abs(sum(numbers) - 100.0) <= WEIGHT_TOLERANCE


def merge_profile_data(base: dict[str, Any], own: dict[str, Any], where: str) -> dict[str, Any]:
    """``own`` (a parsed profile TOML) laid over ``base`` (a shipped one): the rules in the module docstring."""
    _unknown(own, _TOP_KEYS, where, "profile")
    merged: dict[str, Any] = {"name": own.get("name"),
                              "description": own.get("description", f"{base.get('name')}, customised: "
                                                                    f"{base.get('description', '')}")}
    for key in ("bands", "trend"):
        merged[key] = {**_table(base.get(key, {}), where, key), **_table(own.get(key, {}), where, key)}
    base_risk, own_risk = _table(base.get("risk", {}), where, "risk"), _table(own.get("risk", {}), where, "risk")
    base_reasons = _table(base_risk.get("reasons", {}), where, "risk.reasons")
    own_reasons = _table(own_risk.get("reasons", {}), where, "risk.reasons")
    reasons = {code: {**_table(base_reasons.get(code, {}), where, f"risk.reasons.{code}"),
                      **_table(own_reasons.get(code, {}), where, f"risk.reasons.{code}")}
               for code in dict.fromkeys([*base_reasons, *own_reasons])}
    merged["risk"] = {**{k: v for k, v in base_risk.items() if k != "reasons"},
                      **{k: v for k, v in own_risk.items() if k != "reasons"}, "reasons": reasons}
    merged["segments"] = own["segments"] if "segments" in own else base.get("segments", [])
    own_components = _table(own.get("components", {}), where, "components")
    if _own_components_complete(own_components):
        merged["components"] = own_components
    else:
        merged["components"] = {**_table(base.get("components", {}), where, "components"), **own_components}
    if "weights" in own:
        merged["weights"] = own["weights"]
    return merged


def _apply_weights(components: dict[str, Any], weights: Any, where: str) -> dict[str, Any]:
    """``[weights]``: component = weight over ``components`` (a weight of 0 drops the component)."""
    weights = _table(weights, where, "weights")
    unknown = sorted(set(weights) - set(components))
    if unknown:
        raise _fail(where, "weights", f"no component(s) {', '.join(unknown)}; components: {', '.join(components)}")
    out = {}
    for name, data in components.items():
        data = dict(_table(data, where, f"components.{name}"))
        if name in weights:
            data["weight"] = _number(weights, name, where, "weights", low=0, high=100)
            if data["weight"] == 0:
                continue
        out[name] = data
    return out


def _segment_notes(segments: tuple[SegmentRule, ...]) -> tuple[str, ...]:
    if not segments:
        return ("no segments: the profile names no [[segments]] rule, so every customer's segment is empty",)
    names = {s.name for s in segments}
    missing = [name for name in SEED_SEGMENTS if name not in names]
    if not missing:
        return ()
    return (f"segments missing from the profile: {', '.join(missing)} (seed 002's matrix); customers they would take "
            "fall to the next rule that matches, or get no segment",)


def profile_from_dict(data: dict[str, Any], where: str = "<dict>", *, extends: str = NO_BASE) -> HealthProfile:
    """Build and validate a ``HealthProfile`` from parsed TOML; ``where`` names the file in error messages.

    ``data["extends"]`` (else ``extends``) names the shipped profile it builds on (``none``: stand-alone); the
    inheritance rules are in the module docstring. Missing seed segments are reported in ``notes``.
    """
    _unknown(data, _TOP_KEYS, where, "profile")
    base = _base_name(data, where, extends)
    if base != NO_BASE:
        data = merge_profile_data(_bundled_data(base), data, where)
    components_data = _table(data.get("components", {}), where, "components")
    if "weights" in data:
        components_data = _apply_weights(components_data, data["weights"], where)
    if not components_data:
        raise _fail(where, "components", "a profile needs at least one component")
    components = tuple(_component(name, cdata, where) for name, cdata in components_data.items())
    hint = (f" ({', '.join(c.name for c in components)}: components the profile does not name are inherited from "
            f"{base!r}; re-weight them in [weights], where 0 drops one)") if base != NO_BASE else ""
    _weights_sum_to_100([c.weight for c in components], where, "components", "component", hint)
    bands_data = _table(data.get("bands", {}), where, "bands")
    _unknown(bands_data, {"red_max", "yellow_max"}, where, "bands")
    red = _optional_number(bands_data, "red_max", where, "bands", low=0, high=100)
    yellow = _optional_number(bands_data, "yellow_max", where, "bands", low=0, high=100)
    bands = Bands(red_max=Bands.red_max if red is None else red, yellow_max=Bands.yellow_max if yellow is None else yellow)
    if not bands.red_max < bands.yellow_max:
        raise _fail(where, "bands.yellow_max", f"must exceed red_max ({bands.red_max:g})")
    trend = _table(data.get("trend", {}), where, "trend")
    _unknown(trend, {"flat_within"}, where, "trend")
    flat_within = _optional_number(trend, "flat_within", where, "trend", low=0)
    segments_data = data.get("segments", [])
    if not isinstance(segments_data, list):
        raise _fail(where, "segments", "expected an array of tables ([[segments]])")
    segments = tuple(_segment(i, s, where) for i, s in enumerate(segments_data))
    names = [s.name for s in segments]
    if len(set(names)) != len(names):
        raise _fail(where, "segments", f"duplicate segment names in {names}")
    if "risk" not in data:
        raise _fail(where, "risk", "missing [risk] table (reason thresholds, severities and plays); or inherit it: "
                                   "extends = \"default\"")
    return HealthProfile(
        name=str(data.get("name") or Path(where).stem), description=str(data.get("description", "")),
        components=components, bands=bands, segments=segments, risk=_risk(data["risk"], where),
        trend_flat_within=1.0 if flat_within is None else flat_within,
        source=where, extends=base, notes=_segment_notes(segments),
    )


def bundled_profiles() -> tuple[str, ...]:
    """Names of the profiles shipped in ``lifecycle/health/profiles``."""
    return tuple(sorted(p.stem for p in PROFILES_DIR.glob("*.toml")))


def load_health_profile(name_or_path: str | Path = "default") -> HealthProfile:
    """The profile shipped under ``name`` (default, ecommerce, activity), or the one in the TOML file at a path.

    A file builds on the shipped ``default`` unless its ``extends`` names another (or ``none``): it may omit any
    table and overrides only what it names (module docstring). ``auto`` without a dataset to look at is ``default``
    (a ``Dataset`` resolves ``auto`` from its tables first: ``profile_for``). A profile is read and checked once per
    shipped name, and once per file version (path, modification time and size): every caller gets the same frozen
    ``HealthProfile`` instead of re-reading it.
    """
    text = "default" if str(name_or_path) == "auto" else str(name_or_path)
    if text in bundled_profiles():
        return _load_shipped(text)
    path = Path(name_or_path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"health profile {text!r} not found: use one of {', '.join(bundled_profiles())} "
                          "or the path of a TOML file") from None
    return _load_file(str(path), str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def profile_for(dataset: Dataset) -> HealthProfile:
    """The health profile the dataset's configuration selects (``models.health``; ``auto`` resolved from its tables:
    subscriptions → default, orders → ecommerce, events → activity)."""
    return dataset.health_profile


@lru_cache(maxsize=8)
def _load_shipped(name: str) -> HealthProfile:
    path = PROFILES_DIR / f"{name}.toml"
    return profile_from_dict(_toml(path), where=path.name)


@lru_cache(maxsize=32)
def _load_file(given: str, resolved: str, mtime_ns: int, size: int) -> HealthProfile:
    """A profile file, keyed by its resolved path and version; errors and ``source`` name it as the user gave it."""
    return profile_from_dict(_toml(Path(given)), where=given, extends="default")


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"health profile {path.stem!r} not found: use one of {', '.join(bundled_profiles())} "
                          "or the path of a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None


__all__ = ["SEED_SEGMENTS", "Bands", "Component", "Condition", "Direction", "HealthProfile", "Reason", "ReasonRule",
           "RiskRules", "Scoring", "SegmentRule", "Signal", "bundled_profiles", "load_health_profile", "profile_for",
           "merge_profile_data", "profile_from_dict"]
