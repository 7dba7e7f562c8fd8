"""Snapshot sections computed in pandas from the as-of tables: subscriptions, NPS, tickets and invoices.

They come through ``Dataset.table``, whose as-of view masks later facts; every computation is vectorised over all
rows (nothing loops per customer). The invoice counts, and in a whole build the NPS and ticket columns, come from
aggregates in the database instead (``lifecycle.snapshot.sql.invoice_frame``, ``lifecycle.snapshot.feedback``), with
these pandas paths kept for what those cannot classify and for builds of a few columns. Column definitions: the module
docstring of ``lifecycle.snapshot`` and ``docs/snapshot-contract.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, known_on, sorted_once
from lifecycle.schema import FAILED_PAYMENT_STATUSES
from lifecycle.snapshot.frames import absent_columns, as_float, attach

NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
HIGH_PRIORITIES = ("high", "urgent")


def _active_on(subs: pd.DataFrame, day: pd.Timestamp | np.ndarray) -> pd.Series:
    """Rows active on ``day`` (one day, or each row's own): ``start_date <= day < end_date`` (empty end: open)."""
    return (subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))


def customer_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's customer as an integer code into the sorted distinct ids (−1 for a missing id), and those ids.

    Grouping on the codes gives the groups a grouping on the id text gives (the same rows, in the same order, hence
    the same sums) without hashing the text again per aggregate: the stage history builds this section on a dozen
    checkpoints, a handful of aggregates each."""
    codes, uniques = pd.factorize(ids.astype("string"), sort=True)
    return codes.astype(np.int64), pd.Index(uniques, dtype="string", name="customer_id")


def subscription_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """MRR and seats now, 30 and 90 days ago (sums over active periods), and the paying-period flags.

    The per-customer groupings (``SubscriptionDay``) come from ``prefetch_subscriptions_on`` when it computed this day
    together with the other checkpoints of the stage history, else from this dataset's table alone."""
    columns = {"mrr_current": "float", "mrr_30d_ago": "float", "mrr_90d_ago": "float", "mrr_change_90d": "float",
               "mrr_growth_90d": "float", "seats_current": "float", "seats_90d_ago": "float", "seats_change_90d": "float",
               "seats_growth_90d": "float",
               "is_active_subscriber": "boolean", "churned": "boolean", "churned_at": "datetime",
               "reactivated": "boolean", "reactivated_at": "datetime", "_first_sub_paid_at": "datetime"}
    if not dataset.has("subscriptions"):
        snap = absent_columns(snap, columns)
        if dataset.has("events") and not dataset.has("orders"):
            from lifecycle.snapshot.sql import activity_churn_columns

            snap = activity_churn_columns(dataset, snap, as_of)
        return snap
    day = _prefetched_day(dataset)
    if day is None:
        day = subscription_days([(dataset.as_of, _subscription_rows(dataset))])[dataset.as_of]
    seats_fill = 0.0 if day.seats_known else None
    fills: dict[str, object] = {"mrr_current": 0.0, "mrr_30d_ago": 0.0, "mrr_90d_ago": 0.0,
                                "seats_current": seats_fill, "seats_90d_ago": seats_fill}
    snap = attach(snap, day.sums, fills)
    if seats_fill is None:
        snap[["seats_current", "seats_90d_ago"]] = np.nan
    snap["mrr_change_90d"] = snap["mrr_current"] - snap["mrr_90d_ago"]
    snap["seats_change_90d"] = snap["seats_current"] - snap["seats_90d_ago"]
    snap["mrr_growth_90d"] = _growth(snap["mrr_current"], snap["mrr_90d_ago"])
    snap["seats_growth_90d"] = _growth(snap["seats_current"], snap["seats_90d_ago"])
    return _paying_periods(snap, day.paying)


@dataclass(frozen=True)
class SubscriptionDay:
    """One day's per-customer groupings of the subscriptions section: ``sums`` (``customer_id``, MRR on the day and 30
    and 90 days before, seats on the day and 90 days before — missing when an active period has no seat count),
    ``seats_known`` (some subscription records seats) and ``paying`` (``customer_id``, paying blocks, active on the
    day, first paid day, start of the last block, latest end)."""

    sums: pd.DataFrame
    seats_known: bool
    paying: pd.DataFrame


def _subscription_rows(dataset: Dataset) -> pd.DataFrame:
    subs = dataset.table("subscriptions")[["customer_id", "start_date", "end_date", "mrr", "seats"]].copy()
    subs["customer_id"] = subs["customer_id"].astype("string")
    subs["seats"] = subs["seats"].astype("float64")
    return subs


