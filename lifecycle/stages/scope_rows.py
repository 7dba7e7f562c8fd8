"""A few columns of a scope's snapshot without building the whole filtered snapshot.

A filtered scope's snapshot is the whole base's restricted to the customers its filters select
(``lifecycle.snapshot.build.restricted``: ``Filters.select`` over the whole snapshot, and the stage members for a stage
filter) — every column of those rows copied. The stage counts, the value per stage and the progression drivers read
two to a dozen of its ~70 columns, so they take only those columns at the same rows, in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Scope
from lifecycle.snapshot.build import restricted_mask, snapshot_of

_KEEP = "__scope_rows_keep__"  # the dataset's per-call cache; no table key looks like it
_WHOLE = "__scope_rows_whole__"


def whole_snapshot(dataset: Dataset) -> pd.DataFrame:
    """The whole base's snapshot on ``dataset``'s as_of (``dataset``'s own when it has no filter), looked up once per
    dataset: the stage counts, their mask and the drivers of one call ask for it a few times, and each look-up through
    a fresh whole-base view computed the snapshot's cache path and copied the memo's frame (~0.3 ms). Read-only: every
    caller takes columns or rows of it."""
    if dataset.filters.is_empty():
        return snapshot_of(dataset)
    if _WHOLE not in dataset._cache:
        dataset._cache[_WHOLE] = snapshot_of(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters())))
    return dataset._cache[_WHOLE]


def scope_columns(dataset: Dataset, columns: Sequence[str]) -> pd.DataFrame:
    """``snapshot_of(dataset)[columns]`` — the columns of ``columns`` the snapshot has, in that order — with the same
    rows in the same order and the same dtypes: for a filtered scope the whole base's snapshot's columns at the rows
    ``restricted`` keeps (the mask computed once per dataset), without copying the other columns of those rows."""
    whole = whole_snapshot(dataset)
    present = [c for c in columns if c in whole.columns]
    if dataset.filters.is_empty():
        return whole[present]
    return whole[present][scope_mask(dataset)].reset_index(drop=True)


def scope_mask(dataset: Dataset) -> np.ndarray:
    """Which rows of ``whole_snapshot(dataset)`` are the scope's (``restricted``'s mask: ``Filters.select``, and the
    stage members for a stage filter; every row for the whole base), computed once per dataset."""
    if _KEEP not in dataset._cache:
        dataset._cache[_KEEP] = restricted_mask(dataset, whole_snapshot(dataset))  # type: ignore[assignment]
    return dataset._cache[_KEEP]  # type: ignore[return-value]
