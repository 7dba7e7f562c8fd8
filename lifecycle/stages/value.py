"""What each lifecycle stage is worth: customers and MRR per stage on as_of, optionally per stage × segment.

From the as-of snapshot and the stage classification (the same as ``stage_distribution``): customers who have not
churned are counted in their stage, churned customers in ``churned`` (MRR 0 by definition). Per group: customers,
paying customers (MRR > 0), MRR (Σ ``mrr_current``: subscriptions active on as_of), its share of all MRR, and ARPA
(MRR ÷ paying customers; None without paying customers). ``values`` adds other per-customer amounts summed per
group (e.g. expected CLV or residual value from ``lifecycle.clv``), with the number of customers that have one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Dimension
from lifecycle.stages.model import StageModel
from lifecycle.stages.scope_rows import scope_columns

CHURNED = "churned"


def customer_stages(dataset: Dataset, model: StageModel | None = None) -> pd.Series:
    """Each customer's stage on as_of (``churned`` when churned), indexed by customer_id, in snapshot order."""
    from lifecycle.stages.verdict import classified_customers  # verdict → history → this module

    model = model or dataset.stage_model
    snap = scope_columns(dataset, ("customer_id", "churned"))  # the snapshot's rows: only the columns read
    classified = classified_customers(dataset, model)  # the stage does not depend on the overlays
    churned = snap["churned"].fillna(False).to_numpy(dtype=bool)
    stage = np.where(churned, CHURNED, classified["stage"].to_numpy(dtype=object))
    return pd.Series(pd.array(stage, dtype="string"), index=pd.Index(snap["customer_id"].astype("string"), name="customer_id"))


def _group_totals(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The ``keys`` columns, ``customers`` (rows), ``paying_customers`` (rows with ``paying``) and ``mrr`` (Σ ``mrr``)
    per group of ``keys``, groups in order of first appearance, a missing key its own group — what
    ``frame.groupby(keys, sort=False, dropna=False).agg(...)`` gives, the sums by the same grouped sum (pandas'
    compensated one, rows in frame order), without the named-aggregation machinery (~5 ms a call)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for key in keys:  # a code per combination of keys, then numbered by first appearance
        key_codes, uniques = pd.factorize(frame[key], sort=False, use_na_sentinel=False)
        codes = codes * max(len(uniques), 1) + key_codes
    codes, firsts = pd.factorize(codes, sort=False)
    first_rows = np.zeros(len(firsts), dtype=np.int64)
    first_rows[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of each group
    out = frame[keys].take(first_rows).reset_index(drop=True)
    out["customers"] = np.bincount(codes, minlength=len(firsts)).astype(np.int64)
    out["paying_customers"] = np.bincount(codes[frame["paying"].to_numpy(dtype=bool)], minlength=len(firsts)).astype(np.int64)
    out["mrr"] = frame["mrr"].groupby(codes, sort=False).sum().to_numpy()
    return out


def stage_value(dataset: Dataset, model: StageModel | None = None, by: Dimension | None = None,
                values: Mapping[str, pd.Series] | None = None) -> pd.DataFrame:
    """Customers, paying customers, MRR, MRR share and ARPA per stage (model order, then churned), or per stage × value
    of ``by`` (values by MRR descending within a stage; a missing value reads ``(none)``). ``values``: name →
    per-customer amounts (indexed by customer_id) summed per group as ``<name>`` with ``<name>_customers``."""
    model = model or dataset.stage_model
    snap = scope_columns(dataset, ("mrr_current", *((by.customer_column,) if by is not None else ())))
    stage = customer_stages(dataset, model)
    frame = pd.DataFrame({"stage": stage.to_numpy(), "mrr": snap["mrr_current"].fillna(0.0).to_numpy(dtype="float64")},
                         index=stage.index)
    keys = ["stage"]
    if by is not None:
        column = by.customer_column
        frame[by.value] = snap[column].astype("string").fillna("(none)").to_numpy() if column in snap.columns else "(none)"
        keys.append(by.value)
    for name, series in (values or {}).items():
        frame[name] = series.reindex(frame.index).to_numpy(dtype="float64", na_value=np.nan)
    frame["paying"] = frame["mrr"] > 0
    grouped = frame.groupby(keys, sort=False, dropna=False)
    out = (_group_totals(frame, keys) if not values else
           grouped.agg(customers=("mrr", "size"), paying_customers=("paying", "sum"), mrr=("mrr", "sum")).reset_index())
    for name in values or {}:
        sums = grouped[name].agg(lambda s: float(s.sum()) if s.notna().any() else np.nan)
        counts = grouped[name].count()
        out[name] = sums.to_numpy()
        out[f"{name}_customers"] = counts.to_numpy()
    total = float(out["mrr"].sum())
    out["mrr_share"] = out["mrr"] / total if total > 0 else np.nan
    out["arpa"] = out["mrr"] / out["paying_customers"].where(out["paying_customers"] > 0)
    order = {s.id: s.order for s in model.customer_stages} | {CHURNED: 10_000}
    out["_order"] = out["stage"].map(lambda s: order.get(s, 9_999))
    sort = ["_order", "stage"] + ([] if by is None else ["mrr", by.value])
    ascending = [True, True] + ([] if by is None else [False, True])
    out = out.sort_values(sort, ascending=ascending, kind="stable").drop(columns="_order").reset_index(drop=True)
    out["paying_customers"] = out["paying_customers"].astype("int64")
    return out
