"""Fits `lifetimes` models one at a time on request, for the interleaved CLV benchmark (runs in lifetimes' own venv).

    LIFETIMES_PYTHON benchmarks/peers/lifetimes_worker.py DATA.npz

Reads one JSON request per line on stdin — ``{"model": "beta_geo" | "modified_beta_geo" | "pareto_nbd" |
"gamma_gamma", "start": [...] | null, "tol": float | null}`` — fits that model once on the arrays of DATA.npz
(``x``, ``t_x``, ``T``, ``m``; Gamma-Gamma on the rows with x > 0) and answers one JSON line: wall and CPU seconds
of the ``fit`` call, the fitted parameters (natural scale, our names) and the mean negative log-likelihood at them.
``start`` is lifetimes' own ``initial_params`` (its internal parameterisation: log-parameters on time scaled to
max T = 1 for the BG/NBD family, parameters on that scale for the Pareto/NBD, log-parameters for Gamma-Gamma).
The data stay loaded between requests, so a request times one fit and nothing else. ``{"model": …, "probe": true}``
instead times one evaluation of the model's negative log-likelihood at lifetimes' default start (``eval_s``), to
predict whether a fit on a large table fits a time budget.
"""

import json
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")

from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter  # noqa: E402

NAMES = {"r": "r", "alpha": "alpha", "a": "a", "b": "b", "s": "s", "beta": "beta", "p": "p", "q": "q", "v": "gamma"}
FITTERS = {"beta_geo": BetaGeoFitter, "modified_beta_geo": ModifiedBetaGeoFitter, "pareto_nbd": ParetoNBDFitter,
           "gamma_gamma": GammaGammaFitter}


def probe(model: str, fitter: object, args: tuple) -> float:
    """Seconds for one negative log-likelihood evaluation at lifetimes' default start."""
    started = time.perf_counter()
    if model == "gamma_gamma":
        fitter._negative_log_likelihood(np.full(3, 0.1), args[0], args[1], np.ones(len(args[0])), 0.0)
    elif model == "pareto_nbd":
        fitter._negative_log_likelihood(np.ones(4), *args, np.ones(len(args[0])), 0.0)
    else:
        fitter._negative_log_likelihood(np.full(4, 0.1), *args, np.ones(len(args[0])), 0.0)
    return time.perf_counter() - started


def main() -> None:
    data = np.load(sys.argv[1])
    x, t_x, big_t, m = data["x"], data["t_x"], data["T"], data["m"]
    keep = x > 0
    for line in sys.stdin:
        request = json.loads(line)
        model = request["model"]
        fitter = FITTERS[model]()
        args = (x[keep], m[keep]) if model == "gamma_gamma" else (x, t_x, big_t)
        if request.get("probe"):
            print(json.dumps({"eval_s": probe(model, fitter, args)}), flush=True)
            continue
        kwargs = {}
        if request.get("start") is not None:
            kwargs["initial_params"] = np.asarray(request["start"], dtype=float)
        if request.get("tol") is not None:
            kwargs["tol"] = float(request["tol"])
        wall, cpu = time.perf_counter(), time.process_time()
        fitter.fit(*args, **kwargs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        params = {NAMES[k]: float(v) for k, v in fitter.params_.items()}
        print(json.dumps({"seconds": wall, "cpu_seconds": cpu, "params": params,
                          "mean_nll": float(fitter._negative_log_likelihood_)}), flush=True)


if __name__ == "__main__":
    main()
