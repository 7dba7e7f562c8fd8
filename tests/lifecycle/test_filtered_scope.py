"""A filtered scope is the whole base's computation restricted to the customers the filters select.

Population-dependent definitions — whether a configured event "occurs in the data", whether the source records
champions at all, the CLV model's fit — are settled on the whole base, so two segments are read with the same rules
and their numbers are comparable (docs/architecture.md, "Filtered scopes").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.snapshot import build_snapshot, snapshot_of
from tests.builders import make_store
from tests.lifecycle.test_snapshot import AS_OF, fixture_tables


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    tables = fixture_tables()
    tables["customers"] = [{**row, "country": "DE" if row["customer_id"] in ("a", "c") else "FR"}
                           for row in tables["customers"]]
    for row in tables["subscriptions"]:  # a moves from its own plan "pro" to "Team" on 2024-05-01 (s2)
        row["plan"] = "Team" if row["subscription_id"] == "s2" else None
    return make_store(tmp_path / "fixture.db", tables)


def _open(store: Path, filters: Filters, as_of: str = AS_OF) -> Dataset:
    return Dataset.open(store, date.fromisoformat(as_of), filters=filters)


def test_a_filtered_snapshot_is_the_whole_bases_snapshot_restricted_to_its_customers(store: Path) -> None:
    """Enterprise = c and d. Their own rows hold no champion and no onboarding event; the base does (a: champion Ann,
    five onboarding steps), so both signals exist and c and d read False / 0 steps — not "signal missing" (NA)."""
    whole = build_snapshot(_open(store, Filters()))
    filtered = build_snapshot(_open(store, Filters(segment=("Enterprise",))))
    pd.testing.assert_frame_equal(filtered, whole[whole["segment"] == "Enterprise"].reset_index(drop=True))
    rows = filtered.set_index("customer_id")
    assert list(rows.index) == ["c", "d"]
    assert rows["has_champion"].tolist() == [False, False]
    assert rows["onboarding_steps_done"].tolist() == [0.0, 0.0]
    assert rows["onboarding_complete"].tolist() == [False, False]


@pytest.mark.parametrize(("filters", "in_april", "in_june"), [
    (Filters(segment=("SMB",)), ["a"], ["a", "b"]),
    (Filters(country=("DE",)), ["a", "c"], ["a", "c"]),
    (Filters(segment=("Enterprise",), country=("DE",)), ["c"], ["c"]),
    (Filters(plan=("Team",)), [], ["a"]),
    (Filters(plan=("pro",)), ["a"], []),
    (Filters(cohort_from=date(2024, 1, 1), cohort_to=date(2024, 1, 15)), ["a", "d"], ["a", "d"]),
])
def test_the_snapshot_mask_selects_the_customers_the_sql_filter_selects(store: Path, filters: Filters, in_april: list[str],
                                                                        in_june: list[str]) -> None:
    """``Filters.select`` over the whole base's snapshot ≡ ``customer_sql`` over ``customers`` on the same day, both
    equal to the hand-made lists. Signed up by 2024-04-30: a (SMB, DE), c (Enterprise, DE), d (Enterprise, FR); by
    06-30 also b (SMB, FR). The plan is the paid plan on that day: a is "pro" (its own) on 04-30 and "Team" from 05-01
    (its Team subscription); nobody else names a plan. Cohort bounds are inclusive (a signed up 01-01, d 01-15)."""
    for as_of, expected in (("2024-04-30", in_april), (AS_OF, in_june)):
        dataset = _open(store, filters, as_of)
        assert sorted(dataset.customers()["customer_id"]) == expected
        assert sorted(snapshot_of(dataset)["customer_id"]) == expected


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(segment=("SMB",)), ["l1", "l3"]),
    (Filters(channel=("ads",)), ["l1", "l2"]),
    (Filters(segment=("SMB",), channel=("ads",)), ["l1"]),
    (Filters(cohort_from=date(2024, 2, 1), cohort_to=date(2024, 3, 1)), ["l2", "l3"]),
    (Filters(country=("DE",)), ["l1", "l2", "l3", "l4"]),  # leads carry no country: not applied (``lead_notes``)
])
def test_a_filtered_scopes_leads_are_the_whole_tables_leads_its_lead_filters_select(tmp_path: Path, filters: Filters,
                                                                                      expected: list[str]) -> None:
    """By hand: l1 SMB/ads 01-10, l2 Enterprise/ads 02-01, l3 SMB/organic 03-01, l4 no segment/organic 03-02 (the
    cohort bounds are inclusive days)."""
    leads = [{"lead_id": lid, "created_at": day, "segment": segment, "source": source}
             for lid, day, segment, source in [("l1", "2024-01-10", "SMB", "ads"), ("l2", "2024-02-01", "Enterprise", "ads"),
                                               ("l3", "2024-03-01", "SMB", "organic"), ("l4", "2024-03-02", None, "organic")]]
    store = make_store(tmp_path / "leads.db", {"customers": [{"customer_id": "a", "signup_date": "2024-01-01",
                                                              "country": "DE"}], "leads": leads})
    dataset = _open(store, filters)
    assert list(dataset.table("leads")["lead_id"]) == expected
    assert list(dataset.table("leads", columns=("lead_id",)).columns) == ["lead_id"]


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(segment=("SMB",)), ["a", "b"]),
    (Filters(country=("DE",)), ["a", "c"]),
    (Filters(plan=("Team",)), ["a"]),
    (Filters(plan=("pro",)), []),
    (Filters(cohort_from=date(2024, 1, 1), cohort_to=date(2024, 1, 15)), ["a", "d"]),
])
def test_a_filtered_scopes_classification_is_its_own_snapshots_classification(store: Path, filters: Filters,
                                                                              expected: list[str]) -> None:
    """``classified_customers`` of a filtered scope (the whole base's classification masked) ≡ the rules run on the
    scope's own snapshot, row for row, for the customers hand-listed above on 06-30 (a's plan is Team from 05-01)."""
    from lifecycle.stages.classification import classify_customers
    from lifecycle.stages.verdict import classified_customers

    whole = _open(store, Filters())
    classified_customers(whole)  # the whole base's classification memoised first, as a warm server has it
    dataset = _open(store, filters)
    own = classify_customers(build_snapshot(_open(store, filters)), dataset.stage_model, evidence=False)
    masked = classified_customers(dataset)
    if expected:
        pd.testing.assert_frame_equal(masked, own)
    else:  # no rows (an empty classification is typed object, the masked rows keep the whole base's types)
        assert masked.empty and own.empty and list(masked.columns) == list(own.columns)
    assert list(masked["customer_id"]) == expected
    assert classified_customers(dataset) is masked  # kept with the dataset: one classification per call


@pytest.mark.parametrize("filters", [
    Filters(segment=("SMB",)), Filters(country=("DE",)), Filters(plan=("Team",)), Filters(plan=("pro",)),
    Filters(cohort_from=date(2024, 1, 1), cohort_to=date(2024, 1, 15)), Filters(segment=("Enterprise",), country=("DE",)),
    Filters(stage=("churned",)), Filters(),
])
def test_a_few_columns_of_a_scopes_snapshot_are_its_snapshots_columns(store: Path, filters: Filters) -> None:
    """``scope_columns`` (the whole snapshot's columns at the scope's rows) ≡ those columns of the scope's own snapshot
    (built by the rules of ``build_snapshot``, not masked): same rows, order, values and dtypes; a column the snapshot
    lacks is left out."""
    from lifecycle.stages.scope_rows import scope_columns

    columns = ("customer_id", "churned", "mrr_current", "segment", "no_such_column")
    own = build_snapshot(_open(store, filters))
    pd.testing.assert_frame_equal(scope_columns(_open(store, filters), columns),
                                  own[["customer_id", "churned", "mrr_current", "segment"]])
