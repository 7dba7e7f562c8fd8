"""The CLV report of a scope — what ``lifecycle clv`` prints and writes.

``clv_report(dataset, model, horizon_months, discount_rate_annual, calibration_end)``:

- order-based data (``model`` ``auto``, ``bg_nbd``, ``mbg_nbd`` or ``pareto_nbd``):
  :func:`lifecycle.clv.customer_value.predict_customer_value` — the transaction model's fit (parameters,
  log-likelihood, customers, convergence, penalty), the other models' fits, the Gamma-Gamma spend fit (or why the
  observed mean is used), why this model (``model_choice``), the calibration/holdout check by calibration frequency
  0…7+ (:mod:`lifecycle.clv.holdout_check`, or why it could not run), warnings, the population summary
  (:func:`~lifecycle.clv.customer_value.summarize_customer_value`) and the per-customer predictions ranked by
  expected CLV (:func:`~lifecycle.clv.customer_value.rank_customer_value`);
- subscription data (``sbg``, and ``auto`` without orders): the shifted-beta-geometric fit on the signup cohorts of
  the ``COHORT_MONTHS`` months ending on as_of (:mod:`lifecycle.clv.subscription_value`), the projected retention,
  and every current subscriber's renewal probability and residual value, ranked by residual value.

``to_dict`` is the JSON document (``lifecycle clv --json``); money is in ``currency``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from lifecycle.clv.customer_value import (
    DEFAULT_DISCOUNT_RATE_ANNUAL,
    DEFAULT_HORIZON_MONTHS,
    FitReport,
    predict_customer_value,
    rank_customer_value,
    summarize_customer_value,
)
from lifecycle.clv.holdout_check import HoldoutCheck
from lifecycle.clv.retention_forecast import COHORT_MONTHS
from lifecycle.clv.subscription_value import predict_subscription_value, rank_subscription_value
from lifecycle.errors import QueryError
from lifecycle.metrics.results import finite_or_none
from lifecycle.scope import Scope, Window

MODELS = ("auto", "bg_nbd", "mbg_nbd", "pareto_nbd", "sbg")


@dataclass(frozen=True)
class ClvReport:
    """A scope's CLV: fits, check, summary and ranked per-customer predictions (module docstring)."""

    as_of: date
    model: str
    horizon_months: int
    discount_rate_annual: float
    currency: str
    fit: FitReport
    predictions: pd.DataFrame  # index customer_id, ranked
    model_choice: str = ""
    other_fits: tuple[FitReport, ...] = ()
    spend: FitReport | None = None
    spend_note: str | None = None
    check: HoldoutCheck | None = None
    check_note: str | None = None
    warnings: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: everything but the per-customer rows (``lifecycle clv --format`` writes those)."""
        return {
            "as_of": self.as_of.isoformat(), "model": self.model, "horizon_months": self.horizon_months,
            "discount_rate_annual": self.discount_rate_annual, "currency": self.currency,
            "fit": self.fit.to_dict(), "model_choice": self.model_choice,
            "other_fits": [f.to_dict() for f in self.other_fits],
            "spend": self.spend.to_dict() if self.spend else None, "spend_note": self.spend_note,
            "check": self.check.to_dict() if self.check else None, "check_note": self.check_note,
            "warnings": list(self.warnings), "summary": self.summary, "customers": len(self.predictions),
        }


def clv_report(dataset: Any, model: str = "auto", horizon_months: int = DEFAULT_HORIZON_MONTHS,
               discount_rate_annual: float = DEFAULT_DISCOUNT_RATE_ANNUAL, calibration_end: date | None = None,
               currency: str = "USD") -> ClvReport:
    """The CLV report of ``dataset`` (module docstring); ``QueryError`` for an unknown model or one the data cannot
    carry (no orders for an order model), ``ModelFitError`` when no model can be fitted."""
    if model not in MODELS:
        raise QueryError(f"unknown CLV model {model!r}; valid: {', '.join(MODELS)}")
    if model == "sbg" or (model == "auto" and not dataset.has("orders")):
        if calibration_end is not None:
            raise QueryError("--calibration-end applies to the order models (the holdout check), not to sbg")
        return _subscription_report(dataset, horizon_months, discount_rate_annual, currency)
    table = predict_customer_value(dataset, horizon_months, discount_rate_annual, model,  # type: ignore[arg-type]
                                   calibration_end=calibration_end)
    summary = summarize_customer_value(table)
    return ClvReport(
        as_of=table.as_of, model=table.transactions.model, horizon_months=horizon_months,
        discount_rate_annual=discount_rate_annual, currency=currency, fit=table.transactions,
        predictions=rank_customer_value(table), model_choice=table.model_choice, other_fits=table.other_fits,
        spend=table.spend, spend_note=table.spend_note, check=table.check, check_note=table.check_note,
        warnings=table.warnings,
        summary={"customers": summary.customers, "total_clv": finite_or_none(summary.total_clv),
                 "p_alive_quantiles": summary.p_alive_quantiles, "likely_lapsed": summary.likely_lapsed,
                 "likely_lapsed_share_by_model": table.likely_lapsed_share,
                 "segments": [{"segment": s.segment, "customers": s.customers, "clv": s.clv} for s in summary.segments]},
    )


def _subscription_report(dataset: Any, horizon_months: int, discount_rate_annual: float, currency: str) -> ClvReport:
    window = Window.trailing_months(dataset.as_of, COHORT_MONTHS)
    cohorts = dataset.rescoped(Scope(dataset.as_of, window, dataset.filters))
    table = predict_subscription_value(cohorts, horizon_months, discount_rate_annual)
    forecast = table.forecast
    return ClvReport(
        as_of=forecast.as_of, model="sbg", horizon_months=horizon_months, discount_rate_annual=discount_rate_annual,
        currency=currency, fit=forecast.fit, predictions=rank_subscription_value(table),
        model_choice=(f"sBG on the signup cohorts of the {COHORT_MONTHS} months ending on {forecast.as_of} "
                      f"({forecast.cohorts} cohorts): subscription data"),
        summary={"subscribers": len(table.frame), "total_mrr": table.total_mrr,
                 "total_residual_value": table.total_residual_value,
                 "expected_paid_months": forecast.expected_paid_months,
                 "discounted_expected_lifetime": forecast.discounted_expected_lifetime,
                 "survival": list(forecast.survival)},
    )
