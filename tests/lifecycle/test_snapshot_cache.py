"""The snapshot's Parquet cache is keyed by the engine's code and bounded in size (``lifecycle.snapshot.cache``)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle import memo
from lifecycle.config import EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.memo import Memo
from lifecycle.scope import Scope
from lifecycle.snapshot import build, cache, load_or_build_snapshot, snapshot_cache_path, snapshot_of
from lifecycle.snapshot.build import CUSTOMER_COLUMNS
from lifecycle.sources import SqliteSource
from lifecycle.store import data_dir
from tests.builders import make_store

AS_OF = date(2024, 7, 1)


def _tables() -> dict[str, list[dict[str, object]]]:
    return {"customers": [{"customer_id": "a", "signup_date": "2024-01-01"},
                          {"customer_id": "b", "signup_date": "2024-02-01"}]}


def test_a_snapshot_cached_by_another_engine_version_is_not_served(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade (a new code fingerprint) must not read what the old code cached: the path moves and the snapshot is
    rebuilt beside the old one, which stays until the bounded cache evicts it."""
    path = make_store(tmp_path / "d.db", _tables())
    load_or_build_snapshot(path, AS_OF)
    old = snapshot_cache_path(path, AS_OF, EngineConfig(), Filters())
    assert old.exists() and cache.code_fingerprint() in old.parts
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-version")
    new = snapshot_cache_path(path, AS_OF, EngineConfig(), Filters())
    assert new != old and "another-version" in new.parts
    load_or_build_snapshot(path, AS_OF)
    assert new.exists() and old.exists()


def test_the_code_fingerprint_is_stable_within_a_process_and_short() -> None:
    assert cache.code_fingerprint() == cache.code_fingerprint()
    assert len(cache.code_fingerprint()) == 12 and int(cache.code_fingerprint(), 16) >= 0


def _write(name: str, rows: int, mtime: int) -> Path:
    target = cache.cache_root() / "ident" / f"{name}.parquet"
    cache.write_cached(pd.DataFrame({"x": range(rows)}), target)
    os.utime(target, (mtime, mtime))
    return target


def test_the_cache_evicts_least_recently_used_files_past_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three files of one size s, a budget of 2.5 s: the oldest goes; a read refreshes a file so it is kept."""
    monkeypatch.setenv(cache.CACHE_BUDGET_ENV, "100")  # no eviction while the fixture files are written
    first, second, third = _write("first", 5000, 1_000), _write("second", 5000, 2_000), _write("third", 5000, 3_000)
    size = first.stat().st_size
    assert second.stat().st_size == size == third.stat().st_size
    assert cache.read_cached(first) is not None  # first is now the most recently used
    removed = cache.evict_least_recently_used(budget=int(2.5 * size))
    assert removed == [second]
    assert first.exists() and third.exists() and not second.exists()


def test_a_write_keeps_the_file_it_wrote_even_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_BUDGET_ENV, "0")
    old = _write("old", 100, 1_000)
    new = cache.cache_root() / "ident" / "new.parquet"
    cache.write_cached(pd.DataFrame({"x": range(100)}), new)
    assert new.exists() and not old.exists()
    assert list((data_dir() / "cache").rglob("*.parquet")) == [new]


def test_eviction_leaves_a_file_being_written_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's write in progress (its temporary name) is not evicted, even past the budget: removing it
    would make that process's rename into place fail. A finished file past the budget still goes."""
    monkeypatch.setenv(cache.CACHE_BUDGET_ENV, "100")
    done = _write("done", 5000, 1_000)
    writing = done.parent / f"{cache.TEMPORARY_PREFIX}abc.parquet"
    writing.write_bytes(b"x" * 100_000)
    os.utime(writing, (500, 500))  # older than every finished file
    assert cache.evict_least_recently_used(budget=0) == [done]
    assert writing.exists()


