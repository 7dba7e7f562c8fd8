"""The ``predict_clv`` tool through the real in-process MCP client.

Golden values come from outside the code under test: the published CDNOW fits (Fader, Hardie & Lee 2005; see
../shared/data/README.md) on a store built from CDNOW_sample.txt with as_of = 1997-09-30 (the calibration end),
the published CDNOW RFM summary, and the hand-built shop of tests/clv/order_fixture.py. Everything else is an
invariant (ordering, paging, sums, bounds, determinism) or a wiring check against ``predict_customer_value``
called directly on the same dataset.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pandas as pd
import pytest
from mcp import Client

from lifecycle.clv.customer_value import predict_customer_value
from lifecycle.clv.holdout_check import order_holdout_check
from lifecycle.clv.shifted_beta_geometric import fit_cohorts
from lifecycle.clv.subscription_value import predict_subscription_value
from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Window
from server.app import build_server
from tests.builders import make_store
from tests.clv.order_fixture import AS_OF as SHOP_AS_OF
from tests.clv.order_fixture import HAND_SUMMARY, observed_mean_spend
from tests.clv.order_fixture import tables as shop_tables
from tests.clv.subscription_fixture import AS_OF as SUBSCRIPTIONS_AS_OF
from tests.clv.subscription_fixture import HAND_SURVIVORS, subscription_tables
from tests.conftest import SHARED_DATA
from tools.predict_clv import PredictClvResult, SubscriberOut
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

CDNOW = SHARED_DATA / "cdnow"
CALIBRATION_END = "1997-09-30"
CDNOW_CUSTOMERS = 2357
CDNOW_REPEAT_BUYERS = 946  # published: the Gamma-Gamma is fitted on the 946 repeat buyers
NO_ORDERS_ID = "C9999"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def cid(number: int) -> str:
    return f"C{number:04d}"


@pytest.fixture(scope="module")
def cdnow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt as a store: one customer per id (signup = first purchase day; country DE for even ids, US
    for odd), one order per transaction row (orders run to 1998-06, past the as_of used here), plus one customer
    without orders (C9999)."""
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["master_id", "id", "day", "cds", "dollars"])
    raw["day"] = pd.to_datetime(raw["day"].astype(str), format="%Y%m%d").dt.date.astype(str)
    first = raw.groupby("id")["day"].min()
    customers = [{"customer_id": cid(int(i)), "signup_date": day, "country": "DE" if i % 2 == 0 else "US"}
                 for i, day in first.items()]
    customers.append({"customer_id": NO_ORDERS_ID, "signup_date": "1997-01-01", "country": "DE"})
    orders = [{"order_id": f"O{k}", "customer_id": cid(int(row.id)), "ordered_at": row.day, "amount": float(row.dollars)}
              for k, row in enumerate(raw.itertuples())]
    return make_store(tmp_path_factory.mktemp("cdnow") / "cdnow.db", {"customers": customers, "orders": orders})


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("shop") / "shop.db", shop_tables())


async def call(db: Path, **arguments: Any) -> Any:
    async with Client(build_server(db)) as client:
        return await client.call_tool("predict_clv", arguments)


def ok(result: Any) -> PredictClvResult:
    assert result.is_error is False, text_of(result)
    json.dumps(result.structured_content, allow_nan=False)
    return PredictClvResult.model_validate(result.structured_content)


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def every_page(db: Path, **arguments: Any) -> list[PredictClvResult]:
    """All pages of one list (limit 100), following next_cursor."""
    async def run() -> list[PredictClvResult]:
        pages: list[PredictClvResult] = []
        cursor = None
        async with Client(build_server(db)) as client:
            while True:
                args = {**arguments, "limit": 100, **({"cursor": cursor} if cursor else {})}
                pages.append(ok(await client.call_tool("predict_clv", args)))
                cursor = pages[-1].next_cursor
                if cursor is None:
                    return pages

    return anyio.run(run)


@pytest.fixture(scope="module")
def by_clv(cdnow_db: Path) -> list[PredictClvResult]:
    return every_page(cdnow_db, as_of=CALIBRATION_END, model="bg_nbd")


@pytest.fixture(scope="module")
def by_p_alive(cdnow_db: Path) -> list[PredictClvResult]:
    return every_page(cdnow_db, as_of=CALIBRATION_END, model="bg_nbd", sort="p_alive")


