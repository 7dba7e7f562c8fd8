"""Revenue metrics: MRR, ARR, ARPA, the MRR movements, NRR/GRR, MRR churn rates, quick ratio, LTV and CAC.

All of them read the MRR bridge of ``lifecycle.metrics.revenue_movements`` (conventions and sources there). Time:
point-in-time metrics (mrr, arr, arpa) are read on ``as_of``; flow metrics sum or average the *complete
calendar months lying wholly inside the window* (default: trailing 12 months ending ``as_of``, so an
``as_of`` on a month-end gives 12 months and a mid-month ``as_of`` gives 11); NRR/GRR follow the cohort paying
the day before the window starts up to the window end (or ``as_of``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.dataset import Dataset
from lifecycle.metrics.common import few_events_note, per_scope, small_sample_note, with_notes
from lifecycle.metrics.registry import SEED_002, MetricDefinition, MetricGroup, compute_metric, definition
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result
from lifecycle.metrics.revenue_movements import (
    MonthMovements,
    Movement,
    cohort_retention,
    monthly_logo_churn,
    mrr_values_on,
    revenue_movements,
)

if TYPE_CHECKING:
    import numpy as np

CHARTMOGUL = "ChartMogul SaaS metrics (MRR movements)"
BAREMETRICS = "Baremetrics academy"
NO_MONTHS = "the period holds no complete calendar month up to as_of"
NO_SUBSCRIPTIONS = "no subscriptions for the selected customers"


def _missing(dataset: Dataset, metric_id: str, reason: str) -> MetricResult:
    spec = definition(metric_id)
    return missing_result(metric_id, spec.unit, dataset.scope, reason, spec.target_for(dataset))


def _result(dataset: Dataset, metric_id: str, value: float | None, sample_size: int, numerator: float | None = None,
            denominator: float | None = None, reason: str | None = None) -> MetricResult:
    spec = definition(metric_id)
    return MetricResult(metric_id=metric_id, value=value, unit=spec.unit, scope=dataset.scope, sample_size=int(sample_size),
                        numerator=numerator, denominator=denominator, target=spec.target_for(dataset), reason=reason)


@dataclass(frozen=True)
class _PointInTime:
    mrr: float
    paying: int

    @property
    def arpa(self) -> float | None:
        return self.mrr / self.paying if self.paying else None


def _point_in_time(dataset: Dataset) -> _PointInTime | None:
    """MRR on as_of and paying customers (None without subscriptions), once per scope (``per_scope``: MRR, ARR, ARPA
    and CAC payback read it) from the customers' MRR on as_of (``mrr_values_on``)."""
    return per_scope(dataset, "point_in_time", lambda: _point_in_time_of(mrr_values_on(dataset, dataset.as_of)))


def _point_in_time_of(values: np.ndarray) -> _PointInTime | None:
    if not len(values):
        return None
    return _PointInTime(math.fsum(values), int((values > 0).sum()))


def mrr(dataset: Dataset) -> MetricResult:
    """Monthly recurring revenue on ``as_of``: Σ mrr of subscriptions with start ≤ as_of < end.

    Source: ChartMogul / Baremetrics MRR. None when the scope has no subscriptions; sample size = paying customers.
    """
    now = _point_in_time(dataset)
    if now is None:
        return _missing(dataset, "mrr", NO_SUBSCRIPTIONS)
    return _result(dataset, "mrr", now.mrr, now.paying)


def arr(dataset: Dataset) -> MetricResult:
    """Annual run-rate: ARR = 12 × MRR on ``as_of``. Source: ChartMogul ARR."""
    now = _point_in_time(dataset)
    if now is None:
        return _missing(dataset, "arr", NO_SUBSCRIPTIONS)
    return _result(dataset, "arr", 12.0 * now.mrr, now.paying)


def arpa(dataset: Dataset) -> MetricResult:
    """Average revenue per account: MRR on ``as_of`` ÷ customers paying (MRR > 0) on ``as_of``. Source: ChartMogul ARPA."""
    now = _point_in_time(dataset)
    if now is None:
        return _missing(dataset, "arpa", NO_SUBSCRIPTIONS)
    if not now.paying:
        return _result(dataset, "arpa", None, 0, now.mrr, 0.0, reason="no paying customers on as_of")
    return _result(dataset, "arpa", now.arpa, now.paying, now.mrr, float(now.paying))


