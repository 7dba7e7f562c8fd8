"""The shifted-beta-geometric (sBG) model of contract renewals in discrete periods (Fader & Hardie 2007).

Assumptions: at the end of each period an active customer churns with probability theta (constant for that customer),
so a lifetime is geometric on {1, 2, ...}; theta ~ Beta(alpha, beta) across customers. Heterogeneity makes the
cohort's retention rate rise with tenure even though no individual's churn probability changes.

Closed forms (t = 1, 2, ...), from [1] ("A model of contract duration"):
    P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta)        the share of the cohort churning in period t
    S(t)     = B(alpha, beta+t) / B(alpha, beta)            the share still active after t periods, S(0) = 1
    r_t      = S(t) / S(t-1) = (beta+t-1) / (alpha+beta+t-1) the period-t retention rate
and, from [2], the discounted expected residual lifetime (DERL, Eq. 6): for a customer who has made n-1 renewals
(so is active in period n) and is about to decide on the n-th, with discount rate d per period,
    DERL(d | n-1 renewals) = (beta+n-1)/(alpha+beta+n-1) * 2F1(1, beta+n; alpha+beta+n; 1/(1+d))
                           = sum over t >= n of [S(t)/S(n-1)] / (1+d)^(t-n),
i.e. the expected number of further payments, the next one undiscounted; times the payment per period it is the
expected residual lifetime value (:func:`residual_value`). The discounted expected lifetime of a customer just
acquired (paying now) is DEL(d) = 2F1(1, beta; alpha+beta; 1/(1+d)) = sum over t >= 0 of S(t)/(1+d)^t = 1 + DERL(d | 0
renewals)/(1+d). With m = n-1 renewals, a survivor's theta is Beta(alpha, beta+m) (Bayes on S(m)), so
    P(renew next) = E[1-theta] = (beta+m)/(alpha+beta+m)                 (= r_{m+1} of [1])
    DERL = (1+d) E[(1-theta)/(d+theta)],  theta ~ Beta(alpha, beta+m)   (the geometric sum inside the expectation),
which is how :func:`expected_residual_lifetime` evaluates it: scipy's hyp2f1 is unreliable here (NaN or inf for large
alpha or beta, a wrong sign at alpha = 1; measured against the series), while the expectation is a smooth integral in
u = logit(theta), whose integrand has its nearest singularity at Im u = pi, so the trapezoidal rule converges
geometrically (about 1e-11 relative against the series on alpha 0.02..1000, beta 0.05..5000, m 0..499, d 0.0008..0.5).

References
----------
[1] Fader, P. S. & Hardie, B. G. S. (2007). "How to Project Customer Retention". Journal of Interactive
    Marketing 21(1), 76-90.
[2] Fader, P. S. & Hardie, B. G. S. (2010). "Customer-Base Valuation in a Contractual Setting: The Perils of
    Ignoring Heterogeneity". Marketing Science 29(1), 85-93.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.clv._deferred import betaln, digamma, expit, polygamma
from lifecycle.clv._fitting import fit_failure, maximize_likelihood
from lifecycle.errors import ModelFitError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")

MODEL_NAME = "shifted-beta-geometric"
PARAM_NAMES = ("alpha", "beta")


@dataclass(frozen=True)
class ShiftedBetaGeometricParams:
    """sBG parameters: the per-period churn probability theta ~ Beta(alpha, beta)."""

    alpha: float
    beta: float


@dataclass(frozen=True)
class ShiftedBetaGeometricModel:
    """A fitted sBG model: parameters, maximised log-likelihood, cohort size, convergence."""

    params: ShiftedBetaGeometricParams
    log_likelihood: float
    n: int
    converged: bool
    penalizer: float = 0.0

    def churn_probability(self, t: ArrayLike) -> np.ndarray:
        """P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta) for t = 1, 2, ... ([1])."""
        alpha, beta = self.params.alpha, self.params.beta
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta))

    def survival(self, t: ArrayLike) -> np.ndarray:
        """S(t) = B(alpha, beta+t) / B(alpha, beta), the share of a cohort still active after t periods ([1])."""
        alpha, beta = self.params.alpha, self.params.beta
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))

    def retention_rate(self, t: ArrayLike) -> np.ndarray:
        """r_t = (beta+t-1) / (alpha+beta+t-1): the share of those active in period t-1 who renew in period t ([1])."""
        alpha, beta = self.params.alpha, self.params.beta
        t = np.asarray(t, dtype=float)
        return (beta + t - 1) / (alpha + beta + t - 1)

    def retention_curve(self, periods: int) -> np.ndarray:
        """Projected survivors per starting customer, S(0..periods): 1 followed by S(1), ..., S(periods)."""
        return self.survival(np.arange(periods + 1))

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL(d) = 2F1(1, beta; alpha+beta; 1/(1+d)) = 1 + DERL(d | 0 renewals)/(1+d): expected discounted payments of
        a new customer ([2])."""
        _check_discount(discount_rate)
        return float(1 + expected_residual_lifetime(self.params, 0, discount_rate) / (1 + discount_rate))

    def discounted_expected_residual_lifetime(self, discount_rate: float, renewals: ArrayLike) -> np.ndarray:
        """DERL(d | n-1 renewals) = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d)), Eq. (6) of [2].

        ``renewals`` is n-1, the renewals made so far (0 for a customer in their first period).
        """
        _check_discount(discount_rate)
        return expected_residual_lifetime(self.params, renewals, discount_rate)


