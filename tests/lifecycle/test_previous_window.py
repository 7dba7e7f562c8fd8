"""The period before a window, of the same length: what every "change versus the previous period" compares with."""

from __future__ import annotations

from datetime import date

import pytest

from lifecycle.scope import Window


@pytest.mark.parametrize(("window", "previous"), [
    pytest.param(Window(date(2025, 3, 1), date(2025, 3, 31)), Window(date(2025, 2, 1), date(2025, 2, 28)), id="march-to-february"),
    pytest.param(Window(date(2024, 7, 1), date(2025, 6, 30)), Window(date(2023, 7, 1), date(2024, 6, 30)), id="twelve-months"),
    pytest.param(Window(date(2025, 3, 1), date(2025, 5, 31)), Window(date(2024, 12, 1), date(2025, 2, 28)), id="a-quarter"),
    pytest.param(Window(date(2025, 2, 16), date(2025, 3, 15)), Window(date(2025, 1, 16), date(2025, 2, 15)), id="mid-month"),
    pytest.param(Window(date(2025, 3, 5), date(2025, 3, 9)), Window(date(2025, 2, 28), date(2025, 3, 4)), id="five-days"),
])
def test_previous_window_has_the_same_calendar_length(window: Window, previous: Window) -> None:
    assert window.previous() == previous


def test_months_of_a_trailing_window() -> None:
    assert Window.trailing_months(date(2025, 6, 30), 12).months == 12
    assert Window(date(2025, 3, 5), date(2025, 3, 9)).months is None
