"""Turn a column of text into numbers, flags or categories — vectorised, one column at a time.

Every parser takes a pandas ``str`` Series in which a missing value is ``""`` and returns a ``Parsed``: the typed
values (``NA`` where missing or invalid), a mask of the non-empty values that could not be parsed, and the reason.
When a whole column cannot be read without guessing (the decimal separator is ambiguous), the parser raises
``AmbiguousColumn`` pointing at the first value that shows the problem; the importer reports it at that line.

Numbers (``parse_money``, ``parse_number``, ``parse_integer``) accept ``1234.5``, ``$1,234.50``, ``1.234,50``,
``€ 12``, ``1 234,50``, ``1'234.50``, ``-12``, ``(12.00)`` (accounting negative) and ``USD 12`` / ``12 EUR``.
The decimal separator is decided once per column (``decimal_separator``), never per value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifecycle.schema import ColumnKind


class AmbiguousColumn(ValueError):
    """The column cannot be typed without a guess; ``position`` is the row of the first offending value."""

    def __init__(self, position: int, why: str) -> None:
        super().__init__(why)
        self.position = position
        self.why = why


@dataclass
class Parsed:
    """One typed column: ``values`` (NA where missing or invalid), ``invalid`` (bad non-empty values) and why."""

    values: pd.Series
    invalid: np.ndarray
    why: str | pd.Series = ""

    def reason(self, position: int) -> str:
        """The reason the value at ``position`` is invalid."""
        return self.why if isinstance(self.why, str) else str(self.why.iloc[position])


def _present(text: pd.Series) -> np.ndarray:
    return (text != "").to_numpy(dtype=bool)


# --- numbers -----------------------------------------------------------------------------------------------------

_CURRENCY_LEAD = r"^(?:[A-Z]{3}\s*|[A-Z]{0,2}[$€£¥₹₩₽₺₪]\s*)"
_CURRENCY_TRAIL = r"(?:\s*[A-Z]{3}|\s*[$€£¥₹₩₽₺₪])$"
_GROUP_SPACES = " \u00a0\u202f'"
_EXPONENT = r"[eE][+-]?\d+"


def _strip_sign_and_currency(text: pd.Series, currency: bool) -> tuple[pd.Series, np.ndarray]:
    """Remove surrounding spaces, an accounting ``( )`` or a leading sign, and currency symbols/codes."""
    t = text.str.strip()
    parens = t.str.fullmatch(r"\(.*\)").to_numpy(dtype=bool, na_value=False)
    t = t.where(~parens, t.str.slice(1, -1).str.strip())
    negative = parens.copy()
    for _ in range(2):  # "-$12" and "$-12"
        sign = t.str.match(r"[+-]").to_numpy(dtype=bool, na_value=False)
        negative |= sign & t.str.startswith("-").to_numpy(dtype=bool, na_value=False)
        t = t.where(~sign, t.str.slice(1).str.lstrip())
        if currency:
            t = t.str.replace(_CURRENCY_LEAD, "", regex=True).str.replace(_CURRENCY_TRAIL, "", regex=True)
    return t, negative


def decimal_separator(cleaned: pd.Series) -> tuple[str | None, int | None, str]:
    """Decide the column's decimal separator from its unsigned, currency-free values.

    Evidence per value (``.`` and ``,`` are the candidates; spaces and ``'`` are only ever grouping):

    - both ``.`` and ``,`` present → the one appearing last is the decimal separator (``1,234.50``, ``1.234,50``);
    - one of them appearing twice or more → it groups thousands, so the other is decimal (``1,234,567``);
    - one of them appearing once, followed by other than exactly three digits → it is decimal (``12,5``, ``9.99``);
    - one of them once followed by exactly three digits (``1,234``) → no evidence: it could be either.

    Returns ``(separator, None, "")`` when the evidence agrees (or no value has a separator, separator ``None``);
    ``(None, position, why)`` when the column mixes conventions or only has ambiguous values — the caller refuses it.
    """
    dot_at = cleaned.str.rfind(".").to_numpy(dtype=np.int64, na_value=-1)
    comma_at = cleaned.str.rfind(",").to_numpy(dtype=np.int64, na_value=-1)
    has_dot, has_comma = dot_at >= 0, comma_at >= 0
    if not (has_dot | has_comma).any():
        return None, None, ""
    dots = cleaned.str.count(r"\.").to_numpy(dtype=np.int64, na_value=0)
    commas = cleaned.str.count(",").to_numpy(dtype=np.int64, na_value=0)
    fraction = cleaned.str.extract(r"[.,](\d*)(?:" + _EXPONENT + r")?$", expand=False).str.len()
    three = (fraction == 3).to_numpy(dtype=bool, na_value=False)
    exponent = cleaned.str.contains(_EXPONENT + "$", regex=True).to_numpy(dtype=bool, na_value=False)
    dot_proof = (has_dot & has_comma & (dot_at > comma_at)) | (has_dot & ~has_comma & (dots == 1) & (~three | exponent)) | (has_comma & ~has_dot & (commas >= 2))
    comma_proof = (has_dot & has_comma & (comma_at > dot_at)) | (has_comma & ~has_dot & (commas == 1) & ~three) | (has_dot & ~has_comma & (dots >= 2))
    if dot_proof.any() and comma_proof.any():
        first_dot, first_comma = int(np.argmax(dot_proof)), int(np.argmax(comma_proof))
        later, earlier = max(first_dot, first_comma), min(first_dot, first_comma)
        return None, later, (
            f"the column mixes decimal separators ('.' and ','; compare {cleaned.iloc[earlier]!r} earlier): "
            "pass --decimal . or --decimal , (or set decimal in the mapping [options])"
        )
    if dot_proof.any():
        return ".", None, ""
    if comma_proof.any():
        return ",", None, ""
    position = int(np.argmax(has_dot | has_comma))
    return None, position, (
        f"the decimal separator is ambiguous: {cleaned.iloc[position]!r} could be a whole number with a thousands "
        "separator or a decimal, and no value in the column settles it; pass --decimal . or --decimal , "
        "(or set decimal in the mapping [options])"
    )


def _to_float(cleaned: pd.Series, decimal: str, allow_exponent: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validate grouping against ``decimal`` and convert; returns (floats, valid mask)."""
    group = ("," if decimal == "." else ".") + _GROUP_SPACES
    g, d = "[" + re.escape(group) + "]", re.escape(decimal)
    exponent = f"(?:{_EXPONENT})?" if allow_exponent and decimal == "." else ""
    pattern = rf"(?:\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d*)?|\d+(?:{d}\d*)?|{d}\d+){exponent}"
    valid = cleaned.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)
    plain = cleaned.str.replace(g, "", regex=True)
    if decimal == ",":
        plain = plain.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(plain.where(valid, ""), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return numbers, valid & np.isfinite(numbers)  # 1e400 overflows to inf: not a storable number


def _parse_decimal(text: pd.Series, decimal: str | None, currency: bool, what: str) -> Parsed:
    present = _present(text)
    cleaned, negative = _strip_sign_and_currency(text, currency)
    cleaned = cleaned.where(present, "")
    if decimal is None:
        decimal, position, why = decimal_separator(cleaned)
        if position is not None:
            raise AmbiguousColumn(position, why)
        decimal = decimal or "."
    numbers, valid = _to_float(cleaned, decimal, allow_exponent=not currency)
    numbers = np.where(negative, -numbers, numbers)
    invalid = present & ~valid
    numbers[~valid] = np.nan
    return Parsed(pd.Series(numbers, index=text.index), invalid, f"not {what} (decimal separator {decimal!r})")


def parse_money(text: pd.Series, decimal: str | None = None) -> Parsed:
    """Amounts such as ``$1,234.50``, ``1.234,50``, ``€ 12``, ``(12.00)`` → float; currency symbols/codes dropped.

    ``decimal`` (``"."`` or ``","``) overrides the per-column decision of ``decimal_separator``.
    """
    return _parse_decimal(text, decimal, currency=True, what="an amount")


def parse_number(text: pd.Series, decimal: str | None = None) -> Parsed:
    """Plain numbers (``12``, ``-0.5``, ``1e3``, ``1 234,5``) → float, with the same separator rule as money."""
    if _all_match(text, r"[+-]?\d+"):
        return _plain_integers(text, as_float=True)
    return _parse_decimal(text, decimal, currency=False, what="a number")


def parse_integer(text: pd.Series, decimal: str | None = None) -> Parsed:
    """Whole numbers (``12``, ``1,000`` once the separator is settled, ``3.0``) → nullable Int64; ``3.5`` is invalid."""
    if _all_match(text, r"[+-]?\d+"):
        return _plain_integers(text, as_float=False)
    parsed = _parse_decimal(text, decimal, currency=False, what="a whole number")
    numbers = parsed.values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    fractional = ~np.isnan(numbers) & (np.floor(numbers) != numbers)
    too_big = ~np.isnan(numbers) & (np.abs(numbers) >= 2.0**63)
    bad = fractional | too_big
    numbers[bad] = np.nan
    values = pd.Series(numbers, index=text.index).astype("Int64")
    return Parsed(values, parsed.invalid | bad, "not a whole number")


def _all_match(text: pd.Series, pattern: str) -> bool:
    stripped = text.str.strip()
    return bool((stripped.str.fullmatch(pattern) | (stripped == "")).all())


def _plain_integers(text: pd.Series, as_float: bool) -> Parsed:
    present = _present(text)
    stripped = text.str.strip()
    if as_float or (stripped.str.len() < 19).all():  # fits int64 for sure: let Arrow's C++ cast do the work
        import pyarrow as pa

        cast = pa.array(stripped.where(present, None), pa.large_string()).cast(pa.float64() if as_float else pa.int64())
        numbers = pd.Series(cast.to_pandas(), index=text.index)
        if as_float:
            huge = np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan))  # 400 digits overflow a float
            return Parsed(numbers.where(~huge).astype("float64"), huge, "a number too large to store")
        return Parsed(numbers.astype("Int64"), np.zeros(len(text), dtype=bool), "not a whole number")
    numbers = pd.to_numeric(stripped.where(present, None), errors="coerce")
    if as_float:
        return Parsed(numbers.astype("float64"), np.zeros(len(text), dtype=bool), "not a number")
    if numbers.dtype == object or numbers.dtype == np.float64 and (numbers.abs() >= 2.0**63).any():
        too_big = np.array([v is not None and not pd.isna(v) and abs(int(v)) >= 2**63 for v in numbers], dtype=bool)
        numbers = pd.Series([None if b or pd.isna(v) else int(v) for v, b in zip(numbers, too_big)], index=text.index, dtype="Int64")
        return Parsed(numbers, too_big, "a whole number too large to store (over 2^63)")
    return Parsed(numbers.astype("Int64"), np.zeros(len(text), dtype=bool), "not a whole number")


