"""The process memo: one computation per key, concurrent callers wait for it, errors are not kept, the budget
evicts the least recently used entries, and frames handed out cannot change what is stored."""

from __future__ import annotations

import sys
import threading
import time
import types

import pandas as pd
import pytest

import lifecycle.memo
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


def test_a_value_is_stored_and_served_while_another_thread_is_still_importing_pandas(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While one thread imports pandas, ``sys.modules`` already holds the module without its attributes (the state a
    stdio server's concurrent first calls met: "partially initialized module 'pandas' has no attribute 'DataFrame'").
    The memo sizes and hands out values then as plain values, and sees frames again once pandas is complete."""
    monkeypatch.setattr(lifecycle.memo, "_FRAMES", ())
    monkeypatch.setitem(sys.modules, "pandas", types.ModuleType("pandas"))  # partly initialised: no DataFrame yet
    memo = Memo()
    assert memo.remember("k", lambda: {"a": [1, 2]}) == {"a": [1, 2]}
    assert memo.remember("k", lambda: {}) == {"a": [1, 2]}
    assert size_of([1, 2, 3]) > 0
    monkeypatch.setitem(sys.modules, "pandas", pd)  # the import has finished
    frame = memo.remember("f", lambda: pd.DataFrame({"a": [1, 2]}))
    frame["a"] = [9, 9]
    assert memo.remember("f", lambda: pd.DataFrame())["a"].tolist() == [1, 2]


def test_the_stored_size_never_passes_the_budget_once_more_than_one_entry_is_kept() -> None:
    """Twenty 1000-character strings through a budget of three: after every store the memo holds at most three and
    its estimated bytes stay within the budget (the invariant the server's memory rests on)."""
    one = size_of("x" * 1000)
    memo = Memo(budget_bytes=3 * one + 10)
    for i in range(20):
        memo.remember(i, lambda i=i: str(i % 10) * 1000)
        assert memo.bytes <= 3 * one + 10
        assert len(memo) <= 3
    assert memo.peek(19) == "9" * 1000 and memo.peek(0) is None


def test_shrinking_drops_the_largest_entries_first_and_keeps_the_small_answers() -> None:
    """Entries of 50_000, 100, 20_000 and 200 characters (stored in that order), shrunk to 10_000 bytes: the two large
    ones go — the largest first, though it is not the least recently used — the two small ones stay."""
    memo = Memo()
    for key, n in (("frame", 50_000), ("answer", 100), ("table", 20_000), ("fact", 200)):
        memo.remember(key, lambda n=n: "x" * n)
    memo.remember("frame", lambda: "unused")  # the largest is now the most recently used
    assert memo.shrink(10_000) == 2
    assert memo.peek("frame") is None and memo.peek("table") is None
    assert memo.peek("answer") == "x" * 100 and memo.peek("fact") == "x" * 200
    assert memo.bytes == size_of("x" * 100) + size_of("x" * 200)


def test_shrinking_within_the_budget_drops_nothing() -> None:
    memo = Memo()
    memo.remember("a", lambda: "a" * 1000)
    assert memo.shrink(10_000) == 0
    assert memo.peek("a") == "a" * 1000


def test_shrinking_to_zero_empties_the_memo_and_a_dropped_key_is_computed_again() -> None:
    memo, calls = Memo(), []
    memo.remember("a", lambda: calls.append(1) or "a" * 1000)
    memo.shrink(0)
    assert (len(memo), memo.bytes) == (0, 0)
    assert memo.remember("a", lambda: calls.append(2) or "again") == "again"
    assert calls == [1, 2]


@pytest.mark.parametrize(("physical_gib", "expected_mib"), [(16, 4096), (1, 512), (0, 512)])
def test_the_default_budget_is_a_quarter_of_physical_memory_and_at_least_512_mib(
        monkeypatch: pytest.MonkeyPatch, physical_gib: int, expected_mib: int) -> None:
    """16 GiB of memory → 4096 MiB (a quarter); 1 GiB → 256 MiB is below the floor, so 512; unknown (0) → 512."""
    import lifecycle.memo as memo_module

    monkeypatch.delenv(memo_module.BUDGET_ENV, raising=False)
    monkeypatch.setattr(memo_module, "physical_memory_bytes", lambda: physical_gib * 2**30)
    assert memo_module._budget_bytes() == expected_mib * 2**20


@pytest.mark.parametrize(("raw", "expected_mib"), [("100", 100.0), ("2.5", 2.5), ("lots", 4096.0)])
def test_the_environment_sets_the_budget_and_a_non_number_falls_back_to_the_default(
        monkeypatch: pytest.MonkeyPatch, raw: str, expected_mib: float) -> None:
    import lifecycle.memo as memo_module

    monkeypatch.setenv(memo_module.BUDGET_ENV, raw)
    monkeypatch.setattr(memo_module, "physical_memory_bytes", lambda: 16 * 2**30)
    assert memo_module._budget_bytes() == expected_mib * 2**20



def test_a_long_sequence_is_sized_from_its_first_items_scaled_to_its_length() -> None:
    """1000 alike items: the estimate is the container plus 1000 × one item (by hand: sampling 32 and scaling by
    1000/32 is exact when the items are alike); a short list counts every item."""
    import sys

    item = ("x" * 100, 1.5)
    one = size_of(item, 2)
    assert size_of([item] * 1000) == sys.getsizeof([item] * 1000) + 1000 * one
    assert size_of(tuple([item] * 1000)) == sys.getsizeof(tuple([item] * 1000)) + 1000 * one
    assert size_of({i: item for i in range(1000)}) == sys.getsizeof({i: item for i in range(1000)}) + 1000 * one
    short = [item, ("y" * 500, 2.0)]
    assert size_of(short) == sys.getsizeof(short) + one + size_of(("y" * 500, 2.0), 2)
