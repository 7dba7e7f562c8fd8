"""sBG: the two published cohorts of Fader & Hardie (2007), survival invariants, DEL/DERL against their series."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.clv import shifted_beta_geometric as sbg
from lifecycle.clv.shifted_beta_geometric import ShiftedBetaGeometricModel, ShiftedBetaGeometricParams
from lifecycle.errors import ModelFitError

HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta", "ll"),
    [
        pytest.param(HIGH_END, 0.668, 3.806, -1611.2, id="high-end"),
        pytest.param(REGULAR, 0.704, 1.182, -1680.3, id="regular"),
    ],
)
def test_published_cohorts_are_reproduced(survivors: list[int], alpha: float, beta: float, ll: float) -> None:
    """FH (2007): alpha and beta to +-0.0005 (3 published decimals), LL to +-0.05 (1 decimal)."""
    model = sbg.fit(survivors)
    assert model.params.alpha == pytest.approx(alpha, abs=5e-4)
    assert model.params.beta == pytest.approx(beta, abs=5e-4)
    assert model.log_likelihood == pytest.approx(ll, abs=0.05)
    assert model.n == 1000 and model.converged


MODEL = ShiftedBetaGeometricModel(ShiftedBetaGeometricParams(0.668, 3.806), -1611.2, 1000, True)


def test_first_period_retention_is_beta_over_alpha_plus_beta() -> None:
    """S(1) = B(alpha, beta+1)/B(alpha, beta) = beta/(alpha+beta) = 3.806/4.474 = 0.850693."""
    assert float(MODEL.survival(1)) == pytest.approx(3.806 / 4.474, rel=1e-12)
    assert float(MODEL.retention_rate(1)) == pytest.approx(3.806 / 4.474, rel=1e-12)


def test_survival_curve_is_non_increasing_and_retention_rates_rise() -> None:
    curve = MODEL.retention_curve(50)
    assert curve[0] == 1.0
    assert np.all(np.diff(curve) <= 0)
    assert np.all(np.diff(MODEL.retention_rate(np.arange(1, 50))) > 0)


def test_churn_probabilities_and_survivors_add_up() -> None:
    """sum_{t<=n} P(T=t) + S(n) = 1, and S(t)/S(t-1) = r_t."""
    t = np.arange(1, 21)
    assert MODEL.churn_probability(t).sum() + MODEL.survival(20) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(MODEL.survival(t) / MODEL.survival(t - 1), MODEL.retention_rate(t), rtol=1e-12)


@pytest.mark.parametrize("renewals", [0, 1, 4, 10])
def test_derl_equals_its_discounted_survival_series(renewals: int) -> None:
    """FH (2010) Eq. (6) against sum_{t >= n} S(t)/S(n-1) / 1.1^(t-n), n = renewals + 1, summed to t = 5000."""
    n = renewals + 1
    t = np.arange(n, 5000)
    series = np.sum(MODEL.survival(t) / MODEL.survival(n - 1) / 1.1 ** (t - n))
    assert float(MODEL.discounted_expected_residual_lifetime(0.1, renewals)) == pytest.approx(series, rel=1e-10)


def test_del_equals_its_discounted_survival_series() -> None:
    t = np.arange(0, 5000)
    assert MODEL.discounted_expected_lifetime(0.1) == pytest.approx(np.sum(MODEL.survival(t) / 1.1**t), rel=1e-10)


def test_derl_grows_with_tenure() -> None:
    """Survivors are the low-churn customers: their residual lifetime value rises with each renewal."""
    assert np.all(np.diff(MODEL.discounted_expected_residual_lifetime(0.1, np.arange(0, 20))) > 0)


@pytest.mark.parametrize(
    ("survivors", "fragment"),
    [
        pytest.param([1000, 1100, 900], "must not increase", id="increasing"),
        pytest.param([1000], "at least 2", id="too-short"),
        pytest.param([1000, 1000, 1000, 1000], "penalizer", id="no-churn-at-all"),
    ],
)
def test_unusable_cohorts_raise_model_fit_error_with_advice(survivors: list[int], fragment: str) -> None:
    with pytest.raises(ModelFitError, match=fragment):
        sbg.fit(survivors)


def test_one_cohort_fitted_as_a_list_of_cohorts_is_the_single_cohort_fit() -> None:
    single, listed = sbg.fit(HIGH_END), sbg.fit_cohorts([HIGH_END])
    assert (listed.params, listed.log_likelihood, listed.n) == (single.params, single.log_likelihood, single.n)


def test_a_cohort_counted_twice_has_the_same_parameters_and_twice_the_log_likelihood() -> None:
    """The cohorts' log-likelihoods add up: two copies of a cohort double LL(alpha, beta) everywhere, so the
    maximiser is unchanged (published high-end values) and the maximum doubles (-1611.2 x 2)."""
    model = sbg.fit_cohorts([HIGH_END, HIGH_END])
    assert model.params.alpha == pytest.approx(0.668, abs=5e-4) and model.params.beta == pytest.approx(3.806, abs=5e-4)
    assert model.log_likelihood == pytest.approx(2 * -1611.2, abs=0.1) and model.n == 2000


def test_cohorts_of_different_ages_are_censored_at_their_own_last_period() -> None:
    """The fitted log-likelihood equals the sum of each cohort's log_likelihood at the fitted parameters."""
    younger = REGULAR[:4]
    model = sbg.fit_cohorts([HIGH_END, younger])
    expected = sbg.log_likelihood(model.params, HIGH_END) + sbg.log_likelihood(model.params, younger)
    assert model.log_likelihood == pytest.approx(expected, rel=1e-12)
    assert model.n == 2000 and model.converged


def test_no_cohorts_is_a_model_fit_error() -> None:
    with pytest.raises(ModelFitError, match="no cohorts"):
        sbg.fit_cohorts([])
