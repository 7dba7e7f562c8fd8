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

from lifecycle import events_daily
from lifecycle.dataset import Dataset, next_day_iso
from lifecycle.filters import add_months
from lifecycle.membership import is_member
from lifecycle.metrics.common import (
    DAY,
    as_of_ts,
    days_after_signup,
    eligible_signups,
    few_events_note,
    join_notes,
    no_event_signal,
    paying_on,
    paying_subscriptions,
    per_customer,
    small_sample_note,
    sorted_ids,
    target,
    too_recent_note,
    with_notes,
)
from lifecycle.metrics.event_aggregates import DAY_SQL, activity_periods, aggregate, in_scope, typed
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result, ratio_result

USAGE_DAYS = 30
RETENTION_USAGE_BRACKET_DAYS = 7


def last_days(dataset: Dataset, days: int = USAGE_DAYS) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of the ``days`` days ending on the window's last day."""
    end = pd.Timestamp(dataset.window.end) + DAY
    return end - pd.Timedelta(days=days), end


def core_features(dataset: Dataset) -> tuple[str, ...]:
    """The configured core features, sorted and without repeats (``config.activation.core_features``)."""
    return tuple(sorted(set(dataset.config.activation.core_features)))


def recent_usage(dataset: Dataset, features: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per customer in scope with an event in the ``USAGE_DAYS`` days ending on the window's last day (``last_days``):
    ``active_days`` — distinct calendar days (``SUBSTR(occurred_at, 1, 10)``) with an activity event
    (``config.activation.active_events``; all events when empty) — and ``used_<i>``: 1 when ``features[i]`` occurred
    in those days. One ``GROUP BY customer_id`` in the database, compiled by the expression layer for the connection's
    engine and memoised per data, as_of and window for every customer (narrowed to the scope's customers by
    ``event_aggregates.in_scope``): one row per customer, however many events they had. Stickiness and feature
    adoption ask with the same ``features`` (``core_features``), so they share one pass."""
    columns = ["customer_id", "active_days", *(f"used_{i}" for i in range(len(features)))]
    if not dataset.has("events"):
        return typed(pd.DataFrame({c: [] for c in columns}), counts=tuple(columns[1:]))
    start, end = last_days(dataset)
    names = tuple(dataset.config.activation.active_events)
    days = [next_day_iso(dataset.as_of), start.date().isoformat(), end.date().isoformat()]
    rolled = _usage_from_rollup(dataset, names, features, days)
    if rolled is not None:
        sql, params = rolled
        return in_scope(dataset, aggregate(dataset, sql, params, counts=tuple(columns[1:]), persist=True))
    activity = f"e.event_name IN ({', '.join('?' * len(names))}) AND " if names else ""
    select = [f"COUNT(DISTINCT CASE WHEN {activity}1 = 1 THEN {DAY_SQL} END) AS active_days",
              *(f"MAX(CASE WHEN e.event_name = ? THEN 1 ELSE 0 END) AS used_{i}" for i in range(len(features)))]
    sql = (f"SELECT e.customer_id AS customer_id, {', '.join(select)} FROM events e "
           "WHERE e.occurred_at < ? AND e.occurred_at >= ? AND e.occurred_at < ? GROUP BY e.customer_id")
    params = [*names, *features, *days]
    return in_scope(dataset, aggregate(dataset, sql, params, counts=tuple(columns[1:]), persist=True))


def _usage_from_rollup(dataset: Dataset, names: tuple[str, ...], features: tuple[str, ...],
                       days: list[str]) -> tuple[str, list[object]] | None:
    """``recent_usage``'s statement on the events rollup (``lifecycle.events_daily``: a row per day and customer with
    the bitmask of the event names used that day) when it is current on SQLite and has a bit for every name asked
    that occurs (``events_daily.readable_bits``); else None (the events' own statement).

    The same values from fewer rows (a row per customer-day instead of per event; one contiguous key range): the
    window's bounds (``days``: the day after as_of, the first day, the day after the last) are whole days, and for a
    ``YYYY-MM-DD`` bound ``c`` an event's ``occurred_at >= c`` ⟺ its day ``>= c`` (``<`` likewise), so a window selects
    the days of the events it selects, and a customer has a row on each day with an event. ``active_days`` = the rows
    whose mask meets the activity names' (every row when all events count), i.e. the distinct days with an activity
    event; ``used_<i>`` = 1 when a row has ``features[i]``'s bit. A name the events never use has no bit and matches
    nothing (mask 0), as ``event_name = ?`` matches no event. The customers are those with an event in the window."""
    key = f"__events_daily_usage_bits__:{names}:{features}"
    if key not in dataset._cache:
        dataset._cache[key] = events_daily.readable_bits(dataset.connection, (*names, *features))  # type: ignore[assignment]
    bits: dict[str, int] | None = dataset._cache[key]  # type: ignore[assignment]
    if bits is None:
        return None

    def mask(chosen: tuple[str, ...]) -> int:
        return sum(1 << bits[name] for name in set(chosen) if name in bits)

    select = ["SUM(CASE WHEN (r.names & ?) <> 0 THEN 1 ELSE 0 END) AS active_days" if names else "COUNT(*) AS active_days",
              *(f"MAX((r.names & ?) <> 0) AS used_{i}" for i in range(len(features)))]
    sql = (f"SELECT r.customer_id AS customer_id, {', '.join(select)} FROM {events_daily.TABLE} r "
           "WHERE r.day < ? AND r.day >= ? AND r.day < ? GROUP BY r.customer_id")
    return sql, [*([mask(names)] if names else []), *(mask((feature,)) for feature in features), *days]


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
    days = recent_usage(dataset, core_features(dataset))["active_days"].to_numpy(dtype="int64")
    mau = int((days > 0).sum())
    mean_dau = int(days.sum()) / USAGE_DAYS  # Σ over days of customers active that day = Σ over customers of their days
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
    features = core_features(dataset)
    if not features:
        return missing_result("feature_adoption_rate", Unit.RATIO, dataset.scope, "no core features configured", spec_target)
    absent = no_event_signal(dataset, "feature_adoption_rate", "activation.core_features", features) or _no_activity_signal(
        dataset, "feature_adoption_rate")
    if absent is not None:
        return absent
    usage = recent_usage(dataset, features)
    live = usage["active_days"].to_numpy(dtype="int64") > 0
    active = usage["customer_id"][live]
    per_feature = pd.Series({feature: int(usage[f"used_{i}"].to_numpy(dtype="int64")[live].sum())
                             for i, feature in enumerate(features)}, dtype="int64")
    used = int(per_feature.sum())
    empty = f"no customers active in the {USAGE_DAYS} days ending {dataset.window.end.isoformat()}"
    breakdown = tuple(
        (feature, ratio_result("feature_adoption_rate", float(per_feature.get(feature, 0)), float(len(active)), Unit.RATIO,
                               dataset.scope, spec_target, empty_reason=empty))
        for feature in features
    )
    overall = ratio_result("feature_adoption_rate", float(used), float(len(active) * len(features)), Unit.RATIO,
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
    return sorted_ids(subs.loc[paying_on(subs, day), "customer_id"])


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
    lo = days - RETENTION_USAGE_BRACKET_DAYS + 1
    if dataset.has("subscriptions"):
        rule = f"retained = paying on day {days} after signup"
    elif dataset.has("events"):
        absent = _no_activity_signal(dataset, metric_id)
        if absent is not None:
            return absent
        rule = f"retained = activity on days {lo}–{days} after signup (no subscriptions in the data)"
    else:
        return missing_result(metric_id, Unit.RATIO, dataset.scope, "needs subscriptions or events to tell who is still active", spec_target)
    retained = int(is_member(eligible["customer_id"], per_customer(dataset, metric_id, lambda d: retained_ids(d, days))).sum())
    result = ratio_result(metric_id, float(retained), float(len(eligible)), Unit.RATIO, dataset.scope, spec_target,
                          empty_reason=f"no customers signed up in the period at least {days} days before as_of")
    return with_notes(result, rule, too_recent_note(too_recent, days), small_sample_note(dataset, len(eligible)))


def retained_ids(dataset: Dataset, days: int) -> pd.Index:
    """Ids of the eligible signups (``eligible_signups``) still active ``days`` days after signup, by the rule
    ``retention_after`` states: paying on ``signup_date + days`` where the data has subscriptions, else an activity event
    on days ``days − 6`` … ``days`` after signup (empty without either). Each customer's answer rests on their own rows."""
    eligible, _ = eligible_signups(dataset, days)
    if dataset.has("subscriptions"):
        subs = paying_subscriptions(dataset).merge(eligible[["customer_id", "signup_date"]], on="customer_id", how="inner")
        ids = subs.loc[paying_on(subs, subs["signup_date"] + pd.Timedelta(days=days)), "customer_id"]
    elif dataset.has("events"):
        lo = days - RETENTION_USAGE_BRACKET_DAYS + 1
        # eligible signups lie in the window and day lo > 0 comes after signup: earlier days never count
        since = dataset.window.start if lo > 0 else None
        timed = days_after_signup(activity_periods(dataset, "day", since).rename(columns={"day": "occurred_at"}), eligible)
        ids = timed.loc[(timed["day"] >= lo) & (timed["day"] <= days), "customer_id"]
    else:
        return pd.Index([], dtype="string")
    return sorted_ids(ids)


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
    return per_customer(dataset, "tenures", _tenures)


def _tenures(dataset: Dataset) -> pd.DataFrame:
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
