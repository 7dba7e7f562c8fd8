"""The currency of imported money: one currency per dataset, other currencies converted only at rates the user gives.

Each import says which currency its money columns (``amount``, ``mrr``, ``acquisition_cost``) are in: a column of
the export holding each row's ISO 4217 code (``currency_column`` in the mapping; Shopify's and Stripe's ``Currency``
in the presets), or one code for the whole file (``--currency EUR`` / ``currency = "EUR"``; rows whose code cell is
empty fall back to it). The first import that names a currency records it as the *dataset currency* (``_meta``);
reports name it.

Every later import must be in the same currency. A file mixing currencies, or in another currency than the
dataset's, is refused with one line — unless a rate table is given (``--rates rates.toml`` or ``rates = ...`` in the
mapping)::

    base = "USD"          # the currency amounts are converted into (must be the dataset currency, once there is one)
    [rates]               # units of the base currency one unit of each currency is worth
    EUR = 1.08
    GBP = 1.27

Converted amounts are ``amount × rates[code]`` (one rate per currency, the user's choice of date); the export's code
column is kept as an extra ``x_`` column, so which rows were converted stays visible. An import naming no currency
is taken to be in the dataset currency (unknown until some import names it).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.errors import CurrencyError, MappingError
from lifecycle.importing.mapping import currency_code

CURRENCY_DOC = "docs/importing.md#currencies"
INVALID_CODE = "not an ISO 4217 currency code (three letters such as USD, EUR, GBP)"


@dataclass(frozen=True)
class RateTable:
    """Exchange rates into ``base``: ``rates[code]`` units of ``base`` per unit of ``code`` (``base`` itself is 1)."""

    base: str
    rates: dict[str, float]
    path: Path

    def rate(self, code: str) -> float | None:
        """Units of ``base`` per unit of ``code`` (1 for the base), None when the table has no rate for it."""
        return 1.0 if code == self.base else self.rates.get(code)


def load_rates(path: Path) -> RateTable:
    """Read a rate table (module docstring); ``CurrencyError`` names the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurrencyError(f"rate table {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CurrencyError(f"rate table {path} cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CurrencyError(f"rate table {path} is not valid TOML: {exc}") from None
    if set(data) - {"base", "rates"} or "base" not in data or not isinstance(data.get("rates"), dict):
        raise CurrencyError(f"rate table {path}: expected base = \"USD\" and a [rates] table of CODE = units of base (see {CURRENCY_DOC})")
    try:
        base = currency_code(data["base"], f"rate table {path}: base")
        rates = {}
        for code, rate in data["rates"].items():
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
                raise CurrencyError(f"rate table {path}: the rate of {code} must be a positive number, not {rate!r}")
            rates[currency_code(code, f"rate table {path}")] = float(rate)
    except MappingError as exc:  # a key or base that is not a currency code
        raise CurrencyError(str(exc)) from None
    return RateTable(base, rates, path)


@dataclass(frozen=True)
class CurrencyPlan:
    """What to do with one file's money: the currency its stored amounts are in (None: not named), a per-row factor
    (None: no conversion), the currencies converted, and rows whose code cell is not a code."""

    currency: str | None
    factors: np.ndarray | None
    converted: tuple[str, ...]
    invalid: np.ndarray


def plan_currency(file_name: str, n: int, codes: pd.Series | None, default: str | None, recorded: str | None,
                  rates: RateTable | None) -> CurrencyPlan:
    """Decide the currency of a file's money (module docstring): ``codes`` is the export's code column (text, or
    None), ``default`` the import's ``--currency``, ``recorded`` the dataset currency, ``rates`` the rate table.

    Raises ``CurrencyError`` (one line) for mixed or foreign currencies without a rate table, a rate table whose base
    is not the dataset currency, or currencies the table has no rate for.
    """
    row_codes = np.full(n, default or "", dtype=object)
    invalid = np.zeros(n, dtype=bool)
    if codes is not None:
        text = codes.str.strip().str.upper()
        given = (text != "").to_numpy(dtype=bool)
        valid = text.str.fullmatch(r"[A-Z]{3}").to_numpy(dtype=bool, na_value=False)
        invalid = given & ~valid
        row_codes = np.where(given & valid, text.to_numpy(dtype=object), row_codes)
    present = sorted({c for c in row_codes[~invalid] if c})
    if not present:
        return CurrencyPlan(recorded, None, (), invalid)
    if rates is not None and recorded is not None and rates.base != recorded:
        raise CurrencyError(f"{file_name}: the rate table {rates.path.name} converts into {rates.base}, but the dataset's "
                            f"money is in {recorded}: use a rate table with base = \"{recorded}\"")
    target = recorded or (rates.base if rates is not None else present[0])
    if present == [target]:
        return CurrencyPlan(target, None, (), invalid)
    if rates is None:
        if len(present) > 1:
            raise CurrencyError(f"{file_name}: amounts in {len(present)} currencies ({', '.join(present)}) in one table; a "
                                f"dataset holds one currency: convert them with --rates rates.toml (see {CURRENCY_DOC})")
        raise CurrencyError(f"{file_name}: amounts are in {present[0]} but the dataset's money is in {target}: convert them "
                            f"with --rates rates.toml (base = \"{target}\"), or import into another database (see {CURRENCY_DOC})")
    missing = [c for c in present if rates.rate(c) is None]
    if missing:
        raise CurrencyError(f"{file_name}: the rate table {rates.path.name} has no rate for {', '.join(missing)}: add "
                            f"{missing[0]} = <units of {rates.base} per {missing[0]}> under [rates]")
    factors = np.array([rates.rate(c) if c else 1.0 for c in row_codes], dtype=np.float64)
    return CurrencyPlan(target, factors, tuple(c for c in present if c != target), invalid)
