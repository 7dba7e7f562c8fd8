"""Customer lifetime value over a horizon: expected purchases per month times expected spend, discounted monthly.

    CLV = sum_{m=1..M} spend * (E[Y(m k)] - E[Y((m-1) k)]) / (1 + d)^m

where E[Y(t)] is a transaction model's conditional expected number of purchases in (T, T+t] (BG/NBD Eq. 10 of
Fader, Hardie & Lee 2005; Pareto/NBD Eq. 41 of Fader & Hardie 2005), ``spend`` the expected value per purchase
(Gamma-Gamma Eq. 5 of Fader & Hardie 2013), k the number of model time units per month, M the horizon in months and
d the monthly discount rate. This is the discounting of ``lifetimes``' ``customer_lifetime_value`` (its
``_customer_lifetime_value``), including its units per month (30 days, 4.345 weeks), so results are comparable;
the Fader, Hardie & Lee (2005b) "RFM and CLV" paper uses continuous discounting (DET) instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from lifecycle.errors import QueryError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")

UNITS_PER_MONTH: Final[dict[str, float]] = {"D": 30.0, "W": 4.345, "M": 1.0}
"""Model time units per month, as in lifetimes' customer_lifetime_value."""


class TransactionModel(Protocol):
    """Anything with a conditional expectation of purchases in (T, T+t] (BetaGeoModel, ParetoNBDModel)."""

    def conditional_expected_purchases(self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray: ...


def customer_lifetime_value(
    model: TransactionModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    expected_spend: ArrayLike,
    *,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    time_unit: str | float = "W",
) -> np.ndarray:
    """Discounted value of each customer's expected purchases over the next ``months`` months (module formula).

    ``time_unit`` is the unit the model was fitted in ("D", "W", "M" or model units per month as a number);
    ``expected_spend`` is the value per purchase, usually
    ``GammaGammaModel.conditional_expected_average_value(frequency, monetary_value)``.
    """
    if months < 1:
        raise QueryError(f"months must be at least 1, got {months}")
    if monthly_discount_rate <= -1:
        raise QueryError(f"the monthly discount rate must be above -1, got {monthly_discount_rate}")
    per_month = _units_per_month(time_unit)
    spend = np.asarray(expected_spend, dtype=float)
    value = np.zeros(np.broadcast(np.asarray(frequency), spend).shape)
    previous = np.zeros_like(value)
    for month in range(1, months + 1):
        cumulative = model.conditional_expected_purchases(month * per_month, frequency, recency, T)
        value = value + spend * (cumulative - previous) / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return value


def _units_per_month(time_unit: str | float) -> float:
    if isinstance(time_unit, str):
        try:
            return UNITS_PER_MONTH[time_unit]
        except KeyError:
            raise QueryError(f"unknown time unit {time_unit!r}; use one of {', '.join(UNITS_PER_MONTH)} or units per month") from None
    if not time_unit > 0:
        raise QueryError(f"units per month must be positive, got {time_unit!r}")
    return float(time_unit)
