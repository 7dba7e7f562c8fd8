"""The MBG/NBD model (modified beta-geometric / NBD): the BG/NBD in which a one-time buyer can be dead too.

Assumptions (Batislam, Denizel & Filiztekin 2007, §2): while active a customer buys as a Poisson process with rate
lambda, lambda ~ Gamma(shape r, rate alpha) across customers; at *every* purchase, the first one included, the
customer drops out with probability p, p ~ Beta(a, b) across customers. The BG/NBD (Fader, Hardie & Lee 2005) lets a
customer drop out only after a repeat purchase, so there a customer without repeat purchases is alive for sure
(P(alive) = 1) however long ago they bought; here a customer with x repeat purchases has survived x + 1 drop-out
chances, and a one-time buyer's P(alive) falls with the time since their purchase. Hoppe & Wagner's (2007) CBG/NBD
is the same model. A customer is summarised by (x, t_x, T) = (frequency, recency, T).

Individual level (given lambda and p): L = (1-p)^(x+1) lambda^x e^(-lambda T) + p (1-p)^x lambda^x e^(-lambda t_x)
(alive at T after surviving x + 1 chances, or dropped out right after the purchase at t_x); mixing over
Gamma(r, alpha) and Beta(a, b) gives Eq. (1) below. The expressions are those of [1] as implemented by BTYDplus
(``mbgnbd``) and lifetimes (``ModifiedBetaGeoFitter``), re-derived here from the individual level; the tests pin
them by numerical integration over the heterogeneity distributions.

Equations (numbered as in docs/clv.md):

- (M1) likelihood: ``L = Gamma(r+x) alpha^r / Gamma(r) * B(a, b+x+1)/B(a, b)
  * [(alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x)]`` (B(a+1, b+x)/B(a, b+x+1) = a/(b+x); no delta(x > 0) term).
- (M2) P(alive | x, t_x, T) = 1 / [1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)].
- (M3) E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]: repeat purchases in (0, t] of a
  customer who has just made their first purchase.
- (M4) E[Y(t) | x, t_x, T] = (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))]
  * P(alive | x, t_x, T): purchases in (T, T+t].

References
----------
[1] Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). "Empirical validation and comparison of models for
    customer base analysis". International Journal of Research in Marketing 24(3), 201-209.
[2] Hoppe, D. & Wagner, U. (2007). "Customer base analysis: The case for a central variant of the Betageometric/NBD
    model". Marketing - Journal of Research and Management 3(2), 75-90.
[3] Platzer, M. BTYDplus (R package), ``mbgnbd.*`` functions and demo/cdnow.R: CDNOW estimates r 0.525,
    alpha 6.183, a 0.891, b 1.614. https://github.com/mplatzer/BTYDplus
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

MODEL_NAME = "MBG/NBD"
PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class ModifiedBetaGeoParams:
    """MBG/NBD parameters: lambda ~ Gamma(r, alpha) (alpha in the time unit of T), p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class ModifiedBetaGeoModel(PenaltyInfo):
    """A fitted MBG/NBD model: parameters, maximised log-likelihood, number of customers, convergence."""

    params: ModifiedBetaGeoParams
    log_likelihood: float
    n: int
    converged: bool
    penalizer: float = 0.0
    log_penalizer: float = 0.0

    def expected_purchases(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)], Eq. (M3): expected repeat purchases in (0, t] of a customer who has just made a first purchase.

        ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``; it is (M4) at x = t_x = T = 0, where
        P(alive) = b/(a+b), the chance to survive the first purchase. Evaluated as (M4) is (see there).
        """
        t = np.asarray(t, dtype=float)
        return self.conditional_expected_purchases(t, np.zeros_like(t), np.zeros_like(t), np.zeros_like(t))

    def conditional_expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """E[Y(t) | x, t_x, T], Eq. (M4): expected purchases in (T, T+t] of a customer with history (x, t_x, T).

        ``(a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)] P(alive)``, z = t/(alpha+T+t):
        a surviving customer's posterior is lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x+1), and E[(1 - e^(-lambda
        p t))/p] under it is the bracket. As in the BG/NBD (Fader & Hardie 2013, #NUM! note) the power and the 2F1 are
        combined by Euler's transformation, ``(1-z)^(r+x) 2F1(r+x, b+x+1; c; z) = (1-z)^(a-1) 2F1(a+b-r, a-1; c; z)``
        with c = a+b+x, so large x does not overflow. At a = 1 exactly the expression is 0/0; a is nudged by 1e-7.
        """
        r, alpha, a, b = _unpack(self.params)
        if abs(a - 1) < 1e-7:
            a = 1 + 1e-7
        t, x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, frequency, recency, T)))
        z = t / (alpha + big_t + t)
        euler = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b + x, z)
        return (a + b + x) / (a - 1) * (1 - euler) * self.p_alive(x, t_x, big_t)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / [1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)], Eq. (M2).

        Below 1 for every customer, one-time buyers included (x = 0: 1 / [1 + a/b ((alpha+T)/alpha)^r]).
        """
        r, alpha, a, b = _unpack(self.params)
        x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
        log_odds_dead = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return expit(-log_odds_dead)


def log_likelihood(params: ModifiedBetaGeoParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood, Eq. (M1), in log space:

    ``ln L = ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln B(a, b+x+1) - ln B(a, b)
    + ln[(alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x)]``; the last term is a log-sum-exp.
    """
    x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
    ll, _ = _log_likelihood_terms(np.array(_unpack(params)), x.ravel(), t_x.ravel(), big_t.ravel(), need_gradient=False)
    return ll.reshape(x.shape)


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
) -> ModifiedBetaGeoModel:
    """Fit the MBG/NBD by maximum likelihood on per-customer (frequency, recency, T) summaries.

    As :func:`lifecycle.clv.beta_geo.fit`: identical rows aggregated, special functions per distinct frequency,
    analytic gradient, starts scaled by the median T (alpha follows the time unit; r, a, b do not), penalties of
    :mod:`lifecycle.clv._fitting`. Raises ModelFitError with advice when no start converges, unless
    ``raise_on_failure`` is False, in which case the best attempt is returned with ``converged=False``.

    ``start`` (parameters on their natural scale) runs one optimisation from that point instead of the model's several
    starts, and ``gtol`` is its stopping test (``lifecycle.clv._fitting.maximize_likelihood``): what lifetimes' own
    ``initial_params`` and ``tol`` do, so a benchmark can run both from the same start to the same tolerance.
    """
    x, t_x, big_t = check_summary(np.asarray(frequency), np.asarray(recency), np.asarray(T), MODEL_NAME)
    (x, t_x, big_t), w = aggregate_rows(x, t_x, big_t, weights=weights)
    scale = float(np.median(big_t)) or 1.0
    distinct_x = np.unique(x, return_inverse=True)

    def total(params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _log_likelihood_terms(params, x, t_x, big_t, need_gradient=True, distinct_x=distinct_x)
        assert grad is not None
        return float(np.sum(w * ll)), (grad * w).sum(axis=1)

    starts = [(1.0, scale / 10, 1.0, 1.0), (0.3, scale / 4, 0.8, 2.5), (2.0, scale, 0.5, 5.0), (0.1, scale / 40, 2.0, 1.0)]
    best = maximize_likelihood(total, starting_points(starts, start), total_weight=float(w.sum()), penalizer=penalizer, log_penalizer=log_penalizer,
                               names=PARAM_NAMES, scales=(1.0, scale, 1.0, 1.0), gtol=gtol)
    if not best.converged and raise_on_failure:
        diagnostics, n, repeat = summary_diagnostics(x, t_x, big_t, w)
        raise fit_failure(MODEL_NAME, best.reason, diagnostics, summary_advice(n, repeat))
    r, alpha, a, b = (float(v) for v in best.params)
    return ModifiedBetaGeoModel(ModifiedBetaGeoParams(r, alpha, a, b), best.log_likelihood, int(round(w.sum())),
                                bool(best.converged), penalizer, log_penalizer)


def simulate(
    params: ModifiedBetaGeoParams,
    T: ArrayLike,
    *,
    seed: int = 0,
    resolution: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (frequency, recency, T) for customers observed for ``T`` from the MBG/NBD generative process ([1], §2).

    Per customer: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); K ~ Poisson(lambda T) purchase opportunities in
    (0, T]; the customer drops out at purchase D ~ Geometric(p) on {0, 1, 2, ...} (0: right after the first
    purchase), so x = min(K, D), and t_x, the x-th of K uniform event times, is T * Beta(x, K - x + 1).
    Vectorised numpy, reproducible by ``seed``; ``resolution`` floors recencies to a grid (e.g. 1/7 for days when
    T is in weeks), as summaries built from calendar days are.
    """
    rng = np.random.default_rng(seed)
    big_t = np.asarray(T, dtype=float)
    n = big_t.shape[0]
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    opportunities = rng.poisson(lam * big_t)
    drop_at = rng.geometric(np.clip(p, 1e-300, 1.0)) - 1
    x = np.minimum(opportunities, drop_at)
    repeat = x > 0
    t_x = np.zeros(n)
    t_x[repeat] = big_t[repeat] * rng.beta(x[repeat], opportunities[repeat] - x[repeat] + 1)
    if resolution is not None:
        t_x = np.minimum(np.floor(t_x / resolution) * resolution, big_t)
    return x.astype(float), t_x, big_t


def _unpack(params: ModifiedBetaGeoParams) -> tuple[float, float, float, float]:
    return params.r, params.alpha, params.a, params.b


def _log_likelihood_terms(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, *, need_gradient: bool,
    distinct_x: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood (Eq. M1) and, optionally, its gradient rows (4 x n) in (r, alpha, a, b).

    With u = -(r+x) ln(alpha+T), v = ln a - ln(b+x) - (r+x) ln(alpha+t_x) and pi = expit(v - u), the posterior
    probability of having dropped out:
    d/dr = psi(r+x) - psi(r) + ln alpha - (1-pi) ln(alpha+T) - pi ln(alpha+t_x);
    d/dalpha = r/alpha - (r+x) [(1-pi)/(alpha+T) + pi/(alpha+t_x)];
    d/da = psi(a+b) - psi(a+b+x+1) + pi/a;  d/db = psi(b+x+1) - psi(b) + psi(a+b) - psi(a+b+x+1) - pi/(b+x).
    Functions of x alone are computed once per distinct frequency when ``distinct_x`` is given.
    """
    r, alpha, a, b = params
    xs, at = distinct_x if distinct_x is not None else (x, slice(None))
    by_x = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs + 1) - betaln(a, b)
    log_a_over_bx = np.log(a) - np.log(b + xs)
    log_alpha_t = np.log(alpha + big_t)
    log_alpha_tx = np.log(alpha + t_x)
    u = -(r + x) * log_alpha_t
    v = log_a_over_bx[at] - (r + x) * log_alpha_tx
    ll = by_x[at] + np.logaddexp(u, v)
    if not need_gradient:
        return ll, None
    pi = expit(v - u)
    psi_ab = digamma(a + b)
    psi_abx1 = digamma(a + b + xs + 1)[at]
    grad = np.empty((4, len(x)))
    grad[0] = (digamma(r + xs) - digamma(r))[at] + np.log(alpha) - (1 - pi) * log_alpha_t - pi * log_alpha_tx
    grad[1] = r / alpha - (r + x) * ((1 - pi) / (alpha + big_t) + pi / (alpha + t_x))
    grad[2] = psi_ab - psi_abx1 + pi / a
    grad[3] = (digamma(b + xs + 1) - digamma(b))[at] + psi_ab - psi_abx1 - pi / (b + xs)[at]
    return ll, grad
