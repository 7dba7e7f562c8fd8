"""CLV over a horizon: monthly increments of a transaction model's expectation, discounted monthly."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import ArrayLike

from lifecycle.clv.lifetime_value import customer_lifetime_value
from lifecycle.errors import QueryError


class SteadyBuyer:
    """A stand-in transaction model: E[Y(t)] = 0.5 t purchases per week, whatever the history."""

    def conditional_expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        return 0.5 * np.asarray(t, dtype=float) + 0 * np.asarray(frequency, dtype=float)


def test_steady_buyer_value_is_a_discounted_annuity() -> None:
    """0.5/week x 4.345 weeks/month = 2.1725 purchases a month at 20 each = 43.45 a month; 12 months at 1%:
    43.45 * (1 - 1.01^-12) / 0.01 = 43.45 * 11.2550775 = 489.0331.
    """
    value = customer_lifetime_value(SteadyBuyer(), [3.0], [10.0], [20.0], [20.0], months=12, monthly_discount_rate=0.01)
    assert float(value[0]) == pytest.approx(489.0331, abs=1e-3)


def test_zero_discount_rate_sums_the_expected_spend() -> None:
    """d = 0: CLV = spend x E[Y(6 months)] = 20 x 0.5/week x 4.345 weeks/month x 6 months = 260.7."""
    value = customer_lifetime_value(SteadyBuyer(), [1.0], [1.0], [5.0], [20.0], months=6, monthly_discount_rate=0.0)
    assert float(value[0]) == pytest.approx(260.7, rel=1e-12)


def test_value_falls_as_the_discount_rate_rises() -> None:
    values = [float(customer_lifetime_value(SteadyBuyer(), [1.0], [1.0], [5.0], [20.0], monthly_discount_rate=d)[0]) for d in (0.0, 0.01, 0.05)]
    assert values[0] > values[1] > values[2]


def test_bad_horizon_is_rejected() -> None:
    with pytest.raises(QueryError, match="months"):
        customer_lifetime_value(SteadyBuyer(), [1.0], [1.0], [5.0], [20.0], months=0)
