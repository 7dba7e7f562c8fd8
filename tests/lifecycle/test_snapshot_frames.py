"""``attach`` aligns a per-customer frame onto the snapshot's customers as ``set_index("customer_id").reindex(...)``
does, and refuses a frame with two rows of one customer as reindex does — whether the frame's ids come sorted (a
``GROUP BY customer_id`` statement's order: checked by comparing neighbours) or in any other order (counted)."""

from __future__ import annotations

import pandas as pd
import pytest

from lifecycle.snapshot.frames import attach

SNAP = pd.DataFrame({"customer_id": pd.array(["c", "a", "d", "b"], dtype="string")})


@pytest.mark.parametrize("ids", [["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"], [None, "a", "c"], ["a"], []])
def test_attach_gives_each_customer_its_own_row_in_any_id_order(ids: list[str | None]) -> None:
    """By hand for ``a b c`` with values 1 2 3: c→3, a→1, d→missing (filled 0), b→2; each ordering of the same rows
    gives the same column, and equals what reindex gives."""
    values = {"a": 1.0, "b": 2.0, "c": 3.0, None: 9.0}
    frame = pd.DataFrame({"customer_id": pd.array(ids, dtype="string"), "x": [values[i] for i in ids]}, dtype=None)
    frame["x"] = frame["x"].astype("float64")
    out = attach(SNAP, frame, {"x": 0.0})
    expected = [values[i] if i in ids else 0.0 for i in ("c", "a", "d", "b")]
    assert out["x"].tolist() == expected
    reindexed = frame.set_index("customer_id")["x"].reindex(SNAP["customer_id"]).fillna(0.0).tolist()
    assert out["x"].tolist() == reindexed


@pytest.mark.parametrize("ids", [["a", "a", "b"], ["a", "b", "b"], ["b", "a", "b"], [None, "a", None], ["c", "a", "c", "d"]])
def test_attach_refuses_two_rows_of_one_customer(ids: list[str | None]) -> None:
    """Sorted neighbours (``a a b``), a repeat far apart (``b a b``) and two missing ids all refuse, as reindex does."""
    frame = pd.DataFrame({"customer_id": pd.array(ids, dtype="string"), "x": range(len(ids))})
    with pytest.raises(ValueError, match="duplicate"):
        attach(SNAP, frame, {"x": 0})
    with pytest.raises(ValueError):
        frame.set_index("customer_id").reindex(SNAP["customer_id"])