@pytest.mark.parametrize(("raw", "expected_mb"), [("", 2048), ("64", 64), ("0.5", 0.5), ("lots", 2048), ("-3", 0)])
def test_the_cache_budget_reads_megabytes_from_the_environment(raw: str, expected_mb: float,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_BUDGET_ENV, raw)
    assert cache.cache_budget_bytes() == int(expected_mb * 1024 * 1024)


def _subscribed() -> dict[str, list[dict[str, object]]]:
    return {**_tables(), "subscriptions": [
        {"subscription_id": "s1", "customer_id": "a", "plan": "pro", "mrr": 10.0, "start_date": "2024-01-01"},
        {"subscription_id": "s2", "customer_id": "b", "plan": "pro", "mrr": 20.0, "start_date": "2024-02-01",
         "end_date": "2024-03-01"}]}


def _fresh_memo(monkeypatch: pytest.MonkeyPatch) -> Memo:
    """A memo of its own, as in a new process (the snapshot's Parquet cache stays)."""
    fresh = Memo()
    monkeypatch.setattr(memo, "MEMO", fresh)
    monkeypatch.setattr(build, "MEMO", fresh)
    return fresh


def test_a_column_subset_asked_while_the_full_snapshot_is_on_disk_holds_the_full_snapshot_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process whose Parquet cache has the full snapshot: the stage history's subset reads that file into the
    memo under the full snapshot's key, and a later full request is served from that one entry — not read again and
    held twice (the subset's key once stored the whole file: 578 MB at a million customers, twice over)."""
    path = make_store(tmp_path / "d.db", _subscribed())
    full = snapshot_cache_path(path, AS_OF, EngineConfig(), Filters())
    load_or_build_snapshot(path, AS_OF)
    assert full.exists()
    fresh = _fresh_memo(monkeypatch)
    source = SqliteSource(path)
    subset = Dataset.over(source, Scope.at(AS_OF))
    whole = Dataset.over(source, Scope.at(AS_OF))
    try:
        part = snapshot_of(subset, ["churned", "mrr_current"])
        assert list(fresh._entries) == [("snapshot", full, None)]
        served = snapshot_of(whole)
        assert fresh.misses == 1 and len(fresh) == 1
    finally:
        subset.close()
        whole.close()
    on_disk = pd.read_parquet(full)
    pd.testing.assert_frame_equal(served, on_disk)
    pd.testing.assert_frame_equal(part, on_disk)  # the full snapshot serves the subset as it did before


def test_a_column_subset_without_the_full_snapshot_builds_and_keeps_only_its_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no full snapshot at hand a subset runs its sections only and keeps the columns it names with the
    customer's own: ``churned`` and ``mrr_current`` come from the subscriptions section, whose 14 other columns
    (``mrr_90d_ago``, ``seats_current``, …) are not kept, in the memo nor in its Parquet file. By hand on 2024-07-01:
    ``a`` pays 10 (not churned), ``b``'s only subscription ended on 2024-03-01 (churned, MRR 0)."""
    path = make_store(tmp_path / "d.db", _subscribed())
    fresh = _fresh_memo(monkeypatch)
    dataset = Dataset.over(SqliteSource(path), Scope.at(AS_OF))
    try:
        part = snapshot_of(dataset, ["churned", "mrr_current"])
    finally:
        dataset.close()
    assert list(part.columns) == [*CUSTOMER_COLUMNS, "mrr_current", "churned"]
    assert part.set_index("customer_id").loc[["a", "b"], "churned"].tolist() == [False, True]
    assert part.set_index("customer_id").loc[["a", "b"], "mrr_current"].tolist() == [10.0, 0.0]
    full = snapshot_cache_path(path, AS_OF, EngineConfig(), Filters())
    tagged = snapshot_cache_path(path, AS_OF, EngineConfig(), Filters(), ["churned", "mrr_current"])
    assert not full.exists() and list(pd.read_parquet(tagged).columns) == list(part.columns)
    assert [key[2] for key in fresh._entries if key[0] == "snapshot"] == [cache.columns_tag(["churned", "mrr_current"])]
