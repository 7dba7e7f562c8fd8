"""Aligning per-customer frames onto the snapshot: the small pandas helpers every snapshot section uses.

A section computes a frame with one row per ``customer_id`` (from SQL or from an as-of table) and ``attach``
aligns it onto the snapshot's customers; ``absent_columns`` adds a section's columns as missing values when
its source table is absent (missing, never zero — ``docs/snapshot-contract.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api.extensions import take

if TYPE_CHECKING:
    import pyarrow as pa


def days_between(later: pd.Series | pd.Timestamp, earlier: pd.Series | pd.Timestamp) -> pd.Series:
    """Days between two datetime values (float; NaN when either is missing); whole days for day values."""
    delta = later - earlier
    return (delta.dt.total_seconds() / 86400.0).astype("float64")


def attach(snap: pd.DataFrame, frame: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """Align ``frame`` (one row per customer_id) onto ``snap``; customers absent from it get ``columns``' fills.

    A fill of None leaves absent customers missing. Values present in ``frame`` are never filled. Each column is what
    ``frame.set_index("customer_id").reindex(snap["customer_id"])`` gives (the same dtypes: a missing row promotes an
    integer column to float, a boolean one to object), taken by one row look-up (``rows_of``) shared by every column.
    A new frame is returned (``snap`` is left as it was): ``snap``'s columns, a replaced one in its place, then the new
    ones in the order of ``columns``.
    """
    rows = rows_of(snap["customer_id"], frame["customer_id"])
    absent = rows < 0
    fill_any = bool(absent.any())
    aligned: dict[str, pd.Series] = {}
    for column, fill in columns.items():
        values = pd.Series(take(frame[column].array, rows, allow_fill=True), index=snap.index, name=column)
        aligned[column] = values.mask(absent, fill) if fill is not None and fill_any else values
    if not aligned or any(column in snap.columns for column in aligned):  # a column replaced keeps its place
        out = snap.copy(deep=False)  # copy-on-write: setting columns here never touches ``snap``
        for column, values in aligned.items():
            out[column] = values
        return out
    # new columns appended in one step: inserting them one by one copied the frame and re-built its column index
    # per column (a snapshot section attaches several; the stage history builds a dozen snapshots)
    return pd.concat([snap, pd.DataFrame(aligned, index=snap.index)], axis=1)


def rows_of(customers: pd.Series, keys: pd.Series) -> np.ndarray:
    """For each of ``customers``, the position of its id among ``keys`` (ids, unique); -1 where it has none.

    One hash look-up in Arrow (``pyarrow.compute.index_in``) over the ids as text: a pandas ``reindex`` on Arrow
    strings converts the ids to Python objects on each call — a second per column section, at a million customers."""
    import pyarrow.compute as pc

    known = _ids(keys)
    if not _increasing(known) and pc.count_distinct(known, mode="all").as_py() != len(known):
        raise ValueError("cannot align a frame with duplicate customer ids")  # as reindex: two rows cannot align
    found = pc.index_in(_ids(customers), value_set=known)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _increasing(ids: pa.Array) -> bool:
    """Whether ``ids`` hold no missing id and each is greater than the one before (as text), so no two are equal — how
    a ``GROUP BY customer_id`` statement usually returns them: one comparison of neighbours instead of hashing every id
    to count the distinct ones (a fiftieth of the time at 100k ids)."""
    import pyarrow.compute as pc

    if ids.null_count:
        return False
    return len(ids) < 2 or bool(pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py())


def _ids(values: pd.Series) -> pa.Array:
    import pyarrow as pa

    return pa.array(values.astype("string"), type=pa.large_string())


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
