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


def test_cohorts_listed_shortest_first_are_each_censored_at_their_own_last_period() -> None:
    """The same invariant with the longest cohort in the middle and a one-period cohort: each cohort's terms read
    only its own periods, whatever the order (fitted LL = sum of each cohort's log_likelihood at the fitted
    parameters)."""
    cohorts = [REGULAR[:4], HIGH_END, REGULAR[:2]]
    model = sbg.fit_cohorts(cohorts)
    expected = sum(sbg.log_likelihood(model.params, cohort) for cohort in cohorts)
    assert model.log_likelihood == pytest.approx(expected, rel=1e-12)
    assert model.n == 3000 and model.converged


def test_no_cohorts_is_a_model_fit_error() -> None:
    with pytest.raises(ModelFitError, match="no cohorts"):
        sbg.fit_cohorts([])


# Per-customer residual value (FH 2010): expected_residual_lifetime, renewal_probability, residual_value.


def _series(alpha: float, beta: float, renewals: int, d: float, terms: int) -> float:
    """sum_{k>=0} S(m+1+k)/S(m) / (1+d)^k from the survival function, S(t) = B(alpha, beta+t)/B(alpha, beta)."""
    model = ShiftedBetaGeometricModel(ShiftedBetaGeometricParams(alpha, beta), 0.0, 0, True)
    k = np.arange(terms)
    ratios = np.exp(np.log(model.survival(renewals + 1 + k)) - np.log(model.survival(renewals)))
    return float(np.sum(ratios / (1 + d) ** k))