# --- published values ----------------------------------------------------------------------------------------

def test_bg_nbd_and_gamma_gamma_fits_reproduce_the_published_cdnow_values(by_clv: list[PredictClvResult]) -> None:
    """FHL 2005 (3 decimals, so 1e-3 relative or half a unit of the last digit): r 0.243, alpha 4.414, a 0.793,
    b 2.426, LL -9582.4 on 2,357 customers; Gamma-Gamma p 6.25,
    q 3.74, gamma 15.44 on the 946 repeat buyers. The customer without orders is not modelled."""
    first = by_clv[0]
    fit, spend = first.fit, first.spend
    assert (fit.model, fit.n, fit.converged, fit.penalized, fit.note) == ("bg_nbd", CDNOW_CUSTOMERS, True, False, None)
    assert fit.params == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, rel=1e-3, abs=5e-4)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert spend is not None and (spend.model, spend.n) == ("gamma_gamma", CDNOW_REPEAT_BUYERS)
    assert spend.params == pytest.approx({"p": 6.25, "q": 3.74, "gamma": 15.44}, abs=0.005)
    assert first.spend_note is None and first.total == CDNOW_CUSTOMERS


async def test_pareto_nbd_reproduces_the_published_cdnow_values(cdnow_db: Path) -> None:
    """Pareto/NBD on CDNOW: r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0."""
    fit = ok(await call(cdnow_db, as_of=CALIBRATION_END, model="pareto_nbd", limit=1)).fit
    assert fit.model == "pareto_nbd" and fit.converged
    assert fit.params == pytest.approx({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, rel=1e-3, abs=5e-4)
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.05)


def test_rfm_columns_equal_the_published_cdnow_summary(by_clv: list[PredictClvResult]) -> None:
    """The published file rounds frequency, recency and T (weeks, calibration to 1997-09-30) to 2 decimals."""
    published = pd.read_csv(CDNOW / "cdnow_customers_summary.csv").set_index("ID")
    rows = {int(c.customer_id[1:]): c for page in by_clv for c in page.items}
    assert sorted(rows) == sorted(published.index)
    for number, expected in published.iterrows():
        row = rows[number]
        assert row.frequency == expected["frequency"], number
        assert row.recency == pytest.approx(expected["recency"], abs=0.005 + 1e-9), number
        assert row.T == pytest.approx(expected["T"], abs=0.005 + 1e-9), number


# --- the list: order, paging, summary ------------------------------------------------------------------------

def test_paging_covers_every_customer_once_in_rank_order(by_clv: list[PredictClvResult]) -> None:
    items = [c for page in by_clv for c in page.items]
    assert [c.rank for c in items] == list(range(1, CDNOW_CUSTOMERS + 1))
    assert len({c.customer_id for c in items}) == CDNOW_CUSTOMERS and NO_ORDERS_ID not in {c.customer_id for c in items}
    assert [p.offset for p in by_clv] == list(range(0, CDNOW_CUSTOMERS, 100))
    assert by_clv[-1].next_cursor is None and all(p.next_cursor for p in by_clv[:-1])
    clv = [c.clv for c in items]
    assert all(v is not None for v in clv) and clv == sorted(clv, reverse=True)  # type: ignore[type-var]
    assert by_clv[0].order == "clv desc, customer_id asc"


def test_values_are_bounded(by_clv: list[PredictClvResult]) -> None:
    for c in (c for page in by_clv for c in page.items):
        assert c.p_alive is not None and 0.0 <= c.p_alive <= 1.0
        assert c.expected_purchases is not None and c.expected_purchases >= 0
        assert c.clv is not None and c.clv >= 0 and c.expected_avg_value is not None and c.expected_avg_value > 0
        assert c.recency <= c.T


