"""Facts beyond the metric registry: stage distribution, progression drivers, health, at-risk, engagement by stage,
customer lifetime value, and the customers' own words (``lifecycle.facts.needs``: themes of NPS comments and tickets).

Each function turns one engine result into citable ``Fact`` values with stable ids (``stage.<id>.count``,
``driver.<transition>.<signal>.rate_with``, ``health.segment.<id>.count``, ``risk.value_at_stake``,
``engagement.<stage>.open_rate``, ``clv.expected_total``, ``retention.forecast.month_12``) tagged with the
framework sections they feed. ``lifecycle.facts.build_facts``
calls them in a fixed order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from lifecycle.clv.customer_value import (
    DEFAULT_DISCOUNT_RATE_ANNUAL,
    DEFAULT_HORIZON_MONTHS,
    LIKELY_LAPSED_BELOW,
    predict_customer_value,
    summarize_customer_value,
)
from lifecycle.clv.order_models import MODEL_LABELS
from lifecycle.clv.retention_forecast import COHORT_MONTHS
from lifecycle.clv.subscription_value import predict_subscription_value
from lifecycle.dataset import Dataset
from lifecycle.errors import ModelFitError, QueryError
from lifecycle.facts.fact import Fact, format_value
from lifecycle.facts.health_basis import HealthBasis, health_basis
from lifecycle.facts.needs import needs_facts
from lifecycle.health.risk import Reason, list_at_risk
from lifecycle.health.score import coverage_summary, explain_health, score_health
from lifecycle.metrics.engagement import engagement_by
from lifecycle.metrics.registry import FRAMEWORK_SECTIONS
from lifecycle.metrics.results import Unit
from lifecycle.scope import Scope, Window
from lifecycle.snapshot.build import snapshot_of
from lifecycle.stages.drivers import progression_drivers
from lifecycle.stages.verdict import classified_customers, stage_distribution

# Default-model stage ids are the framework's section ids; other models' stages feed the flow section.
TOP_SIGNALS_PER_TRANSITION = 3


def _fact(fid: str, label: str, value: float | None, unit: Unit, sections: tuple[str, ...], n: int | None = None,
          note: str | None = None, currency: str = "USD", detail: bool = False) -> Fact:
    return Fact(fid, label, value, unit.value, format_value(value, unit, currency), n, sections=sections + ("measurement",),
                note=note, detail=detail)


def _stage_sections(stage_id: str) -> tuple[str, ...]:
    return (stage_id, "flow", "overview") if stage_id in FRAMEWORK_SECTIONS else ("flow", "overview")


def stage_facts(dataset: Dataset) -> list[Fact]:
    """``stage.<id>.count`` and ``.share`` per stage and population (leads or customers), plus churned."""

    table = stage_distribution(dataset, dataset.stage_model)
    facts: list[Fact] = []
    for row in table.itertuples(index=False):
        suffix = f".{row.population}" if row.stage in ("unclassified",) else ""
        base = f"stage.{row.stage}{suffix}"
        label = f"{row.name} ({row.population})"
        share = None if pd.isna(row.share) else float(row.share)
        facts.append(_fact(f"{base}.count", f"{label}: count", float(row.count), Unit.COUNT, _stage_sections(row.stage)))
        facts.append(_fact(f"{base}.share", f"{label}: share of {row.population}", share, Unit.RATIO, _stage_sections(row.stage),
                           n=int(row.count), detail=True))
    return facts


def driver_facts(dataset: Dataset, top: int = TOP_SIGNALS_PER_TRANSITION) -> list[Fact]:
    """For each transition, the ``top`` signals with the largest |difference| (small samples skipped):
    rate with, rate without, difference (percentage points as a ratio) with the ends of its 95% interval
    (``difference_low`` / ``difference_high``), and lift."""

    report = progression_drivers(dataset, dataset.stage_model)
    facts: list[Fact] = []
    kept: dict[str, int] = {}
    for row in report.rows:
        if row.small_sample or row.difference is None or kept.get(row.transition, 0) >= top:
            continue
        kept[row.transition] = kept.get(row.transition, 0) + 1
        from_stage = row.transition.split("->")[0]
        sections = ("drivers",) + ((from_stage,) if from_stage in FRAMEWORK_SECTIONS else ())
        base = f"driver.{row.transition.replace('->', '_to_')}.{row.signal}"
        about = f"{row.transition} within {report.horizon_days} days, {row.signal_description}"
        note = "association, not causation"
        first = kept[row.transition] == 1
        facts += [
            _fact(f"{base}.rate_with", f"{about}: rate with signal", row.with_signal.rate, Unit.RATIO, sections, row.with_signal.n, note,
                  detail=not first),
            _fact(f"{base}.rate_without", f"{about}: rate without signal", row.without_signal.rate, Unit.RATIO, sections,
                  row.without_signal.n, note, detail=not first),
            replace(_fact(f"{base}.difference", f"{about}: difference (with − without), percentage points", row.difference,
                          Unit.RATIO, sections, row.with_signal.n + row.without_signal.n, note),
                    display=f"{row.difference * 100:+.1f} pts", detail=True),
        ]
        for end, bound in (("low", row.difference_low), ("high", row.difference_high)):
            if bound is not None:
                facts.append(replace(_fact(f"{base}.difference_{end}", f"{about}: 95% interval of the difference, {end} end "
                                           "(Newcombe hybrid score), percentage points", bound, Unit.RATIO, sections, None, note),
                                     display=f"{bound * 100:+.1f} pts", detail=True))
        if row.lift is not None:
            facts.append(_fact(f"{base}.lift", f"{about}: lift (with ÷ without)", row.lift, Unit.MULTIPLE, sections, None, note,
                               detail=True))
    return facts


def health_and_risk_facts(dataset: Dataset) -> list[Fact]:
    """Health bands and segments (counts and shares), mean health and how much of the profile's designed weight it
    rests on (``health.coverage.*``; a low-coverage or uncalibrated score says so in the notes), and the at-risk
    summary: customers on the at-risk list, customers with at least one risk reason, the value at stake (MRR, else
    expected CLV; None with the reason when the dataset has neither), and the count per reason."""

    basis = health_basis(dataset)  # a filtered scope: the whole base's rows of its customers
    if basis is None:
        return []
    table = basis.table
    profile = table.profile
    frame = table.frame
    n = len(frame)
    currency = dataset.config.revenue.currency
    coverage = coverage_summary(table)
    caveat = coverage.caveat()
    facts = [
        _fact("health.mean", f"Mean health score (0–100) of active customers, profile {profile.name}", float(frame["health"].mean()),
              Unit.SCORE, ("health", "adoption", "risk"), n, note=caveat),
        _fact("health.coverage.mean", "Share of the health profile's designed weight backed by data (mean over customers)",
              coverage.mean, Unit.RATIO, ("health",), n,
              note=f"components without data: {', '.join(coverage.without_data)}" if coverage.without_data else None),
        _fact("health.coverage.low.share", f"Active customers whose health rests on < {LOW_COVERAGE_PCT}% of the designed weight: share",
              coverage.low_share, Unit.RATIO, ("health",), n, detail=True),
    ]
    for band in ("red", "yellow", "green"):
        count = int((frame["band"] == band).sum())
        facts.append(_fact(f"health.band.{band}.share", f"Customers in the {band} health band: share", count / n, Unit.RATIO,
                           ("health", "risk"), count, note=caveat))
    for segment, count in frame["segment"].value_counts().sort_index().items():
        facts.append(_fact(f"health.segment.{segment}.count", f"Health segment {segment}: customers", float(count), Unit.COUNT,
                           ("health", "risk", "loyalty_advocacy" if segment == "champions" else "adoption")))
    value_column, value_label = _value_at_stake_column(basis)
    # the whole list in its order (rank_at_risk: what list_at_risk pages through), counted without building its items
    ranked = basis.at_risk(value_column or "mrr_current", profile.risk.min_risk)
    flags = np.column_stack([ranked.flags[r] for r in Reason]).astype(bool)
    total = len(ranked)
    facts.append(_fact("risk.listed", f"Customers on the at-risk list (risk ≥ {profile.risk.min_risk:g})", float(total),
                       Unit.COUNT, ("risk",), n))
    facts.append(_fact("risk.customers", "Customers with at least one risk reason", float(int(flags.any(axis=1).sum())),
                       Unit.COUNT, ("risk",), n))
    if value_column is None:
        facts.append(_fact("risk.value_at_stake", "Value at stake of customers on the at-risk list", None, Unit.MONEY,
                           ("risk", "growth_expansion"), total, currency=currency,
                           note="no revenue data: value at stake needs subscriptions (MRR) or orders (expected CLV)"))
    else:
        value = float(sum(v for v in ranked.value.tolist() if v == v))  # in list order, as the items add up
        facts.append(_fact("risk.value_at_stake", f"{value_label} of customers on the at-risk list", value, Unit.MONEY,
                           ("risk", "growth_expansion"), total, currency=currency))
    reasons = {r.value: int(count) for r, count in zip(Reason, flags.sum(axis=0)) if count}
    for code in sorted(reasons):
        facts.append(_fact(f"risk.reason.{code}.count", f"At-risk customers with reason {code}", float(reasons[code]), Unit.COUNT,
                           ("risk",), detail=True))
    return facts


LOW_COVERAGE_PCT = 50


def _value_at_stake_column(basis: HealthBasis) -> tuple[str | None, str]:
    """The snapshot column that measures what a customer is worth, and its label: MRR with subscription data, else
    expected CLV with order data, else (None, "") — no revenue signal at all (for the scope's live customers)."""
    for column, label in (("mrr_current", "MRR"), ("expected_clv", "Expected 12-month CLV")):
        if basis.has_values(column):
            return column, label
    return None, ""


def engagement_by_stage_facts(dataset: Dataset) -> list[Fact]:
    """Open and click rates of touches sent in the window, per customer stage (``engagement.<stage>.*``)."""

    if not dataset.has("touches"):
        return []
    classified = classified_customers(dataset, dataset.stage_model)
    key = pd.Series(classified["stage"].to_numpy(), index=classified["customer_id"].astype(str))
    facts: list[Fact] = []
    for row in engagement_by(dataset, key, "stage"):
        if not row.sends:
            continue
        sections = ("engagement",) + ((row.key,) if row.key in FRAMEWORK_SECTIONS else ())
        facts.append(_fact(f"engagement.{row.key}.open_rate", f"Open rate of touches to {row.key} customers", row.open_rate,
                           Unit.RATIO, sections, row.sends))
        facts.append(_fact(f"engagement.{row.key}.click_rate", f"Click rate of touches to {row.key} customers", row.click_rate,
                           Unit.RATIO, sections, row.sends, detail=True))
    return facts


TOP_CLV_SEGMENTS = 3
CLV_SECTIONS = ("growth_expansion", "overview")


def clv_facts(dataset: Dataset) -> list[Fact]:
    """Customer lifetime value at the models' defaults (12 months, 10 %/yr): order facts (``clv.*``, the order model
    the holdout check chooses + Gamma-Gamma, :func:`~lifecycle.clv.customer_value.predict_customer_value`) when the
    dataset has orders,
    subscription facts (``retention.forecast.month_12``, ``clv.subscribers.*``, sBG,
    :func:`~lifecycle.clv.subscription_value.predict_subscription_value`) when it has subscriptions. A model that
    cannot be fitted gives its headline facts as None with the reason; with neither table, ``clv.expected_total`` is
    None and says what data would unlock it."""
    facts: list[Fact] = []
    if dataset.has("orders"):
        facts += _order_value_facts(dataset)
    if dataset.has("subscriptions"):
        facts += _subscription_value_facts(dataset)
    if not facts:
        facts.append(_fact("clv.expected_total", "Expected CLV of current customers", None, Unit.MONEY, CLV_SECTIONS,
                           note="no orders or subscriptions: CLV needs orders (BG/NBD) or subscriptions (sBG)"))
    return facts


def _terms(horizon_months: int, discount_rate_annual: float) -> str:
    return f"next {horizon_months} months, {discount_rate_annual * 100:g} %/yr discount"


def _reason(error: Exception) -> str:
    """The error's first sentence; a fit failure's only up to its first colon (the details overflow a fact line)."""
    reason = str(error).split(". Data:")[0]
    return reason.split(": ")[0] if isinstance(error, ModelFitError) and len(reason) > 100 else reason


def _order_value_facts(dataset: Dataset) -> list[Fact]:
    """``clv.customers``, ``clv.expected_total``, ``clv.expected_purchases.total``, ``clv.p_alive.median``,
    ``clv.likely_lapsed.count`` and ``.share`` (P(alive) below ``LIKELY_LAPSED_BELOW``), and the top
    ``TOP_CLV_SEGMENTS`` RFM segments by summed CLV (``clv.segment.<name>.expected_total`` and ``.customers``)."""

    currency = dataset.config.revenue.currency
    terms = _terms(DEFAULT_HORIZON_MONTHS, DEFAULT_DISCOUNT_RATE_ANNUAL)
    lapsed = f"Customers likely lapsed (P(alive) < {LIKELY_LAPSED_BELOW:.0%})"
    try:
        table = predict_customer_value(dataset)
    except (ModelFitError, QueryError) as failure:
        note = f"no CLV model: {_reason(failure)}"
        return [_fact("clv.expected_total", f"Expected CLV of current customers, {terms}", None, Unit.MONEY, CLV_SECTIONS,
                      note=note, currency=currency),
                _fact("clv.likely_lapsed.share", f"{lapsed}: share of customers modelled", None, Unit.RATIO,
                      ("risk", "loyalty_advocacy"), note=note)]
    summary = summarize_customer_value(table)
    n = summary.customers
    terms = _terms(table.horizon_months, table.discount_rate_annual)
    label = MODEL_LABELS.get(table.transactions.model, table.transactions.model)
    model = label + (" + Gamma-Gamma" if table.spend is not None else "")
    penalised = "penalised refit (MAP estimate)" if table.transactions.penalized else None
    notes = "; ".join(note for note in (model, penalised, table.spend_note) if note)
    modelled = int(table.frame["p_alive"].notna().sum())
    facts = [
        _fact("clv.customers", "Customers with kept orders, modelled for CLV", float(n), Unit.COUNT, CLV_SECTIONS, detail=True),
        _fact("clv.expected_total", f"Expected CLV of current customers, {terms}", summary.total_clv, Unit.MONEY, CLV_SECTIONS,
              n, notes, currency),
        _fact("clv.expected_purchases.total", f"Expected purchases of current customers, next {table.horizon_months} months",
              float(table.frame["expected_purchases"].sum()), Unit.COUNT, ("growth_expansion",), n, model, detail=True),
        _fact("clv.p_alive.median", f"Median P(alive) of customers modelled ({label})", summary.p_alive_quantiles["p50"],
              Unit.RATIO, ("loyalty_advocacy", "health"), modelled, detail=True),
        _fact("clv.likely_lapsed.count", lapsed, float(summary.likely_lapsed), Unit.COUNT, ("risk", "loyalty_advocacy"),
              modelled, detail=True),
        _fact("clv.likely_lapsed.share", f"{lapsed}: share of customers modelled",
              summary.likely_lapsed / modelled if modelled else None, Unit.RATIO, ("risk", "loyalty_advocacy"), modelled,
              "; ".join((label, *table.warnings))),
    ]
    top = sorted(summary.segments, key=lambda s: -s.clv)[:TOP_CLV_SEGMENTS]  # stable: ties keep SEGMENT_RULES order
    for segment in top:
        base = f"clv.segment.{segment.segment}"
        facts += [
            _fact(f"{base}.expected_total", f"Expected CLV of RFM segment {segment.segment}, {terms}", segment.clv, Unit.MONEY,
                  ("growth_expansion",), segment.customers, currency=currency, detail=True),
            _fact(f"{base}.customers", f"Customers in RFM segment {segment.segment}", float(segment.customers), Unit.COUNT,
                  ("growth_expansion",), detail=True),
        ]
    return facts


def _subscription_value_facts(dataset: Dataset) -> list[Fact]:
    """``retention.forecast.month_12`` and ``clv.new_customer_paid_months`` (sBG forecast of the signup cohorts), and
    ``clv.subscribers.count`` and ``.residual_value`` (current subscribers' discounted expected payments)."""

    # The sBG is fitted on the signup cohorts of COHORT_MONTHS months, as predict_clv does, whatever the bundle's window.
    dataset = dataset.rescoped(Scope(dataset.as_of, Window.trailing_months(dataset.as_of, COHORT_MONTHS), dataset.filters))
    currency = dataset.config.revenue.currency
    terms = _terms(DEFAULT_HORIZON_MONTHS, DEFAULT_DISCOUNT_RATE_ANNUAL)
    retained = "Share of a new signup cohort still paying after 12 months (sBG forecast)"
    residual = "Expected payments of current subscribers, {terms} (current MRR held flat, sBG)"
    try:
        table = predict_subscription_value(dataset)
    except (ModelFitError, QueryError) as failure:
        note = f"no sBG forecast: {_reason(failure)}"
        return [_fact("retention.forecast.month_12", retained, None, Unit.RATIO, ("loyalty_advocacy", "overview"), note=note),
                _fact("clv.subscribers.residual_value", residual.format(terms=terms), None, Unit.MONEY, CLV_SECTIONS,
                      note=note, currency=currency)]
    forecast = table.forecast
    terms = _terms(forecast.horizon_months, forecast.discount_rate_annual)
    fit = f"sBG fitted on {forecast.cohorts} signup cohorts"
    month_12 = forecast.survival[11] if len(forecast.survival) >= 12 else None
    n = len(table.frame)
    return [
        _fact("retention.forecast.month_12", retained, month_12, Unit.RATIO, ("loyalty_advocacy", "overview"), forecast.fit.n, fit),
        _fact("clv.new_customer_paid_months", f"A new customer's expected paid months, {terms}", forecast.expected_paid_months,
              Unit.MONTHS, ("growth_expansion",), forecast.fit.n, fit, detail=True),
        _fact("clv.subscribers.count", "Current paying subscribers (MRR > 0 on as_of)", float(n), Unit.COUNT, CLV_SECTIONS,
              detail=True),
        _fact("clv.subscribers.residual_value", residual.format(terms=terms), table.total_residual_value, Unit.MONEY,
              CLV_SECTIONS, n, fit, currency),
    ]


SOURCES = (stage_facts, driver_facts, health_and_risk_facts, engagement_by_stage_facts, clv_facts, needs_facts)


def customer_facts(dataset: Dataset, customer_id: str) -> list[Fact]:
    """One customer's numbers for an intervention plan (``customer.*``): health and its components, MRR and
    its 90-day change, usage in the last 30 days vs the 30 before, days since last activity, latest NPS, open
    high-priority tickets, overdue invoices, and the risk score with each reason's severity."""

    snapshot = snapshot_of(dataset)
    rows = snapshot[snapshot["customer_id"].astype(str) == customer_id]
    if rows.empty:
        raise QueryError(f"no customer {customer_id!r} in scope on {dataset.as_of}")
    table = score_health(snapshot, dataset.health_profile)
    explanation = explain_health(table, customer_id)
    row = rows.iloc[0]
    currency = dataset.config.revenue.currency
    sections = ("risk", "customer")

    def number(column: str) -> float | None:
        value = row.get(column)
        return None if value is None or pd.isna(value) else float(value)

    facts = [_fact("customer.health", "Health score (0–100)", explanation.health, Unit.SCORE, sections)]
    for component in explanation.components:
        facts.append(_fact(f"customer.health.{component.name}", f"Health component {component.name} (0–100)", component.score,
                           Unit.SCORE, sections, note=component.excluded_reason))
    for column, label, unit in (
        ("mrr_current", "MRR now", Unit.MONEY), ("mrr_change_90d", "MRR change over 90 days", Unit.MONEY),
        ("events_30d", "Usage events, last 30 days", Unit.COUNT), ("events_prev_30d", "Usage events, the 30 days before", Unit.COUNT),
        ("usage_change_30d", "Usage change vs the prior 30 days", Unit.RATIO),
        ("days_since_last_event", "Days since last activity", Unit.DAYS), ("nps_latest", "Latest NPS score (0–10)", Unit.SCORE),
        ("tickets_open_high", "Open high-priority tickets", Unit.COUNT), ("invoices_overdue_now", "Overdue invoices", Unit.COUNT),
        ("tenure_days", "Tenure", Unit.DAYS),
    ):
        if column in row.index:
            facts.append(_fact(f"customer.{column}", label, number(column), unit, sections, currency=currency))
    page = list_at_risk(snapshot[snapshot["customer_id"].astype(str) == customer_id].reset_index(drop=True), table, limit=1)
    if page.items:
        item = page.items[0]
        facts.append(_fact("customer.risk", "Risk (0–1)", item.risk, Unit.RATIO, sections))
        for reason in item.reasons:
            facts.append(_fact(f"customer.reason.{reason.code.value}.severity", f"Severity of reason {reason.code.value}",
                               reason.severity, Unit.RATIO, sections, note=reason.play))
    return facts


def top_at_risk(dataset: Dataset, n: int) -> list[tuple[str, dict[str, object]]]:
    """The ``n`` customers ranked first by the at-risk list, each with its fenced-to-be free-text subject:
    name, company, segment, plan, reason codes and the suggested play."""

    snapshot = snapshot_of(dataset)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    page = list_at_risk(alive, score_health(alive, dataset.health_profile), limit=n)
    customers = dataset.customers().set_index("customer_id")
    out = []
    for item in page.items:
        info = customers.loc[item.customer_id] if item.customer_id in customers.index else None
        subject: dict[str, object] = {
            "customer_id": item.customer_id,
            "name": None if info is None else info.get("name"),
            "company": None if info is None else info.get("company"),
            "segment": item.segment, "plan": item.plan,
            "reasons": ", ".join(r.code.value for r in item.reasons), "suggested play": item.suggested_play,
        }
        out.append((item.customer_id, {k: v for k, v in subject.items() if v is not None and not (isinstance(v, float) and pd.isna(v))}))
    return out
