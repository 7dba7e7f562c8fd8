"""Progression drivers: which signals go with customers moving on (or churning) — measured, not assumed.

Seed 000 asks for "transition triggers" and "success accelerators". For each stage transition (e.g.
onboarding → a later stage, adoption → a later stage, any stage → churned) and each candidate boolean
signal (activated within the activation window, onboarding complete, integration connected, teammate
invited, promoter, executive sponsor, champion, late payment, open high-priority ticket, …) this module
compares the share of customers who made the transition *with* the signal against the share *without*:
rates with 95% Wilson score intervals, their difference with a Newcombe hybrid-score interval, the lift
(ratio), counts, and a small-sample flag when either group has fewer than ``config.small_sample`` customers.

No look-ahead: signals and starting stages come from the as-of snapshot at ``as_of − horizon_days``; the
outcome is the stage (or churn) on ``as_of``. A customer whose signal value is unknown (e.g. no NPS answer
for "promoter") is in neither group. This is association, not causation: customers who connect an
integration may differ in many other ways from those who do not.

References:
    [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA 22, 209–212.
    [2] Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
        comparison of eleven methods. Statistics in Medicine 17, 873–890 (method 10, hybrid score).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from lifecycle.errors import QueryError
from lifecycle.lazy import deferred_module
from lifecycle.metrics.results import finite_or_none
from lifecycle.scope import Scope
from lifecycle.snapshot.columns import feature_column
from lifecycle.stages.classification import UNCLASSIFIED
from lifecycle.stages.model import StageModel
from lifecycle.stages.rules import Condition, Rule

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from lifecycle.dataset import Dataset
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

CAVEAT = "association, not causation"
Z95 = 1.959963984540054
PROGRESSED = "progressed"
CHURNED = "churned"


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion [1]: centre (p + z²/2n)/(1 + z²/n), half-width
    z/(1 + z²/n)·√(p(1−p)/n + z²/4n²). ``(None, None)`` when n = 0. Example: 8/10 → (0.490, 0.943)."""
    if n <= 0:
        return None, None
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(s1: int, n1: int, s2: int, n2: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Newcombe's hybrid score interval for p1 − p2 ([2], method 10), from the two Wilson intervals:
    δ − √((p1 − l1)² + (u2 − p2)²) .. δ + √((u1 − p1)² + (p2 − l2)²). ``(None, None)`` if a group is empty."""
    if n1 <= 0 or n2 <= 0:
        return None, None
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson_interval(s1, n1, z)
    l2, u2 = wilson_interval(s2, n2, z)
    delta = p1 - p2
    return (delta - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),  # type: ignore[operator]
            delta + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))  # type: ignore[operator]


@dataclass(frozen=True)
class Transition:
    """Customers in ``from_stages`` at the signal date (empty = any stage) and whether they reach ``outcome``:
    ``progressed`` (a higher-order stage), ``churned``, or a stage id."""

    id: str
    from_stages: tuple[str, ...]
    outcome: str
    description: str = ""


def _signal(sid: str, description: str, *conditions: tuple[str, str, Any]) -> Rule:
    return Rule(sid, "signal", tuple(Condition(f, op, v) for f, op, v in conditions), description)


DEFAULT_SIGNALS: tuple[Rule, ...] = (
    _signal("activated_early", "Reached the value event within activation.within_days of signup", ("activated", "==", True)),
    _signal("onboarding_complete", "Completed every onboarding step", ("onboarding_complete", "==", True)),
    _signal("integration_connected", "Has connected an integration", (feature_column("integration_connected"), "==", True)),
    _signal("teammate_invited", "Has invited a teammate", (feature_column("teammate_invited"), "==", True)),
    _signal("broad_feature_use", "Used 3+ core features in the last 30 days", ("distinct_features_30d", ">=", 3)),
    _signal("promoter", "Latest NPS answer 9–10 (among respondents)", ("nps_category", "==", "promoter")),
    _signal("detractor", "Latest NPS answer 0–6 (among respondents)", ("nps_category", "==", "detractor")),
    _signal("executive_sponsor", "An executive sponsor is known", ("executive_sponsor", "==", True)),
    _signal("has_champion", "An internal champion is known", ("has_champion", "==", True)),
    _signal("late_payment", "An invoice paid late or unpaid past due in the last 90 days", ("invoices_late_90d", ">", 0)),
    _signal("high_priority_ticket", "An open high/urgent support ticket", ("tickets_open_high", ">", 0)),
    _signal("usage_halved", "Usage in the last 30 days at most half the 30 days before", ("usage_change_30d", "<=", -0.5)),
)


def default_transitions(model: StageModel) -> tuple[Transition, ...]:
    """One "→ a later stage" transition per customer stage below the top order, plus "any stage → churned"."""
    stages = sorted(model.customer_stages, key=lambda s: s.order)
    top = max(s.order for s in stages)
    out = [Transition(f"{s.id}->later_stage", (s.id,), PROGRESSED, f"from {s.name} to any later stage")
           for s in stages if s.order < top]
    out.append(Transition("any->churned", (), CHURNED, "from any active stage to churned"))
    return tuple(out)


@dataclass(frozen=True)
class GroupRate:
    """``successes`` of ``n`` made the transition; ``rate`` with its 95% Wilson interval (None when n = 0)."""

    successes: int
    n: int
    rate: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, successes: int, n: int) -> GroupRate:
        low, high = wilson_interval(successes, n)
        return cls(successes, n, successes / n if n else None, low, high)


@dataclass(frozen=True)
class DriverRow:
    """One (transition, signal) comparison."""

    transition: str
    signal: str
    signal_description: str
    with_signal: GroupRate
    without_signal: GroupRate
    difference: float | None  # rate with − rate without
    difference_low: float | None
    difference_high: float | None
    lift: float | None  # rate with ÷ rate without
    small_sample: bool

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("difference", "difference_low", "difference_high", "lift"):
            out[key] = finite_or_none(out[key])
        return out


@dataclass(frozen=True)
class DriversReport:
    """Every comparison, ranked within each transition by |difference| (largest first, unknown last)."""

    as_of: date
    signal_date: date
    horizon_days: int
    model_id: str
    transitions: tuple[Transition, ...]
    populations: dict[str, int]
    rows: tuple[DriverRow, ...]
    skipped_signals: tuple[str, ...] = ()
    note: str = CAVEAT

    def to_frame(self) -> pd.DataFrame:
        """Flat table: one row per comparison, group columns prefixed ``with_`` / ``without_``."""
        records = []
        for row in self.rows:
            record: dict[str, Any] = {"transition": row.transition, "signal": row.signal}
            for prefix, group in (("with", row.with_signal), ("without", row.without_signal)):
                record.update({f"{prefix}_{k}": v for k, v in asdict(group).items()})
            record.update({"difference": row.difference, "difference_low": row.difference_low,
                           "difference_high": row.difference_high, "lift": row.lift, "small_sample": row.small_sample})
            records.append(record)
        return pd.DataFrame(records)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "signal_date": self.signal_date.isoformat(),
                "horizon_days": self.horizon_days, "model": self.model_id, "note": self.note,
                "transitions": [asdict(t) for t in self.transitions], "populations": dict(self.populations),
                "skipped_signals": list(self.skipped_signals), "rows": [r.to_dict() for r in self.rows]}


def _signal_groups(snapshot: pd.DataFrame, signal: Rule) -> tuple[np.ndarray, np.ndarray]:
    """(has signal, signal known) masks; known = every feature a value condition reads is present."""
    known = np.ones(len(snapshot), dtype=bool)
    for condition in signal.conditions:
        if condition.op not in ("is_null", "not_null"):
            known &= snapshot[condition.feature].notna().to_numpy()
    return signal.mask(snapshot) & known, known


def _stage_orders(stage: pd.Series, order: dict[str, int]) -> np.ndarray:
    """Each row's stage order as float64, NaN for a missing or unranked stage — ``stage.map(order)``, looked up once
    per distinct stage (a text column's ``map`` reads row by row)."""
    codes, uniques = pd.factorize(stage, use_na_sentinel=True)
    lookup = np.array([order.get(value, np.nan) for value in uniques] + [np.nan], dtype="float64")
    return lookup[codes]  # code -1 (missing) reads the trailing NaN


def _outcome(transition: Transition, start: pd.DataFrame, end: pd.DataFrame, model: StageModel) -> np.ndarray:
    if transition.outcome == CHURNED:
        return end["churned"].to_numpy(dtype=bool)
    alive = ~end["churned"].to_numpy(dtype=bool)
    if transition.outcome == PROGRESSED:
        order = model.order
        return alive & (_stage_orders(end["stage"], order) > _stage_orders(start["stage"], order))
    return alive & (end["stage"] == transition.outcome).to_numpy(dtype=bool)


SignalGroups = list[tuple["np.ndarray", "np.ndarray"]]


def measure_drivers(start_snapshot: pd.DataFrame, start: pd.DataFrame, end: pd.DataFrame, model: StageModel,
                    signals: tuple[Rule, ...], transitions: tuple[Transition, ...],
                    small_sample: int, groups_of: Callable[[pd.Index], SignalGroups | None] | None = None,
                    snapshot_columns: Callable[[Sequence[str]], pd.DataFrame] | None = None,
                    ) -> tuple[dict[str, int], list[DriverRow]]:
    """The comparisons, from frames: ``start_snapshot`` (features at the signal date, with customer_id),
    ``start`` / ``end`` (index customer_id; columns stage, churned) at the signal date and at as_of.
    ``groups_of(ids)``: each signal's (has, known) masks of those customers, when known already (else None: they are
    read off the snapshot's features). ``snapshot_columns(columns)``: those columns of the start snapshot (its rows, in
    its order), when ``start_snapshot`` holds only the ids — read only when ``groups_of`` gives no masks."""
    # the customers classified and not churned at the signal date who are in the end frame and the snapshot, in the
    # start frame's order (``Index.intersection`` keeps the caller's order), each frame's rows looked up once by id
    live = ~start["churned"].to_numpy(dtype=bool) & (start["stage"] != UNCLASSIFIED).to_numpy(dtype=bool)
    candidates = start.index[live]
    at_end = end.index.get_indexer(candidates)
    at_snapshot = pd.Index(start_snapshot["customer_id"].astype("string")).get_indexer(candidates)
    found = (at_end >= 0) & (at_snapshot >= 0)
    ids = candidates[found]
    start, end = start.iloc[np.flatnonzero(live)[found]], end.iloc[at_end[found]]
    populations: dict[str, int] = {}
    rows: list[DriverRow] = []
    known_groups = groups_of(ids) if groups_of is not None else None
    if known_groups is None:
        read = list(dict.fromkeys(feature for signal in signals for feature in signal.features))  # all the signals read
        columns = snapshot_columns(read) if snapshot_columns is not None else start_snapshot
        features = columns[read].iloc[at_snapshot[found]].reset_index(drop=True)
    groups = known_groups if known_groups is not None else [_signal_groups(features, signal) for signal in signals]
    # a signal's groups are the same for every transition
    for transition in transitions:
        eligible = np.ones(len(ids), dtype=bool) if not transition.from_stages else start["stage"].isin(transition.from_stages).to_numpy()
        outcome = _outcome(transition, start, end, model)
        populations[transition.id] = int(eligible.sum())
        ranked: list[DriverRow] = []
        for signal, (has, known) in zip(signals, groups, strict=True):
            group_with, group_without = eligible & known & has, eligible & known & ~has
            with_ = GroupRate.of(int((outcome & group_with).sum()), int(group_with.sum()))
            without = GroupRate.of(int((outcome & group_without).sum()), int(group_without.sum()))
            difference = with_.rate - without.rate if with_.rate is not None and without.rate is not None else None
            low, high = newcombe_interval(with_.successes, with_.n, without.successes, without.n)
            lift = with_.rate / without.rate if with_.rate is not None and without.rate else None
            ranked.append(DriverRow(transition.id, signal.id, signal.description, with_, without, difference, low, high, lift,
                                    min(with_.n, without.n) < small_sample))
        ranked.sort(key=lambda r: (r.difference is None, -abs(r.difference or 0.0)))
        rows.extend(ranked)
    return populations, rows


def _whole_base_groups(start_view: Dataset, signals: tuple[Rule, ...]) -> Callable[[pd.Index], SignalGroups | None] | None:
    """For a filtered scope: each signal's (has, known) masks read once off the whole base's snapshot on the signal
    date (process memo per data, configuration, day and signals), then taken at the scope's customers — a signal
    reads one customer's row alone and a filtered snapshot is the whole base's restricted to its customers
    (``lifecycle.snapshot.build.snapshot_of``), so these are the masks ``measure_drivers`` reads off the scope's own
    snapshot. None for the whole base or a dataset outside the memo."""
    from lifecycle.filters import Filters
    from lifecycle.memo import remember
    from lifecycle.snapshot.build import snapshot_of

    if start_view.filters.is_empty() or start_view.identity is None:
        return None
    whole = start_view.rescoped(Scope(start_view.as_of, start_view.window, Filters()))

    def compute() -> tuple[pd.Index, SignalGroups]:
        snapshot = snapshot_of(whole)
        return pd.Index(snapshot["customer_id"].astype("string")), [_signal_groups(snapshot, s) for s in signals]

    ids_whole, groups = remember(whole.memo_key("driver_signal_groups", signals), compute)

    def groups_of(ids: pd.Index) -> SignalGroups | None:
        rows = ids_whole.get_indexer(ids)
        if len(rows) and rows.min() < 0:
            return None
        return [(has[rows], known[rows]) for has, known in groups]

    return groups_of


def progression_drivers(dataset: Dataset, model: StageModel | None = None, horizon_days: int = 90,
                        signals: tuple[Rule, ...] | None = None,
                        transitions: tuple[Transition, ...] | None = None) -> DriversReport:
    """Rates of making each transition with vs without each signal, over ``horizon_days`` ending on as_of.

    Signals default to ``DEFAULT_SIGNALS`` plus the model's own ``[[signals]]``; signals reading a feature the
    snapshot lacks are skipped (listed in ``skipped_signals``). Transitions default to
    ``default_transitions(model)``. Population: customers classified and not churned at the signal date.
    """
    from lifecycle.stages.history import stages_at
    from lifecycle.stages.scope_rows import scope_columns, whole_snapshot

    if horizon_days <= 0:
        raise QueryError("horizon_days must be positive")
    model = model or dataset.stage_model
    signal_date = dataset.as_of - timedelta(days=horizon_days)
    start_view = dataset.rescoped(Scope.at(signal_date, dataset.filters))
    candidates = signals if signals is not None else (*DEFAULT_SIGNALS, *model.signals)
    present = whole_snapshot(start_view).columns  # a filtered snapshot has the whole base's columns
    usable = tuple(s for s in candidates if all(c.feature in present for c in s.conditions))
    # the start snapshot's rows, only the columns read: the ids, and every usable signal's features unless the signals'
    # masks come from the whole base's (a filtered scope: then read only if a customer is missing from the whole base)
    features = ("customer_id", *dict.fromkeys(f for s in usable for f in s.features))
    groups_of = _whole_base_groups(start_view, usable)
    start_snapshot = scope_columns(start_view, ("customer_id",) if groups_of is not None else features)
    skipped = tuple(s.id for s in candidates if s not in usable)
    chosen = transitions or default_transitions(model)
    populations, rows = measure_drivers(start_snapshot, stages_at(start_view, model, signal_date),
                                        stages_at(dataset, model, dataset.as_of), model, usable, chosen,
                                        dataset.config.small_sample, groups_of,
                                        lambda columns: scope_columns(start_view, columns))
    return DriversReport(as_of=dataset.as_of, signal_date=signal_date, horizon_days=horizon_days, model_id=model.id,
                         transitions=chosen, populations=populations, rows=tuple(rows), skipped_signals=skipped)
