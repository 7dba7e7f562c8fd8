"""The explainable customer health score (0–100), its band, trend, segment and the component to fix first.

Model (seed 002, "Customer Health Score Components"; weights and signals from a ``HealthProfile``):

- signal score s ∈ [0, 100] from one snapshot column (linear between ``bad`` and ``good``, clipped; log, the
  same in ln(value); sign;
  or lookup). A missing value (NaN/NA, an unlisted category, or a column absent from the snapshot) is
  excluded.
- component score C = Σ wᵢ·sᵢ ÷ Σ wᵢ over the component's signals that have a value (their weights are
  redistributed within the component); no signal with a value → the component is excluded.
- health H = Σ W_c·C_c ÷ Σ W_c over the components that are not excluded (their weights redistributed
  proportionally); no component → H is NaN. The effective weight of a component is W_c ÷ Σ W_c (percent).
- band: H ≤ red_max red, H ≤ yellow_max yellow, else green (default 50/75, also for fractional scores).
- trend: H − H₋₃₀ where H₋₃₀ is the previous snapshot scored with the same profile; |Δ| ≤ flat_within → flat.
- most impactful component: argmax_c (100 − C_c) × effective weight_c — the health points the component
  would add if it were perfect (ties: profile order; nothing to fix → None).
- segment: the first segment rule of the profile that matches (seed 002 "Customer Segmentation Matrix").

Everything is vectorised over customers; ``explain_health`` reads one row back out with every signal value,
signal score, weight and exclusion reason.
"""

from __future__ import annotations

import operator
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError, QueryError
from lifecycle.health.gaps import why_missing
from lifecycle.health.profile import Component, Condition, HealthProfile, Scoring, SegmentRule, Signal
from lifecycle.lazy import deferred_module
from lifecycle.metrics.results import finite_or_none

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

BANDS = ("red", "yellow", "green")


@dataclass(frozen=True)
class Exclusion:
    """A component or signal left out of the score, and why (``customers``: how many it applies to)."""

    component: str
    signal: str | None
    reason: str
    customers: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "signal": self.signal, "reason": self.reason, "customers": self.customers}


@dataclass(frozen=True)
class HealthTable:
    """Health of every customer of a snapshot, indexed by ``customer_id``.

    ``frame`` columns: health, band, segment, most_impactful, coverage (share of the declared weight backed by
    data, 0–1), previous_health, trend_delta, trend (up/down/flat); the text columns are categoricals (NaN when
    missing). ``components``: component scores (NaN =
    excluded); ``effective_weights``: percent of health per component; ``signal_scores``: one column per signal
    named ``component.signal``; ``signal_values``: the snapshot columns read. ``exclusions``: signals missing for
    some or all customers, with counts.
    """

    profile: HealthProfile
    frame: pd.DataFrame
    components: pd.DataFrame
    effective_weights: pd.DataFrame
    signal_scores: pd.DataFrame
    signal_values: pd.DataFrame
    exclusions: tuple[Exclusion, ...] = ()

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class SignalExplanation:
    name: str
    column: str
    value: Any
    score: float | None
    weight: float
    effective_weight: float  # percent of its component after redistribution (0 when excluded)
    rule: str
    excluded_reason: str | None = None


@dataclass(frozen=True)
class ComponentExplanation:
    name: str
    score: float | None
    weight: float
    effective_weight: float  # percent of health after redistribution (0 when excluded)
    contribution: float  # points of health: score × effective weight ÷ 100
    impact: float  # points to gain: (100 − score) × effective weight ÷ 100
    signals: tuple[SignalExplanation, ...]
    excluded_reason: str | None = None


