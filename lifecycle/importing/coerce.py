"""Type every column of an import by its kind and apply the business rules — column by column, never row by row.

Canonical columns are typed by their ``ColumnKind`` from ``lifecycle.schema``; extra columns by the kind
``parsing.infer_kind`` finds (or the kind recorded by an earlier import, widened when needed). Business rules:

- a required column's value must be present;
- money is never negative (MRR, amounts, acquisition cost): refunds and credits belong in separate rows;
- numbers respect the schema's bounds (NPS score 0–10, CSAT 1–5);
- categories (lead status, ticket priority, touch channel) must be one of the allowed values (case-insensitive).

Future dates are not errors at import (``lifecycle doctor`` warns about them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifecycle.importing.dates import parse_date, parse_datetime
from lifecycle.importing.derive import Problem
from lifecycle.importing.mapping import MappingOptions
from lifecycle.importing.parsing import (
    Parsed,
    parse_boolean,
    parse_category,
    parse_integer,
    parse_money,
    parse_number,
    parse_text,
)
from lifecycle.schema import Column, ColumnKind


@dataclass(frozen=True)
class ParseSettings:
    """What the parsers need besides the text: date order, formats, decimal separator, time zone."""

    dayfirst: bool | None = None
    decimal: str | None = None
    options: MappingOptions = MappingOptions()


def parse_kind(kind: ColumnKind, text: pd.Series, settings: ParseSettings, column: str = "",
               allowed: tuple[str, ...] = (), decimal: str | None = None) -> Parsed:
    """Parse ``text`` as ``kind`` (raises ``AmbiguousColumn`` when the column cannot be read without a guess)."""
    decimal = decimal or settings.decimal or settings.options.decimal
    if kind in (ColumnKind.ID, ColumnKind.TEXT):
        return parse_text(text)
    if kind == ColumnKind.CATEGORY:
        return parse_category(text, allowed) if allowed else parse_text(text)
    if kind == ColumnKind.MONEY:
        return parse_money(text, decimal)
    if kind == ColumnKind.NUMBER:
        return parse_number(text, decimal)
    if kind == ColumnKind.INTEGER:
        return parse_integer(text, decimal)
    if kind == ColumnKind.BOOLEAN:
        return parse_boolean(text)
    fmt = settings.options.date_format_for(column)
    if kind == ColumnKind.DATE:
        return parse_date(text, settings.dayfirst, fmt)
    return parse_datetime(text, settings.dayfirst, fmt, settings.options.timezone)


def type_canonical(column: Column, text: pd.Series, settings: ParseSettings, label: str,
                   decimal: str | None = None) -> tuple[Parsed, list[Problem]]:
    """Type one canonical column and check its rules; problems are reported under ``label`` (the export's name)."""
    parsed = parse_kind(column.kind, text, settings, column.name, column.allowed, decimal)
    why = parsed.why
    if column.kind == ColumnKind.CATEGORY and column.allowed and isinstance(why, str):
        why += f"; map other labels with [values.{column.name}] in a --map file"
    problems = [Problem(parsed.invalid, label, why, text)]
    present = (text != "").to_numpy(dtype=bool)
    if column.required:
        problems.append(Problem(~present, label, "a value is required", None))
    if column.kind in (ColumnKind.MONEY, ColumnKind.NUMBER, ColumnKind.INTEGER):
        numbers = parsed.values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        valid = ~np.isnan(numbers)
        if column.kind == ColumnKind.MONEY:
            problems.append(Problem(valid & (numbers < 0), label, "negative amounts are not allowed (record refunds and credits as separate rows)", text))
        if column.minimum is not None or column.maximum is not None:
            low = -np.inf if column.minimum is None else column.minimum
            high = np.inf if column.maximum is None else column.maximum
            problems.append(Problem(valid & ((numbers < low) | (numbers > high)), label, f"must be between {_n(low)} and {_n(high)}", text))
    return parsed, [p for p in problems if p.mask.any()]


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def widen(recorded: ColumnKind, found: ColumnKind) -> ColumnKind:
    """The kind that holds both an extra column's earlier values and this file's: equal → it; integer+number →
    number; a column with no values so far adopts the new kind; anything else → text."""
    if recorded == found:
        return recorded
    if {recorded, found} == {ColumnKind.INTEGER, ColumnKind.NUMBER}:
        return ColumnKind.NUMBER
    return ColumnKind.TEXT


def sqlite_values(parsed: Parsed, kind: ColumnKind) -> list:
    """The column as Python values for SQLite: str / float / int, ``None`` where missing or invalid."""
    values = parsed.values
    if kind in (ColumnKind.MONEY, ColumnKind.NUMBER):
        numbers = values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        out = numbers.astype(object)
        out[np.isnan(numbers)] = None
        return out.tolist()
    if kind in (ColumnKind.INTEGER, ColumnKind.BOOLEAN):
        return [None if v is pd.NA else int(v) for v in values.astype("Int64").to_numpy(dtype=object, na_value=pd.NA)]
    return values.to_numpy(dtype=object, na_value=None).tolist()


def canonical_text(parsed: Parsed, kind: ColumnKind) -> pd.Series:
    """The column as stable text for hashing and comparing: numbers in shortest round-trip form (``1.0``), whole
    numbers as digits; missing values are NA here and ``""`` once joined (``keys``)."""
    values = parsed.values
    if kind in (ColumnKind.MONEY, ColumnKind.NUMBER):
        numbers = values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.Series(numbers.astype(str), dtype="str").where(~np.isnan(numbers), "")
    if kind in (ColumnKind.INTEGER, ColumnKind.BOOLEAN):
        return values.astype("Int64").astype("str").fillna("").reset_index(drop=True)
    return values.reset_index(drop=True)  # text kinds: already text; missing values become "" when hashed
