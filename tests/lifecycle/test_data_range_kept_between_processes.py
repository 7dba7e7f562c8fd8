"""The data's date range is kept on disk per identity of the data (``lifecycle.disk_memo``): a new process reads it
instead of scanning every table again, and an import, another engine version or a damaged file is never answered
from it.

A new process is this one with its memo cleared (``MEMO.clear()``); "read from disk" is shown by a source that can no
longer open a connection still answering. Golden values are hand computed from the rows below: signups 2024-01-05 and
2024-02-10, a subscription started 2024-04-10 in the second import, a cancellation on 2024-05-31.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lifecycle import disk_memo
from lifecycle.memo import MEMO
from lifecycle.sources import SqliteSource, open_source
from lifecycle.sources.base import DataRange
from lifecycle.store import atomic_write
from tests.builders import make_store

FIRST = {"customers": [{"customer_id": "c1", "signup_date": "2024-01-05"}],
         "subscriptions": [{"subscription_id": "s1", "customer_id": "c1", "start_date": "2024-01-05", "mrr": 100.0,
                            "end_date": "2024-05-31"}]}
SECOND = {"customers": [{"customer_id": "c2", "signup_date": "2024-02-10"}],
          "subscriptions": [{"subscription_id": "s2", "customer_id": "c2", "start_date": "2024-04-10", "mrr": 50.0}]}
FIRST_RANGE = DataRange(date(2024, 1, 5), date(2024, 1, 5), date(2024, 5, 31))


def _import(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Append rows the way ``lifecycle import`` does: a copy written and swapped into place."""
    with atomic_write(path) as db:
        for name, rows in tables.items():
            db[name].insert_all(rows, alter=False)


def _no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: SqliteSource) -> None:
        raise AssertionError("the data range was computed again instead of read from disk")

    monkeypatch.setattr(SqliteSource, "connect", refuse)


def test_a_new_process_reads_the_range_from_disk_without_a_statement(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    source = open_source(make_store(tmp_path / "store.db", FIRST))
    assert source.data_range() == FIRST_RANGE
    assert disk_memo.kept_path(source.identity(), "data_range").exists()
    MEMO.clear()
    _no_connections(monkeypatch)
    assert open_source(tmp_path / "store.db").data_range() == FIRST_RANGE


def test_an_import_is_never_answered_from_the_range_kept_for_the_data_it_replaced(tmp_path: Path) -> None:
    """After the second import the last activity day is its subscription's start, 2024-04-10; the first signup
    stays the first day."""
    path = make_store(tmp_path / "store.db", FIRST)
    assert open_source(path).data_range() == FIRST_RANGE
    MEMO.clear()
    _import(path, SECOND)
    assert open_source(path).data_range() == DataRange(date(2024, 1, 5), date(2024, 4, 10), date(2024, 5, 31))


def test_a_range_kept_by_another_engine_version_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = open_source(make_store(tmp_path / "store.db", FIRST))
    planted = disk_memo.kept_path(source.identity(), "data_range")
    planted.parent.mkdir(parents=True)
    planted.write_text(json.dumps({"first": "2000-01-01", "last": "2000-01-02", "recorded_last": None}))
    monkeypatch.setattr(disk_memo, "code_fingerprint", lambda: "another-version")
    assert source.data_range() == FIRST_RANGE


@pytest.mark.parametrize("content", ["{not json", '{"first": "2024-01-05"}', '["a list"]', '{"first": "yesterday", '
                                     '"last": "2024-01-05", "recorded_last": null}'])
def test_a_damaged_kept_range_is_computed_again_and_replaced(tmp_path: Path, content: str) -> None:
    source = open_source(make_store(tmp_path / "store.db", FIRST))
    kept = disk_memo.kept_path(source.identity(), "data_range")
    kept.parent.mkdir(parents=True)
    kept.write_text(content)
    assert source.data_range() == FIRST_RANGE
    assert DataRange.from_json(json.loads(kept.read_text())) == FIRST_RANGE


def test_a_data_directory_that_cannot_be_written_only_costs_the_saving(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(blocked))
    assert open_source(make_store(tmp_path / "store.db", FIRST)).data_range() == FIRST_RANGE
