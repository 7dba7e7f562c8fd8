"""Lifecycle-flow metrics on a fixture classified at two as-of dates (default stage model, no events table).

Window 2024-04-01 .. 2024-06-30, so stages are compared on 2024-03-31 and 2024-06-30. Without event data the
default rules reduce to: tenure ≤ 14 → purchase_onboarding (order 3); MRR up over 90 days on a paying base →
growth_expansion (5); promoter past 90 days → loyalty_advocacy (6); tenure ≤ 60 or otherwise → adoption (4).

| customer | signup | on 2024-03-31 | on 2024-06-30 |
|---|---|---|---|
| p1 | 2024-03-25 | onboarding (day 6) | adoption (day 97) — progressed |
| p2 | 2023-01-01 | adoption | growth (add-on +50 from May 1) — progressed |
| a1 | 2023-01-01 | adoption | loyalty (NPS 10 on Jun 1) — progressed |
| r1 | 2023-01-01 | growth (add-on from Feb 1) | adoption (no change since Apr 1) — regressed |
| s1 | 2023-01-01 | adoption | adoption |
| c1 | 2023-01-01 | adoption | churned (ended May 1) — left out |
| n1, v1, v2 | 2024-05-01, 05-20, 04-25 | not yet customers | adoption — "new" |
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.metrics.flow import flow_ahead, progression_spells, spell_checkpoints, transition_matrix
from lifecycle.metrics.registry import compute_metric
from lifecycle.scope import Scope
from lifecycle.stages import load_model
from lifecycle.stages.history import checkpoints, stage_states, stages_at, states_at_hand
from tests.builders import make_dataset

OLD = "2023-01-01"


def _sub(sid: str, cid: str, start: str, mrr: float, end: str | None = None) -> dict[str, Any]:
    return {"subscription_id": sid, "customer_id": cid, "start_date": start, "end_date": end, "mrr": mrr}


SEGMENT_A = ("p1", "p2", "r1", "c1", "v2")  # the others are in segment B


def _tables() -> dict[str, list[dict[str, Any]]]:
    ids = {"p1": "2024-03-25", "p2": OLD, "a1": OLD, "r1": OLD, "s1": OLD, "c1": OLD,
           "n1": "2024-05-01", "v1": "2024-05-20", "v2": "2024-04-25"}
    return {
        "customers": [{"customer_id": cid, "signup_date": day, "segment": "A" if cid in SEGMENT_A else "B"}
                      for cid, day in ids.items()],
        "subscriptions": [
            _sub("p2", "p2", OLD, 100.0), _sub("p2+", "p2", "2024-05-01", 50.0),
            _sub("a1", "a1", OLD, 100.0),
            _sub("r1", "r1", OLD, 100.0), _sub("r1+", "r1", "2024-02-01", 50.0),
            _sub("s1", "s1", OLD, 100.0),
            _sub("c1", "c1", OLD, 100.0, end="2024-05-01"),
        ],
        "nps_responses": [{"response_id": "x", "customer_id": "a1", "responded_at": "2024-06-01", "score": 10}],
    }


@pytest.fixture()
def dataset(tmp_path: Path) -> Dataset:
    return make_dataset(tmp_path, _tables(), as_of="2024-06-30", window=("2024-04-01", "2024-06-30"))


def test_progression_and_regression_rates_compare_stage_order_at_both_dates(dataset: Dataset) -> None:
    """Classified and not churned at both: p1, p2, a1, r1, s1 = 5. Up: p1, p2, a1 → 3/5; down: r1 → 1/5."""
    progression = compute_metric(dataset, "progression_rate")
    regression = compute_metric(dataset, "regression_rate")
    assert (progression.numerator, progression.denominator, progression.value) == (3.0, 5.0, 0.6)
    assert (regression.numerator, regression.denominator, regression.value) == (1.0, 5.0, 0.2)


def test_lifecycle_completion_rate_is_the_share_in_the_advocacy_stage(dataset: Dataset) -> None:
    """Active on 2024-06-30: everyone but c1 = 8; in loyalty_advocacy: a1 → 1/8."""
    result = compute_metric(dataset, "lifecycle_completion_rate")
    assert (result.numerator, result.denominator) == (1.0, 8.0)


def test_stagnation_rate_counts_customers_past_their_stages_expected_days(dataset: Dataset) -> None:
    """Active customers in stages with expected_days (a1's loyalty has none): p1, p2, r1, s1, n1, v1, v2 = 7.

    s1: adoption at every monthly checkpoint (8 months back) → ≥ 244 days > 60 → stuck.
    p1: adoption since the 2024-04-30 checkpoint (onboarding on 03-30) → 61 days > 60 → stuck.
    r1 adoption since 05-30 (31 d); p2 growth since 05-30 (31 d ≤ 180); n1 since signup 05-01 (60 d, not > 60);
    v1 adoption since 06-30 (0 d); v2 adoption since 05-30 (31 d). → 2/7.
    """
    result = compute_metric(dataset, "stagnation_rate")
    assert (result.numerator, result.denominator) == (2.0, 7.0)
    assert dict((k, r.numerator) for k, r in result.breakdown)["adoption"] == 2.0


def test_stage_velocity_is_the_median_length_of_completed_spells(dataset: Dataset) -> None:
    """Monthly checkpoints 03-30, 04-30, 05-30, 06-30. v2: signed up 04-25, onboarding at 04-30, adoption at
    05-30 → 35 days; v1: signed up 05-20, onboarding at 05-30, adoption at 06-30 → 41 days. p1, p2 and a1 also
    progressed, but from spells already under way on 03-30 (start unknown) → left out. Median(35, 41) = 38."""
    spells = progression_spells(dataset, load_model("default"))
    assert sorted(spells["days"]) == [35.0, 41.0]
    result = compute_metric(dataset, "stage_velocity_days")
    assert (result.value, result.sample_size) == (38.0, 2)


def test_transition_matrix_counts_moves_including_churn_and_new_customers(dataset: Dataset) -> None:
    matrix = transition_matrix(dataset, load_model("default"), date(2024, 3, 31), date(2024, 6, 30))
    moves = {(i, j): int(n) for (i, j), n in matrix.stack().items() if n}
    assert moves == {
        ("new", "adoption"): 3, ("purchase_onboarding", "adoption"): 1, ("adoption", "growth_expansion"): 1,
        ("adoption", "loyalty_advocacy"): 1, ("adoption", "adoption"): 1, ("adoption", "churned"): 1,
        ("growth_expansion", "adoption"): 1,
    }
    assert matrix.to_numpy().sum() == 9


def test_flow_metrics_are_registered_in_the_flow_group() -> None:
    from lifecycle.metrics.registry import MetricGroup, registry

    flow = {mid for mid, d in registry().items() if d.group is MetricGroup.FLOW}
    assert flow == {"progression_rate", "regression_rate", "stagnation_rate", "stage_velocity_days", "lifecycle_completion_rate"}


@pytest.mark.parametrize(("segment", "progression", "regression", "completion", "velocity", "stuck"), [
    ("A", (2.0, 3.0), (1.0, 3.0), (0.0, 4.0), (35.0, 1), (1.0, 4.0)),
    ("B", (1.0, 2.0), (0.0, 2.0), (1.0, 4.0), (41.0, 1), (1.0, 3.0)),
])
def test_a_segments_flow_metrics_count_that_segments_rows_of_the_whole_bases_stages(
        tmp_path: Path, segment: str, progression: tuple[float, float], regression: tuple[float, float],
        completion: tuple[float, float], velocity: tuple[float, int], stuck: tuple[float, float]) -> None:
    """The table of the module docstring, split by segment (A: p1, p2, r1, c1, v2; B: a1, s1, n1, v1).

    A: classified and not churned at both dates p1, p2, r1 (c1 churned, v2 new) → up p1, p2 = 2/3, down r1 = 1/3;
    active on 06-30 p1, p2, r1, v2, none in loyalty → 0/4; completed spells v2 (35 days); past expected_days p1 of
    p1, p2, r1, v2 → 1/4. B: a1, s1 at both → up a1 = 1/2, down 0/2; active a1, s1, n1, v1, a1 in loyalty → 1/4;
    spells v1 (41 days); in stages with expected_days s1, n1, v1 (a1's loyalty has none), stuck s1 → 1/3."""
    filtered = make_dataset(tmp_path, _tables(), as_of="2024-06-30", window=("2024-04-01", "2024-06-30"),
                            filters=Filters(segment=(segment,)))
    results = {m: compute_metric(filtered, m) for m in ("progression_rate", "regression_rate",
                                                         "lifecycle_completion_rate", "stage_velocity_days", "stagnation_rate")}
    assert (results["progression_rate"].numerator, results["progression_rate"].denominator) == progression
    assert (results["regression_rate"].numerator, results["regression_rate"].denominator) == regression
    completion_rate = results["lifecycle_completion_rate"]
    assert (completion_rate.numerator, completion_rate.denominator) == completion
    assert (results["stage_velocity_days"].value, results["stage_velocity_days"].sample_size) == velocity
    assert (results["stagnation_rate"].numerator, results["stagnation_rate"].denominator) == stuck


@pytest.mark.parametrize("filters", [Filters(plan=("Pro",)), Filters(plan=("Basic",)), Filters(stage=("adoption",)),
                                     Filters(stage=("churned", "growth_expansion")), Filters(segment=("A",))])
def test_a_filtered_scopes_monthly_stage_states_are_its_stages_on_each_day(tmp_path: Path, filters: Filters) -> None:
    """Invariant: the one-pass stage states of a filtered scope (the whole base's states, masked) hold, on each
    checkpoint, exactly the stages ``stages_at`` classifies for that scope on that day — also for the filters whose
    members change with time: p2 pays for "Pro" from its add-on on 2024-05-01 (before: "Basic", like everyone), and a
    stage filter selects by the stage of each day."""
    tables = _tables()
    for row in tables["subscriptions"]:
        row["plan"] = "Pro" if row["subscription_id"] == "p2+" else "Basic"
    dataset = make_dataset(tmp_path, tables, as_of="2024-06-30", window=("2024-04-01", "2024-06-30"), filters=filters)
    model = load_model("default")
    days = checkpoints(dataset.as_of, 3)
    states = stage_states(dataset, model, days)
    assert list(states.ids) == list(stages_at(dataset, model, days[0]).index)
    assert len(states.ids) > 0
    named = states.stages()
    for j, day in enumerate(days):
        expected = stages_at(dataset, model, day)["stage"].reindex(states.ids)
        assert [None if pd.isna(s) else s for s in expected] == list(named[:, j]), day


def test_the_stage_states_kept_between_processes_read_back_as_built(tmp_path: Path) -> None:
    """A fresh process (here: an emptied memo) reads the whole base's states from the Parquet cache: the same
    customers, days, stages, churned flags and plans as built (p2 pays "Pro" from 05-01)."""
    from lifecycle.memo import MEMO
    from lifecycle.store import data_dir

    tables = _tables()
    for row in tables["subscriptions"]:
        row["plan"] = "Pro" if row["subscription_id"] == "p2+" else "Basic"
    dataset = make_dataset(tmp_path, tables, as_of="2024-06-30", window=("2024-04-01", "2024-06-30"))
    model = load_model("default")
    days = checkpoints(dataset.as_of, 3)
    built = stage_states(dataset, model, days)
    assert len(list((data_dir() / "cache").rglob("stage-states-*.parquet"))) == 1
    MEMO.clear()
    again = stage_states(Dataset.open(tmp_path / "fixture.db", dataset.as_of), model, days)
    assert again is not built and list(again.ids) == list(built.ids) and again.days == built.days
    assert (again.stages() == built.stages()).all() and (again.churned == built.churned).all()
    assert again.plans == built.plans == ("Basic", "Pro")
    assert again.plan_codes is not None and built.plan_codes is not None
    assert (again.plan_codes == built.plan_codes).all() and (again.signup == built.signup).all()


def test_the_stage_states_built_ahead_on_a_second_connection_are_the_ones_the_flow_metrics_read(dataset: Dataset) -> None:
    """``flow_ahead`` builds the whole base's stage states on the spell checkpoints in its own thread on its own
    connection and files them under the memo key the flow metrics ask for: a segment's ``stage_states`` afterwards
    is masked from that very object, and the metrics read it — progression 3/5 and regression 1/5 as hand-counted in
    the module docstring."""
    from lifecycle.memo import MEMO

    model = load_model("default")
    days = tuple(spell_checkpoints(dataset))
    key = ("stage-states", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, days)
    assert MEMO.peek(key) is None and not states_at_hand(dataset, model, days)
    flow_ahead(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters(segment=("A",)))))()  # start, then wait
    assert states_at_hand(dataset, model, days)  # in the memo, and kept for the next process
    MEMO.clear()
    assert states_at_hand(dataset, model, days)  # a warm process reads them instead of classifying each day
    flow_ahead(dataset)()
    built = MEMO.peek(key)
    assert built is not None and list(built.ids) == ["a1", "c1", "n1", "p1", "p2", "r1", "s1", "v1", "v2"]
    assert compute_metric(dataset, "progression_rate").value == pytest.approx(3 / 5)
    assert compute_metric(dataset, "regression_rate").value == pytest.approx(1 / 5)


