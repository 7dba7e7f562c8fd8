"""Gamma-Gamma spend model: published CDNOW estimates and the conditional expectation by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv import gamma_gamma
from lifecycle.clv.gamma_gamma import GammaGammaModel, GammaGammaParams
from lifecycle.clv.rfm import rfm_summary
from lifecycle.errors import ModelFitError


def test_cdnow_repeat_buyers_reproduce_published_parameters(cdnow_transactions: pd.DataFrame) -> None:
    """FHL (2005b), 946 CDNOW repeat buyers: p 6.25, q 3.74, gamma 15.44, within half a cent of the last digit.

    Fitted on our rfm_summary's exact mean repeat spend. (On the summary file's zbar, rounded to cents, gamma
    comes out 15.4477, as lifetimes' 15.45: the rounding of zbar moves it by 0.004.)
    """
    summary = rfm_summary(cdnow_transactions, observation_period_end="1997-09-30")
    model = gamma_gamma.fit(summary["frequency"], summary["monetary_value"])
    assert model.n == 946
    assert model.params.p == pytest.approx(6.25, abs=0.005)
    assert model.params.q == pytest.approx(3.74, abs=0.005)
    assert model.params.gamma == pytest.approx(15.44, abs=0.005)


def test_published_zbar_file_fits_within_the_issue_tolerance(cdnow_summary_with_spend: pd.DataFrame) -> None:
    """On the file's cent-rounded zbar: within 1e-3 relative or half a unit of the last digit (6.2488, 3.7446, 15.4477)."""
    model = gamma_gamma.fit(cdnow_summary_with_spend["x"], cdnow_summary_with_spend["zbar"])
    assert (model.params.p, model.params.q, model.params.gamma) == pytest.approx((6.25, 3.74, 15.44), rel=1e-3, abs=0.005)


def test_conditional_expected_value_is_the_credibility_weighted_mean() -> None:
    """p = 6.25, q = 3.74, gamma = 15.44; x = 2, zbar = 20: p (gamma + x zbar) / (p x + q - 1)

    = 6.25 * 55.44 / (12.5 + 2.74) = 346.5 / 15.24 = 22.736220; population mean p gamma/(q-1) = 96.5/2.74 = 35.218978.
    """
    model = GammaGammaModel(GammaGammaParams(6.25, 3.74, 15.44), 0.0, 946, True)
    assert float(model.conditional_expected_average_value(2, 20.0)) == pytest.approx(22.736220, abs=1e-6)
    assert model.population_mean_value == pytest.approx(35.218978, abs=1e-6)
    assert float(model.conditional_expected_average_value(0, 0.0)) == pytest.approx(model.population_mean_value)


def test_more_transactions_move_the_estimate_towards_the_customers_own_mean() -> None:
    model = GammaGammaModel(GammaGammaParams(6.25, 3.74, 15.44), 0.0, 946, True)
    estimates = model.conditional_expected_average_value(np.arange(1, 50), 100.0)
    assert np.all(np.diff(estimates) > 0) and estimates[-1] < 100


def test_non_positive_spend_of_a_repeat_buyer_is_rejected_with_advice() -> None:
    with pytest.raises(ModelFitError, match="drop returns"):
        gamma_gamma.fit([1, 2, 0], [10.0, -5.0, 0.0])
