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


SEGMENT_X = {"A1", "A2", "B2", "C1"}  # the other customers (A3, A4, B1) are segment y


@pytest.mark.parametrize(("segment", "hand"), [
    # x: January A1, A2: k0 2; k1 Feb+ A1, A2 (A2 paid until Feb 15) 2; k2..k5 A1 1. March B2: k0 1; k1 Apr (to Apr 5) 1;
    # k2 May+, k3 Jun+ nobody 0. June C1: no month after signup, left out.
    ("x", [[2.0, 2.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]),
    # y: January A3, A4: k0 2; k1 Feb+ A3 (to Mar 10) 1; k2 Mar 1; k3..k5 0. March B1: 1 in every month.
    ("y", [[2.0, 1.0, 1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]),
])
def test_a_filtered_scopes_survivors_are_its_own_customers_counted_by_hand(tmp_path: Path, segment: str,
                                                                           hand: list[list[float]]) -> None:
    """Read through the process memo (a dataset with the data's identity: the whole base's paid months restricted to
    the scope's customers) and without it (the scope's own cohort table): both are the hand counts."""
    from datetime import date

    from lifecycle.config import DEFAULT_CONFIG
    from lifecycle.dataset import Dataset
    from lifecycle.filters import Dimension, Filters
    from lifecycle.scope import Scope, Window
    from lifecycle.sources import open_source
    from tests.builders import make_store

    tables = subscription_tables()
    for row in tables["customers"]:
        row["segment"] = "x" if row["customer_id"] in SEGMENT_X else "y"
    path = make_store(tmp_path / "segments.db", tables)
    as_of, window = date.fromisoformat(AS_OF), Window(date(2023, 7, 1), date.fromisoformat(AS_OF))
    filters = Filters.by_dimension({Dimension.SEGMENT: [segment]})
    whole = Dataset.over(open_source(path), Scope(as_of, window, Filters()))
    assert cohort_survivors(whole) == HAND_SURVIVORS  # the whole base first: its paid months are then at hand
    memoised = Dataset.over(open_source(path), Scope(as_of, window, filters))
    source = open_source(path)
    direct = Dataset(source.connect(), Scope(as_of, window, filters), DEFAULT_CONFIG, source, None)  # no memo
    assert memoised.identity is not None and direct.identity is None
    assert cohort_survivors(memoised) == hand
    assert cohort_survivors(direct) == hand
