"""Derived canonical values: a mapping's ``{ function = "...", ... }`` entries, computed column-wise from export text.

Functions (arguments name export columns unless noted):

- ``coalesce``: ``columns = [a, b, ...]`` → per row, the first non-empty value.
- ``join``: ``columns = [a, b]``, ``sep = " "`` (text) → the non-empty values joined (``First Name`` + ``Last Name``).
- ``when``: ``value = a``, ``column = b``, ``in = ["Closed Won"]`` (texts) → ``a`` where ``b`` is one of the
  texts (case-insensitive), else empty (HubSpot's ``Close Date`` is the won day only for won deals).
- ``constant``: ``value = "email"`` (text) → that text on every row.
- ``monthly_amount``: ``amount``, optional ``quantity``, ``interval``, optional ``interval_count``, optional
  ``unit = "major" | "minor"`` (text) → MRR, the recurring amount normalised to a month:

      MRR = amount × quantity × months_factor(interval) / interval_count

  with months_factor ``month`` = 1, ``year`` = 1/12, ``week`` = 52/12, ``day`` = 365/12 (ChartMogul's and Stripe's
  normalisation of plan intervals to MRR). ``unit = "minor"`` divides amounts given in cents by 100. An amount,
  quantity or interval that cannot be read is a row error on that export column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lifecycle.errors import MappingError
from lifecycle.importing.mapping import Derivation
from lifecycle.importing.parsing import parse_category, parse_integer, parse_money

MONTHS_PER_INTERVAL = {"month": 1.0, "year": 1.0 / 12.0, "week": 52.0 / 12.0, "day": 365.0 / 12.0}
_INTERVAL_ALIASES = {"monthly": "month", "yearly": "year", "annual": "year", "annually": "year", "weekly": "week", "daily": "day",
                     "months": "month", "years": "year", "weeks": "week", "days": "day"}


@dataclass
class Problem:
    """Rows (``mask``) whose value in export/canonical ``column`` is invalid, with the reason and the values."""

    mask: np.ndarray
    column: str | None
    why: str | pd.Series
    values: pd.Series | None = None


@dataclass
class Derived:
    """A derived column as text (``decimal`` says which separator its numbers use) and the problems found."""

    text: pd.Series
    problems: list[Problem] = field(default_factory=list)
    decimal: str | None = None


def derive(derivation: Derivation, columns: dict[str, pd.Series], n: int, decimal: str | None = None) -> Derived:
    """Compute ``derivation`` over the export's text ``columns`` (``n`` rows); ``MappingError`` for an unknown function."""
    function = _FUNCTIONS.get(derivation.function)
    if function is None:
        raise MappingError(f"unknown derivation function {derivation.function!r}; known: {', '.join(_FUNCTIONS)}")
    try:
        return function(derivation.args, columns, n, decimal)
    except KeyError as exc:
        raise MappingError(f"derivation {derivation.function!r} needs the argument {exc.args[0]!r}") from None


def _empty(n: int) -> pd.Series:
    return pd.Series([""] * n, dtype="str")


def _coalesce(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    out = _empty(n)
    for name in reversed(args["columns"]):
        value = columns[name]
        out = value.where(value.str.strip() != "", out)
    return Derived(out)


def _join(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    sep = str(args.get("sep", " "))
    parts = [columns[name].str.strip() for name in args["columns"]]
    out = _empty(n)
    for part in parts:
        glue = out.where(out == "", out + sep)
        out = (glue + part).where(part != "", out)
    return Derived(out)


def _when(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    wanted = {str(v).strip().lower() for v in args["in"]}
    condition = columns[args["column"]].str.strip().str.lower().isin(wanted)
    return Derived(columns[args["value"]].where(condition, ""))


def _constant(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    return Derived(pd.Series([str(args["value"])] * n, dtype="str"))


def _monthly_amount(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    problems: list[Problem] = []
    amount_text = columns[args["amount"]]
    amount = parse_money(amount_text, decimal)
    problems.append(Problem(amount.invalid, args["amount"], amount.why, amount_text))
    values = amount.values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    if args.get("unit", "major") == "minor":
        values = values / 100.0
    if "quantity" in args:
        quantity_text = columns[args["quantity"]]
        quantity = parse_integer(quantity_text)
        problems.append(Problem(quantity.invalid, args["quantity"], quantity.why, quantity_text))
        values = values * quantity.values.astype("float64").fillna(1.0).to_numpy()
    interval_text = columns[args["interval"]].str.strip().str.lower().replace(_INTERVAL_ALIASES)
    interval = parse_category(interval_text, tuple(MONTHS_PER_INTERVAL))
    missing_interval = (interval_text == "").to_numpy(dtype=bool) & ~np.isnan(values)
    problems.append(Problem(interval.invalid, args["interval"], interval.why, columns[args["interval"]]))
    problems.append(Problem(missing_interval, args["interval"], "a billing interval is needed to compute MRR", columns[args["interval"]]))
    factor = interval.values.map(MONTHS_PER_INTERVAL).astype("float64").to_numpy()
    values = values * factor
    if "interval_count" in args:
        count_text = columns[args["interval_count"]]
        count = parse_integer(count_text)
        bad_count = count.invalid | (count.values.fillna(1) <= 0).to_numpy(dtype=bool)
        problems.append(Problem(bad_count, args["interval_count"], "not a positive whole number", count_text))
        values = values / count.values.astype("float64").fillna(1.0).clip(lower=1.0).to_numpy()
    text = pd.Series(np.char.mod("%.6f", values), dtype="str").where(~np.isnan(values), "")
    return Derived(text, [p for p in problems if p.mask.any()], decimal=".")


_FUNCTIONS = {
    "coalesce": _coalesce,
    "join": _join,
    "when": _when,
    "constant": _constant,
    "monthly_amount": _monthly_amount,
}
