"""Lifecycle-flow metrics: how customers move between stages (seed 000, "Transition metrics").

Every metric classifies customers with the configured stage model (``models.stages``) on as-of snapshots,
so a stage "at the window start" is the stage as it was known then (no look-ahead). The window start
checkpoint is the day before ``window.start`` (for the default trailing 12 months: exactly 12 months before
``as_of``). Churned customers are left out of progression, regression, stagnation and completion: churn is
measured by the retention metrics and appears as its own column in ``transition_matrix``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.metrics.ahead import whole_base_ahead
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, Unit, missing_result, ratio_result
from lifecycle.scope import Scope
from lifecycle.stages.classification import UNCLASSIFIED
from lifecycle.stages.history import (
    StageStates,
    checkpoints,
    checkpoints_prefetched,
    stage_states,
    stages_at,
    states_at_hand,
    time_in_stage,
)
from lifecycle.stages.model import StageModel, model_for

SOURCE = "seed 000 (Measurement: transition metrics, overall lifecycle health)"
NEW = "new"
CHURNED = "churned"


def window_start_day(dataset: Dataset) -> date:
    """The checkpoint the window's flows start from: the day before ``window.start``."""
    return dataset.window.start - timedelta(days=1)


def _months_between(start: date, end: date) -> int:
    return max(1, (end.year - start.year) * 12 + end.month - start.month)


def _masked(dataset: Dataset) -> bool:
    """Whether the flow rows of ``dataset`` are the whole base's rows of its customers: a filtered scope opened through
    ``Dataset.over`` (the whole base's rows are memoised under the data's identity) whose filters select the same
    customers on every day — segment, channel, industry, country, company size, cohort: the ``customers`` table's
    columns and the signup day. The plan paid and the stage change with time (a customer is in on some days only),
    so those scopes take their own path.

    Each spell, stage pair and time in stage depends on that customer's own states only, and a customer's states in
    such a scope are its states in the whole base (``stage_states``: the whole base's rows, masked; ``stages_at``:
    the whole base's stages, masked) — so the rows are the same, in the same order, as those computed over the
    scope's own states."""
    filters = dataset.filters
    return dataset.identity is not None and not filters.is_empty() and not filters.plan and not filters.stage


def _whole(dataset: Dataset) -> Dataset:
    return dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))


def _whole_key(dataset: Dataset, kind: str, model: StageModel, *parts: object) -> tuple[object, ...]:
    return (kind, dataset.identity, dataset.config.fingerprint(), model.origin, model.id, *parts)


def _whole_states(dataset: Dataset, model: StageModel) -> StageStates:
    """The whole base's stage states on the spell checkpoints (memoised by ``stage_states``)."""
    return stage_states(_whole(dataset), model, spell_checkpoints(dataset))


def _in_scope(dataset: Dataset, model: StageModel) -> np.ndarray:
    """Which rows of the whole base's states (``_whole_states``) are the scope's customers on as_of — the rows
    ``stage_states`` keeps for the scope (once per dataset)."""
    key = f"__flow_scope__:{model.origin}:{model.id}"
    if key not in dataset._cache:
        dataset._cache[key] = is_member(_whole_states(dataset, model).ids, stages_at(dataset, model, dataset.as_of).index)
    return dataset._cache[key]  # type: ignore[no-any-return]


def seed_in_scope(datasets: Sequence[Dataset]) -> None:
    """Each of ``datasets``' ``_in_scope`` mask from one pass (``lifecycle.metrics.grouped``): disjoint filtered scopes
    of one as_of (compare_segments' groups) whose filters do not change with time (``_masked``). A scope's mask is
    which whole-base states rows are among ``stages_at``'s rows for it — the whole base's stages on as_of its
    ``Filters.select`` keeps over the whole base's snapshot; here every row of those stages is labelled with the scope
    that selects it (``grouped.mask_codes``) and each states row takes its customer's label: the same booleans, with
    one look-up of the states' ids instead of one per scope. Scopes that overlap, or any not ``_masked``, keep their
    own path."""
    from lifecycle.metrics.grouped import mask_codes
    from lifecycle.snapshot.build import snapshot_of
    from lifecycle.stages.history import stage_features

    if not datasets or not all(_masked(d) for d in datasets):
        return
    first = datasets[0]
    model = model_for(first)
    key = f"__flow_scope__:{model.origin}:{model.id}"
    base = first.rescoped(Scope.at(first.as_of))
    whole = stages_at(base, model, first.as_of)
    if not whole.index.is_unique or whole.index.hasnans:
        return
    snap = snapshot_of(base, stage_features(model))
    codes = mask_codes([d.filters.select(snap) for d in datasets], len(whole))
    if codes is None:
        return
    at = whole.index.get_indexer(_whole_states(first, model).ids)
    labels = np.where(at >= 0, codes[at], -1)
    for position, dataset in enumerate(datasets):
        if key not in dataset._cache:
            dataset._cache[key] = labels == position


