"""The process memo: one computation per key, concurrent callers wait for it, errors are not kept, the budget
evicts by GreedyDual-Size (least credit = cost / size first, least recently used among equals), and frames handed out
cannot change what is stored."""

from __future__ import annotations

import sys
import threading
import time
import types

import pandas as pd
import pytest

import lifecycle.memo
from lifecycle.memo import MIN_COST_SECONDS, Memo, size_of


def _frozen() -> float:
    """A clock that never moves: every computation costs ``MIN_COST_SECONDS``, so eviction order is recency alone."""
    return 0.0


class _Clock:
    """A seconds counter the test's computations move on by hand (``spend``): costs exact and independent of load."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def spend(self, seconds: float, value: object) -> object:
        self.now += seconds
        return value


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
    memo = Memo(budget_bytes=2 * one + 10, clock=_frozen)
    memo.remember("a", lambda: "a" * 1000)
    memo.remember("b", lambda: "b" * 1000)
    memo.remember("a", lambda: "unused")
    memo.remember("c", lambda: "c" * 1000)
    assert memo.peek("a") == "a" * 1000 and memo.peek("c") == "c" * 1000
    assert memo.peek("b") is None


def test_a_large_cheap_entry_goes_before_an_older_smaller_dear_one() -> None:
    """Budget: two 1000-character strings and a bit. "dear" (1000 characters, 5 s to compute) is stored first, then
    "cheap" (2000 characters, 1 ms). Storing "new" passes the budget: by hand, credits are 5 / size("dear") ≈ 5e-3 per
    byte against 0.001 / size("cheap") ≈ 5e-7 — "cheap" goes though "dear" is the least recently used."""
    clock = _Clock()
    one = size_of("x" * 1000)
    memo = Memo(budget_bytes=size_of("x" * 2000) + one + 10, clock=clock)
    memo.remember("dear", lambda: clock.spend(5.0, "d" * 1000))
    memo.remember("cheap", lambda: clock.spend(0.001, "c" * 2000))
    memo.remember("new", lambda: clock.spend(0.001, "n" * 1000))
    assert memo.peek("cheap") is None
    assert memo.peek("dear") == "d" * 1000 and memo.peek("new") == "n" * 1000
    assert memo.cost("dear") == 5.0


def test_a_dear_entry_nobody_asks_for_again_ages_out() -> None:
    """Equal sizes s, room for two. "dear" costs 3 s, then x1..x4 cost 2 s each. By hand (credit = L + cost/s, L =
    the last evicted credit): x2 evicts x1 (2/s < 3/s; L = 2/s), x3 (credit 4/s) evicts x2 (2/s), x4 (credit 4/s)
    evicts "dear" (3/s < x3's 4/s): 1.5 times dearer, it outlives two cheaper entries, not every later one."""
    clock = _Clock()
    one = size_of("x" * 1000)
    memo = Memo(budget_bytes=2 * one + 10, clock=clock)
    memo.remember("dear", lambda: clock.spend(3.0, "d" * 1000))
    kept = []
    for i in range(1, 5):
        memo.remember(f"x{i}", lambda i=i: clock.spend(2.0, str(i) * 1000))
        kept.append(sorted(key for key in ("dear", "x1", "x2", "x3", "x4") if memo.peek(key) is not None))
    assert kept == [["dear", "x1"], ["dear", "x2"], ["dear", "x3"], ["x3", "x4"]]


def test_a_hit_renews_an_entrys_credit() -> None:
    """Equal sizes s, room for two, every cost 2 s. a, b stored (credit 2/s each); c evicts a (tie: least recently
    used; L = 2/s). Asking for b renews its credit to L + 2/s = 4/s, as c's; d then evicts c (tie, c the older use)."""
    clock = _Clock()
    one = size_of("x" * 1000)
    memo = Memo(budget_bytes=2 * one + 10, clock=clock)
    for key in ("a", "b", "c"):
        memo.remember(key, lambda key=key: clock.spend(2.0, key * 1000))
    assert memo.peek("a") is None
    memo.remember("b", lambda: "unused")
    memo.remember("d", lambda: clock.spend(2.0, "d" * 1000))
    assert memo.peek("c") is None and memo.peek("b") == "b" * 1000 and memo.peek("d") == "d" * 1000


def test_an_entrys_cost_leaves_out_the_entries_it_stored_on_its_way() -> None:
    """outer spends 1 s, asks for inner (4 s, stored), spends 2 s more: its own cost is 1 + 2 = 3 s, inner's 4 s; a
    computation the clock does not see moving is credited with the floor."""
    clock = _Clock()
    memo = Memo(clock=clock)

    def outer() -> str:
        clock.spend(1.0, None)
        inner = memo.remember("inner", lambda: clock.spend(4.0, "i"))
        return str(clock.spend(2.0, inner))

    assert memo.remember("outer", outer) == "i"
    assert (memo.cost("outer"), memo.cost("inner")) == (3.0, 4.0)
    memo.remember("free", lambda: "f")
    assert memo.cost("free") == MIN_COST_SECONDS and memo.cost("absent") is None


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
    memo = Memo(budget_bytes=3 * one + 10, clock=_frozen)
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


def test_a_frame_is_sized_by_its_column_buffers() -> None:
    """10,000 rows of int64, float64 and bool columns weigh 8 + 8 + 1 bytes a row (by hand: 170,000 bytes) plus
    the index; with text (Arrow-backed), nullable, date and categorical columns added the size is exactly pandas'
    ``memory_usage(deep=True)`` summed — the reference the memo's estimate replaced; a Series likewise."""
    import numpy as np

    n = 10_000
    numbers = pd.DataFrame({"count": np.arange(n, dtype="int64"), "rate": np.linspace(0, 1, n),
                            "flag": np.arange(n) % 3 == 0})
    assert size_of(numbers) == 170_000 + numbers.index.memory_usage(deep=True)
    mixed = numbers.assign(
        customer_id=pd.array([f"c{i:06d}" for i in range(n)], dtype="string"),
        plan=pd.Series([("Starter", "Growth", None)[i % 3] for i in range(n)], dtype="str"),
        churned=pd.array([(True, False, None)[i % 3] for i in range(n)], dtype="boolean"),
        seats=pd.array([i if i % 7 else None for i in range(n)], dtype="Int64"),
        signup=pd.to_datetime(np.arange(n), unit="D"),
        stage=pd.Categorical([("new", "active", "at risk")[i % 3] for i in range(n)]),
    ).set_index("customer_id")
    assert size_of(mixed) == int(mixed.memory_usage(deep=True).sum())
    assert size_of(mixed["plan"]) == int(mixed["plan"].memory_usage(deep=True))


def test_an_object_column_is_estimated_from_a_sample_within_a_few_percent() -> None:
    """100,000 Python strings alternating 10 and 1,000 ASCII characters: by hand 100,000 × 8 bytes of pointers +
    50,000 × (49 + 10) + 50,000 × (49 + 1,000) bytes (CPython's ``sys.getsizeof`` of an ASCII str of k characters is
    49 + k) = 56,200,000 bytes (+ the index). The estimate, from 1,000 values drawn at random, lands within 5 % and
    is the same every time; a short object column is counted exactly."""
    n = 100_000
    texts = pd.DataFrame({"note": pd.Series(["a" * 10 if i % 2 else "b" * 1000 for i in range(n)], dtype=object)})
    assert texts["note"].dtype == object
    exact = 56_200_000 + texts.index.memory_usage(deep=True)
    assert abs(size_of(texts) - exact) <= 0.05 * exact
    assert size_of(texts) == size_of(texts)
    short = texts.head(500)
    assert size_of(short) == 500 * 8 + 250 * 59 + 250 * 1049 + short.index.memory_usage(deep=True)