def _window_rows(dataset: Dataset) -> tuple[MonthMovements, ...] | None:
    """Complete months of the bridge inside the window; None when the scope has no subscriptions."""
    table = revenue_movements(dataset)
    return table.complete_in(dataset.window) if table.rows else None


def _movement_total(movement: Movement) -> Callable[[Dataset], MetricResult]:
    metric_id = f"{'churned' if movement is Movement.CHURN else movement.value}_mrr"

    def compute(dataset: Dataset) -> MetricResult:
        rows = _window_rows(dataset)
        if rows is None:
            return _missing(dataset, metric_id, NO_SUBSCRIPTIONS)
        if not rows:
            return _missing(dataset, metric_id, NO_MONTHS)
        total = math.fsum(r.amount(movement) for r in rows)
        return _result(dataset, metric_id, total, sum(r.count(movement) for r in rows))

    compute.__name__ = metric_id
    compute.__doc__ = (f"{movement.value.capitalize()} MRR summed over the complete months in the window "
                       f"(see lifecycle.metrics.revenue_movements.classify); sample size = customer-months with that movement. "
                       f"Source: ChartMogul MRR movements.")
    return compute


def _cohort_result(dataset: Dataset, metric_id: str) -> MetricResult:
    if dataset.window.start > dataset.as_of:
        return _missing(dataset, metric_id, "the period starts after as_of")
    cohort = cohort_retention(dataset)
    if cohort.starting_mrr <= 0:
        return _missing(dataset, metric_id, f"no customer was paying at the period start ({cohort.start_day.isoformat()})")
    numerator = cohort.ending_mrr if metric_id == "nrr" else cohort.retained_mrr
    result = _result(dataset, metric_id, numerator / cohort.starting_mrr, cohort.customers, numerator, cohort.starting_mrr)
    return with_notes(result, small_sample_note(dataset, cohort.customers, "accounts in the starting cohort"))


def nrr(dataset: Dataset) -> MetricResult:
    """Net revenue retention of the starting cohort (customers paying the day before the window starts).

    NRR = cohort MRR at window end ÷ cohort MRR at window start
        = 1 + (expansion + reactivation − contraction − churn) ÷ starting MRR, cohort only (new customers excluded).
    Source: ChartMogul "Net MRR retention"; seed 002 formula (MRR + expansion − churn) ÷ MRR, target 100–120%+.
    """
    return _cohort_result(dataset, "nrr")


def grr(dataset: Dataset) -> MetricResult:
    """Gross revenue retention of the starting cohort: Σ min(MRR at end, MRR at start) ÷ Σ MRR at start.

    Each member's retained MRR is capped at its starting MRR, so expansion and reactivation never lift GRR
    above what contraction and churn removed; GRR ≤ min(1, NRR). Source: ChartMogul "Gross MRR retention";
    seed 002 (retained MRR ÷ starting MRR, target 85–95%).
    """
    return _cohort_result(dataset, "grr")


def _monthly_rate(dataset: Dataset, metric_id: str, numerator: Callable[[MonthMovements], float]) -> MetricResult:
    rows = _window_rows(dataset)
    if rows is None:
        return _missing(dataset, metric_id, NO_SUBSCRIPTIONS)
    usable = [r for r in rows if r.starting_mrr > 0]
    if not usable:
        return _missing(dataset, metric_id, NO_MONTHS if not rows else "no MRR at the start of any complete month in the period")
    rate_sum = math.fsum(numerator(r) / r.starting_mrr for r in usable)
    return _result(dataset, metric_id, rate_sum / len(usable), len(usable), rate_sum, float(len(usable)))


def gross_mrr_churn_rate(dataset: Dataset) -> MetricResult:
    """Monthly gross MRR churn rate: mean over complete months in the window of (churn + contraction) ÷ starting MRR.

    Months with no starting MRR are skipped. numerator = Σ monthly rates, denominator = months. Source:
    Baremetrics "Revenue churn"; ChartMogul "Gross MRR churn rate".
    """
    return _monthly_rate(dataset, "gross_mrr_churn_rate", lambda r: r.churn + r.contraction)


