"""The movers' stage at the start of their month, read from the monthly stage states kept by the flow metrics.

Fixture (the flow metrics' one, as_of 2024-06-30, window 2024-04-01 .. 2024-06-30; default stage model, no events):
p2, a1, r1, s1, c1 signed up 2023-01-01 paying 100; r1 adds 50 on 2024-02-01, p2 adds 50 on 2024-05-01; c1 ends
2024-05-01. Month-end MRR April → May: p2 100 → 150 (expansion 50), c1 100 → 0 (churn 100), a1, s1 100, r1 150.
By hand, on 2024-04-30 (the day before May): r1's MRR is up over 90 days (100 on 01-31, 150 now) → growth_expansion;
p2, a1, s1, c1 unchanged → adoption. So May's bridge by stage: adoption starts with 400 (4 customers) and loses 100
to churn (c1), gains 50 of expansion (p2); growth_expansion starts with 150 (r1) and does not move.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.memo import MEMO
from lifecycle.metrics.flow import spell_checkpoints
from lifecycle.metrics.movers import bridge_by, mover_page, stage_at_month_start
from lifecycle.metrics.revenue_movements import customer_mrr_matrix
from lifecycle.scope import Scope
from lifecycle.stages import load_model
from lifecycle.stages.history import _stages_key, stage_states, stages_at, states_held
from tests.builders import make_dataset

OLD = "2023-01-01"


def _tables() -> dict[str, list[dict[str, Any]]]:
    ids = {"p1": "2024-03-25", "p2": OLD, "a1": OLD, "r1": OLD, "s1": OLD, "c1": OLD, "n1": "2024-05-01"}

    def sub(sid: str, cid: str, start: str, mrr: float, end: str | None = None, plan: str = "Basic") -> dict[str, Any]:
        return {"subscription_id": sid, "customer_id": cid, "start_date": start, "end_date": end, "mrr": mrr, "plan": plan}

    return {
        "customers": [{"customer_id": cid, "signup_date": day, "segment": "A" if cid in ("p2", "c1") else "B"}
                      for cid, day in ids.items()],
        "subscriptions": [sub("p2", "p2", OLD, 100.0), sub("p2+", "p2", "2024-05-01", 50.0, plan="Pro"),
                          sub("a1", "a1", OLD, 100.0), sub("r1", "r1", OLD, 100.0), sub("r1+", "r1", "2024-02-01", 50.0),
                          sub("s1", "s1", OLD, 100.0), sub("c1", "c1", OLD, 100.0, end="2024-05-01")],
    }


def _open(tmp_path: Path, filters: Filters | None = None) -> Dataset:
    return make_dataset(tmp_path, _tables(), as_of="2024-06-30", window=("2024-04-01", "2024-06-30"), filters=filters)


def _keep_flow_states(dataset: Dataset) -> None:
    """What a warm server has: the flow metrics' stage states of the whole base, kept as Parquet (the memo emptied,
    as in a fresh process)."""
    whole = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    stage_states(whole, load_model("default"), spell_checkpoints(whole))
    MEMO.clear()


def test_movers_stage_at_month_start_comes_from_the_kept_states_without_classifying_that_day(tmp_path: Path) -> None:
    """May's movers carry their stage on 2024-04-30 (module docstring: p2 and c1 in adoption), and the whole base is
    not classified on that day again: no stages of 2024-04-30 appear in the memo — nor the kept states of every
    customer and day: the page reads its movers' rows of that day from the file."""
    dataset = _open(tmp_path)
    _keep_flow_states(dataset)
    page = mover_page(dataset, "2024-05")
    assert [(m.customer_id, m.movement.value, m.stage) for m in page.items] == [
        ("p2", "expansion", "adoption"), ("c1", "churn", "adoption")]
    assert MEMO.peek(_stages_key(dataset, load_model("default"), date(2024, 4, 30))) is None
    assert not states_held(dataset, load_model("default"), spell_checkpoints(dataset))


