"""Revenue metrics on the hand-computed story of tests/lifecycle/test_revenue_movements.py.

Window 2024-01-01 .. 2024-04-30, as_of 2024-04-30: four complete months (Jan..Apr). From the story's bridge:

    month  starting  new  expansion  reactivation  contraction  churn  ending  paying at start  churned
    Jan       440      0      40          0             30          0     450         4              0
    Feb       450     70      50          0              0          0     570         4              0
    Mar       570      0       0          0              0        200     370         5              1
    Apr       370      0       0        120             40          0     450         4              0

MRR on as_of = 450 from 5 paying customers (a 150, b 120, c 50, d 60, e 70) → ARPA 90.
Customers signing up in the window with a cost: e (300) and f (500, no subscription) → CAC = 400.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import EngineConfig, RevenueConfig
from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.metrics.registry import TARGETS, compute_metric
from lifecycle.metrics.results import Status
from lifecycle.metrics.revenue import DEFINITIONS
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_store
from tests.lifecycle.test_revenue_movements import STORY, STORY_WINDOW

REVENUE_IDS = tuple(d.id for d in DEFINITIONS)


@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's store, built once and opened at several as_of dates, windows, filters and configs."""
    return quick_store(tmp_path_factory.mktemp("revenue-metrics") / "story.db", STORY)


@pytest.fixture
def story(story_db: Path) -> Dataset:
    return open_at(story_db, as_of="2024-04-30", window=STORY_WINDOW)


def test_mrr_arr_and_arpa_are_read_on_as_of(story: Dataset) -> None:
    """MRR = 150 + 120 + 50 + 60 + 70 = 450; ARR = 12 × 450 = 5400; ARPA = 450 ÷ 5 = 90."""
    assert (compute_metric(story, "mrr").value, compute_metric(story, "mrr").sample_size) == (450, 5)
    assert compute_metric(story, "arr").value == 5400
    arpa = compute_metric(story, "arpa")
    assert (arpa.numerator, arpa.denominator, arpa.value) == (450, 5, 90)


@pytest.mark.parametrize(("metric_id", "expected", "customers_moving"), [
    ("new_mrr", 70, 1),  # e in Feb
    ("expansion_mrr", 90, 2),  # d +40 in Jan, a +50 in Feb
    ("reactivation_mrr", 120, 1),  # b in Apr
    ("contraction_mrr", 70, 2),  # c −30 in Jan, d −40 in Apr
    ("churned_mrr", 200, 1),  # b in Mar
], ids=["new", "expansion", "reactivation", "contraction", "churn"])
def test_movement_totals_sum_the_complete_months_of_the_window(story: Dataset, metric_id: str, expected: float,
                                                               customers_moving: int) -> None:
    """December's 440 of new MRR lies before the window and is not counted."""
    result = compute_metric(story, metric_id)
    assert (result.value, result.sample_size) == (expected, customers_moving)


def test_nrr_of_the_starting_cohort(story: Dataset) -> None:
    """Cohort on 2023-12-31: a, b, c, d = 440. On 2024-04-30 they pay 380 (e is new, excluded).
    NRR = 380 ÷ 440 = 1 + (90 + 120 − 70 − 200) ÷ 440 = 0.8636…, below the 100–120%+ band."""
    result = compute_metric(story, "nrr")
    assert (result.numerator, result.denominator, result.sample_size) == (380, 440, 4)
    assert result.value == pytest.approx(380 / 440, abs=1e-12)
    assert result.target == TARGETS["nrr"] and result.status is Status.BELOW


def test_grr_caps_each_member_at_its_starting_mrr(story: Dataset) -> None:
    """Σ min(end, start): a min(150, 100) = 100, b min(120, 200) = 120, c 50, d 60 → 330 ÷ 440 = 0.75 (below 85–95%).
    a's expansion does not offset b's loss."""
    result = compute_metric(story, "grr")
    assert (result.numerator, result.denominator, result.value) == (330, 440, 0.75)
    assert result.target == TARGETS["grr"] and result.status is Status.BELOW


def test_gross_mrr_churn_rate_is_the_mean_monthly_rate(story: Dataset) -> None:
    """(30/440 + 0/450 + 200/570 + 40/370) ÷ 4 = (0.0681818 + 0 + 0.3508772 + 0.1081081) ÷ 4 = 0.1317918."""
    result = compute_metric(story, "gross_mrr_churn_rate")
    assert result.value == pytest.approx(0.1317918, abs=1e-7)
    assert result.denominator == 4


