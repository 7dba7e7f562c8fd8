"""Acquisition and funnel metrics over leads: stage conversion rates, conversion by channel, CAC, time to convert.

Stage rule (all funnel rates): a lead *reached* a stage when that stage's date, or the date of any later
stage, is set by ``as_of`` (dates after ``as_of`` read as empty in the as-of view). A lead sold directly
without an MQL date therefore still counts as having passed MQL. ``leads.status`` is not used: it is the
status today, which would leak later facts into an earlier ``as_of``. A lead *became a customer* when
``won_at`` is set by ``as_of`` and it names a ``customer_id``.

Population: the cohort of leads *created in the window*, filtered by the dimensions leads carry
(``segment``; ``channel`` → ``leads.source``); other filters are reported in ``reason`` as not applicable.
Source: seed 004 (acquisition: channel conversion rate, acquisition cost, lead quality) and seed 000
(stage 1–2 progression rates).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.metrics.common import (
    days_between,
    in_window,
    join_notes,
    median,
    per_scope,
    signups_in_window,
    small_sample_note,
    target,
    with_notes,
)
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, Unit, missing_result, ratio_result

STAGES = ("mql_at", "sql_at", "opportunity_at", "won_at")
UNKNOWN_SOURCE = "(unknown)"


def reached(leads: pd.DataFrame, stage: str) -> pd.Series:
    """Whether each lead reached ``stage`` (``"lead"`` or a date column): that stage's or any later stage's date is set."""
    if stage == "lead":
        return pd.Series(True, index=leads.index)
    later = STAGES[STAGES.index(stage):]
    return leads[list(later)].notna().any(axis=1)


def became_customer(leads: pd.DataFrame) -> pd.Series:
    """Whether each lead was won by as_of and names the customer it became."""
    return leads["won_at"].notna() & leads["customer_id"].notna()


def lead_cohort(dataset: Dataset) -> pd.DataFrame:
    """Leads created in the window (filtered by the dimensions leads carry), sorted by id; once per scope (every funnel
    rate reads it)."""
    return per_scope(dataset, "lead_cohort", lambda: in_window(dataset.table("leads"), "created_at", dataset).sort_values("lead_id"))


def _step_rate(dataset: Dataset, metric_id: str, leads: pd.DataFrame, start: str, end: str | None) -> MetricResult:
    """Share of ``leads`` that reached ``start`` and then ``end`` (``None`` = became a customer)."""
    base = leads[reached(leads, start)]
    converted = became_customer(base) if end is None else reached(base, end)
    result = ratio_result(metric_id, float(converted.sum()), float(len(base)), Unit.RATIO, dataset.scope,
                          target(dataset, metric_id),
                          empty_reason=f"no leads created in the period reached {'the lead' if start == 'lead' else start.removesuffix('_at').upper()} stage")
    return with_notes(result, small_sample_note(dataset, len(base), "leads"), dataset.filters.lead_notes)


def lead_to_mql_rate(dataset: Dataset) -> MetricResult:
    """Lead → MQL rate: leads created in the window that reached MQL by as_of ÷ leads created in the window.

    Unit: ratio. Edge cases: no leads created in the period → None with a reason. Source: seed 000 (stage 1→2
    progression rate).
    """
    return _step_rate(dataset, "lead_to_mql_rate", lead_cohort(dataset), "lead", "mql_at")


def mql_to_sql_rate(dataset: Dataset) -> MetricResult:
    """MQL → SQL rate: window leads that reached SQL ÷ window leads that reached MQL (stage rule in the module doc).

    Unit: ratio. Edge cases: no window lead reached MQL → None with a reason. Source: seed 000.
    """
    return _step_rate(dataset, "mql_to_sql_rate", lead_cohort(dataset), "mql_at", "sql_at")


def sql_to_customer_rate(dataset: Dataset) -> MetricResult:
    """SQL → customer rate: window leads won (with a customer id) by as_of ÷ window leads that reached SQL.

    Unit: ratio. Edge cases: no window lead reached SQL → None with a reason. Source: seed 000.
    """
    return _step_rate(dataset, "sql_to_customer_rate", lead_cohort(dataset), "sql_at", None)


def lead_to_customer_rate(dataset: Dataset) -> MetricResult:
    """Lead → customer rate: leads created in the window that became customers by as_of ÷ leads created in the window.

    Unit: ratio. Recent leads have had less time to convert, so a window ending at as_of reads low; the
    result is a cohort rate, not a steady-state one. Edge cases: no leads → None. Source: seed 004
    (channel conversion rate).
    """
    return _step_rate(dataset, "lead_to_customer_rate", lead_cohort(dataset), "lead", None)


def conversion_by_channel(dataset: Dataset) -> MetricResult:
    """Lead → customer rate overall, with a ``breakdown`` per ``leads.source`` (missing source → "(unknown)"), sorted by key.

    Unit: ratio. Each breakdown entry is the same cohort rule applied to that source's leads. Edge cases:
    no leads → None. Source: seed 004 ("channel conversion rate").
    """
    leads = lead_cohort(dataset)
    overall = _step_rate(dataset, "conversion_by_channel", leads, "lead", None)
    sources = leads["source"].astype("string").fillna(UNKNOWN_SOURCE)
    breakdown = tuple(
        (key, _step_rate(dataset, "conversion_by_channel", leads[sources == key], "lead", None))
        for key in sorted(sources.unique())
    )
    return replace(overall, breakdown=breakdown)


def cac(dataset: Dataset) -> MetricResult:
    """Customer acquisition cost: Σ customers.acquisition_cost ÷ new customers, over customers signed up in the window.

    Unit: money. Blended CAC: the denominator counts every new customer; a customer without a recorded
    cost adds nothing to the numerator and the result says how many lacked one. Edge cases: no new
    customers, or no recorded cost at all → None with a reason (never a made-up zero). Source: seed 004
    (acquisition cost), the standard "acquisition spend ÷ new customers".
    """
    spec_target = target(dataset, "cac")
    new = signups_in_window(dataset)
    if new.empty:
        return missing_result("cac", Unit.MONEY, dataset.scope, "no customers signed up in the period", spec_target)
    costs = new["acquisition_cost"]
    known = int(costs.notna().sum())
    if known == 0:
        return missing_result("cac", Unit.MONEY, dataset.scope,
                              "no acquisition_cost recorded for customers who signed up in the period", spec_target)
    missing = len(new) - known
    result = ratio_result("cac", float(costs.fillna(0.0).sort_index().sum()), float(len(new)), Unit.MONEY,
                          dataset.scope, spec_target)
    return with_notes(result, f"{missing} of {len(new)} new customers have no acquisition_cost (counted as no spend)" if missing else None,
                      small_sample_note(dataset, len(new)))


def time_to_convert_days(dataset: Dataset) -> MetricResult:
    """Median days from lead creation to won, for leads won in the window.

    Unit: days (lower is better). Leads whose ``won_at`` precedes ``created_at`` are data errors and left out
    (counted in ``reason``). Edge cases: no lead won in the period → None. Source: seed 000 (progression
    velocity).
    """
    spec_target = target(dataset, "time_to_convert_days")
    leads = dataset.table("leads")
    won = in_window(leads[leads["won_at"].notna()], "won_at", dataset)
    days = days_between(won["won_at"], won["created_at"])
    invalid = int((days < 0).sum())
    days = days[days >= 0]
    value = median(days)
    if value is None:
        return missing_result("time_to_convert_days", Unit.DAYS, dataset.scope, "no leads won in the period", spec_target)
    return MetricResult(
        metric_id="time_to_convert_days", value=value, unit=Unit.DAYS, scope=dataset.scope, sample_size=len(days),
        target=spec_target,
        reason=join_notes(f"{invalid} lead(s) won before they were created were left out" if invalid else None,
                          small_sample_note(dataset, len(days), "leads"), dataset.filters.lead_notes),
    )


def _definition(metric_id: str, name: str, formula: str, numerator: str | None, denominator: str | None, compute,
                unit: Unit = Unit.RATIO, higher_is_better: bool = True, tables: tuple[str, ...] = ("leads",),
                source: str = "seed 000 (progression rates); seed 004 (acquisition)", sections: tuple[str, ...] = (),
                values: tuple[str, ...] = ()) -> MetricDefinition:
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.ACQUISITION, formula=formula, unit=unit,
                            numerator=numerator, denominator=denominator, required_tables=tables, source=source,
                            compute=compute, higher_is_better=higher_is_better, sections=sections,
                            required_values=values,
                            description=(compute.__doc__ or "").strip().splitlines()[0])


_STAGE_RULE = "a stage counts when its date or a later stage's date is set by as_of"

DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("lead_to_mql_rate", "Lead → MQL rate", f"leads created in the period that reached MQL ÷ leads created in the period; {_STAGE_RULE}",
                "leads created in the period that reached MQL", "leads created in the period", lead_to_mql_rate, sections=("awareness",)),
    _definition("mql_to_sql_rate", "MQL → SQL rate", f"period leads that reached SQL ÷ period leads that reached MQL; {_STAGE_RULE}",
                "period leads that reached SQL", "period leads that reached MQL", mql_to_sql_rate, sections=("evaluation",)),
    _definition("sql_to_customer_rate", "SQL → customer rate", f"period leads won with a customer ÷ period leads that reached SQL; {_STAGE_RULE}",
                "period leads won with a customer id", "period leads that reached SQL", sql_to_customer_rate, sections=("evaluation",)),
    _definition("lead_to_customer_rate", "Lead → customer rate", "leads created in the period won with a customer by as_of ÷ leads created in the period",
                "leads created in the period that became customers", "leads created in the period", lead_to_customer_rate,
                source="seed 004 (channel conversion rate)", sections=("evaluation",)),
    _definition("conversion_by_channel", "Conversion rate by channel", "lead → customer rate per leads.source (breakdown), overall as value",
                "leads created in the period that became customers", "leads created in the period", conversion_by_channel,
                source="seed 004 (channel conversion rate)", sections=("awareness",)),
    _definition("cac", "Customer acquisition cost", "Σ acquisition_cost of customers signed up in the period ÷ customers signed up in the period",
                "Σ acquisition_cost of new customers", "customers signed up in the period", cac, unit=Unit.MONEY,
                higher_is_better=False, tables=("customers",), values=("customers.acquisition_cost",),
                source="seed 004 (acquisition cost); blended CAC", sections=("awareness",)),
    _definition("time_to_convert_days", "Time to convert", "median days from lead created_at to won_at, leads won in the period",
                None, None, time_to_convert_days, unit=Unit.DAYS, higher_is_better=False,
                source="seed 000 (progression velocity)", sections=("evaluation",)),
)
