"""An export read as text: ``RawTable`` (text columns + the line of each row) and the header checks all readers share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lifecycle.errors import ImportFileError
from lifecycle.importing.limits import DEFAULT_LIMITS, ReadLimits, limit_error


@dataclass(frozen=True)
class BadRow:
    """A record that cannot be split into the header's columns (wrong number of fields)."""

    line: int
    fields: tuple[str, ...]
    why: str


@dataclass
class RawTable:
    """An export read as text: ``columns[name]`` is a ``str`` Series aligned with ``lines``."""

    path: str
    format: str
    headers: list[str]
    columns: dict[str, pd.Series]
    lines: np.ndarray
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Number of well-formed data rows."""
        return len(self.lines)

def drop_blank_rows(columns: list[pd.Series], lines: np.ndarray) -> tuple[list[pd.Series], np.ndarray]:
    """Drop rows whose every field is empty (``,,,``)."""
    if not columns or len(lines) == 0:
        return columns, lines
    blank = np.logical_and.reduce([(c == "").to_numpy(dtype=bool) for c in columns])
    if not blank.any():
        return columns, lines
    keep = ~blank
    return [c[keep].reset_index(drop=True) for c in columns], lines[keep]


def finish_table(path: str, fmt: str, headers: list[str], columns: list[pd.Series], lines: np.ndarray, bad: list[BadRow],
                 limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    """Check the header (empty and duplicate names, column count), every field's length, and assemble the table."""
    if len(headers) > limits.max_columns:
        raise limit_error(path, f"the file has {len(headers):,} columns, more than the limit of {limits.max_columns:,}",
                          "max_columns", line=1 if fmt in ("csv", "tsv") else None)
    check_field_lengths(path, headers, columns, lines, limits.max_field_chars)
    names = [h.strip() for h in headers]
    kept: dict[str, pd.Series] = {}
    seen: dict[str, int] = {}
    for position, (name, column) in enumerate(zip(names, columns), start=1):
        if not name:
            if (column == "").all():
                continue  # an unnamed, entirely empty column (a trailing delimiter): nothing to import
            raise ImportFileError(path, f"column {position} has an empty header but holds values: name it or remove the column", line=1)
        if name in seen:
            raise ImportFileError(path, f"duplicate column header {name!r} (columns {seen[name]} and {position}): rename one of them", line=1)
        seen[name] = position
        kept[name] = column
    return RawTable(path, fmt, list(kept), kept, lines, bad)


def check_field_lengths(path: str, headers: list[str], columns: list[pd.Series], lines: np.ndarray, limit: int) -> None:
    """``ImportLimitError`` at the first row holding a field longer than ``limit`` characters (headers included)."""
    for header in headers:
        if len(header) > limit:
            raise limit_error(path, f"a header is {len(header):,} characters long, more than the limit of {limit:,}",
                              "max_field_chars", line=1)
    first: tuple[int, str, int] | None = None
    for header, column in zip(headers, columns):
        if len(column) == 0:
            continue
        lengths = column.str.len().to_numpy(dtype=np.int64, na_value=0)
        over = np.flatnonzero(lengths > limit)
        if len(over) and (first is None or over[0] < first[0]):
            first = (int(over[0]), header, int(lengths[over[0]]))
    if first is not None:
        position, header, length = first
        raise limit_error(path, f"column '{header.strip()}' holds a value of {length:,} characters, more than the limit of "
                          f"{limit:,}", "max_field_chars", line=int(lines[position]))