def test_net_mrr_churn_rate_subtracts_expansion_and_reactivation(story: Dataset) -> None:
    """((30 − 40)/440 + (0 − 50)/450 + 200/570 + (40 − 120)/370) ÷ 4
    = (−0.0227273 − 0.1111111 + 0.3508772 − 0.2162162) ÷ 4 = 0.0008226 ÷ 4 = 0.0002056."""
    assert compute_metric(story, "net_mrr_churn_rate").value == pytest.approx(0.00020565, abs=1e-8)


def test_quick_ratio_is_gained_over_lost_mrr(story: Dataset) -> None:
    """(new 70 + expansion 90 + reactivation 120) ÷ (churn 200 + contraction 70) = 280 ÷ 270."""
    result = compute_metric(story, "quick_ratio")
    assert (result.numerator, result.denominator) == (280, 270)
    assert result.value == pytest.approx(280 / 270, abs=1e-12)


def test_ltv_is_margin_arpa_over_monthly_logo_churn(story: Dataset) -> None:
    """Logo churn per month 0/4, 0/4, 1/5, 0/4 → pooled 1/17 (the displayed logo_churn_rate). LTV = 90 × 0.8 × 17 = 1224."""
    result = compute_metric(story, "ltv")
    assert (result.numerator, result.denominator) == pytest.approx((72.0, 1 / 17), abs=1e-12)
    assert result.value == pytest.approx(1224, abs=1e-9)
    assert result.denominator == compute_metric(story, "logo_churn_rate").value


def test_ltv_uses_the_configured_gross_margin(story_db: Path) -> None:
    """Margin 0.5: LTV = 90 × 0.5 ÷ (1/17) = 765; CAC payback = 400 ÷ (90 × 0.5) = 8.888… months."""
    config = EngineConfig(revenue=RevenueConfig(gross_margin=0.5))
    ds = open_at(story_db, as_of="2024-04-30", window=STORY_WINDOW, config=config)
    assert compute_metric(ds, "ltv").value == pytest.approx(765, abs=1e-9)
    assert compute_metric(ds, "cac_payback_months").value == pytest.approx(400 / 45, abs=1e-12)


def test_ltv_to_cac_and_payback_use_cac_of_customers_signed_up_in_the_window(story: Dataset) -> None:
    """CAC = (300 + 500) ÷ 2 = 400 (a–d signed up before the window). LTV:CAC = 1224 ÷ 400 = 3.06;
    payback = 400 ÷ (90 × 0.8) = 5.555… months."""
    ratio = compute_metric(story, "ltv_to_cac")
    assert ratio.value == pytest.approx(3.06, abs=1e-12) and ratio.denominator == 400 and ratio.sample_size == 2
    payback = compute_metric(story, "cac_payback_months")
    assert payback.value == pytest.approx(400 / 72, abs=1e-12)


def test_ltv_without_churn_is_null_with_a_reason(story_db: Path) -> None:
    """Window Jan..Feb: nobody churned, so the lifetime is unbounded."""
    ds = open_at(story_db, as_of="2024-02-29", window=("2024-01-01", "2024-02-29"))
    result = compute_metric(ds, "ltv")
    assert result.value is None and "no customer churned" in (result.reason or "")
    assert compute_metric(ds, "ltv_to_cac").value is None


def test_cac_metrics_without_costs_are_null_with_a_reason(tmp_path: Path) -> None:
    tables = {**STORY, "customers": [{k: v for k, v in c.items() if k != "acquisition_cost"} for c in STORY["customers"]]}
    ds = open_at(quick_store(tmp_path / "no-costs.db", tables), as_of="2024-04-30", window=STORY_WINDOW)
    for metric_id in ("ltv_to_cac", "cac_payback_months"):
        result = compute_metric(ds, metric_id)
        assert result.value is None and "acquisition_cost" in (result.reason or "")


def test_quick_ratio_without_losses_is_null_with_a_reason(story_db: Path) -> None:
    """Feb only: new 70 + expansion 50, nothing lost."""
    ds = open_at(story_db, as_of="2024-02-29", window=("2024-02-01", "2024-02-29"))
    result = compute_metric(ds, "quick_ratio")
    assert result.value is None and result.numerator == 120 and "unbounded" in (result.reason or "")


