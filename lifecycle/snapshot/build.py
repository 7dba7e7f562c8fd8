"""The per-customer snapshot: one row per customer, every feature as known on ``as_of``.

``build_snapshot(dataset)`` implements ``docs/snapshot-contract.md``. Stages, health, risk, drivers and the
MCP tools read these columns instead of rescanning raw tables. Heavy scans (events, touches, orders,
referrals, invoices; in a whole build NPS and tickets too) are pushed down as portable SQL aggregations
(``GROUP BY customer_id`` with ``SUM(CASE …)`` windows on ISO-8601 text, bound parameters, identifiers from the schema
only); subscriptions (and NPS and tickets in a build of a few columns, whose earlier checkpoints derive their tables in
memory) come through ``Dataset.table``, whose as-of view masks later facts.
Every per-customer computation afterwards is vectorised pandas/numpy — nothing loops per customer.

Definitions the contract leaves open, fixed here:

- A subscription is *paying* when its ``mrr > 0``; ``ever_paid``, ``is_active_subscriber``, ``churned``,
  ``reactivated`` and ``first_paid_at`` look at paying subscriptions (a free trial is not a purchase).
  Active on day d: ``start_date <= d < end_date`` (end exclusive, empty = open).
- ``churned`` is NA when the dataset has no subscriptions table but has orders (an order-only shop has no contract to
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
- ``has_champion`` is NA for everyone when no customer has a champion recorded (the source does not carry the
  field), else whether the field is non-empty.
- A filtered scope is the whole base's snapshot restricted to the customers its filters select (``restricted``):
  every population-dependent definition — whether the value and onboarding events occur in the data at all (else
  ``activated`` / ``onboarding_*`` are missing), whether champions are recorded, the CLV model's fit — is settled on
  the whole base, so two segments are read by the same rules and compare; and a new filter is a mask over a cached
  snapshot, not a rebuild (docs/architecture.md, "Filtered scopes").

- CLV (order-based data): ``p_alive``, ``expected_clv`` and ``rfm_segment`` come from
  ``lifecycle.clv.customer_value.predict_customer_value(dataset)`` (the order model the holdout check chooses —
  BG/NBD, MBG/NBD or Pareto/NBD — + Gamma-Gamma fitted on the kept orders to ``as_of``; 12 months at 10 % a year); missing for customers without kept orders, and the two
  model columns missing for everyone when no model can be fitted. See docs/clv.md.

Event-only data (events, no subscriptions, no orders): ``churned`` is no activity for ``activity.churn_after_days``
(default 90) days, ``churned_at`` the day that was reached (``lifecycle.snapshot.sql.activity_churn_columns``).

Renewals (schema 3 subscription columns; ``lifecycle.snapshot.renewals``): ``term_months``, ``days_to_renewal``,
``cancel_at_period_end``, ``in_trial``. Expansion for health: ``mrr_growth_90d`` / ``seats_growth_90d`` are the
relative change over 90 days of customers already paying (licensed) 90 days ago — NaN for new business, which
``mrr_change_90d`` (the revenue bridge's change) counts in full. ``payment_failures_90d``: invoices due in 90 days
with a failed payment (a failed status or attempt; missing when the source records neither).

Extra columns beyond the contract: ``first_event_at``, ``days_since_first_event``, ``seats_90d_ago``, ``reactivated_at``, ``first_order_at``,
``emails_sent_90d``, ``emails_opened_90d`` and ``used_<feature>`` (ever used each configured core feature).

``load_or_build_snapshot`` materialises a snapshot once per (database file identity, as_of, configuration,
filters) into a Parquet file under ``data_dir()/cache`` written atomically (``lifecycle.snapshot.cache``).

Where the sections live: ``lifecycle.snapshot.sql`` (events, referrals, touches, orders, invoice counts — pushed down
as SQL), ``lifecycle.snapshot.feedback`` (NPS and ticket aggregates in SQL), ``lifecycle.snapshot.tables``
(subscriptions, NPS, tickets, invoices — pandas on the as-of tables, or the pushed-down frames attached),
``lifecycle.snapshot.frames`` (aligning their frames onto the customers); the customer attributes, the CLV
columns and ``ever_paid``/``first_paid_at`` (which combine subscriptions and orders) are computed here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.config import DEFAULT_CONFIG, EngineConfig
from lifecycle.dataset import Dataset, sorted_once
from lifecycle.errors import ModelFitError, QueryError
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.memo import MEMO, remember
from lifecycle.scope import Scope
from lifecycle.snapshot.cache import (
    columns_tag,
    read_cached,
    snapshot_cache_path,
    write_cached,
)
from lifecycle.snapshot.frames import absent_columns, attach, days_between
from lifecycle.snapshot.renewals import RENEWAL_COLUMNS, renewal_columns
from lifecycle.snapshot.sql import (
    MILESTONE_COLUMNS,
    RECENT_COLUMNS,
    feature_column,
    feature_use_columns,
    latest_event_columns,
    milestone_columns,
    order_columns,
    prefetch_events,
    recent_event_columns,
    referral_columns,
    release_events,
    touch_columns,
)
from lifecycle.snapshot.tables import (
    HIGH_PRIORITIES,
    NPS_DETRACTOR_MAX,
    NPS_PROMOTER_MIN,
    invoice_columns,
    nps_columns,
    subscription_columns,
    ticket_columns,
)
from lifecycle.sources import DataSource, open_source

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
CUSTOMER_COLUMNS = ("customer_id", "signup_date", "tenure_days", *ATTRIBUTES, "executive_sponsor", "has_champion")
"""The customer columns every snapshot has, also one of a few columns (``build_snapshot(columns=…)``)."""
CLV_SNAPSHOT_COLUMNS = ("p_alive", "expected_clv", "rfm_segment")
"""Order-based CLV columns (``lifecycle.clv.customer_value``); missing for customers without kept orders."""


# --------------------------------------------------------------------------------------------- public API


SECTIONS = (
    # (builder, columns it adds) — build_snapshot(columns=…) runs only the sections a caller needs
    ("subscriptions", ("mrr_current", "mrr_30d_ago", "mrr_90d_ago", "mrr_change_90d", "mrr_growth_90d", "seats_current",
                       "seats_90d_ago", "seats_change_90d", "seats_growth_90d", "is_active_subscriber", "churned",
                       "churned_at", "reactivated", "reactivated_at", "ever_paid", "first_paid_at")),
    ("renewals", tuple(RENEWAL_COLUMNS)),
    ("recent_events", (*RECENT_COLUMNS, "usage_change_30d")),
    ("latest_event", ("last_event_at", "days_since_last_event", "first_event_at", "days_since_first_event")),
    ("milestones", MILESTONE_COLUMNS),
    ("feature_use", ()),  # used_<feature> columns, named from the configuration
    ("nps", ("nps_latest", "nps_latest_at", "nps_category")),
    ("tickets", ("tickets_open", "tickets_open_high", "tickets_90d", "csat_avg_90d")),
    ("invoices", ("invoices_due_90d", "invoices_late_90d", "invoices_overdue_now", "payment_failures_90d",
                  "on_time_payment_rate")),
    ("referrals", ("referrals_made", "referrals_converted")),
    ("touches", ("touches_sent_90d", "touches_opened_90d", "touches_clicked_90d", "emails_sent_90d", "emails_opened_90d",
                 "email_open_rate_90d")),
    ("orders", ("orders_count", "orders_value", "last_order_at", "first_order_at", "days_since_last_order",
                "ever_paid", "first_paid_at")),
    ("clv", CLV_SNAPSHOT_COLUMNS),
)


def _builders(wanted: Collection[str] | None = None) -> dict[str, object]:
    whole = wanted is None  # a whole build aggregates NPS and tickets in the database; a few columns (the stage
    # history's checkpoints, which derive earlier tables from the as_of's frames: ``Dataset.earlier``) read the tables

    def recent(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
        return recent_event_columns(dataset, snap, as_of, wanted)  # only the window columns wanted

    def nps(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
        return nps_columns(dataset, snap, as_of, in_database=whole and dataset.derived_from is None)

    def tickets(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
        return ticket_columns(dataset, snap, as_of, in_database=whole and dataset.derived_from is None)

    return {"subscriptions": subscription_columns, "renewals": renewal_columns, "recent_events": recent,
            "latest_event": latest_event_columns, "milestones": milestone_columns, "feature_use": feature_use_columns,
            "nps": nps, "tickets": tickets, "invoices": invoice_columns, "referrals": referral_columns,
            "touches": touch_columns, "orders": order_columns, "clv": _clv_columns}


def build_snapshot(dataset: Dataset, columns: Collection[str] | None = None) -> pd.DataFrame:
    """One row per customer in the dataset's scope, sorted by ``customer_id``, with every contract column.

    Customers who signed up after ``as_of`` are not in the snapshot. A filtered dataset's snapshot is the whole
    base's restricted to its customers (``restricted``). Missing source tables give NaN/NA columns, never zeros. See ``docs/snapshot-contract.md`` for the meaning of each column. With ``columns``,
    only the sections producing those columns run and only those columns are kept, with the customer columns
    (``CUSTOMER_COLUMNS``) and ``x_*`` — the stage history uses this to classify many past dates cheaply.
    """
    if not dataset.filters.is_empty():
        return restricted(dataset, build_snapshot(_whole_base(dataset), columns))
    as_of = pd.Timestamp(dataset.as_of)
    customers = dataset.table("customers", extra=True)
    snap = _subscription_plans(dataset, _customer_columns(customers, as_of))
    wanted = None if columns is None else set(columns)
    builders = _builders(wanted)
    needed = [name for name, produced in SECTIONS if wanted is None or bool(wanted & set(produced)) or (
        name == "feature_use" and any(c.startswith("used_") for c in wanted))]
    if wanted is None:  # a whole build reads the events in one pass; a few columns (the stage history) in narrower ones
        prefetch_events(dataset, needed)
    try:
        for name in needed:
            snap = builders[name](dataset, snap, as_of)  # type: ignore[operator]
    finally:
        release_events(dataset)
    if wanted is None or wanted & {"ever_paid", "first_paid_at"}:
        snap = _paid_columns(dataset, snap)
    present = [c for c in CONTRACT_COLUMNS if c in snap.columns]
    extras = [c for c in snap.columns if c not in CONTRACT_COLUMNS and not c.startswith("x_") and not c.startswith("_")]
    if wanted is not None:  # a section's other columns are not kept: the month-end snapshots of the stage history
        present = [c for c in present if c in wanted or c in CUSTOMER_COLUMNS]  # stay as narrow as their rules
        extras = [c for c in extras if c in wanted]
    user = [c for c in snap.columns if c.startswith("x_")]
    snap = snap[[*present, *extras, *user]]
    return snap.sort_values("customer_id", kind="stable").reset_index(drop=True)


def snapshot_of(dataset: Dataset, columns: Collection[str] | None = None) -> pd.DataFrame:
    """The snapshot of ``dataset`` (only ``columns``' sections when given), built once per ``Dataset``.

    Memoised with the dataset's table cache; a full snapshot already built serves any column subset. A dataset
    opened from a ``DataSource`` uses the Parquet cache of ``load_or_build_snapshot`` as well.
    """
    cache = dataset._cache  # the dataset's per-call frame cache; these keys cannot collide with table keys
    if not dataset.filters.is_empty():  # a filtered scope is the whole base's snapshot restricted to its customers
        key = f"{SNAPSHOT_CACHE_KEY}:restricted:{columns_tag(columns)}"
        if key not in cache:
            cache[key] = restricted(dataset, snapshot_of(_whole_base(dataset), columns))
        return cache[key]
    if SNAPSHOT_CACHE_KEY in cache:
        return cache[SNAPSHOT_CACHE_KEY]
    key = SNAPSHOT_CACHE_KEY if columns is None else f"{SNAPSHOT_CACHE_KEY}:{columns_tag(columns)}"
    if key not in cache:
        if dataset.source is not None:
            cache[key] = _cached(dataset.source, dataset, columns)
        else:
            cache[key] = build_snapshot(dataset, columns)
    return cache[key]


def _whole_base(dataset: Dataset) -> Dataset:
    """``dataset`` without its filters: the whole base on the same as_of."""
    return dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))


def restricted(dataset: Dataset, whole: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``whole`` (the whole base's snapshot on the dataset's as_of) of the customers the dataset's filters
    select (``restricted_mask``)."""
    return whole[restricted_mask(dataset, whole)].reset_index(drop=True)


def restricted_mask(dataset: Dataset, whole: pd.DataFrame) -> np.ndarray:
    """Which rows of ``whole`` ``restricted`` keeps: ``Filters.select`` on the attribute and cohort columns, and the
    stage members for a stage filter."""
    keep = np.asarray(dataset.filters.select(whole), dtype=bool)
    if dataset.filters.stage:
        keep &= is_member(whole["customer_id"], dataset.stage_members())
    return keep


def load_or_build_snapshot(source: DataSource | str | Path, as_of: date, config: EngineConfig = DEFAULT_CONFIG,
                           filters: Filters | None = None) -> pd.DataFrame:
    """The snapshot of ``source`` (a ``DataSource`` or the importer's SQLite file), read from the Parquet cache
    or built and cached.

    Cache file: ``data_dir()/cache/<engine code>/<source identity>/snapshot-<as_of>-<config fingerprint>-<filters hash>.parquet``
    where the source identity is a sha256 of ``DataSource.identity()`` (for a SQLite file: resolved path, size,
    mtime_ns) — a re-import changes it, so a stale snapshot is never read. The file is written to a temporary
    name and renamed into place.
    """
    opened = open_source(source)
    dataset = Dataset.open(opened, as_of, filters=filters, config=config)
    try:
        return snapshot_of(dataset) if not dataset.filters.is_empty() else _cached(opened, dataset)
    finally:
        dataset.close()


def _cached(source: DataSource, dataset: Dataset, columns: Collection[str] | None = None) -> pd.DataFrame:
    """The snapshot from this process's memo, else the Parquet cache, else built (and written to both).

    The full snapshot serves any column subset, and is held once: a subset asked for while the full snapshot's Parquet
    file exists reads that file into the memo under the full snapshot's own key (not under the subset's, where a later
    request for the full snapshot read and stored it a second time — 578 MB at a million customers); only a subset
    with no full snapshot at hand is built (or read) on its own, with just its sections."""
    full = snapshot_cache_path(source, dataset.as_of, dataset.config, dataset.filters, identity=dataset.identity)
    if dataset.identity is None:
        return _read_or_build(source, dataset, full, columns)
    whole = ("snapshot", full, None)  # the path names the data identity, as_of, configuration and filters
    memoised = MEMO.peek(whole)
    if memoised is not None:
        return memoised
    if columns is None:
        return remember(whole, lambda: _read_or_build(source, dataset, full, None))
    if full.exists():
        with contextlib.suppress(_Unreadable):  # evicted or damaged meanwhile: the subset on its own, below
            return remember(whole, lambda: _read_full(full))
    return remember(("snapshot", full, columns_tag(columns)), lambda: _read_or_build(source, dataset, full, columns))


class _Unreadable(Exception):
    """The full snapshot's Parquet file could not be read (``_read_full``); never memoised, never shown."""


def _read_full(full: Path) -> pd.DataFrame:
    found = read_cached(full)
    if found is None:
        raise _Unreadable(full)
    return found


def _read_or_build(source: DataSource, dataset: Dataset, full: Path, columns: Collection[str] | None) -> pd.DataFrame:
    found = read_cached(full)
    target = full
    if found is None and columns is not None:
        target = snapshot_cache_path(source, dataset.as_of, dataset.config, dataset.filters, columns,
                                     identity=dataset.identity)
        found = read_cached(target)
    if found is not None:
        return found
    snap = build_snapshot(dataset, columns)
    write_cached(snap, target)
    return snap


# --------------------------------------------------------------------------------------------- sections


def _customer_columns(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    snap = pd.DataFrame({"customer_id": customers["customer_id"].astype("string"),
                         "signup_date": customers["signup_date"].astype("datetime64[us]")})
    snap["tenure_days"] = days_between(as_of, snap["signup_date"])
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


def _subscription_plans(dataset: Dataset, snap: pd.DataFrame) -> pd.DataFrame:
    """``plan``: the plan of the customer's latest subscription started by as_of that names one (latest
    ``start_date``, then ``subscription_id``), else ``customers.plan`` — what the plan filter selects on
    (``lifecycle.filters.plan_sql``)."""
    if not dataset.has("subscriptions"):
        return snap
    named = _named_subscriptions(dataset)
    if named.empty:
        return snap
    latest = named.drop_duplicates("customer_id", keep="last").set_index("customer_id")["plan"]
    snap["plan"] = snap["customer_id"].map(latest).fillna(snap["plan"]).astype("string")
    return snap


NAMED_SUBSCRIPTIONS_KEY = "__named_subscriptions__"


def _named_subscriptions(dataset: Dataset) -> pd.DataFrame:
    """The subscriptions started by as_of that name a plan (``subscription_id``, ``customer_id``, ``start_date``,
    ``plan``), sorted by customer, ``start_date``, then ``subscription_id`` (a stable sort: ties in row order); sorted
    once per dataset, and a checkpoint day reads its later dataset's sorted rows (``sorted_once``)."""
    return sorted_once(dataset, NAMED_SUBSCRIPTIONS_KEY, "subscriptions", _sort_named_subscriptions)


def _sort_named_subscriptions(dataset: Dataset) -> pd.DataFrame:
    # the whole table, as the subscriptions and renewals sections read it: one read of the table per build
    subs = dataset.table("subscriptions")[["subscription_id", "customer_id", "start_date", "plan"]]
    named = subs[subs["plan"].notna() & (subs["plan"] != "")]
    return named.sort_values(["customer_id", "start_date", "subscription_id"], kind="stable")


def _clv_columns(dataset: Dataset, snap: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``p_alive``, ``expected_clv`` (12 months, 10 %/year) and ``rfm_segment`` from the orders to as_of.

    ``predict_customer_value`` with its defaults (model auto + Gamma-Gamma, weeks). When no model can be fitted
    (fewer than ``MIN_CUSTOMERS`` ordering customers, or no convergence even penalised) ``p_alive`` and
    ``expected_clv`` stay missing while ``rfm_segment`` (no model needed) is still given.
    """
    from lifecycle.clv.customer_value import order_summary, predict_customer_value  # the CLV models: only this section
    from lifecycle.clv.segments import rfm_segments

    columns = {"p_alive": "float", "expected_clv": "float", "rfm_segment": "string"}
    if not dataset.has("orders"):
        return absent_columns(snap, columns)
    try:
        table = predict_customer_value(dataset)
        frame = table.frame.rename(columns={"clv": "expected_clv"})[list(columns)]
    except ModelFitError:
        summary = order_summary(dataset)
        frame = pd.DataFrame({"p_alive": np.nan, "expected_clv": np.nan,
                              "rfm_segment": rfm_segments(summary)["segment"] if len(summary) else pd.Series([], dtype="string")},
                             index=summary.index)
    except QueryError:  # no kept orders to as_of
        return absent_columns(snap, columns)
    frame = frame.rename_axis("customer_id").reset_index()
    snap = attach(snap, frame, dict.fromkeys(columns))
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


__all__ = [
    "ATTRIBUTES", "CLV_SNAPSHOT_COLUMNS", "CONTRACT_COLUMNS", "HIGH_PRIORITIES", "MILESTONE_COLUMNS", "NPS_DETRACTOR_MAX",
    "NPS_PROMOTER_MIN", "RECENT_COLUMNS", "SECTIONS", "SNAPSHOT_CACHE_KEY", "build_snapshot", "feature_column",
    "load_or_build_snapshot", "snapshot_cache_path", "snapshot_of",
]