def net_mrr_churn_rate(dataset: Dataset) -> MetricResult:
    """Monthly net MRR churn rate: mean of (churn + contraction − expansion − reactivation) ÷ starting MRR.

    Negative when expansion outgrows losses ("negative churn"). Source: ChartMogul "Net MRR churn rate".
    """
    return _monthly_rate(dataset, "net_mrr_churn_rate", lambda r: r.churn + r.contraction - r.expansion - r.reactivation)


def quick_ratio(dataset: Dataset) -> MetricResult:
    """SaaS quick ratio, Mamoon Hamid (Social Capital) variant: (new + expansion + reactivation) ÷ (churn + contraction).

    Summed over the complete months in the window. None when nothing was lost (the ratio is unbounded).
    Source: Mamoon Hamid, "The SaaS quick ratio" (2015); a healthy early-stage company is commonly quoted at ≥ 4.
    """
    rows = _window_rows(dataset)
    if rows is None:
        return _missing(dataset, "quick_ratio", NO_SUBSCRIPTIONS)
    if not rows:
        return _missing(dataset, "quick_ratio", NO_MONTHS)
    gained = math.fsum(r.new + r.expansion + r.reactivation for r in rows)
    lost = math.fsum(r.churn + r.contraction for r in rows)
    movers = sum(r.count(k) for r in rows for k in Movement)
    if lost <= 0:
        return _result(dataset, "quick_ratio", None, movers, gained, lost, "no churned or contracted MRR in the period: the ratio is unbounded")
    return _result(dataset, "quick_ratio", gained / lost, movers, gained, lost)


@dataclass(frozen=True)
class _Ltv:
    value: float | None
    margin_arpa: float | None
    churn_rate: float | None
    paying: int
    reason: str | None
    caveat: str | None = None


def _ltv(dataset: Dataset) -> _Ltv | None:
    now = _point_in_time(dataset)
    rows = _window_rows(dataset)
    if now is None or rows is None:
        return None
    margin_arpa = now.arpa * dataset.config.revenue.gross_margin if now.arpa is not None else None
    churn = monthly_logo_churn(rows)
    reason = None
    caveat = few_events_note(dataset, churn.churned) if churn.paying_at_start else None
    if margin_arpa is None:
        reason = "no paying customers on as_of"
    elif churn.rate is None:
        reason = NO_MONTHS if not rows else "nobody was paying at the start of any complete month in the period"
    elif churn.rate == 0:
        reason = "no customer churned in the period: lifetime (and LTV) is unbounded"
    value = margin_arpa / churn.rate if reason is None else None  # type: ignore[operator]
    return _Ltv(value, margin_arpa, churn.rate, now.paying, reason, caveat)


def ltv(dataset: Dataset) -> MetricResult:
    """Simple customer lifetime value: LTV = ARPA × gross margin ÷ monthly logo churn rate.

    ARPA on ``as_of``; gross margin from ``revenue.gross_margin``; the logo churn rate is the displayed
    ``logo_churn_rate`` — one definition, ``revenue_movements.monthly_logo_churn``: Σ customers churned ÷ Σ customers
    at risk over the complete months in the window. None when nobody churned; flagged as a small sample when fewer
    than ``small_events`` customers churned. Source: ChartMogul "LTV"; Baremetrics "LTV". numerator = ARPA × margin,
    denominator = churn rate.
    """
    found = _ltv(dataset)
    if found is None:
        return _missing(dataset, "ltv", NO_SUBSCRIPTIONS)
    result = _result(dataset, "ltv", found.value, found.paying, found.margin_arpa, found.churn_rate, found.reason)
    return with_notes(result, found.caveat) if found.value is not None else result


def _cac(dataset: Dataset) -> MetricResult:
    """The registered ``cac`` metric (lifecycle.metrics.funnel): one CAC definition for the whole catalogue."""
    return compute_metric(dataset, "cac")


