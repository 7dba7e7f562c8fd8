"""CLV facts (``clv_facts``): the library's numbers under stable ids, None with a reason when no model can be fitted.

Order data: the tiny shop of tests/clv/order_fixture.py (12 ordering customers, BG/NBD, observed mean spend).
Subscription data: three monthly signup cohorts of 40 whose survivors follow 40 x 3/(3+t) (sBG with alpha=1,
beta=3: 40, 30, 24, 20, 17, 15, 13, ...), so the churn hazard falls with tenure and the sBG has an interior maximum.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lifecycle.clv import (
    beta_geo,
    modified_beta_geo,
    pareto_nbd,
    predict_customer_value,
    predict_subscription_value,
    summarize_customer_value,
)
from lifecycle.clv.customer_value import LIKELY_LAPSED_BELOW
from lifecycle.errors import ModelFitError
from lifecycle.facts import build_facts
from lifecycle.facts.sources import TOP_CLV_SEGMENTS, clv_facts
from prompts.render import render_prompt
from tests.builders import make_dataset
from tests.clv.order_fixture import AS_OF, customer_rows, tables

SUB_AS_OF = "2024-12-31"
SURVIVORS = [40, 30, 24, 20, 17, 15, 13, 12, 11, 10, 9, 9]  # round(40 x 3 / (3 + t)), non-increasing


def subscription_tables() -> dict[str, list[dict[str, Any]]]:
    """Cohorts signing up on the 5th of Jan, Feb, Mar 2024; SURVIVORS[k] - SURVIVORS[k+1] of each cohort end on the
    1st of its month k+1 (last paid day: the end of month k), for the months that begin by as_of."""
    customers, subs = [], []
    for month in (1, 2, 3):
        ends: list[str | None] = []
        for k in range(len(SURVIVORS) - 1):
            if month + k + 1 <= 12:
                ends += [f"2024-{month + k + 1:02d}-01"] * (SURVIVORS[k] - SURVIVORS[k + 1])
        ends += [None] * (SURVIVORS[0] - len(ends))
        for i, end in enumerate(ends):
            cid = f"m{month}-{i:02d}"
            customers.append({"customer_id": cid, "signup_date": f"2024-{month:02d}-05"})
            subs.append({"subscription_id": f"s-{cid}", "customer_id": cid, "start_date": f"2024-{month:02d}-05",
                         "end_date": end, "mrr": 50.0 + i})
    return {"customers": customers, "subscriptions": subs}


def orders_dataset(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_dataset(tmp_path, tables(), as_of=AS_OF)


def subscription_dataset(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_dataset(tmp_path, subscription_tables(), as_of=SUB_AS_OF, window=("2024-01-01", SUB_AS_OF))


def test_order_facts_equal_the_library_summary(tmp_path: Path) -> None:
    ds = orders_dataset(tmp_path)
    table = predict_customer_value(ds)
    summary = summarize_customer_value(table)
    facts = {f.id: f for f in clv_facts(ds)}
    assert facts["clv.customers"].value == summary.customers == 12
    assert facts["clv.expected_total"].value == summary.total_clv
    assert facts["clv.expected_purchases.total"].value == float(table.frame["expected_purchases"].sum())
    assert facts["clv.p_alive.median"].value == summary.p_alive_quantiles["p50"]
    assert facts["clv.likely_lapsed.count"].value == summary.likely_lapsed == int((table.frame["p_alive"] < LIKELY_LAPSED_BELOW).sum())
    assert facts["clv.likely_lapsed.share"].value == summary.likely_lapsed / 12
    top = sorted(summary.segments, key=lambda s: -s.clv)[:TOP_CLV_SEGMENTS]
    assert [f.id for f in facts.values() if f.id.startswith("clv.segment.")] == [
        f"clv.segment.{s.segment}.{part}" for s in top for part in ("expected_total", "customers")]
    for segment in top:
        assert facts[f"clv.segment.{segment.segment}.expected_total"].value == segment.clv
    assert "next 12 months, 10 %/yr discount" in facts["clv.expected_total"].label
    assert "spend is each customer's observed mean" in (facts["clv.expected_total"].note or "")  # 8 repeat buyers < 20


def test_subscription_facts_equal_the_sbg_forecast_and_subscriber_values(tmp_path: Path) -> None:
    ds = subscription_dataset(tmp_path)
    table = predict_subscription_value(ds)
    facts = {f.id: f for f in clv_facts(ds)}
    assert facts["retention.forecast.month_12"].value == table.forecast.survival[11]
    assert facts["clv.new_customer_paid_months"].value == table.forecast.expected_paid_months
    assert facts["clv.subscribers.count"].value == float(len(table.frame))
    assert facts["clv.subscribers.residual_value"].value == table.total_residual_value
    assert 0 < facts["retention.forecast.month_12"].value < 1 and facts["clv.subscribers.residual_value"].value > 0
    assert not any(fid.startswith("clv.expected") for fid in facts)  # no orders table: no order facts


def test_without_orders_or_subscriptions_clv_is_no_data_with_the_reason(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path, {"customers": customer_rows()}, as_of=AS_OF)
    (fact,) = clv_facts(ds)
    assert (fact.id, fact.value, fact.display) == ("clv.expected_total", None, "no data")
    assert "orders" in (fact.note or "") and "subscriptions" in (fact.note or "")


def test_too_few_ordering_customers_give_no_data_not_an_error(tmp_path: Path) -> None:
    rows = [{"order_id": "o1", "customer_id": "c01", "ordered_at": "2024-01-01", "amount": 5.0}]
    ds = make_dataset(tmp_path, {"customers": customer_rows(), "orders": rows}, as_of=AS_OF)
    facts = {f.id: f for f in clv_facts(ds)}
    assert set(facts) == {"clv.expected_total", "clv.likely_lapsed.share"}
    assert all(f.value is None and "too few customers with orders" in (f.note or "") for f in facts.values())


def test_order_models_that_never_converge_give_no_data_and_build_facts_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every order model's unpenalised fit and penalised refit fail, as on data with no interior maximum; the
    reason quoted is the BG/NBD's, the model the 12-customer shop falls back to (too few customers for a check)."""
    def no_maximum(name: str) -> Any:
        def fit(*args: Any, **kwargs: Any) -> None:
            raise ModelFitError(f"{name} fit did not converge: parameter(s) ran off towards 0 or infinity. Data: 12 customers")
        return fit

    for module, name in ((beta_geo, "BG/NBD"), (modified_beta_geo, "MBG/NBD"), (pareto_nbd, "Pareto/NBD")):
        monkeypatch.setattr(module, "fit", no_maximum(name))
    bundle = build_facts(orders_dataset(tmp_path)).by_id()
    assert bundle["clv.expected_total"].value is None
    assert bundle["clv.expected_total"].note == "no CLV model: BG/NBD fit did not converge: parameter(s) ran off towards 0 or infinity"
    assert "clv.customers" not in bundle


