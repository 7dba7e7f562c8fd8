"""Every metric next to its value in the previous period of the same length, as known at that period's end.

Fixture: five customers a–e signed up 2024-01-01, each paying 100 from signup; b's subscription ends 2025-02-15,
c's 2025-03-10, d's 2025-03-20. Scope: as_of 2025-03-31, one month (March 2025); the previous period is February
2025 seen as of 2025-02-28 (c's and d's later end dates are not known then).
By hand, logo churn: March — paying on 03-01: a, c, d, e (4); not paying on 04-01: c, d → 2/4 = 0.5.
February — paying on 02-01: a–e (5); not paying on 03-01: b → 1/5 = 0.2. Change +0.3 (30 points), relative +150%.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lifecycle.metrics.change import metric_changes, previous_period
from lifecycle.scope import Window
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_store

ENDS = {"a": None, "b": "2025-02-15", "c": "2025-03-10", "d": "2025-03-20", "e": None}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    subs = [{"subscription_id": f"S{c}", "customer_id": c, "start_date": "2024-01-01", "end_date": end, "mrr": 100.0}
            for c, end in ENDS.items()]
    return quick_store(tmp_path_factory.mktemp("change") / "change.db",
                       {"customers": customers(*((c, "2024-01-01") for c in ENDS)), "subscriptions": subs})


def test_logo_churn_changes_against_the_previous_month(store: Path) -> None:
    march = open_at(store, "2025-03-31", window=("2025-03-01", "2025-03-31"))
    change = metric_changes(march, ["logo_churn_rate"])["logo_churn_rate"]
    assert (change.current.value, change.current.sample_size) == (0.5, 4)
    assert (change.previous.value, change.previous.sample_size) == (0.2, 5)
    assert change.change == pytest.approx(0.3) and change.relative_change == pytest.approx(1.5)


def test_previous_period_is_seen_as_of_its_own_end(store: Path) -> None:
    march = open_at(store, "2025-03-31", window=("2025-03-01", "2025-03-31"))
    before = previous_period(march)
    assert before.as_of == date(2025, 2, 28) and before.window == Window(date(2025, 2, 1), date(2025, 2, 28))
    subs = before.table("subscriptions").set_index("customer_id")
    assert subs.loc["c", "end_date"] is pd_nat() and str(subs.loc["b", "end_date"].date()) == "2025-02-15"


def test_no_previous_value_means_no_change_not_zero(store: Path) -> None:
    """Before 2024-01-01 nobody paid: the previous year's logo churn has no customers at risk → None, so no change."""
    first_year = open_at(store, "2024-12-31")
    change = metric_changes(first_year, ["logo_churn_rate"])["logo_churn_rate"]
    assert change.previous.value is None and change.change is None and change.relative_change is None


def pd_nat():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.NaT
