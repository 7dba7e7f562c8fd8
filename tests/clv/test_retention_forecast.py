"""subscription_retention_forecast: the sBG on a subscription dataset's signup cohorts.

tests/clv/subscription_fixture.py writes the survivor series out by hand from its subscriptions; the fit is then
checked against ``fit_cohorts`` on those hand-written series, and the projections against closed forms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lifecycle.clv.retention_forecast import cohort_survivors, subscription_retention_forecast
from lifecycle.clv.shifted_beta_geometric import fit_cohorts
from lifecycle.errors import ModelFitError, QueryError
from tests.builders import make_dataset
from tests.clv.order_fixture import tables as order_tables
from tests.clv.subscription_fixture import AS_OF, HAND_SURVIVORS, subscription_tables


@pytest.fixture()
def dataset(tmp_path: Path):
    return make_dataset(tmp_path, subscription_tables(), as_of=AS_OF, window=("2023-07-01", AS_OF))


def test_cohort_survivors_are_the_hand_counted_series(dataset) -> None:
    assert cohort_survivors(dataset) == HAND_SURVIVORS


def test_the_fit_is_the_sbg_of_the_hand_counted_cohorts(dataset) -> None:
    forecast = subscription_retention_forecast(dataset, horizon_months=6)
    expected = fit_cohorts(HAND_SURVIVORS)
    assert forecast.fit.params == {"alpha": expected.params.alpha, "beta": expected.params.beta}
    assert (forecast.fit.model, forecast.fit.n, forecast.cohorts, forecast.fit.converged) == ("sbg", 6, 2, True)
    np.testing.assert_allclose(forecast.survival, expected.survival(np.arange(1, 7)), rtol=1e-12)


def test_one_month_horizon_is_exactly_the_first_payment(dataset) -> None:
    """sum_{t=0}^{0} S(t) / (1+d)^t = S(0) = 1."""
    assert subscription_retention_forecast(dataset, horizon_months=1).expected_paid_months == 1.0


def test_undiscounted_two_months_are_one_plus_beta_over_alpha_plus_beta(dataset) -> None:
    """S(0) + S(1) with S(1) = beta / (alpha + beta) (FH 2007); at d = 0 the unbounded lifetime is
    E[T] = (alpha + beta - 1) / (alpha - 1) when alpha > 1."""
    forecast = subscription_retention_forecast(dataset, horizon_months=2, discount_rate_annual=0.0)
    alpha, beta = forecast.fit.params["alpha"], forecast.fit.params["beta"]
    assert forecast.expected_paid_months == pytest.approx(1 + beta / (alpha + beta), rel=1e-12)
    assert alpha > 1 and forecast.discounted_expected_lifetime == pytest.approx((alpha + beta - 1) / (alpha - 1), rel=1e-12)


def test_the_horizon_sum_grows_towards_the_discounted_expected_lifetime(dataset) -> None:
    """Truncations of the DEL series: increasing in h and never above DEL."""
    paid = [subscription_retention_forecast(dataset, horizon_months=h).expected_paid_months for h in (1, 12, 60, 120)]
    lifetime = subscription_retention_forecast(dataset).discounted_expected_lifetime
    assert lifetime is not None and paid == sorted(paid) and paid[-1] <= lifetime
    assert paid[-1] == pytest.approx(lifetime, rel=1e-3)


def test_order_data_is_a_query_error_pointing_to_the_order_models(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="needs a subscriptions table"):
        subscription_retention_forecast(make_dataset(tmp_path, order_tables(), as_of="2024-07-01"))


def test_cohorts_without_an_observed_month_after_signup_are_a_fit_error(tmp_path: Path) -> None:
    """Only C1's June cohort in the window, and June is its signup month: nothing to fit."""
    ds = make_dataset(tmp_path, subscription_tables(), as_of=AS_OF, window=("2024-06-01", AS_OF))
    with pytest.raises(ModelFitError, match="no signup cohort"):
        subscription_retention_forecast(ds)


@pytest.mark.parametrize("kwargs", [{"horizon_months": 0}, {"horizon_months": 121}, {"discount_rate_annual": -0.1},
                                    {"discount_rate_annual": 1.5}], ids=["horizon-0", "horizon-121", "negative-rate", "rate-above-1"])
def test_bad_arguments_are_query_errors(dataset, kwargs: dict[str, float]) -> None:
    with pytest.raises(QueryError):
        subscription_retention_forecast(dataset, **kwargs)  # type: ignore[arg-type]
