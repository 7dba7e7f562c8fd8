"""predict_customer_value: the order-based CLV API the snapshot, the engine and the MCP tool share.

Values are checked against the CLV functions called directly on the hand-built RFM summary of
tests/clv/order_fixture.py (not against numbers copied from the code under test), plus closed forms.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv import beta_geo, modified_beta_geo, pareto_nbd
from lifecycle.clv.beta_geo import BetaGeoModel, BetaGeoParams
from lifecycle.clv.customer_value import (
    CLV_COLUMNS,
    RETRY_LOG_PENALIZER,
    ClvTable,
    FitReport,
    SegmentValue,
    _lapsed_warning,
    fit_transaction_model,
    order_summary,
    predict_customer_value,
    rank_customer_value,
    summarize_customer_value,
)
from lifecycle.clv.holdout_check import holdout_check
from lifecycle.clv.lifetime_value import customer_lifetime_value
from lifecycle.clv.segments import rfm_segments
from lifecycle.errors import ModelFitError, QueryError
from tests.builders import make_dataset
from tests.clv.order_fixture import AS_OF, customer_rows, hand_summary, observed_mean_spend, tables

CDNOW_BG = BetaGeoModel(BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), log_likelihood=-9582.4, n=2357, converged=True)


def test_p_alive_is_one_without_repeat_purchases() -> None:
    """BG/NBD: a customer can only drop out right after a repeat purchase, so x = 0 gives P(alive) = 1 for any T."""
    assert np.array_equal(CDNOW_BG.p_alive(np.zeros(3), np.zeros(3), np.array([1.0, 30.0, 500.0])), np.ones(3))


def test_p_alive_matches_the_closed_form_by_hand() -> None:
    """FHL 2008 note 021 at the published CDNOW parameters, x = 2, t_x = 30.43, T = 38.86:
    a/(b+x-1) = 0.793/3.426 = 0.231465; (alpha+T)/(alpha+t_x) = 43.274/34.844 = 1.241935;
    ^ (r+x = 2.243) = exp(2.243 x 0.216672) = 1.625892; P = 1 / (1 + 0.231465 x 1.625892) = 0.72657."""
    assert CDNOW_BG.p_alive(2, 30.43, 38.86) == pytest.approx(0.72657, abs=1e-4)


def test_recent_repeat_buyer_is_more_alive_than_an_identical_long_inactive_one() -> None:
    """Same x = 3 and T = 40 at the CDNOW parameters; last purchase at week 39 vs week 5. a/(b+2) = 0.179168;
    recent: (44.414/43.414)^3.243 = 1.07665 -> P = 1/(1 + 0.19290) = 0.8383;
    inactive: (44.414/9.414)^3.243 = exp(3.243 x 1.551390) = 153.12 -> P = 1/(1 + 27.434) = 0.0352."""
    recent, inactive = CDNOW_BG.p_alive([3, 3], [39.0, 5.0], [40.0, 40.0])
    assert recent == pytest.approx(0.8383, abs=1e-3)
    assert inactive == pytest.approx(0.0352, abs=1e-3)
    assert recent > inactive


@pytest.fixture()
def dataset(tmp_path: Path):
    return make_dataset(tmp_path, tables(), as_of=AS_OF)


def test_order_summary_equals_the_hand_built_summary(dataset) -> None:
    """Refunded/cancelled orders, same-day orders and orders after as_of do not count; T runs to as_of."""
    summary = order_summary(dataset)
    pd.testing.assert_frame_equal(summary[["frequency", "recency", "T"]], hand_summary(), check_index_type=False,
                                  check_names=False)


def test_predictions_equal_the_clv_functions_on_the_hand_built_summary(dataset) -> None:
    """8 repeat buyers < 20: no Gamma-Gamma, spend is the observed mean 5 (x + 2). 10 %/year = (1.1)^(1/12) - 1 a month."""
    table = predict_customer_value(dataset, horizon_months=12, discount_rate_annual=0.1)
    hand = hand_summary()
    x, t_x, big_t = hand["frequency"], hand["recency"], hand["T"]
    model = beta_geo.fit(x, t_x, big_t)
    spend = observed_mean_spend(x).to_numpy()
    frame = table.frame
    assert list(frame.columns) == list(CLV_COLUMNS)
    assert list(frame.index) == list(hand.index)
    np.testing.assert_allclose(frame["p_alive"], model.p_alive(x, t_x, big_t), rtol=1e-9)
    np.testing.assert_allclose(frame["expected_purchases"], model.conditional_expected_purchases(12 * 4.345, x, t_x, big_t), rtol=1e-9)
    np.testing.assert_allclose(frame["expected_avg_value"], spend, rtol=1e-12)
    expected_clv = customer_lifetime_value(model, x, t_x, big_t, spend, months=12, monthly_discount_rate=1.1 ** (1 / 12) - 1)
    np.testing.assert_allclose(frame["clv"], expected_clv, rtol=1e-9)
    assert list(frame["rfm_segment"]) == list(rfm_segments(hand)["segment"])
    assert table.spend is None and "only 8 repeat buyers" in (table.spend_note or "")
    assert table.transactions.converged and not table.transactions.penalized and table.transactions.note is None
    assert table.transactions.params == pytest.approx(vars(model.params))
    assert table.monthly_discount_rate == pytest.approx(0.0079741, abs=1e-7)


def test_no_look_ahead_orders_after_as_of_change_nothing(tmp_path: Path) -> None:
    with_future = predict_customer_value(make_dataset(tmp_path / "a", tables(with_future=True), as_of=AS_OF))
    without = predict_customer_value(make_dataset(tmp_path / "b", tables(with_future=False), as_of=AS_OF))
    pd.testing.assert_frame_equal(with_future.frame, without.frame)
    assert with_future.transactions == without.transactions


def test_predictions_are_deterministic(dataset) -> None:
    first, second = predict_customer_value(dataset, model="pareto_nbd"), predict_customer_value(dataset, model="pareto_nbd")
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert first.transactions == second.transactions


def test_pareto_nbd_is_available_and_bounded(dataset) -> None:
    table = predict_customer_value(dataset, model="pareto_nbd")
    assert table.transactions.model == "pareto_nbd" and set(table.transactions.params) == {"r", "alpha", "s", "beta"}
    assert ((table.frame["p_alive"] > 0) & (table.frame["p_alive"] <= 1)).all()
    assert (table.frame["clv"] >= 0).all()


def test_a_failed_unpenalised_fit_is_refitted_with_a_penalty_and_says_so() -> None:
    """500 one-off buyers: the BG/NBD likelihood is a flat ridge (see test_fit_errors); the refit reports it."""
    zeros = np.zeros(500)
    with pytest.raises(ModelFitError):
        beta_geo.fit(zeros, zeros, np.linspace(10, 40, 500))
    model, report = fit_transaction_model(zeros, zeros, np.linspace(10, 40, 500), "bg_nbd")
    assert report.penalized and report.log_penalizer == RETRY_LOG_PENALIZER and report.converged
    assert report.note is not None and "flat along a ridge" in report.note and "MAP" in report.note
    assert model.log_penalizer == RETRY_LOG_PENALIZER


def test_an_explicit_log_penalizer_skips_the_unpenalised_attempt() -> None:
    hand = hand_summary()
    model, report = fit_transaction_model(hand["frequency"], hand["recency"], hand["T"], "pareto_nbd", log_penalizer=0.01)
    direct = pareto_nbd.fit(hand["frequency"], hand["recency"], hand["T"], log_penalizer=0.01)
    assert report.penalized and report.note is None and model.params == direct.params


def test_too_few_customers_is_a_fit_error(tmp_path: Path) -> None:
    rows = [{"order_id": "o1", "customer_id": "c01", "ordered_at": "2024-01-01", "amount": 5.0}]
    ds = make_dataset(tmp_path, {"customers": customer_rows(), "orders": rows}, as_of=AS_OF)
    with pytest.raises(ModelFitError, match="too few customers with orders"):
        predict_customer_value(ds)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({"model": "weibull"}, "unknown CLV model", id="unknown-model"),
        pytest.param({"horizon_months": 0}, "horizon_months", id="zero-horizon"),
        pytest.param({"discount_rate_annual": -1.5}, "discount_rate_annual", id="bad-discount"),
    ],
)
def test_bad_arguments_are_query_errors(dataset, kwargs: dict, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment):
        predict_customer_value(dataset, **kwargs)


def test_no_orders_is_a_query_error(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, {"customers": customer_rows()}, as_of=AS_OF)
    with pytest.raises(QueryError, match="no kept orders"):
        predict_customer_value(ds)


def _hand_table() -> ClvTable:
    """Five customers written out by hand (only the columns ranking and summary read carry meaning)."""
    frame = pd.DataFrame({
        "p_alive": [1.0, 0.2, 0.6, 0.2, 0.9],
        "clv": [10.0, 30.0, 5.0, 40.0, 5.0],
        "rfm_segment": pd.array(["champions", "lost", "new", "lost", None], dtype="string"),
    }, index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"))
    for column in CLV_COLUMNS:
        if column not in frame:
            frame[column] = 0.0
    fit = FitReport("bg_nbd", {}, 0.0, 5, True, False, 0.0, 0.0)
    return ClvTable(frame[list(CLV_COLUMNS)], date(2024, 7, 1), 12, 0.1, 0.008, "W", fit, None)


def test_ranking_by_clv_is_highest_first_with_ties_by_customer_id() -> None:
    """clv 40 (d), 30 (b), 10 (a), then c and e tie at 5: c before e."""
    assert list(rank_customer_value(_hand_table(), "clv").index) == ["d", "b", "a", "c", "e"]


def test_ranking_by_p_alive_is_lowest_first_with_the_more_valuable_first_among_equals() -> None:
    """p_alive 0.2 (b, d: d has the higher clv, 40 > 30), 0.6 (c), 0.9 (e), 1.0 (a)."""
    assert list(rank_customer_value(_hand_table(), "p_alive").index) == ["d", "b", "c", "e", "a"]


def test_an_unknown_ranking_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="unknown CLV order"):
        rank_customer_value(_hand_table(), "recency")  # type: ignore[arg-type]


def test_summary_by_hand() -> None:
    """Sorted p_alive 0.2, 0.2, 0.6, 0.9, 1.0; type-7 quantile q sits at position 4q: p10 at 0.4 → 0.2, p25 at 1
    → 0.2, p50 at 2 → 0.6, p75 at 3 → 0.9, p90 at 3.6 → 0.9 + 0.6 × 0.1 = 0.96. Below 0.5: b and d. Total CLV 90.
    Segments in rule order: champions (a: 10), new (c: 5), lost (b, d: 70); e has no segment."""
    summary = summarize_customer_value(_hand_table())
    assert (summary.customers, summary.total_clv, summary.likely_lapsed) == (5, 90.0, 2)
    assert summary.p_alive_quantiles == pytest.approx({"p10": 0.2, "p25": 0.2, "p50": 0.6, "p75": 0.9, "p90": 0.96})
    assert summary.segments == (SegmentValue("champions", 1, 10.0), SegmentValue("new", 1, 5.0), SegmentValue("lost", 2, 70.0))


# --- which model, and saying why --------------------------------------------------------------------------------

def test_too_little_history_for_the_check_falls_back_to_bg_nbd_and_says_why(dataset) -> None:
    """12 ordering customers: the holdout check needs 50, so auto is the BG/NBD and the choice names the reason."""
    table = predict_customer_value(dataset)
    assert table.transactions.model == "bg_nbd" and table.check is None
    assert table.check_note is not None and "only 12 customers bought by" in table.check_note
    assert table.model_choice.startswith("BG/NBD by default: the holdout check cannot choose (cannot run the holdout check")
    assert set(table.frame["model"]) == {"bg_nbd"}


def test_one_time_buyers_under_bg_nbd_carry_the_assumption_and_the_mbg_nbd_view(dataset) -> None:
    """c03, c06, c09, c12 never came back: P(alive) = 1 under the BG/NBD, with the note and the MBG/NBD's P(alive) for
    the same customer (the MBG/NBD fitted on the hand-built summary, called directly)."""
    table = predict_customer_value(dataset, model="bg_nbd")
    hand = hand_summary()
    mbg = modified_beta_geo.fit(hand["frequency"], hand["recency"], hand["T"])
    for customer in ("c03", "c06", "c09", "c12"):
        row = table.frame.loc[customer]
        other = float(mbg.p_alive(0, 0, hand.loc[customer, "T"]))
        assert row["p_alive"] == 1.0 and f"MBG/NBD P(alive) {other:.2f}" in row["p_alive_note"]
        assert "cannot have dropped out" in row["p_alive_note"]
    assert table.frame.loc[table.frame["frequency"] > 0, "p_alive_note"].isna().all()


def test_under_mbg_nbd_one_time_buyers_can_have_lapsed_and_need_no_note(dataset) -> None:
    table = predict_customer_value(dataset, model="mbg_nbd")
    once = table.frame[table.frame["frequency"] == 0]
    assert table.transactions.model == "mbg_nbd" and (once["p_alive"] < 1).all()
    assert table.frame["p_alive_note"].isna().all()
    assert table.model_choice == "MBG/NBD as requested"
    assert {r.model for r in table.other_fits} <= {"bg_nbd", "pareto_nbd"}


def test_each_fitted_models_likely_lapsed_share_is_reported(dataset) -> None:
    table = predict_customer_value(dataset, model="bg_nbd")
    hand = hand_summary()
    bg = beta_geo.fit(hand["frequency"], hand["recency"], hand["T"])
    assert table.likely_lapsed_share is not None
    assert table.likely_lapsed_share["bg_nbd"] == pytest.approx(float(np.mean(bg.p_alive(hand["frequency"], hand["recency"], hand["T"]) < 0.5)))


def test_a_strong_disagreement_on_who_has_lapsed_is_a_warning_and_a_weak_one_is_not() -> None:
    """Shares 16.6 % and 75 % (the issue's full CDNOW log) differ by 58 points >= 20; 30 % and 45 % by 15 < 20."""
    (warning,) = _lapsed_warning({"bg_nbd": 0.166, "pareto_nbd": 0.75}, None)
    assert "BG/NBD 16.6%, Pareto/NBD 75.0%" in warning and "counts every one-time buyer alive" in warning
    assert "No holdout check could arbitrate" in warning
    assert _lapsed_warning({"mbg_nbd": 0.30, "pareto_nbd": 0.45}, None) == ()


@pytest.fixture(scope="module")
def cdnow_dataset(tmp_path_factory: pytest.TempPathFactory, cdnow_transactions: pd.DataFrame):
    """CDNOW_sample.txt as orders (one per transaction row), seen on 1998-06-30, the end of the published holdout."""
    log = cdnow_transactions
    customers = [{"customer_id": f"C{int(i):04d}", "signup_date": str(day.date())}
                 for i, day in log.groupby("customer_id")["timestamp"].min().items()]
    orders = [{"order_id": f"O{k}", "customer_id": f"C{int(row.customer_id):04d}", "ordered_at": str(row.timestamp.date()),
               "amount": float(row.amount)} for k, row in enumerate(log.itertuples())]
    return make_dataset(tmp_path_factory.mktemp("cdnow"), {"customers": customers, "orders": orders}, as_of="1998-06-30")


def test_auto_takes_the_model_the_published_split_prefers(cdnow_dataset, cdnow_transactions: pd.DataFrame) -> None:
    """Calibration to 1997-09-30 (the published split; see test_holdout_check): the check prefers the BG/NBD, so auto
    fits it on the full history to 1998-06-30 and quotes the check's reason."""
    table = predict_customer_value(cdnow_dataset, calibration_end="1997-09-30")
    direct = holdout_check(cdnow_transactions, calibration_end="1997-09-30", observation_end="1998-06-30")
    assert table.check is not None and table.check.chosen == direct.chosen == "bg_nbd"
    assert table.transactions.model == "bg_nbd" and table.model_choice == direct.reason
    assert table.transactions.n == 2357 and table.frame["T"].max() == pytest.approx(545 / 7)  # 1997-01-01 to 1998-06-30


def test_a_calibration_end_that_leaves_no_holdout_is_refused(cdnow_dataset) -> None:
    with pytest.raises(QueryError, match="cannot run the holdout check"):
        predict_customer_value(cdnow_dataset, calibration_end="1998-06-25")
