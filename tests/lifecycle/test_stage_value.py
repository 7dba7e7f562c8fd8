"""Customers and MRR per lifecycle stage on as_of, and per stage × segment.

Fixture (the movers fixture, as_of 2025-03-31): a (SMB) pays 100 + 50, e (Enterprise) 100, f (Enterprise, signed up
2025-03-10) 80; b, c (SMB) and d (Enterprise) ended their only subscription before as_of, so they are churned.
By hand: 6 customers; churned 3 with MRR 0; MRR 330 in all (SMB 150, Enterprise 180).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.filters import Dimension
from lifecycle.stages.value import stage_value
from tests.lifecycle.metrics.stores import open_at
from tests.lifecycle.metrics.test_movers import store  # noqa: F401  (the module fixture)


def test_value_per_stage_adds_up_and_churned_hold_no_mrr(store: Path) -> None:  # noqa: F811
    table = stage_value(open_at(store, "2025-03-31"))
    assert table["customers"].sum() == 6 and table["mrr"].sum() == pytest.approx(330.0)
    churned = table[table["stage"] == "churned"].iloc[0]
    assert (churned["customers"], churned["mrr"]) == (3, 0.0)
    assert table["mrr_share"].sum() == pytest.approx(1.0)
    paying = table[table["paying_customers"] > 0]
    assert (paying["arpa"] == paying["mrr"] / paying["paying_customers"]).all()
    assert list(table["stage"])[-1] == "churned"


def test_value_per_stage_and_segment(store: Path) -> None:  # noqa: F811
    table = stage_value(open_at(store, "2025-03-31"), by=Dimension.SEGMENT)
    by_segment = table.groupby("segment")["mrr"].sum()
    assert (by_segment["SMB"], by_segment["Enterprise"]) == (150.0, 180.0)
    assert table.groupby("segment")["customers"].sum().to_dict() == {"Enterprise": 3, "SMB": 3}


def test_other_values_are_summed_per_stage(store: Path) -> None:  # noqa: F811
    import pandas as pd

    clv = pd.Series({"a": 1000.0, "e": 500.0}, dtype="float64")
    table = stage_value(open_at(store, "2025-03-31"), values={"clv": clv})
    assert table["clv"].sum() == 1500.0 and table["clv_customers"].sum() == 2


def test_stage_filter_keeps_the_customers_in_that_stage_on_as_of(store: Path) -> None:  # noqa: F811
    """Churned on 2025-03-31: b, c, d. With stage=churned every table holds only their rows; the stage of the others
    decides the complementary filter, and MRR on as_of of the churned is 0 (their subscriptions have ended)."""
    from lifecycle.filters import Filters
    from lifecycle.metrics.registry import compute_metric
    from lifecycle.snapshot import snapshot_of

    churned = open_at(store, "2025-03-31", filters=Filters(stage=("churned",)))
    assert sorted(churned.customers()["customer_id"]) == ["b", "c", "d"]
    assert set(churned.table("subscriptions")["customer_id"]) == {"b", "c", "d"}
    assert sorted(snapshot_of(churned)["customer_id"]) == ["b", "c", "d"]
    assert compute_metric(churned, "mrr").value == 0.0
    others = stage_value(open_at(store, "2025-03-31"))
    live = [s for s in others["stage"] if s != "churned"]
    alive = open_at(store, "2025-03-31", filters=Filters(stage=tuple(live)))
    assert sorted(alive.customers()["customer_id"]) == ["a", "e", "f"]
    assert compute_metric(alive, "mrr").value == pytest.approx(330.0)
    assert Filters(stage=("adoption",)).to_dict() == {"stage": ["adoption"]}


def test_group_totals_count_and_sum_each_key_combination_in_order_of_first_appearance() -> None:
    """By hand: rows (adoption, Pro, 10), (churned, none, 0), (adoption, Pro, 5.5), (adoption, Starter, 0),
    (churned, none, 0) → groups in first-appearance order: adoption×Pro 2 customers, 2 paying, 15.5;
    churned×(missing plan) 2, 0, 0.0; adoption×Starter 1, 0, 0.0. A missing key is its own group."""
    import numpy as np
    import pandas as pd

    from lifecycle.stages.value import _group_totals

    frame = pd.DataFrame({"stage": ["adoption", "churned", "adoption", "adoption", "churned"],
                          "plan": pd.array(["Pro", None, "Pro", "Starter", None], dtype="string"),
                          "mrr": [10.0, 0.0, 5.5, 0.0, 0.0]})
    frame["paying"] = frame["mrr"] > 0
    out = _group_totals(frame, ["stage", "plan"])
    assert out["stage"].tolist() == ["adoption", "churned", "adoption"]
    assert [None if pd.isna(p) else p for p in out["plan"]] == ["Pro", None, "Starter"]
    assert out["customers"].tolist() == [2, 2, 1] and out["paying_customers"].tolist() == [2, 0, 0]
    assert np.array_equal(out["mrr"].to_numpy(), [15.5, 0.0, 0.0])
    single = _group_totals(frame, ["stage"])
    assert single["stage"].tolist() == ["adoption", "churned"] and single["customers"].tolist() == [3, 2]
