"""Benchmark: does the default health score rank churners first on subscription data nobody here shaped?

    .venv/bin/python benchmarks/bench_subscription_health.py            # every dataset -> results/subscription_health.json
    .venv/bin/python benchmarks/bench_subscription_health.py --only telco --out /tmp/x.json

Every dataset goes through the documented route a user takes — the installed ``lifecycle import`` console script with
the mapping files in ``docs/mappings/`` — and is scored with the **default** health profile and the default at-risk
rules (no configuration). The churn label is never imported: it is kept aside and only used to score the ranking.
The signals and thresholds of the default profile were written from priors (docs/health-and-risk.md) before this
benchmark was first run; nothing here was fitted to these labels.

Datasets (see docs/benchmarks.md, "Subscription health"):

- ``telco``: IBM's "Telco customer churn" sample, 7,043 customers of a telecom with tenure (months), contract type
  (month-to-month, one year, two year) and monthly charges, and whether they left in the last month. Shipped as
  ``wa_churn`` in R's modeldata package; read here from the Debian package ``r-cran-modeldata`` (downloaded with
  ``apt-get download``, the ordinary client, sha256-checked, kept in ``--cache``) with the ``rdata`` reader (installed
  with pip into its own environment under the cache on first use). Everyone is an open subscriber on the export day
  (as_of); the label is the churn column. Held-out by construction: the label is what happened after the snapshot.
- ``saas_churn``: the shared ``../shared/data/saas_churn`` table (2,000 SaaS accounts from the pysurvival project,
  probably simulated): months active and a churn label. Only the tenure maps onto the canonical tables (its other
  columns — CSAT, support minutes, product status — have no canonical place and stay extra columns the default
  profile does not read), so default health can at best tie tenure here.
- ``ravenstack``: the shared ``../shared/data/saas_subscriptions`` table (5,000 subscriptions of a synthetic SaaS),
  read per subscription (an account almost never loses all of its subscriptions in this data): billing frequency →
  renewal term, auto-renew flag → cancel at period end, seats, plan, MRR. A held-out **time split**: the snapshot at
  each as_of sees nothing later (the as-of view masks end dates after it), and a subscription paying on as_of is
  labelled churned when it is no longer active 90 days later.

Measures (``lifecycle.health.evaluation``): ROC AUC and precision in the top 10 % of (100 − health), of the at-risk
ranking's risk (``rank_at_risk`` with ``min_risk = 0``: every customer, in the list's risk order), and of −tenure (the
baseline the default must at least match); per-component AUC; how often each risk reason fires and the churn rate of
the customers it names; mean coverage. When git can show it, the default profile of commit ``BEFORE_COMMIT`` (before
issue #13's signals) is scored on the same snapshot as a before/after row.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import lzma
import math
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from common import RESULTS, ROOT, machine_info

from lifecycle.dataset import Dataset
from lifecycle.health import score_health
from lifecycle.health.evaluation import precision_at_k, roc_auc
from lifecycle.health.profile import HealthProfile, Reason, load_health_profile, profile_from_dict
from lifecycle.health.risk import RiskQuery, rank_at_risk
from lifecycle.snapshot import build_snapshot

MAPPINGS = ROOT / "docs" / "mappings"
SHARED = ROOT.parent / "shared" / "data"
DEFAULT_CACHE = Path(os.environ.get("LIFECYCLE_BENCH_CACHE", Path.home() / ".cache" / "lifecycle-mcp" / "bench-data"))
TOP_SHARE = 0.10
BEFORE_COMMIT = "93987fa9c0c6891f7da1afd3c5d663eb26843cac"
"""main before issue #13's health signals: the default profile then (tenure capped at a year, new business counted as
expansion, no renewal or payment-failure signals)."""

MODELDATA_DEB = ("r-cran-modeldata", "1.1.0-1", "r-cran-modeldata_1.1.0-1_all.deb",
                 "66c2e08bb4bf695d972b1e72ea44d5af9ada3c42841793d3871017f7b896bf95")
RDATA_VERSION = "1.1.0"
TELCO_EXPORT_DAY = date(2024, 6, 30)  # the as_of of the telco mappings (docs/mappings/telco-*.toml)
SAAS_CHURN_EXPORT_DAY = date(2024, 6, 30)  # the as_of of docs/mappings/saas-churn-customers.toml
RAVENSTACK_AS_OF = (date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30))
HORIZON_DAYS = 90


# --------------------------------------------------------------------------------------------- fetching


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")


def fetch_modeldata(cache: Path) -> Path:
    """The r-cran-modeldata .deb in ``cache`` (``apt-get download`` when missing), sha256-checked, unpacked."""
    package, version, filename, sha256 = MODELDATA_DEB
    cache.mkdir(parents=True, exist_ok=True)
    deb = cache / filename
    if not deb.exists():
        _run(["apt-get", "download", f"{package}={version}"], cwd=cache)
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{deb}: sha256 {digest} does not match the pinned {sha256}; delete it and retry")
    unpacked = cache / f"{package}_{version}"
    if not unpacked.exists():
        _run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    return unpacked / "usr" / "lib" / "R" / "site-library" / "modeldata" / "data" / "Rdata"


def lazy_load_entry(base: Path, name: str) -> bytes:
    """One object of an R lazy-load database (``Rdata.rdx`` index, ``Rdata.rdb`` data) as serialized R bytes.

    R's format (src/main/serialize.c, ``R_decompress3``): each entry is a 4-byte length, a type byte (``Z``: raw LZMA2,
    ``2``: bzip2, ``0``: none; otherwise zlib from the length on); the index is a gzip-compressed serialized list whose
    ``variables`` map names to (offset, length) in the .rdb. Parsing the serialized objects needs ``rdata``.
    """
    import bz2
    import zlib

    import rdata

    index = rdata.conversion.convert(rdata.parser.parse_data(gzip.decompress(base.with_suffix(".rdx").read_bytes())))
    offset, length = (int(v) for v in index["variables"][name])
    with open(base.with_suffix(".rdb"), "rb") as handle:
        handle.seek(offset)
        raw = handle.read(length)
    kind = raw[4:5]
    if kind == b"Z":
        return lzma.decompress(raw[5:], format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])
    if kind == b"2":
        return bz2.decompress(raw[5:])
    if kind == b"0":
        return raw[5:]
    return zlib.decompress(raw[4:])


def _convert_wa_churn(base: Path, target: Path) -> None:
    """``wa_churn`` → CSV with a generated customer id (T00001 … in the data's row order). Runs where rdata is."""
    import warnings

    import rdata

    warnings.simplefilter("ignore")  # rdata warns that tibble classes fall back to data.frame
    frame = rdata.conversion.convert(rdata.parser.parse_data(lazy_load_entry(base, "wa_churn"))).reset_index(drop=True)
    frame.insert(0, "customer", [f"T{i + 1:05d}" for i in range(len(frame))])
    frame.to_csv(target, index=False)


def rdata_python(cache: Path) -> str:
    """A Python that can import rdata: this one, else an environment under the cache made on first use."""
    try:
        import rdata  # noqa: F401

        return sys.executable
    except ImportError:
        pass
    env = cache / f"rdata-{RDATA_VERSION}-env"
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
        _run([str(python), "-m", "pip", "install", "--quiet", f"rdata=={RDATA_VERSION}"])
    return str(python)


def telco_csv(cache: Path, work: Path) -> Path:
    target = work / "telco.csv"
    base = fetch_modeldata(cache)
    python = rdata_python(cache)
    if python == sys.executable:
        _convert_wa_churn(base, target)
    else:
        code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                f"from bench_subscription_health import _convert_wa_churn; from pathlib import Path; "
                f"_convert_wa_churn(Path({str(base)!r}), Path({str(target)!r}))")
        _run([python, "-c", code])
    return target


