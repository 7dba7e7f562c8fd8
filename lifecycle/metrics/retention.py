"""Adoption and retention metrics: stickiness, feature adoption, logo churn, N-day retention, tenure.

Activity rules are those of ``lifecycle.metrics.common`` (paying = a subscription with ``mrr > 0`` covering
the day; activity = events in ``config.activation.active_events``, all when empty). The 30-day usage
metrics look at the 30 days ending on the window's last day (``as_of`` by default).
Sources: seed 000 (usage consistency, feature adoption, relationship longevity), seed 002 (adoption days
15–60, retention day 60+), ChartMogul's customer churn rate (churned in month ÷ customers at month start).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import add_months
from lifecycle.membership import is_member
from lifecycle.metrics.common import (
    DAY,
    activity_days,
    as_of_ts,
    days_after_signup,
    eligible_signups,
    few_events_note,
    join_notes,
    no_event_signal,
    paying_on,
    paying_subscriptions,
    small_sample_note,
    target,
    too_recent_note,
    with_notes,
)
from lifecycle.metrics.event_aggregates import daily_events
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result, ratio_result

USAGE_DAYS = 30
RETENTION_USAGE_BRACKET_DAYS = 7


def last_days(dataset: Dataset, days: int = USAGE_DAYS) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of the ``days`` days ending on the window's last day."""
    end = pd.Timestamp(dataset.window.end) + DAY
    return end - pd.Timedelta(days=days), end


def _recent_days(dataset: Dataset) -> pd.DataFrame:
    """Every event of the last 30 days per (customer, event name, day), counted in the database."""
    start, end = last_days(dataset)
    return daily_events(dataset, None, start.date(), (end - DAY).date())


def _recent_activity(dataset: Dataset) -> pd.DataFrame:
    """Activity (``config.activation.active_events``; all events when empty) of the last 30 days per (customer, event
    name, day)."""
    recent = _recent_days(dataset)
    names = dataset.config.activation.active_events
    return recent[recent["event_name"].isin(names)] if names else recent


def stickiness(dataset: Dataset) -> MetricResult:
    """Stickiness (DAU/MAU), account level: mean daily active customers over the last 30 days ÷ customers active in those 30 days.

    Formula: (Σ over the 30 days of distinct customers with an activity event that day ÷ 30) ÷ distinct
    customers with an activity event in the 30 days. Unit: ratio in [1/30, 1]; 1 = every active account
    is active every day. Edge cases: no activity in the 30 days → None. Source: seed 000 (usage
    consistency), the standard DAU/MAU ratio computed on accounts.
    """
    absent = _no_activity_signal(dataset, "stickiness")
    if absent is not None:
        return absent
    recent = _recent_activity(dataset)
    daily = recent[["customer_id", "day"]].drop_duplicates()
    mau = int(recent["customer_id"].nunique())
    mean_dau = len(daily) / USAGE_DAYS
    result = ratio_result("stickiness", mean_dau, float(mau), Unit.RATIO, dataset.scope, target(dataset, "stickiness"),
                          empty_reason=f"no activity events in the {USAGE_DAYS} days ending {dataset.window.end.isoformat()}",
                          sample_size=mau)
    return with_notes(result, small_sample_note(dataset, mau))


def feature_adoption_rate(dataset: Dataset) -> MetricResult:
    """Feature adoption: share of customers active in the last 30 days who used each core feature; value = mean over features.

    Formula: Σ over core features of (active customers using it) ÷ (active customers × core features);
    ``breakdown`` gives each feature's own share, sorted by feature name. Unit: ratio. Edge cases: no
    active customers or no core features configured → None. Source: seed 000 ("Feature adoption: adoption
    of advanced features"), seed 002 (adoption stage key metric).
    """
    spec_target = target(dataset, "feature_adoption_rate")
    features = tuple(sorted(set(dataset.config.activation.core_features)))
    if not features:
        return missing_result("feature_adoption_rate", Unit.RATIO, dataset.scope, "no core features configured", spec_target)
    absent = no_event_signal(dataset, "feature_adoption_rate", "activation.core_features", features) or _no_activity_signal(
        dataset, "feature_adoption_rate")
    if absent is not None:
        return absent
    active = pd.Index(_recent_activity(dataset)["customer_id"].unique())
    events = _recent_days(dataset)
    used = events[events["event_name"].isin(features) & is_member(events["customer_id"], active)][["customer_id", "event_name"]].drop_duplicates()
    per_feature = used.groupby("event_name").size()
    empty = f"no customers active in the {USAGE_DAYS} days ending {dataset.window.end.isoformat()}"
    breakdown = tuple(
        (feature, ratio_result("feature_adoption_rate", float(per_feature.get(feature, 0)), float(len(active)), Unit.RATIO,
                               dataset.scope, spec_target, empty_reason=empty))
        for feature in features
    )
    overall = ratio_result("feature_adoption_rate", float(len(used)), float(len(active) * len(features)), Unit.RATIO,
                           dataset.scope, spec_target, empty_reason=empty, sample_size=len(active))
    from lifecycle.metrics.activation import unseen_features_note

    overall = with_notes(overall, small_sample_note(dataset, len(active)), unseen_features_note(dataset, features))
    return replace(overall, breakdown=breakdown)


