"""predict_subscription_value: each current subscriber's renewal probability and residual value under the sBG.

tests/clv/subscription_fixture.py: on 2024-06-30 A1 (signed up January), B1 (March) and C1 (June) are paying 10 a
month; A2, A3, A4 and B2 have ended. Renewals = calendar months from the signup month to June: A1 5, B1 3, C1 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv import shifted_beta_geometric as sbg
from lifecycle.clv.retention_forecast import subscription_retention_forecast
from lifecycle.clv.subscription_value import predict_subscription_value, rank_subscription_value
from lifecycle.errors import QueryError
from tests.builders import make_dataset
from tests.clv.order_fixture import tables as order_tables
from tests.clv.subscription_fixture import AS_OF, subscription_tables


@pytest.fixture()
def dataset(tmp_path: Path):
    return make_dataset(tmp_path, subscription_tables(), as_of=AS_OF, window=("2023-07-01", AS_OF))


def test_current_subscribers_with_their_months_since_signup_and_mrr(dataset) -> None:
    frame = predict_subscription_value(dataset).frame
    assert frame.index.tolist() == ["A1", "B1", "C1"]
    assert frame["renewals"].tolist() == [5, 3, 0]
    assert frame["mrr"].tolist() == [10.0, 10.0, 10.0]


def test_rows_are_the_library_formulas_at_the_cohort_fit(dataset) -> None:
    """p_renew = (beta+m)/(alpha+beta+m); residual_months = the horizon-truncated DERL at the monthly rate."""
    table = predict_subscription_value(dataset, horizon_months=6, discount_rate_annual=0.1)
    forecast = subscription_retention_forecast(dataset, 6, 0.1)
    assert table.forecast == forecast
    alpha, beta = forecast.fit.params["alpha"], forecast.fit.params["beta"]
    m = np.array([5, 3, 0])
    np.testing.assert_allclose(table.frame["p_renew"], (beta + m) / (alpha + beta + m), rtol=1e-12)
    months = sbg.expected_residual_lifetime(sbg.ShiftedBetaGeometricParams(alpha, beta), m, forecast.monthly_discount_rate, 6)
    np.testing.assert_allclose(table.frame["residual_months"], months, rtol=1e-12)
    np.testing.assert_allclose(table.frame["residual_value"], 10 * months, rtol=1e-12)
    assert table.total_residual_value == pytest.approx(10 * months.sum(), rel=1e-12) and table.total_mrr == 30.0


def test_one_month_horizon_is_the_next_payment_probability(dataset) -> None:
    frame = predict_subscription_value(dataset, horizon_months=1).frame
    np.testing.assert_allclose(frame["residual_months"], frame["p_renew"], rtol=1e-12)


def test_longer_tenure_ranks_first_by_value_and_last_by_risk(dataset) -> None:
    """Equal MRR: survivors of more months have lower churn odds (sorting effect), so A1 > B1 > C1 in value."""
    table = predict_subscription_value(dataset)
    assert rank_subscription_value(table, "clv").index.tolist() == ["A1", "B1", "C1"]
    assert rank_subscription_value(table, "p_alive").index.tolist() == ["C1", "B1", "A1"]
    with pytest.raises(QueryError, match="unknown subscriber order"):
        rank_subscription_value(table, "mrr")  # type: ignore[arg-type]


def test_order_only_data_is_a_query_error(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path, order_tables(), as_of="2024-06-30")
    with pytest.raises(QueryError, match="subscriptions"):
        predict_subscription_value(dataset)


def test_frame_columns_and_types(dataset) -> None:
    frame = predict_subscription_value(dataset).frame
    assert list(frame.columns) == ["renewals", "mrr", "p_renew", "residual_months", "residual_value"]
    assert pd.api.types.is_integer_dtype(frame["renewals"])


@pytest.mark.parametrize("whole_first", [False, True])
def test_a_filtered_scopes_subscribers_are_its_own_whether_or_not_the_whole_bases_are_at_hand(
        tmp_path: Path, whole_first: bool) -> None:
    """Segment SMB = A1..A4 (fixture): of them only A1 pays on 2024-06-30 — renewals 5, MRR 10 — whether the scope
    reads its own customers or takes its rows of the whole base's subscribers, memoised by an earlier whole call."""
    from lifecycle.clv.subscription_value import current_subscribers
    from lifecycle.filters import Filters
    from lifecycle.memo import MEMO
    from lifecycle.scope import Scope

    tables = subscription_tables()
    tables["customers"] = [{**row, "segment": "SMB" if str(row["customer_id"]).startswith("A") else "Ent"}
                           for row in tables["customers"]]
    whole = make_dataset(tmp_path, tables, as_of=AS_OF, window=("2023-07-01", AS_OF))
    MEMO.clear()
    if whole_first:
        assert current_subscribers(whole).index.tolist() == ["A1", "B1", "C1"]
    smb = current_subscribers(whole.rescoped(Scope(whole.as_of, whole.window, Filters(segment=("SMB",)))))
    assert smb.index.tolist() == ["A1"]
    assert smb["renewals"].tolist() == [5] and smb["mrr"].tolist() == [10.0]
    MEMO.clear()


@pytest.mark.parametrize("ids", [["a", "b", "c", "d"], ["d", "c", "b", "a"]])
def test_ties_rank_by_customer_id_whatever_the_frames_row_order(dataset, ids: list[str]) -> None:
    """Hand-made rows: b and d tie on value (5), a and c on value (9) and p_renew (0.5). clv: a, c (9; by id), b, d (5);
    p_alive: b (0.2), then the 0.5s by value 9 first — a, c — then d (0.5, 5). Rows given in id order or reversed."""
    from lifecycle.clv.subscription_value import SubscriptionValueTable

    values = {"a": (0.5, 9.0), "b": (0.2, 5.0), "c": (0.5, 9.0), "d": (0.5, 5.0)}
    frame = pd.DataFrame({"renewals": [1] * 4, "mrr": [1.0] * 4, "p_renew": [values[i][0] for i in ids],
                          "residual_months": [1.0] * 4, "residual_value": [values[i][1] for i in ids]},
                         index=pd.Index(pd.array(ids, dtype="string"), name="customer_id"))
    table = SubscriptionValueTable(forecast=predict_subscription_value(dataset).forecast, frame=frame)
    assert rank_subscription_value(table, "clv").index.tolist() == ["a", "c", "b", "d"]
    assert rank_subscription_value(table, "p_alive").index.tolist() == ["b", "a", "c", "d"]
