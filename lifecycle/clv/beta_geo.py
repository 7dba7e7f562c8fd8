"""The BG/NBD model (beta-geometric / negative binomial distribution) for non-contractual repeat buying.

Assumptions (Fader, Hardie & Lee 2005, §3): while active a customer buys as a Poisson process with rate lambda;
lambda ~ Gamma(shape r, rate alpha) across customers; after each repeat purchase the customer drops out with
probability p; p ~ Beta(a, b) across customers. A customer is summarised by (x, t_x, T) = (frequency, recency, T).

References
----------
[1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "'Counting Your Customers' the Easy Way: An Alternative to
    the Pareto/NBD Model". Marketing Science 24(2), 275-284.
[2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). "Computing P(alive) Using the BG/NBD Model".
    http://brucehardie.com/notes/021/
[3] Fader, P. S. & Hardie, B. G. S. (2013). "Overcoming the BG/NBD Model's #NUM! Error Problem".
    http://brucehardie.com/notes/027/
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.clv._deferred import betaln, digamma, expit, gammaln, hyp2f1
from lifecycle.clv._fitting import (
    DEFAULT_GTOL,
    PenaltyInfo,
    aggregate_rows,
    check_summary,
    fit_failure,
    maximize_likelihood,
    starting_points,
    summary_advice,
    summary_diagnostics,
)
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")

MODEL_NAME = "BG/NBD"
PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BetaGeoParams:
    """BG/NBD parameters: lambda ~ Gamma(r, alpha) (alpha in the time unit of T), p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BetaGeoModel(PenaltyInfo):
    """A fitted BG/NBD model: parameters, maximised log-likelihood, number of customers, convergence."""

    params: BetaGeoParams
    log_likelihood: float
    n: int
    converged: bool
    penalizer: float = 0.0
    log_penalizer: float = 0.0

    def expected_purchases(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in (0, t] of a newly acquired customer. Eq. (9) of [1]:

        ``(a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r * 2F1(r, b; a+b-1; t/(alpha+t))]``.
        """
        r, alpha, a, b = _unpack(self.params)
        t = np.asarray(t, dtype=float)
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))

    def conditional_expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] of a customer with history (x, t_x, T). Eq. (10) of [1]:

        ``(a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
        / [1 + delta(x>0) * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)]``.

        The hypergeometric term is evaluated after Euler's transformation, as in [3]:
        ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)`` with
        ``c = a+b+x-1`` and ``1-z = (alpha+T)/(alpha+T+t)``, which avoids overflow for large x (the #NUM! problem).
        At a = 1 exactly the expression is 0/0; a is nudged by 1e-7 there.
        """
        r, alpha, a, b = _unpack(self.params)
        if abs(a - 1) < 1e-7:
            a = 1 + 1e-7
        t, x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, frequency, recency, T)))
        z = t / (alpha + big_t + t)
        euler = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (1 - euler)
        return numerator * self.p_alive(x, t_x, big_t)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / [1 + delta(x>0) * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)] ([2], p. 2).

        Exactly 1 for x = 0: in the BG/NBD a customer can only drop out right after a repeat purchase.
        """
        r, alpha, a, b = _unpack(self.params)
        x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
        repeat = x > 0
        log_odds_dead = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.where(repeat, expit(-log_odds_dead), 1.0)


def log_likelihood(params: BetaGeoParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood, Eq. (6) of [1], in log space:

    ``ln L = ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
    + ln[(alpha+T)^-(r+x) + delta(x>0) * a/(b+x-1) * (alpha+t_x)^-(r+x)]``

    (using B(a+1, b+x-1)/B(a, b+x) = a/(b+x-1)); the last term is a log-sum-exp, so nothing overflows.
    """
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    ll, _ = _log_likelihood_terms(np.array(_unpack(params)), x, t_x, big_t, need_gradient=False)
    return ll


