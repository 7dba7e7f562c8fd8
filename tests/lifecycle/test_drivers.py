"""Progression drivers: interval maths against published values, rates against hand counts, no look-ahead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.config import ActivationConfig, EngineConfig
from lifecycle.stages import load_model
from lifecycle.stages.drivers import (
    CAVEAT,
    DEFAULT_SIGNALS,
    Transition,
    measure_drivers,
    newcombe_interval,
    progression_drivers,
    wilson_interval,
)
from tests.builders import make_dataset

DEFAULT = load_model("default")


@pytest.mark.parametrize(("successes", "n", "expected"), [
    (8, 10, (0.490, 0.943)),   # Wilson 1927; e.g. Newcombe 1998 Table I style 95% score interval
    (0, 10, (0.000, 0.278)),   # upper = z² / (n + z²) = 3.8415 / 13.8415
    (10, 10, (0.722, 1.000)),
], ids=["8-of-10", "0-of-10", "10-of-10"])
def test_wilson_interval_matches_published_values(successes: int, n: int, expected: tuple[float, float]) -> None:
    low, high = wilson_interval(successes, n)
    assert (round(low, 3), round(high, 3)) == expected


def test_newcombe_interval_matches_newcombe_1998_example() -> None:
    """Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 − 48/80, method 10 → 0.0524 to 0.3339."""
    low, high = newcombe_interval(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_empty_groups_give_no_interval() -> None:
    assert wilson_interval(0, 0) == (None, None)
    assert newcombe_interval(1, 2, 0, 0) == (None, None)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """22 onboarding customers at the signal date plus one in adoption and one already churned.

    onboarding_complete: yes ×10 (8 reach adoption), no ×10 (3 reach adoption), unknown ×2 (both do).
    The adoption customer (onboarding complete) churns by as_of.
    """
    start: list[dict[str, Any]] = []
    end: list[dict[str, Any]] = []

    def add(cid: str, complete: bool | None, stage0: str, stage1: str, churned0: bool = False, churned1: bool = False) -> None:
        start.append({"customer_id": cid, "stage": stage0, "churned": churned0, "onboarding_complete": complete})
        end.append({"customer_id": cid, "stage": stage1, "churned": churned1})

    for i in range(10):
        add(f"y{i}", True, "purchase_onboarding", "adoption" if i < 8 else "purchase_onboarding")
        add(f"n{i}", False, "purchase_onboarding", "adoption" if i < 3 else "purchase_onboarding")
    add("u0", None, "purchase_onboarding", "adoption")
    add("u1", None, "purchase_onboarding", "adoption")
    add("a0", True, "adoption", "adoption", churned1=True)
    add("gone", True, "adoption", "adoption", churned0=True, churned1=True)
    snapshot = pd.DataFrame(start)[["customer_id", "onboarding_complete"]]
    snapshot["customer_id"] = snapshot["customer_id"].astype("string")
    snapshot["onboarding_complete"] = snapshot["onboarding_complete"].astype("boolean")
    snapshot["nps_category"] = pd.array([pd.NA] * len(snapshot), dtype="string")
    states0 = pd.DataFrame(start).set_index("customer_id")[["stage", "churned"]]
    states1 = pd.DataFrame(end).set_index("customer_id")
    for frame in (states0, states1):
        frame.index = frame.index.astype("string")
    return snapshot, states0, states1


def test_rates_with_and_without_a_signal_match_hand_counts() -> None:
    """onboarding → later stage, signal onboarding_complete: with 8/10 = 0.8 (Wilson 0.490–0.943), without
    3/10 = 0.3 (0.108–0.603); difference 0.5; lift 0.8 / 0.3 = 2.667; both groups < 30 → small sample.
    The two customers with unknown onboarding are in neither group but in the population (22)."""
    signals = tuple(s for s in DEFAULT_SIGNALS if s.id in ("onboarding_complete", "promoter"))
    transitions = (Transition("onboarding", ("purchase_onboarding",), "progressed"), Transition("churn", (), "churned"))
    populations, rows = measure_drivers(*_frames(), DEFAULT, signals, transitions, small_sample=30)
    assert populations == {"onboarding": 22, "churn": 23}
    row = next(r for r in rows if (r.transition, r.signal) == ("onboarding", "onboarding_complete"))
    assert (row.with_signal.successes, row.with_signal.n, row.without_signal.successes, row.without_signal.n) == (8, 10, 3, 10)
    assert (round(row.with_signal.low, 3), round(row.with_signal.high, 3)) == (0.490, 0.943)
    assert (round(row.without_signal.low, 3), round(row.without_signal.high, 3)) == (0.108, 0.603)
    assert row.difference == pytest.approx(0.5) and row.lift == pytest.approx(8 / 3) and row.small_sample
    churn = next(r for r in rows if (r.transition, r.signal) == ("churn", "onboarding_complete"))
    assert (churn.with_signal.successes, churn.with_signal.n, churn.without_signal.n) == (1, 11, 10)


def test_rows_are_ranked_by_absolute_difference_with_unknown_last() -> None:
    """Nobody answered NPS, so 'promoter' has no groups and ranks after onboarding_complete."""
    signals = tuple(s for s in DEFAULT_SIGNALS if s.id in ("promoter", "onboarding_complete"))
    _, rows = measure_drivers(*_frames(), DEFAULT, signals, (Transition("onboarding", ("purchase_onboarding",), "progressed"),), 30)
    assert [r.signal for r in rows] == ["onboarding_complete", "promoter"]
    assert rows[1].difference is None and rows[1].with_signal.rate is None


def _ev(cid: str, at: str, name: str) -> dict[str, Any]:
    return {"event_id": f"{cid}{at}{name}", "customer_id": cid, "occurred_at": at, "event_name": name}


def test_signals_are_read_at_as_of_minus_horizon_without_look_ahead(tmp_path: Path) -> None:
    """Signal date 2024-06-30 − 90 d = 2024-04-01; all three signed up 2024-03-25 (onboarding then).
    x1 connected an integration on 03-28 (before) → with; x2 on 05-01 (after the signal date) → without;
    x3 never used the product → stays in onboarding. Both x1 and x2 reached first value on 03-26 and are in
    adoption by as_of (a login on 06-15 keeps them from churning: event-only data churns after 90 silent days).
    With: 1/1; without: x2 progressed, x3 did not → 1/2."""
    customers = [{"customer_id": c, "signup_date": "2024-03-25"} for c in ("x1", "x2", "x3")]
    events = [_ev("x1", "2024-03-26T10:00:00", "report_created"), _ev("x2", "2024-03-26T10:00:00", "report_created"),
              _ev("x1", "2024-03-28T10:00:00", "integration_connected"), _ev("x2", "2024-05-01T10:00:00", "integration_connected"),
              _ev("x1", "2024-06-15T10:00:00", "login"), _ev("x2", "2024-06-15T10:00:00", "login")]
    ds = make_dataset(tmp_path, {"customers": customers, "events": events}, as_of="2024-06-30")
    report = progression_drivers(ds, DEFAULT, horizon_days=90)
    assert report.note == CAVEAT and str(report.signal_date) == "2024-04-01"
    row = next(r for r in report.rows if (r.transition, r.signal) == ("purchase_onboarding->later_stage", "integration_connected"))
    assert (row.with_signal.successes, row.with_signal.n) == (1, 1)
    assert (row.without_signal.successes, row.without_signal.n) == (1, 2)
    assert CAVEAT in str(report.to_dict())


def test_signals_on_features_the_snapshot_lacks_are_skipped_and_listed(tmp_path: Path) -> None:
    config = EngineConfig(activation=ActivationConfig(core_features=("report_created",)))
    ds = make_dataset(tmp_path, {"customers": [{"customer_id": "a", "signup_date": "2024-01-01"}]}, as_of="2024-06-30", config=config)
    report = progression_drivers(ds, DEFAULT)
    assert set(report.skipped_signals) == {"integration_connected", "teammate_invited"}
    assert {r.signal for r in report.rows}.isdisjoint(report.skipped_signals)


def test_progressed_means_a_higher_ranked_stage_on_as_of_and_not_churned() -> None:
    """Default model orders: purchase_onboarding 3, adoption 4. a: 3 → 4 progressed; b: 4 → 3 not; c: 3 → unclassified
    (no order) not; d: no stage at the start not; e: 3 → 4 but churned by as_of not; f: 4 → 4 not."""
    from lifecycle.stages.drivers import _outcome

    start = pd.DataFrame({"stage": pd.array(["purchase_onboarding", "adoption", "purchase_onboarding", None,
                                             "purchase_onboarding", "adoption"], dtype="string"), "churned": [False] * 6})
    end = pd.DataFrame({"stage": pd.array(["adoption", "purchase_onboarding", "unclassified", "adoption", "adoption",
                                           "adoption"], dtype="string"), "churned": [False, False, False, False, True, False]})
    progressed = _outcome(Transition("t", (), "progressed"), start, end, DEFAULT)
    assert progressed.tolist() == [True, False, False, False, False, False]


def test_a_filtered_scopes_drivers_equal_those_read_off_its_own_snapshot(demo_db: Path) -> None:
    """progression_drivers of a filtered scope takes each signal's masks from the whole base's snapshot on the signal
    date (one customer's row decides them); the report must equal measure_drivers reading the masks off the scope's
    own snapshot — every row's counts, rates and intervals, in order — for filters of different sizes."""
    from datetime import date as day

    from lifecycle.dataset import Dataset
    from lifecycle.filters import Dimension, Filters
    from lifecycle.scope import Scope
    from lifecycle.snapshot.build import snapshot_of
    from lifecycle.sources import open_source
    from lifecycle.stages.drivers import default_transitions
    from lifecycle.stages.history import stages_at

    source = open_source(demo_db)
    as_of = day(2025, 6, 30)
    for filters in (Filters.by_dimension({Dimension.PLAN: ["Pro"]}), Filters.by_dimension({Dimension.SEGMENT: ["SMB"]}),
                    Filters.by_dimension({Dimension.CHANNEL: ["partner"], Dimension.PLAN: ["Starter", "Growth"]})):
        dataset = Dataset.over(source, Scope.at(as_of, filters))
        report = progression_drivers(dataset, DEFAULT)
        start_view = dataset.rescoped(Scope.at(report.signal_date, filters))
        start_snapshot = snapshot_of(start_view)
        signals = tuple(s for s in (*DEFAULT_SIGNALS, *DEFAULT.signals) if s.id not in report.skipped_signals)
        populations, rows = measure_drivers(start_snapshot, stages_at(start_view, DEFAULT, report.signal_date),
                                            stages_at(dataset, DEFAULT, as_of), DEFAULT, signals,
                                            default_transitions(DEFAULT), dataset.config.small_sample)
        assert report.populations == populations and sum(populations.values()) > 0
        assert list(report.rows) == rows
        dataset.close()