@pytest.mark.parametrize("filters", [Filters(segment=("A",)), Filters(segment=("B",)), Filters(segment=("A", "B")),
                                     Filters(cohort_from=date(2024, 4, 1)), Filters(cohort_to=date(2023, 12, 31)),
                                     Filters(segment=("A",), cohort_from=date(2024, 4, 1)),
                                     Filters(cohort_from=date(2025, 1, 1))])
def test_a_scope_whose_filters_do_not_change_with_time_reads_its_flow_rows_from_the_whole_bases(
        tmp_path: Path, filters: Filters) -> None:
    """Invariant: for filters that select the same customers on every day (segment, cohort), the spells, stage pairs
    and stagnation of the scope are the whole base's rows of its customers (memoised once per data) — the same frames,
    in the same order, and the same metric results as computed over the scope's own states (a dataset without a data
    identity computes everything itself). The last filter selects nobody."""
    from lifecycle.memo import MEMO
    from lifecycle.metrics.flow import _stage_pairs

    masked = make_dataset(tmp_path, _tables(), as_of="2024-06-30", window=("2024-04-01", "2024-06-30"), filters=filters)
    direct = Dataset(masked.connection, masked.scope, masked.config, masked.source, None)
    model = load_model("default")
    pd.testing.assert_frame_equal(progression_spells(masked, model), progression_spells(direct, model), check_exact=True)
    pd.testing.assert_frame_equal(_stage_pairs(masked, model), _stage_pairs(direct, model), check_exact=True)
    for metric in ("progression_rate", "regression_rate", "stagnation_rate", "stage_velocity_days"):
        assert compute_metric(masked, metric) == compute_metric(direct, metric), metric
    kinds = {key[0] for key in list(MEMO._entries) if isinstance(key, tuple)}
    assert {"flow-spells", "flow-pairs", "flow-stagnation"} <= kinds  # the whole base's rows were computed and kept


