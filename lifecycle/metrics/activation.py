"""Onboarding and activation metrics over product events: activation rate, time to value, onboarding completion,
early feature adoption.

Timing rule: an event happens *within N days of signup* when ``floor(occurred_at to the day) − signup_date
<= N`` calendar days; events dated before signup (trial usage) count as day 0. A customer is *eligible* for an
N-day rule when at least N days after signup are observed: ``signup_date <= as_of − N`` (so day N is on or
before ``as_of``). Population: customers (filtered) who signed up in the window. Settings come from
``config.activation`` (value event, windows, onboarding steps, core features).
Sources: seed 002 (activation rate 60–80 %, time to value < 7 days, onboarding days 1–14), seed 004 (70 %
complete the core action within 7 days), seed 000 (onboarding completion, early adoption).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.metrics.common import (
    absent_event_names,
    as_of_ts,
    days_after_signup,
    eligible_signups,
    join_notes,
    kept_whole_customers,
    median,
    no_event_signal,
    per_customer,
    signups_in_window,
    small_sample_note,
    target,
    too_recent_note,
    whole_window_signups,
    with_notes,
)
from lifecycle.metrics.event_aggregates import daily_events, name_summary
from lifecycle.metrics.registry import SEED_002, MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result, ratio_result
from lifecycle.scope import Scope


def first_events(dataset: Dataset, names: tuple[str, ...]) -> pd.DataFrame:
    """Each customer's first event of each of ``names`` by as_of: ``customer_id``, ``event_name``, ``occurred_at`` —
    from the per-(customer, event name) aggregate the database computes once (``event_aggregates.name_summary``)."""
    summary = name_summary(dataset)
    firsts = summary[summary["event_name"].isin(names)]
    return firsts[["customer_id", "event_name", "first_at"]].rename(columns={"first_at": "occurred_at"})


def first_event_day(dataset: Dataset, customers: pd.DataFrame, event_name: str) -> pd.Series:
    """Days from signup to each customer's first ``event_name`` event (by as_of), indexed by customer id.

    The day of the first event is the least day of any event (days after signup grow with the event's time). Each
    customer's day is their own: read off every customer's, computed once per data, as_of and window (``per_customer``).
    """
    every = per_customer(dataset, f"first_event_day:{event_name}", lambda whole: _first_event_day(whole, event_name))
    return every[is_member(every.index, customers["customer_id"])]


def _first_event_day(dataset: Dataset, event_name: str) -> pd.Series:
    timed = days_after_signup(first_events(dataset, (event_name,)), dataset.customers())
    return timed.groupby("customer_id")["day"].min().sort_index()


def activation_rate(dataset: Dataset) -> MetricResult:
    """Activation rate: eligible signups whose first value event came within ``within_days`` of signup ÷ eligible signups.

    Eligible = signed up in the window and ``signup_date <= as_of − within_days``. Value event and days come
    from ``config.activation`` (default ``report_created`` within 7 days). Unit: ratio; target 60–80 %.
    Edge cases: no eligible signups → None; signups too recent to judge are counted in ``reason``.
    Source: seed 002 ("Activated / Signed Up", 60–80 %), seed 004 (70 % within 7 days).
    """
    rule = dataset.config.activation
    absent = no_event_signal(dataset, "activation_rate", "activation.value_event", (rule.value_event,))
    if absent is not None:
        return absent
    eligible, too_recent = eligible_signups(dataset, rule.within_days)
    first = first_event_day(dataset, eligible, rule.value_event)
    activated = int((first <= rule.within_days).sum())
    result = ratio_result("activation_rate", float(activated), float(len(eligible)), Unit.RATIO, dataset.scope,
                          target(dataset, "activation_rate"),
                          empty_reason=f"no customers signed up in the period at least {rule.within_days} days before as_of")
    return with_notes(result, too_recent_note(too_recent, rule.within_days), small_sample_note(dataset, len(eligible)))


def time_to_value_days(dataset: Dataset) -> MetricResult:
    """Time to value: median days from signup to the first value event, among window signups who reached it by as_of.

    Unit: days; lower is better; target < 7 days. Customers who have not reached value are not in the
    median (read it next to ``activation_rate``). Edge cases: nobody reached value → None with a reason.
    Source: seed 002 ("Days to first 'aha' moment", < 7 days).
    """
    spec_target = target(dataset, "time_to_value_days")
    absent = no_event_signal(dataset, "time_to_value_days", "activation.value_event", (dataset.config.activation.value_event,))
    if absent is not None:
        return absent
    signups = signups_in_window(dataset)
    first = first_event_day(dataset, signups, dataset.config.activation.value_event)
    value = median(first)
    if value is None:
        return missing_result("time_to_value_days", Unit.DAYS, dataset.scope,
                              f"no customer who signed up in the period has a '{dataset.config.activation.value_event}' event yet",
                              spec_target)
    not_reached = len(signups) - len(first)
    return MetricResult(
        metric_id="time_to_value_days", value=value, unit=Unit.DAYS, scope=dataset.scope, sample_size=len(first),
        target=spec_target,
        reason=join_notes(f"{not_reached} signup(s) have not reached value and are not in the median" if not_reached else None,
                          small_sample_note(dataset, len(first))),
    )


def onboarding_completion_rate(dataset: Dataset) -> MetricResult:
    """Onboarding completion: eligible signups with ≥ ``onboarding_steps`` onboarding events within ``onboarding_within_days`` ÷ eligible signups.

    Each ``config.activation.onboarding_event`` event counts as one completed step (the data model carries
    no step id). Eligible = signed up in the window, ``signup_date <= as_of − onboarding_within_days``.
    Unit: ratio. Edge cases: no eligible signups → None. Source: seed 000 ("Onboarding completion:
    percentage completing onboarding successfully").
    """
    rule = dataset.config.activation
    absent = no_event_signal(dataset, "onboarding_completion_rate", "activation.onboarding_event", (rule.onboarding_event,))
    if absent is not None:
        return absent
    eligible, too_recent = eligible_signups(dataset, rule.onboarding_within_days)
    steps = per_customer(dataset, "onboarding_steps", _onboarding_steps)  # each customer's own count, read off every one's
    steps = steps[is_member(steps.index, eligible["customer_id"])]
    completed = int((steps >= rule.onboarding_steps).sum())
    result = ratio_result("onboarding_completion_rate", float(completed), float(len(eligible)), Unit.RATIO, dataset.scope,
                          target(dataset, "onboarding_completion_rate"),
                          empty_reason=f"no customers signed up in the period at least {rule.onboarding_within_days} days before as_of")
    return with_notes(result, too_recent_note(too_recent, rule.onboarding_within_days), small_sample_note(dataset, len(eligible)))


def onboarding_completion_rates(datasets: Sequence[Dataset]) -> list[MetricResult] | None:
    """``onboarding_completion_rate`` of each of ``datasets`` — disjoint filtered scopes of one as_of and window
    (``lifecycle.metrics.grouped``: compare_segments' groups) — from one pass over the whole base's window signups
    (``whole_window_signups``), each labelled with the scope that keeps its customer (``kept_whole_customers``):
    eligible, too recent and completed counted per scope by ``bincount``, completed = an eligible signup whose
    whole-base step count (``_onboarding_steps``, each customer's own) reaches ``onboarding_steps``. The same counts,
    notes and result as ``onboarding_completion_rate`` on each scope (a scope without the event: its own ``None``);
    None when the scopes overlap."""
    from lifecycle.metrics.grouped import mask_codes

    first = datasets[0]
    rule = first.config.activation
    keeps = [kept_whole_customers(d) for d in datasets]
    codes = mask_codes(keeps, len(keeps[0]))
    whole = first.rescoped(Scope(first.as_of, first.window, Filters()))
    steps = per_customer(whole, "onboarding_steps", _onboarding_steps)
    if codes is None or not steps.index.is_unique:
        return None
    signups = whole_window_signups(first)
    groups = codes[signups.index.to_numpy(dtype="int64")]
    cutoff = as_of_ts(first) - pd.Timedelta(days=rule.onboarding_within_days)
    eligible = (groups >= 0) & (signups["signup_date"] <= cutoff).to_numpy(dtype=bool)
    at = steps.index.get_indexer(signups["customer_id"])
    reached = np.zeros(len(at), dtype=bool)
    found = at >= 0
    reached[found] = steps.to_numpy()[at[found]] >= rule.onboarding_steps
    size = len(datasets)
    signed = np.bincount(groups[groups >= 0], minlength=size)
    eligible_n = np.bincount(groups[eligible], minlength=size)
    completed_n = np.bincount(groups[eligible & reached], minlength=size)
    results: list[MetricResult] = []
    for position, dataset in enumerate(datasets):
        absent = no_event_signal(dataset, "onboarding_completion_rate", "activation.onboarding_event", (rule.onboarding_event,))
        if absent is not None:
            results.append(absent)
            continue
        n, too_recent = int(eligible_n[position]), int(signed[position] - eligible_n[position])
        result = ratio_result("onboarding_completion_rate", float(completed_n[position]), float(n), Unit.RATIO,
                              dataset.scope, target(dataset, "onboarding_completion_rate"),
                              empty_reason=f"no customers signed up in the period at least {rule.onboarding_within_days} days before as_of")
        results.append(with_notes(result, too_recent_note(too_recent, rule.onboarding_within_days),
                                  small_sample_note(dataset, n)))
    return results


def _onboarding_steps(dataset: Dataset) -> pd.Series:
    """Per customer: ``onboarding_event`` events on days 0 … ``onboarding_within_days`` after signup (customers with one)."""
    rule = dataset.config.activation
    daily = daily_events(dataset, (rule.onboarding_event,)).rename(columns={"day": "occurred_at"})
    timed = days_after_signup(daily, dataset.customers())
    return timed[timed["day"] <= rule.onboarding_within_days].groupby("customer_id")["events"].sum()


def early_feature_adoption(dataset: Dataset) -> MetricResult:
    """Early feature adoption: mean share of core features each eligible signup used within ``early_window_days``.

    Formula: Σ over eligible signups of (distinct core features used by day ``early_window_days``) ÷
    (eligible signups × number of core features). A breadth measure in [0, 1]: 0.5 means the average new
    customer touched half the core features in onboarding. Eligible = signed up in the window,
    ``signup_date <= as_of − early_window_days``. Unit: ratio. Edge cases: no eligible signups or no core
    features configured → None. Source: seed 000 ("Early adoption: adoption of key features during
    onboarding"), seed 002 (onboarding days 1–14).
    """
    rule = dataset.config.activation
    features = tuple(sorted(set(rule.core_features)))
    spec_target = target(dataset, "early_feature_adoption")
    if not features:
        return missing_result("early_feature_adoption", Unit.RATIO, dataset.scope, "no core features configured", spec_target)
    absent = no_event_signal(dataset, "early_feature_adoption", "activation.core_features", features)
    if absent is not None:
        return absent
    eligible, too_recent = eligible_signups(dataset, rule.early_window_days)
    early = per_customer(dataset, "early_features", lambda whole: _early_features(whole, features))
    used = int(early[is_member(early.index, eligible["customer_id"])].sum())
    result = ratio_result("early_feature_adoption", float(used), float(len(eligible) * len(features)), Unit.RATIO,
                          dataset.scope, spec_target, sample_size=len(eligible),
                          empty_reason=f"no customers signed up in the period at least {rule.early_window_days} days before as_of")
    return with_notes(result, too_recent_note(too_recent, rule.early_window_days), small_sample_note(dataset, len(eligible)),
                      unseen_features_note(dataset, features))


def _early_features(dataset: Dataset, features: tuple[str, ...]) -> pd.Series:
    """Per customer: how many of ``features`` they first used by day ``early_window_days`` after signup (customers with
    one)."""
    timed = days_after_signup(first_events(dataset, features), dataset.customers())  # used early ⇔ first used early
    used = timed[timed["day"] <= dataset.config.activation.early_window_days][["customer_id", "event_name"]].drop_duplicates()
    return used.groupby("customer_id").size()


def unseen_features_note(dataset: Dataset, features: tuple[str, ...]) -> str | None:
    """A caveat naming configured core features whose events never occur in scope (they count as unused)."""
    unseen = absent_event_names(dataset, features)
    if unseen:
        return (f"core feature(s) {', '.join(unseen)} never occur in the events in scope and count as unused; "
                "check activation.core_features")
    return None


def _definition(metric_id: str, name: str, formula: str, numerator: str | None, denominator: str | None, compute,
                unit: Unit = Unit.RATIO, higher_is_better: bool = True, source: str = "seed 000; seed 002", sections: tuple[str, ...] = (),
                target: TargetBand | None = None) -> MetricDefinition:
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.ACTIVATION, formula=formula, unit=unit,
                            numerator=numerator, denominator=denominator, required_tables=("events",), source=source,
                            compute=compute, target=target, sections=sections, higher_is_better=higher_is_better,
                            description=(compute.__doc__ or "").strip().splitlines()[0])


DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("activation_rate", "Activation rate",
                "signups with the value event within activation.within_days of signup ÷ signups with that many days observed",
                "eligible signups activated in time", "signups in the period with signup_date ≤ as_of − within_days", activation_rate,
                source="seed 002 (Activated / Signed Up, 60–80%); seed 004 (70% within 7 days)", sections=("purchase_onboarding",),
                target=TargetBand(0.60, 0.80, SEED_002, open_ended_high=True)),
    _definition("time_to_value_days", "Time to value", "median days from signup to the first value event, signups in the period who reached it",
                None, None, time_to_value_days, unit=Unit.DAYS, higher_is_better=False, source="seed 002 (days to first 'aha' moment, < 7 days)", sections=("purchase_onboarding",),
                target=TargetBand(None, 7.0, SEED_002)),
    _definition("onboarding_completion_rate", "Onboarding completion rate",
                "signups with ≥ onboarding_steps onboarding events within onboarding_within_days ÷ eligible signups",
                "eligible signups that completed onboarding", "signups in the period with signup_date ≤ as_of − onboarding_within_days",
                onboarding_completion_rate, source="seed 000 (onboarding completion)", sections=("purchase_onboarding",)),
    _definition("early_feature_adoption", "Early feature adoption",
                "Σ distinct core features used within early_window_days ÷ (eligible signups × core features)",
                "(customer, core feature) pairs used early", "eligible signups × core features", early_feature_adoption,
                source="seed 000 (early adoption); seed 002 (onboarding days 1–14)", sections=("purchase_onboarding",)),
)
