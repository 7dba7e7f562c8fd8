"""Funnel metrics on a hand-computed lead fixture.

Leads (window 2024-01-01..2024-06-30, as_of 2024-06-30):

| lead | created    | source | segment | mql   | sql   | won        | customer | note                          |
|------|------------|--------|---------|-------|-------|------------|----------|-------------------------------|
| L1   | 2024-01-10 | ads    | SMB     | 01-15 | 01-20 | 2024-02-01 | c1       | full path, 22 days            |
| L2   | 2024-02-01 | ads    | SMB     | 02-05 | 02-10 |            |          | lost                          |
| L3   | 2024-03-01 | seo    | SMB     | 03-02 |       |            |          |                               |
| L4   | 2024-03-05 | seo    | SMB     |       |       |            |          |                               |
| L5   | 2024-04-01 | seo    | ENT     |       | 04-03 | 2024-04-30 | c5       | direct to SQL, 29 days        |
| L6   | 2023-12-20 | ads    | ENT     | 12-22 | 12-28 | 2024-01-15 | c6       | created before the window, 26 |
| L7   | 2024-05-01 | (none) | ENT     | 05-02 |       | 2024-07-15 | c7       | won after as_of               |
| L8   | 2024-05-10 | ads    | ENT     |       |       | 2024-05-20 |          | won without customer, 10 days |

Cohort = leads created in the window: L1 L2 L3 L4 L5 L7 L8 (7).
Reached MQL (own or later date): L1 L2 L3 L5 L7 L8 = 6. Reached SQL: L1 L2 L5 L8 = 4.
Became customer (won by as_of with a customer id): L1 L5 = 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.metrics.registry import compute_metric
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_dataset, quick_store


def lead(lead_id: str, created: str, source: str | None, segment: str, mql: str | None = None, sql: str | None = None,
         won: str | None = None, customer: str | None = None) -> dict[str, object]:
    return {"lead_id": lead_id, "created_at": created, "source": source, "segment": segment, "mql_at": mql, "sql_at": sql,
            "won_at": won, "customer_id": customer}


LEADS = [
    lead("L1", "2024-01-10", "ads", "SMB", "2024-01-15", "2024-01-20", "2024-02-01", "c1"),
    lead("L2", "2024-02-01", "ads", "SMB", "2024-02-05", "2024-02-10"),
    lead("L3", "2024-03-01", "seo", "SMB", "2024-03-02"),
    lead("L4", "2024-03-05", "seo", "SMB"),
    lead("L5", "2024-04-01", "seo", "ENT", None, "2024-04-03", "2024-04-30", "c5"),
    lead("L6", "2023-12-20", "ads", "ENT", "2023-12-22", "2023-12-28", "2024-01-15", "c6"),
    lead("L7", "2024-05-01", None, "ENT", "2024-05-02", None, "2024-07-15", "c7"),
    lead("L8", "2024-05-10", "ads", "ENT", None, None, "2024-05-20", None),
]
CUSTOMERS = [
    {"customer_id": "c1", "signup_date": "2024-02-01", "acquisition_cost": 300.0},
    {"customer_id": "c5", "signup_date": "2024-04-30", "acquisition_cost": 500.0},
    {"customer_id": "c6", "signup_date": "2024-01-15"},
    {"customer_id": "c9", "signup_date": "2023-06-01", "acquisition_cost": 1000.0},
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("funnel") / "funnel.db", {"customers": CUSTOMERS, "leads": LEADS})


def funnel(store: Path, as_of: str = "2024-06-30", window: tuple[str, str] | None = ("2024-01-01", "2024-06-30"),
           filters: Filters | None = None) -> Dataset:
    return open_at(store, as_of, window, filters)


@pytest.mark.parametrize(("metric_id", "numerator", "denominator"), [
    pytest.param("lead_to_mql_rate", 6, 7, id="lead-to-mql-6-of-7"),
    pytest.param("mql_to_sql_rate", 4, 6, id="mql-to-sql-4-of-6"),
    pytest.param("sql_to_customer_rate", 2, 4, id="sql-to-customer-2-of-4"),
    pytest.param("lead_to_customer_rate", 2, 7, id="lead-to-customer-2-of-7"),
])
def test_stage_rates_count_a_stage_when_its_or_a_later_date_is_set_by_as_of(tmp_path: Path, store: Path, metric_id: str, numerator: int,
                                                                             denominator: int) -> None:
    """See the module docstring: L5 passes MQL via its SQL date, L8 via won_at; L7's won_at after as_of does not count."""
    result = compute_metric(funnel(store), metric_id)
    assert (result.numerator, result.denominator) == (numerator, denominator)
    assert result.value == pytest.approx(numerator / denominator)


def test_conversion_by_channel_breaks_down_by_lead_source_sorted_by_key(tmp_path: Path, store: Path) -> None:
    """(unknown): L7 → 0/1; ads: L1 L2 L8 → 1/3 (L1); seo: L3 L4 L5 → 1/3 (L5). Overall 2/7."""
    result = compute_metric(funnel(store), "conversion_by_channel")
    assert result.value == pytest.approx(2 / 7)
    assert [(key, r.numerator, r.denominator) for key, r in result.breakdown] == [
        ("(unknown)", 0.0, 1.0), ("ads", 1.0, 3.0), ("seo", 1.0, 3.0)]


def test_time_to_convert_is_the_median_days_of_leads_won_in_the_window(tmp_path: Path, store: Path) -> None:
    """Won in the window by as_of: L8 10, L1 22, L6 26, L5 29 days (L7 won after as_of) → median (22 + 26) / 2 = 24."""
    result = compute_metric(funnel(store), "time_to_convert_days")
    assert (result.value, result.sample_size) == (24.0, 4)