def test_a_stage_scopes_spells_are_cut_where_the_customer_was_in_another_stage(tmp_path: Path) -> None:
    """The stage changes with time, so a stage scope's spells are not the whole base's rows of its customers. v1
    (onboarding on 05-30, adoption on 06-30) and v2 (onboarding on 04-30, adoption from 05-30) are in adoption on
    as_of, and in the whole base their spells end in a progression (41 and 35 days, module docstring). In the
    adoption scope their onboarding days are outside it, so neither spell ends there; nor does anyone else's (p1's
    began before the window, n1, r1 and s1 did not progress): no spells, and no stage velocity."""
    model = load_model("default")
    adoption = make_dataset(tmp_path, _tables(), as_of="2024-06-30", window=("2024-04-01", "2024-06-30"),
                            filters=Filters(stage=("adoption",)))
    whole = adoption.rescoped(Scope(adoption.as_of, adoption.window, Filters()))
    spells = progression_spells(whole, model)
    assert sorted(zip(spells["customer_id"], spells["days"])) == [("v1", 41.0), ("v2", 35.0)]
    assert {"v1", "v2"} <= set(stages_at(adoption, model, adoption.as_of).index)
    assert progression_spells(adoption, model).empty
    assert compute_metric(adoption, "stage_velocity_days").value is None


