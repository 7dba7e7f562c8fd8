"""Aligning per-customer frames onto the snapshot: the small pandas helpers every snapshot section uses.

A section computes a frame with one row per ``customer_id`` (from SQL or from an as-of table) and ``attach``
aligns it onto the snapshot's customers; ``absent_columns`` adds a section's columns as missing values when
its source table is absent (missing, never zero — ``docs/snapshot-contract.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def days_between(later: pd.Series | pd.Timestamp, earlier: pd.Series | pd.Timestamp) -> pd.Series:
    """Days between two datetime values (float; NaN when either is missing); whole days for day values."""
    delta = later - earlier
    return (delta.dt.total_seconds() / 86400.0).astype("float64")


def attach(snap: pd.DataFrame, frame: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """Align ``frame`` (one row per customer_id) onto ``snap``; customers absent from it get ``columns``' fills.

    A fill of None leaves absent customers missing. Values present in ``frame`` are never filled.
    """
    keyed = frame.set_index(frame["customer_id"].astype("string"))[list(columns)]
    customers = pd.Index(snap["customer_id"])
    aligned = keyed.reindex(customers)
    # absent = not in frame's index; get_indexer is a hash look-up (Series.isin on Arrow strings converts value by value)
    absent = keyed.index.get_indexer(customers) < 0
    out = snap.copy()
    for column, fill in columns.items():
        values = aligned[column].set_axis(snap.index)
        out[column] = values.mask(absent, fill) if fill is not None and absent.any() else values
    return out


def absent_columns(snap: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
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


def as_float(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with ``columns`` coerced to float64 (unparsable values → NaN), in place."""
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame
