"""The monthly MRR bridge on a hand-computed story.

The story (``STORY``; subscriptions end on ``end_date``, exclusive):

    a  a1 100  2023-12-01 → 2024-02-15, then a2 150 from 2024-02-15        (upgrade in Feb)
    b  b1 200  2023-12-01 → 2024-03-10, then b2 120 from 2024-04-05        (churn in Mar, reactivation in Apr)
    c  c1  80  2023-12-10 → 2024-01-20, then c2  50 from 2024-01-20        (downgrade in Jan)
    d  d1  60  from 2023-12-05, plus d2 40  2024-01-01 → 2024-04-01        (adds a 2nd sub in Jan, cancels it in Apr)
    e  e1  70  from 2024-02-03                                             (new in Feb)

Month-end MRR per customer (a, b, c, d, e) and total:

    Dec  100 200 80  60  0   = 440
    Jan  100 200 50 100  0   = 450
    Feb  150 200 50 100 70   = 570
    Mar  150   0 50 100 70   = 370
    Apr  150 120 50  60 70   = 450

Bridge: Dec new 440 (4 customers); Jan expansion 40 (d), contraction 30 (c): 440 + 40 − 30 = 450;
Feb new 70 (e), expansion 50 (a): 450 + 120 = 570; Mar churn 200 (b): 370; Apr reactivation 120 (b),
contraction 40 (d — cancelling one of two subscriptions is contraction, not churn): 370 + 120 − 40 = 450.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lifecycle.errors import QueryError
from lifecycle.filters import Filters
from lifecycle.metrics.revenue_movements import (
    Movement,
    cohort_retention,
    customer_mrr_matrix,
    customer_mrr_on,
    movements_by_customer,
    revenue_movements,
)
from tests.builders import customers
from tests.lifecycle.metrics.stores import open_at, quick_store


def sub(subscription_id: str, customer_id: str, start: str, end: str | None, mrr: float) -> dict[str, Any]:
    return {"subscription_id": subscription_id, "customer_id": customer_id, "start_date": start, "end_date": end, "mrr": mrr}


STORY_SUBSCRIPTIONS = [
    sub("a1", "a", "2023-12-01", "2024-02-15", 100), sub("a2", "a", "2024-02-15", None, 150),
    sub("b1", "b", "2023-12-01", "2024-03-10", 200), sub("b2", "b", "2024-04-05", None, 120),
    sub("c1", "c", "2023-12-10", "2024-01-20", 80), sub("c2", "c", "2024-01-20", None, 50),
    sub("d1", "d", "2023-12-05", None, 60), sub("d2", "d", "2024-01-01", "2024-04-01", 40),
    sub("e1", "e", "2024-02-03", None, 70),
]
STORY: dict[str, list[dict[str, Any]]] = {
    "customers": customers(("a", "2023-11-20"), ("b", "2023-11-20"), ("c", "2023-11-20"), ("d", "2023-11-20"), segment="SMB")
    + [{"customer_id": "e", "signup_date": "2024-02-01", "acquisition_cost": 300.0, "segment": "Enterprise"},
       {"customer_id": "f", "signup_date": "2024-03-01", "acquisition_cost": 500.0, "segment": "Enterprise"}],
    "subscriptions": STORY_SUBSCRIPTIONS,
}
STORY_WINDOW = ("2024-01-01", "2024-04-30")


@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's store, built once and opened at several as_of dates, windows and filters."""
    return quick_store(tmp_path_factory.mktemp("revenue-story") / "story.db", STORY)


def test_bridge_matches_the_hand_computed_story(story_db: Path) -> None:
    """Rows as in the module docstring: (starting, new, expansion, reactivation, contraction, churn, ending)."""
    table = revenue_movements(open_at(story_db, as_of="2024-04-30"))
    got = [(r.label, r.starting_mrr, r.new, r.expansion, r.reactivation, r.contraction, r.churn, r.ending_mrr) for r in table.rows]
    assert got == [
        ("2023-12", 0, 440, 0, 0, 0, 0, 440),
        ("2024-01", 440, 0, 40, 0, 30, 0, 450),
        ("2024-02", 450, 70, 50, 0, 0, 0, 570),
        ("2024-03", 570, 0, 0, 0, 0, 200, 370),
        ("2024-04", 370, 0, 0, 120, 40, 0, 450),
    ]
    assert [r.net_new for r in table.rows] == [440, 10, 120, -200, 80]


def test_bridge_counts_customers_per_movement(story_db: Path) -> None:
    """Counts: Dec 4 new; Jan 1 expansion (d) + 1 contraction (c); Feb 1 new (e) + 1 expansion (a); Mar 1 churned (b);
    Apr 1 reactivation (b) + 1 contraction (d). Paying at month start: 0, 4, 4, 5, 4; at month end: 4, 4, 5, 4, 5."""
    rows = revenue_movements(open_at(story_db, as_of="2024-04-30")).rows
    counts = [tuple(r.count(k) for k in Movement) for r in rows]  # new, expansion, reactivation, contraction, churn
    assert counts == [(4, 0, 0, 0, 0), (0, 1, 0, 1, 0), (1, 1, 0, 0, 0), (0, 0, 0, 0, 1), (0, 0, 1, 1, 0)]
    assert [r.starting_customers for r in rows] == [0, 4, 4, 5, 4]
    assert [r.ending_customers for r in rows] == [4, 4, 5, 4, 5]


def test_movements_by_customer_explains_who_moved(story_db: Path) -> None:
    """April: b comes back at 120 (reactivation), d drops 100 → 60 (contraction 40); a, c, e unchanged."""
    moved = movements_by_customer(open_at(story_db, as_of="2024-04-30"), "2024-04")
    assert [(m.customer_id, m.movement, m.previous_mrr, m.current_mrr, m.amount) for m in moved] == [
        ("b", Movement.REACTIVATION, 0.0, 120.0, 120.0),
        ("d", Movement.CONTRACTION, 100.0, 60.0, 40.0),
    ]


def test_cancelling_one_of_two_subscriptions_is_contraction_not_churn(story_db: Path) -> None:
    """d keeps d1 (60) when d2 (40) ends on 2024-04-01: April shows contraction 40 for d and no churn."""
    moved = movements_by_customer(open_at(story_db, as_of="2024-04-30"), date(2024, 4, 15))
    d = [m for m in moved if m.customer_id == "d"]
    assert [(m.movement, m.amount) for m in d] == [(Movement.CONTRACTION, 40.0)]


def test_churned_customer_paying_again_is_reactivation_and_first_payment_is_new(story_db: Path) -> None:
    """b churned in March and pays 120 in April → reactivation; e paid for the first time in February → new."""
    ds = open_at(story_db, as_of="2024-04-30")
    feb = movements_by_customer(ds, "2024-02")
    assert [(m.customer_id, m.movement) for m in feb] == [("e", Movement.NEW), ("a", Movement.EXPANSION)]
    assert [(m.customer_id, m.movement, m.amount) for m in movements_by_customer(ds, "2024-03")] == [("b", Movement.CHURN, 200.0)]


def test_customer_mrr_matrix_is_customers_by_month_ends(story_db: Path) -> None:
    """The matrix is the table of the module docstring (rows a..e, columns Dec..Apr)."""
    matrix = customer_mrr_matrix(open_at(story_db, as_of="2024-04-30"))
    frame = matrix.to_frame()
    assert list(frame.index) == ["a", "b", "c", "d", "e"]
    assert list(frame.columns) == ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]
    np.testing.assert_array_equal(frame.to_numpy(), [
        [100, 100, 150, 150, 150], [200, 200, 200, 0, 120], [80, 50, 50, 50, 50], [60, 100, 100, 100, 60], [0, 0, 70, 70, 70],
    ])
    assert not matrix.partial_last


def test_mrr_on_a_day_counts_start_inclusive_end_exclusive(story_db: Path) -> None:
    """On 2024-02-15 a1 (ends that day) is gone and a2 (starts that day) is active: a = 150. On 2024-02-14 a = 100."""
    ds = open_at(story_db, as_of="2024-04-30")
    assert customer_mrr_on(ds, date(2024, 2, 15))["a"] == 150
    assert customer_mrr_on(ds, date(2024, 2, 14))["a"] == 100


