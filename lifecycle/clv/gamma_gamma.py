"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005b; Fader & Hardie 2013).

Assumptions: a customer's transaction values are Gamma(shape p, rate nu) around their mean p/nu; nu ~ Gamma(shape q,
rate gamma) across customers; spend is independent of the transaction process (check: the correlation between
frequency and monetary value should be near 0). A customer is summarised by x repeat transactions with mean value
``monetary_value`` (z-bar, m-bar in the papers); only customers with x > 0 and a positive mean enter the fit.

References
----------
[1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005b). "RFM and CLV: Using Iso-Value Curves for Customer Base
    Analysis". Journal of Marketing Research 42(4), 415-430.
[2] Fader, P. S. & Hardie, B. G. S. (2013). "The Gamma-Gamma Model of Monetary Value".
    http://brucehardie.com/notes/025/ (likelihood Eq. 1a; conditional expectation Eq. 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.clv._deferred import digamma, gammaln
from lifecycle.clv._fitting import (
    DEFAULT_GTOL,
    PenaltyInfo,
    aggregate_rows,
    fit_failure,
    maximize_likelihood,
    starting_points,
)
from lifecycle.errors import ModelFitError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")

MODEL_NAME = "Gamma-Gamma"
PARAM_NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: transaction value ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class GammaGammaModel(PenaltyInfo):
    """A fitted Gamma-Gamma spend model: parameters, maximised log-likelihood, number of customers, convergence."""

    params: GammaGammaParams
    log_likelihood: float
    n: int
    converged: bool
    penalizer: float = 0.0
    log_penalizer: float = 0.0

    @property
    def population_mean_value(self) -> float:
        """E(Z) = p gamma / (q - 1): the mean transaction value across customers (infinite when q <= 1), [2]."""
        p, q, gamma = self.params.p, self.params.q, self.params.gamma
        return p * gamma / (q - 1) if q > 1 else float("inf")

    def conditional_expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """E(Z | p, q, gamma; z-bar, x) = (p (gamma + x z-bar)) / (p x + q - 1), Eq. (5) of [2].

        A weighted mean of the population mean p gamma/(q-1) (weight (q-1)/(px+q-1)) and the customer's own
        mean z-bar (weight px/(px+q-1)); for x = 0 it is the population mean. Requires q > 1.
        """
        p, q, gamma = self.params.p, self.params.q, self.params.gamma
        if q <= 1:
            raise ModelFitError(f"the expected spend is infinite when q <= 1 (q = {q:.4g}); refit with a penalizer or more repeat buyers")
        x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float))
        return p * (gamma + x * m) / (p * x + q - 1)


def log_likelihood(params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """Per-customer log-density of the mean z-bar of x transactions, Eq. (1a) of [2]:

    ``ln f = ln Gamma(px+q) - ln Gamma(px) - ln Gamma(q) + q ln gamma + (px-1) ln z-bar + px ln x
    - (px+q) ln(gamma + x z-bar)``.
    """
    x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float))
    ll, _ = _terms(np.array([params.p, params.q, params.gamma]), x, m, need_gradient=False)
    return ll


