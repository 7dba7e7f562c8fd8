"""Shared maximum-likelihood machinery for the CLV models.

Every model is fitted the same way:

1. Its summary arrays are checked (:func:`check_summary`) and identical rows are aggregated into one row with a
   weight (:func:`aggregate_rows`); a likelihood is a weighted sum over the distinct rows, so a million customers
   whose (frequency, recency, T) take a few tens of thousands of distinct values cost as much as those.
2. The positive parameters are optimised on the log scale, ``theta = log(params / scales)``, minimising
   ``-LL(params) / N + penalizer * sum(params ** 2) + log_penalizer * sum(theta ** 2)``: the mean negative
   log-likelihood plus two optional L2 penalties. ``penalizer`` is the ``lifetimes`` package's penalty on the
   parameters themselves (same objective and scale, so a value carries over); it only stops parameters running to
   infinity, and pulls them towards 0. ``log_penalizer`` penalises the log-parameters' distance from their scales
   (1 for shape parameters, the data's size for rate parameters): a log-normal prior, so the fit is a MAP estimate
   that also stops a parameter running to 0 (e.g. the Pareto/NBD's s when the data show no drop-out).
3. L-BFGS-B runs from several starting points (a model's gradient is analytic where practical, central finite
   differences otherwise); the best optimum wins, and the runs stop once two of them agree on the maximum. If those
   two reached it with different parameters, the maximum is a flat ridge and the fit has not converged.
   The optimizer runs with BLAS limited to one thread (:func:`single_threaded_blas`).
4. A fit that fails (optimizer failure, non-finite likelihood, or a parameter running off to 0 or infinity, which is
   what a likelihood with no interior maximum does; a line search that stalls on rounding noise where the gradient
   is already below 1e-6 is not a failure) raises :class:`~lifecycle.errors.ModelFitError` with the data's
   diagnostics and advice, unless the caller asks for the best attempt instead (``converged=False``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

from lifecycle.clv._deferred import minimize
from lifecycle.errors import ModelFitError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

LOG_PARAM_BOUND = 16.0
"""Parameters are searched within a factor e^16 (about 8.9e6) either side of their scale (1 for shape parameters,
the data's typical size for rate parameters such as alpha, beta, gamma)."""

LOG_EDGE = math.log(1e6)
"""An optimum more than a factor 1e6 away from a parameter's scale has run off towards 0 or infinity."""
DEFAULT_GTOL = 1e-10
"""Default stopping test of a run: largest gradient component of the mean objective in the log-parameters."""
_AGREEMENT_RTOL = 1e-8
_STALLED_GTOL = 1e-6
"""A run whose line search gives up (L-BFGS-B's "ABNORMAL") where the gradient of the mean negative log-likelihood
in the log-parameters is below this has stalled on rounding noise at the optimum: a step of 0.01 in any
log-parameter would change the mean by less than 1e-8. It counts as converged."""
_RIDGE_LOG_SPREAD = 0.01
"""Two starts at the same maximum whose log-parameters differ by more than this reveal a flat ridge."""

LogLikelihood: TypeAlias = "Callable[[np.ndarray], tuple[float, np.ndarray | None]]"
"""params -> (weighted total log-likelihood, its gradient with respect to params, or None to use differences)."""


@dataclass(frozen=True)
class Optimum:
    """The outcome of :func:`maximize_likelihood`: parameters on their natural scale and how the search went."""

    params: np.ndarray
    log_likelihood: float
    converged: bool
    reason: str
    starts_run: int


def aggregate_rows(*columns: np.ndarray, weights: ArrayLike | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Collapse identical rows of the given equal-length, finite columns into distinct rows with summed weights.

    Returns the distinct rows' columns, in lexicographic order, and their weights (counts when ``weights`` is None).
    Exact float equality is used, which is what summaries computed from calendar days produce.
    """
    values = [np.asarray(c, dtype=float) for c in columns]
    w = np.ones(len(values[0])) if weights is None else np.asarray(weights, dtype=float)
    if len(values[0]) == 0:
        return values, w
    distinct, inverse = distinct_rows(*values)
    return distinct, np.bincount(inverse, weights=w, minlength=len(distinct[0]))


def distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equal-length, finite float columns in lexicographic order, and each row's index into them.

    What ``np.unique(np.column_stack(columns), axis=0, return_inverse=True)`` returns, but each column is hashed to
    sorted integer codes (``pandas.factorize``) and the codes are combined into one integer key per row, so a
    million rows take a few hash passes instead of a multi-key sort (0.07 s instead of 0.5 s).
    """
    factorized = [pd.factorize(np.asarray(column, dtype=float), sort=True) for column in columns]
    if math.prod(len(uniques) for _, uniques in factorized) > np.iinfo(np.int64).max:  # the key would overflow
        distinct, inverse = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
        return [distinct[:, i] for i in range(distinct.shape[1])], inverse.ravel()
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for codes, uniques in factorized:
        key = key * len(uniques) + codes
    inverse, distinct_keys = pd.factorize(key, sort=True)
    out = []
    for _, uniques in reversed(factorized):
        out.append(uniques[distinct_keys % len(uniques)])
        distinct_keys = distinct_keys // len(uniques)
    return out[::-1], inverse


def check_summary(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray, model_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (frequency, recency, T) arrays and return them as floats; raise ModelFitError naming the problem.

    Requirements (Fader, Hardie & Lee 2005, §2): equal lengths; finite; frequency a non-negative whole number;
    0 <= recency <= T; recency = 0 when frequency = 0.
    """
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    big_t = np.asarray(T, dtype=float)
    if not (x.shape == t_x.shape == big_t.shape) or x.ndim != 1:
        raise ModelFitError(f"cannot fit {model_name}: frequency, recency and T must be 1-D arrays of one length, got shapes {x.shape}, {t_x.shape}, {big_t.shape}")
    if len(x) == 0:
        raise ModelFitError(f"cannot fit {model_name}: no customers")
    problems = [
        (~np.isfinite(x) | ~np.isfinite(t_x) | ~np.isfinite(big_t), "have missing or infinite values"),
        ((x < 0) | (x != np.round(x)), "have a frequency that is not a non-negative whole number"),
        (t_x < 0, "have a negative recency"),
        (big_t < 0, "have a negative T"),
        (t_x > big_t * (1 + 1e-9), "have recency > T (recency and T must be in the same time unit)"),
        ((x == 0) & (t_x != 0), "have frequency 0 but a non-zero recency (recency is the time of the last repeat purchase)"),
    ]
    for mask, what in problems:
        if np.any(mask):
            first = int(np.flatnonzero(mask)[0])
            raise ModelFitError(f"cannot fit {model_name}: {int(mask.sum())} row(s) {what}; first at position {first}")
    return x, t_x, big_t


def maximize_likelihood(
    log_likelihood: LogLikelihood,
    starts: Sequence[Sequence[float]],
    *,
    total_weight: float,
    penalizer: float,
    names: Sequence[str],
    scales: Sequence[float] | None = None,
    log_penalizer: float = 0.0,
    gtol: float = DEFAULT_GTOL,
    runaway: Callable[[np.ndarray], str | None] | None = None,
) -> Optimum:
    """Maximise a log-likelihood over positive parameters from several starts (see the module docstring).

    ``log_likelihood(params)`` returns the weighted total log-likelihood and its gradient (or None). The objective is
    ``-LL / total_weight + penalizer * sum(params**2) + log_penalizer * sum(theta**2)`` on
    ``theta = log(params / scales)``; an optimum further than
    a factor 1e6 from a parameter's scale counts as running off to 0 or infinity (not converged). Runs stop early once two
    converged runs agree on the objective within a relative 1e-8; if their parameters then differ by more than 1%,
    the maximum is a flat ridge (typically running to a boundary, e.g. no drop-out) and the fit is not converged.
    A run stops when the largest component of the objective's gradient in the log-parameters is below ``gtol``
    (L-BFGS-B's projected-gradient test, the test ``lifetimes``' BFGS applies with its ``tol``).

    ``runaway(params)``, checked after every iteration, names a direction in which the model is known to have no
    interior maximum (the Pareto/NBD's s and beta running off together): when it returns a reason, the run stops there,
    the fit is not converged with that reason, and no further start is tried.
    """
    if penalizer < 0 or log_penalizer < 0:
        raise ModelFitError(f"penalizer and log_penalizer must be >= 0, got {penalizer} and {log_penalizer}")
    scale = np.ones(len(names)) if scales is None else np.asarray(scales, dtype=float)
    objective = _objective(log_likelihood, total_weight, penalizer, scale, log_penalizer)
    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(names)
    best: tuple[float, np.ndarray, bool, str] | None = None
    converged: list[tuple[float, np.ndarray]] = []
    runs = 0
    failures = 0
    for start in starts:
        runs += 1
        theta0 = np.clip(np.log(np.asarray(start, dtype=float) / scale), -LOG_PARAM_BOUND + 1, LOG_PARAM_BOUND - 1)
        stopped: list[str] = []
        with np.errstate(all="ignore"), single_threaded_blas():
            result = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 500, "ftol": 1e-15, "gtol": gtol, "maxcor": 20},
                              callback=None if runaway is None else _watch(runaway, scale, stopped))
        value = float(result.fun)
        if stopped:
            best = (value, np.asarray(result.x), False, stopped[0])
            break  # no interior maximum that way, whatever the start
        ok, reason = _judge(result, names, scale)
        if best is None or (np.isfinite(value) and (not np.isfinite(best[0]) or value < best[0])):
            best = (value, np.asarray(result.x), ok, reason)
        failures += not ok
        if failures >= 2 and not converged:
            break  # two starts failed and none succeeded: the data, not the start, is the problem
        if ok:
            twin = next((th for v, th in converged if abs(value - v) <= _AGREEMENT_RTOL * max(1.0, abs(v))), None)
            if twin is not None:
                spread = float(np.max(np.abs(np.asarray(result.x) - twin)))
                if spread > _RIDGE_LOG_SPREAD:
                    ridge = ", ".join(f"{n} {c * np.exp(a):.4g} vs {c * np.exp(b):.4g}" for n, c, a, b in zip(names, scale, result.x, twin))
                    best = (best[0], best[1], False,
                            "the likelihood is flat along a ridge: two starts reach the same maximum with different "
                            f"parameters ({ridge}), so the data do not pin them down")
                break
            converged.append((value, np.asarray(result.x)))
    assert best is not None
    params = scale * np.exp(best[1])
    ll, _ = log_likelihood(params)
    return Optimum(params=params, log_likelihood=float(ll), converged=best[2] and np.isfinite(ll), reason=best[3], starts_run=runs)


def _watch(runaway: Callable[[np.ndarray], str | None], scale: np.ndarray, stopped: list[str]) -> Callable[..., None]:
    """An L-BFGS-B callback that stops the run (StopIteration, SciPy >= 1.11) once ``runaway`` names a reason for its
    iterate, appending the reason to ``stopped``. It only reads the iterate, so the runs it does not stop take the
    same steps as without it."""
    def callback(intermediate_result: Any) -> None:
        reason = runaway(scale * np.exp(intermediate_result.x))
        if reason is not None:
            stopped.append(reason)
            raise StopIteration

    return callback


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with BLAS/LAPACK limited to one thread (a no-op when threadpoolctl is not installed).

    Since scipy 1.15, L-BFGS-B calls LAPACK (dpotrf, dtrtrs) on its tiny (at most 2 x maxcor square) matrices at
    every iteration, and a multi-threaded OpenBLAS wakes its thread pool for each call: on a busy machine that costs
    about a millisecond per iteration, far more than our likelihoods (scipy issues #22438 and #23191; the fix the
    scipy maintainers recommend, and botorch applies, is this limit). Our own array work is element-wise numpy and
    special functions, which do not use BLAS, so nothing else is slowed down.
    """
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    """A threadpoolctl controller over the loaded BLAS libraries, built once (scanning them takes ~2 ms) — after SciPy's
    optimiser is loaded: the controller only sees the libraries loaded when it is built, and SciPy brings its own
    OpenBLAS (``lifecycle.clv._deferred`` loads SciPy on the first fit, so a controller built before would leave L-BFGS-B
    multi-threaded)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    import scipy.optimize  # noqa: F401  (its BLAS must be loaded for the controller to limit it)

    return ThreadpoolController()


def _objective(log_likelihood: LogLikelihood, total_weight: float, penalizer: float,
               scale: np.ndarray, log_penalizer: float = 0.0) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``theta ↦ (objective, gradient)`` of ``maximize_likelihood`` (its docstring has the formula)."""
    if penalizer == 0 and log_penalizer == 0 and bool(np.all(np.abs(scale) < 1e100)):
        return _unpenalised_objective(log_likelihood, total_weight, scale)

    def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = scale * np.exp(theta)
        ll, grad = log_likelihood(params)
        value = -ll / total_weight + penalizer * float(np.sum(params**2)) + log_penalizer * float(np.sum(theta**2))
        if not np.isfinite(value):
            return np.inf, np.zeros_like(theta)
        grad_theta = _gradient_in_theta(log_likelihood, total_weight, scale, theta, params, grad)
        return value, grad_theta + 2 * penalizer * params**2 + 2 * log_penalizer * theta

    return value_and_gradient


def _unpenalised_objective(log_likelihood: LogLikelihood, total_weight: float,
                           scale: np.ndarray) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``_objective`` without penalties: ``-LL / total_weight`` and its gradient in theta, ``-grad · params /
    total_weight``, each plus 0.0 — what the penalised form adds when both penalizers are 0 (``0 · Σ params²`` and
    ``0 · Σ theta²`` are +0.0 for the finite parameters the log bound allows: ``scale · e^16`` squared stays finite
    below a scale of 1e100; ``+ 0.0`` turns a −0.0 into +0.0, as the penalised sum does), so the same floats, bit for
    bit, without the eight small-array operations per evaluation (a fifth of an sBG fit's time)."""
    def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = scale * np.exp(theta)
        ll, grad = log_likelihood(params)
        value = -ll / total_weight + 0.0
        if not math.isfinite(value):
            return np.inf, np.zeros_like(theta)
        grad_theta = _gradient_in_theta(log_likelihood, total_weight, scale, theta, params, grad)
        return value, grad_theta + 0.0

    return value_and_gradient


def _gradient_in_theta(log_likelihood: LogLikelihood, total_weight: float, scale: np.ndarray, theta: np.ndarray,
                       params: np.ndarray, grad: np.ndarray | None) -> np.ndarray:
    """The gradient of ``-LL(scale · e^theta) / total_weight`` in theta: ``-grad · params / total_weight`` by the
    chain rule (``d params / d theta = params``), or by central differences when the likelihood gives no gradient."""
    if grad is None:
        return _central_difference(lambda th: -log_likelihood(scale * np.exp(th))[0] / total_weight, theta)
    return -np.asarray(grad) * params / total_weight


def _central_difference(f: Callable[[np.ndarray], float], theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    grad = np.empty_like(theta)
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (f(up) - f(down)) / (2 * step)
    return grad


def _judge(result: object, names: Sequence[str], scale: np.ndarray) -> tuple[bool, str]:
    """Did an L-BFGS-B run converge to an interior optimum? Returns (ok, reason when not ok)."""
    theta = np.asarray(result.x)  # type: ignore[attr-defined]
    if not np.isfinite(result.fun):  # type: ignore[attr-defined]
        return False, "the log-likelihood is not finite at the best parameters found"
    at_edge = np.abs(theta) > LOG_EDGE
    if np.any(at_edge):
        values = ", ".join(f"{n}={c * np.exp(th):.3g}" for n, c, th, edge in zip(names, scale, theta, at_edge) if edge)
        return False, f"parameter(s) ran off towards 0 or infinity ({values}): the likelihood has no interior maximum for these data"
    if not result.success and not np.max(np.abs(result.jac)) <= _STALLED_GTOL:  # type: ignore[attr-defined]
        return False, f"the optimizer stopped without converging ({result.message})"  # type: ignore[attr-defined]
    return True, ""


def starting_points(default: Sequence[Sequence[float]], start: Sequence[float] | None) -> list[Sequence[float]]:
    """The starts a fit runs from: the model's own several (``default``), or only ``start`` when the caller gives one
    (one run from one point, as ``lifetimes``' ``initial_params``; no second start checks the maximum then)."""
    return [tuple(float(v) for v in start)] if start is not None else list(default)


def fit_failure(model_name: str, reason: str, diagnostics: str, advice: Sequence[str]) -> ModelFitError:
    """Build the ModelFitError for a fit that did not converge: what happened, what the data look like, what to try."""
    steps = "; ".join(f"({i}) {a}" for i, a in enumerate(advice, start=1))
    return ModelFitError(f"{model_name} fit did not converge: {reason}. Data: {diagnostics}. Try: {steps}.")


def summary_advice(n_customers: float, n_repeat: float) -> list[str]:
    """Advice shared by the transaction models (BG/NBD, Pareto/NBD) when a fit fails."""
    advice = [
        "pass log_penalizer=0.01 (a log-normal prior; it keeps a parameter from running to 0 or infinity) or "
        "penalizer=0.001 (up to 0.1; it only stops parameters running to infinity)",
        "check the time unit: recency and T must be in the same unit, and T should span several typical gaps "
        "between purchases (weeks or days, not seconds or years)",
    ]
    if n_repeat < max(30.0, 0.02 * n_customers):
        advice.append(f"add data: only {n_repeat:.0f} of {n_customers:.0f} customers made a repeat purchase, too few "
                      "to separate buying rates from drop-out")
    else:
        advice.append("check that there are enough repeat buyers and a long enough calibration period")
    return advice


def summary_diagnostics(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> tuple[str, float, float]:
    """A one-line description of the (aggregated) summary data, plus (customers, repeat buyers)."""
    n = float(w.sum())
    repeat = float(w[x > 0].sum())
    mean_x = float(np.sum(w * x) / n)
    text = (f"{n:.0f} customers, {repeat:.0f} with repeat purchases, mean frequency {mean_x:.3g}, "
            f"T from {big_t.min():.3g} to {big_t.max():.3g}")
    return text, n, repeat


class PenaltyInfo:
    """Mixin for fitted models carrying ``penalizer`` / ``log_penalizer`` fields."""

    penalizer: float
    log_penalizer: float

    @property
    def penalized(self) -> bool:
        """Whether a penalty shaped the fit (then the parameters are a penalised/MAP estimate, not the MLE)."""
        return self.penalizer > 0 or self.log_penalizer > 0
