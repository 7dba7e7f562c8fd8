"""Recency-frequency-monetary summaries from a raw transaction log, the input of every CLV model.

For each customer, with purchases on the same calendar day collapsed into one purchase (their amounts summed):

- ``frequency``: the number of *repeat* purchase days, i.e. distinct purchase days minus one (``x`` in the papers).
- ``recency``: the time from the first to the last purchase day (``t_x``); 0 when ``frequency`` is 0.
- ``T``: the time from the first purchase day to the end of the observation period (the customer's "age").
- ``monetary_value``: the mean amount of the repeat purchase days (the first purchase is excluded, as the
  Gamma-Gamma model requires); 0 when ``frequency`` is 0.

Times are in a chosen unit (days, weeks or months of 365.25/12 days). These are the definitions of Fader, Hardie &
Lee (2005), "Counting Your Customers the Easy Way", §2 and of the CDNOW summary they publish: with same-day
purchases collapsed, calibration ending 1997-09-30 and weeks as the unit, :func:`rfm_summary` reproduces
``cdnow_customers_summary.csv`` exactly (to its two printed decimals) for all 2,357 customers.

:func:`calibration_and_holdout` splits the log at a calibration end date: the summary of the calibration period
plus, for the same customers, the number of purchase days in the holdout period (the quantity the models predict).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from lifecycle.errors import QueryError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

DAYS_PER_UNIT: Final[dict[str, float]] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
"""Length of each supported time unit in days (``M`` is an average Gregorian month)."""


def days_per_unit(time_unit: str | float) -> float:
    """The length of ``time_unit`` in days: ``"D"``, ``"W"``, ``"M"`` or a positive number of days."""
    if isinstance(time_unit, str):
        try:
            return DAYS_PER_UNIT[time_unit]
        except KeyError:
            raise QueryError(f"unknown time unit {time_unit!r}; use one of {', '.join(DAYS_PER_UNIT)} or a number of days") from None
    if not time_unit > 0:
        raise QueryError(f"time unit must be a positive number of days, got {time_unit!r}")
    return float(time_unit)


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str | None = "amount",
    observation_period_end: str | pd.Timestamp | None = None,
    time_unit: str | float = "W",
) -> pd.DataFrame:
    """Per-customer ``frequency, recency, T`` (and ``monetary_value``) at ``observation_period_end``.

    ``transactions`` has one row per purchase; only purchases on or before ``observation_period_end`` (default:
    the last purchase day in the log) count. Purchases on the same calendar day are one purchase with their amounts
    summed. Returns a frame indexed by customer id (sorted), with float columns ``frequency``, ``recency``, ``T``
    and, when ``monetary_value_col`` is given, ``monetary_value``. See the module docstring for the definitions.
    """
    days = _purchase_days(transactions, customer_id_col, datetime_col, monetary_value_col)
    end = _day(observation_period_end) if observation_period_end is not None else days["day"].max()
    days = days[days["day"] <= end]
    return _summarise(days, end, days_per_unit(time_unit), monetary_value_col is not None, customer_id_col)


def calibration_and_holdout(
    transactions: pd.DataFrame,
    *,
    calibration_period_end: str | pd.Timestamp,
    observation_period_end: str | pd.Timestamp | None = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str | None = "amount",
    time_unit: str | float = "W",
) -> pd.DataFrame:
    """The calibration-period summary plus what the same customers did in the holdout period.

    Customers whose first purchase falls after ``calibration_period_end`` are left out (the models cannot score
    them). Columns: ``frequency_cal, recency_cal, T_cal`` (and ``monetary_value_cal``) as in :func:`rfm_summary`
    at the calibration end; ``frequency_holdout``, the number of distinct purchase days in
    (calibration end, observation end]; ``duration_holdout``, the holdout length in ``time_unit``; and, with
    amounts, ``monetary_value_holdout``, the mean amount of those purchase days (0 when there are none).
    """
    unit = days_per_unit(time_unit)
    days = _purchase_days(transactions, customer_id_col, datetime_col, monetary_value_col)
    cal_end = _day(calibration_period_end)
    obs_end = _day(observation_period_end) if observation_period_end is not None else days["day"].max()
    if obs_end <= cal_end:
        raise QueryError(f"observation_period_end ({obs_end.date()}) must be after calibration_period_end ({cal_end.date()})")
    with_money = monetary_value_col is not None
    cal = _summarise(days[days["day"] <= cal_end], cal_end, unit, with_money, customer_id_col)
    cal.columns = [f"{name}_cal" for name in cal.columns]

    holdout = days[(days["day"] > cal_end) & (days["day"] <= obs_end)]
    grouped = holdout.groupby("customer_id", sort=False)
    out = cal.copy()
    out["frequency_holdout"] = grouped.size().reindex(cal.index, fill_value=0).astype(float)
    if with_money:
        out["monetary_value_holdout"] = grouped["amount"].mean().reindex(cal.index, fill_value=0.0)
    out["duration_holdout"] = (obs_end - cal_end) / pd.Timedelta(days=unit)
    return out


def _purchase_days(transactions: pd.DataFrame, customer_id_col: str, datetime_col: str, monetary_value_col: str | None) -> pd.DataFrame:
    """One row per (customer, purchase day) with the day's summed amount: same-day purchases collapsed."""
    wanted = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    missing = [c for c in wanted if c not in transactions.columns]
    if missing:
        raise QueryError(f"transactions lack column(s) {', '.join(map(repr, missing))}; columns are {', '.join(map(str, transactions.columns))}")
    try:
        stamps = pd.to_datetime(transactions[datetime_col])
    except (ValueError, TypeError):  # strings in several layouts: parse each on its own
        try:
            stamps = pd.to_datetime(transactions[datetime_col], format="mixed")
        except (ValueError, TypeError) as exc:
            raise QueryError(f"column {datetime_col!r} has values that are not dates: {exc}") from None
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    if stamps.isna().any():
        raise QueryError(f"column {datetime_col!r} has {int(stamps.isna().sum())} missing timestamp(s)")
    frame = pd.DataFrame(
        {
            "customer_id": transactions[customer_id_col].to_numpy(),
            "day": stamps.dt.normalize().to_numpy(),
            "amount": pd.to_numeric(transactions[monetary_value_col]).to_numpy(dtype=float) if monetary_value_col else 0.0,
        }
    )
    return frame.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()


def _summarise(days: pd.DataFrame, end: pd.Timestamp, unit_days: float, with_money: bool, index_name: str) -> pd.DataFrame:
    """Frequency, recency, T (and monetary value) from purchase days sorted by customer then day."""
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].min()
    unit = pd.Timedelta(days=unit_days)
    out = pd.DataFrame(
        {
            "frequency": (grouped.size() - 1).astype(float),
            "recency": (grouped["day"].max() - first) / unit,
            "T": (end - first) / unit,
        }
    )
    if with_money:
        repeat_total = grouped["amount"].sum() - grouped["amount"].first()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_repeat = repeat_total / out["frequency"]
        out["monetary_value"] = mean_repeat.where(out["frequency"] > 0, 0.0)
    out.index.name = index_name
    return out


def _day(value: str | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()