def _no_activity_signal(dataset: Dataset, metric_id: str) -> MetricResult | None:
    """None-result when ``activation.active_events`` is set and none of those events occurs in scope."""
    names = tuple(dataset.config.activation.active_events)
    return no_event_signal(dataset, metric_id, "activation.active_events", names) if names else None


def complete_months(dataset: Dataset) -> list[date]:
    """First days of the calendar months lying wholly inside the window, oldest first."""
    start = dataset.window.start
    first = start if start.day == 1 else add_months(start.replace(day=1), 1)
    months: list[date] = []
    while add_months(first, 1) - timedelta(days=1) <= dataset.window.end:
        months.append(first)
        first = add_months(first, 1)
    return months


def paying_ids(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Index:
    """Sorted ids of customers with a paying subscription covering ``day``."""
    return pd.Index(sorted(subs.loc[paying_on(subs, day), "customer_id"].astype(str).unique()))


def logo_churn_rate(dataset: Dataset) -> MetricResult:
    """Monthly logo churn: customers churned ÷ customers at risk, pooled over the complete months of the window.

    The one logo-churn definition (``lifecycle.metrics.revenue_movements.monthly_logo_churn``), read off the MRR
    bridge: for each complete calendar month m, at risk = customers paying at the end of m−1, churned = those of
    them paying nothing at the end of m (a customer with several subscriptions churns only when the last one ends;
    one who leaves and returns within the month is not churned). Value = Σ churned ÷ Σ at risk; the same rate
    divides LTV. ``breakdown`` gives each month's rate (key YYYY-MM); the interval is Wilson's on the
    customer-months. Unit: ratio per month (lower is better). Edge cases: no complete month in the window, or
    nobody paying at any month start → None; fewer than ``small_events`` churn events → flagged as a small sample.
    Order-only data has no subscription to end, so the metric needs ``subscriptions`` (use repeat_purchase_rate).
    Source: ChartMogul customer churn rate; seed 002 (retention day 60+).
    """
    from lifecycle.metrics.revenue_movements import monthly_logo_churn, revenue_movements

    spec_target = target(dataset, "logo_churn_rate")
    rows = revenue_movements(dataset).complete_in(dataset.window)
    if not rows:
        return missing_result("logo_churn_rate", Unit.RATIO, dataset.scope, "the period holds no complete calendar month", spec_target)
    breakdown = tuple((row.label, ratio_result("logo_churn_rate", float(row.churned_customers), float(row.starting_customers),
                                               Unit.RATIO, dataset.scope, spec_target,
                                               empty_reason="no paying customers at month start")) for row in rows)
    churn = monthly_logo_churn(rows)
    overall = ratio_result("logo_churn_rate", float(churn.churned), float(churn.paying_at_start), Unit.RATIO, dataset.scope,
                           spec_target, empty_reason="no paying customers at the start of any complete month in the period")
    if churn.paying_at_start:
        overall = with_notes(overall, small_sample_note(dataset, churn.paying_at_start, "customer-months"),
                             few_events_note(dataset, churn.churned))
    return replace(overall, breakdown=breakdown)


def retention_after(dataset: Dataset, days: int) -> MetricResult:
    """N-day retention: window signups with ≥ N days observed who are still active N days after signup ÷ those signups.

    Active on day N means, with subscriptions, paying on ``signup_date + N``; without subscriptions (usage
    products), an activity event in the 7 days ending on day N (days N−6..N after signup). The rule used
    is stated in ``reason``. Eligible = signed up in the window with ``signup_date <= as_of − N``.
    Unit: ratio. Edge cases: no eligible signups → None; no subscriptions and no events → None.
    Source: seed 002 (retention, day 60+; adoption days 15–60), seed 000 (retention patterns).
    """
    metric_id = f"retention_{days}d"
    spec_target = target(dataset, metric_id)
    eligible, too_recent = eligible_signups(dataset, days)
    if dataset.has("subscriptions"):
        subs = paying_subscriptions(dataset).merge(eligible[["customer_id", "signup_date"]], on="customer_id", how="inner")
        subs = subs[paying_on(subs, subs["signup_date"] + pd.Timedelta(days=days))]
        retained = subs["customer_id"].nunique()
        rule = f"retained = paying on day {days} after signup"
    elif dataset.has("events"):
        absent = _no_activity_signal(dataset, metric_id)
        if absent is not None:
            return absent
        timed = days_after_signup(activity_days(dataset).rename(columns={"day": "occurred_at"}), eligible)
        lo = days - RETENTION_USAGE_BRACKET_DAYS + 1
        retained = timed.loc[(timed["day"] >= lo) & (timed["day"] <= days), "customer_id"].nunique()
        rule = f"retained = activity on days {lo}–{days} after signup (no subscriptions in the data)"
    else:
        return missing_result(metric_id, Unit.RATIO, dataset.scope, "needs subscriptions or events to tell who is still active", spec_target)
    result = ratio_result(metric_id, float(retained), float(len(eligible)), Unit.RATIO, dataset.scope, spec_target,
                          empty_reason=f"no customers signed up in the period at least {days} days before as_of")
    return with_notes(result, rule, too_recent_note(too_recent, days), small_sample_note(dataset, len(eligible)))


def retention_30d(dataset: Dataset) -> MetricResult:
    """30-day retention (see ``retention_after``)."""
    return retention_after(dataset, 30)


def retention_60d(dataset: Dataset) -> MetricResult:
    """60-day retention (see ``retention_after``)."""
    return retention_after(dataset, 60)


def retention_90d(dataset: Dataset) -> MetricResult:
    """90-day retention (see ``retention_after``)."""
    return retention_after(dataset, 90)


def kaplan_meier_median(durations: np.ndarray, observed: np.ndarray) -> float | None:
    """Median survival time by the Kaplan–Meier product-limit estimator, or None when S(t) never falls to 0.5.

    S(t) = Π over event times t_j ≤ t of (1 − d_j ÷ n_j), with d_j events at t_j and n_j units whose
    duration is ≥ t_j (a unit censored at t_j is still at risk at t_j). The median is the smallest event
    time with S(t) ≤ 0.5. Source: Kaplan & Meier (1958), Eq. 2; median convention as in Klein &
    Moeschberger (2003) §4.5.
    """
    durations = np.asarray(durations, dtype="float64")
    observed = np.asarray(observed, dtype=bool)
    if durations.size == 0 or not observed.any():
        return None
    times, events = np.unique(durations[observed], return_counts=True)
    ordered = np.sort(durations)
    at_risk = ordered.size - np.searchsorted(ordered, times, side="left")
    survival = np.cumprod(1.0 - events / at_risk)
    below = np.nonzero(survival <= 0.5)[0]
    return float(times[below[0]]) if below.size else None


def tenures(dataset: Dataset) -> pd.DataFrame:
    """Per customer ever paid by as_of: ``days`` from first paid day to the end of the last subscription, and ``churned``.

    A customer paying on ``as_of`` is censored at ``as_of + 1`` (paid through as_of); gaps between
    subscriptions count as tenure (relationship longevity, not paid days). Sorted by customer id.
    """
    subs = paying_subscriptions(dataset)
    as_of = as_of_ts(dataset)
    active = pd.Index(paying_ids(subs, as_of))
    per = subs.groupby("customer_id").agg(first=("start_date", "min"), last=("end_date", "max")).sort_index()
    per.index = per.index.astype(str)
    churned = ~is_member(per.index, active)
    end = per["last"].where(churned, as_of + DAY)
    return pd.DataFrame({"days": (end - per["first"]).dt.days.astype("float64"), "churned": churned}, index=per.index)


def median_tenure_days(dataset: Dataset) -> MetricResult:
    """Relationship longevity: Kaplan–Meier median tenure in days of every customer ever paid by as_of.

    Tenure runs from the first paid day to the end of the last paying subscription; customers still paying
    on as_of are right-censored (``tenures``). Uses the whole history to as_of, not only the window,
    because longevity needs it. Unit: days. Edge cases: no paying customers → None; the survival curve
    never falls to 0.5 → None with "more than half still active". Source: seed 000 ("Relationship
    longevity"); Kaplan & Meier (1958).
    """
    spec_target = target(dataset, "median_tenure_days")
    table = tenures(dataset)
    if table.empty:
        return missing_result("median_tenure_days", Unit.DAYS, dataset.scope, "no customer has paid by as_of", spec_target)
    value = kaplan_meier_median(table["days"].to_numpy(), table["churned"].to_numpy())
    churned = int(table["churned"].sum())
    censoring = f"{len(table) - churned} of {len(table)} customers still paying (censored)"
    return MetricResult(
        metric_id="median_tenure_days", value=value, unit=Unit.DAYS, scope=dataset.scope, sample_size=len(table),
        numerator=None, denominator=None, target=spec_target,
        reason=join_notes("more than half still active: the median tenure is not reached yet" if value is None else None,
                          censoring, small_sample_note(dataset, len(table))),
    )


def _definition(metric_id: str, name: str, formula: str, numerator: str | None, denominator: str | None, compute,
                tables: tuple[str, ...], unit: Unit = Unit.RATIO, higher_is_better: bool = True,
                source: str = "seed 000; seed 002", sections: tuple[str, ...] = (),
                target: TargetBand | None = None) -> MetricDefinition:
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.RETENTION, formula=formula, unit=unit,
                            numerator=numerator, denominator=denominator, required_tables=tables, source=source,
                            compute=compute, target=target, sections=sections, higher_is_better=higher_is_better,
                            description=(compute.__doc__ or "").strip().splitlines()[0])