def test_earlier_as_of_ignores_later_subscription_changes(story_db: Path, tmp_path: Path) -> None:
    """At as_of 2024-02-29, b1 (ends 2024-03-10) and d2 (ends 2024-04-01) read as still active and b2 does not exist yet.

    The bridge must equal the bridge of a store that only ever held what was known on that day: Dec..Feb rows
    as in the story (ending 440, 450, 570) and no churn anywhere.
    """
    known_then = [dict(s, end_date=None) if s["subscription_id"] in ("b1", "d2") else s
                  for s in STORY_SUBSCRIPTIONS if s["subscription_id"] != "b2"]
    full = revenue_movements(open_at(story_db, as_of="2024-02-29"))
    past = revenue_movements(open_at(quick_store(tmp_path / "past.db", {**STORY, "subscriptions": known_then}), as_of="2024-02-29"))
    assert full == past
    assert [r.ending_mrr for r in full.rows] == [440, 450, 570]
    assert all(r.churn == 0 for r in full.rows)


def test_month_holding_as_of_is_read_on_as_of_and_marked_partial(story_db: Path) -> None:
    """as_of 2024-03-05 (b1 still active until 2024-03-10): March is read on 03-05 with MRR 570, partial, no movement."""
    table = revenue_movements(open_at(story_db, as_of="2024-03-05"))
    last = table.rows[-1]
    assert (last.label, last.month_end, last.partial, last.ending_mrr, last.net_new) == ("2024-03", date(2024, 3, 5), True, 570, 0)
    assert not any(r.partial for r in table.rows[:-1])


def test_complete_months_in_window_exclude_partial_and_outside_months(story_db: Path) -> None:
    """Window 2024-01-15 .. 2024-03-05 at as_of 2024-03-05: January starts before the window, March is partial → only Feb."""
    ds = open_at(story_db, as_of="2024-03-05", window=("2024-01-15", "2024-03-05"))
    assert [r.label for r in revenue_movements(ds).complete_in(ds.window)] == ["2024-02"]


def test_filters_restrict_the_bridge_to_the_selected_customers(story_db: Path) -> None:
    """Only e is Enterprise (f has no subscription): Feb new 70, nothing else moves; ending 0, 0, 70, 70, 70."""
    ds = open_at(story_db, as_of="2024-04-30", filters=Filters(segment=("Enterprise",)))
    rows = revenue_movements(ds).rows
    assert [r.label for r in rows] == ["2024-02", "2024-03", "2024-04"]
    assert [(r.new, r.ending_mrr) for r in rows] == [(70, 70), (0, 70), (0, 70)]


def test_cohort_retention_splits_the_cohorts_change_into_movements(story_db: Path) -> None:
    """Cohort paying on 2023-12-31: a, b, c, d with 100 + 200 + 80 + 60 = 440; on 2024-04-30 150 + 120 + 50 + 60 = 380
    (e is new, not in the cohort). Expansion 50 (a) + 40 (d) = 90, reactivation 120 (b), contraction 30 (c) + 40 (d) = 70,
    churn 200 (b): 440 + 90 + 120 − 70 − 200 = 380. Retained Σ min(end, start) = 100 + 120 + 50 + 60 = 330."""
    cohort = cohort_retention(open_at(story_db, as_of="2024-04-30", window=STORY_WINDOW))
    assert (cohort.customers, cohort.starting_mrr, cohort.ending_mrr, cohort.retained_mrr) == (4, 440, 380, 330)
    assert (cohort.expansion, cohort.reactivation, cohort.contraction, cohort.churn) == (90, 120, 70, 200)


def test_scope_without_subscriptions_has_an_empty_bridge(tmp_path: Path) -> None:
    ds = open_at(quick_store(tmp_path / "empty.db", {"customers": customers(("a", "2024-01-01"))}), as_of="2024-04-30")
    assert revenue_movements(ds).rows == ()
    assert movements_by_customer(ds, "2024-03") == ()