def test_retention_without_a_starting_cohort_is_null_with_a_reason(story_db: Path) -> None:
    """Nobody paid on 2023-10-31, the day before a window starting 2023-11-01."""
    ds = open_at(story_db, as_of="2024-04-30", window=("2023-11-01", "2024-04-30"))
    for metric_id in ("nrr", "grr"):
        result = compute_metric(ds, metric_id)
        assert result.value is None and "2023-10-31" in (result.reason or "") and result.target == TARGETS[metric_id]


def test_flow_metrics_need_a_complete_month_in_the_window(story_db: Path) -> None:
    ds = open_at(story_db, as_of="2024-04-20", window=("2024-04-01", "2024-04-20"))
    for metric_id in ("new_mrr", "gross_mrr_churn_rate", "quick_ratio"):
        result = compute_metric(ds, metric_id)
        assert result.value is None and "no complete calendar month" in (result.reason or "")


def test_every_revenue_metric_without_subscriptions_is_null_with_a_reason(tmp_path: Path) -> None:
    ds = open_at(quick_store(tmp_path / "empty.db", {"customers": customers(("a", "2024-01-01"))}), as_of="2024-04-30")
    for metric_id in REVENUE_IDS:
        result = compute_metric(ds, metric_id)
        assert result.value is None and "subscriptions" in (result.reason or ""), metric_id


def test_filtered_scope_without_subscriptions_is_null_not_zero(story_db: Path) -> None:
    """Segment 'Mid-Market' selects nobody: MRR has no value rather than 0."""
    ds = open_at(story_db, as_of="2024-04-30", filters=Filters(segment=("Mid-Market",)))
    result = compute_metric(ds, "mrr")
    assert result.value is None and "no subscriptions" in (result.reason or "")


def test_filters_apply_to_revenue_metrics(story_db: Path) -> None:
    """SMB = a, b, c, d: MRR 150 + 120 + 50 + 60 = 380; new MRR in the window 0 (e is Enterprise); NRR still 380 ÷ 440."""
    ds = open_at(story_db, as_of="2024-04-30", window=STORY_WINDOW, filters=Filters(segment=("SMB",)))
    assert compute_metric(ds, "mrr").value == 380
    assert compute_metric(ds, "new_mrr").value == 0
    assert compute_metric(ds, "nrr").value == pytest.approx(380 / 440, abs=1e-12)


def test_default_window_is_the_trailing_twelve_months(story_db: Path) -> None:
    """as_of 2024-11-30 → window 2023-12-01 .. 2024-11-30: cohort on 2023-11-30 is empty (first sub starts 12-01),
    so NRR has no value; new MRR covers Dec..Nov = 440 (Dec) + 70 (e in Feb) = 510."""
    ds = open_at(story_db, as_of="2024-11-30")
    assert compute_metric(ds, "new_mrr").value == 510
    assert compute_metric(ds, "nrr").value is None


def test_revenue_metrics_are_deterministic_and_independent_of_row_order(story_db: Path, tmp_path: Path) -> None:
    """A second store with every table's rows reversed gives identical results, bit for bit."""
    reversed_story = {name: list(reversed(rows)) for name, rows in STORY.items()}
    first = open_at(story_db, as_of="2024-04-30", window=STORY_WINDOW)
    second = open_at(quick_store(tmp_path / "reversed.db", reversed_story), as_of="2024-04-30", window=STORY_WINDOW)
    assert [compute_metric(first, m).to_dict() for m in REVENUE_IDS] == [compute_metric(second, m).to_dict() for m in REVENUE_IDS]


def test_every_revenue_metric_is_registered_with_a_docstring_and_source() -> None:
    from lifecycle.metrics.registry import registry

    expected = {"mrr", "arr", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr",
                "nrr", "grr", "gross_mrr_churn_rate", "net_mrr_churn_rate", "quick_ratio", "ltv", "ltv_to_cac", "cac_payback_months"}
    assert set(REVENUE_IDS) == expected and expected <= set(registry())
    for spec in DEFINITIONS:
        assert spec.source and spec.formula and spec.compute.__doc__, spec.id
