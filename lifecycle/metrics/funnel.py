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

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, next_day_iso
from lifecycle.filters import Dimension
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.metrics.common import (
    days_between,
    join_notes,
    kept_whole_customers,
    median,
    per_scope,
    signups_in_window,
    small_sample_note,
    target,
    whole_window_signups,
    with_notes,
)
from lifecycle.metrics.event_aggregates import aggregate
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, Unit, missing_result, ratio_result

STAGES = ("mql_at", "sql_at", "opportunity_at", "won_at")
UNKNOWN_SOURCE = "(unknown)"


FUNNEL_STEPS = ("lead", "mql_at", "sql_at", "won")
"""The steps the rates run between: every lead, reached MQL, reached SQL (stage rule in the module doc), became a
customer (``won_at`` set by as_of and a ``customer_id``); each step's leads are among the previous step's."""


def _set_by_as_of(column: str) -> str:
    """A leads date column set by as_of (ISO text, non-empty, before the day after as_of): what ``Dataset.table`` keeps
    unmasked. One ``?``: the day after as_of."""
    return f"(l.{column} IS NOT NULL AND l.{column} <> '' AND l.{column} < ?)"


def _reached_sql(stage: str) -> tuple[str, int]:
    """The stage rule in SQL: that stage's date or a later stage's is set by as_of; and how many ``?`` it holds."""
    later = STAGES[STAGES.index(stage):]
    return "(" + " OR ".join(_set_by_as_of(c) for c in later) + ")", len(later)


def _lead_scope(dataset: Dataset) -> tuple[str, list[object]]:
    """The scope's lead filter in SQL (``Filters.lead_sql``: the dimensions leads carry, the signup cohort on
    ``created_at``) — the rows ``Filters.select_leads`` keeps of the whole table."""
    return dataset.filters.lead_sql("l") if not dataset.filters.is_empty() else ("1 = 1", [])


def lead_funnel(dataset: Dataset) -> pd.DataFrame:
    """The cohort of leads created in the window (filtered by the dimensions leads carry), counted per ``source``
    (missing → "(unknown)", sorted) at each step of ``FUNNEL_STEPS`` — one ``GROUP BY`` in the database, compiled by the
    expression layer for the connection's engine, memoised per data, as_of, window and lead filter, so no lead row is
    read into memory. Columns: ``lead``, ``mql_at``, ``sql_at``, ``won`` (lead counts), indexed by source. Once per scope
    (``per_scope``: the five lead metrics read it)."""
    return per_scope(dataset, "lead_funnel", lambda: _lead_funnel(dataset))


def _lead_funnel(dataset: Dataset) -> pd.DataFrame:
    """``lead_funnel``'s table, memoised per data identity, statement and the lead filter's values (what it depends
    on: as_of and the window are in the statement's parameters). Scopes that differ only by filters leads do not carry
    (industry, country, company size, plan, stage) share one table: compare_segments by industry asks for it once, not
    once per industry and period."""
    columns = list(FUNNEL_STEPS)
    if not dataset.has("leads"):
        return pd.DataFrame({c: pd.Series([], dtype="int64") for c in columns}, index=pd.Index([], dtype="string", name="source"))
    statement, params, chosen = _funnel_statement(dataset)
    if dataset.identity is None:
        return _funnel_table(dataset, statement, params, chosen)
    key = ("lead-funnel", dataset.identity, statement, tuple(params), tuple(chosen.items()))
    return remember(key, lambda: _funnel_table(dataset, statement, params, chosen))


def _funnel_statement(dataset: Dataset) -> tuple[str, list[object], dict[str, tuple[str, ...]]]:
    """The funnel's ``GROUP BY`` statement, its parameters and the lead-column values kept after it (empty when the
    statement itself selects the scope's leads)."""
    cutoff = next_day_iso(dataset.as_of)
    mql, mql_n = _reached_sql("mql_at")
    sql_, sql_n = _reached_sql("sql_at")
    filters = dataset.filters
    chosen = {d.lead_column: filters.values(d) for d in Dimension if d.lead_column and filters.values(d)}
    # a segment or channel (lead source) filter without a cohort: the counts per (source, segment) of every lead, once
    # per data, as_of and window, and the chosen rows kept — the rows `Filters.lead_sql` selects, summed per source below
    by_value = bool(chosen) and filters.cohort_from is None and filters.cohort_to is None
    scope, scope_params = ("1 = 1", []) if by_value else _lead_scope(dataset)
    group = "l.source, l.segment" if by_value else "l.source"
    statement = (f"SELECT {'l.segment AS segment, ' if by_value else ''}l.source AS source, COUNT(*) AS n_lead, "
                 f"SUM(CASE WHEN {mql} THEN 1 ELSE 0 END) AS n_mql, SUM(CASE WHEN {sql_} THEN 1 ELSE 0 END) AS n_sql, "
                 f"SUM(CASE WHEN {_set_by_as_of('won_at')} AND l.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS n_won "
                 f"FROM leads l WHERE l.created_at >= ? AND l.created_at < ? AND l.created_at < ? AND {scope} GROUP BY {group}")
    params = [*[cutoff] * (mql_n + sql_n + 1), dataset.window.start.isoformat(), next_day_iso(dataset.window.end), cutoff,
              *scope_params]
    return statement, params, chosen if by_value else {}


