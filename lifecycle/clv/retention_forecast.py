"""Subscription retention forecast: one shifted-beta-geometric model fitted on a subscription business's signup cohorts.

:func:`subscription_retention_forecast` reads the cumulative logo retention triangle of the dataset
(:func:`lifecycle.metrics.cohorts.cohort_retention`, mode ``cumulative``, basis ``logo``): for each signup-month cohort of
the dataset's window, the customers active (paying on at least one day) in month k after signup or in any later
observed month. Each cohort's observed counts are its survivor series S_0 >= S_1 >= ... (S_0: paying in the signup
month or later; only months that have ended by ``as_of``), and one sBG is fitted to all cohorts together
(:func:`~lifecycle.clv.shifted_beta_geometric.fit_cohorts`, Fader & Hardie 2007). A customer who pauses and comes
back counts as retained throughout: the sBG has no reactivation.

From the fit, with d = (1 + ``discount_rate_annual``)^(1/12) - 1 a month and h = ``horizon_months``:

- ``survival``: S(1), ..., S(h), the share of a new cohort still paying after each month (FH 2007);
- ``expected_paid_months``: sum_{t=0}^{h-1} S(t) / (1+d)^t, a new customer's discounted expected number of monthly
  payments within the horizon, the first undiscounted (DEL of FH 2010 truncated at h);
- ``discounted_expected_lifetime``: DEL(d) = 2F1(1, beta; alpha+beta; 1/(1+d)) (FH 2010), the same sum without a
  horizon; at d = 0 the expected lifetime E[T] = (alpha+beta-1)/(alpha-1), None when alpha <= 1 (it diverges).

References: Fader & Hardie (2007), "How to Project Customer Retention", J. Interactive Marketing 21(1); Fader &
Hardie (2010), "Customer-Base Valuation in a Contractual Setting", Marketing Science 29(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from lifecycle.clv import shifted_beta_geometric
from lifecycle.clv.customer_value import DEFAULT_DISCOUNT_RATE_ANNUAL, DEFAULT_HORIZON_MONTHS, FitReport
from lifecycle.errors import ModelFitError, QueryError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")

MODEL_NAME: Final = "sbg"
COHORT_MONTHS: Final = 36
"""The signup cohorts the sBG is fitted on by default: those of the 36 months ending on as_of (a 12-month window
holds too few renewals to separate the churn-rate spread from its mean; the longest period the tools take)."""


@dataclass(frozen=True)
class RetentionForecast:
    """The sBG fit on a dataset's signup cohorts and the retention it projects (module docstring)."""

    as_of: date
    horizon_months: int
    discount_rate_annual: float
    monthly_discount_rate: float
    fit: FitReport
    cohorts: int
    survival: tuple[float, ...]
    expected_paid_months: float
    discounted_expected_lifetime: float | None


def cohort_survivors(dataset: Any) -> list[list[float]]:
    """Each signup cohort's observed survivor series (cumulative logo retention counts), in cohort order.

    Cohorts with no month observed after the signup month, or with no one paying, are left out (they carry no
    information on churn). ``QueryError`` when the dataset has no subscriptions to follow.
    """
    from lifecycle.metrics.cohorts import cohort_retention

    table = cohort_retention(dataset, mode="cumulative", basis="logo")
    if table.activity != "subscriptions":
        raise QueryError("the subscription retention forecast (sbg) needs a subscriptions table; for order data use "
                         "bg_nbd or pareto_nbd")
    series = []
    for counts in table.counts:
        observed = [float(v) for v in counts if v is not None]
        if len(observed) >= 2 and observed[0] > 0:
            series.append(observed)
    return series


def subscription_retention_forecast(
    dataset: Any,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    discount_rate_annual: float = DEFAULT_DISCOUNT_RATE_ANNUAL,
) -> RetentionForecast:
    """Fit the sBG on the dataset's signup cohorts (those of its window) and project retention (module docstring).

    Raises ``QueryError`` for bad arguments or no subscriptions, ``ModelFitError`` when no cohort has a month
    observed after signup or the fit does not converge.
    """
    if not 1 <= horizon_months <= 120:
        raise QueryError(f"horizon_months must be within 1..120, got {horizon_months}")
    if not 0 <= discount_rate_annual <= 1:
        raise QueryError(f"discount_rate_annual must be within 0..1 (0.1 = 10 % a year), got {discount_rate_annual}")
    cohorts = cohort_survivors(dataset)
    if not cohorts:
        raise ModelFitError(f"no signup cohort in the period has a month observed after its signup month by "
                            f"{dataset.as_of}, so there is no retention to fit")
    model = shifted_beta_geometric.fit_cohorts(cohorts)
    monthly = (1 + discount_rate_annual) ** (1 / 12) - 1
    months = np.arange(horizon_months)
    paid = float(np.sum(model.survival(months) / (1 + monthly) ** months))
    report = FitReport(model=MODEL_NAME, params={"alpha": model.params.alpha, "beta": model.params.beta},
                       log_likelihood=model.log_likelihood, n=model.n, converged=model.converged, penalized=False,
                       penalizer=0.0, log_penalizer=0.0)
    return RetentionForecast(
        as_of=dataset.as_of, horizon_months=horizon_months, discount_rate_annual=discount_rate_annual,
        monthly_discount_rate=monthly, fit=report, cohorts=len(cohorts),
        survival=tuple(float(v) for v in model.survival(np.arange(1, horizon_months + 1))),
        expected_paid_months=paid, discounted_expected_lifetime=_lifetime(model, monthly),
    )


def _lifetime(model: shifted_beta_geometric.ShiftedBetaGeometricModel, monthly: float) -> float | None:
    if monthly > 0:
        return model.discounted_expected_lifetime(monthly)
    alpha, beta = model.params.alpha, model.params.beta
    return (alpha + beta - 1) / (alpha - 1) if alpha > 1 else None
