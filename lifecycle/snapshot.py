"""The per-customer snapshot: one row per customer, every feature as known on ``as_of``.

``build_snapshot(dataset)`` implements ``docs/snapshot-contract.md``. Stages, health, risk, drivers and the
MCP tools read these columns instead of rescanning raw tables. Heavy scans (events, touches, orders,
referrals) are pushed down as portable SQL aggregations (``GROUP BY customer_id`` with ``SUM(CASE …)``
windows on ISO-8601 text, bound parameters, identifiers from the schema only); the smaller tables
(subscriptions, invoices, tickets, NPS) come through ``Dataset.table``, whose as-of view masks later facts.
Every per-customer computation afterwards is vectorised pandas/numpy — nothing loops per customer.

Definitions the contract leaves open, fixed here:

- A subscription is *paying* when its ``mrr > 0``; ``ever_paid``, ``is_active_subscriber``, ``churned``,
  ``reactivated`` and ``first_paid_at`` look at paying subscriptions (a free trial is not a purchase).
  Active on day d: ``start_date <= d < end_date`` (end exclusive, empty = open).
- ``churned`` is NA when the dataset has no subscriptions table (an order-only shop has no contract to
  end; the ecommerce stage model reads ``days_since_last_order`` instead).
- ``reactivated``: active on ``as_of`` and the paying periods (merged where they touch or overlap) form
  more than one block, i.e. the current block began after a gap; ``reactivated_at`` is its start.
- Activity counts (``events_*``, ``active_days_30d``, ``last_event_at``) use the events listed in
  ``activation.active_events`` (all events when empty). ``days_to_value`` is in calendar days.
- Orders: ``orders_count`` counts orders not refunded/cancelled; ``orders_value`` is their amount minus
  refund rows (cancelled orders count for nothing).
- An invoice is *late* when paid after its due date or unpaid after it (due before ``as_of``); ``void``
  invoices are ignored; payment is read from ``paid_at`` only (a later payment is masked by the as-of view).
- ``days_since_last_event`` / ``days_since_last_order`` count whole days from the calendar day of the latest
  event/order to ``as_of`` (an event on ``as_of`` itself gives 0).
- ``email_open_rate_90d`` uses touches on the ``email`` channel; ``touches_*`` count every channel.
- ``has_champion`` is NA for everyone when no customer in scope has a champion recorded (the source does
  not carry the field), else whether the field is non-empty.

- CLV (order-based data): ``p_alive``, ``expected_clv`` and ``rfm_segment`` come from
  ``lifecycle.clv.customer_value.predict_customer_value(dataset)`` (BG/NBD + Gamma-Gamma fitted on the kept
  orders to ``as_of``; 12 months at 10 % a year); missing for customers without kept orders, and the two
  model columns missing for everyone when no model can be fitted. See docs/clv.md.

Extra columns beyond the contract: ``seats_90d_ago``, ``reactivated_at``, ``first_order_at``,
``emails_sent_90d``, ``emails_opened_90d`` and ``used_<feature>`` (ever used each configured core feature).

``load_or_build_snapshot`` materialises a snapshot once per (database file identity, as_of, configuration,
filters) into a Parquet file under ``data_dir()/cache`` written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import date, timedelta
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.clv.customer_value import order_summary, predict_customer_value
from lifecycle.clv.segments import rfm_segments
from lifecycle.config import DEFAULT_CONFIG, EngineConfig
from lifecycle.dataset import Dataset, next_day_iso, to_datetime
from lifecycle.errors import ModelFitError, QueryError
from lifecycle.filters import Filters

NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
HIGH_PRIORITIES = ("high", "urgent")
ATTRIBUTES = ("segment", "plan", "acquisition_channel", "industry", "country", "company_size")
SNAPSHOT_CACHE_KEY = "__snapshot__"
CONTRACT_COLUMNS: tuple[str, ...] = (
    "customer_id", "signup_date", "tenure_days", *ATTRIBUTES, "executive_sponsor", "has_champion",
    "mrr_current", "mrr_30d_ago", "mrr_90d_ago", "mrr_change_90d", "seats_current", "seats_change_90d", "ever_paid",
    "is_active_subscriber", "churned", "churned_at", "reactivated", "first_paid_at", "events_7d", "events_30d",
    "events_prev_30d", "events_90d", "active_days_30d", "distinct_features_30d", "usage_change_30d", "last_event_at",
    "days_since_last_event", "activated", "activated_at", "days_to_value", "onboarding_steps_done", "onboarding_complete",
    "nps_latest", "nps_latest_at", "nps_category", "tickets_open", "tickets_open_high", "tickets_90d", "csat_avg_90d",
    "invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "on_time_payment_rate", "referrals_made",
    "referrals_converted", "touches_sent_90d", "touches_opened_90d", "touches_clicked_90d", "email_open_rate_90d",
    "orders_count", "orders_value", "last_order_at", "days_since_last_order",
)
"""The columns ``docs/snapshot-contract.md`` promises, in its order (extras and ``x_*`` follow)."""
CLV_SNAPSHOT_COLUMNS = ("p_alive", "expected_clv", "rfm_segment")
"""Order-based CLV columns (``lifecycle.clv.customer_value``); missing for customers without kept orders."""
RECENT_COLUMNS = ("events_7d", "events_30d", "events_prev_30d", "events_90d", "active_days_30d", "distinct_features_30d")
MILESTONE_COLUMNS = ("activated", "activated_at", "days_to_value", "onboarding_steps_done", "onboarding_complete")


def feature_column(event_name: str) -> str:
    """The snapshot column flagging use of core feature ``event_name``: ``used_<name>`` (non-word chars → ``_``)."""
    return "used_" + re.sub(r"\W", "_", event_name)


# --------------------------------------------------------------------------------------------- public API


SECTIONS = (
    # (builder, columns it adds) — build_snapshot(columns=…) runs only the sections a caller needs
    ("subscriptions", ("mrr_current", "mrr_30d_ago", "mrr_90d_ago", "mrr_change_90d", "seats_current", "seats_90d_ago",
                       "seats_change_90d", "is_active_subscriber", "churned", "churned_at", "reactivated", "reactivated_at",
                       "ever_paid", "first_paid_at")),
    ("recent_events", (*RECENT_COLUMNS, "usage_change_30d")),
    ("latest_event", ("last_event_at", "days_since_last_event")),
    ("milestones", MILESTONE_COLUMNS),
    ("feature_use", ()),  # used_<feature> columns, named from the configuration
    ("nps", ("nps_latest", "nps_latest_at", "nps_category")),
    ("tickets", ("tickets_open", "tickets_open_high", "tickets_90d", "csat_avg_90d")),
    ("invoices", ("invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "on_time_payment_rate")),
    ("referrals", ("referrals_made", "referrals_converted")),
    ("touches", ("touches_sent_90d", "touches_opened_90d", "touches_clicked_90d", "emails_sent_90d", "emails_opened_90d",
                 "email_open_rate_90d")),
    ("orders", ("orders_count", "orders_value", "last_order_at", "first_order_at", "days_since_last_order",
                "ever_paid", "first_paid_at")),
    ("clv", CLV_SNAPSHOT_COLUMNS),
)


def _builders() -> dict[str, object]:
    return {"subscriptions": _subscription_columns, "recent_events": _recent_event_columns,
            "latest_event": _latest_event_columns, "milestones": _milestone_columns, "feature_use": _feature_use_columns,
            "nps": _nps_columns, "tickets": _ticket_columns, "invoices": _invoice_columns, "referrals": _referral_columns,
            "touches": _touch_columns, "orders": _order_columns, "clv": _clv_columns}


def build_snapshot(dataset: Dataset, columns: Collection[str] | None = None) -> pd.DataFrame:
    """One row per customer in the dataset's scope, sorted by ``customer_id``, with every contract column.

    Customers who signed up after ``as_of`` are not in the snapshot. Missing source tables give NaN/NA
    columns, never zeros. See ``docs/snapshot-contract.md`` for the meaning of each column. With ``columns``,
    only the sections producing those columns run (the customer attributes and ``x_*`` are always there) —
    the stage history uses this to classify many past dates cheaply.
    """
    as_of = pd.Timestamp(dataset.as_of)
    customers = dataset.table("customers", extra=True)
    snap = _customer_columns(customers, as_of)
    wanted = None if columns is None else set(columns)
    builders = _builders()
    for name, produced in SECTIONS:
        needed = wanted is None or bool(wanted & set(produced)) or (
            name == "feature_use" and any(c.startswith("used_") for c in wanted))
        if needed:
            snap = builders[name](dataset, snap, as_of)  # type: ignore[operator]
    if wanted is None or wanted & {"ever_paid", "first_paid_at"}:
        snap = _paid_columns(dataset, snap)
    present = [c for c in CONTRACT_COLUMNS if c in snap.columns]
    extras = [c for c in snap.columns if c not in CONTRACT_COLUMNS and not c.startswith("x_") and not c.startswith("_")]
    user = [c for c in snap.columns if c.startswith("x_")]
    snap = snap[[*present, *extras, *user]]
    return snap.sort_values("customer_id", kind="stable").reset_index(drop=True)


def snapshot_of(dataset: Dataset, columns: Collection[str] | None = None) -> pd.DataFrame:
    """The snapshot of ``dataset`` (only ``columns``' sections when given), built once per ``Dataset``.

    Memoised with the dataset's table cache; a full snapshot already built serves any column subset. On a
    SQLite-backed dataset the Parquet cache of ``load_or_build_snapshot`` is used as well.
    """
    cache = dataset._cache  # the dataset's per-call frame cache; these keys cannot collide with table keys
    if SNAPSHOT_CACHE_KEY in cache:
        return cache[SNAPSHOT_CACHE_KEY]
    key = SNAPSHOT_CACHE_KEY if columns is None else f"{SNAPSHOT_CACHE_KEY}:{_columns_tag(columns)}"
    if key not in cache:
        path = getattr(dataset.backend, "path", None)
        if path is not None and Path(path).exists():
            cache[key] = _cached(Path(path), dataset, columns)
        else:
            cache[key] = build_snapshot(dataset, columns)
    return cache[key]


def _columns_tag(columns: Collection[str] | None) -> str:
    if columns is None:
        return ""
    return "cols" + hashlib.sha256(",".join(sorted(set(columns))).encode()).hexdigest()[:10]


def load_or_build_snapshot(db_path: str | Path, as_of: date, config: EngineConfig = DEFAULT_CONFIG,
                           filters: Filters | None = None) -> pd.DataFrame:
    """The snapshot of the SQLite store at ``db_path``, read from the Parquet cache or built and cached.

    Cache file: ``data_dir()/cache/<db identity>/snapshot-<as_of>-<config fingerprint>-<filters hash>.parquet``
    where the db identity is a sha256 of (resolved path, size, mtime_ns) — a re-import changes it, so a
    stale snapshot is never read. The file is written to a temporary name and renamed into place.
    """
    dataset = Dataset.open(db_path, as_of, filters=filters, config=config)
    try:
        return _cached(Path(db_path), dataset)
    finally:
        close = getattr(dataset.backend, "close", None)
        if close:
            close()


def snapshot_cache_path(db_path: str | Path, as_of: date, config: EngineConfig, filters: Filters,
                        columns: Collection[str] | None = None) -> Path:
    """Where the cached snapshot for these arguments lives (see ``load_or_build_snapshot``)."""
    from lifecycle.store import data_dir

    source = Path(db_path).resolve()
    stat = source.stat()
    identity = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    filters_hash = hashlib.sha256(json.dumps(filters.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    tag = f"-{_columns_tag(columns)}" if columns is not None else ""
    name = f"snapshot-{as_of.isoformat()}-{config.fingerprint()}-{filters_hash}{tag}.parquet"
    return data_dir() / "cache" / identity / name


def _read(target: Path) -> pd.DataFrame | None:
    if target.exists():
        try:
            return pd.read_parquet(target)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            return None
    return None


def _cached(db_path: Path, dataset: Dataset, columns: Collection[str] | None = None) -> pd.DataFrame:
    full = snapshot_cache_path(db_path, dataset.as_of, dataset.config, dataset.filters)
    found = _read(full)
    if found is None and columns is not None:
        target = snapshot_cache_path(db_path, dataset.as_of, dataset.config, dataset.filters, columns)
        found = _read(target)
    else:
        target = full
    if found is not None:
        return found
    snap = build_snapshot(dataset, columns)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=target.parent)
    os.close(handle)
    try:
        snap.to_parquet(temporary, index=False)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return snap


# --------------------------------------------------------------------------------------------- helpers


def _days(later: pd.Series | pd.Timestamp, earlier: pd.Series | pd.Timestamp) -> pd.Series:
    """Days between two datetime values (float; NaN when either is missing); whole days for day values."""
    delta = later - earlier
    return (delta.dt.total_seconds() / 86400.0).astype("float64")


def _cutoff(dataset: Dataset, days_back: int = 0) -> str:
    """ISO text of the first day after ``as_of − days_back``: ``col >= _cutoff(ds, n)`` selects (as_of−n, …]."""
    return next_day_iso(dataset.as_of - timedelta(days=days_back))


def _scope_sql(dataset: Dataset, column: str) -> tuple[str, list[object]]:
    """The scope's customer filter on ``column`` (as ``Dataset._load`` applies it), or a true clause."""
    if dataset.filters.is_empty():
        return "1 = 1", []
    clause, params = dataset.filters.customer_sql("c")
    return f"{column} IN (SELECT c.customer_id FROM customers c WHERE {clause})", params


def _in_list(column: str, values: tuple[str, ...]) -> tuple[str, list[object]]:
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def _attach(snap: pd.DataFrame, frame: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """Align ``frame`` (one row per customer_id) onto ``snap``; customers absent from it get ``columns``' fills.

    A fill of None leaves absent customers missing. Values present in ``frame`` are never filled.
    """
    keyed = frame.set_index(frame["customer_id"].astype("string"))[list(columns)]
    aligned = keyed.reindex(pd.Index(snap["customer_id"]))
    absent = ~snap["customer_id"].isin(keyed.index).to_numpy()
    out = snap.copy()
    for column, fill in columns.items():
        values = aligned[column].set_axis(snap.index)
        out[column] = values.mask(absent, fill) if fill is not None and absent.any() else values
    return out


def _absent(snap: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Add ``columns`` (name → dtype) filled with missing values: the source table is absent."""
    for column, dtype in columns.items():
        if dtype == "datetime":
            snap[column] = pd.Series(pd.NaT, index=snap.index, dtype="datetime64[us]")
        elif dtype == "boolean":
            snap[column] = pd.Series(pd.NA, index=snap.index, dtype="boolean")
        elif dtype == "string":
            snap[column] = pd.Series(pd.NA, index=snap.index, dtype="string")
        else:
            snap[column] = np.nan
    return snap


def _numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


# --------------------------------------------------------------------------------------------- sections


def _customer_columns(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    snap = pd.DataFrame({"customer_id": customers["customer_id"].astype("string"),
                         "signup_date": customers["signup_date"].astype("datetime64[us]")})
    snap["tenure_days"] = _days(as_of, snap["signup_date"])
    for column in ATTRIBUTES:
        snap[column] = customers[column].astype("string")
    snap["executive_sponsor"] = customers["executive_sponsor"].astype("boolean")
    champion = customers["champion"].astype("string").str.strip()
    known = champion.notna() & (champion != "")
    snap["has_champion"] = known.astype("boolean") if known.any() else pd.Series(pd.NA, index=snap.index, dtype="boolean")
    for column in customers.columns:
        if column.startswith("x_"):
            snap[column] = customers[column]
    return snap.reset_index(drop=True)


def _active_on(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    return (subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))


def _subscription_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    columns = {"mrr_current": "float", "mrr_30d_ago": "float", "mrr_90d_ago": "float", "mrr_change_90d": "float",
               "seats_current": "float", "seats_90d_ago": "float", "seats_change_90d": "float",
               "is_active_subscriber": "boolean", "churned": "boolean", "churned_at": "datetime",
               "reactivated": "boolean", "reactivated_at": "datetime", "_first_sub_paid_at": "datetime"}
    if not dataset.has("subscriptions"):
        return _absent(snap, columns)
    subs = dataset.table("subscriptions")[["customer_id", "start_date", "end_date", "mrr", "seats"]].copy()
    subs["customer_id"] = subs["customer_id"].astype("string")
    subs["seats"] = subs["seats"].astype("float64")
    by = subs["customer_id"]
    per: dict[str, pd.Series] = {}
    for label, back in (("current", 0), ("30d_ago", 30), ("90d_ago", 90)):
        active = _active_on(subs, as_of - pd.Timedelta(days=back))
        per[f"mrr_{label}"] = subs["mrr"].where(active, 0.0).groupby(by).sum()
        if label != "30d_ago":  # seats of active periods; unknown when an active period has no seat count
            seats = subs["seats"].where(active, 0.0).groupby(by).sum()
            unknown = (active & subs["seats"].isna()).groupby(by).any()
            per[f"seats_{label}"] = seats.mask(unknown)
    frame = pd.DataFrame(per).rename_axis("customer_id").reset_index()
    seats_fill = 0.0 if subs["seats"].notna().any() else None
    fills: dict[str, object] = {"mrr_current": 0.0, "mrr_30d_ago": 0.0, "mrr_90d_ago": 0.0,
                                "seats_current": seats_fill, "seats_90d_ago": seats_fill}
    snap = _attach(snap, frame, fills)
    if seats_fill is None:
        snap[["seats_current", "seats_90d_ago"]] = np.nan
    snap["mrr_change_90d"] = snap["mrr_current"] - snap["mrr_90d_ago"]
    snap["seats_change_90d"] = snap["seats_current"] - snap["seats_90d_ago"]
    return _paying_periods(snap, subs[subs["mrr"] > 0], as_of)


def _paying_periods(snap: pd.DataFrame, paid: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Active / churned / reactivated from paying periods merged into blocks (vectorised over all rows)."""
    paid = paid.sort_values(["customer_id", "start_date"], kind="stable")
    start = paid["start_date"].to_numpy(dtype="datetime64[us]")
    end = paid["end_date"].fillna(pd.Timestamp.max.floor("D")).to_numpy(dtype="datetime64[us]")
    ends = pd.Series(end, index=paid.index)
    reach = ends.groupby(paid["customer_id"]).cummax()
    previous_reach = reach.groupby(paid["customer_id"]).shift(1)
    new_block = previous_reach.isna() | (pd.Series(start, index=paid.index) > previous_reach)
    active = _active_on(paid, as_of)
    per = pd.DataFrame({
        "blocks": new_block.groupby(paid["customer_id"]).sum(),
        "is_active_subscriber": active.groupby(paid["customer_id"]).any(),
        "_first_sub_paid_at": paid.groupby("customer_id")["start_date"].min(),
        "last_block_start": paid["start_date"].where(new_block).groupby(paid["customer_id"]).max(),
        "last_end": paid.groupby("customer_id")["end_date"].max(),
    }).rename_axis("customer_id").reset_index()
    snap = _attach(snap, per, {"blocks": 0, "is_active_subscriber": False, "last_block_start": None, "last_end": None,
                               "_first_sub_paid_at": None})
    snap["is_active_subscriber"] = snap["is_active_subscriber"].astype("boolean")
    ever = snap["blocks"] > 0
    snap["churned"] = (ever & ~snap["is_active_subscriber"]).astype("boolean")
    snap["churned_at"] = snap["last_end"].where(snap["churned"].astype(bool)).astype("datetime64[us]")
    snap["reactivated"] = (snap["is_active_subscriber"] & (snap["blocks"] > 1)).astype("boolean")
    snap["reactivated_at"] = snap["last_block_start"].where(snap["reactivated"].astype(bool)).astype("datetime64[us]")
    snap["_first_sub_paid_at"] = snap["_first_sub_paid_at"].astype("datetime64[us]")
    return snap.drop(columns=["blocks", "last_block_start", "last_end"])


def _events_absent(dataset: Dataset, snap: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame | None:
    """``snap`` with ``columns`` missing when there is no event data, else None (go ahead and query)."""
    return None if dataset.has("events") else _absent(snap, columns)


def _activity_sql(dataset: Dataset) -> tuple[str, list[object]]:
    events = tuple(dataset.config.activation.active_events)
    return _in_list("e.event_name", events) if events else ("1 = 1", [])


def _event_query(dataset: Dataset, select: list[str], params: list[object], where: str, where_params: list[object]) -> pd.DataFrame:
    scope, scope_params = _scope_sql(dataset, "e.customer_id")
    sql = (f"SELECT e.customer_id AS customer_id, {', '.join(select)} FROM events e "
           f"WHERE {where} AND e.occurred_at < ? AND {scope} GROUP BY e.customer_id")
    return dataset.backend.query(sql, [*params, *where_params, _cutoff(dataset), *scope_params])


def _recent_event_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Window counts over the last 90 days only (the WHERE keeps older rows out of every expression)."""
    absent = _events_absent(dataset, snap, dict.fromkeys([*RECENT_COLUMNS, "usage_change_30d"], "float"))
    if absent is not None:
        return absent
    act, act_params = _activity_sql(dataset)
    core, core_params = _in_list("e.event_name", tuple(dataset.config.activation.core_features))
    qty = "COALESCE(e.quantity, 1)"
    select: list[str] = []
    params: list[object] = []
    for alias, back in (("events_7d", 7), ("events_30d", 30), ("events_90d", 90)):
        select.append(f"SUM(CASE WHEN {act} AND e.occurred_at >= ? THEN {qty} ELSE 0 END) AS {alias}")
        params += [*act_params, _cutoff(dataset, back)]
    select.append(f"SUM(CASE WHEN {act} AND e.occurred_at >= ? AND e.occurred_at < ? THEN {qty} ELSE 0 END) AS events_prev_30d")
    params += [*act_params, _cutoff(dataset, 60), _cutoff(dataset, 30)]
    select.append(f"COUNT(DISTINCT CASE WHEN {act} AND e.occurred_at >= ? THEN SUBSTR(e.occurred_at, 1, 10) END) AS active_days_30d")
    params += [*act_params, _cutoff(dataset, 30)]
    select.append(f"COUNT(DISTINCT CASE WHEN {core} AND e.occurred_at >= ? THEN e.event_name END) AS distinct_features_30d")
    params += [*core_params, _cutoff(dataset, 30)]
    frame = _numeric(_event_query(dataset, select, params, "e.occurred_at >= ?", [_cutoff(dataset, 90)]), list(RECENT_COLUMNS))
    snap = _attach(snap, frame, dict.fromkeys(RECENT_COLUMNS, 0.0))
    previous = snap["events_prev_30d"]
    snap["usage_change_30d"] = ((snap["events_30d"] - previous) / previous.where(previous > 0)).astype("float64")
    return snap


def _latest_event_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Latest activity event to as_of and the whole days since it."""
    absent = _events_absent(dataset, snap, {"last_event_at": "datetime", "days_since_last_event": "float"})
    if absent is not None:
        return absent
    act, act_params = _activity_sql(dataset)
    frame = _event_query(dataset, ["MAX(e.occurred_at) AS last_event_at"], [], act, act_params)
    frame["last_event_at"] = to_datetime(frame["last_event_at"]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    snap = _attach(snap, frame, {"last_event_at": None})
    snap["last_event_at"] = snap["last_event_at"].astype("datetime64[us]")
    snap["days_since_last_event"] = _days(as_of, snap["last_event_at"].dt.normalize())
    return snap


def _milestone_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """First value event and onboarding steps (reads only those two event names)."""
    activation = dataset.config.activation
    absent = _events_absent(dataset, snap, {"activated": "boolean", "activated_at": "datetime", "days_to_value": "float",
                                             "onboarding_steps_done": "float", "onboarding_complete": "boolean"})
    if absent is not None:
        return absent
    select = ["MIN(CASE WHEN e.event_name = ? THEN e.occurred_at END) AS activated_at",
              "SUM(CASE WHEN e.event_name = ? THEN 1 ELSE 0 END) AS onboarding_events"]
    names = [activation.value_event, activation.onboarding_event]
    frame = _numeric(_event_query(dataset, select, names, "e.event_name IN (?, ?)", names), ["onboarding_events"])
    frame["activated_at"] = to_datetime(frame["activated_at"]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    snap = _attach(snap, frame, {"activated_at": None, "onboarding_events": 0.0})
    snap["activated_at"] = snap["activated_at"].astype("datetime64[us]")
    snap["days_to_value"] = _days(snap["activated_at"].dt.normalize(), snap["signup_date"])
    snap["activated"] = (snap["days_to_value"] <= activation.within_days).astype("boolean")
    steps = float(activation.onboarding_steps)
    snap["onboarding_steps_done"] = snap["onboarding_events"].clip(upper=steps)
    snap["onboarding_complete"] = (snap["onboarding_steps_done"] >= steps).astype("boolean")
    return snap.drop(columns=["onboarding_events"])


def _feature_use_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``used_<feature>``: each configured core feature used at least once by as_of."""
    features = tuple(dataset.config.activation.core_features)
    used = [feature_column(f) for f in features]
    absent = _events_absent(dataset, snap, dict.fromkeys(used, "boolean"))
    if absent is not None or not features:
        return absent if absent is not None else snap
    select = [f"MAX(CASE WHEN e.event_name = ? THEN 1 ELSE 0 END) AS used_{i}" for i in range(len(features))]
    where, where_params = _in_list("e.event_name", features)
    frame = _numeric(_event_query(dataset, select, list(features), where, where_params), [f"used_{i}" for i in range(len(features))])
    frame = frame.rename(columns={f"used_{i}": name for i, name in enumerate(used)})
    snap = _attach(snap, frame, dict.fromkeys(used, 0.0))
    for column in used:
        snap[column] = (snap[column] > 0).astype("boolean")
    return snap


def _nps_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    if not dataset.has("nps_responses"):
        return _absent(snap, {"nps_latest": "float", "nps_latest_at": "datetime", "nps_category": "string"})
    nps = dataset.table("nps_responses").sort_values(["customer_id", "responded_at", "response_id"], kind="stable")
    latest = nps.groupby("customer_id").tail(1)
    frame = pd.DataFrame({"customer_id": latest["customer_id"], "nps_latest": latest["score"].astype("float64"),
                          "nps_latest_at": latest["responded_at"]})
    snap = _attach(snap, frame, {"nps_latest": None, "nps_latest_at": None})
    score = snap["nps_latest"]
    category = np.select([score >= NPS_PROMOTER_MIN, score > NPS_DETRACTOR_MAX, score >= 0],
                         ["promoter", "passive", "detractor"], default="")
    snap["nps_category"] = pd.Series(category, index=snap.index, dtype="string").replace("", pd.NA)
    snap["nps_latest_at"] = snap["nps_latest_at"].astype("datetime64[us]")
    return snap


def _ticket_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    columns = ["tickets_open", "tickets_open_high", "tickets_90d", "csat_avg_90d"]
    if not dataset.has("tickets"):
        return _absent(snap, dict.fromkeys(columns, "float"))
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
    frame = _numeric(frame, columns)
    return _attach(snap, frame, {"tickets_open": 0.0, "tickets_open_high": 0.0, "tickets_90d": 0.0, "csat_avg_90d": None})


def _invoice_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    columns = ["invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "on_time_payment_rate"]
    if not dataset.has("invoices"):
        return _absent(snap, dict.fromkeys(columns, "float"))
    invoices = dataset.table("invoices")
    invoices = invoices[invoices["status"].astype("string").str.lower().fillna("") != "void"]
    due, paid = invoices["due_date"], invoices["paid_at"]
    recent = due >= as_of - pd.Timedelta(days=89)
    overdue = paid.isna() & (due < as_of)
    late = (paid > due).fillna(False) | overdue
    by = invoices["customer_id"].astype("string")
    frame = pd.DataFrame({
        "invoices_due_90d": recent.groupby(by).sum(),
        "invoices_late_90d": (recent & late).groupby(by).sum(),
        "invoices_overdue_now": overdue.groupby(by).sum(),
    }).rename_axis("customer_id").reset_index()
    frame = _numeric(frame, columns[:3])
    snap = _attach(snap, frame, dict.fromkeys(columns[:3], 0.0))
    due_count = snap["invoices_due_90d"]
    snap["on_time_payment_rate"] = 1.0 - snap["invoices_late_90d"] / due_count.where(due_count > 0)
    return snap


def _referral_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    columns = ["referrals_made", "referrals_converted"]
    if not dataset.has("referrals"):
        return _absent(snap, dict.fromkeys(columns, "float"))
    scope, scope_params = _scope_sql(dataset, "r.referrer_customer_id")
    sql = ("SELECT r.referrer_customer_id AS customer_id, COUNT(*) AS referrals_made, "
           "SUM(CASE WHEN c2.customer_id IS NOT NULL THEN 1 ELSE 0 END) AS referrals_converted "
           "FROM referrals r LEFT JOIN customers c2 ON c2.customer_id = r.referred_customer_id AND c2.signup_date < ? "
           f"WHERE r.referred_at < ? AND {scope} GROUP BY r.referrer_customer_id")
    frame = dataset.backend.query(sql, [_cutoff(dataset), _cutoff(dataset), *scope_params])
    return _attach(snap, _numeric(frame, columns), dict.fromkeys(columns, 0.0))


def _touch_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    columns = ["touches_sent_90d", "touches_opened_90d", "touches_clicked_90d", "emails_sent_90d", "emails_opened_90d"]
    if not dataset.has("touches"):
        return _absent(snap, {**dict.fromkeys(columns, "float"), "email_open_rate_90d": "float"})
    cut = _cutoff(dataset)
    opened = "(t.opened_at IS NOT NULL AND t.opened_at <> '' AND t.opened_at < ?)"
    clicked = "(t.clicked_at IS NOT NULL AND t.clicked_at <> '' AND t.clicked_at < ?)"
    scope, scope_params = _scope_sql(dataset, "t.customer_id")
    sql = ("SELECT t.customer_id AS customer_id, COUNT(*) AS touches_sent_90d, "
           f"SUM(CASE WHEN {opened} THEN 1 ELSE 0 END) AS touches_opened_90d, "
           f"SUM(CASE WHEN {clicked} THEN 1 ELSE 0 END) AS touches_clicked_90d, "
           "SUM(CASE WHEN t.channel = 'email' THEN 1 ELSE 0 END) AS emails_sent_90d, "
           f"SUM(CASE WHEN t.channel = 'email' AND {opened} THEN 1 ELSE 0 END) AS emails_opened_90d "
           f"FROM touches t WHERE t.sent_at >= ? AND t.sent_at < ? AND {scope} GROUP BY t.customer_id")
    frame = dataset.backend.query(sql, [cut, cut, cut, _cutoff(dataset, 90), cut, *scope_params])
    snap = _attach(snap, _numeric(frame, columns), dict.fromkeys(columns, 0.0))
    sent = snap["emails_sent_90d"]
    snap["email_open_rate_90d"] = snap["emails_opened_90d"] / sent.where(sent > 0)
    return snap


def _order_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    columns = {"orders_count": "float", "orders_value": "float", "last_order_at": "datetime",
               "first_order_at": "datetime", "days_since_last_order": "float"}
    if not dataset.has("orders"):
        return _absent(snap, columns)
    status = "LOWER(COALESCE(o.status, ''))"
    kept = f"{status} NOT IN ('refunded', 'cancelled', 'canceled')"
    scope, scope_params = _scope_sql(dataset, "o.customer_id")
    sql = (f"SELECT o.customer_id AS customer_id, SUM(CASE WHEN {kept} THEN 1 ELSE 0 END) AS orders_count, "
           f"SUM(CASE WHEN {kept} THEN o.amount WHEN {status} = 'refunded' THEN -o.amount ELSE 0 END) AS orders_value, "
           f"MAX(CASE WHEN {kept} THEN o.ordered_at END) AS last_order_at, "
           f"MIN(CASE WHEN {kept} THEN o.ordered_at END) AS first_order_at "
           f"FROM orders o WHERE o.ordered_at < ? AND {scope} GROUP BY o.customer_id")
    frame = _numeric(dataset.backend.query(sql, [_cutoff(dataset), *scope_params]), ["orders_count", "orders_value"])
    for column in ("last_order_at", "first_order_at"):
        frame[column] = to_datetime(frame[column]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    snap = _attach(snap, frame, {"orders_count": 0.0, "orders_value": 0.0, "last_order_at": None, "first_order_at": None})
    for column in ("last_order_at", "first_order_at"):
        snap[column] = snap[column].astype("datetime64[us]")
    snap["days_since_last_order"] = _days(as_of, snap["last_order_at"].dt.normalize())
    return snap


def _clv_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``p_alive``, ``expected_clv`` (12 months, 10 %/year) and ``rfm_segment`` from the orders to as_of.

    ``predict_customer_value`` with its defaults (BG/NBD + Gamma-Gamma, weeks). When no model can be fitted
    (fewer than ``MIN_CUSTOMERS`` ordering customers, or no convergence even penalised) ``p_alive`` and
    ``expected_clv`` stay missing while ``rfm_segment`` (no model needed) is still given.
    """
    columns = {"p_alive": "float", "expected_clv": "float", "rfm_segment": "string"}
    if not dataset.has("orders"):
        return _absent(snap, columns)
    try:
        table = predict_customer_value(dataset)
        frame = table.frame.rename(columns={"clv": "expected_clv"})[list(columns)]
    except ModelFitError:
        summary = order_summary(dataset)
        frame = pd.DataFrame({"p_alive": np.nan, "expected_clv": np.nan,
                              "rfm_segment": rfm_segments(summary)["segment"] if len(summary) else pd.Series([], dtype="string")},
                             index=summary.index)
    except QueryError:  # no kept orders to as_of
        return _absent(snap, columns)
    frame = frame.rename_axis("customer_id").reset_index()
    snap = _attach(snap, frame, dict.fromkeys(columns))
    snap["p_alive"] = snap["p_alive"].astype("float64")
    snap["expected_clv"] = snap["expected_clv"].astype("float64")
    snap["rfm_segment"] = snap["rfm_segment"].astype("string")
    return snap


def _paid_columns(dataset: Dataset, snap: pd.DataFrame) -> pd.DataFrame:
    """``ever_paid`` and ``first_paid_at`` from paying subscriptions and kept orders."""
    first = pd.concat([snap["_first_sub_paid_at"], snap["first_order_at"]], axis=1).min(axis=1)
    snap["first_paid_at"] = first.astype("datetime64[us]")
    if dataset.has("subscriptions") or dataset.has("orders"):
        snap["ever_paid"] = snap["first_paid_at"].notna().astype("boolean")
    else:
        snap["ever_paid"] = pd.Series(pd.NA, index=snap.index, dtype="boolean")
    return snap.drop(columns=["_first_sub_paid_at"])
