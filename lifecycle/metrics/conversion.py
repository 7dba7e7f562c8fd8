"""Event-to-event conversion: of the customers who did event A in the period, the share who did event B within N days.

The product-analytics funnel step (Amplitude / Mixpanel / PostHog "conversion within a window") on the events table:
A, B and N come from ``config.conversion`` (``from_event``, ``to_event``, ``within_days``), e.g. cart → payment_done
within 7 days. Population: customers (filtered) whose first A in the window lies at least N days before as_of (so
the whole conversion window is observed); converted = a B at or after that first A and at most N × 24 hours later.
"""

from __future__ import annotations

import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.membership import is_member
from lifecycle.metrics.common import (
    as_of_ts,
    frequent_events_text,
    in_window,
    no_event_signal,
    small_sample_note,
    target,
    with_notes,
)
from lifecycle.metrics.event_aggregates import named_events
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, Unit, missing_result, ratio_result


def event_conversion_rate(dataset: Dataset) -> MetricResult:
    """Event conversion: customers whose first ``from_event`` in the window was followed by ``to_event`` within
    ``within_days`` ÷ customers with a first ``from_event`` in the window at least ``within_days`` before as_of.

    Unit: ratio. Edge cases: A or B not configured → None naming the keys and the most frequent events; A or B never
    occurring in scope → None with the same; nobody eligible → None. Source: the conversion-window funnel of product
    analytics (Amplitude, Mixpanel, PostHog funnels).
    """
    rule = dataset.config.conversion
    spec_target = target(dataset, "event_conversion_rate")
    if not rule.from_event or not rule.to_event:
        return missing_result("event_conversion_rate", Unit.RATIO, dataset.scope,
                              f"conversion.from_event and conversion.to_event are not set; {frequent_events_text(dataset)}; "
                              "set both in the config ([conversion] from_event = \"…\", to_event = \"…\", within_days = 7)",
                              spec_target)
    for key, name in (("conversion.from_event", rule.from_event), ("conversion.to_event", rule.to_event)):
        absent = no_event_signal(dataset, "event_conversion_rate", key, (name,))
        if absent is not None:
            return absent
    events = named_events(dataset, (rule.from_event, rule.to_event))
    starts = in_window(events[events["event_name"] == rule.from_event], "occurred_at", dataset)
    first = starts.groupby("customer_id")["occurred_at"].min()
    horizon = pd.Timedelta(days=rule.within_days)
    last_start = as_of_ts(dataset) + pd.Timedelta(days=1) - horizon
    eligible = first[first < last_start]
    finishes = events[(events["event_name"] == rule.to_event) & is_member(events["customer_id"], eligible.index)]
    joined = finishes.join(eligible.rename("started_at"), on="customer_id")
    done = joined[(joined["occurred_at"] >= joined["started_at"]) & (joined["occurred_at"] <= joined["started_at"] + horizon)]
    converted = int(done["customer_id"].nunique())
    what = f"{rule.from_event} → {rule.to_event} within {rule.within_days} days"
    result = ratio_result("event_conversion_rate", float(converted), float(len(eligible)), Unit.RATIO, dataset.scope, spec_target,
                          empty_reason=f"no customer did {rule.from_event} in the period at least {rule.within_days} days before as_of")
    too_recent = len(first) - len(eligible)
    return with_notes(result, what,
                      f"{too_recent} customer(s) whose first {rule.from_event} is too recent to judge are left out" if too_recent else None,
                      small_sample_note(dataset, len(eligible)))


DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="event_conversion_rate", name="Event conversion rate (A then B)", group=MetricGroup.ACTIVATION,
        formula="customers whose first conversion.from_event in the period is followed by conversion.to_event within "
                "conversion.within_days ÷ customers with such a first from_event at least within_days before as_of",
        unit=Unit.RATIO, numerator="customers converted in time", denominator="customers with the first event in the period, window observed",
        required_tables=("events",), source="conversion-window funnels of product analytics (Amplitude, Mixpanel, PostHog)",
        compute=event_conversion_rate, description=(event_conversion_rate.__doc__ or "").strip().splitlines()[0], sections=("purchase_onboarding",),
    ),
)
