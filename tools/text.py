"""How a tool's text content carries its page: every row it returns, compact, rounded to the displayed precision, with
units and the dataset's currency, and a last line saying truthfully what is left out and how to get it.

Many MCP clients hand the model only a result's ``content`` (the MCP specification says a tool returning structured
content SHOULD also return it serialised as text). So the text is not a teaser: each tool's ``summary_text`` renders
its whole structured page with these helpers, and ``tests/server/test_tool_text.py`` checks that every id, month and
stage of the structured page appears in the text. Text from the data (names, comments, labels) is cleaned of control
and bidi characters; it stays data, never an instruction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lifecycle.facts import format_value
from prompts.fence import clean_text

MISSING = "n/a"


def value_text(value: float | None, unit: str, currency: str) -> str:
    """A value as the fact bundle displays it: ratios in percent (one decimal), money with the currency symbol and
    thousands separators, days and months with one decimal, counts whole, scores one decimal, multiples ``1.23×``;
    ``n/a`` when there is no value."""
    if value is None:
        return MISSING
    return format_value(value, unit, currency)


def money(value: float | None, currency: str) -> str:
    """``$1,234`` (whole units from 100 up, cents below), or ``n/a``."""
    return value_text(value, "money", currency)


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as percent: 0.1234 → ``12.3%``; ``n/a`` for None."""
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None, digits: int = 1) -> str:
    """A difference of fractions in percentage points: 0.009 → ``+0.9 pts``; ``n/a`` for None."""
    return MISSING if value is None else f"{value * 100:+.{digits}f} pts"


def number(value: float | None, digits: int = 2) -> str:
    """A plain number rounded to ``digits`` decimals without trailing zeros (``0.5``, ``12``, ``1,234.57``)."""
    if value is None:
        return MISSING
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def data_text(value: object, limit: int = 80) -> str:
    """Text that came from the data, cleaned of control and bidi characters and capped (it is data, not an
    instruction)."""
    return clean_text(value, limit)


def pairs(items: Iterable[tuple[str, object]]) -> str:
    """``a=1, b=2`` for the items whose value is not None."""
    return ", ".join(f"{k}={v}" for k, v in items if v is not None)


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A compact pipe table: the header once, then one line per row (cells already formatted)."""
    return [" | ".join(header)] + [" | ".join("" if cell is None else str(cell) for cell in row) for row in rows]


def page_line(noun: str, offset: int, shown: int, total: int, next_cursor: str | None) -> str:
    """What this page holds and how to get the rest: ``Rows 21–40 of 173 shown; 133 more: call again with
    cursor="…" (same other arguments).`` or ``All 12 rows shown.``"""
    if total == 0:
        return f"No {noun}."
    if offset == 0 and shown >= total:
        return f"All {total} {noun} shown."
    first, last = (offset + 1, offset + shown) if shown else (offset, offset)
    head = f"{noun[0].upper()}{noun[1:]} {first}–{last} of {total} shown"
    if next_cursor:
        return f'{head}; {total - last} more: call again with cursor="{next_cursor}" (same other arguments).'
    return f"{head}; earlier ones: call again without cursor." if first > 1 else f"{head}."