def test_as_of_hides_conversions_that_happened_later(tmp_path: Path, store: Path) -> None:
    """as_of 2024-01-31, trailing 12 months: cohort L6 (created 2023-12-20) and L1; L1's won_at 2024-02-01 is after as_of.

    Customers: L6 only → lead_to_customer = 1/2.
    """
    result = compute_metric(funnel(store, as_of="2024-01-31", window=None), "lead_to_customer_rate")
    assert (result.numerator, result.denominator) == (1.0, 2.0)


def test_segment_filter_narrows_the_lead_cohort(tmp_path: Path, store: Path) -> None:
    """SMB leads in the window: L1 L2 L3 L4; reached MQL: L1 L2 L3 → 3/4."""
    result = compute_metric(funnel(store, filters=Filters(segment=("SMB",))), "lead_to_mql_rate")
    assert (result.numerator, result.denominator) == (3.0, 4.0)


def test_filter_leads_do_not_carry_is_ignored_and_named_in_the_reason(tmp_path: Path, store: Path) -> None:
    """A plan filter cannot apply to leads: the cohort stays 7 leads, and the reason says so."""
    result = compute_metric(funnel(store, filters=Filters(plan=("Pro",))), "lead_to_mql_rate")
    assert (result.numerator, result.denominator) == (6.0, 7.0)
    assert "filter 'plan' does not apply to leads" in (result.reason or "")


@pytest.mark.parametrize("filters", [
    pytest.param((Filters(industry=("retail",)), Filters(industry=("health",)), Filters(plan=("Pro",))), id="industries-then-plan"),
    pytest.param((Filters(plan=("Pro",), segment=("SMB",)), Filters(plan=("Basic",), segment=("SMB",))), id="plans-within-smb"),
])
def test_scopes_differing_only_by_filters_leads_do_not_carry_count_the_same_cohort(store: Path, filters: tuple[Filters, ...]) -> None:
    """One after another (one lead table shared by the scopes): each counts what the lead filters alone select —
    every cohort lead 6/7 reached MQL, the SMB ones 3/4 (L1 L2 L3 of L1..L4) — and names the filters it ignored."""
    for chosen in filters:
        result = compute_metric(funnel(store, filters=chosen), "conversion_by_channel")
        cohort = compute_metric(funnel(store, filters=chosen), "lead_to_mql_rate")
        if chosen.segment:
            assert (cohort.numerator, cohort.denominator) == (3.0, 4.0)
            assert [(key, r.numerator, r.denominator) for key, r in result.breakdown] == [("ads", 1.0, 2.0), ("seo", 0.0, 2.0)]
        else:
            assert (cohort.numerator, cohort.denominator) == (6.0, 7.0)
            assert (result.numerator, result.denominator) == (2.0, 7.0)
        ignored = "industry" if chosen.industry else "plan"
        assert f"filter '{ignored}' does not apply to leads" in (cohort.reason or "")


def test_no_leads_in_the_window_gives_none_with_a_reason(tmp_path: Path, store: Path) -> None:
    result = compute_metric(funnel(store, window=("2022-01-01", "2022-12-31")), "lead_to_customer_rate")
    assert result.value is None and result.reason


def test_funnel_metrics_without_a_leads_table_are_none(tmp_path: Path, store: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-01-01"))}, as_of="2024-06-30")
    result = compute_metric(ds, "mql_to_sql_rate")
    assert result.value is None and "leads" in (result.reason or "")


def test_cac_divides_recorded_costs_by_every_new_customer_and_says_how_many_lack_a_cost(tmp_path: Path, store: Path) -> None:
    """New in the window: c6 (2024-01-15, no cost), c1 (300), c5 (500); c9 signed up before the window.

    CAC = (300 + 500) ÷ 3 = 266.67; the reason names the 1 of 3 without a cost.
    """
    result = compute_metric(funnel(store), "cac")
    assert (result.numerator, result.denominator) == (800.0, 3.0)
    assert result.value == pytest.approx(266.6666667)
    assert "1 of 3" in (result.reason or "")


def test_cac_without_any_recorded_cost_is_none_not_zero(tmp_path: Path, store: Path) -> None:
    ds = quick_dataset(tmp_path, {"customers": customers(("a", "2024-03-01"))}, as_of="2024-06-30")
    result = compute_metric(ds, "cac")
    assert result.value is None and "acquisition_cost" in (result.reason or "")


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_the_lead_funnel_counts_each_sources_cohort_at_every_step_in_the_database(store: Path, engine: str) -> None:
    """Per source, the window's cohort (module doc) at lead / MQL / SQL / customer: ads L1 L2 L8 → 3, 3, 3 (L8's win
    proves SQL), 1 (L8 has no customer); seo L3 L4 L5 → 3, 2, 1, 1; (unknown) L7 → 1, 1, 0, 0 (won after as_of) —
    the same on SQLite and on DuckDB reading the file."""
    from datetime import date

    from lifecycle.metrics.funnel import lead_funnel
    from lifecycle.scope import Scope, Window
    from lifecycle.sources import open_source

    scope = Scope.at(date(2024, 6, 30), None, Window(date(2024, 1, 1), date(2024, 6, 30)))
    counts = lead_funnel(Dataset.over(open_source(store, engine=engine), scope))
    assert {key: tuple(int(v) for v in row) for key, row in counts.iterrows()} == {
        "(unknown)": (1, 1, 0, 0), "ads": (3, 3, 3, 1), "seo": (3, 2, 1, 1)}
    assert list(counts.index) == ["(unknown)", "ads", "seo"]