def _funnel_table(dataset: Dataset, statement: str, params: list[object], chosen: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """The statement's counts per source (and segment), the rows of ``chosen`` lead-column values kept, summed per
    source (missing → "(unknown)", sorted)."""
    columns = list(FUNNEL_STEPS)
    counted = tuple(f"n_{step.removesuffix('_at')}" for step in columns)
    frame = aggregate(dataset, statement, params, counts=counted, table="leads").rename(columns=dict(zip(counted, columns)))
    if chosen:
        keep = np.ones(len(frame), dtype=bool)
        for column, values in chosen.items():
            keep &= is_member(frame[column], values)
        frame = frame[keep]
    sources = frame["source"].astype("string").fillna(UNKNOWN_SOURCE)
    totals = frame[columns].groupby(sources.to_numpy(dtype=object)).sum()
    totals = totals.reindex(sorted(totals.index)).astype("int64")
    totals.index = pd.Index(totals.index, dtype="string", name="source")
    return totals


LEAD_METRICS = ("lead_to_mql_rate", "mql_to_sql_rate", "sql_to_customer_rate", "lead_to_customer_rate",
                "conversion_by_channel", "time_to_convert_days")
"""The metrics over the leads table only: what they read of a scope is ``lead_inputs``."""


def lead_inputs(dataset: Dataset) -> tuple[object, ...]:
    """Everything ``LEAD_METRICS`` read of ``dataset`` besides its scope label and configuration: the lead funnel's
    statement, parameters and kept lead-column values (``_funnel_statement``: as_of and the window are among the
    parameters), the lead filter (``_lead_scope``, time to convert) and the notes on filters leads do not carry. Two
    scopes of one data and configuration with equal inputs have the same lead results but for the scope they name
    (``results.rescoped_result``: compare_segments by a dimension leads do not carry, ``lifecycle.metrics.grouped``)."""
    statement, params, chosen = _funnel_statement(dataset)
    scope, scope_params = _lead_scope(dataset)
    return (dataset.identity, statement, tuple(params), tuple(chosen.items()), scope, tuple(scope_params),
            dataset.window, dataset.filters.lead_notes)


def _step_rate(dataset: Dataset, metric_id: str, counts: pd.Series | Mapping[str, int], start: str, end: str) -> MetricResult:
    """Share of the cohort's leads at step ``start`` that reached step ``end`` (``counts``: leads per step)."""
    base = int(counts[start])
    result = ratio_result(metric_id, float(counts[end]), float(base), Unit.RATIO, dataset.scope,
                          target(dataset, metric_id),
                          empty_reason=f"no leads created in the period reached {'the lead' if start == 'lead' else start.removesuffix('_at').upper()} stage")
    return with_notes(result, small_sample_note(dataset, base, "leads"), dataset.filters.lead_notes)


def _cohort(dataset: Dataset) -> pd.Series:
    """Leads per step over every source of the window's cohort (once per scope, ``per_scope``: the lead metrics share it)."""
    return per_scope(dataset, "lead_cohort", lambda: lead_funnel(dataset).sum().reindex(list(FUNNEL_STEPS), fill_value=0))


def lead_to_mql_rate(dataset: Dataset) -> MetricResult:
    """Lead → MQL rate: leads created in the window that reached MQL by as_of ÷ leads created in the window.

    Unit: ratio. Edge cases: no leads created in the period → None with a reason. Source: seed 000 (stage 1→2
    progression rate).
    """
    return _step_rate(dataset, "lead_to_mql_rate", _cohort(dataset), "lead", "mql_at")


def mql_to_sql_rate(dataset: Dataset) -> MetricResult:
    """MQL → SQL rate: window leads that reached SQL ÷ window leads that reached MQL (stage rule in the module doc).

    Unit: ratio. Edge cases: no window lead reached MQL → None with a reason. Source: seed 000.
    """
    return _step_rate(dataset, "mql_to_sql_rate", _cohort(dataset), "mql_at", "sql_at")


def sql_to_customer_rate(dataset: Dataset) -> MetricResult:
    """SQL → customer rate: window leads won (with a customer id) by as_of ÷ window leads that reached SQL.

    Unit: ratio. Edge cases: no window lead reached SQL → None with a reason. Source: seed 000.
    """
    return _step_rate(dataset, "sql_to_customer_rate", _cohort(dataset), "sql_at", "won")


def lead_to_customer_rate(dataset: Dataset) -> MetricResult:
    """Lead → customer rate: leads created in the window that became customers by as_of ÷ leads created in the window.

    Unit: ratio. Recent leads have had less time to convert, so a window ending at as_of reads low; the
    result is a cohort rate, not a steady-state one. Edge cases: no leads → None. Source: seed 004
    (channel conversion rate).
    """
    return _step_rate(dataset, "lead_to_customer_rate", _cohort(dataset), "lead", "won")


def conversion_by_channel(dataset: Dataset) -> MetricResult:
    """Lead → customer rate overall, with a ``breakdown`` per ``leads.source`` (missing source → "(unknown)"), sorted by key.

    Unit: ratio. Each breakdown entry is the same cohort rule applied to that source's leads. Edge cases:
    no leads → None. Source: seed 004 ("channel conversion rate").
    """
    funnel = lead_funnel(dataset)
    overall = _step_rate(dataset, "conversion_by_channel", _cohort(dataset), "lead", "won")
    leads, won = funnel["lead"].tolist(), funnel["won"].tolist()  # per source, in the table's order
    breakdown = tuple((str(key), _step_rate(dataset, "conversion_by_channel", {"lead": n, "won": w}, "lead", "won"))
                      for key, n, w in zip(funnel.index, leads, won, strict=True))
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


CAC_READERS = ("cac", "cac_payback_months", "ltv_to_cac")
"""The metrics that read the registered ``cac`` result (``revenue._cac``)."""


def cac_results(datasets: Sequence[Dataset]) -> list[MetricResult] | None:
    """``cac`` of each of ``datasets`` — disjoint filtered scopes of one as_of and window (``lifecycle.metrics.grouped``:
    compare_segments' groups) — from the whole base's window signups (``common.whole_window_signups``) put in the
    whole base's row order once and labelled with the scope that keeps each (``common.kept_whole_customers``): each
    scope's costs are then its signups' costs in that order, which is the order ``cac`` sums them in (its signups'
    ``sort_index``: their positions among the scope's customers follow the whole base's rows) — so the same sum, count,
    notes and result as ``cac`` on each scope, without a signups frame per scope. None when the scopes overlap."""
    from lifecycle.metrics.grouped import mask_codes

    keeps = [kept_whole_customers(d) for d in datasets]
    codes = mask_codes(keeps, len(keeps[0]))
    if codes is None:
        return None
    signups = whole_window_signups(datasets[0])
    rows = signups.index.to_numpy(dtype="int64")
    order = np.argsort(rows, kind="stable")
    costs = signups["acquisition_cost"].iloc[order]
    groups = codes[rows[order]]
    results: list[MetricResult] = []
    for position, dataset in enumerate(datasets):
        spec_target = target(dataset, "cac")
        mine = costs[groups == position]
        if mine.empty:
            results.append(missing_result("cac", Unit.MONEY, dataset.scope, "no customers signed up in the period", spec_target))
            continue
        known = int(mine.notna().sum())
        if known == 0:
            results.append(missing_result("cac", Unit.MONEY, dataset.scope,
                                          "no acquisition_cost recorded for customers who signed up in the period", spec_target))
            continue
        missing = len(mine) - known
        result = ratio_result("cac", float(mine.fillna(0.0).sum()), float(len(mine)), Unit.MONEY, dataset.scope, spec_target)
        results.append(with_notes(result, f"{missing} of {len(mine)} new customers have no acquisition_cost (counted as no spend)"
                                  if missing else None, small_sample_note(dataset, len(mine))))
    return results


def _days_to_win(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Leads won in the window (``won_at`` set by as_of), counted per whole calendar days from ``created_at`` to
    ``won_at`` (both floored to the day: the first ten characters of the ISO text) — one ``GROUP BY`` in the database
    over (created day, won day), differenced here: the days (float; NaN without ``created_at``) and the leads of each."""
    if not dataset.has("leads"):
        return np.zeros(0), np.zeros(0, dtype="int64")
    cutoff = next_day_iso(dataset.as_of)
    scope, scope_params = _lead_scope(dataset)
    created, won = "SUBSTR(l.created_at, 1, 10)", "SUBSTR(l.won_at, 1, 10)"
    statement = (f"SELECT {created} AS created_day, {won} AS won_day, COUNT(*) AS leads FROM leads l "
                 f"WHERE {_set_by_as_of('won_at')} AND l.won_at >= ? AND l.won_at < ? AND l.created_at < ? AND {scope} "
                 f"GROUP BY {created}, {won}")
    params = [cutoff, dataset.window.start.isoformat(), next_day_iso(dataset.window.end), cutoff, *scope_params]
    frame = aggregate(dataset, statement, params, times=("created_day", "won_day"), counts=("leads",), table="leads")
    days = days_between(frame["won_day"], frame["created_day"]).to_numpy(dtype="float64", na_value=np.nan)
    return days, frame["leads"].to_numpy(dtype="int64")


def time_to_convert_days(dataset: Dataset) -> MetricResult:
    """Median days from lead creation to won, for leads won in the window.

    Unit: days (lower is better). Leads whose ``won_at`` precedes ``created_at`` are data errors and left out
    (counted in ``reason``). Edge cases: no lead won in the period → None. Source: seed 000 (progression
    velocity).
    """
    spec_target = target(dataset, "time_to_convert_days")
    days, leads = _days_to_win(dataset)
    invalid = int(leads[days < 0].sum())
    days = np.repeat(days[days >= 0], leads[days >= 0])
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