def _retention_definition(days: int, compute, section: str) -> MetricDefinition:
    return _definition(f"retention_{days}d", f"{days}-day retention",
                       f"signups in the period with ≥ {days} days observed still paying on day {days} (no subscriptions: active on days {days - 6}–{days}) ÷ those signups",
                       f"eligible signups active on day {days}", f"signups in the period with signup_date ≤ as_of − {days}", compute,
                       tables=("customers",), source="seed 002 (retention day 60+); seed 000 (retention patterns)",
                       sections=(section,))


DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("stickiness", "Stickiness (DAU/MAU)", "mean daily active customers over the last 30 days ÷ customers active in the 30 days",
                "mean daily active customers", "customers active in the 30 days", stickiness, tables=("events",),
                source="seed 000 (usage consistency); DAU/MAU on accounts", sections=("adoption",)),
    _definition("feature_adoption_rate", "Feature adoption rate",
                "mean over core features of (active customers using the feature in the last 30 days ÷ active customers)",
                "(active customer, core feature) pairs used", "active customers × core features", feature_adoption_rate,
                tables=("events",), source="seed 000 (feature adoption); seed 002 (adoption key metric)", sections=("adoption",)),
    _definition("logo_churn_rate", "Logo churn rate (monthly)",
                "Σ customers paying at the end of month m−1 and at none at the end of m ÷ Σ customers paying at the end of m−1, over the complete months of the period (the MRR bridge's churned ÷ starting customers)",
                "customers churned in the complete months (bridge churn)", "customers paying at each month's start (end of the month before; customer-months)",
                logo_churn_rate, tables=("subscriptions",), higher_is_better=False,
                source="ChartMogul customer churn rate; seed 002 (retention)", sections=("adoption",)),
    _retention_definition(30, retention_30d, "purchase_onboarding"),
    _retention_definition(60, retention_60d, "adoption"),
    _retention_definition(90, retention_90d, "adoption"),
    _definition("median_tenure_days", "Median tenure (relationship longevity)",
                "Kaplan–Meier median of days from first paid day to end of last subscription; still-paying customers censored",
                None, None, median_tenure_days, tables=("subscriptions",), unit=Unit.DAYS,
                source="seed 000 (relationship longevity); Kaplan & Meier 1958", sections=("loyalty_advocacy",)),
)