def test_one_off_buyers_are_certainly_alive_and_each_row_says_it_is_an_assumption(by_clv: list[PredictClvResult]) -> None:
    """BG/NBD P(alive) is exactly 1 with no repeat purchase (the delta(x > 0) term vanishes): every such row carries
    the note, with the MBG/NBD's P(alive) for the same customer, so "lost" next to P(alive) 1 is never unexplained."""
    items = [c for page in by_clv for c in page.items]
    one_off = [c for c in items if c.frequency == 0]
    assert len(one_off) == CDNOW_CUSTOMERS - CDNOW_REPEAT_BUYERS
    assert {c.p_alive for c in one_off} == {1.0}
    assert all(c.p_alive_note and "cannot have dropped out" in c.p_alive_note and "MBG/NBD P(alive) 0." in c.p_alive_note
               for c in one_off)
    assert all(c.p_alive_note is None for c in items if c.frequency > 0)
    assert {c.rfm_segment for c in one_off} >= {"lost", "hibernating"}


def test_summary_agrees_with_the_rows_and_with_a_hand_argument(by_clv: list[PredictClvResult]) -> None:
    """1,411 of 2,357 customers (59.9 %) are one-off buyers with P(alive) = 1, so the quantiles from the 50th up
    are 1; repeat buyers have P(alive) < 1 and fill the lowest 946 places, so p10 and p25 (places 236 and 589 of
    0..2356) are below 1. Counts, totals and segments equal the sums over every page (rows are rounded to cents)."""
    summary = by_clv[0].summary
    items = [c for page in by_clv for c in page.items]
    assert summary is not None and summary.customers == CDNOW_CUSTOMERS
    q = summary.p_alive_quantiles
    assert list(q) == ["p10", "p25", "p50", "p75", "p90"]
    assert (q["p50"], q["p75"], q["p90"]) == (1.0, 1.0, 1.0)
    assert q["p10"] is not None and q["p25"] is not None and q["p10"] <= q["p25"] < 1.0
    assert summary.total_clv == pytest.approx(sum(c.clv or 0 for c in items), abs=0.005 * len(items))
    assert summary.likely_lapsed == sum(1 for c in items if c.p_alive is not None and c.p_alive < 0.5)
    assert {s.segment: s.customers for s in summary.segments} == Counter(c.rfm_segment for c in items)
    for segment in summary.segments:
        in_segment = [c.clv or 0 for c in items if c.rfm_segment == segment.segment]
        assert segment.clv == pytest.approx(sum(in_segment), abs=0.005 * len(in_segment))
    assert all(p.summary == summary for p in by_clv)


def test_sort_by_p_alive_lists_the_least_likely_alive_first(by_p_alive: list[PredictClvResult],
                                                            by_clv: list[PredictClvResult]) -> None:
    """P(alive) ascending; among the exact ties (every one-off buyer has P(alive) = 1) the higher CLV first."""
    items = [c for page in by_p_alive for c in page.items]
    alive = [c.p_alive or 0.0 for c in items]
    assert alive == sorted(alive)
    certain = [c.clv or 0.0 for c in items if c.frequency == 0]
    assert certain == sorted(certain, reverse=True) and items[-len(certain):] == [c for c in items if c.frequency == 0]
    assert {c.customer_id for c in items} == {c.customer_id for page in by_clv for c in page.items}
    assert by_p_alive[0].order == "p_alive asc, clv desc, customer_id asc"


# --- wiring: the tool presents predict_customer_value -----------------------------------------------------------

async def test_rows_equal_predict_customer_value_on_the_same_filtered_dataset(cdnow_db: Path) -> None:
    """Filtered to country DE: the even ids (1,178 of 1..2,357) have orders; C9999 is DE but has none."""
    args = {"as_of": CALIBRATION_END, "filters": {"country": ["DE"]}, "model": "pareto_nbd", "horizon_months": 24,
            "discount_rate_annual": 0.2, "limit": 50}
    result = ok(await call(cdnow_db, **args))
    table = predict_customer_value(Dataset.open(cdnow_db, date(1997, 9, 30), filters=Filters(country=("DE",))),
                                   horizon_months=24, discount_rate_annual=0.2, model="pareto_nbd")
    assert result.fit.n == len(table) == CDNOW_CUSTOMERS // 2
    assert result.scope.filters == {"country": ["DE"]}
    assert (result.horizon_months, result.discount_rate_annual) == (24, 0.2)
    assert result.fit.params == pytest.approx(table.transactions.params, rel=1e-5)
    for c in result.items:
        expected = table.frame.loc[c.customer_id]
        assert int(c.customer_id[1:]) % 2 == 0
        assert c.p_alive == pytest.approx(expected["p_alive"], abs=5e-5)
        assert c.expected_purchases == pytest.approx(expected["expected_purchases"], abs=5e-5)
        assert c.expected_avg_value == pytest.approx(expected["expected_avg_value"], abs=0.005)
        assert c.clv == pytest.approx(expected["clv"], abs=0.005)
        assert c.rfm_segment == expected["rfm_segment"]