def subscription_days(days: list[tuple[date, pd.DataFrame]]) -> dict[date, SubscriptionDay]:
    """The groupings of ``subscription_columns`` for each (day, that day's subscription rows), computed for all the
    days at once: every row grouped by (day, customer), each aggregate one grouping over the stacked rows instead of
    one per day. A group holds the same rows in the same order as the day's own grouping (its rows are that day's
    rows of the customer, in table order), so every sum, any, min, max, running maximum and shift is that of the
    day's own computation; customers are coded over the ids of all days (``customer_codes``), whose sorted order
    restricted to a day is the day's own."""
    stacked = pd.concat([rows for _, rows in days], ignore_index=True) if len(days) > 1 else days[0][1].reset_index(drop=True)
    counts = [len(rows) for _, rows in days]
    codes, ids = customer_codes(stacked["customer_id"])
    width = len(ids) + 1  # per day: 0 for a row without customer id, 1 + code for the others
    keys = np.repeat(np.arange(len(days), dtype=np.int64) * width, counts) + codes + 1
    on = np.repeat(np.array([np.datetime64(day, "us") for day, _ in days], dtype="datetime64[us]"), counts)
    per: dict[str, pd.Series] = {}
    for label, back in (("current", 0), ("30d_ago", 30), ("90d_ago", 90)):
        active = _active_on(stacked, on - np.timedelta64(back, "D"))
        per[f"mrr_{label}"] = _by_key(stacked["mrr"].where(active, 0.0), keys, "sum")
        if label != "30d_ago":  # seats of active periods; unknown when an active period has no seat count
            seats = _by_key(stacked["seats"].where(active, 0.0), keys, "sum")
            unknown = _by_key(active & stacked["seats"].isna(), keys, "any")
            per[f"seats_{label}"] = seats.mask(unknown)
    sums = pd.DataFrame(per)
    paid = (stacked["mrr"] > 0).to_numpy(dtype=bool)
    paying = _paying_blocks(stacked[paid], on[paid], keys[paid])
    known = stacked["seats"].notna().to_numpy(dtype=bool)
    bounds = np.cumsum([0, *counts])
    return {day: SubscriptionDay(_of_day(sums, j, width, ids), bool(known[bounds[j]:bounds[j + 1]].any()),
                                 _of_day(paying, j, width, ids))
            for j, (day, _) in enumerate(days)}


def _by_key(values: pd.Series, keys: np.ndarray, how: str) -> pd.Series:
    """``values`` aggregated (``how``) per group key, indexed by the keys (sorted)."""
    return getattr(values.groupby(keys, sort=True), how)()  # type: ignore[no-any-return]


def _of_day(frame: pd.DataFrame, j: int, width: int, ids: pd.Index) -> pd.DataFrame:
    """The rows of day ``j`` of a frame indexed by group key, as a frame of its customers (``customer_id`` first; rows
    without a customer id dropped, as a grouping on the ids drops them)."""
    keys = frame.index.to_numpy()
    low = j * width
    chosen = (keys > low) & (keys < low + width)
    part = frame[chosen]
    part.index = ids[keys[chosen] - low - 1]
    return part.rename_axis("customer_id").reset_index()


def _growth(now: pd.Series, before: pd.Series) -> pd.Series:
    """Relative change now ÷ before − 1 over the growth window, only for customers already paying (or licensed) at
    its start: a customer who started paying inside the window is new business, not expansion (NaN)."""
    base = before.astype("float64")
    return (now.astype("float64") / base.where(base > 0) - 1.0).astype("float64")


def _paying_blocks(paid: pd.DataFrame, on: np.ndarray, keys: np.ndarray) -> pd.DataFrame:
    """Per group key: paying periods merged into blocks (vectorised over all rows) — the number of blocks, active on
    the row's day ``on``, first paid day, start of the last block, latest end."""
    order = pd.DataFrame({"code": keys, "start": paid["start_date"].to_numpy()}).sort_values(
        ["code", "start"], kind="stable").index.to_numpy()  # by customer, then start (ties in their row order)
    paid, keys, on = paid.iloc[order], keys[order], on[order]
    start = paid["start_date"].to_numpy(dtype="datetime64[us]")
    end = paid["end_date"].fillna(pd.Timestamp.max.floor("D")).to_numpy(dtype="datetime64[us]")
    ends = pd.Series(end, index=paid.index)
    reach = ends.groupby(keys).cummax()
    previous_reach = reach.groupby(keys).shift(1)
    new_block = previous_reach.isna() | (pd.Series(start, index=paid.index) > previous_reach)
    active = _active_on(paid, on)
    return pd.DataFrame({
        "blocks": _by_key(new_block, keys, "sum"),
        "is_active_subscriber": _by_key(active, keys, "any"),
        "_first_sub_paid_at": _by_key(paid["start_date"], keys, "min"),
        "last_block_start": _by_key(paid["start_date"].where(new_block), keys, "max"),
        "last_end": _by_key(paid["end_date"], keys, "max"),
    })