def test_the_whole_bases_spells_are_kept_for_the_scopes_that_mask_them(dataset: Dataset) -> None:
    """The whole base's own ``progression_spells`` keeps its spells under the key a segment's masks read: after it, a
    segment's spells are the rows of its customers among them (segment A: v2's 35 days, module docstring) with no
    further entry — and the same object serves both."""
    from lifecycle.memo import MEMO

    model = load_model("default")
    whole = progression_spells(dataset, model)
    assert sorted(whole["days"]) == [35.0, 41.0]
    def kept_spells() -> list[object]:
        return [key for key in list(MEMO._entries)
                if isinstance(key, tuple) and key[0] == "flow-spells" and key[1] == dataset.identity]

    kept = kept_spells()
    assert len(kept) == 1
    segment = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters(segment=("A",))))
    spells = progression_spells(segment, model)
    assert list(zip(spells["customer_id"], spells["days"])) == [("v2", 35.0)]
    assert kept_spells() == kept


def test_the_whole_bases_stagnation_and_stage_pairs_are_kept_for_the_scopes_that_mask_them(dataset: Dataset) -> None:
    """The whole base's own stagnation and progression rates keep its rows under the keys a segment's masks read, so
    a segment asked afterwards builds none of the whole base's rows again — and gets the rates it gets on its own."""
    from lifecycle.memo import MEMO

    def rates(scope: Dataset) -> tuple[Any, ...]:
        return tuple(compute_metric(scope, m) for m in ("stagnation_rate", "progression_rate", "regression_rate"))

    def kept() -> list[object]:
        return sorted(str(key) for key in list(MEMO._entries) if isinstance(key, tuple)
                      and key[0] in ("flow-pairs", "flow-stagnation") and key[1] == dataset.identity)

    def segment() -> Dataset:
        return dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters(segment=("A",))))

    MEMO.clear()
    alone = rates(segment())
    MEMO.clear()
    rates(dataset.rescoped(dataset.scope))
    whole = kept()
    assert len(whole) == 2  # one of each, kept by the whole base's own call
    assert rates(segment()) == alone
    assert kept() == whole
    MEMO.clear()