# --------------------------------------------------------------------------------------------- importing


def lifecycle_script() -> str:
    script = Path(sys.executable).with_name("lifecycle")
    return str(script) if script.exists() else "lifecycle"


def import_file(table: str, path: Path, mapping: str, db: Path, *extra: str) -> dict[str, Any]:
    """``lifecycle import TABLE FILE --map docs/mappings/MAPPING --db DB`` as a user runs it."""
    started = time.perf_counter()
    _run([lifecycle_script(), "import", table, str(path), "--map", str(MAPPINGS / mapping), "--db", str(db), *extra])
    return {"table": table, "mapping": f"docs/mappings/{mapping}", "seconds": round(time.perf_counter() - started, 2)}


# --------------------------------------------------------------------------------------------- evaluation


def before_profile() -> HealthProfile | None:
    """The default profile as it was at ``BEFORE_COMMIT`` (None when git cannot show it)."""
    proc = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:lifecycle/health/profiles/default.toml"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return profile_from_dict(tomllib.loads(proc.stdout), where=f"default.toml@{BEFORE_COMMIT[:7]}")


def _measures(score: pd.Series, label: pd.Series, k: int) -> dict[str, float | None]:
    return {"auc": _round(roc_auc(score, label)), "precision_top10": _round(precision_at_k(score, label, k))}