def fit(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    log_penalizer: float = 0.0,
    raise_on_failure: bool = True,
    start: Sequence[float] | None = None,
    gtol: float = DEFAULT_GTOL,
) -> BetaGeoModel:
    """Fit the BG/NBD by maximum likelihood on per-customer (frequency, recency, T) summaries.

    Identical rows are aggregated (``weights`` counts rows that already stand for several customers). The gradient
    is analytic. Starting points are scaled by the median T, so the fit does not depend on the time unit (alpha
    scales with it; r, a, b do not). Raises ModelFitError with advice when no start converges, unless
    ``raise_on_failure`` is False, in which case the best attempt is returned with ``converged=False``.

    ``start`` (parameters on their natural scale) runs one optimisation from that point instead of the model's several
    starts, and ``gtol`` is its stopping test (``lifecycle.clv._fitting.maximize_likelihood``): what lifetimes' own
    ``initial_params`` and ``tol`` do, so a benchmark can run both from the same start to the same tolerance.
    """
    x, t_x, big_t = check_summary(np.asarray(frequency), np.asarray(recency), np.asarray(T), MODEL_NAME)
    (x, t_x, big_t), w = aggregate_rows(x, t_x, big_t, weights=weights)
    scale = float(np.median(big_t))
    distinct_x = np.unique(x, return_inverse=True)

    def total(params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _log_likelihood_terms(params, x, t_x, big_t, need_gradient=True, distinct_x=distinct_x)
        assert grad is not None
        return float(np.sum(w * ll)), (grad * w).sum(axis=1)

    starts = [(1.0, scale / 10, 1.0, 1.0), (0.3, scale / 4, 0.8, 2.5), (2.0, scale, 0.5, 5.0), (0.1, scale / 40, 2.0, 1.0)]
    best = maximize_likelihood(total, starting_points(starts, start), total_weight=float(w.sum()), penalizer=penalizer, log_penalizer=log_penalizer, names=PARAM_NAMES,
                              scales=(1.0, scale, 1.0, 1.0), gtol=gtol)
    if not best.converged and raise_on_failure:
        diagnostics, n, repeat = summary_diagnostics(x, t_x, big_t, w)
        raise fit_failure(MODEL_NAME, best.reason, diagnostics, summary_advice(n, repeat))
    r, alpha, a, b = (float(v) for v in best.params)
    return BetaGeoModel(BetaGeoParams(r, alpha, a, b), best.log_likelihood, int(round(w.sum())), bool(best.converged),
                          penalizer, log_penalizer)


def simulate(
    params: BetaGeoParams,
    T: ArrayLike,
    *,
    seed: int = 0,
    resolution: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (frequency, recency, T) for customers observed for ``T`` from the BG/NBD generative process ([1], §3).

    Per customer: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); K ~ Poisson(lambda T) purchase opportunities in
    (0, T]; the customer drops out right after repeat purchase N ~ Geometric(p) on {1, 2, ...}; so x = min(K, N),
    and t_x, the x-th of K uniform event times, is T * Beta(x, K - x + 1). Vectorised numpy, reproducible by
    ``seed``. With ``resolution`` (e.g. 1/7 for days when T is in weeks) recencies are floored to that grid, as
    summaries built from calendar days are.
    """
    rng = np.random.default_rng(seed)
    big_t = np.asarray(T, dtype=float)
    n = big_t.shape[0]
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    opportunities = rng.poisson(lam * big_t)
    drop_after = rng.geometric(np.clip(p, 1e-300, 1.0))
    x = np.minimum(opportunities, drop_after)
    repeat = x > 0
    t_x = np.zeros(n)
    t_x[repeat] = big_t[repeat] * rng.beta(x[repeat], opportunities[repeat] - x[repeat] + 1)
    if resolution is not None:
        t_x = np.minimum(np.floor(t_x / resolution) * resolution, big_t)
    return x.astype(float), t_x, big_t


def _unpack(params: BetaGeoParams) -> tuple[float, float, float, float]:
    return params.r, params.alpha, params.a, params.b


def _log_likelihood_terms(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, *, need_gradient: bool,
    distinct_x: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood (Eq. 6 of [1]) and, optionally, its gradient rows (4 x n) in (r, alpha, a, b).

    With u = -(r+x) ln(alpha+T), v = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x) and pi = expit(v - u) (0 when x = 0):
    d/dr = psi(r+x) - psi(r) + ln alpha - (1-pi) ln(alpha+T) - pi ln(alpha+t_x);
    d/dalpha = r/alpha - (r+x) [(1-pi)/(alpha+T) + pi/(alpha+t_x)];
    d/da = psi(a+b) - psi(a+b+x) + pi/a;  d/db = psi(b+x) - psi(b) + psi(a+b) - psi(a+b+x) - pi/(b+x-1).
    The special functions depend on x alone: with ``distinct_x`` = (distinct values, index of each row) they are
    computed once per distinct frequency, which is what makes large fits cheap.
    """
    r, alpha, a, b = params
    xs, at = distinct_x if distinct_x is not None else (x, slice(None))
    bx1_s = b + np.maximum(xs, 1) - 1
    by_x = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs) - betaln(a, b)
    log_a_over_bx1 = np.log(a) - np.log(bx1_s)
    repeat = x > 0
    log_alpha_t = np.log(alpha + big_t)
    log_alpha_tx = np.log(alpha + t_x)
    u = -(r + x) * log_alpha_t
    v = np.where(repeat, log_a_over_bx1[at] - (r + x) * log_alpha_tx, -np.inf)
    ll = by_x[at] + np.logaddexp(u, v)
    if not need_gradient:
        return ll, None
    pi = np.where(repeat, expit(v - u), 0.0)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + xs)[at]
    grad = np.empty((4, len(x)))
    grad[0] = (digamma(r + xs) - digamma(r))[at] + np.log(alpha) - (1 - pi) * log_alpha_t - pi * log_alpha_tx
    grad[1] = r / alpha - (r + x) * ((1 - pi) / (alpha + big_t) + pi / (alpha + t_x))
    grad[2] = psi_ab - psi_abx + pi / a
    grad[3] = (digamma(b + xs) - digamma(b))[at] + psi_ab - psi_abx - pi / bx1_s[at]
    return ll, grad