def test_an_sbg_fit_that_cannot_converge_gives_no_data(tmp_path: Path) -> None:
    """Nobody churns: beta runs off to infinity (as on the demo data, where churn is homogeneous)."""
    customers = [{"customer_id": f"c{i}", "signup_date": f"2024-0{1 + i % 3}-05"} for i in range(30)]
    subs = [{"subscription_id": f"s{i}", "customer_id": f"c{i}", "start_date": f"2024-0{1 + i % 3}-05", "mrr": 50.0}
            for i in range(30)]
    ds = make_dataset(tmp_path, {"customers": customers, "subscriptions": subs}, as_of="2024-07-01")
    facts = {f.id: f for f in clv_facts(ds)}
    assert set(facts) == {"retention.forecast.month_12", "clv.subscribers.residual_value"}
    assert all(f.value is None and (f.note or "").startswith("no sBG forecast: ") for f in facts.values())


def test_ids_are_unique_stable_and_headlines_few(tmp_path: Path) -> None:
    first = clv_facts(orders_dataset(tmp_path / "a"))
    second = clv_facts(orders_dataset(tmp_path / "b"))
    assert [f.to_dict() for f in first] == [f.to_dict() for f in second]
    assert len({f.id for f in first}) == len(first)
    assert [f.id for f in first if not f.detail] == ["clv.expected_total", "clv.likely_lapsed.share"]
    subs = clv_facts(subscription_dataset(tmp_path / "c"))
    assert [f.id for f in subs if not f.detail] == ["retention.forecast.month_12", "clv.subscribers.residual_value"]
    assert all(f.detail for f in first if f.id.startswith("clv.segment."))