def _rows_of(dataset: Dataset, model: StageModel, ids: object) -> np.ndarray:
    """The row of each of ``ids`` in the whole base's states (every one of them is there: a customer on as_of)."""
    rows = _whole_states(dataset, model).ids.get_indexer(ids)
    if (rows < 0).any():
        raise AssertionError("a flow row's customer is missing from the whole base's stage states")
    return rows  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _WholePairs:
    """The whole base's stage pairs (``_paired_stages``) and the row of each pair's customer in ``_whole_states``."""

    pairs: pd.DataFrame
    rows: np.ndarray


def _stage_pairs(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    """Order at the window start and at as_of for customers classified, and not churned, at both — once per dataset
    and model (``progression_rate`` and ``regression_rate`` both read it; callers do not modify it). A scope whose
    filters do not change with time (``_masked``) takes the rows of its customers from the whole base's pairs."""
    key = f"__stage_pairs__:{model.origin}:{model.id}"
    if key not in dataset._cache:
        if _masked(dataset):
            whole = remember(_whole_key(dataset, "flow-pairs", model, window_start_day(dataset), dataset.as_of),
                             lambda: _whole_pairs(dataset, model))
            dataset._cache[key] = whole.pairs[_in_scope(dataset, model)[whole.rows]]
        elif dataset.filters.is_empty() and dataset.identity is not None:  # kept for the scopes that mask them
            dataset._cache[key] = remember(_whole_key(dataset, "flow-pairs", model, window_start_day(dataset), dataset.as_of),
                                           lambda: _whole_pairs(dataset, model)).pairs
        else:
            dataset._cache[key] = _paired_stages(dataset, model)
    return dataset._cache[key]  # type: ignore[no-any-return]


def _whole_pairs(dataset: Dataset, model: StageModel) -> _WholePairs:
    pairs = _paired_stages(_whole(dataset), model)  # what the whole base's ``_stage_pairs`` keeps
    return _WholePairs(pairs, _rows_of(dataset, model, pairs.index))


def _paired_stages(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    # the customers at both dates in the order of the window start's (an inner join's order), by one look-up
    before = stages_at(dataset, model, window_start_day(dataset))
    after = stages_at(dataset, model, dataset.as_of)
    at = after.index.get_indexer(before.index)
    rows = np.flatnonzero(at >= 0)
    at = at[rows]
    start = before["stage"].to_numpy(dtype=object)[rows]
    end = after["stage"].to_numpy(dtype=object)[at]
    keep = ~before["churned"].to_numpy(dtype=bool)[rows] & ~after["churned"].to_numpy(dtype=bool)[at]
    keep &= (start != UNCLASSIFIED) & (end != UNCLASSIFIED)
    return pd.DataFrame({"start": _orders(start[keep], model.order), "end": _orders(end[keep], model.order)},
                        index=before.index[rows[keep]])


def _orders(stages: np.ndarray, order: dict[str, int]) -> np.ndarray:
    """Each stage's order (float; NaN for a stage without one), looked up once per distinct stage."""
    codes, distinct = pd.factorize(stages)
    return np.array([float(order.get(stage, np.nan)) for stage in distinct] + [np.nan], dtype="float64")[codes]


def progression_rate(dataset: Dataset) -> MetricResult:
    """Share of customers whose stage order increased between the window start and as_of.

    Formula: customers with order(stage at as_of) > order(stage at window start) ÷ customers classified, and
    not churned, at both. Unit ratio. Source: seed 000 "Progression rates".
    """
    pairs = _stage_pairs(dataset, model_for(dataset))
    return ratio_result("progression_rate", float((pairs["end"] > pairs["start"]).sum()), float(len(pairs)), Unit.RATIO,
                        dataset.scope, empty_reason="no customer was classified at both the window start and as_of")


def regression_rate(dataset: Dataset) -> MetricResult:
    """Share of customers whose stage order decreased between the window start and as_of.

    Formula: customers with order(stage at as_of) < order(stage at window start) ÷ customers classified, and
    not churned, at both. Unit ratio. Source: seed 000 "Regression rates".
    """
    pairs = _stage_pairs(dataset, model_for(dataset))
    return ratio_result("regression_rate", float((pairs["end"] < pairs["start"]).sum()), float(len(pairs)), Unit.RATIO,
                        dataset.scope, empty_reason="no customer was classified at both the window start and as_of")


def stagnation_rate(dataset: Dataset) -> MetricResult:
    """Share of customers who have been in their current stage longer than the stage's ``expected_days``.

    Formula: customers with time in stage > expected_days ÷ non-churned customers in stages that have an
    expected_days. Time in stage is a lower bound at monthly resolution (``lifecycle.stages.time_in_stage``),
    so the rate is conservative. Breakdown per stage. Unit ratio. Source: seed 000 "Stagnation identification".
    """
    model = model_for(dataset)
    expected = {s.id: s.expected_days for s in model.customer_stages if s.expected_days is not None}
    if not expected:
        return missing_result("stagnation_rate", Unit.RATIO, dataset.scope, "the stage model sets no expected_days")
    months = int(np.ceil(max(expected.values()) / 28.0)) + 1
    if _masked(dataset):  # the whole base's rows of the scope's customers (``_masked``)
        whole = remember(_whole_key(dataset, "flow-stagnation", model, tuple(spell_checkpoints(dataset)), months),
                         lambda: _whole_stagnation(dataset, model, months, expected))
        keep = _in_scope(dataset, model)[whole.rows]
        stuck, in_stage = whole.stuck[keep], {stage: rows[keep] for stage, rows in whole.in_stage.items()}
    elif dataset.filters.is_empty() and dataset.identity is not None:  # kept for the scopes that mask them
        whole = remember(_whole_key(dataset, "flow-stagnation", model, tuple(spell_checkpoints(dataset)), months),
                         lambda: _whole_stagnation(dataset, model, months, expected))
        stuck, in_stage = whole.stuck, whole.in_stage
    else:
        stuck, in_stage, _ = _stagnation_rows(dataset, model, months, expected)
    breakdown = tuple(
        (stage, ratio_result("stagnation_rate", float(stuck[in_stage[stage]].sum()), float(in_stage[stage].sum()),
                             Unit.RATIO, dataset.scope))
        for stage in expected)
    result = ratio_result("stagnation_rate", float(stuck.sum()), float(len(stuck)), Unit.RATIO, dataset.scope,
                          empty_reason="no active customer is in a stage with expected_days")
    return replace(result, breakdown=breakdown)


def _stagnation_rows(dataset: Dataset, model: StageModel, months: int, expected: dict[str, float],
                     ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Per customer not churned on as_of in a stage with expected days (``time_in_stage``, from the flow metrics'
    checkpoints — its own are their first): stuck (in it longer than them), which stage (a mask per stage of
    ``expected``), and who (their ids, in the order of the time-in-stage rows)."""
    tis = time_in_stage(dataset, model, months=months, enough=expected, within=spell_checkpoints(dataset))
    ids = pd.Index(tis["customer_id"])
    churned = stages_at(dataset, model, dataset.as_of)["churned"]
    # the states' customers are those on as_of, in its order: no look-up then (a customer missing there counts churned)
    gone = churned.to_numpy(dtype=bool) if churned.index.equals(ids) else churned.reindex(ids).to_numpy(dtype=bool)
    codes, stages = pd.factorize(tis["stage"].to_numpy(dtype=object))
    known = np.array([stage in expected for stage in stages] + [False])[codes] & ~gone
    codes = codes[known]
    limit = np.array([float(expected.get(stage, np.nan)) for stage in stages] + [np.nan])[codes]
    stuck = tis["days_in_stage"].to_numpy(dtype="float64")[known] > limit
    position = {stage: k for k, stage in enumerate(stages)}
    in_stage = {stage: codes == position.get(stage, -2) for stage in expected}
    return stuck, in_stage, ids.to_numpy()[known]


@dataclass(frozen=True)
class _WholeStagnation:
    """The whole base's ``_stagnation_rows`` and the row of each one's customer in ``_whole_states``."""

    stuck: np.ndarray
    in_stage: dict[str, np.ndarray]
    rows: np.ndarray


def _whole_stagnation(dataset: Dataset, model: StageModel, months: int, expected: dict[str, float]) -> _WholeStagnation:
    stuck, in_stage, ids = _stagnation_rows(_whole(dataset), model, months, expected)
    return _WholeStagnation(stuck, in_stage, _rows_of(dataset, model, ids))


def spell_checkpoints(dataset: Dataset) -> list[date]:
    """The checkpoints ``progression_spells`` reads, newest first: as_of and the same day of each month back to the
    window start's checkpoint (``window_start_day``), which ``progression_rate`` compares with as_of."""
    return checkpoints(dataset.as_of, _months_between(window_start_day(dataset), dataset.as_of))


def progression_spells(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    """Stage spells that ended in a progression during the window, from monthly as-of checkpoints.

    A spell starts at the first checkpoint in a stage (at signup, for a customer who signed up since the
    previous checkpoint) and ends at the first checkpoint in a higher-order stage. Spells already under
    way at the window start are left out (their start is unknown). Columns: customer_id, stage, days — the spells
    ending at the earliest checkpoint first, each checkpoint's in the order of the states' customers. A scope whose
    filters do not change with time (``_masked``) takes its customers' rows of the whole base's spells (memoised:
    the whole base's own call keeps them).
    """
    if _masked(dataset):
        states = _whole_states(dataset, model)
        whole = remember(_whole_key(dataset, "flow-spells", model, states.days), lambda: _spells(states, model))
        keep = _in_scope(dataset, model)[whole.rows]
        return _spell_frame(states, _Spells(whole.rows[keep], whole.codes[keep], whole.days[keep]))
    states = stage_states(dataset, model, spell_checkpoints(dataset))  # customers in scope on as_of; a column per day
    if dataset.filters.is_empty() and dataset.identity is not None:  # kept for the scopes that mask them
        return _spell_frame(states, remember(_whole_key(dataset, "flow-spells", model, states.days),
                                             lambda: _spells(states, model)))
    return _spell_frame(states, _spells(states, model))


@dataclass(frozen=True)
class _Spells:
    """Spells as arrays: each one's customer (row of the states read), stage (code of their labels) and days."""

    rows: np.ndarray
    codes: np.ndarray
    days: np.ndarray


def _spells(states: StageStates, model: StageModel) -> _Spells:
    days = list(reversed(states.days))
    codes = states.codes[:, ::-1]
    churned = states.churned[:, ::-1]
    order = states.orders(model)[:, ::-1]
    signup = states.signup
    stamps = np.array([np.datetime64(d, "us") for d in days])
    run_start = np.full(len(states.ids), np.datetime64("NaT"), dtype="datetime64[us]")
    rows: list[np.ndarray] = []
    stages: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for j in range(len(days)):
        known = ~pd.isna(order[:, j])
        if j == 0:
            continue  # whatever the customer is in at the first checkpoint began at an unknown time
        was = ~pd.isna(order[:, j - 1])
        progressed = known & was & (order[:, j] > order[:, j - 1]) & ~churned[:, j] & ~churned[:, j - 1]
        ended = np.flatnonzero(progressed & ~np.isnat(run_start))
        if len(ended):
            rows.append(ended)
            stages.append(codes[ended, j - 1])
            lengths.append((stamps[j] - run_start[ended]) / np.timedelta64(1, "D"))
        changed = known & (~was | (codes[:, j] != codes[:, j - 1]))
        entry = np.where(~was, signup, stamps[j])
        run_start = np.where(changed, entry, run_start)
    if not rows:
        return _Spells(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=codes.dtype), np.zeros(0, dtype="float64"))
    return _Spells(np.concatenate(rows), np.concatenate(stages), np.concatenate(lengths))


def _spell_frame(states: StageStates, spells: _Spells) -> pd.DataFrame:
    if not len(spells.rows):
        return pd.DataFrame({"customer_id": pd.Series([], dtype="string"), "stage": [], "days": []})
    return pd.DataFrame({"customer_id": states.ids[spells.rows],
                         "stage": np.array(states.labels, dtype=object)[spells.codes], "days": spells.days})


def stage_velocity_days(dataset: Dataset) -> MetricResult:
    """Median days customers spent in a stage before progressing to a higher one, over the window.

    Formula: median of spell lengths (``progression_spells``: monthly as-of checkpoints from the window start to
    as_of; spell start = first checkpoint in the stage or signup) over spells that ended in a progression
    within the window. Breakdown per stage left. Unit days, lower is faster. Source: seed 000 "Progression velocity".
    """
    spells = progression_spells(dataset, model_for(dataset))
    if spells.empty:
        return missing_result("stage_velocity_days", Unit.DAYS, dataset.scope,
                              "no stage spell both began and ended in a progression within the window")
    days = spells["days"].to_numpy(dtype="float64")
    codes, stages = pd.factorize(spells["stage"].to_numpy(dtype=object), sort=True)  # groupby("stage")'s groups
    breakdown = tuple(
        (str(stage), MetricResult("stage_velocity_days", float(np.nanmedian(part)), Unit.DAYS, dataset.scope, len(part)))
        for stage, part in ((stage, days[codes == k]) for k, stage in enumerate(stages)))  # Series.median: nanmedian
    return MetricResult("stage_velocity_days", float(spells["days"].median()), Unit.DAYS, dataset.scope, len(spells),
                        breakdown=breakdown)


def lifecycle_completion_rate(dataset: Dataset) -> MetricResult:
    """Share of active customers in the model's completion stage (default: loyalty & advocacy) on as_of.

    Formula: non-churned customers whose stage is the completion stage ÷ non-churned classified customers.
    Unit ratio. Source: seed 000 "Lifecycle completion rates: percentage reaching advocate stage".
    """
    model = model_for(dataset)
    now = stages_at(dataset, model, dataset.as_of)
    live = now[~now["churned"].to_numpy(dtype=bool) & (now["stage"] != UNCLASSIFIED).to_numpy(dtype=bool)]
    return ratio_result("lifecycle_completion_rate", float((live["stage"] == model.final_stage).sum()), float(len(live)),
                        Unit.RATIO, dataset.scope, empty_reason="no active classified customers on as_of")


def transition_matrix(dataset: Dataset, model: StageModel, start: date, end: date) -> pd.DataFrame:
    """Customer counts from their state on ``start`` (rows) to their state on ``end`` (columns).

    A state is the customer's stage, or ``churned`` when churned on that day; customers who signed up after
    ``start`` (by ``end``) start in the row ``new``. Rows: new, customer stages by order, churned, and
    unclassified when present; columns: the stages, churned (and unclassified when present). Not registered:
    a matrix, not a single number.
    """
    if end < start:
        raise ValueError("end must not be before start")
    before = stages_at(dataset, model, start)
    after = stages_at(dataset, model, end)
    state_before = before["stage"].astype(object).where(~before["churned"].to_numpy(dtype=bool), CHURNED)
    state_after = after["stage"].astype(object).where(~after["churned"].to_numpy(dtype=bool), CHURNED)
    from_state = state_before.reindex(after.index).fillna(NEW)
    stages = [s.id for s in sorted(model.customer_stages, key=lambda s: s.order)]
    extra = [UNCLASSIFIED] if (state_after == UNCLASSIFIED).any() or (from_state == UNCLASSIFIED).any() else []
    counts = pd.crosstab(from_state.to_numpy(), state_after.to_numpy())
    rows = [NEW, *stages, CHURNED, *extra]
    columns = [*stages, CHURNED, *extra]
    out = counts.reindex(index=rows, columns=columns, fill_value=0).astype("int64")
    out.index.name, out.columns.name = "from", "to"
    return out


def flow_ahead(dataset: Dataset) -> Callable[[], None]:
    """Start building the whole base's stage states on the flow metrics' checkpoints (``spell_checkpoints``) on a
    second connection, in a thread, and return the function that waits for it — the catalogue's two halves overlap on
    two cores.

    The flow metrics classify a snapshot on a dozen monthly checkpoints (``stage_states``): seconds of statements in
    the database, which SQLite runs without holding the interpreter lock, while the rest of the catalogue waits on its
    own statements (the per-event-name pass of ``name_summary``) or loads its modules. The thread files the states in
    the process memo (``lifecycle.memo``: one computation per key, concurrent callers wait) under the keys the flow
    metrics of any scope of this data ask for, so they read what it built — the same values, computed once. It builds
    the days oldest first while the flow metrics walk back from as_of: a catalogue that reaches them before the thread
    is done computes the newest days left itself, and the two meet in the middle. A failure here is left for the
    caller's own computation to meet and report (``whole_base_ahead``: only on SQLite sources opened through
    ``Dataset.over``; elsewhere nothing starts)."""
    def build(ahead: Dataset) -> None:
        model, days = model_for(ahead), spell_checkpoints(ahead)
        if not states_at_hand(ahead, model, days):  # else (warm) reading them is all there is to do
            with checkpoints_prefetched(ahead, model, days):
                for day in reversed(days):  # oldest first: the catalogue's flow metrics start from as_of, so
                    stages_at(ahead, model, day)  # both threads share the days left (one computation per day)
        stage_states(ahead, model, days)

    return whole_base_ahead(dataset, build, "lifecycle-flow-ahead")


def _definition(metric_id: str, name: str, formula: str, unit: Unit, numerator: str | None, denominator: str | None,
                compute, higher_is_better: bool, description: str, sections: tuple[str, ...] = ()) -> MetricDefinition:  # type: ignore[no-untyped-def]
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.FLOW, formula=formula, unit=unit,
                            numerator=numerator, denominator=denominator, required_tables=("customers",), source=SOURCE,
                            compute=compute, higher_is_better=higher_is_better, description=description,
                            sections=sections)


DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("progression_rate", "Stage progression rate",
                "customers whose stage order rose between the window start and as_of ÷ customers classified (not churned) at both",
                Unit.RATIO, "customers who moved to a later stage", "customers classified at both dates", progression_rate, True,
                "Stages from the configured stage model on as-of snapshots at the day before the window start and at as_of."),
    _definition("regression_rate", "Stage regression rate",
                "customers whose stage order fell between the window start and as_of ÷ customers classified (not churned) at both",
                Unit.RATIO, "customers who moved to an earlier stage", "customers classified at both dates", regression_rate, False,
                "Churn is not counted as regression; see the retention metrics and the transition matrix."),
    _definition("stagnation_rate", "Stagnation rate",
                "active customers in their stage longer than its expected_days ÷ active customers in stages with expected_days",
                Unit.RATIO, "customers past their stage's expected_days", "active customers in stages with expected_days",
                stagnation_rate, False, "Time in stage from monthly as-of checkpoints: a lower bound, so the rate is conservative."),
    _definition("stage_velocity_days", "Stage velocity (median days per stage)",
                "median days spent in a stage before progressing, over spells that ended in a progression within the window",
                Unit.DAYS, None, None, stage_velocity_days, False,
                "Spells measured between monthly as-of checkpoints (or signup); spells under way at the window start are excluded."),
    _definition("lifecycle_completion_rate", "Lifecycle completion rate",
                "active customers in the completion stage (advocacy) ÷ active classified customers, on as_of",
                Unit.RATIO, "customers in the completion stage", "active classified customers", lifecycle_completion_rate, True,
                "The completion stage is the stage model's completion_stage (default: loyalty_advocacy).", sections=("loyalty_advocacy",)),
)

SCOPE_MASKED: tuple[str, ...] = tuple(d.id for d in DEFINITIONS)
"""The flow metrics whose filtered scopes read ``_in_scope`` (``seed_in_scope`` fills it for a group of scopes)."""
