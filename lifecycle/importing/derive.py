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
- ``term_months``: ``interval``, optional ``interval_count`` → the renewal term in months, one billing period:

      term = interval_count × 1 / months_factor(interval)     (month 1, year 12, week 12/52, day 12/365)

  the same interval names as ``monthly_amount`` (Stripe's ``Interval`` / ``Interval Count``: a yearly plan renews
  every 12 months, ``month`` × 3 every 3). An empty interval gives an empty term (unknown, not an error).
- ``multiply``: ``columns = [a, b, ...]`` → the product of the numbers (``Quantity`` × ``UnitPrice`` of a line item);
  empty when any factor is empty; a factor that is not a number is a row error on its column.
- ``shift_date``: a day moved by a whole number of ``days``, ``weeks``, ``months`` or ``years`` (one of them: an
  export column, or a number), ``direction = "before"`` or ``"after"`` (default), from ``date`` (an export column)
  or ``on`` (a fixed ISO day such as the snapshot date ``"2024-06-30"``) → ``YYYY-MM-DD``. Months and years are
  calendar months, the day clamped to the target month's last day (2024-03-31 − 1 month = 2024-02-29), as Python's
  ``dateutil.relativedelta`` and pandas' ``DateOffset(months=k)``. Signup = snapshot date − tenure months:
  ``{ function = "shift_date", on = "2024-06-30", months = "tenure", direction = "before" }``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from lifecycle.errors import MappingError
from lifecycle.importing.dates import parse_date
from lifecycle.importing.mapping import Derivation
from lifecycle.importing.parsing import parse_category, parse_integer, parse_money, parse_number

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


def derive(derivation: Derivation, columns: dict[str, pd.Series], n: int, decimal: str | None = None,
           dayfirst: bool | None = None) -> Derived:
    """Compute ``derivation`` over the export's text ``columns`` (``n`` rows); ``MappingError`` for an unknown
    function or a missing argument. ``dayfirst`` settles the order of slash dates read by ``shift_date``."""
    function = _FUNCTIONS.get(derivation.function)
    if function is None:
        raise MappingError(f"unknown derivation function {derivation.function!r}; known: {', '.join(_FUNCTIONS)}")
    try:
        if function is _shift_date:
            return _shift_date(derivation.args, columns, n, dayfirst)
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


def _term_months(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    problems: list[Problem] = []
    interval_text = columns[args["interval"]].str.strip().str.lower().replace(_INTERVAL_ALIASES)
    interval = parse_category(interval_text, tuple(MONTHS_PER_INTERVAL))
    problems.append(Problem(interval.invalid, args["interval"], interval.why, columns[args["interval"]]))
    values = 1.0 / interval.values.map(MONTHS_PER_INTERVAL).astype("float64").to_numpy()
    if "interval_count" in args:
        count_text = columns[args["interval_count"]]
        count = parse_integer(count_text)
        bad_count = count.invalid | (count.values.fillna(1) <= 0).to_numpy(dtype=bool)
        problems.append(Problem(bad_count, args["interval_count"], "not a positive whole number", count_text))
        values = values * count.values.astype("float64").fillna(1.0).clip(lower=1.0).to_numpy()
    text = pd.Series(np.char.mod("%.6g", values), dtype="str").where(~np.isnan(values), "")
    return Derived(text, [p for p in problems if p.mask.any()], decimal=".")


def _multiply(args: dict, columns: dict[str, pd.Series], n: int, decimal: str | None) -> Derived:
    problems: list[Problem] = []
    product = np.ones(n, dtype=np.float64)
    for name in args["columns"]:
        text = columns[name]
        factor = parse_number(text, decimal)
        problems.append(Problem(factor.invalid, name, factor.why, text))
        product = product * factor.values.to_numpy(dtype=np.float64, na_value=np.nan)
    text = pd.Series(np.char.mod("%.10g", product), dtype="str").where(~np.isnan(product), "")
    return Derived(text, [p for p in problems if p.mask.any()], decimal=".")


_SHIFT_UNITS = ("days", "weeks", "months", "years")


def _shift_date(args: dict, columns: dict[str, pd.Series], n: int, dayfirst: bool | None) -> Derived:
    problems: list[Problem] = []
    if ("date" in args) == ("on" in args):
        raise MappingError("shift_date needs exactly one of date = \"<export column>\" or on = \"YYYY-MM-DD\"")
    units = [u for u in _SHIFT_UNITS if u in args]
    if len(units) != 1:
        raise MappingError("shift_date needs exactly one of days, weeks, months or years (an export column or a number)")
    direction = str(args.get("direction", "after"))
    if direction not in ("before", "after"):
        raise MappingError(f"shift_date direction must be \"before\" or \"after\", not {direction!r}")
    if "on" in args:
        try:
            start = np.full(n, np.datetime64(date.fromisoformat(str(args["on"]))), dtype="datetime64[D]")
        except ValueError:
            raise MappingError(f"shift_date on = {args['on']!r} is not a YYYY-MM-DD day") from None
    else:
        text = columns[args["date"]]
        parsed = parse_date(text, dayfirst)
        problems.append(Problem(parsed.invalid, args["date"], parsed.why, text))
        start = pd.to_datetime(parsed.values, format="%Y-%m-%d", errors="coerce").to_numpy(dtype="datetime64[D]")
    unit, amount = units[0], args[units[0]]
    if isinstance(amount, bool) or not isinstance(amount, str | int):
        raise MappingError(f"shift_date {unit} must be an export column name or a whole number, not {amount!r}")
    if isinstance(amount, int):
        steps = np.full(n, float(amount))
    else:
        amount_text = columns[amount]
        parsed_amount = parse_integer(amount_text)
        problems.append(Problem(parsed_amount.invalid, amount, parsed_amount.why, amount_text))
        steps = parsed_amount.values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    steps = -steps if direction == "before" else steps
    known = ~np.isnat(start) & ~np.isnan(steps)
    shifted = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    whole = steps[known].astype(np.int64)
    if unit in ("days", "weeks"):
        shifted[known] = start[known] + whole * (7 if unit == "weeks" else 1)
    else:
        shifted[known] = _add_months(start[known], whole * (12 if unit == "years" else 1))
    text = pd.Series(shifted.astype(str), dtype="str").where(~np.isnat(shifted), "")
    return Derived(text, [p for p in problems if p.mask.any()])


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar-month shift of datetime64[D] ``days``, the day of month clamped to the target month's length."""
    month_start = days.astype("datetime64[M]")
    day_of_month = (days - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + months.astype("timedelta64[M]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day_of_month, length - 1)


_FUNCTIONS: dict[str, Callable[..., Derived]] = {
    "coalesce": _coalesce,
    "join": _join,
    "when": _when,
    "constant": _constant,
    "monthly_amount": _monthly_amount,
    "term_months": _term_months,
    "multiply": _multiply,
    "shift_date": _shift_date,
}
