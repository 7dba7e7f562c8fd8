"""The process memo: one computation per key, concurrent callers wait for it, errors are not kept, the budget
evicts the least recently used entries, and frames handed out cannot change what is stored."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from lifecycle.memo import Memo, size_of


def test_a_key_is_computed_once_and_then_served() -> None:
    memo, calls = Memo(), []
    first = memo.remember(("k", 1), lambda: calls.append(1) or "value")
    second = memo.remember(("k", 1), lambda: calls.append(2) or "other")
    assert (first, second, calls) == ("value", "value", [1])
    assert (memo.hits, memo.misses) == (1, 1)


def test_concurrent_callers_of_one_key_share_one_computation() -> None:
    memo, calls = Memo(), []
    start = threading.Barrier(8)

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[int] = []

    def caller() -> None:
        start.wait()
        results.append(memo.remember("key", slow))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8
    assert calls == [1]


def test_a_failed_computation_leaves_no_entry() -> None:
    memo = Memo()

    def broken() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        memo.remember("key", broken)
    assert memo.remember("key", lambda: 7) == 7


def test_the_budget_evicts_the_least_recently_used_entry() -> None:
    """Three 1000-character strings against a budget of two: touching the first keeps it, the second goes."""
    one = size_of("x" * 1000)
    memo = Memo(budget_bytes=2 * one + 10)
    memo.remember("a", lambda: "a" * 1000)
    memo.remember("b", lambda: "b" * 1000)
    memo.remember("a", lambda: "unused")
    memo.remember("c", lambda: "c" * 1000)
    assert memo.peek("a") == "a" * 1000 and memo.peek("c") == "c" * 1000
    assert memo.peek("b") is None


def test_the_newest_entry_stays_even_past_the_budget() -> None:
    memo = Memo(budget_bytes=1)
    assert memo.remember("big", lambda: "x" * 10_000) == "x" * 10_000
    assert memo.peek("big") == "x" * 10_000


def test_a_frame_handed_out_cannot_change_the_stored_one() -> None:
    memo = Memo()
    frame = memo.remember("f", lambda: pd.DataFrame({"a": [1, 2]}))
    frame["a"] = [9, 9]
    frame["b"] = [0, 0]
    again = memo.remember("f", lambda: pd.DataFrame())
    assert list(again.columns) == ["a"] and again["a"].tolist() == [1, 2]