def renewal_probability(params: ShiftedBetaGeometricParams, renewals: ArrayLike) -> np.ndarray:
    """P(renewing at the next decision | ``renewals`` = m renewals made) = (beta+m)/(alpha+beta+m), r_{m+1} of [1]."""
    m = _renewals(renewals)
    return (params.beta + m) / (params.alpha + params.beta + m)


def expected_residual_lifetime(params: ShiftedBetaGeometricParams, renewals: ArrayLike, discount_rate: float,
                               horizon: int | None = None) -> np.ndarray:
    """DERL(d | m renewals), Eq. (6) of [2] with n = m+1: the expected number of further payments of a customer who
    has made m renewals and is about to decide on the next, each discounted by (1+d) per period, the next one
    undiscounted: ``sum_{k>=0} S(m+1+k)/S(m) / (1+d)^k``.

    ``horizon`` h keeps the first h payments (``k < h``, summed term by term in log space). Without a horizon the
    sum is the closed form (1+d) E[(1-theta)/(d+theta)], theta ~ Beta(alpha, beta+m) (module docstring); it needs
    d > 0, except that at d = 0 it is (beta+m)/(alpha-1) when alpha > 1 and infinite otherwise. ``renewals`` may be an
    array of non-negative integers; the result has its shape.
    """
    m = _renewals(renewals)
    if not discount_rate >= 0:
        raise ModelFitError(f"the discount rate must be zero or positive (per period, e.g. 0.1), got {discount_rate}")
    alpha, beta = params.alpha, params.beta
    distinct, where = np.unique(m, return_inverse=True)
    if horizon is not None:
        if horizon < 0:
            raise ModelFitError(f"the horizon must be a non-negative number of periods, got {horizon}")
        k = np.arange(horizon, dtype=float)
        log_terms = betaln(alpha, beta + distinct[:, None] + 1 + k) - betaln(alpha, beta + distinct[:, None]) - k * np.log1p(discount_rate)
        values = np.exp(log_terms).sum(axis=1)
    elif discount_rate == 0:
        values = (beta + distinct) / (alpha - 1) if alpha > 1 else np.full(len(distinct), np.inf)
    else:
        values = np.array([_discounted_payments(alpha, beta + mm, discount_rate) for mm in distinct])
    return values[where].reshape(m.shape)


def residual_value(params: ShiftedBetaGeometricParams, renewals: ArrayLike, payment: ArrayLike, discount_rate: float,
                   horizon: int | None = None) -> np.ndarray:
    """Discounted expected residual lifetime value: the payment per period (e.g. current MRR) x
    :func:`expected_residual_lifetime` ([2]: "DERL ... times the net cashflow per period")."""
    return np.asarray(payment, dtype=float) * expected_residual_lifetime(params, renewals, discount_rate, horizon)


def _renewals(renewals: ArrayLike) -> np.ndarray:
    m = np.asarray(renewals, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m < 0) or np.any(m != np.round(m)):
        raise ModelFitError(f"renewals must be whole numbers >= 0, got {renewals!r}")
    return m