@dataclass(frozen=True)
class HealthExplanation:
    """Why one customer has the health score they have."""

    customer_id: str
    health: float | None
    band: str | None
    segment: str | None
    strategy: str | None
    most_impactful: str | None
    previous_health: float | None
    trend_delta: float | None
    trend: str | None
    components: tuple[ComponentExplanation, ...]
    excluded: tuple[Exclusion, ...] = field(default=())
    profile: str = "default"
    coverage: float | None = None  # share of the designed weight backed by data (0–1)

    def headline(self) -> str:
        """One line, e.g. 'Health 62.5 (yellow), down 8.0 vs 30 days earlier; fix first: usage (+13.1 points)'; a score
        resting on less than half of the designed weight says so."""
        if self.health is None:
            return "Health unknown: no component has data"
        text = f"Health {self.health:.1f} ({self.band})"
        if self.trend is not None and self.trend_delta is not None:
            text += f", {self.trend} {abs(self.trend_delta):.1f} vs 30 days earlier"
        if self.most_impactful is not None:
            impact = next(c.impact for c in self.components if c.name == self.most_impactful)
            text += f"; fix first: {self.most_impactful} (+{impact:.1f} points)"
        if self.coverage is not None and self.coverage < LOW_COVERAGE:
            text += f"; low coverage: rests on {self.coverage:.0%} of the designed weight, band uncalibrated"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN-free)."""
        def signal(s: SignalExplanation) -> dict[str, Any]:
            return {"name": s.name, "column": s.column, "value": _json_value(s.value), "score": s.score,
                    "weight": s.weight, "effective_weight": s.effective_weight, "rule": s.rule,
                    "excluded_reason": s.excluded_reason}

        return {
            "customer_id": self.customer_id, "profile": self.profile, "health": self.health, "band": self.band,
            "segment": self.segment, "strategy": self.strategy, "most_impactful": self.most_impactful,
            "previous_health": self.previous_health, "trend_delta": self.trend_delta, "trend": self.trend,
            "coverage": self.coverage, "headline": self.headline(),
            "components": [{"name": c.name, "score": c.score, "weight": c.weight, "effective_weight": c.effective_weight,
                            "contribution": c.contribution, "impact": c.impact, "excluded_reason": c.excluded_reason,
                            "signals": [signal(s) for s in c.signals]} for c in self.components],
            "excluded": [e.to_dict() for e in self.excluded],
        }


def _text(value: Any) -> str | None:
    """A text cell as str, or None when missing (string columns hold NaN/NA for missing)."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return finite_or_none(float(value))
    return str(value)


# --- signal scoring ------------------------------------------------------------------------------------------

def _numeric(series: pd.Series, signal: Signal) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise ConfigError(f"signal {signal.name!r}: column {signal.column!r} is not numeric ({series.dtype}); "
                          f"{signal.scoring.value} scoring needs numbers — use scoring = \"lookup\" for categories")
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _set(value: float | None, signal: Signal, name: str) -> float:
    """A parameter the signal's scoring needs (a parsed profile always has it; a hand-built ``Signal`` may not)."""
    if value is None:
        raise ConfigError(f"signal {signal.name!r}: {signal.scoring.value} scoring needs {name}")
    return value


def _lookup(series: pd.Series, signal: Signal) -> np.ndarray:
    table: dict[Any, float] = dict(signal.scores)
    if pd.api.types.is_bool_dtype(series):
        flags = series.to_numpy(dtype="float64", na_value=np.nan)
        other = np.nan if signal.default is None else signal.default
        return np.select([flags == 1.0, flags == 0.0], [table.get("true", other), table.get("false", other)], default=np.nan)
    if pd.api.types.is_numeric_dtype(series):
        try:
            table = {float(k): v for k, v in table.items()}
        except ValueError:
            raise ConfigError(f"signal {signal.name!r}: column {signal.column!r} is numeric; its lookup keys must be "
                              f"numbers, got {list(table)}") from None
        keys = pd.Series(series.to_numpy(dtype="float64", na_value=np.nan))
    else:
        keys = pd.Series(series.to_numpy(dtype="object", na_value=None))
    mapped = keys.map(table).to_numpy(dtype="float64", na_value=np.nan)
    if signal.default is not None:
        mapped = np.where(np.isnan(mapped) & keys.notna().to_numpy(), signal.default, mapped)
    return mapped


def score_signal(signal: Signal, series: pd.Series) -> np.ndarray:
    """Scores 0–100 of one signal's values (NaN where the value is missing or unlisted).

    linear: clip((x − bad) ÷ (good − bad), 0, 1) × 100 — ``good < bad`` for lower-is-better signals.
    log: clip((ln x − ln bad) ÷ (ln good − ln bad), 0, 1) × 100 (x ≤ 0 scores as the smallest positive number).
    sign: ``negative`` / ``zero`` / ``positive`` by the sign of x. lookup: ``scores[value]`` (booleans as
    "true"/"false"), else ``default``, else missing.
    """
    if signal.scoring is Scoring.LINEAR:
        x = _numeric(series, signal)
        bad, good = _set(signal.bad, signal, "bad"), _set(signal.good, signal, "good")
        return np.clip((x - bad) / (good - bad), 0.0, 1.0) * 100.0
    if signal.scoring is Scoring.LOG:
        x = _numeric(series, signal)
        with np.errstate(divide="ignore", invalid="ignore"):
            logged = np.log(np.where(np.isnan(x), np.nan, np.maximum(x, np.finfo("float64").tiny)))
        bad, good = _set(signal.bad, signal, "bad"), _set(signal.good, signal, "good")
        return np.clip((logged - np.log(bad)) / (np.log(good) - np.log(bad)), 0.0, 1.0) * 100.0
    if signal.scoring is Scoring.SIGN:
        x = _numeric(series, signal)
        scores = [_set(signal.negative, signal, "negative"), _set(signal.zero, signal, "zero"),
                  _set(signal.positive, signal, "positive")]
        return np.select([x < 0, x == 0, x > 0], scores, default=np.nan)
    return _lookup(series, signal)