def test_lifecycle_map_feeds_clv_facts_to_growth_loyalty_and_risk(tmp_path: Path) -> None:
    text = render_prompt("lifecycle_map", build_facts(orders_dataset(tmp_path))).text
    growth = text.split("Stage 5: Growth and Expansion")[1].split("Stage 6:")[0]
    loyalty = text.split("Stage 6: Loyalty and Advocacy")[1].split("## Cross-Stage")[0]
    regression = text.split("Regression prevention")[1].split("### Personalization")[0]
    segment = next(f.id for f in clv_facts(orders_dataset(tmp_path / "again")) if f.id.startswith("clv.segment."))
    assert "[F:clv.expected_total]" in growth and f"[F:{segment}]" in growth and f"[F:{segment}]" not in loyalty
    assert "[F:clv.p_alive.median]" in loyalty and "[F:clv.likely_lapsed.share]" in loyalty
    assert "[F:clv.likely_lapsed.count]" in regression


def test_executive_summary_gets_only_the_headline_clv_facts(tmp_path: Path) -> None:
    text = render_prompt("executive_summary", build_facts(orders_dataset(tmp_path))).text
    assert "[F:clv.expected_total]" in text and "[F:clv.likely_lapsed.share]" in text
    assert "[F:clv.customers]" not in text and "[F:clv.segment." not in text


def test_subscription_fixture_is_as_documented() -> None:
    """The January cohort loses SURVIVORS[k] - SURVIVORS[k+1] at the start of each month k+1 = Feb … Dec."""
    rows = subscription_tables()["subscriptions"]
    january = [r for r in rows if r["start_date"] == "2024-01-05"]
    assert len(january) == 40 and sum(r["end_date"] is None for r in january) == SURVIVORS[11]
    assert date.fromisoformat(min(r["end_date"] for r in january if r["end_date"])) == date(2024, 2, 1)


def test_the_sbg_facts_use_the_36_month_cohorts_whatever_the_bundles_window(demo_db: Path) -> None:
    """The bundle's default window is 12 months; the sBG facts fit the signup cohorts of 36 months, as predict_clv does,
    so the demo's plan and the tool agree (a 12-month window holds too few renewals for the fit)."""
    from lifecycle.clv.retention_forecast import COHORT_MONTHS, subscription_retention_forecast
    from lifecycle.dataset import Dataset
    from lifecycle.scope import Window

    day = date(2025, 12, 31)
    facts = {f.id: f for f in clv_facts(Dataset.open(demo_db, day))}
    long_window = Dataset.open(demo_db, day, window=Window.trailing_months(day, COHORT_MONTHS))
    forecast = subscription_retention_forecast(long_window)
    assert facts["retention.forecast.month_12"].value == pytest.approx(forecast.survival[11], rel=1e-12)
    assert facts["clv.new_customer_paid_months"].value == pytest.approx(forecast.expected_paid_months, rel=1e-12)
    assert facts["retention.forecast.month_12"].note == f"sBG fitted on {forecast.cohorts} signup cohorts"