# --- flags and categories ----------------------------------------------------------------------------------------

TRUE_WORDS = ("true", "t", "yes", "y", "1", "on")
FALSE_WORDS = ("false", "f", "no", "n", "0", "off")


def parse_boolean(text: pd.Series) -> Parsed:
    """``true/false``, ``yes/no``, ``y/n``, ``t/f``, ``1/0``, ``on/off`` (any case) → 1/0 (nullable Int64)."""
    word = text.str.strip().str.lower()
    truthy = word.isin(TRUE_WORDS).to_numpy(dtype=bool)
    falsy = word.isin(FALSE_WORDS).to_numpy(dtype=bool)
    values = pd.Series(np.where(truthy, 1, 0), index=text.index, dtype="Int64").where(truthy | falsy)
    return Parsed(values, _present(text) & ~truthy & ~falsy, "not a yes/no value (use true/false, yes/no or 1/0)")


def category_key(text: pd.Series) -> pd.Series:
    """The comparison form of a category label: lower case, spaces and hyphens as ``_`` (``In App`` → ``in_app``)."""
    return text.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def parse_category(text: pd.Series, allowed: tuple[str, ...]) -> Parsed:
    """A label from ``allowed``, matched by ``category_key``; anything else is invalid, the reason listing the set."""
    key = category_key(text)
    ok = key.isin(allowed).to_numpy(dtype=bool)
    values = key.where(ok)
    return Parsed(values, _present(text) & ~ok, f"not an allowed value; allowed: {', '.join(allowed)}")


