"""Why a snapshot signal can be missing: the reason shown next to an excluded health signal.

A signal with no value is excluded from the score (its weight redistributed), never read as 0. Where the snapshot
leaves a column empty on purpose — the source cannot record what it needs, or the value does not apply to the
customer — the reason here says which, so a user can tell "your data does not say" from "not applicable".
Definitions of the columns: ``lifecycle.snapshot.build`` (docs/snapshot-contract.md).
"""

from __future__ import annotations

WHY_MISSING: dict[str, str] = {
    "mrr_growth_90d": "not paying 90 days ago (new business is not expansion), or no subscriptions",
    "seats_growth_90d": "no seats licensed 90 days ago (new business is not expansion), or no seat counts",
    "term_months": "no active paying subscription records a renewal term (subscriptions.term_months)",
    "days_to_renewal": "no renewal day can be computed: no active paying subscription records a term "
                       "(subscriptions.term_months) or a current period end",
    "cancel_at_period_end": "no active paying subscription records the auto-renew flag "
                            "(subscriptions.cancel_at_period_end)",
    "in_trial": "the subscriptions record no trial end (subscriptions.trial_end)",
    "payment_failures_90d": "the invoices cannot record a failed payment: no failed-payment status and no attempt "
                            "count (invoices.status, invoices.attempt_count)",
    "on_time_payment_rate": "no invoice due in the last 90 days, or no invoices",
    "invoices_overdue_now": "no invoices",
    "executive_sponsor": "the customers record no executive sponsor (customers.executive_sponsor)",
    "has_champion": "the customers record no champion (customers.champion)",
    "nps_latest": "no NPS answer",
    "email_open_rate_90d": "no lifecycle email sent in the last 90 days",
    "usage_change_30d": "no events in the 30 days before the last 30 (a change from nothing is undefined)",
}
"""Snapshot column → why it is missing for a customer (the generic 'no value' otherwise)."""


def why_missing(column: str) -> str:
    """The reason a missing ``column`` gives ('no value' for columns without a known reason)."""
    reason = WHY_MISSING.get(column)
    return f"no value: {reason}" if reason else "no value"


__all__ = ["WHY_MISSING", "why_missing"]