def _round(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def evaluate(db: Path, as_of: date, labels: pd.Series, before: HealthProfile | None) -> dict[str, Any]:
    """Default health, at-risk risk and −tenure against ``labels`` (index customer_id, 1 = churned)."""
    started = time.perf_counter()
    dataset = Dataset.open(db, as_of, time_limit_s=None)
    try:
        snapshot = build_snapshot(dataset)
    finally:
        dataset.close()
    snapshot = snapshot[snapshot["customer_id"].astype("str").isin(labels.index)]
    profile = load_health_profile("default")
    table = score_health(snapshot, profile)
    ranked = rank_at_risk(snapshot, table, RiskQuery(min_risk=0.0, profile=profile.fingerprint()))
    index = table.frame.index
    y = labels.reindex(index).astype("float64")
    k = max(1, math.ceil(TOP_SHARE * len(index)))
    tenure = snapshot.set_index(snapshot["customer_id"].astype("str"))["tenure_days"].reindex(index).astype("float64")
    result: dict[str, Any] = {
        "as_of": as_of.isoformat(), "customers": int(len(index)), "churned": int(y.sum()),
        "base_rate": _round(float(y.mean())), "top_k": k,
        "health": _measures(100.0 - table.frame["health"].astype("float64"), y, k),
        "risk": _measures(ranked["risk"].reindex(index).astype("float64"), y, k),
        "neg_tenure": _measures(-tenure, y, k),
        "coverage_mean": _round(float(table.frame["coverage"].mean())),
        "components": {c: _round(roc_auc(100.0 - table.components[c], y)) for c in profile.component_names
                       if table.components[c].notna().any()},
        "reasons": {},
    }
    flags = ranked.reindex(index)
    for reason in Reason:
        named = flags[reason.value].fillna(False).astype(bool)
        if named.any():
            result["reasons"][reason.value] = {"customers": int(named.sum()),
                                               "churn_rate": _round(float(y[named].mean()))}
    if before is not None:
        earlier = score_health(snapshot, before)
        result["health_before"] = _measures(100.0 - earlier.frame["health"].astype("float64"), y, k)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


# --------------------------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class SubscriptionDataset:
    name: str
    description: str
    source: str
    run: Callable[[Path, Path, HealthProfile | None], dict[str, Any]]  # (cache, work, before profile) -> results


def run_telco(cache: Path, work: Path, before: HealthProfile | None) -> dict[str, Any]:
    csv = telco_csv(cache, work)
    frame = pd.read_csv(csv, dtype={"customer": "str", "churn": "str"})
    labels = pd.Series((frame["churn"] == "Yes").astype("float64").to_numpy(), index=frame["customer"])
    features = work / "telco_export.csv"
    frame.drop(columns=["churn"]).to_csv(features, index=False)  # the label never reaches the importer
    db = work / "telco.db"
    imports = [import_file("customers", features, "telco-customers.toml", db),
               import_file("subscriptions", features, "telco-subscriptions.toml", db)]
    return {"imports": imports, "dates": [evaluate(db, TELCO_EXPORT_DAY, labels, before)]}


def run_saas_churn(cache: Path, work: Path, before: HealthProfile | None) -> dict[str, Any]:
    frame = pd.read_csv(SHARED / "saas_churn" / "churn.csv")
    frame.insert(0, "account", [f"A{i + 1:05d}" for i in range(len(frame))])
    labels = pd.Series(frame["churned"].astype("float64").to_numpy(), index=frame["account"])
    features = work / "saas_churn_export.csv"
    frame.drop(columns=["churned"]).to_csv(features, index=False)
    db = work / "saas_churn.db"
    imports = [import_file("customers", features, "saas-churn-customers.toml", db)]
    return {"imports": imports, "dates": [evaluate(db, SAAS_CHURN_EXPORT_DAY, labels, before)]}


def run_ravenstack(cache: Path, work: Path, before: HealthProfile | None) -> dict[str, Any]:
    source = SHARED / "saas_subscriptions" / "ravenstack_subscriptions.csv"
    frame = pd.read_csv(source, dtype="str", keep_default_na=False)
    features = work / "ravenstack_export.csv"
    frame.drop(columns=["churn_flag"]).to_csv(features, index=False)  # the export's own churn flag is a label
    db = work / "ravenstack.db"
    imports = [import_file("subscriptions", features, "ravenstack-subscriptions.toml", db, "--derive-customers")]
    subs = pd.read_csv(source, parse_dates=["start_date", "end_date"])
    paying = subs[subs["mrr_amount"] > 0]
    dates = []
    for as_of in RAVENSTACK_AS_OF:
        day, later = pd.Timestamp(as_of), pd.Timestamp(as_of + timedelta(days=HORIZON_DAYS))
        active = paying[(paying["start_date"] <= day) & (paying["end_date"].isna() | (paying["end_date"] > day))]
        churned = active["end_date"].notna() & (active["end_date"] <= later)
        labels = pd.Series(churned.astype("float64").to_numpy(), index=active["subscription_id"].astype("str"))
        dates.append(evaluate(db, as_of, labels, before))
    return {"imports": imports, "dates": dates}


DATASETS = (
    SubscriptionDataset("telco", "IBM Telco customer churn (modeldata::wa_churn): 7,043 customers, tenure, contract "
                        "type, monthly charges; churned in the last month",
                        "Debian r-cran-modeldata 1.1.0-1 (data GPL-2 package; IBM sample data)", run_telco),
    SubscriptionDataset("saas_churn", "pysurvival SaaS churn: 2,000 accounts, months active, churn label",
                        "../shared/data/saas_churn (Apache-2.0)", run_saas_churn),
    SubscriptionDataset("ravenstack", "RavenStack synthetic SaaS: 5,000 subscriptions (per subscription), billing "
                        "frequency, auto-renew, seats; churn = ended within 90 days of as_of",
                        "../shared/data/saas_subscriptions", run_ravenstack),
)


# --------------------------------------------------------------------------------------------- report


def _fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def markdown(data: dict[str, Any]) -> str:
    """The docs table: one row per dataset and as_of."""
    lines = ["| dataset | as_of | customers | churned | base rate | AUC 100 − health | AUC risk | AUC −tenure | "
             "AUC health before #13 | precision top 10 % (health / risk / −tenure) | coverage |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for name, result in data["datasets"].items():
        for row in result["dates"]:
            before = row.get("health_before", {}).get("auc")
            lines.append(
                f"| {name} | {row['as_of']} | {row['customers']:,} | {row['churned']:,} | {_fmt(row['base_rate'])} | "
                f"**{_fmt(row['health']['auc'])}** | {_fmt(row['risk']['auc'])} | {_fmt(row['neg_tenure']['auc'])} | "
                f"{_fmt(before)} | {_fmt(row['health']['precision_top10'], 2)} / {_fmt(row['risk']['precision_top10'], 2)}"
                f" / {_fmt(row['neg_tenure']['precision_top10'], 2)} | {_fmt(row['coverage_mean'], 2)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated dataset names (" + ", ".join(d.name for d in DATASETS) + ")")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where downloaded packages are kept")
    parser.add_argument("--out", type=Path, default=RESULTS / "subscription_health.json")
    args = parser.parse_args()
    chosen = [d for d in DATASETS if not args.only or d.name in args.only.split(",")]
    before = before_profile()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lifecycle-subhealth-") as scratch:
        os.environ["LIFECYCLE_DATA_DIR"] = str(Path(scratch) / "data")  # snapshot caches stay out of the user's folder
        for spec in chosen:
            work = Path(scratch) / spec.name
            work.mkdir()
            started = time.perf_counter()
            result = spec.run(args.cache, work, before)
            results[spec.name] = {"description": spec.description, "source": spec.source, **result,
                                  "seconds": round(time.perf_counter() - started, 2)}
            print(f"{spec.name}: done in {results[spec.name]['seconds']} s", file=sys.stderr)
    data = {**machine_info(), "profile": "default", "top_share": TOP_SHARE, "horizon_days": HORIZON_DAYS,
            "before_commit": BEFORE_COMMIT if before is not None else None, "datasets": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(markdown(data))


if __name__ == "__main__":
    main()
