"""The Pareto/NBD model for non-contractual repeat buying (Schmittlein, Morrison & Colombo 1987).

Assumptions: while alive a customer buys as a Poisson process with rate lambda, lambda ~ Gamma(shape r, rate alpha);
the unobserved lifetime is exponential with rate mu, mu ~ Gamma(shape s, rate beta); lambda and mu are independent.
A customer is summarised by (x, t_x, T) = (frequency, recency, T).

Numerics. Every quantity goes through the tail integral (the derivation route of [2], §3)

    J(t) = integral from t to infinity of (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau,

because the second term of the likelihood is ``s * (J(t_x) - J(T))`` and ``(s/(r+s+x)) A0`` of [2] equals it.
In the note's form, with m = max(alpha, beta), A = r+s+x, and the hypergeometric arguments chosen by the sign of
alpha - beta, ``J(t) = 2F1(e, A; A+1; |alpha-beta|/(m+t)) / (A (m+t)^A)`` where e = s+1 if alpha >= beta and
e = r+x if alpha < beta. We evaluate it in log space after Euler's transformation,
``2F1(e, A; A+1; z) = (1-z)^(1-e) 2F1(1, e'; A+1; z)`` (e' = A+1-e, the other exponent), whose series has
positive terms and no overflowing power; where scipy's ``hyp2f1`` does not return a finite value (it loses its
way for z close to 1 with large parameters) J is computed by composite Gauss-Legendre quadrature of its Euler
integral instead. The gradient differentiates under the integral: in alpha and beta it is exact (dJ/dalpha and
dJ/dbeta are tail integrals with one exponent raised by 1); in r and s, where 2F1 has no closed-form derivative in
its parameters, ln J is differenced per distinct (x, t) pair (see :func:`_log_likelihood_and_gradient`).

References
----------
[1] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). "Counting Your Customers: Who Are They and What Will
    They Do Next?" Management Science 33(1), 1-24.
[2] Fader, P. S. & Hardie, B. G. S. (2005). "A Note on Deriving the Pareto/NBD Model and Related Expressions".
    http://brucehardie.com/notes/009/ (likelihood §3; E[X(t)] Eq. 27; P(alive) §5.1, Eqs. 36-37;
    conditional expectation Eq. 41).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from lifecycle.clv._deferred import digamma, expit, gammaln, hyp2f1
from lifecycle.clv._fitting import (
    DEFAULT_GTOL,
    PenaltyInfo,
    aggregate_rows,
    check_summary,
    distinct_rows,
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

MODEL_NAME = "Pareto/NBD"
PARAM_NAMES = ("r", "alpha", "s", "beta")


@dataclass(frozen=True)
class ParetoNBDParams:
    """Pareto/NBD parameters: lambda ~ Gamma(r, alpha), mu ~ Gamma(s, beta) (alpha, beta in the time unit of T)."""

    r: float
    alpha: float
    s: float
    beta: float


@dataclass(frozen=True)
class ParetoNBDModel(PenaltyInfo):
    """A fitted Pareto/NBD model: parameters, maximised log-likelihood, number of customers, convergence."""

    params: ParetoNBDParams
    log_likelihood: float
    n: int
    converged: bool
    penalizer: float = 0.0
    log_penalizer: float = 0.0

    def expected_purchases(self, t: ArrayLike) -> np.ndarray:
        """E[X(t)] = r beta / (alpha (s-1)) * [1 - (beta/(beta+t))^(s-1)] for a new customer, Eq. (27) of [2].

        At s = 1 this is the limit r beta/alpha * ln((beta+t)/beta).
        """
        r, alpha, s, beta = _unpack(self.params)
        t = np.asarray(t, dtype=float)
        return r * beta / alpha * _one_minus_power_over(np.log(beta / (beta + t)), s - 1)

    def conditional_expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t], Eq. (41) of [2]:

        ``(r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)] * P(alive | x, t_x, T)``
        (the s = 1 limit replaces the bracket over s-1 by ln((beta+T+t)/(beta+T))).
        """
        r, alpha, s, beta = _unpack(self.params)
        t, x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, frequency, recency, T)))
        growth = _one_minus_power_over(np.log((beta + big_t) / (beta + big_t + t)), s - 1)
        return (r + x) * (beta + big_t) / (alpha + big_t) * growth * self.p_alive(x, t_x, big_t)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / [1 + (s/(r+s+x)) (alpha+T)^(r+x) (beta+T)^s A0], [2] §5.1 (Eqs. 36-37).

        Computed as ``expit(-[ln s + ln(J(t_x) - J(T)) + (r+x) ln(alpha+T) + s ln(beta+T)])`` with J the tail
        integral of the module docstring.
        """
        r, alpha, s, beta = _unpack(self.params)
        x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
        log_dead = np.log(s) + _log_integral_between(r, alpha, s, beta, x, t_x, big_t)
        log_alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        return expit(log_alive - log_dead)


def log_likelihood(params: ParetoNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood ([2] §3), in log space:

    ``ln L = ln Gamma(r+x) - ln Gamma(r) + r ln alpha + s ln beta
    + ln[(alpha+T)^-(r+x) (beta+T)^-s + s (J(t_x) - J(T))]``,

    where ``s (J(t_x) - J(T)) = (s/(r+s+x)) A0`` in the note's notation (A0 in its alpha >= beta and alpha < beta
    forms); the bracket is a log-sum-exp and ``ln(J(t_x) - J(T)) = ln J(t_x) + ln(1 - exp(ln J(T) - ln J(t_x)))``.
    """
    r, alpha, s, beta = _unpack(params)
    x, t_x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
    log_j_tx = _log_tail_integral(r, alpha, s, beta, x, t_x)
    log_j_t = _log_tail_integral(r, alpha, s, beta, x, big_t)
    return _assemble(r, alpha, s, beta, x, big_t, log_j_tx, log_j_t)


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
) -> ParetoNBDModel:
    """Fit the Pareto/NBD by maximum likelihood on per-customer (frequency, recency, T) summaries.

    Identical rows are aggregated, and the expensive tail integrals are computed once per distinct (x, t) pair
    (t being a recency or a T). Starting points scale with the median T, so alpha and beta follow the time unit while
    r and s do not. Raises ModelFitError with advice when no start converges, unless ``raise_on_failure`` is False.

    ``penalizer`` and ``log_penalizer`` are the L2 penalties of :mod:`lifecycle.clv._fitting`. When the data show
    no drop-out (s runs to 0: the NBD without death fits as well, as on the UCI Online Retail log) only
    ``log_penalizer`` helps: ``penalizer`` pulls s further towards 0, while ``log_penalizer=0.01`` keeps s near its
    scale unless the data pull it away, and the fit (``penalized`` is then True) is a MAP estimate.

    ``start`` (parameters on their natural scale) runs one optimisation from that point instead of the model's several
    starts, and ``gtol`` is its stopping test (``lifecycle.clv._fitting.maximize_likelihood``): what lifetimes' own
    ``initial_params`` and ``tol`` do, so a benchmark can run both from the same start to the same tolerance.
    """
    x, t_x, big_t = check_summary(np.asarray(frequency), np.asarray(recency), np.asarray(T), MODEL_NAME)
    (x, t_x, big_t), w = aggregate_rows(x, t_x, big_t, weights=weights)
    pair_x, pair_t, index_tx, index_t = _distinct_pairs(x, t_x, big_t)
    scale = float(np.median(big_t))
    distinct_x = np.unique(x, return_inverse=True)

    def total(params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _log_likelihood_and_gradient(params, x, big_t, pair_x, pair_t, index_tx, index_t, distinct_x)
        return float(np.sum(w * ll)), grad @ w

    starts = [(0.5, scale / 4, 0.5, scale / 4), (1.0, scale / 10, 1.0, scale), (0.2, scale / 20, 2.0, scale / 2), (3.0, scale, 0.3, scale / 10)]
    best = maximize_likelihood(total, starting_points(starts, start), total_weight=float(w.sum()), penalizer=penalizer, log_penalizer=log_penalizer, names=PARAM_NAMES,
                              scales=(1.0, scale, 1.0, scale), gtol=gtol,
                              runaway=_homogeneous_dropout(scale) if penalizer == 0 and log_penalizer == 0 else None)
    if not best.converged and raise_on_failure:
        diagnostics, n, repeat = summary_diagnostics(x, t_x, big_t, w)
        raise fit_failure(MODEL_NAME, best.reason, diagnostics, summary_advice(n, repeat))
    r, alpha, s, beta = (float(v) for v in best.params)
    return ParetoNBDModel(ParetoNBDParams(r, alpha, s, beta), best.log_likelihood, int(round(w.sum())), bool(best.converged),
                          penalizer, log_penalizer)


RUNAWAY_FACTOR = 1e3
"""An unpenalised fit whose s and beta both pass this many times their scales (1 and the median T) has left for the
boundary where the drop-out rates have no heterogeneity (see :func:`_homogeneous_dropout`)."""


def _homogeneous_dropout(scale: float) -> Callable[[np.ndarray], str | None]:
    """The runaway test of an unpenalised Pareto/NBD fit (``lifecycle.clv._fitting.maximize_likelihood``).

    mu ~ Gamma(s, beta) has mean s/beta and coefficient of variation 1/sqrt(s). When the data show one drop-out rate
    for everybody, the likelihood keeps rising as s and beta grow together at a fixed ratio (mu's spread shrinking to
    0): it has no interior maximum, and L-BFGS-B crawls along that ridge until its line search fails — on the
    orders-only demo shop's win-back scope (2,037 customers) four starts of about 100 likelihood evaluations each,
    26 s of CPU, before the penalised refit answered in 0.1 s. Once s > ``RUNAWAY_FACTOR`` (mu's spread under 3.2% of
    its mean) and beta > ``RUNAWAY_FACTOR`` times its scale, the run is stopped and the fit reported as not converged
    with this reason, so the caller's penalised refit (:func:`lifecycle.clv.order_models.fit_transaction_model`)
    answers at once. Fits that converge stay far below both thresholds (CDNOW: s 0.61, beta 11.7 weeks)."""
    def runaway(params: np.ndarray) -> str | None:
        s, beta = float(params[2]), float(params[3])
        if s > RUNAWAY_FACTOR and beta > RUNAWAY_FACTOR * scale:
            return (f"s and beta ran off towards infinity together (s {s:.3g}, beta {beta:.3g}, the mean drop-out rate "
                    f"s/beta staying near {s / beta:.3g}): the drop-out rates show no heterogeneity, and the "
                    "likelihood has no interior maximum")
        return None

    return runaway


def log_tail_integral(params: ParetoNBDParams, frequency: ArrayLike, t: ArrayLike) -> np.ndarray:
    """ln J(t) = ln of the integral from t to infinity of (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau (see module)."""
    r, alpha, s, beta = _unpack(params)
    x, t = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(t, dtype=float))
    return _log_tail_integral(r, alpha, s, beta, x, t)