def parse_text(text: pd.Series) -> Parsed:
    """Free text and ids, kept exactly as given (an empty value is missing)."""
    return Parsed(text.where(text != ""), np.zeros(len(text), dtype=bool))


# --- inference for extra columns ---------------------------------------------------------------------------------

_INFER_INTEGER = r"[+-]?(?:0|[1-9]\d{0,17})"
_INFER_NUMBER = r"[+-]?(?:(?:0|[1-9]\d*)(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?"
_INFER_BOOLEAN = ("true", "false", "yes", "no")
_INFER_DATE = r"\d{4}-\d{2}-\d{2}"
_INFER_DATETIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"


def infer_kind(text: pd.Series) -> ColumnKind:
    """The kind of a non-canonical column: the first of integer, number, boolean, date, datetime that EVERY
    non-empty value parses as, else text (also for an all-empty column).

    Deliberately conservative so nothing is lost: integers have no leading zeros (``007`` stays text, as ids
    should) and at most 18 digits; numbers use ``.`` without thousands separators and must not be ambiguous
    (``1.234`` alone stays text); booleans are ``true/false/yes/no``; dates and datetimes are ISO 8601.
    """
    values = text[text.str.strip() != ""].str.strip()
    if values.empty:
        return ColumnKind.TEXT
    if values.str.fullmatch(_INFER_INTEGER).all():
        return ColumnKind.INTEGER
    if values.str.fullmatch(_INFER_NUMBER).all():
        _, position, _ = decimal_separator(values.str.lstrip("+-"))
        return ColumnKind.NUMBER if position is None else ColumnKind.TEXT
    if values.str.lower().isin(_INFER_BOOLEAN).all():
        return ColumnKind.BOOLEAN
    if values.str.fullmatch(_INFER_DATE).all() and pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna().all():
        return ColumnKind.DATE
    if values.str.fullmatch(_INFER_DATETIME).all() and pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce").notna().all():
        return ColumnKind.DATETIME
    return ColumnKind.TEXT
