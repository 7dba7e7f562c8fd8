"""The stage funnel: reached counts per stage, conversions, the lead → customer bridge, and the bottleneck.

Customer fixture: the flow fixture of ``tests/lifecycle/metrics/test_flow.py`` (window 2024-04-01 .. 2024-06-30, so
the checkpoints are 2024-06-30, 05-30, 04-30 and 03-30). Highest stage seen at a checkpoint, by hand:

| customer | seen in | highest |
|---|---|---|
| p1 (signup 03-25) | onboarding on 03-30, adoption from 04-30 | adoption (4) |
| p2 | adoption, growth from 05-30 (add-on +50 on May 1) | growth (5) |
| a1 | adoption, loyalty on 06-30 (NPS 10 on Jun 1) | loyalty (6) |
| r1 | growth on 03-30 and 04-30 (add-on Feb 1), adoption after | growth (5) |
| s1 | adoption | adoption (4) |
| c1 | adoption on 03-30 and 04-30, churned May 1 | adoption (4) |
| n1, v1, v2 (signups May 1, May 20, Apr 25) | onboarding or adoption, adoption on 06-30 | adoption (4) |

So 9 customers reached onboarding and adoption, 3 growth (p2, a1, r1), 1 loyalty (a1): conversions 9/9, 3/9, 1/3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.stages import load_model
from lifecycle.stages.funnel import FunnelConversion, FunnelStep, StageFunnel, find_bottleneck, stage_funnel
from tests.builders import make_dataset

OLD = "2023-01-01"


def _sub(sid: str, cid: str, start: str, mrr: float, end: str | None = None) -> dict[str, Any]:
    return {"subscription_id": sid, "customer_id": cid, "start_date": start, "end_date": end, "mrr": mrr}


SMB = ("p2", "a1", "r1")


def _flow_fixture(tmp_path: Path, leads: list[dict[str, Any]] | None = None, filters: Filters | None = None) -> Dataset:
    ids = {"p1": "2024-03-25", "p2": OLD, "a1": OLD, "r1": OLD, "s1": OLD, "c1": OLD,
           "n1": "2024-05-01", "v1": "2024-05-20", "v2": "2024-04-25"}
    tables: dict[str, list[dict[str, Any]]] = {
        "customers": [{"customer_id": cid, "signup_date": day, "segment": "SMB" if cid in SMB else "Enterprise"}
                      for cid, day in ids.items()],
        "subscriptions": [
            _sub("p2", "p2", OLD, 100.0), _sub("p2+", "p2", "2024-05-01", 50.0), _sub("a1", "a1", OLD, 100.0),
            _sub("r1", "r1", OLD, 100.0), _sub("r1+", "r1", "2024-02-01", 50.0), _sub("s1", "s1", OLD, 100.0),
            _sub("c1", "c1", OLD, 100.0, end="2024-05-01"),
        ],
        "nps_responses": [{"response_id": "x", "customer_id": "a1", "responded_at": "2024-06-01", "score": 10}],
    }
    if leads:
        tables["leads"] = leads
    return make_dataset(tmp_path, tables, as_of="2024-06-30", window=("2024-04-01", "2024-06-30"), filters=filters)


def _lead(lid: str, created: str, status: str = "lead", customer: str | None = None, **dates: str) -> dict[str, Any]:
    return {"lead_id": lid, "created_at": created, "status": status, "customer_id": customer, "source": "organic", **dates}


def test_customer_steps_count_the_highest_stage_seen_at_the_window_checkpoints(tmp_path: Path) -> None:
    dataset = _flow_fixture(tmp_path)
    funnel = stage_funnel(dataset, load_model("default"))
    reached = {s.stage: s.reached for s in funnel.steps}
    assert reached == {"purchase_onboarding": 9, "adoption": 9, "growth_expansion": 3, "loyalty_advocacy": 1}
    rates = [(c.from_stage, c.to_stage, c.converted, c.base) for c in funnel.conversions]
    assert rates == [("purchase_onboarding", "adoption", 9, 9), ("adoption", "growth_expansion", 3, 9),
                     ("growth_expansion", "loyalty_advocacy", 1, 3)]


@pytest.mark.parametrize(("filters", "reached"), [
    # SMB = p2, a1, r1: growth, loyalty, growth (the table above)
    (Filters(segment=("SMB",)), [3, 3, 3, 1]),
    # in growth at a checkpoint: p2 (05-30, 06-30) and r1 (03-30, 04-30) — seen in no higher stage while in the filter
    (Filters(stage=("growth_expansion",)), [2, 2, 2, 0]),
    # in adoption at some checkpoint: all nine; while in the filter none is seen higher
    (Filters(stage=("adoption",)), [9, 9, 0, 0]),
    # SMB and in adoption: p2 (03-30, 04-30), a1 (03-30 .. 05-30), r1 (05-30, 06-30)
    (Filters(segment=("SMB",), stage=("adoption",)), [3, 3, 0, 0]),
    (Filters(stage=("churned",)), [0, 0, 0, 0]),
])
def test_a_filtered_funnel_counts_the_checkpoints_where_each_customer_was_in_the_filter(
        tmp_path: Path, filters: Filters, reached: list[int]) -> None:
    """A filtered scope's funnel (read from the whole base's stage states, masked) counts a customer at the checkpoints
    where the filter selects them — a stage filter on the stage of that day — as classifying the filtered scope on
    each checkpoint does."""
    stages = ("purchase_onboarding", "adoption", "growth_expansion", "loyalty_advocacy")
    model = load_model("default")
    direct = stage_funnel(_flow_fixture(tmp_path / "direct", filters=filters), model)
    whole = _flow_fixture(tmp_path / "derived")
    stage_funnel(whole, model)  # the whole base's stages on every checkpoint, in the process memo
    derived = stage_funnel(whole.rescoped(whole.scope.__class__(whole.as_of, whole.window, filters)), model)
    assert [s.reached for s in derived.steps] == reached
    assert [(s.stage, s.reached) for s in direct.steps] == list(zip(stages, reached))
    assert derived == direct


def test_lead_steps_use_the_furthest_status_reached_and_the_bridge_counts_converted_leads(tmp_path: Path) -> None:
    """Leads created in the window: L1 open (lead), L2 MQL then lost (reached evaluation), L3 SQL (evaluation),
    L4 won and linked to p1 (reached every lead stage, converted). L0 was created before the window: left out.
    Awareness 4, evaluation 3 (L2, L3, L4); bridge: 1 converted of the 3 that reached evaluation."""
    leads = [
        _lead("L0", "2024-01-10", "mql", mql_at="2024-01-20"),
        _lead("L1", "2024-04-02"),
        _lead("L2", "2024-04-03", "lost", mql_at="2024-04-10", lost_at="2024-05-01"),
        _lead("L3", "2024-04-05", "sql", mql_at="2024-04-06", sql_at="2024-04-20"),
        _lead("L4", "2024-04-06", "won", customer="p1", mql_at="2024-04-07", won_at="2024-04-20"),
    ]
    funnel = stage_funnel(_flow_fixture(tmp_path, leads), load_model("default"))
    assert [(s.stage, s.population, s.reached) for s in funnel.steps[:2]] == [("awareness", "leads", 4), ("evaluation", "leads", 3)]
    bridge = funnel.conversions[1]
    assert (bridge.from_stage, bridge.to_stage, bridge.converted, bridge.base) == ("evaluation", "purchase_onboarding", 1, 3)


@pytest.mark.parametrize(("channel", "awareness", "evaluation", "converted"), [
    ("paid", 2, 2, 0),  # L2 (MQL, lost) and L3 (SQL): both reached evaluation, neither converted
    ("organic", 2, 1, 1),  # L1 open, L4 won and linked to p1: L4 reached evaluation and converted
])
def test_a_channel_filter_counts_only_its_own_leads(tmp_path: Path, channel: str, awareness: int, evaluation: int,
                                                     converted: int) -> None:
    """Leads in the window by source: L1 organic (open), L2 paid (MQL then lost), L3 paid (SQL), L4 organic (won, p1).
    The filtered funnel — its leads taken from the whole base's, classified once in the process memo — counts the
    channel's leads only (counted by hand above), as the scope's own classification does."""
    leads = [
        {**_lead("L1", "2024-04-02"), "source": "organic"},
        {**_lead("L2", "2024-04-03", "lost", mql_at="2024-04-10", lost_at="2024-05-01"), "source": "paid"},
        {**_lead("L3", "2024-04-05", "sql", mql_at="2024-04-06", sql_at="2024-04-20"), "source": "paid"},
        {**_lead("L4", "2024-04-06", "won", customer="p1", mql_at="2024-04-07", won_at="2024-04-20"), "source": "organic"},
    ]
    model = load_model("default")
    whole = _flow_fixture(tmp_path, leads)
    assert [s.reached for s in stage_funnel(whole, model).steps[:2]] == [4, 3]  # the whole base first: in the memo
    filtered = whole.rescoped(whole.scope.__class__(whole.as_of, whole.window, Filters(channel=(channel,))))
    alone = Dataset(filtered.connection, filtered.scope, filtered.config, filtered.source, None)  # no memo: its own
    for dataset in (filtered, alone):
        funnel = stage_funnel(dataset, model)
        assert [(s.stage, s.reached) for s in funnel.steps[:2]] == [("awareness", awareness), ("evaluation", evaluation)]
        assert funnel.conversions[1].converted == converted


def test_awareness_to_evaluation_matches_the_lead_to_mql_metric_on_the_demo(demo_db: Path) -> None:
    """Invariant: both count leads created in the window that reached MQL (or later) by as_of."""
    from datetime import date

    from lifecycle.metrics.registry import compute_metric

    dataset = Dataset.open(demo_db, date(2025, 12, 31))
    funnel = stage_funnel(dataset, load_model("default"))
    metric = compute_metric(dataset, "lead_to_mql_rate")
    first = funnel.conversions[0]
    assert (first.converted, first.base) == (metric.numerator, metric.denominator)
    for population in ("leads", "customers"):
        counts = [s.reached for s in funnel.steps if s.population == population]
        assert counts == sorted(counts, reverse=True) and counts[-1] > 0


def _funnel(*reached: int) -> StageFunnel:
    stages = ("purchase_onboarding", "adoption", "growth_expansion", "loyalty_advocacy")
    steps = tuple(FunnelStep(s, s, "customers", n) for s, n in zip(stages, reached))
    conversions = tuple(FunnelConversion(a.stage, b.stage, b.reached, a.reached) for a, b in zip(steps, steps[1:]))
    return StageFunnel(steps, conversions, "2025-01-01", "2025-12-31")


def test_bottleneck_is_the_most_stagnant_stage_with_enough_customers() -> None:
    funnel = _funnel(100, 80, 40, 30)
    stagnation = {"purchase_onboarding": (0.5, 226), "adoption": (0.585, 506), "growth_expansion": (0.9, 12)}
    neck = find_bottleneck(funnel, stagnation, small_sample=30)
    assert (neck.stage, neck.basis, neck.value, neck.n) == ("adoption", "stagnation", 0.585, 506)  # type: ignore[union-attr]


def test_without_stagnation_the_bottleneck_is_the_weakest_conversion() -> None:
    """Conversions 80/100, 40/80 = 0.5, 30/40 = 0.75: adoption → growth is the weakest."""
    neck = find_bottleneck(_funnel(100, 80, 40, 30), {}, small_sample=30)
    assert (neck.stage, neck.basis, neck.value, neck.n) == ("adoption", "conversion", 0.5, 80)  # type: ignore[union-attr]
    assert find_bottleneck(_funnel(10, 5, 2, 1), {}, small_sample=30) is None
