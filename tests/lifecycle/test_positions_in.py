"""``membership.positions_in``: the position of each value among unique ids, −1 where absent (hand-made cases)."""

from __future__ import annotations

import pandas as pd

from lifecycle.membership import positions_in


def test_each_value_gets_its_position_among_the_ids_and_minus_one_when_absent() -> None:
    ids = pd.Index(pd.array(["b", "a", "c"], dtype="string"))
    values = pd.Series(pd.array(["a", "x", None, "c", "b", "a"], dtype="string"))
    assert positions_in(values, ids).tolist() == [1, -1, -1, 2, 0, 1]


def test_no_values_give_an_empty_array_and_no_ids_find_nothing() -> None:
    assert positions_in(pd.Series([], dtype="string"), pd.Index(["a"])).tolist() == []
    assert positions_in(pd.Series(["a", "b"], dtype="string"), pd.Index([], dtype="string")).tolist() == [-1, -1]