def _discounted_payments(a: float, b: float, d: float) -> float:
    """(1+d) E[(1-theta)/(d+theta)] for theta ~ Beta(a, b), by the trapezoidal rule in u = logit(theta).

    The density of u is exp(a ln expit(u) + b ln expit(-u)) / B(a, b): mean psi(a) - psi(b), variance
    psi'(a) + psi'(b), exponential tails of rates a (left) and b (right). The grid spans the mean -/+ max(12 sd,
    45/rate); the step is at most 0.5, sd/5 and 1.2/sqrt(max(a, b)) (the integrand's growth off the real axis).
    """
    sd = float(np.sqrt(polygamma(1, a) + polygamma(1, b)))
    mean = float(digamma(a) - digamma(b))
    step = min(0.5, sd / 5, 1.2 / np.sqrt(max(a, b)))
    u = np.arange(mean - max(12 * sd, 45 / a), mean + max(12 * sd, 45 / b) + step, step)
    log_density = -a * np.logaddexp(0, -u) - b * np.logaddexp(0, u) - betaln(a, b)
    theta, survive = expit(u), expit(-u)
    return float((1 + d) * step * np.sum(np.exp(log_density) * survive / (d + theta)))


def log_likelihood(params: ShiftedBetaGeometricParams, survivors: Sequence[float]) -> float:
    """Cohort log-likelihood ([1], "Parameter estimation"):

    ``LL = sum_{t=1..n} (S_{t-1} - S_t) ln P(T = t) + S_n ln S(n)`` where S_0, ..., S_n are the observed survivors
    (S_0 the cohort size): those who churned in period t, plus those still active after the last period (censored).
    """
    churned, censored, periods = _counts(survivors)
    return _log_likelihood(np.array([params.alpha, params.beta]), churned, censored, periods)


def fit(survivors: Sequence[float], *, penalizer: float = 0.0, raise_on_failure: bool = True) -> ShiftedBetaGeometricModel:
    """Fit the sBG to one cohort's survivor counts S_0 >= S_1 >= ... >= S_n (S_0 the cohort size).

    The gradient is analytic (digamma differences). Raises ModelFitError with advice when the fit fails (for
    instance when no one churns, or everyone churns in the first period), unless ``raise_on_failure`` is False.
    """
    return fit_cohorts([survivors], penalizer=penalizer, raise_on_failure=raise_on_failure)