def test_month_after_as_of_is_a_query_error(story_db: Path) -> None:
    with pytest.raises(QueryError, match="after as_of"):
        movements_by_customer(open_at(story_db, as_of="2024-04-30"), "2024-05")


def test_two_computations_on_the_same_data_are_identical(story_db: Path, tmp_path: Path) -> None:
    first = revenue_movements(open_at(story_db, as_of="2024-04-30"))
    second = revenue_movements(open_at(quick_store(tmp_path / "again.db", STORY), as_of="2024-04-30"))
    assert first == second and first.to_frame().equals(second.to_frame())


def test_bridge_does_not_depend_on_row_order(story_db: Path, tmp_path: Path) -> None:
    """The same subscriptions inserted in reverse order give the same bridge, bit for bit."""
    reversed_story = {**STORY, "subscriptions": list(reversed(STORY_SUBSCRIPTIONS))}
    forward = revenue_movements(open_at(story_db, as_of="2024-04-30"))
    backward = revenue_movements(open_at(quick_store(tmp_path / "reversed.db", reversed_story), as_of="2024-04-30"))
    assert forward == backward


@pytest.fixture(scope="module")
def split_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story with a and b in segment SMB, c and d in Mid (e Enterprise, f Enterprise without a subscription)."""
    people = customers(("a", "2023-11-20"), ("b", "2023-11-20"), segment="SMB") + customers(
        ("c", "2023-11-20"), ("d", "2023-11-20"), segment="Mid")
    return quick_store(tmp_path_factory.mktemp("revenue-split") / "split.db", {**STORY, "customers": people + STORY["customers"][4:]})


@pytest.mark.parametrize(("segment", "expected"), [
    # (customers, starting, ending, retained, expansion, reactivation, contraction, churn) from the docstring's table:
    # SMB a, b: 100 + 200 = 300 → 150 + 120 = 270; a expands 50, b churns 200 and comes back at 120; retained
    # min(150, 100) + min(120, 200) = 220. Mid c, d: 80 + 60 = 140 → 50 + 60 = 110; d expands 40 in Jan; c contracts
    # 30, d 40 in Apr; retained 50 + 60 = 110. Enterprise: e starts in Feb, so nobody pays on 2023-12-31.
    ("SMB", (2, 300, 270, 220, 50, 120, 0, 200)),
    ("Mid", (2, 140, 110, 110, 40, 0, 70, 0)),
    ("Enterprise", (0, 0, 0, 0, 0, 0, 0, 0)),
])
def test_a_segments_cohort_retention_is_its_own_customers(split_db: Path, segment: str, expected: tuple[float, ...]) -> None:
    """Each segment's cohort only holds its own customers, whether or not the whole base's values were read first."""
    for _ in range(2):
        whole = cohort_retention(open_at(split_db, as_of="2024-04-30", window=STORY_WINDOW))
        assert (whole.customers, whole.starting_mrr, whole.ending_mrr) == (4, 440, 380)
        cohort = cohort_retention(open_at(split_db, as_of="2024-04-30", window=STORY_WINDOW, filters=Filters(segment=(segment,))))
        assert (cohort.customers, cohort.starting_mrr, cohort.ending_mrr, cohort.retained_mrr, cohort.expansion,
                cohort.reactivation, cohort.contraction, cohort.churn) == expected


def test_a_segments_mrr_on_a_day_lists_only_its_customers(split_db: Path) -> None:
    """On 2024-03-15: a 150, b 0 (b1 ended 03-10, b2 starts 04-05) for SMB; c 50, d 100 for Mid; e 70 for Enterprise
    (f has no subscription, so no row)."""
    on = date(2024, 3, 15)
    assert customer_mrr_on(open_at(split_db, as_of="2024-04-30"), on).to_dict() == {"a": 150, "b": 0, "c": 50, "d": 100, "e": 70}
    for segment, expected in (("SMB", {"a": 150, "b": 0}), ("Mid", {"c": 50, "d": 100}), ("Enterprise", {"e": 70})):
        found = customer_mrr_on(open_at(split_db, as_of="2024-04-30", filters=Filters(segment=(segment,))), on)
        assert found.to_dict() == expected
        assert found.index.name == "customer_id" and str(found.index.dtype) == "string"
