"""One logo-churn definition: the displayed rate, the MRR bridge, LTV and the facts agree.

Hand fixture, as_of 2024-06-30 (window 2023-07-01 .. 2024-06-30, twelve complete months):
- A: 100/month from 2024-01-01, open.
- B: 50/month 2024-01-01 .. 2024-03-15 (exclusive): paying at the end of February, not at the end of March → churns in March.
- C: 80/month 2024-02-01 .. 2024-04-01: paying at the end of March (31st < April 1st), not April → churns in April.
- D: 30/month 2024-04-01 .. 2024-04-30: never paying at a month end, so never at risk and never churned (a paying-on-
  the-1st count would have churned it in April: 3 churns instead of 2).
At risk (paying at the end of the previous month): Feb 2 (A, B), Mar 3 (A, B, C), Apr 2 (A, C), May 1, Jun 1 → 9
customer-months, 2 churned: logo churn 2/9. ARPA on as_of = 100 (A), margin 0.8: LTV = 80 ÷ (2/9) = 360.
"""

from __future__ import annotations

import math
from pathlib import Path

from lifecycle.facts import build_facts
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.revenue_movements import revenue_movements
from tests.builders import customers, make_dataset


def _sub(sid: str, customer: str, start: str, end: str | None, mrr: float) -> dict[str, object]:
    return {"subscription_id": sid, "customer_id": customer, "start_date": start, "end_date": end, "mrr": mrr}


TABLES = {
    "customers": customers(("A", "2024-01-01"), ("B", "2024-01-01"), ("C", "2024-02-01"), ("D", "2024-04-01")),
    "subscriptions": [_sub("s1", "A", "2024-01-01", None, 100.0), _sub("s2", "B", "2024-01-01", "2024-03-15", 50.0),
                      _sub("s3", "C", "2024-02-01", "2024-04-01", 80.0), _sub("s4", "D", "2024-04-01", "2024-04-30", 30.0)],
}


def test_logo_churn_is_bridge_churn_over_customers_paying_at_month_start(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path, TABLES, "2024-06-30")
    churn = compute_metric(dataset, "logo_churn_rate")
    assert (churn.numerator, churn.denominator) == (2.0, 9.0) and math.isclose(churn.value, 2 / 9, rel_tol=1e-12)
    by_month = {key: (r.numerator, r.denominator) for key, r in churn.breakdown}
    assert by_month["2024-03"] == (1.0, 3.0) and by_month["2024-04"] == (1.0, 2.0) and by_month["2024-05"] == (0.0, 1.0)
    bridge = revenue_movements(dataset).complete_in(dataset.window)
    assert sum(r.churned_customers for r in bridge) == churn.numerator
    assert sum(r.starting_customers for r in bridge) == churn.denominator


def test_ltv_divides_by_the_displayed_logo_churn(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path, TABLES, "2024-06-30")
    ltv, arpa, churn = (compute_metric(dataset, m) for m in ("ltv", "arpa", "logo_churn_rate"))
    assert math.isclose(ltv.value, 360.0, rel_tol=1e-12)
    assert ltv.value == arpa.value * dataset.config.revenue.gross_margin / churn.value
    assert ltv.denominator == churn.value


def test_two_churn_events_are_flagged_as_a_small_sample_in_metrics_and_facts(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path, TABLES, "2024-06-30")
    churn, ltv = compute_metric(dataset, "logo_churn_rate"), compute_metric(dataset, "ltv")
    assert churn.small_sample and "2 churn events (< 10)" in churn.reason
    assert ltv.small_sample and "2 churn events" in ltv.reason
    bundle = build_facts(dataset)
    facts = bundle.by_id()
    assert facts["logo_churn_rate"].value == churn.value and facts["ltv"].value == ltv.value
    assert facts["logo_churn_rate"].small_sample and facts["logo_churn_rate"].interval == churn.interval
    assert any(c.startswith("Small samples") and "logo_churn_rate" in c and "ltv" in c for c in bundle.caveats)


def test_churn_agrees_across_metrics_on_the_demo(demo_db: Path) -> None:
    """Invariants on the demo: the displayed churn is the bridge's churn, LTV = ARPA × margin ÷ that churn."""
    from datetime import date

    from lifecycle.dataset import Dataset, data_end

    dataset = Dataset.open(demo_db, data_end(demo_db))
    churn, ltv, arpa = (compute_metric(dataset, m) for m in ("logo_churn_rate", "ltv", "arpa"))
    bridge = revenue_movements(dataset).complete_in(dataset.window)
    assert churn.numerator == sum(r.churned_customers for r in bridge) > 0
    assert churn.denominator == sum(r.starting_customers for r in bridge)
    assert math.isclose(ltv.value, arpa.value * dataset.config.revenue.gross_margin / churn.value, rel_tol=1e-12)
    assert isinstance(dataset.as_of, date)
