"""The snapshot's order-based CLV columns: p_alive, expected_clv, rfm_segment (tests/clv/order_fixture.py).

Expected values come from the CLV functions called directly on the fixture's hand-built RFM summary, not from
the snapshot code: BG/NBD fitted on (frequency, recency, T), spend = the observed mean 5 (x + 2) (8 repeat
buyers < 20, so no Gamma-Gamma), 12 months at (1.1)^(1/12) - 1 a month.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv import beta_geo
from lifecycle.clv.lifetime_value import customer_lifetime_value
from lifecycle.clv.segments import rfm_segments
from lifecycle.snapshot import build_snapshot
from tests.builders import make_dataset
from tests.clv.order_fixture import AS_OF, customer_rows, hand_summary, observed_mean_spend, tables

CLV = ["p_alive", "expected_clv", "rfm_segment"]


@pytest.fixture()
def snapshot(tmp_path: Path) -> pd.DataFrame:
    return build_snapshot(make_dataset(tmp_path, tables(), as_of=AS_OF)).set_index("customer_id")


def test_clv_columns_equal_the_models_on_the_hand_built_summary(snapshot: pd.DataFrame) -> None:
    hand = hand_summary()
    x, t_x, big_t = hand["frequency"], hand["recency"], hand["T"]
    model = beta_geo.fit(x, t_x, big_t)
    clv = customer_lifetime_value(model, x, t_x, big_t, observed_mean_spend(x).to_numpy(), months=12,
                                  monthly_discount_rate=1.1 ** (1 / 12) - 1)
    rows = snapshot.loc[list(hand.index)]
    np.testing.assert_allclose(rows["p_alive"], model.p_alive(x, t_x, big_t), rtol=1e-9)
    np.testing.assert_allclose(rows["expected_clv"], clv, rtol=1e-9)
    assert list(rows["rfm_segment"]) == list(rfm_segments(hand)["segment"])
    assert snapshot["p_alive"].dtype == "float64" and snapshot["rfm_segment"].dtype == "string"


def test_p_alive_is_one_for_one_off_buyers(snapshot: pd.DataFrame) -> None:
    """BG/NBD closed form: no repeat purchase, no chance to have dropped out."""
    assert (snapshot.loc[["c03", "c06", "c09", "c12"], "p_alive"] == 1.0).all()


def test_customer_without_orders_has_missing_clv_columns(snapshot: pd.DataFrame) -> None:
    """c13's only order is after as_of: no kept order to date, so unknown, not zero."""
    row = snapshot.loc["c13"]
    assert pd.isna(row["p_alive"]) and pd.isna(row["expected_clv"]) and pd.isna(row["rfm_segment"])


def test_orders_after_as_of_change_nothing(tmp_path: Path) -> None:
    with_future = build_snapshot(make_dataset(tmp_path / "a", tables(with_future=True), as_of=AS_OF))
    without = build_snapshot(make_dataset(tmp_path / "b", tables(with_future=False), as_of=AS_OF))
    pd.testing.assert_frame_equal(with_future[["customer_id", *CLV]], without[["customer_id", *CLV]])


def test_clv_columns_are_deterministic(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, tables(), as_of=AS_OF)
    pd.testing.assert_frame_equal(build_snapshot(ds)[CLV], build_snapshot(ds)[CLV])


def test_partial_snapshot_with_clv_columns_equals_the_full_one(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, tables(), as_of=AS_OF)
    part = build_snapshot(ds, CLV)
    assert "events_30d" not in part.columns
    pd.testing.assert_frame_equal(part[["customer_id", *CLV]], build_snapshot(ds)[["customer_id", *CLV]])


def test_without_an_orders_table_the_clv_columns_are_missing(tmp_path: Path) -> None:
    snap = build_snapshot(make_dataset(tmp_path, {"customers": customer_rows()}, as_of=AS_OF))
    assert snap["p_alive"].isna().all() and snap["expected_clv"].isna().all() and snap["rfm_segment"].isna().all()


def test_too_few_ordering_customers_leave_the_model_columns_missing_but_keep_segments(tmp_path: Path) -> None:
    """Two ordering customers cannot fit a model; RFM segments need none. Score = 1 + floor(4 x share strictly
    worse): c01 bought twice, last on Feb 1 -> F = 1 + floor(4 x 1/2) = 3, R = 1 (c02 is more recent): at_risk;
    c02 bought once on Mar 1 -> F = 1, R = 3: promising."""
    rows = [{"order_id": "o1", "customer_id": "c01", "ordered_at": "2024-01-01", "amount": 5.0},
            {"order_id": "o2", "customer_id": "c01", "ordered_at": "2024-02-01", "amount": 5.0},
            {"order_id": "o3", "customer_id": "c02", "ordered_at": "2024-03-01", "amount": 5.0}]
    snap = build_snapshot(make_dataset(tmp_path, {"customers": customer_rows(), "orders": rows}, as_of=AS_OF))
    snap = snap.set_index("customer_id")
    assert snap["p_alive"].isna().all() and snap["expected_clv"].isna().all()
    assert list(snap.loc[["c01", "c02"], "rfm_segment"]) == ["at_risk", "promising"] and pd.isna(snap.loc["c03", "rfm_segment"])


def test_ecommerce_profile_scores_order_customers_from_p_alive_and_recency(snapshot: pd.DataFrame) -> None:
    """c04 (13 orders, last a week before as_of, P(alive) high) is a green champion; a customer with P(alive) <= 0.2
    is churning; every signal of the profile reads a snapshot column."""
    from lifecycle.health import score_health
    from lifecycle.health.profile import load_health_profile

    profile = load_health_profile("ecommerce")
    columns = {s.column for c in profile.components for s in c.signals}
    assert {"p_alive", "days_since_last_order", "rfm_segment"} <= columns
    assert columns <= set(snapshot.reset_index().columns)
    health = score_health(snapshot.reset_index(), profile).frame
    assert (health.loc["c04", "band"], health.loc["c04", "segment"]) == ("green", "champions")
    gone = snapshot.index[(snapshot["p_alive"] <= 0.2).to_numpy()]
    assert len(gone) > 0 and (health.loc[gone, "segment"] == "churning").all()


def test_at_risk_list_ranks_order_customers_by_risk_times_expected_clv(snapshot: pd.DataFrame) -> None:
    """value_column="expected_clv": priority = risk x expected CLV (a customer without orders counts 0)."""
    from lifecycle.health import score_health
    from lifecycle.health.profile import load_health_profile
    from lifecycle.health.risk import list_at_risk

    frame = snapshot.reset_index()
    page = list_at_risk(frame, score_health(frame, load_health_profile("ecommerce")), value_column="expected_clv")
    assert page.value_column == "expected_clv" and page.items
    for item in page.items:
        clv = snapshot.loc[item.customer_id, "expected_clv"]
        assert item.value == pytest.approx(0.0 if pd.isna(clv) else clv)
        assert item.priority == pytest.approx(item.risk * item.value)
    priorities = [i.priority for i in page.items]
    assert priorities == sorted(priorities, reverse=True)
