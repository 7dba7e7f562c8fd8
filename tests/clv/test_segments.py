"""RFM quartile scores and segment names."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from lifecycle.clv.segments import SEGMENT_RULES, quartile_score, rfm_segments
from lifecycle.errors import QueryError


def test_eight_distinct_values_split_into_quartiles_of_two() -> None:
    """Strictly-worse shares 0, 1/8, ..., 7/8 -> 1 + floor(4 * share) = 1,1,2,2,3,3,4,4."""
    scores = quartile_score(pd.Series([10, 20, 30, 40, 50, 60, 70, 80], name="v"))
    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4]


def test_ties_share_a_score_and_may_skip_one() -> None:
    """Six of ten customers never came back (frequency 0): they all score 1; frequency 1 has 6/10 below -> 3."""
    scores = quartile_score(pd.Series([0, 0, 0, 0, 0, 0, 1, 1, 2, 5], name="frequency"))
    assert scores.tolist() == [1, 1, 1, 1, 1, 1, 3, 3, 4, 4]


def test_recency_score_rewards_a_recent_last_purchase() -> None:
    """R uses T - recency (time since the last purchase): 0 weeks idle scores 4, 30 weeks idle scores 1."""
    summary = pd.DataFrame({"frequency": [3.0, 3.0, 3.0, 3.0], "recency": [40.0, 30.0, 20.0, 10.0], "T": [40.0] * 4},
                           index=["now", "10w", "20w", "30w"])
    assert rfm_segments(summary)["R"].tolist() == [4, 3, 2, 1]


def test_every_score_pair_is_named_by_a_rule() -> None:
    for r, f in itertools.product(range(1, 5), repeat=2):
        matching = [rule.name for rule in SEGMENT_RULES
                    if rule.r_scores[0] <= r <= rule.r_scores[1] and rule.f_scores[0] <= f <= rule.f_scores[1]]
        assert len(matching) >= 1, (r, f)


def test_named_segments_for_a_small_base() -> None:
    """Four customers: recent frequent, recent one-off, long-idle frequent, long-idle one-off."""
    summary = pd.DataFrame(
        {"frequency": [9.0, 0.0, 9.0, 0.0], "recency": [50.0, 0.0, 5.0, 0.0], "T": [50.0, 1.0, 50.0, 50.0],
         "monetary_value": [30.0, 0.0, 25.0, 0.0]},
        index=["ann", "bob", "cy", "dee"],
    )
    out = rfm_segments(summary)
    # idle time: ann 0, bob 1, cy 45, dee 50 -> R 4, 3, 2, 1; frequency 9, 0, 9, 0 -> F 3, 1, 3, 1
    assert out["R"].tolist() == [4, 3, 2, 1]
    assert out["F"].tolist() == [3, 1, 3, 1]
    assert out["M"].tolist() == [4, 1, 3, 1]
    assert out["rfm_score"].tolist() == ["434", "311", "233", "111"]
    assert out["segment"].tolist() == ["loyal", "promising", "at_risk", "lost"]


def test_cdnow_segments_cover_every_customer(cdnow_summary: pd.DataFrame) -> None:
    out = rfm_segments(cdnow_summary)
    assert len(out) == 2357 and out["segment"].notna().all()
    assert set(out["segment"]) <= {rule.name for rule in SEGMENT_RULES}


def test_summary_without_required_columns_is_rejected() -> None:
    with pytest.raises(QueryError, match="lacks column"):
        rfm_segments(pd.DataFrame({"frequency": [1.0]}))