async def test_one_customer_gets_their_row_and_rank_and_the_fit(cdnow_db: Path, by_clv: list[PredictClvResult]) -> None:
    listed = by_clv[3].items[7]
    result = ok(await call(cdnow_db, as_of=CALIBRATION_END, model="bg_nbd", customer_id=listed.customer_id))
    assert result.customer == listed and result.customer.rank == 308
    assert (result.summary, result.check, result.items, result.next_cursor) == (None, None, [], None)
    assert result.fit == by_clv[0].fit
    assert listed.customer_id in text_of(await call(cdnow_db, as_of=CALIBRATION_END, customer_id=listed.customer_id))


async def test_a_longer_horizon_and_a_lower_discount_rate_never_lower_a_customers_clv(cdnow_db: Path) -> None:
    """CLV is a discounted sum of non-negative monthly terms: more months or a lower rate cannot reduce it."""
    async def rows(**args: Any) -> dict[str, float]:
        items = ok(await call(cdnow_db, as_of=CALIBRATION_END, limit=100, **args)).items
        return {c.customer_id: c.clv or 0.0 for c in items}

    base = await rows()
    longer = await rows(horizon_months=36)
    undiscounted = await rows(discount_rate_annual=0.0)
    assert all(longer[k] >= v for k, v in base.items() if k in longer)
    assert all(undiscounted[k] >= v for k, v in base.items() if k in undiscounted)


async def test_same_arguments_give_byte_identical_results_even_after_a_refit(cdnow_db: Path) -> None:
    args = {"as_of": CALIBRATION_END, "sort": "p_alive", "limit": 30}
    first = await call(cdnow_db, **args)
    clear_memo()
    second = await call(cdnow_db, **args)
    assert json.dumps(first.structured_content) == json.dumps(second.structured_content)
    assert text_of(first) == text_of(second)


# --- model auto: the holdout check chooses ----------------------------------------------------------------------

async def test_auto_reports_the_holdout_check_of_the_library_and_uses_its_choice(cdnow_db: Path) -> None:
    """Wiring: at as_of 1998-06-30 the default split holds out the last third of 1997-01-01..1998-06-30 (from
    1997-12-31); the tool's check is lifecycle.clv.holdout_check's on the same dataset, rounded, and the fitted model
    is the one it chose."""
    result = ok(await call(cdnow_db, as_of="1998-06-30", limit=5))
    check = order_holdout_check(Dataset.open(cdnow_db, date(1998, 6, 30)))
    out = result.check
    assert out is not None and out.calibration_end == "1997-12-30" == check.calibration_end.isoformat()
    assert (out.customers, out.actual, out.chosen) == (check.customers, check.actual_total, check.chosen)
    assert [g.frequency for g in out.groups] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    for got, expected in zip(out.groups, check.groups):
        assert got.actual == round(expected.actual, 4) and got.customers == expected.customers
        assert got.predicted == {m: round(v, 4) for m, v in expected.predicted.items() if v is not None}
    assert result.fit.model == check.chosen and result.model_choice == check.reason
    assert "Holdout check (fitted to 1997-12-30" in text_of(await call(cdnow_db, as_of="1998-06-30", limit=5))


async def test_a_model_the_check_does_not_prefer_is_used_when_asked_and_says_so(cdnow_db: Path) -> None:
    result = ok(await call(cdnow_db, as_of="1998-06-30", model="pareto_nbd", limit=5))
    assert result.fit.model == "pareto_nbd" and result.check is not None
    assert result.model_choice is not None and result.model_choice.startswith("Pareto/NBD as requested")
    if result.check.chosen != "pareto_nbd":
        assert "the holdout check prefers" in result.model_choice