def test_the_bridge_by_stage_at_month_start_from_kept_states_matches_the_hand_count(tmp_path: Path) -> None:
    dataset = _open(tmp_path)
    _keep_flow_states(dataset)
    groups = {g.group: g.current for g in bridge_by(dataset, "2024-05", "stage")}
    adoption, growth = groups["adoption"], groups["growth_expansion"]
    assert (adoption.starting_customers, adoption.starting_mrr, adoption.churn, adoption.expansion) == (4, 400.0, 100.0, 50.0)
    assert (growth.starting_customers, growth.starting_mrr, growth.churn, growth.expansion) == (1, 150.0, 0.0, 0.0)


@pytest.mark.parametrize("filters", [Filters(), Filters(segment=("A",)), Filters(plan=("Pro",)), Filters(plan=("Basic",)),
                                     Filters(stage=("adoption",)), Filters(stage=("churned", "growth_expansion"))])
@pytest.mark.parametrize("month", ["2024-03", "2024-04", "2024-05", "2024-06"])
def test_kept_stages_equal_a_classification_of_the_day_for_every_mrr_customer(tmp_path: Path, filters: Filters,
                                                                             month: str) -> None:
    """Invariant: for every customer of the scope's MRR matrix (the only ones movers and groups look up), the stage at
    the month start read from kept states is the one ``stages_at`` classifies on that day for the same scope — also
    for filters whose members change with time (p2 pays for "Pro" from 2024-05-01; a stage filter selects by the
    stage of each day), and "absent" (not signed up, or outside the filter that day) on both sides alike."""
    dataset = _open(tmp_path, filters)
    _keep_flow_states(dataset)
    first = date.fromisoformat(month + "-01")
    kept = stage_at_month_start(dataset, first)
    ids = customer_mrr_matrix(dataset).customer_ids
    day = min(first - pd.Timedelta(days=1).to_pytimedelta(), dataset.as_of)
    (tmp_path / "fresh").mkdir()
    fresh = stages_at(_open(tmp_path / "fresh", filters), load_model("default"), day)
    expected = fresh["stage"].astype("string").where(~fresh["churned"], "churned")
    assert kept.reindex(ids).astype(object).where(kept.reindex(ids).notna(), None).tolist() == \
        expected.reindex(ids).astype(object).where(expected.reindex(ids).notna(), None).tolist()
    assert len(ids) > 0


def test_a_page_of_movers_without_kept_states_classifies_only_its_movers(tmp_path: Path) -> None:
    """No states kept (a cold data directory): May's movers still carry their stage on 2024-04-30 by hand (module
    docstring: p2 and c1 in adoption), and the whole base's stages of that day are not classified — nothing for the
    day in the memo — only the movers' rows of its snapshot."""
    dataset = _open(tmp_path)
    page = mover_page(dataset, "2024-05")
    assert [(m.customer_id, m.movement.value, m.stage) for m in page.items] == [
        ("p2", "expansion", "adoption"), ("c1", "churn", "adoption")]
    assert MEMO.peek(_stages_key(dataset, load_model("default"), date(2024, 4, 30))) is None


@pytest.mark.parametrize("kept", [False, True])
@pytest.mark.parametrize("filters", [Filters(), Filters(segment=("A",)), Filters(plan=("Pro",)), Filters(plan=("Basic",)),
                                     Filters(stage=("adoption",)), Filters(cohort_from=date(2023, 1, 1))])
@pytest.mark.parametrize("month", ["2024-04", "2024-05", "2024-06"])
def test_the_stages_of_some_customers_are_their_rows_of_everyone_s(tmp_path: Path, filters: Filters, month: str,
                                                                  kept: bool) -> None:
    """Invariant: ``stage_at_month_start`` of a few customers (some of them outside the scope or unknown) equals the
    whole scope's series restricted to them — read from kept states or classified from the day's snapshot rows."""
    first = date.fromisoformat(month + "-01")
    some = ["c1", "r1", "n1", "p2", "nobody", "r1"]
    (tmp_path / "some").mkdir()
    (tmp_path / "all").mkdir()
    datasets = {name: _open(tmp_path / name, filters) for name in ("some", "all")}
    if kept:
        for dataset in datasets.values():
            _keep_flow_states(dataset)
    among = stage_at_month_start(datasets["some"], first, some)
    everyone = stage_at_month_start(datasets["all"], first)
    expected = everyone[everyone.index.isin(some)]
    assert among.to_dict() == expected.to_dict()
    assert list(among.index) == sorted(among.index)
