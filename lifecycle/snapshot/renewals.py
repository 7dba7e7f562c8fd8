"""Snapshot section: commitment and renewal of each customer's active paying subscriptions on as_of.

Reads the renewal columns of ``subscriptions`` (schema 3: ``term_months``, ``current_period_end``,
``cancel_at_period_end``, ``trial_end``) through the as-of view, which keeps the scheduled dates (a renewal day or a
trial's end lies ahead by nature). Only subscriptions active and paying on as_of count (``mrr > 0``,
``start_date <= as_of < end_date``); every computation is vectorised over the rows.

Columns (each missing — NaN/NA, never a made-up value — when the source does not record what it needs):

- ``term_months``: the longest renewal term among the customer's active paying subscriptions (1 month-to-month, 12
  annual, 24 two-year); missing when none of them records a term.
- ``days_to_renewal``: days from as_of to the nearest next renewal among them. A subscription's renewals fall every
  ``term_months`` (calendar months; a fractional term such as a week counts in days of 30.436875 per month) from its
  anchor — ``current_period_end`` when recorded, else ``start_date`` — and the next one is the first strictly after
  as_of (rolled forward or back by whole terms, so an export's current period end serves an earlier as_of too).
  Without a term, ``current_period_end`` itself when it lies after as_of; else missing.
- ``cancel_at_period_end``: some active paying subscription has auto-renew off; missing when none records the flag.
- ``in_trial``: some active subscription's ``trial_end`` lies after as_of; missing when the table records no trial
  end at all.

Source of the signals they feed: contractual churn happens at renewal — a customer can only leave when a term ends
(Fader & Hardie 2007, "How to project customer retention", contractual settings; Ascarza, Fader & Hardie's
renewal-based models), longer commitments renew more often, and auto-renew off is an announced cancellation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.snapshot.frames import absent_columns, attach

RENEWAL_COLUMNS = {"term_months": "float", "days_to_renewal": "float", "cancel_at_period_end": "boolean",
                   "in_trial": "boolean"}
DAYS_PER_MONTH = 365.2425 / 12.0
"""Mean Gregorian month (30.436875 days), for terms that are not whole months (weekly, daily plans)."""


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar-month shift of datetime64[D] ``days`` by whole ``months`` (int64), the day of the month clamped to the
    target month's length (2024-01-31 + 1 month = 2024-02-29), as ``dateutil.relativedelta`` counts months."""
    month_start = days.astype("datetime64[M]")
    day_of_month = (days - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + months.astype("timedelta64[M]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day_of_month, length - 1)


def next_renewal(anchor: np.ndarray, term_months: np.ndarray, as_of: np.datetime64) -> np.ndarray:
    """The first day ``anchor + k × term`` (k any whole number) strictly after ``as_of``; NaT without anchor or term.

    ``anchor`` is datetime64[D], ``term_months`` float (NaN or ≤ 0: no term). Whole-month terms step in calendar
    months from the anchor; other terms in days (term × 30.436875, rounded to whole days).
    """
    n = len(anchor)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    known = ~np.isnat(anchor) & np.isfinite(term_months) & (term_months > 0)
    whole = known & (np.abs(term_months - np.round(term_months)) < 1e-9)
    if whole.any():
        a, m = anchor[whole], np.round(term_months[whole]).astype(np.int64)
        gap = (as_of.astype("datetime64[M]") - a.astype("datetime64[M]")).astype(np.int64)
        k = np.floor_divide(gap, m)  # anchor + k·m lands in as_of's month or before it
        candidate = add_months(a, k * m)
        later = add_months(a, (k + 1) * m)
        out[whole] = np.where(candidate > as_of, candidate, later)
    part = known & ~whole
    if part.any():
        a = anchor[part]
        step = np.maximum(np.round(term_months[part] * DAYS_PER_MONTH), 1).astype(np.int64)
        elapsed = (as_of - a).astype(np.int64)
        k = np.floor_divide(elapsed, step) + 1
        out[part] = a + (k * step).astype("timedelta64[D]")
    return out


def renewal_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``term_months``, ``days_to_renewal``, ``cancel_at_period_end`` and ``in_trial`` (module docstring)."""
    if not dataset.has("subscriptions"):
        return absent_columns(snap, RENEWAL_COLUMNS)
    subs = dataset.table("subscriptions")
    if not {"term_months", "current_period_end", "cancel_at_period_end", "trial_end"} <= set(subs.columns):
        return absent_columns(snap, RENEWAL_COLUMNS)
    day = as_of.to_datetime64().astype("datetime64[D]")
    active = (subs["start_date"] <= as_of) & (subs["end_date"].isna() | (subs["end_date"] > as_of))
    trial_end = subs["trial_end"].to_numpy(dtype="datetime64[D]")
    trial_known = bool(subs["trial_end"].notna().any())
    in_trial = active.to_numpy(dtype=bool) & ~np.isnat(trial_end) & (trial_end > day)
    paying = subs[active & (subs["mrr"] > 0)]
    term = paying["term_months"].to_numpy(dtype="float64", na_value=np.nan)
    term = np.where(term > 0, term, np.nan)
    period_end = paying["current_period_end"].to_numpy(dtype="datetime64[D]")
    start = paying["start_date"].to_numpy(dtype="datetime64[D]")
    anchor = np.where(np.isnat(period_end), start, period_end)
    renewal = next_renewal(anchor, term, day)
    untermed = np.isnan(term) & ~np.isnat(period_end) & (period_end > day)
    renewal = np.where(untermed, period_end, renewal)
    days = (renewal - day).astype("timedelta64[D]").astype("float64")
    days[np.isnat(renewal)] = np.nan
    flag = paying["cancel_at_period_end"].to_numpy(dtype="float64", na_value=np.nan)
    by = paying["customer_id"].astype("string")
    per = pd.DataFrame({
        "term_months": pd.Series(term, index=paying.index).groupby(by).max(),
        "days_to_renewal": pd.Series(days, index=paying.index).groupby(by).min(),
        "cancel_at_period_end": pd.Series(flag, index=paying.index).groupby(by).max(),
    })
    trials = pd.Series(in_trial, index=subs.index).groupby(subs["customer_id"].astype("string")).any().rename("in_trial")
    frame = per.join(trials, how="outer").rename_axis("customer_id").reset_index()
    snap = attach(snap, frame, {"term_months": None, "days_to_renewal": None, "cancel_at_period_end": None,
                                "in_trial": False if trial_known else None})
    snap["term_months"] = snap["term_months"].astype("float64")
    snap["days_to_renewal"] = snap["days_to_renewal"].astype("float64")
    cancel = snap["cancel_at_period_end"].astype("float64")
    snap["cancel_at_period_end"] = pd.array(np.where(np.isnan(cancel), pd.NA, cancel == 1.0), dtype="boolean")
    trial = snap["in_trial"]
    snap["in_trial"] = (trial.astype("boolean") if trial_known
                        else pd.Series(pd.NA, index=snap.index, dtype="boolean"))
    return snap


__all__ = ["DAYS_PER_MONTH", "RENEWAL_COLUMNS", "add_months", "next_renewal", "renewal_columns"]
