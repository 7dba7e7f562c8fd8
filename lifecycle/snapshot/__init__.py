"""The per-customer snapshot: one row per customer with every feature the stages, health and risk read.

Built by ``build`` (orchestration, customer/CLV/paid columns) from SQL push-down sections (``sql``; NPS and ticket
aggregates in ``feedback``), pandas sections over the as-of tables (``tables``), frame helpers (``frames``) and a
Parquet cache (``cache``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.lazy import exports

if TYPE_CHECKING:
    from lifecycle.snapshot.build import (
        ATTRIBUTES,
        CLV_SNAPSHOT_COLUMNS,
        CONTRACT_COLUMNS,
        SECTIONS,
        SNAPSHOT_CACHE_KEY,
        build_snapshot,
        load_or_build_snapshot,
        snapshot_of,
    )
    from lifecycle.snapshot.cache import (
        columns_tag,
        read_cached,
        snapshot_cache_path,
        write_cached,
    )
    from lifecycle.snapshot.frames import (
        absent_columns,
        as_float,
        attach,
        days_between,
    )
    from lifecycle.snapshot.sql import (
        MILESTONE_COLUMNS,
        RECENT_COLUMNS,
        feature_column,
        feature_use_columns,
        latest_event_columns,
        milestone_columns,
        order_columns,
        recent_event_columns,
        referral_columns,
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

__all__ = [
    "ATTRIBUTES",
    "CLV_SNAPSHOT_COLUMNS",
    "CONTRACT_COLUMNS",
    "HIGH_PRIORITIES",
    "MILESTONE_COLUMNS",
    "NPS_DETRACTOR_MAX",
    "NPS_PROMOTER_MIN",
    "RECENT_COLUMNS",
    "SECTIONS",
    "SNAPSHOT_CACHE_KEY",
    "absent_columns",
    "as_float",
    "attach",
    "build_snapshot",
    "columns_tag",
    "days_between",
    "feature_column",
    "feature_use_columns",
    "invoice_columns",
    "latest_event_columns",
    "load_or_build_snapshot",
    "milestone_columns",
    "nps_columns",
    "order_columns",
    "read_cached",
    "recent_event_columns",
    "referral_columns",
    "snapshot_cache_path",
    "snapshot_of",
    "subscription_columns",
    "ticket_columns",
    "touch_columns",
    "write_cached",
]

__getattr__, __dir__ = exports(__name__, {
    "build": ("ATTRIBUTES", "CLV_SNAPSHOT_COLUMNS", "CONTRACT_COLUMNS", "SECTIONS", "SNAPSHOT_CACHE_KEY",
              "build_snapshot", "load_or_build_snapshot", "snapshot_of"),
    "cache": ("columns_tag", "read_cached", "snapshot_cache_path", "write_cached",),
    "frames": ("absent_columns", "as_float", "attach", "days_between",),
    "sql": ("MILESTONE_COLUMNS", "RECENT_COLUMNS", "feature_column", "feature_use_columns", "latest_event_columns",
            "milestone_columns", "order_columns", "recent_event_columns", "referral_columns", "touch_columns"),
    "tables": ("HIGH_PRIORITIES", "NPS_DETRACTOR_MAX", "NPS_PROMOTER_MIN", "invoice_columns", "nps_columns",
               "subscription_columns", "ticket_columns"),
})