def ltv_to_cac(dataset: Dataset) -> MetricResult:
    """LTV ÷ CAC, with LTV as in ``ltv`` and CAC the registered ``cac`` metric (Σ acquisition_cost ÷ customers
    who signed up in the window). Commonly read against 3:1. Source: ChartMogul "LTV:CAC ratio"."""
    found = _ltv(dataset)
    if found is None:
        return _missing(dataset, "ltv_to_cac", NO_SUBSCRIPTIONS)
    acquisition = _cac(dataset)
    if acquisition.value is None:
        return _result(dataset, "ltv_to_cac", None, 0, found.value, None, f"CAC unavailable: {acquisition.reason}")
    if found.value is None:
        return _result(dataset, "ltv_to_cac", None, acquisition.sample_size, None, acquisition.value, f"LTV unavailable: {found.reason}")
    if acquisition.value <= 0:
        return _result(dataset, "ltv_to_cac", None, acquisition.sample_size, found.value, acquisition.value, "CAC is zero: the ratio is unbounded")
    return _result(dataset, "ltv_to_cac", found.value / acquisition.value, acquisition.sample_size, found.value, acquisition.value)


def cac_payback_months(dataset: Dataset) -> MetricResult:
    """Months to recover CAC from gross-margin revenue: CAC ÷ (ARPA × gross margin), CAC being the registered
    ``cac`` metric and ARPA read on ``as_of``. Source: ChartMogul "CAC payback period"."""
    now = _point_in_time(dataset)
    if now is None:
        return _missing(dataset, "cac_payback_months", NO_SUBSCRIPTIONS)
    acquisition = _cac(dataset)
    if acquisition.value is None:
        return _result(dataset, "cac_payback_months", None, 0, None, None, f"CAC unavailable: {acquisition.reason}")
    if now.arpa is None:
        return _result(dataset, "cac_payback_months", None, acquisition.sample_size, acquisition.value, None, "no paying customers on as_of")
    margin_arpa = now.arpa * dataset.config.revenue.gross_margin
    return _result(dataset, "cac_payback_months", acquisition.value / margin_arpa, acquisition.sample_size, acquisition.value, margin_arpa)


_SUBS = ("subscriptions",)
_FLOW = "summed over complete calendar months inside the period"


def _money_flow(movement: Movement, name: str, text: str, higher_is_better: bool,
                sections: tuple[str, ...] = ()) -> MetricDefinition:
    metric_id = f"{'churned' if movement is Movement.CHURN else movement.value}_mrr"
    return MetricDefinition(
        id=metric_id, name=name, group=MetricGroup.REVENUE, formula=f"Σ {text}, {_FLOW}", unit=Unit.MONEY,
        numerator=None, denominator=None, required_tables=_SUBS, source=CHARTMOGUL, compute=_movement_total(movement),
        higher_is_better=higher_is_better, sections=sections,
    )


DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="mrr", name="Monthly recurring revenue", group=MetricGroup.REVENUE,
        formula="Σ mrr of subscriptions active on as_of (start ≤ as_of < end)", unit=Unit.MONEY, numerator=None,
        denominator=None, required_tables=_SUBS, source=f"{CHARTMOGUL}; {BAREMETRICS}", compute=mrr, sections=("growth_expansion",),
    ),
    MetricDefinition(
        id="arr", name="Annual recurring revenue (run rate)", group=MetricGroup.REVENUE, formula="12 × MRR on as_of",
        unit=Unit.MONEY, numerator=None, denominator=None, required_tables=_SUBS, source=CHARTMOGUL, compute=arr,
    ),
    MetricDefinition(
        id="arpa", name="Average revenue per account", group=MetricGroup.REVENUE,
        formula="MRR on as_of ÷ customers with MRR > 0 on as_of", unit=Unit.MONEY, numerator="MRR on as_of",
        denominator="paying customers on as_of", required_tables=_SUBS, source=CHARTMOGUL, compute=arpa, sections=("growth_expansion",),
    ),
    _money_flow(Movement.NEW, "New MRR", "MRR of customers paying for the first time (0 → > 0, never paid before)", True),
    _money_flow(Movement.EXPANSION, "Expansion MRR", "MRR increase of paying customers (0 < prev < cur)", True,
                ("growth_expansion",)),
    _money_flow(Movement.CONTRACTION, "Contraction MRR", "MRR decrease of customers still paying (0 < cur < prev)", False,
                ("growth_expansion",)),
    _money_flow(Movement.CHURN, "Churned MRR", "MRR lost by customers whose MRR fell to 0", False),
    _money_flow(Movement.REACTIVATION, "Reactivation MRR", "MRR of previously churned customers paying again", True),
    MetricDefinition(
        id="nrr", name="Net revenue retention", group=MetricGroup.REVENUE,
        formula="starting cohort's MRR at period end ÷ its MRR at period start = 1 + (expansion + reactivation − contraction − churn) ÷ starting MRR",
        unit=Unit.RATIO, numerator="cohort MRR at period end", denominator="cohort MRR at period start (customers paying the day before it)",
        required_tables=_SUBS, source=f"ChartMogul net MRR retention; {SEED_002}", compute=nrr, sections=("growth_expansion",),
        target=TargetBand(1.00, 1.20, SEED_002, open_ended_high=True),
    ),
    MetricDefinition(
        id="grr", name="Gross revenue retention", group=MetricGroup.REVENUE,
        formula="Σ min(MRR at period end, MRR at period start) ÷ Σ MRR at period start, over the starting cohort",
        unit=Unit.RATIO, numerator="cohort MRR retained, capped per customer at its starting MRR",
        denominator="cohort MRR at period start", required_tables=_SUBS,
        source=f"ChartMogul gross MRR retention; {SEED_002}", compute=grr, sections=("adoption",),
        target=TargetBand(0.85, 0.95, SEED_002, open_ended_high=True),
    ),
    MetricDefinition(
        id="gross_mrr_churn_rate", name="Gross MRR churn rate (monthly)", group=MetricGroup.REVENUE,
        formula="mean over complete months in the period of (churned + contraction MRR) ÷ MRR at month start",
        unit=Unit.RATIO, numerator="Σ monthly rates", denominator="complete months with MRR at their start",
        required_tables=_SUBS, source=f"{BAREMETRICS} revenue churn; ChartMogul", compute=gross_mrr_churn_rate, higher_is_better=False,
    ),
    MetricDefinition(
        id="net_mrr_churn_rate", name="Net MRR churn rate (monthly)", group=MetricGroup.REVENUE,
        formula="mean over complete months of (churned + contraction − expansion − reactivation MRR) ÷ MRR at month start; may be negative",
        unit=Unit.RATIO, numerator="Σ monthly rates", denominator="complete months with MRR at their start",
        required_tables=_SUBS, source="ChartMogul net MRR churn rate", compute=net_mrr_churn_rate, higher_is_better=False, sections=("growth_expansion",),
    ),
    MetricDefinition(
        id="quick_ratio", name="SaaS quick ratio (Mamoon Hamid)", group=MetricGroup.REVENUE,
        formula="(new + expansion + reactivation MRR) ÷ (churned + contraction MRR), over complete months in the period",
        unit=Unit.MULTIPLE, numerator="MRR gained", denominator="MRR lost", required_tables=_SUBS,
        source="Mamoon Hamid, The SaaS Quick Ratio (Social Capital, 2015)", compute=quick_ratio, sections=("growth_expansion",),
    ),
    MetricDefinition(
        id="ltv", name="Customer lifetime value (simple)", group=MetricGroup.REVENUE,
        formula="ARPA × gross margin ÷ logo_churn_rate (the displayed monthly logo churn: Σ churned ÷ Σ paying at month start over the complete months of the period)",
        unit=Unit.MONEY, numerator="ARPA × gross margin", denominator="monthly logo churn rate", required_tables=_SUBS,
        source=f"ChartMogul LTV; {BAREMETRICS} LTV", compute=ltv, sections=("growth_expansion",),
    ),
    MetricDefinition(
        id="ltv_to_cac", name="LTV to CAC ratio", group=MetricGroup.REVENUE,
        formula="LTV ÷ CAC; CAC as the cac metric (Σ acquisition_cost ÷ customers who signed up in the period)",
        unit=Unit.MULTIPLE, numerator="LTV", denominator="CAC", required_tables=_SUBS,
        source="ChartMogul LTV:CAC ratio", compute=ltv_to_cac, sections=("growth_expansion",),
    ),
    MetricDefinition(
        id="cac_payback_months", name="CAC payback period", group=MetricGroup.REVENUE,
        formula="CAC ÷ (ARPA × gross margin)", unit=Unit.MONTHS, numerator="CAC", denominator="ARPA × gross margin",
        required_tables=_SUBS, source="ChartMogul CAC payback period", compute=cac_payback_months, higher_is_better=False, sections=("purchase_onboarding",),
    ),
)
