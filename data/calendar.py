"""Day numbers for the demo: integers counted from ``DATA_START`` (day 0 = 2024-01-01), and their ISO text.

The generator works in integer days (and seconds within a day) so it can stay vectorised; text is produced
once, at the end, with numpy's C-level datetime formatting.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from data.params import DATA_END, DATA_START

LAST_DAY = (DATA_END - DATA_START).days  # 730: the last day inside the window
_EPOCH_DAY = np.datetime64(DATA_START.isoformat(), "D")
_EPOCH_SECOND = np.datetime64(DATA_START.isoformat() + "T00:00:00", "s")
# First day of each month from the window's first month onwards (enough months for anniversaries past the end).
_MONTH_STARTS = (np.datetime64(DATA_START.isoformat()[:7], "M") + np.arange(48)).astype("datetime64[D]")
MONTH_START_DAYS = (_MONTH_STARTS - _EPOCH_DAY).astype(np.int64)


def to_date(day: int) -> date:
    """The calendar date of day number ``day``."""
    return DATA_START + timedelta(days=int(day))


def month_index(day: int) -> int:
    """Months since the window's first month for day number ``day`` (0 for January 2024)."""
    return int(np.searchsorted(MONTH_START_DAYS, day, side="right") - 1)


def billing_day(anchor: int, k: int) -> int:
    """Start of billing period ``k`` of a subscription that started on day ``anchor``.

    Period 0 starts on ``anchor``; period ``k`` starts ``k`` calendar months later on the same day of the
    month, clipped to the 28th so every month has it (a customer signing up on the 31st renews on the 28th).
    """
    if k == 0:
        return anchor
    month = month_index(anchor)
    dom = min(anchor - int(MONTH_START_DAYS[month]), 27)
    return int(MONTH_START_DAYS[month + k]) + dom


def weekday(days: np.ndarray) -> np.ndarray:
    """ISO weekday index (0 = Monday … 6 = Sunday) of each day number; 2024-01-01 was a Monday."""
    return (np.asarray(days) + DATA_START.weekday()) % 7


def days_iso(days: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` text of each day number (object array; ``None`` where the day is negative)."""
    values = np.asarray(days, dtype=np.int64)
    text = np.datetime_as_string(_EPOCH_DAY + values, unit="D").astype(object)
    text[values < 0] = None
    return text


def instants_iso(days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) text of each (day number, second of day) pair; ``None`` where day < 0."""
    days = np.asarray(days, dtype=np.int64)
    stamps = _EPOCH_SECOND + (days * 86_400 + np.asarray(seconds, dtype=np.int64)).astype("timedelta64[s]")
    text = np.datetime_as_string(stamps, unit="s").astype(object)
    text[days < 0] = None
    return text