def _weighted_mean(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Σ w·s ÷ Σ w over non-NaN entries, and Σ w of those entries (the weight with data)."""
    present = ~np.isnan(scores)
    covered = present.astype("float64") @ weights
    total = np.where(present, scores, 0.0) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(covered > 0, total / covered, np.nan)
    return mean, covered


# --- segments ------------------------------------------------------------------------------------------------

def _operand(condition: Condition, snapshot: pd.DataFrame, derived: dict[str, pd.Series]) -> pd.Series | None:
    if condition.column in derived:
        return derived[condition.column]
    if condition.column in snapshot.columns:
        return snapshot[condition.column]
    return None


_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _holds(condition: Condition, snapshot: pd.DataFrame, derived: dict[str, pd.Series]) -> np.ndarray:
    """Boolean mask of ``condition``; a missing column or value makes it false."""
    series = _operand(condition, snapshot, derived)
    if series is None:
        return np.zeros(len(snapshot), dtype=bool)
    present = series.notna().to_numpy(dtype=bool)
    value = condition.value
    if condition.op in ("in", "not in"):
        inside = series.isin(list(value)).to_numpy(dtype=bool)
        return (inside if condition.op == "in" else ~inside) & present
    compare = _COMPARE[condition.op]
    numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    if numeric and isinstance(value, (bool, int, float)):
        with np.errstate(invalid="ignore"):
            return compare(series.to_numpy(dtype="float64", na_value=np.nan), float(value)) & present
    try:
        result = compare(series, value)
    except TypeError:
        raise ConfigError(f"segment condition {condition.column} {condition.op} {value!r}: "
                          f"cannot compare a {series.dtype} column with {type(value).__name__}") from None
    return result.fillna(False).to_numpy(dtype=bool) & present


def _matches(rule: SegmentRule, snapshot: pd.DataFrame, derived: dict[str, pd.Series]) -> np.ndarray:
    mask = np.ones(len(snapshot), dtype=bool)
    for condition in rule.all_of:
        mask &= _holds(condition, snapshot, derived)
    if rule.any_of:
        any_mask = np.zeros(len(snapshot), dtype=bool)
        for condition in rule.any_of:
            any_mask |= _holds(condition, snapshot, derived)
        mask &= any_mask
    return mask


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """Labels from integer codes (−1 = missing): compact and fast to build for millions of rows."""
    return pd.Categorical.from_codes(codes.astype("int8" if len(categories) < 127 else "int32"), categories=categories,
                                     validate=False)


def assign_segments(profile: HealthProfile, snapshot: pd.DataFrame, derived: dict[str, pd.Series]) -> pd.Categorical:
    """The first matching segment rule of ``profile`` per row (missing when no rule matches)."""
    names = [rule.name for rule in profile.segments]
    masks = [_matches(rule, snapshot, derived) for rule in profile.segments]
    codes = np.select(masks, list(range(len(names))), default=-1) if masks else np.full(len(snapshot), -1)
    return _categorical(codes, names)


# --- the score -----------------------------------------------------------------------------------------------

def by_customer(snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot indexed by ``customer_id`` (QueryError when the column is missing or not unique)."""
    if "customer_id" not in snapshot.columns:
        raise QueryError("the snapshot has no customer_id column (see docs/snapshot-contract.md)")
    if snapshot["customer_id"].duplicated().any():
        dupes = snapshot.loc[snapshot["customer_id"].duplicated(), "customer_id"].head(3).tolist()
        raise QueryError(f"the snapshot must hold one row per customer; duplicated customer_id(s): {dupes}")
    return snapshot.set_index(pd.Index(snapshot["customer_id"].astype("str"), name="customer_id"))


def _score_component(component: Component, snapshot: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    scores = {}
    for signal in component.signals:
        scores[signal.name] = (score_signal(signal, snapshot[signal.column]) if signal.column in snapshot.columns
                               else np.full(n, np.nan))
    matrix = np.column_stack(list(scores.values())) if scores else np.empty((n, 0))
    weights = np.array([s.weight for s in component.signals], dtype="float64")
    mean, covered = _weighted_mean(matrix, weights)
    return mean, covered, scores


def _bands(health: np.ndarray, profile: HealthProfile) -> pd.Categorical:
    codes = np.select([health <= profile.bands.red_max, health <= profile.bands.yellow_max, health > profile.bands.yellow_max],
                      [0, 1, 2], default=-1)
    return _categorical(codes, list(BANDS))


def _missing(scores: pd.DataFrame | dict[str, np.ndarray], column: str) -> int:
    """Missing values (NaN) in one score column — a frame's column, or the array it was built from."""
    values = scores[column]
    return int(pd.isna(values if isinstance(values, np.ndarray) else values.to_numpy()).sum())


def _exclusions(profile: HealthProfile, snapshot_columns: Collection[str], n: int,
                signal_scores: pd.DataFrame | dict[str, np.ndarray],
                components: pd.DataFrame | dict[str, np.ndarray]) -> tuple[Exclusion, ...]:
    """The components and signals missing for some of the ``n`` customers (``snapshot_columns``: the snapshot's)."""
    found: list[Exclusion] = []
    for component in profile.components:
        missing_all = _missing(components, component.name)
        if missing_all:
            found.append(Exclusion(component.name, None, "no data for any of its signals", missing_all))
        for signal in component.signals:
            if signal.column not in snapshot_columns:
                found.append(Exclusion(component.name, signal.name, f"column {signal.column!r} not in the snapshot", n))
                continue
            missing = _missing(signal_scores, f"{component.name}.{signal.name}")
            if missing:
                found.append(Exclusion(component.name, signal.name, why_missing(signal.column), missing))
    return tuple(found)


def score_health(snapshot: pd.DataFrame, profile: HealthProfile, previous: pd.DataFrame | None = None) -> HealthTable:
    """Health of every customer in ``snapshot`` under ``profile`` (formulas in the module docstring).

    ``previous`` is the snapshot 30 days earlier; it is scored with the same profile to give each customer's
    trend (customers absent from it have no trend). Raises ``QueryError`` when customer_id is missing or
    duplicated, ``ConfigError`` when a signal's scoring does not fit its column's type.
    """
    frame = by_customer(snapshot)
    n = len(frame)
    component_scores, component_covered, signal_scores = {}, {}, {}
    for component in profile.components:
        mean, covered, scores = _score_component(component, frame, n)
        component_scores[component.name] = mean
        component_covered[component.name] = covered
        signal_scores.update({f"{component.name}.{name}": values for name, values in scores.items()})
    names = list(profile.component_names)
    matrix = np.column_stack([component_scores[c] for c in names])
    weights = np.array([c.weight for c in profile.components], dtype="float64")
    health, covered = _weighted_mean(matrix, weights)
    present = ~np.isnan(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        effective = np.where(present & (covered > 0)[:, None], weights[None, :] / covered[:, None] * 100.0, 0.0)
    gaps = np.where(present, (100.0 - matrix) * effective, -np.inf)
    best = gaps.argmax(axis=1) if names else np.zeros(n, dtype=int)
    most = _categorical(np.where(np.take_along_axis(gaps, best[:, None], axis=1)[:, 0] > 0, best, -1), names)
    coverage = sum(component_covered[c.name] * c.weight for c in profile.components) / 10_000.0

    index = frame.index
    components = pd.DataFrame(component_scores, index=index)
    out = pd.DataFrame({"health": health, "band": _bands(health, profile)}, index=index)
    derived = {"health": out["health"], "band": out["band"],
               **{f"component.{c}": components[c] for c in names}}
    out["segment"] = assign_segments(profile, frame, derived)
    out["most_impactful"] = most
    out["coverage"] = coverage
    _add_trend(out, profile, previous)
    scores_frame = pd.DataFrame(signal_scores, index=index)
    columns = list(dict.fromkeys(s.column for c in profile.components for s in c.signals if s.column in frame.columns))
    return HealthTable(
        profile=profile, frame=out, components=components,
        effective_weights=pd.DataFrame(effective, index=index, columns=names), signal_scores=scores_frame,
        signal_values=frame[columns], exclusions=_exclusions(profile, frame.columns, n, signal_scores, component_scores),
    )


def restricted_table(table: HealthTable, rows: np.ndarray, trend_kept: np.ndarray) -> HealthTable:
    """The customers at positions ``rows`` of ``table`` (in that order), their trend cleared where ``trend_kept`` is
    false (no previous health: they were not in the scope then), the exclusions counted over them — what
    ``score_health`` gives for those customers' snapshot rows, as each customer's score rests on their row alone."""
    index = table.frame.index.take(rows)  # taken once (text ids), shared by the five frames

    def take(part: pd.DataFrame) -> pd.DataFrame:
        return part.reset_index(drop=True).take(rows).set_axis(index, axis=0)

    frame = take(table.frame)
    if not trend_kept.all():
        previous = frame["previous_health"].to_numpy(dtype="float64", copy=True)
        previous[~trend_kept] = np.nan
        frame = frame.drop(columns=["previous_health", "trend_delta", "trend"])
        _trend_columns(frame, table.profile, previous)
    components = take(table.components)
    signal_scores = take(table.signal_scores)
    columns = set(table.signal_values.columns)  # the signal columns the snapshot had (``score_health``)
    return HealthTable(
        profile=table.profile, frame=frame, components=components, effective_weights=take(table.effective_weights),
        signal_scores=signal_scores, signal_values=take(table.signal_values),
        exclusions=_exclusions(table.profile, columns, len(rows), signal_scores, components),
    )


LOW_COVERAGE = 0.5
"""A health score resting on less than this share of its profile's designed weight is flagged as low coverage."""


@dataclass(frozen=True)
class CoverageSummary:
    """How much of the profile's designed weight the scores of a scope rest on, and whether the bands are calibrated.

    ``mean``: mean over customers of Σ weight of components × signals with data ÷ the designed total (0–1);
    ``low_share``: customers below ``LOW_COVERAGE``; ``without_data``: components with no data for anyone (their
    weight was redistributed); ``calibrated``: the bands were set for the profile as shipped with every component
    fed — False when a component has no data at all or the profile is not a shipped one unchanged.
    """

    mean: float | None
    low_share: float | None
    without_data: tuple[str, ...]
    calibrated: bool
    custom_profile: bool
    profile_notes: tuple[str, ...] = ()

    @property
    def low(self) -> bool:
        """The scope's health rests on less than half of the designed weight (on average)."""
        return self.mean is not None and self.mean < LOW_COVERAGE

    def caveat(self) -> str | None:
        """One sentence for facts, plans and tool texts when the bands cannot be read as designed (None otherwise)."""
        if self.mean is None:
            return None
        notes = "".join(f"; {note}" for note in self.profile_notes)
        text = self._coverage_caveat()
        return (text + notes) if text else (notes[2:] or None)

    def _coverage_caveat(self) -> str | None:
        parts = []
        if self.without_data:
            parts.append(f"no data for {', '.join(self.without_data)}")
        if self.custom_profile:
            parts.append("a custom health profile")
        if self.low:
            return (f"low coverage: health rests on {self.mean:.0%} of the profile's designed weight on average"
                    + (f" ({'; '.join(parts)})" if parts else "") + "; the bands are uncalibrated, read them as indicative")
        if not self.calibrated:
            return (f"bands uncalibrated: {'; '.join(parts)}; health rests on {self.mean:.0%} of the designed weight on average")
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "low_share": self.low_share, "without_data": list(self.without_data),
                "calibrated": self.calibrated, "custom_profile": self.custom_profile,
                "profile_notes": list(self.profile_notes), "caveat": self.caveat()}


def coverage_summary(table: HealthTable) -> CoverageSummary:
    """The scope-level coverage of ``table`` (see ``CoverageSummary``)."""
    from lifecycle.health.profile import bundled_profiles, load_health_profile

    coverage = table.frame["coverage"].astype("float64")
    without = tuple(c.name for c in table.profile.components if not table.components[c.name].notna().any())
    shipped = table.profile.name in bundled_profiles() and (
        load_health_profile(table.profile.name).fingerprint() == table.profile.fingerprint())
    mean = finite_or_none(float(coverage.mean())) if len(coverage) else None
    return CoverageSummary(mean=mean, low_share=finite_or_none(float((coverage < LOW_COVERAGE).mean())) if len(coverage) else None,
                           without_data=without if len(coverage) else (), calibrated=shipped and not without,
                           custom_profile=not shipped, profile_notes=table.profile.notes)


def _add_trend(out: pd.DataFrame, profile: HealthProfile, previous: pd.DataFrame | None) -> None:
    if previous is None:
        earlier = np.full(len(out), np.nan)
    else:
        earlier = score_health(previous, profile).frame["health"].reindex(out.index).to_numpy()
    _trend_columns(out, profile, earlier)


def _trend_columns(out: pd.DataFrame, profile: HealthProfile, previous_health: np.ndarray) -> None:
    """``previous_health``, ``trend_delta`` = health − previous and ``trend`` (up / down / flat within the profile's
    ``trend_flat_within``; missing without a previous health) as columns of ``out``."""
    out["previous_health"] = previous_health
    delta = out["health"].to_numpy() - out["previous_health"].to_numpy()
    out["trend_delta"] = delta
    tol = profile.trend_flat_within
    out["trend"] = _categorical(np.select([delta > tol, delta < -tol, np.abs(delta) <= tol], [0, 1, 2], default=-1),
                                ["up", "down", "flat"])


# --- explanation ---------------------------------------------------------------------------------------------

def _signal_explanations(table: HealthTable, component: Component, customer_id: str) -> list[SignalExplanation]:
    scores = table.signal_scores.loc[customer_id]
    values = table.signal_values.loc[customer_id] if len(table.signal_values.columns) else pd.Series(dtype=object)
    raw = {s.name: finite_or_none(scores[f"{component.name}.{s.name}"]) for s in component.signals}
    covered = sum(s.weight for s in component.signals if raw[s.name] is not None)
    result = []
    for signal in component.signals:
        score = raw[signal.name]
        value = _json_value(values[signal.column]) if signal.column in values.index else None
        if signal.column not in table.signal_values.columns:
            reason = f"column {signal.column!r} not in the snapshot"
        elif score is None and value is None:
            reason = why_missing(signal.column)
        elif score is None:
            reason = f"value {value!r} not in the lookup and no default"
        else:
            reason = None
        result.append(SignalExplanation(
            name=signal.name, column=signal.column, value=value, score=score, weight=signal.weight,
            effective_weight=signal.weight / covered * 100.0 if score is not None else 0.0, rule=signal.describe(),
            excluded_reason=reason,
        ))
    return result


def explain_health(table: HealthTable, customer_id: str) -> HealthExplanation:
    """Every number behind one customer's health: signal values and scores, component scores, effective
    weights after redistribution, contributions, exclusions, band, trend, segment and strategy.

    Raises ``QueryError`` for an unknown customer.
    """
    if customer_id not in table.frame.index:
        raise QueryError(f"no customer {customer_id!r} in the health table; list customers with the at-risk list "
                         "or the snapshot")
    row = table.frame.loc[customer_id]
    components, excluded = [], []
    for component in table.profile.components:
        signals = _signal_explanations(table, component, customer_id)
        score = finite_or_none(table.components.at[customer_id, component.name])
        effective = float(table.effective_weights.at[customer_id, component.name])
        reason = None if score is not None else "no data for any of its signals"
        excluded += [Exclusion(component.name, s.name, s.excluded_reason) for s in signals if s.excluded_reason]
        if reason:
            excluded.append(Exclusion(component.name, None, f"{reason}; its {component.weight:g}% weight was "
                                                            "redistributed proportionally to the other components"))
        components.append(ComponentExplanation(
            name=component.name, score=score, weight=component.weight, effective_weight=effective,
            contribution=(score or 0.0) * effective / 100.0, impact=(100.0 - score) * effective / 100.0 if score is not None else 0.0,
            signals=tuple(signals), excluded_reason=reason,
        ))
    segment = _text(row["segment"])
    return HealthExplanation(
        customer_id=customer_id, health=finite_or_none(row["health"]), band=_text(row["band"]), segment=segment,
        strategy=table.profile.strategy_for(segment), most_impactful=_text(row["most_impactful"]),
        previous_health=finite_or_none(row["previous_health"]), trend_delta=finite_or_none(row["trend_delta"]),
        trend=_text(row["trend"]), components=tuple(components), excluded=tuple(excluded), profile=table.profile.name,
        coverage=finite_or_none(row["coverage"]),
    )


__all__ = ["BANDS", "LOW_COVERAGE", "ComponentExplanation", "CoverageSummary", "coverage_summary", "Exclusion", "HealthExplanation", "HealthTable", "SignalExplanation",
           "assign_segments", "by_customer", "explain_health", "restricted_table", "score_health", "score_signal"]
