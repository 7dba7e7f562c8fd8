"""A tiny subscription business with its signup cohorts' survivor series counted by hand, shared by the sBG
retention-forecast tests of the library and of the predict_clv tool."""

from __future__ import annotations

from typing import Any

AS_OF = "2024-06-30"  # a month end: June has ended, so months up to June are observable
# customer, signup = subscription start, end (exclusive; None = still active), one subscription each, MRR 10
SUBSCRIPTIONS = [
    ("A1", "2024-01-01", None), ("A2", "2024-01-01", "2024-02-15"), ("A3", "2024-01-01", "2024-03-10"),
    ("A4", "2024-01-01", "2024-01-20"), ("B1", "2024-03-01", None), ("B2", "2024-03-01", "2024-04-05"),
    ("C1", "2024-06-01", None),
]
# Cumulative survivors, month k after signup = paying in month k or later:
# January cohort (A1-A4): k0 Jan 4; k1 Feb+ A1, A2, A3 = 3; k2 Mar+ A1, A3 = 2; k3..k5 Apr, May, Jun+ A1 = 1.
# March cohort (B1, B2): k0 Mar 2; k1 Apr+ 2; k2 May+ B1 = 1; k3 Jun 1.
# June cohort (C1): only month 0 has ended, no churn information: left out.
HAND_SURVIVORS = [[4.0, 3.0, 2.0, 1.0, 1.0, 1.0], [2.0, 2.0, 1.0, 1.0]]


def subscription_tables() -> dict[str, list[dict[str, Any]]]:
    return {"customers": [{"customer_id": c, "signup_date": start} for c, start, _ in SUBSCRIPTIONS],
            "subscriptions": [{"subscription_id": f"S{c}", "customer_id": c, "start_date": start, "end_date": end,
                               "mrr": 10.0} for c, start, end in SUBSCRIPTIONS]}
