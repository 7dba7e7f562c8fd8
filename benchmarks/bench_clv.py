"""Benchmark: CLV model fit times on CDNOW and on 1M synthetic customers, next to the `lifetimes` package.

Run: ``.venv/bin/python benchmarks/bench_clv.py`` (``--quick`` uses 100,000 synthetic customers; ``--models
modified_beta_geo holdout_check`` runs only those rows). Also times the calibration/holdout check
(``lifecycle.clv.holdout_check``: three models fitted on a calibration period and scored on the holdout) on the CDNOW
and Online Retail transaction logs. Writes
benchmarks/results/clv.json and prints a markdown table. `lifetimes` (0.11.3, not a project dependency) is timed in a
subprocess, with the same data, if it imports; each of its 1M-customer fits gets a 180 s budget and is skipped, with
the reason in the output, when a timed likelihood evaluation predicts it would run past that. The synthetic table
is drawn from the BG/NBD generative process (lifecycle.clv.beta_geo.simulate) at the CDNOW estimates with a fixed
seed: first purchases spread over 12 weeks, 39 weeks of observation, recencies on a day grid (as calendar data
give), and Gamma-Gamma spend at the published p, q, gamma.
"""

from __future__ import annotations

import argparse
import json
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

LIFETIMES_SCRIPT = r'''
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
data = np.load(sys.argv[1])
model, mode = sys.argv[2], sys.argv[3]
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter, GammaGammaFitter
x, t_x, T, m = data["x"], data["t_x"], data["T"], data["m"]
if model == "gamma_gamma":
    keep = x > 0
    fitter, args = GammaGammaFitter(), (x[keep], m[keep])
elif model == "beta_geo":
    fitter, args = BetaGeoFitter(), (x, t_x, T)
elif model == "modified_beta_geo":
    fitter, args = ModifiedBetaGeoFitter(), (x, t_x, T)
else:
    fitter, args = ParetoNBDFitter(), (x, t_x, T)
if mode == "probe":  # one likelihood evaluation, to predict the fit time
    import pandas as pd
    start = time.perf_counter()
    if model == "gamma_gamma":
        fitter._negative_log_likelihood(np.log([1.0, 1.0, 1.0]), args[0], args[1], np.ones(len(args[0])), 0.0)
    elif model in ("beta_geo", "modified_beta_geo"):
        fitter._negative_log_likelihood(np.log([1.0, 1.0, 1.0, 1.0]), x, t_x, T, np.ones(len(x)), 0.0)
    else:
        fitter._negative_log_likelihood(np.array([1.0, 1.0, 1.0, 1.0]), x, t_x, T, np.ones(len(x)), 0.0)
    print(json.dumps({"eval_s": time.perf_counter() - start}))
else:
    start = time.perf_counter()
    fitter.fit(*args)
    print(json.dumps({"seconds": time.perf_counter() - start, "params": {k: float(v) for k, v in fitter.params_.items()}}))
'''

# Likelihood evaluations (with gradient) lifetimes needs, measured on CDNOW and rounded up; Pareto/NBD uses
# Nelder-Mead. Used only to predict whether a 1M-customer fit fits the time budget.
LIFETIMES_EVALS = {"beta_geo": 60, "modified_beta_geo": 60, "pareto_nbd": 400, "gamma_gamma": 40}
LIFETIMES_NAMES = {"alpha": "alpha", "r": "r", "a": "a", "b": "b", "s": "s", "beta": "beta", "p": "p", "q": "q", "v": "gamma"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 synthetic customers instead of 1,000,000")
    parser.add_argument("--models", nargs="+", choices=(*FIT_MODELS, "shifted_beta_geometric", "holdout_check"),
                        help="only these rows (default: all)")
    args = parser.parse_args()
    wanted = set(args.models or (*FIT_MODELS, "shifted_beta_geometric", "holdout_check"))
    n_synthetic = 100_000 if args.quick else 1_000_000
    lifetimes_version = _lifetimes_version()
    datasets = {"CDNOW (2,357)": _cdnow(), f"synthetic BG/NBD ({n_synthetic:,})": _synthetic(n_synthetic)}
    rows = []
    for label, data in datasets.items():
        big = len(data["x"]) > 100_000
        for model in (m for m in FIT_MODELS if m in wanted):
            ours = _time_ours(model, data)
            theirs = _time_lifetimes(model, data, big) if lifetimes_version else {"skipped": "lifetimes is not installed"}
            rows.append({"dataset": label, "model": model, "ours": ours, "lifetimes": theirs,
                         "distinct_rows": data["distinct_rows"] if model != "gamma_gamma" else None})
            print(f"  done {label} {model}", file=sys.stderr, flush=True)
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
        "rows": rows,
        "holdout_checks": _time_holdout_checks() if "holdout_check" in wanted else [],
    }
    if args.models and RESULTS.exists():
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