def test_models_that_disagree_on_who_has_lapsed_are_a_warning(by_clv: list[PredictClvResult]) -> None:
    """On CDNOW at the calibration end the BG/NBD counts the 1,411 one-time buyers (59.9 %) alive, the other two
    models do not: the shares with P(alive) < 0.5 differ by far more than 20 points (BTYDplus' demo prints mean
    P(alive) 0.81 for the BG/NBD and 0.45 for the Pareto/NBD)."""
    warnings = by_clv[0].warnings
    assert len(warnings) == 1 and "disagree on who has lapsed" in warnings[0] and "BG/NBD counts every one-time buyer" in warnings[0]
    bg_share = by_clv[0].summary.likely_lapsed / CDNOW_CUSTOMERS  # type: ignore[union-attr]
    assert f"BG/NBD {bg_share:.1%}" in warnings[0]


async def test_auto_on_subscription_data_without_orders_is_the_sbg(demo_db: Path) -> None:
    """The product's own demo has subscriptions and no orders: the default model values its subscribers."""
    result = ok(await call(demo_db, limit=3))
    assert result.fit.model == "sbg" and result.retention is not None and len(result.items) == 3
    assert result.model_choice is not None and "no orders" in result.model_choice


# --- the hand-built shop ---------------------------------------------------------------------------------------

async def test_the_hand_built_shop_summary_and_spend(shop_db: Path) -> None:
    """tests/clv/order_fixture.py: 12 ordering customers; refunded, cancelled, same-day and later orders do not
    count; c13 has no orders. 8 repeat buyers (< 20): no Gamma-Gamma, spend is the observed mean 5 (x + 2).
    4 one-off buyers (c03, c06, c09, c12) have P(alive) = 1: the top 4 of 12 sorted values (places 8..11), so p75
    (place 8.25) and p90 (place 9.9) are 1."""
    result = ok(await call(shop_db, as_of=SHOP_AS_OF, limit=100))
    rows = {c.customer_id: c for c in result.items}
    assert set(rows) == set(HAND_SUMMARY) and result.total == 12
    for customer, (frequency, recency, big_t) in HAND_SUMMARY.items():
        row = rows[customer]
        assert (row.frequency, row.recency, row.T) == (frequency, round(recency, 4), round(big_t, 4)), customer
        assert row.expected_avg_value == pytest.approx(observed_mean_spend(frequency)), customer
    assert {k for k, c in rows.items() if c.p_alive == 1.0} >= {"c03", "c06", "c09", "c12"}
    assert result.summary is not None and (result.summary.p_alive_quantiles["p75"], result.summary.p_alive_quantiles["p90"]) == (1.0, 1.0)
    assert result.spend is None and result.spend_note is not None and "repeat buyers" in result.spend_note


# --- model sbg: subscription retention ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def subscriptions_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("subscriptions") / "subscriptions.db", subscription_tables())


async def test_sbg_fits_the_hand_counted_signup_cohorts_of_36_months(subscriptions_db: Path) -> None:
    """tests/clv/subscription_fixture.py counts the survivors by hand: January cohort 4, 3, 2, 1, 1, 1 and March
    cohort 2, 2, 1, 1 (the June cohort has no month after signup yet). One month's horizon: the first payment, 1."""
    result = ok(await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF, horizon_months=1))
    expected = fit_cohorts(HAND_SURVIVORS)
    assert result.retention is not None and (result.retention.cohorts, result.fit.n) == (2, 6)
    assert result.fit.params == pytest.approx({"alpha": expected.params.alpha, "beta": expected.params.beta}, rel=1e-5)
    assert result.retention.survival == [pytest.approx(float(expected.survival(1)), abs=5e-5)]
    assert result.retention.expected_paid_months == 1.0
    assert (str(result.scope.period_start), str(result.scope.period_end)) == ("2021-07-01", SUBSCRIPTIONS_AS_OF)
    assert (result.summary, result.customer, result.spend) == (None, None, None)


async def test_sbg_survival_never_rises_and_lies_in_0_1(subscriptions_db: Path) -> None:
    retention = ok(await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF, horizon_months=60)).retention
    assert retention is not None and len(retention.survival) == 60
    assert all(0 <= v <= 1 for v in retention.survival) and retention.survival == sorted(retention.survival, reverse=True)
    assert retention.discounted_expected_lifetime is not None
    assert retention.expected_paid_months <= retention.discounted_expected_lifetime


