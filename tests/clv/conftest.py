"""Shared CDNOW and Online Retail fixtures for the CLV tests (reference data in ../shared/data, see its README)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CDNOW = SHARED_DATA / "cdnow"
ONLINE_RETAIL = SHARED_DATA / "online_retail" / "online_retail_invoices.csv"


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    """CDNOW_sample.txt as (customer_id, timestamp, amount); customer_id is the 1..2357 id of the summary files."""
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["master_id", "id", "date", "cds", "dollars"])
    return pd.DataFrame(
        {
            "customer_id": raw["id"],
            "timestamp": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            "amount": raw["dollars"],
        }
    )


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The published calibration summary: ID, frequency, recency, T (weeks, calibration ends 1997-09-30)."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv").set_index("ID")


@pytest.fixture(scope="session")
def cdnow_summary_with_spend() -> pd.DataFrame:
    """The published summary with zbar, the mean value of repeat purchases (rounded to cents)."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").set_index("ID")


@pytest.fixture(scope="session")
def online_retail_invoices() -> pd.DataFrame:
    return pd.read_csv(ONLINE_RETAIL)
