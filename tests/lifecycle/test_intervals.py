"""Wilson score intervals against the published values of Newcombe (1998), Table II, method 3 (95 %)."""

from __future__ import annotations

from datetime import date

import pytest

from lifecycle.metrics.intervals import wilson_interval
from lifecycle.metrics.results import Unit, ratio_result
from lifecycle.scope import Scope


@pytest.mark.parametrize(("x", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_newcombe_1998(x: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(x, n)
    assert got is not None
    assert got[0] == pytest.approx(low, abs=5e-5) and got[1] == pytest.approx(high, abs=5e-5)


def test_no_interval_without_units_and_a_refusal_for_impossible_counts() -> None:
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_a_proportion_result_carries_its_interval_and_a_non_proportion_none() -> None:
    scope = Scope.at(date(2024, 6, 30))
    assert ratio_result("x", 15.0, 148.0, Unit.RATIO, scope).interval == wilson_interval(15, 148)
    assert ratio_result("x", 2.5, 10.0, Unit.RATIO, scope).interval is None  # a mean, not a count of units
    assert ratio_result("x", 3.0, 2.0, Unit.MULTIPLE, scope).interval is None