def _time_ours(model: str, data: dict) -> dict:
    """Our fit time: the best of 5 runs on small data, of 2 on large (the machine may be shared)."""
    seconds = np.inf
    for _ in range(5 if len(data["x"]) < 100_000 else 2):
        start = time.perf_counter()
        if model == "gamma_gamma":
            fitted = gamma_gamma.fit(data["x"], data["m"])
        else:
            fitted = MODULES[model].fit(data["x"], data["t_x"], data["T"])
        seconds = min(seconds, time.perf_counter() - start)
    return {"seconds": seconds, "params": dict(fitted.params.__dict__), "log_likelihood": fitted.log_likelihood,
            "converged": fitted.converged}


def _time_lifetimes(model: str, data: dict, big: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, x=data["x"], t_x=data["t_x"], T=data["T"], m=data["m"])
        if big:
            probe = _run_lifetimes(path, model, "probe", LIFETIMES_BUDGET_S)
            if "error" in probe:
                return {"skipped": f"probe failed: {probe['error']}"}
            predicted = probe["eval_s"] * LIFETIMES_EVALS[model]
            if predicted > LIFETIMES_BUDGET_S:
                return {"skipped": f"predicted {predicted:.0f} s (one likelihood evaluation {probe['eval_s']:.2f} s x "
                                   f"~{LIFETIMES_EVALS[model]} evaluations) > {LIFETIMES_BUDGET_S:.0f} s budget"}
        result = _run_lifetimes(path, model, "fit", LIFETIMES_BUDGET_S)
    if "error" in result:
        return {"skipped": result["error"]}
    result["params"] = {LIFETIMES_NAMES[k]: v for k, v in result["params"].items()}
    return result


def _run_lifetimes(path: Path, model: str, mode: str, budget: float) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", LIFETIMES_SCRIPT, str(path), model, mode],
                              capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after the {budget:.0f} s budget"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"lifetimes failed: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _lifetimes_version() -> str | None:
    done = subprocess.run([sys.executable, "-c", "import lifetimes; print(lifetimes.__version__)"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def _cpus() -> int | None:
    import os

    return os.cpu_count()


def markdown_table(report: dict) -> str:
    """The benchmark rows as a markdown table: times, speed-up, both sets of parameters, largest difference."""
    lines = [
        "| data | model | distinct rows | ours (s) | lifetimes (s) | speed-up | our parameters | lifetimes parameters | max rel. diff |",
        "|---|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for row in report["rows"]:
        ours, theirs = row["ours"], row["lifetimes"]
        mine = ", ".join(f"{k} {v:.4g}" for k, v in ours["params"].items())
        if "seconds" in theirs:
            other = ", ".join(f"{k} {v:.4g}" for k, v in theirs["params"].items())
            diff = max(abs(ours["params"][k] - v) / abs(v) for k, v in theirs["params"].items())
            their_time, speed, diff_text = f"{theirs['seconds']:.3f}", f"{theirs['seconds'] / ours['seconds']:.0f}x", f"{diff:.1e}"
        else:
            other, their_time, speed, diff_text = f"skipped: {theirs['skipped']}", "-", "-", "-"
        distinct = f"{row['distinct_rows']:,}" if row["distinct_rows"] else "-"
        lines.append(f"| {row['dataset']} | {row['model']} | {distinct} | {ours['seconds']:.3f} | {their_time} | {speed} "
                     f"| {mine} | {other} | {diff_text} |")
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