@pytest.mark.parametrize(
    ("alpha", "beta", "renewals", "d"),
    [
        pytest.param(0.668, 3.806, 0, 0.1, id="high-end-new"),
        pytest.param(0.704, 1.182, 7, 0.1, id="regular-7"),
        pytest.param(0.3, 0.5, 30, 0.00797, id="monthly-10pct-a-year"),
        pytest.param(1.0, 2.0, 3, 0.05, id="alpha-1-where-hyp2f1-fails"),
        pytest.param(100.0, 400.0, 12, 0.00797, id="near-homogeneous-where-hyp2f1-overflows"),
        pytest.param(2.5, 5000.0, 59, 0.02, id="huge-beta"),
        pytest.param(0.05, 0.2, 120, 0.5, id="polarised"),
    ],
)
def test_derl_closed_form_equals_the_brute_force_survival_series(alpha: float, beta: float, renewals: int, d: float) -> None:
    """The closed form against the series of the survival function, summed until the terms are < 1e-16 of the sum."""
    params = ShiftedBetaGeometricParams(alpha, beta)
    expected = _series(alpha, beta, renewals, d, terms=int(40 / np.log1p(d)) + 10)
    assert float(sbg.expected_residual_lifetime(params, renewals, d)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("horizon", [1, 2, 12, 60])
def test_horizon_keeps_the_first_payments_of_the_series(horizon: int) -> None:
    """h = 1 is the next payment's probability (undiscounted); h periods are the series' first h terms."""
    params = ShiftedBetaGeometricParams(0.704, 1.182)
    got = sbg.expected_residual_lifetime(params, [0, 5], 0.00797, horizon=horizon)
    np.testing.assert_allclose(got, [_series(0.704, 1.182, m, 0.00797, horizon) for m in (0, 5)], rtol=1e-12)
    if horizon == 1:
        np.testing.assert_allclose(got, sbg.renewal_probability(params, [0, 5]), rtol=1e-12)


def test_renewal_probability_is_fader_hardie_retention_rate_of_the_next_period() -> None:
    """m renewals made: the next decision is period t = m+1, r_t = (beta+t-1)/(alpha+beta+t-1) = (beta+m)/(alpha+beta+m).
    High end (0.668, 3.806), m = 0: 3.806/4.474 = 0.85069; FH (2007) Table 1's first observed rate is 0.869."""
    params = ShiftedBetaGeometricParams(0.668, 3.806)
    assert float(sbg.renewal_probability(params, 0)) == pytest.approx(3.806 / 4.474, rel=1e-12)
    model = ShiftedBetaGeometricModel(params, 0.0, 0, True)
    np.testing.assert_allclose(sbg.renewal_probability(params, np.arange(10)), model.retention_rate(np.arange(1, 11)))


@pytest.mark.parametrize(("p", "d"), [(0.2, 0.1), (0.05, 0.00797), (0.5, 0.01)])
def test_homogeneous_limit_is_the_geometric_churn_value(p: float, d: float) -> None:
    """Everyone churns with probability p each period (alpha, beta -> infinity at alpha/(alpha+beta) = p): payments
    k = 0, 1, ... arrive with probability (1-p)^(k+1), so DERL = sum (1-p)^(k+1)/(1+d)^k = (1-p)(1+d)/(d+p), for
    every tenure. p = 0.2, d = 0.1: 0.8 x 1.1 / 0.3 = 2.9333."""
    scale = 1e6
    params = ShiftedBetaGeometricParams(p * scale, (1 - p) * scale)
    got = sbg.expected_residual_lifetime(params, [0, 10], d)
    np.testing.assert_allclose(got, (1 - p) * (1 + d) / (d + p), rtol=1e-4)


# Fader & Hardie (2010), Table 3 (as transcribed in pymc-marketing's tests/clv/models/test_shifted_beta_geo.py; the
# PDF itself was not at hand): DERL at d = 0.1 for n = 1..5 (n-1 renewals) of two populations with mean churn 0.2.
# Case 1 is (3.80, 15.20); case 2 is printed as (0.067, 0.267), i.e. mean 0.2 with polarisation 1/(alpha+beta+1) =
# 0.75: (1/15, 4/15), which matches all five values to the printed 2 decimals (the rounded (0.067, 0.267) gives 7.67
# for n = 1).
@pytest.mark.parametrize(
    ("alpha", "beta", "published"),
    [
        pytest.param(3.80, 15.20, [3.31, 3.45, 3.59, 3.72, 3.84], id="case1-homogeneous"),
        pytest.param(1 / 15, 4 / 15, [7.68, 9.46, 9.86, 10.06, 10.19], id="case2-polarised"),
    ],
)
def test_fader_hardie_2010_table_3(alpha: float, beta: float, published: list[float]) -> None:
    got = sbg.expected_residual_lifetime(ShiftedBetaGeometricParams(alpha, beta), np.arange(5), 0.1)
    np.testing.assert_allclose(got, published, atol=0.005 + 1e-9)


def test_residual_value_is_payment_times_derl_and_zero_discount_has_the_mean_residual_life() -> None:
    """At d = 0 without a horizon, E[(1-theta)/theta] for theta ~ Beta(alpha, beta+m) = (beta+m)/(alpha-1)."""
    params = ShiftedBetaGeometricParams(2.5, 4.0)
    derl = sbg.expected_residual_lifetime(params, [0, 3], 0.01)
    np.testing.assert_allclose(sbg.residual_value(params, [0, 3], [10.0, 25.0], 0.01), [10 * derl[0], 25 * derl[1]])
    np.testing.assert_allclose(sbg.expected_residual_lifetime(params, [0, 3], 0.0), [4.0 / 1.5, 7.0 / 1.5])
    assert np.isinf(sbg.expected_residual_lifetime(ShiftedBetaGeometricParams(0.7, 1.2), 2, 0.0))


@pytest.mark.parametrize(("renewals", "d"), [(-1, 0.1), (1.5, 0.1), (2, -0.01)], ids=["negative", "fraction", "negative-rate"])
def test_bad_residual_lifetime_arguments_raise(renewals: float, d: float) -> None:
    with pytest.raises(ModelFitError):
        sbg.expected_residual_lifetime(ShiftedBetaGeometricParams(0.7, 1.2), renewals, d)