async def test_sbg_needs_subscriptions(cdnow_db: Path) -> None:
    on_orders = await call(cdnow_db, model="sbg", as_of=CALIBRATION_END)
    assert on_orders.is_error is True and "needs a subscriptions table" in text_of(on_orders)


# --- model sbg: current subscribers' residual value --------------------------------------------------------------

def sbg_subscribers(result: PredictClvResult) -> list[SubscriberOut]:
    assert all(isinstance(row, SubscriberOut) for row in result.items)
    return [row for row in result.items if isinstance(row, SubscriberOut)]


async def test_sbg_rows_equal_predict_subscription_value_on_the_same_dataset(subscriptions_db: Path) -> None:
    """Wiring: the tool's rows are the library's rows (window of 36 months to as_of), rounded for presentation.
    By hand: A1, B1 and C1 pay 10 on 2024-06-30, signed up in January, March and June: 5, 3 and 0 renewals."""
    result = ok(await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF, horizon_months=6))
    dataset = Dataset.open(subscriptions_db, date(2024, 6, 30), Filters(), Window(date(2021, 7, 1), date(2024, 6, 30)))
    table = predict_subscription_value(dataset, 6, 0.1)
    rows = {row.customer_id: row for row in sbg_subscribers(result)}
    assert list(rows) == ["A1", "B1", "C1"] and [r.renewals for r in rows.values()] == [5, 3, 0]
    for customer_id, expected in table.frame.iterrows():
        row = rows[str(customer_id)]
        assert (row.mrr, row.p_renew) == (10.0, round(expected["p_renew"], 4))
        assert (row.residual_months, row.residual_value) == (round(expected["residual_months"], 4), round(expected["residual_value"], 2))
    retention = result.retention
    assert retention is not None and (retention.subscribers, retention.total_mrr, result.total) == (3, 30.0, 3)
    assert retention.total_residual_value == round(table.total_residual_value, 2)
    assert result.order == "residual_value desc, customer_id asc"


async def test_sbg_sort_p_alive_lists_the_least_likely_to_renew_first(subscriptions_db: Path) -> None:
    result = ok(await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF, sort="p_alive"))
    rows = sbg_subscribers(result)
    assert [r.customer_id for r in rows] == ["C1", "B1", "A1"] and [r.rank for r in rows] == [1, 2, 3]
    assert [r.p_renew for r in rows] == sorted(r.p_renew for r in rows)


async def test_sbg_one_subscriber_gets_their_row_and_rank(subscriptions_db: Path) -> None:
    listed = sbg_subscribers(ok(await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF)))
    one = ok(await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF, customer_id="B1"))
    assert one.customer == next(r for r in listed if r.customer_id == "B1") and one.items == []


@pytest.mark.parametrize(("customer_id", "fragment"), [
    pytest.param("ZZZ", "unknown customer_id", id="unknown"),
    pytest.param("A2", "is not paying on 2024-06-30", id="churned"),
])
async def test_sbg_customer_errors(subscriptions_db: Path, customer_id: str, fragment: str) -> None:
    result = await call(subscriptions_db, model="sbg", as_of=SUBSCRIPTIONS_AS_OF, customer_id=customer_id)
    assert result.is_error is True and fragment in text_of(result) and "Traceback" not in text_of(result)


@pytest.fixture(scope="module")
def demo_sbg_pages(demo_db: Path) -> list[PredictClvResult]:
    return every_page(demo_db, model="sbg")


def test_sbg_on_the_demo_pages_every_current_subscriber_once_in_value_order(demo_sbg_pages: list[PredictClvResult]) -> None:
    rows = [row for page in demo_sbg_pages for row in sbg_subscribers(page)]
    retention = demo_sbg_pages[0].retention
    assert retention is not None and len(rows) == demo_sbg_pages[0].total == retention.subscribers > 0
    assert len({r.customer_id for r in rows}) == len(rows) and [r.rank for r in rows] == list(range(1, len(rows) + 1))
    keys = [(-r.residual_value, r.customer_id) for r in rows]
    assert keys == sorted(keys)
    assert all(0 < r.p_renew < 1 and 0 < r.residual_months <= 12 and r.mrr > 0 for r in rows)
    assert sum(r.residual_value for r in rows) == pytest.approx(retention.total_residual_value, abs=0.01 * len(rows))


