"""A tiny order-based shop with a hand-built RFM summary, shared by the CLV engine and snapshot tests.

Twelve customers order at whole-day offsets from 2024-01-01 (10:00); as_of is 2024-07-01 = day 182. The k-th
order (k = 0, 1, ...) of a customer is worth 10 (k + 1). Extra rows that must not count: a refunded order of c01,
a cancelled one of c12, an order of c02 on the same day as its first (collapsed into that purchase day, +0 days),
and orders dated after as_of. c13 has no orders. Summary in weeks (7 days): frequency = purchase days - 1,
recency = (last - first) / 7, T = (182 - first) / 7.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

AS_OF = "2024-07-01"
START = date(2024, 1, 1)
ORDER_DAYS: dict[str, list[int]] = {
    "c01": [0, 14, 28, 70, 140],
    "c02": [0, 7],
    "c03": [7],
    "c04": [14, 21, 35, 49, 63, 77, 91, 105, 119, 133, 147, 161, 175],
    "c05": [21, 120],
    "c06": [28],
    "c07": [35, 42, 49],
    "c08": [42, 140, 168],
    "c09": [56],
    "c10": [63, 70],
    "c11": [77, 84, 91, 98, 175],
    "c12": [91],
}

# customer: (frequency, recency, T), by hand from ORDER_DAYS (see module docstring)
HAND_SUMMARY: dict[str, tuple[float, float, float]] = {
    "c01": (4, 140 / 7, 182 / 7),       # 4, 20, 26
    "c02": (1, 7 / 7, 182 / 7),         # 1, 1, 26 (the same-day extra order is part of day 0)
    "c03": (0, 0, 175 / 7),             # 0, 0, 25
    "c04": (12, 161 / 7, 168 / 7),      # 12, 23, 24
    "c05": (1, 99 / 7, 161 / 7),        # 1, 14.142857, 23
    "c06": (0, 0, 154 / 7),             # 0, 0, 22
    "c07": (2, 14 / 7, 147 / 7),        # 2, 2, 21
    "c08": (2, 126 / 7, 140 / 7),       # 2, 18, 20
    "c09": (0, 0, 126 / 7),             # 0, 0, 18
    "c10": (1, 7 / 7, 119 / 7),         # 1, 1, 17
    "c11": (4, 98 / 7, 105 / 7),        # 4, 14, 15
    "c12": (0, 0, 91 / 7),              # 0, 0, 13
}


def observed_mean_spend(frequency: float) -> float:
    """Mean purchase-day value with orders worth 10, 20, ..., 10 n (n = frequency + 1 days): 5 (n + 1)."""
    return 5.0 * (frequency + 2)


def _at(offset: int) -> str:
    return f"{(START + timedelta(days=offset)).isoformat()}T10:00:00"


def order_rows(*, with_future: bool = True) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for cid, days in ORDER_DAYS.items():
        for k, day in enumerate(days):
            rows.append({"order_id": f"{cid}-{k}", "customer_id": cid, "ordered_at": _at(day), "amount": 10.0 * (k + 1),
                         "status": "completed"})
    rows += [
        {"order_id": "c01-refund", "customer_id": "c01", "ordered_at": _at(170), "amount": 999.0, "status": "refunded"},
        {"order_id": "c12-cancel", "customer_id": "c12", "ordered_at": _at(180), "amount": 999.0, "status": "Cancelled"},
        # same calendar day as c02's first order (worth 10): the day is worth 10 + 0 = 10, one purchase
        {"order_id": "c02-same-day", "customer_id": "c02", "ordered_at": f"{START.isoformat()}T18:00:00", "amount": 0.0,
         "status": "completed"},
    ]
    if with_future:
        rows += [
            {"order_id": "c03-future", "customer_id": "c03", "ordered_at": _at(183), "amount": 500.0, "status": "completed"},
            {"order_id": "c12-future", "customer_id": "c12", "ordered_at": _at(200), "amount": 500.0, "status": "completed"},
            {"order_id": "c13-future", "customer_id": "c13", "ordered_at": _at(190), "amount": 500.0, "status": "completed"},
        ]
    return rows


def customer_rows() -> list[dict[str, Any]]:
    signups = {cid: (START + timedelta(days=days[0])).isoformat() for cid, days in ORDER_DAYS.items()}
    signups["c13"] = "2024-02-01"
    return [{"customer_id": cid, "signup_date": day} for cid, day in signups.items()]


def tables(*, with_future: bool = True) -> dict[str, list[dict[str, Any]]]:
    return {"customers": customer_rows(), "orders": order_rows(with_future=with_future)}


def hand_summary() -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(HAND_SUMMARY, orient="index", columns=["frequency", "recency", "T"]).astype(float)
    frame.index.name = "customer_id"
    return frame
