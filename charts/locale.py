"""Number formats for en, ru and zh: what a reader of each language expects, and what the verifier parses.

en and zh group thousands with commas and use a decimal point (``1,234.5``; ``58.5%``); ru groups with a no-break
space and uses a decimal comma (``1 234,5``; ``58,5 %``). Money puts the currency symbol first in en/zh
(``$2,867,235``) and after the number in ru (``2 867 235 $``). Units: days, months, percentage points and
multiples in the language's words (``4.0 days`` / ``4,0 дня`` / ``4.0 天``; Russian spells units out — "дня",
"месяца", "пункта", the genitive singular that follows a decimal — because an abbreviation's full stop would end the
sentence for the verifier and separate a number from its citation). Display precision matches the fact
bundle's (one decimal for percentages, days and months; whole money amounts from 100 up), so a number written
here equals the fact's display rounding — the verifier's rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NBSP = "\u00a0"
MINUS = "-"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "RUB": "₽"}

_UNITS = {
    "en": {"days": " days", "months": " months", "pts": " pts", "x": "×"},
    "ru": {"days": NBSP + "дня", "months": NBSP + "месяца", "pts": NBSP + "пункта", "x": "×"},
    "zh": {"days": " 天", "months": " 个月", "pts": " 个百分点", "x": "×"},
}


@dataclass(frozen=True)
class NumberFormat:
    """Formats numbers for one language (``en``, ``ru`` or ``zh``) and currency."""

    language: str = "en"
    currency: str = "USD"

    def number(self, value: float, decimals: int = 0, sign: bool = False) -> str:
        """``value`` with thousands grouping and ``decimals`` decimals in the language's separators."""
        text = f"{abs(value):,.{decimals}f}"
        if self.language == "ru":
            text = text.replace(",", NBSP).replace(".", ",")
        negative = value < 0 and round(abs(value), decimals) != 0
        return ("-" if negative else "+" if sign else "") + text

    def percent(self, ratio: float | None, decimals: int = 1, sign: bool = False) -> str:
        """A ratio as a percentage: ``58.5%`` / ``58,5 %``."""
        if ratio is None or not math.isfinite(ratio):
            return "—"
        space = NBSP if self.language == "ru" else ""
        return f"{self.number(ratio * 100, decimals, sign)}{space}%"

    def points(self, ratio_difference: float, sign: bool = True, scale: float = 100.0) -> str:
        """A difference of ratios in percentage points (``+2.3 pts``); ``scale=1`` for score points."""
        return self.number(ratio_difference * scale, 1, sign) + _UNITS[self.language]["pts"]

    def money(self, value: float | None) -> str:
        """Whole amounts from 100 up, cents below: ``$2,867,235`` / ``2 867 235 $``."""
        if value is None or not math.isfinite(value):
            return "—"
        symbol = CURRENCY_SYMBOLS.get(self.currency, self.currency)
        decimals = 0 if abs(value) >= 100 else 2
        text = self.number(abs(value), decimals)
        sign = "-" if value < 0 else ""
        return f"{sign}{text}{NBSP}{symbol}" if self.language == "ru" else f"{sign}{symbol}{text}"

    def count(self, value: float | None) -> str:
        return "—" if value is None or not math.isfinite(value) else self.number(value, 0)

    def days(self, value: float, sign: bool = False) -> str:
        return self.number(value, 1, sign) + _UNITS[self.language]["days"]

    def months(self, value: float, sign: bool = False) -> str:
        return self.number(value, 1, sign) + _UNITS[self.language]["months"]

    def multiple(self, value: float, sign: bool = False) -> str:
        return self.number(value, 2, sign) + _UNITS[self.language]["x"]

    def compact_money(self, value: float) -> str:
        """Short amounts for chart axes only: ``$2.9M`` / ``2,9 млн $``."""
        symbol = CURRENCY_SYMBOLS.get(self.currency, self.currency)
        for scale, en, ru in ((1e9, "B", " млрд"), (1e6, "M", " млн"), (1e3, "k", " тыс.")):
            if abs(value) >= scale:
                text = self.number(value / scale, 1 if abs(value) < 10 * scale else 0) + (ru if self.language == "ru" else en)
                return f"{text}{NBSP}{symbol}" if self.language == "ru" else f"{symbol}{text}"
        return self.money(value)
