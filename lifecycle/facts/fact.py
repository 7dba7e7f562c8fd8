"""One citable number (``Fact``), the bundle of them for a scope (``FactBundle``) and their display text.

A ``Fact`` carries its id (``activation_rate``, ``stage.adoption.customers``, ``driver.…``), a label, the
exact value, the unit, the display text the prompt shows (``64.2%``), the sample size, the target band and
status, the definition's formula, and the framework sections it belongs to. Prompts render facts into a
delimited data block; the grounding verifier matches every number in a draft back to a fact by id and value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lifecycle.metrics.results import Unit

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "RUB": "₽"}


@dataclass(frozen=True)
class Fact:
    """One citable number."""

    id: str
    label: str
    value: float | None
    unit: str
    display: str
    sample_size: int | None = None
    target: str | None = None
    status: str | None = None
    definition: str | None = None
    sections: tuple[str, ...] = ()
    note: str | None = None
    detail: bool = False  # a breakdown row or a supporting number; headline-only prompts leave it out
    interval: tuple[float, float] | None = None  # 95 % confidence interval of value (Wilson for proportions)
    small_sample: bool = False  # rests on fewer units / events than the configured minimum
    quotes: tuple[str, ...] = ()  # customers' words behind the number (untrusted text: renderers fence it)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "label": self.label, "value": self.value, "unit": self.unit, "display": self.display,
            "sample_size": self.sample_size, "target": self.target, "status": self.status,
            "definition": self.definition, "sections": list(self.sections), "note": self.note, "detail": self.detail,
            "interval": list(self.interval) if self.interval is not None else None, "small_sample": self.small_sample,
            "quotes": list(self.quotes),
        }


@dataclass(frozen=True)
class FactBundle:
    """All facts for one scope, in a stable order, plus the scope's description."""

    as_of: str
    period: dict[str, str]
    filters: dict[str, Any]
    facts: tuple[Fact, ...] = field(default=())
    caveats: tuple[str, ...] = field(default=())  # what the facts cannot be read as: low health coverage, small samples

    def by_id(self) -> dict[str, Fact]:
        return {fact.id: fact for fact in self.facts}

    def headline(self) -> FactBundle:
        """The bundle without detail facts (breakdown rows, supporting driver numbers); caveats kept."""
        return FactBundle(self.as_of, self.period, self.filters, tuple(f for f in self.facts if not f.detail), self.caveats)

    def for_section(self, section: str) -> tuple[Fact, ...]:
        """Facts tagged with ``section``, in bundle order."""
        return tuple(f for f in self.facts if section in f.sections)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "period": self.period, "filters": self.filters, "facts": [f.to_dict() for f in self.facts],
                "caveats": list(self.caveats)}


def format_value(value: float | None, unit: Unit | str, currency: str = "USD") -> str:
    """Display text for a value: ratios as percent with one decimal, money with thousands separators, days with one decimal.

    The verifier accepts a cited number when it equals the fact's display rounding (or the exact value).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "no data"
    unit = Unit(unit)
    if unit is Unit.RATIO:
        return f"{value * 100:.1f}%"
    if unit is Unit.MONEY:
        symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
        sign = "-" if value < 0 else ""
        return f"{sign}{symbol}{abs(value):,.0f}" if abs(value) >= 100 else f"{sign}{symbol}{abs(value):,.2f}"
    if unit is Unit.DAYS:
        return f"{value:.1f} days"
    if unit is Unit.MONTHS:
        return f"{value:.1f} months"
    if unit is Unit.COUNT:
        return f"{value:,.0f}"
    if unit is Unit.SCORE:
        return f"{value:.1f}"
    return f"{value:.2f}×"
