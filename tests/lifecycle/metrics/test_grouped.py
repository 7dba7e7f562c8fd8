"""Grouped passes (``lifecycle.metrics.grouped``): what compare_segments' disjoint groups need, computed for all of them
in one pass, is what each group's own path gives.

Hand-built store (as_of 2024-06-30, window 2024-04-01..2024-06-30; onboarding: event ``onboarding_step``, 2 steps
within 30 days, so a window signup is eligible when it signed up by 2024-05-31):

| customer | signup     | segment | onboarding_step events   | touches (sent: opened, clicked)              |
|----------|------------|---------|--------------------------|----------------------------------------------|
| c1       | 2024-01-10 | SMB     | 2024-01-11, 2024-01-12   | email 05-01: opened 05-02, clicked 05-02     |
| c2       | 2024-04-05 | ENT     | 2024-04-06, 2024-04-10   | email 05-03: not opened                      |
| c3       | 2024-05-01 | SMB     | 2024-05-02               | sms 05-05: opened 05-06                      |
| c4       | 2024-02-01 | ENT     |                          | email 03-01 (before the window)              |
| c5       | 2024-06-10 | SMB     |                          |                                              |
| c6       | 2024-06-20 | ENT     |                          | email 06-21: opened 06-22, clicked 06-23     |

Onboarding. SMB: window signups c3 (eligible, 1 step: not complete) and c5 (too recent) → 0 / 1, 1 too recent.
ENT: c2 (eligible, 2 steps: complete) and c6 (too recent) → 1 / 1, 1 too recent. c1 completed but is no window signup.
Touches in the window per group and channel (sends, opens, clicks): SMB email (1, 1, 1), sms (1, 1, 0);
ENT email (2, 1, 1) — c2's unopened and c6's opened and clicked; c4's is before the window.
Click-to-open on email: SMB 1 / 1 = 1.0, ENT 1 / 1 = 1.0; email open rate SMB 1 / 1, ENT 1 / 2 = 0.5.
CAC (acquisition costs c2 200, c5 50, c6 600; c3 none): SMB window signups c3, c5 → 50 / 2 = 25 (1 of 2 without a
cost); ENT c2, c6 → 800 / 2 = 400.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import DEFAULT_CONFIG, ActivationConfig
from lifecycle.dataset import Dataset
from lifecycle.filters import Dimension, Filters
from lifecycle.memo import MEMO
from lifecycle.metrics.change import previous_period
from lifecycle.metrics.grouped import (
    GROUP_KEY,
    GroupCoder,
    group_codes,
    groupable,
    groups_codes,
    join,
    mask_codes,
    prepare,
)
from lifecycle.metrics.registry import compute_metric, metric_ids
from lifecycle.scope import Scope
from lifecycle.sources import open_source
from tests.lifecycle.metrics.stores import open_at, quick_store

CONFIG = replace(DEFAULT_CONFIG, activation=replace(ActivationConfig(), onboarding_event="onboarding_step",
                                                    onboarding_steps=2, onboarding_within_days=30))
CUSTOMERS = [
    {"customer_id": "c1", "signup_date": "2024-01-10", "segment": "SMB"},
    {"customer_id": "c2", "signup_date": "2024-04-05", "segment": "ENT", "acquisition_cost": 200.0},
    {"customer_id": "c3", "signup_date": "2024-05-01", "segment": "SMB"},
    {"customer_id": "c4", "signup_date": "2024-02-01", "segment": "ENT"},
    {"customer_id": "c5", "signup_date": "2024-06-10", "segment": "SMB", "acquisition_cost": 50.0},
    {"customer_id": "c6", "signup_date": "2024-06-20", "segment": "ENT", "acquisition_cost": 600.0},
]
EVENTS = [
    {"event_id": f"e{i}", "customer_id": c, "event_name": "onboarding_step", "occurred_at": f"{day}T10:00:00"}
    for i, (c, day) in enumerate([("c1", "2024-01-11"), ("c1", "2024-01-12"), ("c2", "2024-04-06"), ("c2", "2024-04-10"),
                                  ("c3", "2024-05-02")])
]
TOUCHES = [
    {"touch_id": "t1", "customer_id": "c1", "channel": "email", "sent_at": "2024-05-01T09:00:00",
     "opened_at": "2024-05-02T09:00:00", "clicked_at": "2024-05-02T09:05:00"},
    {"touch_id": "t2", "customer_id": "c2", "channel": "email", "sent_at": "2024-05-03T09:00:00"},
    {"touch_id": "t3", "customer_id": "c3", "channel": "sms", "sent_at": "2024-05-05T09:00:00",
     "opened_at": "2024-05-06T09:00:00"},
    {"touch_id": "t4", "customer_id": "c4", "channel": "email", "sent_at": "2024-03-01T09:00:00",
     "opened_at": "2024-03-02T09:00:00"},
    {"touch_id": "t6", "customer_id": "c6", "channel": "email", "sent_at": "2024-06-21T09:00:00",
     "opened_at": "2024-06-22T09:00:00", "clicked_at": "2024-06-23T09:00:00"},
]
WINDOW = ("2024-04-01", "2024-06-30")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_store(tmp_path_factory.mktemp("grouped") / "grouped.db",
                       {"customers": CUSTOMERS, "events": EVENTS, "touches": TOUCHES})


def _groups(store: Path) -> list[Dataset]:
    whole = open_at(store, "2024-06-30", WINDOW, config=CONFIG)
    return [whole.rescoped(Scope(whole.as_of, whole.window, Filters(segment=(s,)))) for s in ("SMB", "ENT")]


def test_group_codes_label_each_value_with_the_set_holding_it() -> None:
    values = pd.Series(["a", "b", "x", None, "c"], dtype="string")
    codes = group_codes(values, [pd.Index(["a", "c"]), pd.Index(["b"])])
    assert codes is not None and codes.tolist() == [0, 1, -1, -1, 0]


def test_group_codes_refuse_overlapping_sets() -> None:
    assert group_codes(pd.Series(["a"]), [pd.Index(["a", "b"]), pd.Index(["b"])]) is None


def test_a_coder_labels_each_array_and_reuses_the_codes_of_equal_contents() -> None:
    """Sets {a, c} and {b}: ["a", "b", "x", None, "c"] → [0, 1, -1, -1, 0] (as group_codes); another array with the
    same values in the same order takes the very same codes, one in another order its own ([c, a] → [0, 0]; [b, a]
    → [1, 0]); overlapping sets code nothing."""
    coder = GroupCoder([pd.Index(["a", "c"], dtype="string"), pd.Index(["b"], dtype="string")])
    first = coder.codes(pd.Series(["a", "b", "x", None, "c"], dtype="string"))
    again = coder.codes(pd.Index(["a", "b", "x", None, "c"], dtype="string"))
    assert first is not None and first.tolist() == [0, 1, -1, -1, 0]
    assert again is first
    other = coder.codes(pd.Series(["b", "a"], dtype="string"))
    assert other is not None and other.tolist() == [1, 0]
    missing_elsewhere = coder.codes(pd.Series(["a", None, "x", "b", "c"], dtype="string"))  # a missing value moved
    assert missing_elsewhere is not None and missing_elsewhere.tolist() == [0, -1, -1, 1, 0]
    assert GroupCoder([pd.Index(["a", "b"]), pd.Index(["b"])]).codes(pd.Series(["a"])) is None


def test_groups_of_another_period_with_the_same_populations_share_the_coder(store: Path) -> None:
    """By segment the populations do not depend on as_of: the previous period's groups hold the same ids (c1, c3, c5 /
    c2, c4, c6), so join shares the current groups' coder and groups_codes labels ids by it; groups with other ids
    (segment SMB alone, then ENT alone: one group each) get a coder of their own."""
    MEMO.clear()
    current = _groups(store)
    previous = [previous_period(d) for d in current]
    first = join(current)
    second = join(previous, like=first)
    assert first is not None and second is not None and second.coder is first.coder
    codes = groups_codes(previous, pd.Series(["c1", "c2", "c3", "c4", "c5", "c6", "c9"], dtype="string"))
    assert codes is not None and codes.tolist() == [0, 1, 0, 1, 0, 1, -1]
    swapped = join([current[1], current[0]], like=first)  # ENT first: not the same populations in this order
    assert swapped is not None and swapped.coder is not first.coder


def test_mask_codes_label_rows_and_refuse_a_shared_row() -> None:
    first, second = np.array([True, False, False]), np.array([False, False, True])
    assert mask_codes([first, second], 3).tolist() == [0, -1, 1]  # type: ignore[union-attr]
    assert mask_codes([first, first], 3) is None


def test_groupable_wants_filtered_scopes_without_a_stage_filter(store: Path) -> None:
    groups = _groups(store)
    assert groupable(groups)
    assert not groupable(groups[:1])
    whole = open_at(store, "2024-06-30", WINDOW, config=CONFIG)
    assert not groupable([whole, groups[0]])
    staged = groups[0].rescoped(Scope(whole.as_of, whole.window, Filters(segment=("ENT",), stage=("adoption",))))
    assert not groupable([groups[0], staged])


def test_grouped_onboarding_completion_is_the_hand_counted_rate_of_each_group(store: Path) -> None:
    MEMO.clear()
    groups = _groups(store)
    prepare(groups, ["onboarding_completion_rate"])
    served = [MEMO.peek(g.memo_key("metric", "onboarding_completion_rate")) for g in groups]
    assert all(r is not None for r in served)  # the grouped pass stored them: compute_metric reads these
    smb, ent = (compute_metric(g, "onboarding_completion_rate") for g in groups)
    assert (smb.value, smb.sample_size, ent.value, ent.sample_size) == (0.0, 1, 1.0, 1)
    assert "1 signup(s) in the period have fewer than 30 days observed" in (smb.reason or "")
    assert "1 signup(s) in the period have fewer than 30 days observed" in (ent.reason or "")


@pytest.mark.parametrize("metric", ["onboarding_completion_rate", "email_open_rate", "email_click_rate", "click_to_open_rate",
                                    "cac"])
def test_grouped_results_equal_each_groups_own(store: Path, metric: str) -> None:
    MEMO.clear()
    own = [compute_metric(g, metric) for g in _groups(store)]
    MEMO.clear()
    groups = _groups(store)
    prepare(groups, [metric])
    assert [compute_metric(g, metric) for g in groups] == own


def test_grouped_cac_is_the_hand_counted_spend_per_new_customer(store: Path) -> None:
    MEMO.clear()
    groups = _groups(store)
    prepare(groups, ["cac_payback_months"])
    assert all(MEMO.peek(g.memo_key("metric", "cac")) is not None for g in groups)  # stored by the grouped pass
    smb, ent = (compute_metric(g, "cac") for g in groups)
    assert (smb.value, smb.sample_size, ent.value, ent.sample_size) == (25.0, 2, 400.0, 2)
    assert "1 of 2 new customers have no acquisition_cost" in (smb.reason or "")


def test_grouped_email_counts_are_the_hand_counted_sends_opens_and_clicks(store: Path) -> None:
    MEMO.clear()
    groups = _groups(store)
    prepare(groups, ["click_to_open_rate"])
    assert [g._cache["__shared__:touch_channel_counts"] for g in groups] == [
        {"email": (1, 1, 1), "sms": (1, 1, 0)}, {"email": (2, 1, 1)}]
    smb, ent = (compute_metric(g, "email_open_rate") for g in groups)
    assert (smb.value, ent.value) == (1.0, 0.5)




@pytest.mark.parametrize("dimension", [Dimension.INDUSTRY, Dimension.SEGMENT])
def test_grouped_results_equal_each_groups_own_on_the_demo_in_both_periods(demo_db: Path, dimension: Dimension) -> None:
    """Every value of ``dimension`` on the demo (as of its data end, 12 months; and the previous period): the results
    compare_segments reads after the grouped passes equal those of each group's own path, metric by metric, for every
    metric of the catalogue. Leads carry a segment but no industry: by industry the lead metrics are shared."""
    checked = metric_ids()
    source = open_source(demo_db)
    as_of = source.data_range().last
    conn = source.connect()
    values = sorted(v for v in source.distinct_values("customers", dimension.customer_column) if v is not None)
    conn.close()

    def groups() -> tuple[list[Dataset], list[Dataset]]:
        whole = Dataset.over(source, Scope.at(as_of))
        current = [whole.rescoped(Scope(as_of, whole.window, replace(Filters(), **{dimension.value: (v,)})))  # type: ignore[arg-type]
                   for v in values]
        return current, [previous_period(d) for d in current]

    MEMO.clear()
    current, previous = groups()
    own = [[compute_metric(d, m) for m in checked] for d in (*current, *previous)]
    MEMO.clear()
    current, previous = groups()
    prepare(current, checked)
    prepare(previous, checked)
    assert all(any(k.startswith("__flow_scope__") for k in d._cache) and GROUP_KEY in d._cache
               and "__revenue_movements__" in d._cache for d in (*current, *previous))  # the passes ran
    shared = MEMO.peek(current[-1].memo_key("metric", "lead_to_mql_rate")) is not None
    assert shared == (dimension is Dimension.INDUSTRY)
    assert [[compute_metric(d, m) for m in checked] for d in (*current, *previous)] == own