def _unpack(params: ParetoNBDParams) -> tuple[float, float, float, float]:
    return params.r, params.alpha, params.s, params.beta


def _assemble(r: float, alpha: float, s: float, beta: float, x: np.ndarray, big_t: np.ndarray,
              log_j_tx: np.ndarray, log_j_t: np.ndarray, distinct_x: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    log_alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
    log_dead = np.log(s) + _log_difference(log_j_tx, log_j_t)
    xs, at = distinct_x if distinct_x is not None else (x, slice(None))
    return gammaln(r + xs)[at] - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(log_alive, log_dead)


def _log_likelihood_and_gradient(
    params: np.ndarray, x: np.ndarray, big_t: np.ndarray, pair_x: np.ndarray, pair_t: np.ndarray,
    index_tx: np.ndarray, index_t: np.ndarray, distinct_x: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood ([2] §3) and its gradient rows (4 x n) in (r, alpha, s, beta).

    With A = -(r+x) ln(alpha+T) - s ln(beta+T), B = ln s + ln D, D = J(t_x) - J(T) and w = expit(B - A):
    d/dr = psi(r+x) - psi(r) + ln alpha - (1-w) ln(alpha+T) + w dlnD/dr;
    d/dalpha = r/alpha - (1-w)(r+x)/(alpha+T) + w dlnD/dalpha;
    d/ds = ln beta - (1-w) ln(beta+T) + w (1/s + dlnD/ds);  d/dbeta = s/beta - (1-w) s/(beta+T) + w dlnD/dbeta;
    and dlnD = (g(t_x) - rho g(T)) / (1 - rho) with rho = J(T)/J(t_x) and g = dlnJ. Differentiating under the
    integral, dJ/dalpha = -(r+x) J with x+1 and dJ/dbeta = -(s+1) J with s+1 (the same tail integrals with one
    exponent raised), so g is exact in alpha and beta. In r and s (exponents, where 2F1 has no closed-form
    derivative) g is a central difference of ln J per distinct (x, t) pair, step 1e-6 relative.
    """
    r, alpha, s, beta = params
    log_j = _log_tail_integral(r, alpha, s, beta, pair_x, pair_t)
    h_r, h_s = 1e-6 * r, 1e-6 * s
    pair_grad = (
        (_log_tail_integral(r + h_r, alpha, s, beta, pair_x, pair_t) - _log_tail_integral(r - h_r, alpha, s, beta, pair_x, pair_t)) / (2 * h_r),
        -(r + pair_x) * np.exp(_log_tail_integral(r, alpha, s, beta, pair_x + 1, pair_t) - log_j),
        (_log_tail_integral(r, alpha, s + h_s, beta, pair_x, pair_t) - _log_tail_integral(r, alpha, s - h_s, beta, pair_x, pair_t)) / (2 * h_s),
        -(s + 1) * np.exp(_log_tail_integral(r, alpha, s + 1, beta, pair_x, pair_t) - log_j),
    )
    log_j_tx, log_j_t = log_j[index_tx], log_j[index_t]
    ll = _assemble(r, alpha, s, beta, x, big_t, log_j_tx, log_j_t, distinct_x)
    log_alpha_t, log_beta_t = np.log(alpha + big_t), np.log(beta + big_t)
    log_dead = np.log(s) + _log_difference(log_j_tx, log_j_t)
    w = expit(log_dead + (r + x) * log_alpha_t + s * log_beta_t)
    rho = np.exp(np.minimum(log_j_t - log_j_tx, 0.0))
    dead = w > 0  # D > 0; where t_x = T, D = 0 and the dead term (weight 0) has no gradient
    w_dead, rho_dead = w[dead], rho[dead]

    def dead_part(g: np.ndarray) -> np.ndarray:
        out = np.zeros(len(x))
        out[dead] = w_dead * (g[index_tx[dead]] - rho_dead * g[index_t[dead]]) / (1 - rho_dead)
        return out

    xs, at = distinct_x
    grad = np.empty((4, len(x)))
    grad[0] = (digamma(r + xs) - digamma(r))[at] + np.log(alpha) - (1 - w) * log_alpha_t + dead_part(pair_grad[0])
    grad[1] = r / alpha - (1 - w) * (r + x) / (alpha + big_t) + dead_part(pair_grad[1])
    grad[2] = np.log(beta) - (1 - w) * log_beta_t + w / s + dead_part(pair_grad[2])
    grad[3] = s / beta - (1 - w) * s / (beta + big_t) + dead_part(pair_grad[3])
    return ll, grad


def _log_integral_between(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """ln(J(t_x) - J(T)): the log of the integral from t_x to T; -inf when t_x = T."""
    return _log_difference(_log_tail_integral(r, alpha, s, beta, x, t_x), _log_tail_integral(r, alpha, s, beta, x, big_t))


def _log_difference(log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
    """ln(e^a - e^b) for a >= b (rounding can make b a hair above a: the difference is then 0, ln = -inf)."""
    gap = np.minimum(log_b - log_a, 0.0)
    with np.errstate(divide="ignore"):
        return log_a + np.log(-np.expm1(gap))


def _log_tail_integral(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """ln J(t): Euler-transformed hypergeometric series where z < 0.9, quadrature of the Euler integral beyond."""
    alpha_is_max = alpha >= beta
    big, small = (alpha, beta) if alpha_is_max else (beta, alpha)
    x, t = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(t, dtype=float))
    e_small = np.broadcast_to((s + 1) if alpha_is_max else (r + x), x.shape)  # exponent of the (min + tau) factor
    e_big = np.broadcast_to((r + x) if alpha_is_max else (s + 1), x.shape)
    a_total = r + s + x
    log_m_big = np.log(big + t)
    one_minus_z = (small + t) / (big + t)
    z = (big - small) / (big + t)
    out = np.empty(x.shape)
    near = z >= _SERIES_LIMIT
    far = ~near
    with np.errstate(all="ignore"):
        series = hyp2f1(1.0, e_big[far], a_total[far] + 1, z[far])
        out[far] = (-a_total[far] * log_m_big[far] + (1 - e_small[far]) * np.log(one_minus_z[far])
                    + np.log(series) - np.log(a_total[far]))
    if np.any(near):
        out[near] = -a_total[near] * log_m_big[near] + _log_euler_integral(a_total[near], e_small[near], z[near], one_minus_z[near])
    return out


_SERIES_LIMIT = 0.9
"""Above this argument scipy's hyp2f1 can be inaccurate or non-finite for large parameters; quadrature is used."""


def _log_euler_integral(a: np.ndarray, e: np.ndarray, z: np.ndarray, one_minus_z: np.ndarray) -> np.ndarray:
    """ln of the integral over v in (0, 1) of v^(a-1) (1 - z v)^(-e), by composite Gauss-Legendre quadrature.

    Substituting v = (1-y)^(1/a) removes the v^(a-1) singularity: the integral is (1/a) times the integral over
    y in (0, 1) of (1 - z v)^(-e), where 1 - z v = (1-z) + z (1-v) is formed without cancellation. The panels are
    geometric towards both ends of (0, 1) (ratio 4) to resolve the near-singular factor at y -> 0,
    whose scale is about a (1-z), and the infinite slope of (1-y)^(1/a) at y -> 1; the sum is taken in log space.
    """
    log_one_minus_y, weights = _panel_rule()
    distinct_a, row = np.unique(a, return_inverse=True)  # a = r+s+x takes one value per frequency
    log_f = (-np.expm1(log_one_minus_y[None, :] / distinct_a[:, None]))[row]  # 1 - v, one row per row of a
    # -e ln((1-z) + z (1-v)), in place: the arrays are large (rows x 564), and a new one per step costs more
    # (allocation and first-touch page faults) than the arithmetic
    np.multiply(z[:, None], log_f, out=log_f)
    np.add(one_minus_z[:, None], log_f, out=log_f)
    np.log(log_f, out=log_f)
    np.multiply(-e[:, None], log_f, out=log_f)
    return _log_weighted_row_sums(log_f, weights) - np.log(a)


def _log_weighted_row_sums(log_f: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ln sum_j weights_j exp(log_f[i, j]) per row i, for positive weights: the arithmetic of
    ``scipy.special.logsumexp(log_f, b=weights[None, :], axis=1)`` (as of SciPy 1.17), operation for operation, so
    the result is the same to the last bit, without its array-API dispatch and its second, unshifted pass over the
    array. ``log_f`` is overwritten.

    As SciPy does: every element equal to its row's maximum ``a_max`` is taken out of the sum, their weights summed
    into ``m``, and ``a_max + ln m + log1p(s / m)`` is returned, s being the weighted sum of exp(log_f - a_max) over
    the other elements; a row where that is not finite (a maximum of -inf, +inf or NaN) gets the direct
    ``ln sum weights exp(log_f)`` instead. (With a finite maximum every step is finite: m >= the smallest weight,
    0 <= s <= the sum of the weights; so only rows with a non-finite maximum can need the direct sum.)
    """
    a_max = np.max(log_f, axis=1, keepdims=True)
    at_max = log_f == a_max
    if np.all(np.count_nonzero(at_max, axis=1) == 1):  # one maximum per row: the masked weight sum is that weight
        m = weights[np.argmax(log_f, axis=1)][:, None]
    else:
        m = np.sum(weights * at_max, axis=1, keepdims=True)
    unbounded = ~np.isfinite(a_max[:, 0])
    direct_rows = log_f[unbounded] if np.any(unbounded) else None
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.subtract(log_f, a_max, out=log_f)
        np.exp(terms, out=terms)
        np.copyto(terms, 0.0, where=at_max)  # exp(-inf): SciPy sets the maxima to -inf before shifting
        terms *= weights
        s = np.sum(terms, axis=1, keepdims=True)
        s = np.where(s == 0, s, s / m)
        negative = np.sign(s + 1) * np.sign(m) < 0
        s = np.where(s < -1, -s - 2, s)
        out = np.log1p(s) + np.log(np.abs(m)) + a_max
    out[negative] = np.nan
    out = out[:, 0]
    infinite = ~np.isfinite(out)
    if np.any(infinite):
        assert direct_rows is not None and np.array_equal(infinite, unbounded), "a finite row maximum gave a non-finite sum"
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out[infinite] = np.log(np.sum(weights[None, :] * np.exp(direct_rows), axis=1))
    return out


@lru_cache(maxsize=1)
def _panel_rule(points_per_panel: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """ln(1 - y) at the nodes of the composite Gauss-Legendre rule on y in (0, 1), and the weights.

    Panels [4^-(k+1), 4^-k] reach y = 4^-26 on the lower half and u = 1 - y = 4^-21 on the upper half, so each end
    is resolved geometrically; ln(1 - y) is computed from u directly on the upper half, where 1 - y loses digits.
    """
    base_x, base_w = np.polynomial.legendre.leggauss(points_per_panel)

    def geometric(levels: int) -> tuple[np.ndarray, np.ndarray]:
        edges = np.concatenate([[0.0], 0.5 * 4.0 ** np.arange(-levels, 1)])
        lo, hi = edges[:-1, None], edges[1:, None]
        return (lo + (hi - lo) * (base_x[None, :] + 1) / 2).ravel(), ((hi - lo) * base_w[None, :] / 2).ravel()

    lower, lower_w = geometric(25)
    upper, upper_w = geometric(20)
    return np.concatenate([np.log1p(-lower), np.log(upper)]), np.concatenate([lower_w, upper_w])


def _distinct_pairs(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t) pairs over recencies and T's, and the index of each row's (x, t_x) and (x, T) pair."""
    n = len(x)
    (pair_x, pair_t), inverse = distinct_rows(np.concatenate([x, x]), np.concatenate([t_x, big_t]))
    return pair_x, pair_t, inverse[:n], inverse[n:]


def _one_minus_power_over(log_ratio: np.ndarray, k: float) -> np.ndarray:
    """(1 - exp(k * log_ratio)) / k, with its k -> 0 limit -log_ratio; log_ratio <= 0."""
    if abs(k) < 1e-12:
        return -log_ratio
    return -np.expm1(k * log_ratio) / k