def fit_cohorts(cohorts: Sequence[Sequence[float]], *, penalizer: float = 0.0,
                raise_on_failure: bool = True) -> ShiftedBetaGeometricModel:
    """Fit one sBG to several cohorts' survivor series, each S_0 >= S_1 >= ... observed for its own number of periods.

    The cohorts share (alpha, beta), so the log-likelihood is the sum of each cohort's (:func:`log_likelihood`; [1]
    fits one cohort, and the sum over cohorts of different ages is the same model with each cohort censored at its
    own last period). ``n`` of the result is the customers of all cohorts. Errors as :func:`fit`.
    """
    if not cohorts:
        raise ModelFitError(f"cannot fit {MODEL_NAME}: no cohorts")
    # the functions the module's deferred stand-ins forward to, without the hop through them on every evaluation
    from scipy.special import betaln, digamma

    parts = [_counts(survivors) for survivors in cohorts]
    size = float(sum(churned.sum() + censored for churned, censored, _ in parts))
    t = np.arange(1, max(periods for _, _, periods in parts) + 1, dtype=float)
    ends = np.array([periods for _, _, periods in parts], dtype=float)

    def total(params: np.ndarray) -> tuple[float, np.ndarray]:
        """Σ over cohorts of :func:`_log_likelihood` and its gradient, each cohort's terms read from one evaluation over the longest cohort's
        periods (the same element-wise values, the same per-cohort sums in the same order: the same result)."""
        alpha, beta = params
        log_b0 = betaln(alpha, beta)
        log_p = betaln(alpha + 1, beta + t - 1) - log_b0
        log_s = betaln(alpha, beta + ends) - log_b0
        d_b0_alpha = digamma(alpha) - digamma(alpha + beta)
        d_b0_beta = digamma(beta) - digamma(alpha + beta)
        psi_end = digamma(alpha + beta + t)
        d_p_alpha = digamma(alpha + 1) - psi_end - d_b0_alpha
        d_p_beta = digamma(beta + t - 1) - psi_end - d_b0_beta
        psi_s = digamma(alpha + beta + ends)
        d_s_alpha = digamma(alpha) - psi_s - d_b0_alpha
        d_s_beta = digamma(beta + ends) - psi_s - d_b0_beta
        # per cohort: the same dot products and sums as one np.array per cohort added to a running gradient array
        # (element-wise float64 additions in cohort order), accumulated as floats without the per-cohort arrays
        ll, grad_alpha, grad_beta = 0.0, 0.0, 0.0
        s_ll, s_alpha, s_beta = log_s.tolist(), d_s_alpha.tolist(), d_s_beta.tolist()
        for i, (churned, censored, periods) in enumerate(parts):
            ll += float(churned.dot(log_p[:periods]) + censored * s_ll[i])
            grad_alpha += float(churned.dot(d_p_alpha[:periods]) + censored * s_alpha[i])
            grad_beta += float(churned.dot(d_p_beta[:periods]) + censored * s_beta[i])
        return ll, np.array([grad_alpha, grad_beta])

    starts = [(1.0, 1.0), (0.5, 3.0), (3.0, 0.5), (0.1, 10.0)]
    best = maximize_likelihood(total, starts, total_weight=size, penalizer=penalizer, names=PARAM_NAMES)
    if not best.converged and raise_on_failure:
        churned = sum(float(c.sum()) for c, _, _ in parts)
        censored = sum(c for _, c, _ in parts)
        longest = max(periods for _, _, periods in parts)
        cohort = "cohort of" if len(parts) == 1 else f"{len(parts)} cohorts,"
        diagnostics = f"{cohort} {size:.0f} over {longest} period(s), {churned:.0f} churned, {censored:.0f} still active"
        raise fit_failure(MODEL_NAME, best.reason, diagnostics, [
            "pass penalizer=0.001 (up to 0.1) to keep the parameters finite",
            "check the survivor counts are cumulative survivors per period (non-increasing), not churners per period",
            "observe the cohort for more periods: with no churn, or churn in one period only, alpha and beta are not identified",
        ])
    alpha, beta = (float(v) for v in best.params)
    return ShiftedBetaGeometricModel(ShiftedBetaGeometricParams(alpha, beta), best.log_likelihood, int(round(size)), bool(best.converged), penalizer)


def _counts(survivors: Sequence[float]) -> tuple[np.ndarray, float, int]:
    """Churners per period 1..n, the censored survivors after period n, and n; validates the counts."""
    s = np.asarray(survivors, dtype=float)
    if s.ndim != 1 or len(s) < 2:
        raise ModelFitError(f"cannot fit {MODEL_NAME}: give the cohort size followed by the survivors after each period (at least 2 numbers)")
    if np.any(~np.isfinite(s)) or np.any(s < 0) or s[0] <= 0:
        raise ModelFitError(f"cannot fit {MODEL_NAME}: survivor counts must be finite, non-negative, with a positive cohort size")
    if np.any(np.diff(s) > 0):
        raise ModelFitError(f"cannot fit {MODEL_NAME}: survivor counts must not increase (got {list(s)}); pass cumulative survivors, not churners")
    return -np.diff(s), float(s[-1]), len(s) - 1


def _log_likelihood(params: np.ndarray, churned: np.ndarray, censored: float, periods: int) -> float:
    """LL of one cohort: Σ_t churned_t · ln P(T = t) + censored · ln S(n), with P(T = t) = B(α+1, β+t−1) / B(α, β) and
    S(n) = B(α, β+n) / B(α, β) (Fader & Hardie 2007). The fit's gradient lives in ``fit_cohorts``' objective."""
    alpha, beta = params
    t = np.arange(1, periods + 1, dtype=float)
    log_b0 = betaln(alpha, beta)
    log_p = betaln(alpha + 1, beta + t - 1) - log_b0
    log_s = betaln(alpha, beta + periods) - log_b0
    return float(np.dot(churned, log_p) + censored * log_s)


def _check_discount(discount_rate: float) -> None:
    if not discount_rate > 0:
        raise ModelFitError(f"the discount rate must be positive (per period, e.g. 0.1), got {discount_rate}")
