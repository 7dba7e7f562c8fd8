"""Lifecycle-flow metrics: how customers move between stages (seed 000, "Transition metrics").

Every metric classifies customers with the configured stage model (``models.stages``) on as-of snapshots,
so a stage "at the window start" is the stage as it was known then (no look-ahead). The window start
checkpoint is the day before ``window.start`` (for the default trailing 12 months: exactly 12 months before
``as_of``). Churned customers are left out of progression, regression, stagnation and completion: churn is
measured by the retention metrics and appears as its own column in ``transition_matrix``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, Unit, missing_result, ratio_result
from lifecycle.scope import Scope
from lifecycle.stages.classification import UNCLASSIFIED
from lifecycle.stages.history import (
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


def _stage_pairs(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    """Order at the window start and at as_of for customers classified, and not churned, at both — once per dataset
    and model (``progression_rate`` and ``regression_rate`` both read it; callers do not modify it)."""
    key = f"__stage_pairs__:{model.origin}:{model.id}"
    if key not in dataset._cache:
        dataset._cache[key] = _paired_stages(dataset, model)
    return dataset._cache[key]


def _paired_stages(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    before = stages_at(dataset, model, window_start_day(dataset))
    after = stages_at(dataset, model, dataset.as_of)
    both = before.add_suffix("_start").join(after.add_suffix("_end"), how="inner")
    keep = ~both["churned_start"] & ~both["churned_end"]
    keep &= (both["stage_start"] != UNCLASSIFIED) & (both["stage_end"] != UNCLASSIFIED)
    both = both[keep.to_numpy(dtype=bool)]
    order = model.order
    return pd.DataFrame({"start": both["stage_start"].map(order).astype("float64"),
                         "end": both["stage_end"].map(order).astype("float64")}, index=both.index)


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


def _live_time_in_stage(dataset: Dataset, model: StageModel, months: int, enough: dict[str, float]) -> pd.DataFrame:
    # its checkpoints begin the flow metrics' (the same day of each month back from as_of): read from those states
    tis = time_in_stage(dataset, model, months=months, enough=enough, within=spell_checkpoints(dataset))
    churned = stages_at(dataset, model, dataset.as_of)["churned"]
    return tis[~churned.reindex(pd.Index(tis["customer_id"])).to_numpy(dtype=bool)]


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
    tis = _live_time_in_stage(dataset, model, months, expected)
    tis = tis[tis["stage"].isin(expected)]
    stuck = tis["days_in_stage"].to_numpy() > tis["stage"].map(expected).to_numpy(dtype="float64")
    breakdown = tuple(
        (stage, ratio_result("stagnation_rate", float(stuck[(tis["stage"] == stage).to_numpy()].sum()),
                             float((tis["stage"] == stage).sum()), Unit.RATIO, dataset.scope))
        for stage in expected)
    result = ratio_result("stagnation_rate", float(stuck.sum()), float(len(tis)), Unit.RATIO, dataset.scope,
                          empty_reason="no active customer is in a stage with expected_days")
    return replace(result, breakdown=breakdown)


def spell_checkpoints(dataset: Dataset) -> list[date]:
    """The checkpoints ``progression_spells`` reads, newest first: as_of and the same day of each month back to the
    window start's checkpoint (``window_start_day``), which ``progression_rate`` compares with as_of."""
    return checkpoints(dataset.as_of, _months_between(window_start_day(dataset), dataset.as_of))


def progression_spells(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    """Stage spells that ended in a progression during the window, from monthly as-of checkpoints.

    A spell starts at the first checkpoint in a stage (at signup, for a customer who signed up since the
    previous checkpoint) and ends at the first checkpoint in a higher-order stage. Spells already under
    way at the window start are left out (their start is unknown). Columns: customer_id, stage, days.
    """
    newest_first = spell_checkpoints(dataset)
    states = stage_states(dataset, model, newest_first)  # customers in scope on as_of; one column per checkpoint
    days = list(reversed(newest_first))
    ids = states.ids
    codes = states.codes[:, ::-1]
    labels = np.array(states.labels, dtype=object)
    churned = states.churned[:, ::-1]
    order = states.orders(model)[:, ::-1]
    signup = states.signup
    stamps = np.array([np.datetime64(d, "us") for d in days])
    run_start = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[us]")
    spells: list[pd.DataFrame] = []
    for j in range(len(days)):
        known = ~pd.isna(order[:, j])
        if j == 0:
            continue  # whatever the customer is in at the first checkpoint began at an unknown time
        was = ~pd.isna(order[:, j - 1])
        progressed = known & was & (order[:, j] > order[:, j - 1]) & ~churned[:, j] & ~churned[:, j - 1]
        ended = progressed & ~np.isnat(run_start)
        if ended.any():
            spells.append(pd.DataFrame({"customer_id": ids[ended], "stage": labels[codes[ended, j - 1]],
                                        "days": (stamps[j] - run_start[ended]) / np.timedelta64(1, "D")}))
        changed = known & (~was | (codes[:, j] != codes[:, j - 1]))
        entry = np.where(~was, signup, stamps[j])
        run_start = np.where(changed, entry, run_start)
    if not spells:
        return pd.DataFrame({"customer_id": pd.Series([], dtype="string"), "stage": [], "days": []})
    return pd.concat(spells, ignore_index=True)


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
    breakdown = tuple(
        (stage, MetricResult("stage_velocity_days", float(group["days"].median()), Unit.DAYS, dataset.scope, len(group)))
        for stage, group in spells.groupby("stage", sort=True))
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
    caller's own computation to meet and report. Only on SQLite sources opened through ``Dataset.over`` (a memo key, a
    connection per thread); elsewhere nothing starts."""
    source, identity = dataset.source, dataset.identity
    if source is None or identity is None or dataset.connection.dialect != "sqlite":
        return lambda: None
    whole, config = Scope(dataset.as_of, dataset.window, Filters()), dataset.config

    def build() -> None:
        try:
            ahead = Dataset.over(source, whole, config)
        except Exception:  # noqa: BLE001 - the catalogue computes these itself and reports what fails
            return
        try:
            if ahead.identity == identity:  # the data was not replaced meanwhile
                model, days = model_for(ahead), spell_checkpoints(ahead)
                if not states_at_hand(ahead, model, days):  # else (warm) reading them is all there is to do
                    with checkpoints_prefetched(ahead, model, days):
                        for day in reversed(days):  # oldest first: the catalogue's flow metrics start from as_of, so
                            stages_at(ahead, model, day)  # both threads share the days left (one computation per day)
                stage_states(ahead, model, days)
        except Exception:  # noqa: BLE001 - as above
            pass
        finally:
            ahead.close()

    thread = threading.Thread(target=build, name="lifecycle-flow-ahead", daemon=True)
    thread.start()
    return thread.join


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