def _paying_periods(snap: pd.DataFrame, per: pd.DataFrame) -> pd.DataFrame:
    """Active / churned / reactivated from the paying blocks of each customer (``SubscriptionDay.paying``)."""
    snap = attach(snap, per, {"blocks": 0, "is_active_subscriber": False, "last_block_start": None, "last_end": None,
                               "_first_sub_paid_at": None})
    snap["is_active_subscriber"] = snap["is_active_subscriber"].astype("boolean")
    ever = snap["blocks"] > 0
    snap["churned"] = (ever & ~snap["is_active_subscriber"]).astype("boolean")
    snap["churned_at"] = snap["last_end"].where(snap["churned"].astype(bool)).astype("datetime64[us]")
    snap["reactivated"] = (snap["is_active_subscriber"] & (snap["blocks"] > 1)).astype("boolean")
    snap["reactivated_at"] = snap["last_block_start"].where(snap["reactivated"].astype(bool)).astype("datetime64[us]")
    snap["_first_sub_paid_at"] = snap["_first_sub_paid_at"].astype("datetime64[us]")
    return snap.drop(columns=["blocks", "last_block_start", "last_end"])


SUBSCRIPTION_DAYS_KEY = "__subscription_days__"


def prefetch_subscriptions_on(dataset: Dataset, days: Sequence[date]) -> None:
    """Compute the subscription groupings of ``days`` (the stage history's checkpoints; ``dataset`` is the whole base
    on the latest of them) in one go (``subscription_days``) and keep them with ``dataset`` for the snapshots of it and
    of its ``earlier`` days; each day's rows are those its own table holds (``known_on`` of this dataset's). Days on
    which nothing is known yet keep their own path. ``release_subscriptions_on`` forgets them."""
    if len(days) < 2 or not dataset.filters.is_empty() or not dataset.has("subscriptions"):
        return
    rows = _subscription_rows(dataset)
    chosen: list[tuple[date, pd.DataFrame]] = []
    for day in days:
        known = rows if day == dataset.as_of else known_on(rows, "subscriptions", day)
        if day <= dataset.as_of and known is not None and len(known):
            chosen.append((day, known))
    if len(chosen) > 1:
        dataset._cache[SUBSCRIPTION_DAYS_KEY] = subscription_days(chosen)  # type: ignore[assignment]


def release_subscriptions_on(dataset: Dataset) -> None:
    """Forget the groupings ``prefetch_subscriptions_on`` kept."""
    dataset._cache.pop(SUBSCRIPTION_DAYS_KEY, None)


def _prefetched_day(dataset: Dataset) -> SubscriptionDay | None:
    holder = dataset.derived_from or dataset
    found = holder._cache.get(SUBSCRIPTION_DAYS_KEY)
    if found is None or (dataset is not holder and not dataset.filters.is_empty()):
        return None
    return found.get(dataset.as_of)  # type: ignore[no-any-return, attr-defined]


def nps_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp, in_database: bool = False) -> pd.DataFrame:
    """Latest NPS response to as_of: score, date and category (promoter ≥ 9, passive 7–8, detractor ≤ 6). With
    ``in_database`` the latest responses come from one statement (``lifecycle.snapshot.feedback.nps_frame``), else
    from the as-of table."""
    if not dataset.has("nps_responses"):
        return absent_columns(snap, {"nps_latest": "float", "nps_latest_at": "datetime", "nps_category": "string"})
    if in_database:
        from lifecycle.snapshot.feedback import nps_frame

        frame = nps_frame(dataset)
    else:
        latest = _sorted_responses(dataset).groupby("customer_id").tail(1)
        frame = pd.DataFrame({"customer_id": latest["customer_id"], "nps_latest": latest["score"].astype("float64"),
                              "nps_latest_at": latest["responded_at"]})
    snap = attach(snap, frame, {"nps_latest": None, "nps_latest_at": None})
    score = snap["nps_latest"]
    category = np.select([score >= NPS_PROMOTER_MIN, score > NPS_DETRACTOR_MAX, score >= 0],
                         ["promoter", "passive", "detractor"], default="")
    snap["nps_category"] = pd.Series(category, index=snap.index, dtype="string").replace("", pd.NA)
    snap["nps_latest_at"] = snap["nps_latest_at"].astype("datetime64[us]")
    return snap


SORTED_RESPONSES_KEY = "__sorted_nps_responses__"


def _sorted_responses(dataset: Dataset) -> pd.DataFrame:
    """The dataset's NPS responses sorted by customer, ``responded_at``, then ``response_id`` (stable: ties in row
    order); sorted once per dataset, and a checkpoint day reads its later dataset's sorted rows (``sorted_once``)."""
    return sorted_once(dataset, SORTED_RESPONSES_KEY, "nps_responses", lambda data: data.table("nps_responses")
                       .sort_values(["customer_id", "responded_at", "response_id"], kind="stable"))


