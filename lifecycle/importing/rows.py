"""Row-level mapping rules: ``[where]`` keeps the rows an import is about, ``[line_items]`` merges the rows of one record.

``[where]`` (see ``mapping.Condition``) is applied to the export's text before anything is typed: a row is kept when
every condition holds (value one of the listed texts, trimmed and case-insensitive, or a full match of the regular
expression; ``not_in`` / ``not_matches`` negate). Rows left out are counted in the import report, never rejected.

``[line_items]``: exports such as Shopify's orders CSV write one row per line item, the order-level fields (total,
status, date, currency) only on the first row of each order. Rows sharing the record's key are one record:

1. before typing, every empty value of a non-summed column is filled with the first non-empty value of its record
   (so the second line item of an order has the order's date and total);
2. after typing, the record keeps its first row, with each ``sum`` column replaced by the sum over its rows
   (missing when every row is missing);
3. a record with one invalid row is rejected whole (its other rows would misstate it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecycle.importing.mapping import Condition
from lifecycle.importing.raw import RawTable


def apply_where(raw: RawTable, conditions: tuple[Condition, ...]) -> tuple[RawTable, int]:
    """The rows of ``raw`` every condition keeps, and how many were left out."""
    if not conditions or raw.n_rows == 0:
        return raw, 0
    keep = np.ones(raw.n_rows, dtype=bool)
    for condition in conditions:
        keep &= _holds(condition, raw.columns[condition.column])
    if keep.all():
        return raw, 0
    columns = {name: column[keep].reset_index(drop=True) for name, column in raw.columns.items()}
    kept = RawTable(raw.path, raw.format, raw.headers, columns, raw.lines[keep], raw.bad_rows)
    return kept, int((~keep).sum())


def _holds(condition: Condition, text: pd.Series) -> np.ndarray:
    value = text.str.strip()
    if condition.pattern is not None:
        found = value.str.fullmatch(condition.pattern).to_numpy(dtype=bool, na_value=False)
    else:
        found = value.str.lower().isin({v.strip().lower() for v in condition.values}).to_numpy(dtype=bool)
    return ~found if condition.negate else found


def record_groups(key: pd.Series) -> np.ndarray:
    """For each row, the position of the first row with the same (trimmed, non-empty) key; rows without a key are
    their own record."""
    stripped = key.str.strip()
    positions = pd.Series(np.arange(len(key)), index=key.index)
    first = positions.groupby(stripped.to_numpy(dtype=object), sort=False).transform("min").to_numpy()
    return np.where((stripped == "").to_numpy(dtype=bool), np.arange(len(key)), first)


def fill_within_records(text: pd.Series, groups: np.ndarray) -> pd.Series:
    """Empty values filled with the first non-empty value of the same record (file order)."""
    present = (text.str.strip() != "").to_numpy(dtype=bool)
    if present.all():
        return text
    frame = pd.DataFrame({"group": groups, "value": text.where(present, None).to_numpy(dtype=object)})
    first = frame.groupby("group", sort=False)["value"].transform("first")
    filled = first.where(~present, frame["value"]).fillna("")
    return pd.Series(filled.to_numpy(dtype=object), index=text.index, dtype="str")


def record_sums(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per row, the sum of ``values`` over its record (NaN when every value of the record is NaN)."""
    sums = pd.Series(values, dtype="float64").groupby(groups).sum(min_count=1)
    return sums.reindex(groups).to_numpy(dtype=np.float64)


def spread_to_records(mask: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Rows whose record has at least one row marked in ``mask``."""
    marked = np.zeros(len(mask), dtype=bool)
    marked[np.unique(groups[mask])] = True
    return marked[groups]
