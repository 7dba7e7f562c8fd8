"""Properties of the health score under the default profile: bounded, and monotone in every signal's direction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.health import score_health
from lifecycle.health.profile import Direction, Scoring, load_health_profile

PROFILE = load_health_profile()
ORDERED = [s for c in PROFILE.components for s in c.signals if s.scoring is not Scoring.LOOKUP]
BOOLEAN = [s for c in PROFILE.components for s in c.signals if s.scoring is Scoring.LOOKUP]

value = st.one_of(st.none(), st.floats(min_value=-1e4, max_value=1e4, allow_nan=False))
flag = st.one_of(st.none(), st.booleans())


def row_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({**{s.column: value for s in ORDERED}, **{s.column: flag for s in BOOLEAN}})


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    data: dict[str, Any] = {"customer_id": [f"c{i}" for i in range(len(rows))]}
    for s in ORDERED:
        data[s.column] = np.array([np.nan if r[s.column] is None else r[s.column] for r in rows], dtype="float64")
    for s in BOOLEAN:
        data[s.column] = pd.array([pd.NA if r[s.column] is None else r[s.column] for r in rows], dtype="boolean")
    return pd.DataFrame(data)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(row_strategy(), min_size=1, max_size=5))
def test_health_and_components_stay_within_0_and_100(rows: list[dict[str, Any]]) -> None:
    table = score_health(frame(rows), PROFILE)
    health = table.frame["health"].dropna()
    assert ((health >= 0) & (health <= 100)).all()
    components = table.components.stack().dropna()
    assert ((components >= 0) & (components <= 100)).all()


@settings(max_examples=120, deadline=None)
@given(row=row_strategy(), signal_index=st.integers(0, len(ORDERED) - 1),
       step=st.floats(min_value=0.0, max_value=1e4, allow_nan=False))
def test_improving_one_signal_never_lowers_health(row: dict[str, Any], signal_index: int, step: float) -> None:
    """Moving one present signal in its good direction (up when higher is better, down when lower is better)
    leaves every other signal alone, so no weight moves and health cannot fall."""
    signal = ORDERED[signal_index]
    if row[signal.column] is None:
        row = {**row, signal.column: 0.0}
    better = dict(row)
    better[signal.column] = row[signal.column] + (step if signal.direction is Direction.HIGHER_IS_BETTER else -step)
    before, after = score_health(frame([row, better]), PROFILE).frame["health"].tolist()
    assert after >= before - 1e-9


@settings(max_examples=60, deadline=None)
@given(row=row_strategy(), signal_index=st.integers(0, len(BOOLEAN) - 1))
def test_a_flag_turning_good_never_lowers_health(row: dict[str, Any], signal_index: int) -> None:
    """Gaining a sponsor or champion (true is good), auto-renew back on or a trial ended (false is good)."""
    signal = BOOLEAN[signal_index]
    good = signal.direction is not Direction.LOWER_IS_BETTER
    worse, better = {**row, signal.column: not good}, {**row, signal.column: good}
    before, after = score_health(frame([worse, better]), PROFILE).frame["health"].tolist()
    assert after >= before - 1e-9
