"""RFM summaries from transactions: the published CDNOW summary exactly, and small hand-computed logs."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv.rfm import calibration_and_holdout, rfm_summary
from lifecycle.errors import QueryError


def test_cdnow_summary_is_reproduced_exactly_for_all_2357_customers(cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame) -> None:
    """Same-day purchases collapsed, calibration ends 1997-09-30, weeks: equal to the file's two printed decimals."""
    mine = rfm_summary(cdnow_transactions, observation_period_end="1997-09-30", time_unit="W")
    assert len(mine) == len(cdnow_summary) == 2357
    assert list(mine.index) == list(cdnow_summary.index)
    for column in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(mine[column].round(2).to_numpy(), cdnow_summary[column].to_numpy(), err_msg=column)


def test_cdnow_calibration_split_matches_the_summary_and_counts_holdout_purchase_days(
    cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    """The calibration part equals the published summary; the holdout is 1997-10-01..1998-06-30 = 273 days = 39 weeks."""
    split = calibration_and_holdout(cdnow_transactions, calibration_period_end="1997-09-30", observation_period_end="1998-06-30")
    np.testing.assert_array_equal(split["frequency_cal"].to_numpy(), cdnow_summary["frequency"].to_numpy())
    np.testing.assert_array_equal(split["T_cal"].round(2).to_numpy(), cdnow_summary["T"].to_numpy())
    assert (split["duration_holdout"] == 39.0).all()
    # customer 1 (master id 00004) bought on 1997-12-12 only in the holdout
    assert split.loc[1, "frequency_holdout"] == 1
    assert split.loc[1, "monetary_value_holdout"] == pytest.approx(26.48)


def test_cdnow_repeat_spend_matches_published_zbar_to_the_cent(cdnow_transactions: pd.DataFrame, cdnow_summary_with_spend: pd.DataFrame) -> None:
    """The file rounds half-cents up (79.015 -> 79.02), so we round our exact means the same way before comparing."""
    mine = rfm_summary(cdnow_transactions, observation_period_end="1997-09-30")["monetary_value"]
    rounded = [float(Decimal(f"{v:.6f}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) for v in mine]
    np.testing.assert_array_equal(rounded, cdnow_summary_with_spend["zbar"].to_numpy())


def _log(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def test_same_day_purchases_collapse_and_first_purchase_is_excluded_from_monetary_value() -> None:
    """Customer a buys 10 on Jan 1, 5 + 7 on Jan 8 (one purchase day worth 12), 20 on Jan 15; end Jan 29.

    frequency = 3 days - 1 = 2; recency = 14 days = 2 weeks; T = 28 days = 4 weeks; monetary = (12 + 20) / 2 = 16.
    Customer b buys once on Jan 22: frequency 0, recency 0, T = 1 week, monetary 0.
    """
    log = _log([("a", "2024-01-01 09:00", 10), ("a", "2024-01-08 10:00", 5), ("a", "2024-01-08 18:30", 7),
                ("a", "2024-01-15", 20), ("b", "2024-01-22", 3), ("a", "2024-02-05", 99)])
    s = rfm_summary(log, observation_period_end="2024-01-29")
    assert s.loc["a"].to_dict() == {"frequency": 2.0, "recency": 2.0, "T": 4.0, "monetary_value": 16.0}
    assert s.loc["b"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 1.0, "monetary_value": 0.0}


def test_time_unit_days_and_months() -> None:
    """First Jan 1, last Jan 31, end Mar 1 2024: recency 30 days, T 60 days = 60 / (365.25/12) months."""
    log = _log([("a", "2024-01-01", 1), ("a", "2024-01-31", 1)])
    days = rfm_summary(log, observation_period_end="2024-03-01", time_unit="D")
    months = rfm_summary(log, observation_period_end="2024-03-01", time_unit="M")
    assert (days.loc["a", "recency"], days.loc["a", "T"]) == (30.0, 60.0)
    assert months.loc["a", "T"] == pytest.approx(60 / (365.25 / 12))


def test_holdout_excludes_customers_acquired_after_calibration() -> None:
    """b's first purchase is after the calibration end: the models cannot score b, so b is left out."""
    log = _log([("a", "2024-01-01", 1), ("a", "2024-02-10", 4), ("a", "2024-02-10", 6), ("b", "2024-02-05", 1)])
    split = calibration_and_holdout(log, calibration_period_end="2024-01-31", observation_period_end="2024-02-29", time_unit="D")
    assert list(split.index) == ["a"]
    assert split.loc["a", "frequency_holdout"] == 1  # two orders on one day
    assert split.loc["a", "monetary_value_holdout"] == 10
    assert split.loc["a", "duration_holdout"] == 29


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({"customer_id_col": "who"}, "lack column", id="missing-column"),
        pytest.param({"time_unit": "fortnight"}, "unknown time unit", id="bad-unit"),
    ],
)
def test_bad_arguments_raise_query_error(kwargs: dict, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment):
        rfm_summary(_log([("a", "2024-01-01", 1)]), **kwargs)


def test_observation_end_before_calibration_end_is_an_error() -> None:
    with pytest.raises(QueryError, match="must be after"):
        calibration_and_holdout(_log([("a", "2024-01-01", 1)]), calibration_period_end="2024-02-01", observation_period_end="2024-01-15")
