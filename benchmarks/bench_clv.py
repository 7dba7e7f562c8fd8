"""Benchmark: CLV model fit times on CDNOW and on 1M synthetic customers, next to the `lifetimes` package.

Run: ``.venv/bin/python benchmarks/bench_clv.py`` (``--quick`` uses 100,000 synthetic customers; ``--models
modified_beta_geo holdout_check`` runs only those rows, ``--datasets cdnow`` only the CDNOW fits). Also times the calibration/holdout check
(``lifecycle.clv.holdout_check``: three models fitted on a calibration period and scored on the holdout) on the CDNOW
and Online Retail transaction logs. Writes benchmarks/results/clv.json and prints a markdown table.

The comparison with `lifetimes` 0.11.3 (not a project dependency) is single fit against single fit, interleaved:
lifetimes runs in its own virtual environment outside the repository (``$LIFETIMES_PYTHON``, else one created on
first use under ``~/.cache/lifecycle-mcp/bench`` with pip: lifetimes 0.11.3 needs numpy < 2 and pandas < 2.2) as a
worker that keeps the data loaded and times one ``fit`` per request (``benchmarks/peers/lifetimes_worker.py``). Each
round times one fit of ours and one of lifetimes, alternating who goes first; the table gives each side's minimum
over the rounds (5 on CDNOW, 3 on the synthetic table), wall and CPU. Both start from lifetimes' own starting point
(its ``initial_params`` default: log-parameters 0.1 on time scaled to max T = 1 for the BG/NBD family and
Gamma-Gamma; 1 on that scale for the Pareto/NBD, whose default start is random) and stop at lifetimes' tolerance:
gradient below 1e-7 (our ``fit(start=…, gtol=1e-7)``; lifetimes' BFGS with ``tol=1e-7``). lifetimes fits the
Pareto/NBD with Nelder-Mead (no gradient) to its default ``tol=1e-4``; ours still stops at the gradient test 1e-7.
Both sides' log-likelihoods are computed with our likelihood at their parameters, so the table shows that both
reached the same maximum. "ours, default fit" is the product's own call (several starts that must agree, gradient
1e-10), timed in the same rounds. A lifetimes fit on the synthetic table whose predicted time (one timed likelihood
evaluation × the evaluations its optimizer needed on CDNOW) exceeds the budget (180 s) is not run: the speed-up is
then reported as at least the predicted time over ours.

The synthetic table is drawn from the BG/NBD generative process (lifecycle.clv.beta_geo.simulate) at the CDNOW
estimates with a fixed seed: first purchases spread over 12 weeks, 39 weeks of observation, recencies on a day grid
(as calendar data give), and Gamma-Gamma spend at the published p, q, gamma.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

from lifecycle.clv import beta_geo, gamma_gamma, modified_beta_geo, pareto_nbd, shifted_beta_geometric
from lifecycle.clv.beta_geo import BetaGeoParams
from lifecycle.clv.holdout_check import holdout_check
from lifecycle.clv.rfm import rfm_summary

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "cdnow"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail_invoices.csv"
FIT_MODELS = ("beta_geo", "modified_beta_geo", "pareto_nbd", "gamma_gamma")
MODULES = {"beta_geo": beta_geo, "modified_beta_geo": modified_beta_geo, "pareto_nbd": pareto_nbd}
RESULTS = ROOT / "benchmarks" / "results" / "clv.json"
LIFETIMES_BUDGET_S = 180.0
SEED = 20240601
TRUTH = BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
SPEND_TRUTH = {"p": 6.25, "q": 3.74, "gamma": 15.44}
SBG_COHORTS = {"high end": [1000, 869, 743, 653, 593, 551, 517, 491], "regular": [1000, 631, 468, 382, 326, 289, 262, 241]}

LIFETIMES_VERSION = "0.11.3"
LIFETIMES_PINS = (f"lifetimes=={LIFETIMES_VERSION}", "numpy<2", "pandas<2.2", "scipy<1.12")
LIFETIMES_ENV = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lifecycle-mcp" / "bench" / f"lifetimes-{LIFETIMES_VERSION}"
LIFETIMES_TOL = 1e-7
WORKER = ROOT / "benchmarks" / "peers" / "lifetimes_worker.py"
ROUNDS = {"small": 5, "large": 3}

# Likelihood evaluations (with gradient) lifetimes needs, measured on CDNOW and rounded up; Pareto/NBD uses
# Nelder-Mead. Used only to predict whether a 1M-customer fit fits the time budget.
LIFETIMES_EVALS = {"beta_geo": 60, "modified_beta_geo": 60, "pareto_nbd": 400, "gamma_gamma": 40}
E01 = float(np.exp(0.1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 synthetic customers instead of 1,000,000")
    parser.add_argument("--no-install", action="store_true",
                        help=f"do not create lifetimes' virtual environment when missing (default: {LIFETIMES_ENV})")
    parser.add_argument("--models", nargs="+", choices=(*FIT_MODELS, "shifted_beta_geometric", "holdout_check"),
                        help="only these rows (default: all)")
    parser.add_argument("--datasets", nargs="+", choices=("cdnow", "synthetic"), default=["cdnow", "synthetic"],
                        help="only these datasets for the fit rows (default: both)")
    args = parser.parse_args()
    wanted = set(args.models or (*FIT_MODELS, "shifted_beta_geometric", "holdout_check"))
    n_synthetic = 100_000 if args.quick else 1_000_000
    python = lifetimes_python(install=not args.no_install)
    lifetimes_version = LIFETIMES_VERSION if python else None
    datasets = {}
    if "cdnow" in args.datasets:
        datasets["CDNOW (2,357)"] = _cdnow()
    if "synthetic" in args.datasets:
        datasets[f"synthetic BG/NBD ({n_synthetic:,})"] = _synthetic(n_synthetic)
    rows = []
    for label, data in datasets.items():
        big = len(data["x"]) > 100_000
        worker = LifetimesWorker(python, data) if python else None
        try:
            for model in (m for m in FIT_MODELS if m in wanted):
                rows.append({"dataset": label, "model": model, **_compare(model, data, worker, big),
                             "distinct_rows": data["distinct_rows"] if model != "gamma_gamma" else None})
                print(f"  done {label} {model}", file=sys.stderr, flush=True)
        finally:
            if worker is not None:
                worker.close()
    for name, survivors in SBG_COHORTS.items() if "shifted_beta_geometric" in wanted else ():
        seconds = np.inf
        for _ in range(5):
            start = time.perf_counter()
            fitted = shifted_beta_geometric.fit(survivors)
            seconds = min(seconds, time.perf_counter() - start)
        rows.append({"dataset": f"sBG cohort '{name}'", "model": "shifted_beta_geometric",
                     "ours": {"seconds": seconds, "params": {"alpha": fitted.params.alpha, "beta": fitted.params.beta},
                              "log_likelihood": fitted.log_likelihood},
                     "lifetimes": {"skipped": "lifetimes has no sBG model"}, "distinct_rows": None})
    report = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                    "pandas": pd.__version__, "lifetimes": lifetimes_version, "cpu_count": _cpus()},
        "synthetic": {"customers": n_synthetic, "seed": SEED, "truth": TRUTH.__dict__, "spend_truth": SPEND_TRUTH},
        "lifetimes_budget_s": LIFETIMES_BUDGET_S,
        "protocol": {"rounds": ROUNDS, "tolerance": LIFETIMES_TOL, "start": "lifetimes' initial_params default "
                     "(Pareto/NBD: 1 on its time scale)", "timing": "single fit vs single fit, interleaved, minimum"},
        "rows": rows,
        "holdout_checks": _time_holdout_checks() if "holdout_check" in wanted else [],
    }
    if (args.models or len(args.datasets) < 2) and RESULTS.exists():
        report = _merged(json.loads(RESULTS.read_text()), report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(markdown_table(report))
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


def _cdnow() -> dict:
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["master", "id", "date", "cds", "dollars"])
    log = pd.DataFrame({"customer_id": raw["id"], "timestamp": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                        "amount": raw["dollars"]})
    s = rfm_summary(log, observation_period_end="1997-09-30")
    return _with_counts(s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy(), s["monetary_value"].to_numpy())


def _synthetic(n: int) -> dict:
    rng = np.random.default_rng(SEED)
    first_day = rng.integers(0, 84, size=n)
    big_t = (273 - first_day) / 7
    x, t_x, big_t = beta_geo.simulate(TRUTH, big_t, seed=SEED + 1, resolution=1 / 7)
    nu = rng.gamma(SPEND_TRUTH["q"], 1 / SPEND_TRUTH["gamma"], size=n)
    m = np.where(x > 0, rng.gamma(SPEND_TRUTH["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return _with_counts(x, t_x, big_t, np.round(m, 2))


def _merged(previous: dict, partial: dict) -> dict:
    """A ``--models`` run folded into the results on file: its rows replace those of the same dataset and model, the
    others are kept (each row keeps the date of the run that measured it in ``generated``)."""
    for row in previous["rows"]:
        row.setdefault("generated", previous["generated"])
    for row in partial["rows"]:
        row["generated"] = partial["generated"]
    fresh = {(r["dataset"], r["model"]) for r in partial["rows"]}
    rows = [r for r in previous["rows"] if (r["dataset"], r["model"]) not in fresh] + partial["rows"]
    datasets = list(dict.fromkeys(r["dataset"] for r in previous["rows"] + partial["rows"]))
    order = (*FIT_MODELS, "shifted_beta_geometric")
    rows.sort(key=lambda r: (datasets.index(r["dataset"]), order.index(r["model"])))
    checks = partial["holdout_checks"] or previous.get("holdout_checks", [])
    return {**previous, "rows": rows, "holdout_checks": checks, "generated": partial["generated"],
            "machine": partial["machine"]}


def _time_holdout_checks() -> list[dict]:
    """The holdout check on two real logs: CDNOW at the published split, Online Retail at the default split."""
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["master", "id", "date", "cds", "dollars"])
    cdnow = pd.DataFrame({"customer_id": raw["id"], "timestamp": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")})
    invoices = pd.read_csv(ONLINE_RETAIL)
    retail = pd.DataFrame({"customer_id": invoices["CustomerID"], "timestamp": pd.to_datetime(invoices["InvoiceDate"])})
    cases = [("CDNOW (2,357), calibration to 1997-09-30", cdnow, {"calibration_end": "1997-09-30", "observation_end": "1998-06-30"}),
             ("Online Retail (4,338), default split", retail, {})]
    out = []
    for label, log, kwargs in cases:
        seconds = np.inf
        for _ in range(3):
            start = time.perf_counter()
            check = holdout_check(log, **kwargs)
            seconds = min(seconds, time.perf_counter() - start)
        out.append({"dataset": label, "seconds": seconds, "customers": check.customers, "chosen": check.chosen,
                    "calibration_end": check.calibration_end.isoformat(), "actual": check.actual_total,
                    "models": {m.model: {"total_error": m.total_error, "group_error": m.group_error,
                                         "penalized": bool(m.fit and m.fit.penalized)} for m in check.models}})
    return out


def _with_counts(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, m: np.ndarray) -> dict:
    distinct = len(pd.DataFrame({"x": x, "t": t_x, "T": big_t}).drop_duplicates())
    return {"x": x.astype(float), "t_x": t_x, "T": big_t, "m": m, "distinct_rows": distinct}


def lifetimes_python(install: bool = True) -> str | None:
    """The Python of an environment where lifetimes imports: ``$LIFETIMES_PYTHON``, else the cached environment
    (created with pip when missing and ``install``); None when there is none."""
    given = os.environ.get("LIFETIMES_PYTHON")
    if given:
        return given
    python = LIFETIMES_ENV / "bin" / "python"
    if not python.exists() and install:
        print(f"  creating {LIFETIMES_ENV} ({', '.join(LIFETIMES_PINS)})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *LIFETIMES_PINS], check=True)
    if not python.exists():
        return None
    done = subprocess.run([str(python), "-c", "import lifetimes"], capture_output=True)
    return str(python) if done.returncode == 0 else None


class LifetimesWorker:
    """``benchmarks/peers/lifetimes_worker.py`` in lifetimes' environment, holding one dataset: one fit per request."""

    def __init__(self, python: str, data: dict) -> None:
        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "data.npz"
        np.savez(path, x=data["x"], t_x=data["t_x"], T=data["T"], m=data["m"])
        self._process = subprocess.Popen([python, str(WORKER), str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True)

    def request(self, **fields: object) -> dict:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(fields) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the lifetimes worker stopped")
        return json.loads(line)

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()
        self._dir.cleanup()


def _start(model: str, data: dict) -> tuple[tuple[float, ...], list[float] | None]:
    """The common starting point: ours on the natural scale, and what lifetimes is given for it (None: its default)."""
    t_max = float(np.max(data["T"]))
    if model == "gamma_gamma":
        return (E01, E01, E01), None
    if model == "pareto_nbd":  # lifetimes draws a random start by default: pin it to 1 on its time scale
        return (1.0, t_max, 1.0, t_max), [1.0, 1.0, 1.0, 1.0]
    return (E01, E01 * t_max, E01, E01), None  # log-parameters 0.1 on time scaled to max T = 1


def _fit_ours(model: str, data: dict, **kwargs: object) -> object:
    if model == "gamma_gamma":
        return gamma_gamma.fit(data["x"], data["m"], **kwargs)
    return MODULES[model].fit(data["x"], data["t_x"], data["T"], **kwargs)


def _our_log_likelihood(model: str, data: dict, params: dict) -> float:
    """The total log-likelihood of ``params`` under our implementation of ``model`` (one yardstick for both sides)."""
    if model == "gamma_gamma":
        keep = data["x"] > 0
        return float(np.sum(gamma_gamma.log_likelihood(gamma_gamma.GammaGammaParams(**params), data["x"][keep], data["m"][keep])))
    module = MODULES[model]
    params_type = {"beta_geo": beta_geo.BetaGeoParams, "modified_beta_geo": modified_beta_geo.ModifiedBetaGeoParams,
                   "pareto_nbd": pareto_nbd.ParetoNBDParams}[model]
    return float(np.sum(module.log_likelihood(params_type(**params), data["x"], data["t_x"], data["T"])))


def _timed_fit(model: str, data: dict, **kwargs: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    fitted = _fit_ours(model, data, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, fitted


def _compare(model: str, data: dict, worker: LifetimesWorker | None, big: bool) -> dict:
    """Single fit against single fit, interleaved (module docstring): ours from the common start to the common
    tolerance, lifetimes the same, and our default fit, each round alternating who goes first."""
    ours_start, their_start = _start(model, data)
    rounds = ROUNDS["large" if big else "small"]
    theirs: dict = {}
    if worker is None:
        theirs = {"skipped": "lifetimes is not installed (set LIFETIMES_PYTHON or allow the benchmark to create its environment)"}
    elif big:
        probe = worker.request(model=model, probe=True)
        predicted = probe["eval_s"] * LIFETIMES_EVALS[model]
        if predicted > LIFETIMES_BUDGET_S:
            theirs = {"skipped": f"predicted {predicted:.0f} s (one likelihood evaluation {probe['eval_s']:.2f} s x "
                                 f"~{LIFETIMES_EVALS[model]} evaluations) > {LIFETIMES_BUDGET_S:.0f} s budget",
                      "predicted_seconds": predicted}
    single: list[tuple[float, float, object]] = []
    default: list[tuple[float, float, object]] = []
    runs: list[dict] = []
    for k in range(rounds):
        steps = ["ours", "theirs"] if k % 2 == 0 else ["theirs", "ours"]
        for step in steps:
            if step == "ours":
                single.append(_timed_fit(model, data, start=ours_start, gtol=LIFETIMES_TOL))
                default.append(_timed_fit(model, data))
            elif worker is not None and "skipped" not in theirs:
                runs.append(worker.request(model=model, start=their_start, tol=None if model == "pareto_nbd" else LIFETIMES_TOL))

    def side(samples: list[tuple[float, float, object]]) -> dict:
        fitted = samples[0][2]
        params = dict(fitted.params.__dict__)  # type: ignore[attr-defined]
        return {"seconds": min(s[0] for s in samples), "cpu_seconds": min(s[1] for s in samples), "params": params,
                "log_likelihood": _our_log_likelihood(model, data, params), "converged": fitted.converged}  # type: ignore[attr-defined]

    out = {"ours": side(single), "ours_default": side(default), "rounds": rounds, "load_average_1min": _load_average()}
    if runs:
        params = runs[0]["params"]
        theirs = {"seconds": min(r["seconds"] for r in runs), "cpu_seconds": min(r["cpu_seconds"] for r in runs),
                  "params": params, "log_likelihood": _our_log_likelihood(model, data, params)}
    out["lifetimes"] = theirs
    return out


def _load_average() -> float | None:
    """The 1-minute load average when the row was measured (the machine is shared: read the times beside it)."""
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return None


def _cpus() -> int | None:
    import os

    return os.cpu_count()


def markdown_table(report: dict) -> str:
    """The fits as a markdown table: single-fit times (wall, CPU) of ours and lifetimes and the speed-ups, our default
    fit's time, both parameter sets, and both log-likelihoods (ours at each side's parameters)."""
    lines = [
        "| data | model | distinct rows | ours, one fit (s) | lifetimes, one fit (s) | speed-up wall / CPU | ours, default fit (s) "
        "| our parameters | lifetimes parameters | log-likelihood ours − lifetimes | load average |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for row in report["rows"]:
        ours, theirs = row["ours"], row["lifetimes"]
        mine = ", ".join(f"{k} {v:.4g}" for k, v in ours["params"].items())
        default = row.get("ours_default")
        default_text = f"{default['seconds']:.4f}" if default else "-"
        our_time = f"{ours['seconds']:.4f} / {ours['cpu_seconds']:.4f} CPU" if "cpu_seconds" in ours else f"{ours['seconds']:.4f}"
        if "seconds" in theirs:
            other = ", ".join(f"{k} {v:.4g}" for k, v in theirs["params"].items())
            their_time = f"{theirs['seconds']:.3f} / {theirs['cpu_seconds']:.3f} CPU" if "cpu_seconds" in theirs else f"{theirs['seconds']:.3f}"
            speed = f"{theirs['seconds'] / ours['seconds']:.0f}x"
            if "cpu_seconds" in theirs and "cpu_seconds" in ours and ours["cpu_seconds"] > 0:
                speed += f" / {theirs['cpu_seconds'] / ours['cpu_seconds']:.0f}x"
            gap = f"{ours['log_likelihood'] - theirs['log_likelihood']:+.2g}" if "log_likelihood" in theirs else "-"
        elif "predicted_seconds" in theirs:
            other, their_time, gap = f"not run: {theirs['skipped']}", f"> {theirs['predicted_seconds']:.0f} (predicted)", "-"
            speed = f"≥ {theirs['predicted_seconds'] / ours['seconds']:.0f}x (predicted)"
        else:
            other, their_time, speed, gap = f"skipped: {theirs['skipped']}", "-", "-", "-"
        distinct = f"{row['distinct_rows']:,}" if row["distinct_rows"] else "-"
        load = row.get("load_average_1min")
        lines.append(f"| {row['dataset']} | {row['model']} | {distinct} | {our_time} | {their_time} | {speed} | {default_text} "
                     f"| {mine} | {other} | {gap} | {'-' if load is None else load} |")
    checks = report.get("holdout_checks") or []
    if checks:
        lines += ["", "| holdout check | customers | calibration end | seconds | chosen | total error (BG / MBG / Pareto) | group error (BG / MBG / Pareto) |",
                  "|---|---:|---|---:|---|---|---|"]
        for c in checks:
            models = [c["models"].get(m, {}) for m in ("bg_nbd", "mbg_nbd", "pareto_nbd")]
            total = " / ".join("-" if m.get("total_error") is None else f"{m['total_error']:+.1%}" for m in models)
            group = " / ".join("-" if m.get("group_error") is None else f"{m['group_error']:.1%}" for m in models)
            lines.append(f"| {c['dataset']} | {c['customers']:,} | {c['calibration_end']} | {c['seconds']:.2f} | {c['chosen']} "
                         f"| {total} | {group} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