async def test_sbg_same_arguments_give_byte_identical_results_even_after_a_refit(demo_db: Path) -> None:
    args = {"model": "sbg", "sort": "p_alive", "limit": 30}
    first = await call(demo_db, **args)
    clear_memo()
    second = await call(demo_db, **args)
    assert json.dumps(first.structured_content) == json.dumps(second.structured_content)
    assert text_of(first) == text_of(second) and "current subscribers" in text_of(first)


async def test_an_sbg_cursor_is_refused_by_the_order_models_and_the_other_sort(demo_db: Path,
                                                                              demo_sbg_pages: list[PredictClvResult]) -> None:
    cursor = demo_sbg_pages[0].next_cursor
    assert cursor is not None
    for arguments in ({"model": "sbg", "sort": "p_alive"}, {"model": "bg_nbd"}):
        result = await call(demo_db, cursor=cursor, **arguments)
        assert result.is_error is True and "different predict_clv query" in text_of(result)


# --- errors ----------------------------------------------------------------------------------------------------

async def test_a_customer_without_orders_is_a_clear_error(cdnow_db: Path) -> None:
    result = await call(cdnow_db, as_of=CALIBRATION_END, customer_id=NO_ORDERS_ID)
    assert result.is_error is True and "no purchases" in text_of(result) and "without customer_id" in text_of(result)


@pytest.mark.parametrize(("arguments", "fragment"), [
    pytest.param({"customer_id": "C0000"}, "unknown customer_id", id="unknown-customer"),
    pytest.param({"model": "gbm"}, "model: input should be 'auto', 'bg_nbd', 'mbg_nbd', 'pareto_nbd' or 'sbg' (got 'gbm')",
                 id="unknown-model"),
    pytest.param({"horizon_months": 61}, "horizon_months: input should be less than or equal to 60 (got 61)", id="horizon-too-long"),
    pytest.param({"discount_rate_annual": 1.5}, "discount_rate_annual: input should be less than or equal to 1", id="discount-above-1"),
    pytest.param({"sort": "recency"}, "sort: input should be 'clv' or 'p_alive' (got 'recency')", id="unknown-sort"),
    pytest.param({"cursor": "garbage"}, "invalid cursor", id="garbage-cursor"),
    pytest.param({"filters": {"country": ["XX"]}}, "unknown country value", id="unknown-filter-value"),
])
async def test_bad_arguments_are_error_results(cdnow_db: Path, arguments: dict[str, Any], fragment: str) -> None:
    result = await call(cdnow_db, as_of=CALIBRATION_END, **arguments)
    assert result.is_error is True and fragment in text_of(result) and "Traceback" not in text_of(result)


async def test_a_cursor_from_another_query_is_refused(cdnow_db: Path, by_clv: list[PredictClvResult]) -> None:
    cursor = by_clv[0].next_cursor
    result = await call(cdnow_db, as_of=CALIBRATION_END, sort="p_alive", cursor=cursor)
    assert result.is_error is True and "different predict_clv query" in text_of(result)


async def test_no_order_data_says_what_is_needed(tmp_path: Path) -> None:
    db = make_store(tmp_path / "saas.db", {"customers": [{"customer_id": "A", "signup_date": "2024-01-01"}]})
    result = await call(db)
    text = text_of(result)
    assert result.is_error is True and "no kept orders" in text and "model sbg" in text and "Traceback" not in text


async def test_too_few_customers_is_a_fit_error_with_a_next_step(tmp_path: Path) -> None:
    rows = shop_tables()
    three = {"c01", "c02", "c04"}
    db = make_store(tmp_path / "few.db", {"customers": [c for c in rows["customers"] if c["customer_id"] in three],
                                          "orders": [o for o in rows["orders"] if o["customer_id"] in three]})
    result = await call(db, as_of=SHOP_AS_OF)
    text = text_of(result)
    assert result.is_error is True
    assert text == ("The CLV model could not be fitted: too few customers with orders to fit a CLV model: 3 (at least "
                    "10). Next step: call again with the other model, fewer filters or a later as_of (more customers "
                    "and repeat purchases).")