def ticket_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp, in_database: bool = False) -> pd.DataFrame:
    """Open tickets (all, high/urgent), tickets opened in the last 90 days, CSAT mean of those closed in them. With
    ``in_database`` the counts come from one aggregate (``lifecycle.snapshot.feedback.ticket_frame``) unless the
    priorities are free text, else from the as-of table."""
    columns = ["tickets_open", "tickets_open_high", "tickets_90d", "csat_avg_90d"]
    if not dataset.has("tickets"):
        return absent_columns(snap, dict.fromkeys(columns, "float"))
    fills: dict[str, object] = {"tickets_open": 0.0, "tickets_open_high": 0.0, "tickets_90d": 0.0, "csat_avg_90d": None}
    if in_database:
        from lifecycle.snapshot.feedback import ticket_frame

        pushed = ticket_frame(dataset, HIGH_PRIORITIES)
        if pushed is not None:
            return attach(snap, pushed, fills)
    tickets = dataset.table("tickets")
    since = as_of - pd.Timedelta(days=89)  # (as_of − 90, as_of] in whole days
    is_open = tickets["closed_at"].isna()
    high = tickets["priority"].astype("string").str.lower().isin(HIGH_PRIORITIES)
    closed_recently = tickets["closed_at"] >= since
    by = tickets["customer_id"].astype("string")
    frame = pd.DataFrame({
        "tickets_open": is_open.groupby(by).sum(),
        "tickets_open_high": (is_open & high).groupby(by).sum(),
        "tickets_90d": (tickets["opened_at"] >= since).groupby(by).sum(),
        "csat_avg_90d": tickets["csat"].astype("float64").where(closed_recently).groupby(by).mean(),
    }).rename_axis("customer_id").reset_index()
    return attach(snap, as_float(frame, columns), fills)


def invoice_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Invoices due / late in the last 90 days, overdue now, the on-time rate (1 − late / due; NaN if none due) and
    ``payment_failures_90d``: invoices due in the last 90 days with a failed payment — a failed-payment status
    (``lifecycle.schema.FAILED_PAYMENT_STATUSES``, any case, spaces/hyphens as ``_``) or a failed attempt
    (``attempt_count`` beyond the one that paid it, as of as_of). Missing for everyone when no invoice records a
    failed status or an attempt count: such a source cannot say that a payment failed, so 0 would be a guess."""
    columns = ["invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "payment_failures_90d", "on_time_payment_rate"]
    if not dataset.has("invoices"):
        return absent_columns(snap, dict.fromkeys(columns, "float"))
    from lifecycle.snapshot.sql import invoice_frame, normalised_statuses

    pushed = invoice_frame(dataset, FAILED_PAYMENT_STATUSES)  # the same counts as one aggregate in the database
    if pushed is not None:
        frame, recorded = pushed
        return _invoice_rates(snap, frame, recorded, columns)
    invoices = dataset.table("invoices")
    status = normalised_statuses(invoices["status"])
    invoices = invoices[status.fillna("") != "void"]
    status = status[invoices.index]
    due, paid = invoices["due_date"], invoices["paid_at"]
    recent = due >= as_of - pd.Timedelta(days=89)
    overdue = paid.isna() & (due < as_of)
    late = (paid > due).fillna(False) | overdue
    failed_status = status.isin(FAILED_PAYMENT_STATUSES).fillna(False).astype(bool)
    attempts = (invoices["attempt_count"].astype("float64") if "attempt_count" in invoices.columns
                else pd.Series(np.nan, index=invoices.index))
    failed_attempt = ((attempts - paid.notna().astype("float64")) > 0).fillna(False).astype(bool)
    recorded = bool(failed_status.any() or attempts.notna().any())
    by = invoices["customer_id"].astype("string")
    frame = pd.DataFrame({
        "invoices_due_90d": recent.groupby(by).sum(),
        "invoices_late_90d": (recent & late).groupby(by).sum(),
        "invoices_overdue_now": overdue.groupby(by).sum(),
        "payment_failures_90d": (recent & (failed_status | failed_attempt)).groupby(by).sum(),
    }).rename_axis("customer_id").reset_index()
    return _invoice_rates(snap, as_float(frame, columns[:4]), recorded, columns)


def _invoice_rates(snap: pd.DataFrame, frame: pd.DataFrame, recorded: bool, columns: list[str]) -> pd.DataFrame:
    """The per-customer invoice counts attached (0 without invoices), failures missing when not ``recorded``, and the
    on-time rate."""
    snap = attach(snap, frame, dict.fromkeys(columns[:4], 0.0))
    if not recorded:
        snap["payment_failures_90d"] = np.nan
    due_count = snap["invoices_due_90d"]
    snap["on_time_payment_rate"] = 1.0 - snap["invoices_late_90d"] / due_count.where(due_count > 0)
    return snap
