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
    information on churn). ``QueryError`` when the dataset has no subscriptions to follow. With a data identity the
    series are the whole base's per-customer months (memoised: the whole base's call keeps them for every filter)
    summed over the scope's customers (``_masked_survivors``).
    """
    from lifecycle.metrics.cohorts import _activity_source, cohort_retention

    if _activity_source(dataset, "logo") != "subscriptions":
        raise QueryError("the subscription retention forecast (sbg) needs a subscriptions table; for order data use "
                         "bg_nbd or pareto_nbd")
    if dataset.identity is not None:
        return _masked_survivors(dataset)
    table = cohort_retention(dataset, mode="cumulative", basis="logo")
    series = []
    for counts in table.counts:
        observed = [float(v) for v in counts if v is not None]
        if len(observed) >= 2 and observed[0] > 0:
            series.append(observed)
    return series


@dataclass(frozen=True)
class _CustomerMonths:
    """The whole base's signup customers of a window (ids sorted) with their signup month and, per absolute month
    ``first`` .. ``first + observed - 1`` (the months ended by as_of), whether each paid then or in a later observed
    month — the rows of ``cohort_retention``'s cumulative logo matrix."""

    ids: Any  # pd.Index of str
    signup_month: Any  # np.ndarray int64
    first: int
    paid_then_or_later: Any  # np.ndarray bool, customers × observed months


def _customer_months(dataset: Any) -> _CustomerMonths:
    """``_CustomerMonths`` of ``dataset`` (the whole base): the matrix ``cohort_retention(mode="cumulative",
    basis="logo")`` builds before it sums it per cohort (``lifecycle.metrics.cohorts``)."""
    import pandas as pd

    from lifecycle.filters import add_months
    from lifecycle.metrics.cohorts import _monthly_matrix, window_signups

    customers, signup_month = window_signups(dataset)
    ids = customers["customer_id"].astype(str)
    if customers.empty:
        return _CustomerMonths(ids, signup_month, 0, np.zeros((0, 0), dtype=bool))
    as_of = dataset.as_of
    first = int(signup_month.min())
    months = as_of.year * 12 + as_of.month - 1 - first + 1
    as_of_is_month_end = add_months(as_of.replace(day=1), 1).toordinal() - 1 == as_of.toordinal()
    observed = months if as_of_is_month_end else months - 1
    index = pd.Index(ids)
    recurring = _monthly_matrix(dataset, index, first, months, "logo", "subscriptions")[:, :observed] > 0
    later = np.maximum.accumulate(recurring[:, ::-1], axis=1)[:, ::-1] if observed else recurring
    return _CustomerMonths(index, signup_month, first, later)


def _masked_survivors(dataset: Any) -> list[list[float]]:
    """``cohort_survivors`` of a filtered scope from the whole base's ``_CustomerMonths`` (memoised per data, as_of and
    window): a customer's paid months do not depend on the other customers, and a cohort's count in month k after
    signup is the number of its customers paid then or later — a sum of 0/1 values, the same whichever customers
    are summed first — so the scope's cohorts are its customers' rows summed per signup month, over the months ended
    by as_of (the same for every scope: its own first cohort only shifts the columns)."""
    from lifecycle.filters import Filters
    from lifecycle.memo import remember
    from lifecycle.metrics.revenue_movements import _in_scope
    from lifecycle.scope import Scope

    whole = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = whole.memo_key("cohort_customer_months")
    months = _customer_months(whole) if key is None else remember(key, lambda: _customer_months(whole))
    signup, paid = months.signup_month, months.paid_then_or_later
    if not dataset.filters.is_empty():
        chosen = _in_scope(months.ids, dataset)  # the scope's customers among the whole base's (``Dataset.table``)
        signup, paid = signup[chosen], paid[chosen]
    series = []
    for cohort in np.unique(signup):  # ascending months: the cohort labels' order
        counts = paid[signup == cohort, cohort - months.first:].sum(axis=0)
        observed = [float(v) for v in counts.tolist()]
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