def fit(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    log_penalizer: float = 0.0,
    raise_on_failure: bool = True,
    start: Sequence[float] | None = None,
    gtol: float = DEFAULT_GTOL,
) -> GammaGammaModel:
    """Fit the Gamma-Gamma model by maximum likelihood on the customers with frequency > 0.

    Rows with frequency 0 are ignored (they have no repeat transaction values); the remaining monetary values must
    be positive. The gradient is analytic; starts scale with the mean spend, so gamma follows the currency unit
    while p and q do not. Raises ModelFitError with advice when the fit fails, unless ``raise_on_failure`` is False.

    ``start`` (parameters on their natural scale) runs one optimisation from that point instead of the model's several
    starts, and ``gtol`` is its stopping test (``lifecycle.clv._fitting.maximize_likelihood``): what lifetimes' own
    ``initial_params`` and ``tol`` do, so a benchmark can run both from the same start to the same tolerance.
    """
    x_all = np.asarray(frequency, dtype=float)
    m_all = np.asarray(monetary_value, dtype=float)
    if x_all.shape != m_all.shape or x_all.ndim != 1:
        raise ModelFitError(f"cannot fit {MODEL_NAME}: frequency and monetary_value must be 1-D arrays of one length")
    keep = x_all > 0
    if np.any(~np.isfinite(m_all[keep]) | (m_all[keep] <= 0)):
        bad = int(np.sum(~np.isfinite(m_all[keep]) | (m_all[keep] <= 0)))
        raise ModelFitError(f"cannot fit {MODEL_NAME}: {bad} repeat buyer(s) have a missing, zero or negative monetary value; "
                            "drop returns and zero-value orders, or fit on positive margins")
    w_all = np.ones(len(x_all)) if weights is None else np.asarray(weights, dtype=float)
    if int(keep.sum()) < 2:
        raise ModelFitError(f"cannot fit {MODEL_NAME}: {int(keep.sum())} customer(s) with repeat purchases; the model needs many more")
    (x, m), w = aggregate_rows(x_all[keep], m_all[keep], weights=w_all[keep])
    scale = float(np.average(m, weights=w))
    distinct_x = np.unique(x, return_inverse=True)

    logs = (np.log(m), np.log(x))

    def total(params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _terms(params, x, m, need_gradient=True, distinct_x=distinct_x, logs=logs)
        assert grad is not None
        return float(np.sum(w * ll)), (grad * w).sum(axis=1)

    starts = [(1.0, 2.0, scale), (5.0, 3.0, scale * 2), (0.5, 1.5, scale / 4), (20.0, 10.0, scale * 10)]
    best = maximize_likelihood(total, starting_points(starts, start), total_weight=float(w.sum()), penalizer=penalizer, log_penalizer=log_penalizer, names=PARAM_NAMES,
                              scales=(1.0, 1.0, scale), gtol=gtol)
    if not best.converged and raise_on_failure:
        cv = float(np.sqrt(np.average((m - scale) ** 2, weights=w)) / scale)
        diagnostics = f"{w.sum():.0f} repeat buyers, mean spend {scale:.4g}, coefficient of variation {cv:.3g}"
        raise fit_failure(MODEL_NAME, best.reason, diagnostics, [
            "pass penalizer=0.001 (up to 0.1) to keep the parameters finite",
            "check monetary_value is the mean of repeat transactions only, in one currency, without returns",
            "check there is heterogeneity in spend across customers (identical averages leave q and gamma unidentified)",
            "add data: the model needs some dozens of repeat buyers",
        ])
    p, q, gamma = (float(v) for v in best.params)
    return GammaGammaModel(GammaGammaParams(p, q, gamma), best.log_likelihood, int(round(w.sum())), bool(best.converged),
                          penalizer, log_penalizer)


def _terms(params: np.ndarray, x: np.ndarray, m: np.ndarray, *, need_gradient: bool,
           distinct_x: tuple[np.ndarray, np.ndarray] | None = None,
           logs: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood (Eq. 1a of [2]) and optionally its gradient rows in (p, q, gamma):

    d/dp = x [psi(px+q) - psi(px) + ln z-bar + ln x - ln(gamma + x z-bar)];
    d/dq = psi(px+q) - psi(q) + ln gamma - ln(gamma + x z-bar);  d/dgamma = q/gamma - (px+q)/(gamma + x z-bar).
    Gamma and digamma functions depend on x alone and are computed per distinct x when ``distinct_x`` is given;
    ``logs`` = (ln z-bar, ln x), which do not depend on the parameters, saves recomputing them on every call.
    """
    p, q, gamma = params
    xs, at = distinct_x if distinct_x is not None else (x, slice(None))
    pxs = p * xs
    px = p * x
    log_m, log_x = logs if logs is not None else (np.log(m), np.log(x))
    log_total = np.log(gamma + x * m)
    by_x = gammaln(pxs + q) - gammaln(pxs) - gammaln(q) + q * np.log(gamma)
    ll = by_x[at] + (px - 1) * log_m + px * log_x - (px + q) * log_total
    if not need_gradient:
        return ll, None
    psi_pxq = digamma(pxs + q)
    grad = np.empty((3, len(x)))
    grad[0] = x * ((psi_pxq - digamma(pxs))[at] + log_m + log_x - log_total)
    grad[1] = (psi_pxq - digamma(q))[at] + np.log(gamma) - log_total
    grad[2] = q / gamma - (px + q) / (gamma + x * m)
    return ll, grad
