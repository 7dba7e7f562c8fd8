"""The flow metrics' checkpoints built ahead in a forked process (``lifecycle.stages.history_ahead``).

Fixture (the flow metrics' own, tests/lifecycle/metrics/test_flow.py): nine customers, subscriptions and one NPS
answer, as_of 2024-06-30 with the window 2024-04-01 .. 2024-06-30, so the spell checkpoints are the same day of four months:
2024-06-30, 05-30, 04-30 and 03-30 (newest first). What the child writes must be exactly what the parent would
build: each kept snapshot is compared with the one built in this process from a fresh data directory, and the stage
states and flow metrics read from the kept files with those classified in-process (progression 3/5, regression 1/5,
hand-counted in test_flow.py's docstring).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.memo import MEMO
from lifecycle.metrics.flow import spell_checkpoints
from lifecycle.metrics.registry import compute_all, compute_metric
from lifecycle.scope import Scope
from lifecycle.snapshot.build import build_snapshot
from lifecycle.snapshot.cache import read_cached, snapshot_cache_path
from lifecycle.stages import load_model
from lifecycle.stages.history import _kept_stages, checkpoint_kept, stage_features, stage_states, stages_at
from lifecycle.stages.history_ahead import checkpoints_forked
from tests.builders import make_dataset
from tests.lifecycle.metrics.test_flow import _tables

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the checkpoints are forked on Linux only")

DAYS = ("2024-06-30", "2024-05-30", "2024-04-30", "2024-03-30")


@pytest.fixture()
def dataset(tmp_path: Path) -> Dataset:
    return make_dataset(tmp_path, _tables(), as_of="2024-06-30", window=("2024-04-01", "2024-06-30"))


def _kept_path(dataset: Dataset, day: object) -> Path:
    assert dataset.source is not None
    return snapshot_cache_path(dataset.source, day, dataset.config, Filters(),  # type: ignore[arg-type]
                               stage_features(load_model("default")), identity=dataset.identity)


def test_the_child_keeps_every_checkpoint_exactly_as_this_process_builds_it(dataset: Dataset, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing kept yet, the child builds all four checkpoints (oldest first) and keeps each snapshot and its
    stages; every kept snapshot equals ``build_snapshot`` of that day's whole base on the stage features, and every
    kept stages frame ``stages_at`` of that day, both built here from the tables (another data directory)."""
    model = load_model("default")
    days = spell_checkpoints(dataset)
    assert [d.isoformat() for d in days] == list(DAYS)
    assert not any(checkpoint_kept(dataset, model, day) for day in days)
    end = checkpoints_forked(dataset)
    assert end is not None
    end.join()  # let it finish on its own (calling it would stop it)
    end()  # the child is gone already: ending it is a no-op
    assert all(checkpoint_kept(dataset, model, day) for day in days)
    kept = {day: read_cached(_kept_path(dataset, day)) for day in days}
    kept_stages = {day: _kept_stages(dataset, model, day) for day in days}  # as stages_at reads them
    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(tmp_path / "elsewhere"))  # no cache: built here, from the tables
    MEMO.clear()
    fresh = Dataset.open(tmp_path / "fixture.db", dataset.as_of, window=dataset.window)
    for day in days:
        view = dataset if day == dataset.as_of else dataset.earlier(day)
        here = build_snapshot(view, stage_features(model))
        found = kept[day]
        assert found is not None
        pd.testing.assert_frame_equal(found, here, check_exact=True)
        stages = kept_stages[day]
        assert stages is not None
        pd.testing.assert_frame_equal(stages, stages_at(fresh, model, day), check_exact=True)


def test_the_flow_metrics_read_the_kept_checkpoints_and_answer_as_without_them(dataset: Dataset, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """After the child, this process's stage states come from the kept snapshots (nothing left to build) and equal
    the states classified from the tables in a fresh data directory; progression 3/5 and regression 1/5 either way."""
    model = load_model("default")
    days = tuple(spell_checkpoints(dataset))
    end = checkpoints_forked(dataset)
    assert end is not None
    end.join()  # let it finish on its own (calling it would stop it)
    MEMO.clear()
    from_kept = stage_states(dataset, model, days)
    progression = compute_metric(dataset, "progression_rate").value
    regression = compute_metric(dataset, "regression_rate").value
    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(tmp_path / "elsewhere"))
    MEMO.clear()
    fresh = Dataset.open(tmp_path / "fixture.db", dataset.as_of, window=dataset.window)
    built = stage_states(fresh, model, days)
    assert list(from_kept.ids) == list(built.ids) == ["a1", "c1", "n1", "p1", "p2", "r1", "s1", "v1", "v2"]
    assert (from_kept.stages() == built.stages()).all() and (from_kept.churned == built.churned).all()
    assert (progression, regression) == (pytest.approx(3 / 5), pytest.approx(1 / 5))
    assert compute_metric(fresh, "progression_rate").value == progression


def test_the_child_stops_at_the_first_checkpoint_already_kept(dataset: Dataset) -> None:
    """The child builds as_of (2024-06-30) first, then walking from the oldest day meets 2024-04-30 kept (as the
    parent, walking back from as_of, keeps its days): it builds 2024-03-30 and stops — 2024-05-30 stays unbuilt."""
    model = load_model("default")
    days = spell_checkpoints(dataset)
    middle = days[2]
    assert middle.isoformat() == "2024-04-30"
    build_view = dataset.earlier(middle)
    from lifecycle.snapshot.cache import write_cached

    write_cached(build_snapshot(build_view, stage_features(model)), _kept_path(dataset, middle))
    end = checkpoints_forked(dataset)
    assert end is not None
    end.join()  # let it finish on its own (calling it would stop it)
    assert [checkpoint_kept(dataset, model, day) for day in days] == [True, False, True, True]


def test_nothing_is_forked_while_another_thread_runs(dataset: Dataset) -> None:
    """A fork copies only the calling thread (a lock another one holds would stay held in the child): with a second
    thread alive, nothing starts and the caller falls back to its own way."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert checkpoints_forked(dataset) is None
    finally:
        release.set()
        other.join()
    assert not any(checkpoint_kept(dataset, load_model("default"), day) for day in spell_checkpoints(dataset))


def test_a_filtered_or_unopened_dataset_forks_nothing(dataset: Dataset) -> None:
    """The child builds the whole base's checkpoints of a source opened through ``Dataset.over``/``open``: a dataset
    without a source (built from frames) has no cache key, so nothing starts."""
    bare = Dataset(dataset.connection, Scope(dataset.as_of, dataset.window, Filters()), dataset.config)
    assert checkpoints_forked(bare) is None


def test_the_catalogue_command_prints_what_the_catalogue_computes_in_process(dataset: Dataset, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed console script (its checkpoints forked, cold data directory) prints the same JSON as
    ``compute_all`` in this process, which forks nothing (another fresh data directory)."""
    script = Path(sys.executable).with_name("lifecycle")
    env = dict(os.environ, LIFECYCLE_DATA_DIR=str(tmp_path / "cli"))
    out = subprocess.run([str(script), "metrics", "--db", str(tmp_path / "fixture.db"), "--as-of", "2024-06-30",
                          "--json"], capture_output=True, text=True, env=env, check=True).stdout
    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(tmp_path / "here"))
    MEMO.clear()
    here = Dataset.open(tmp_path / "fixture.db", dataset.as_of)
    expected = json.dumps({k: v.to_dict() for k, v in compute_all(here).items()}, indent=2, sort_keys=True)
    assert out.strip() == expected


def test_waiting_for_a_claimed_day_ends_when_the_child_keeps_it(tmp_path: Path) -> None:
    """The parent reaching the day the child has claimed waits for the child's snapshot rather than build it beside
    it: a real child keeps the day (creates the file) only once the parent has started waiting (the parent's first
    look tells it through a pipe) — so the day is kept on return only if the parent waited for it."""
    from lifecycle.stages import history_ahead
    from lifecycle.stages.history_ahead import ForkedCheckpoints, wait_for_claimed

    day, kept, claims = date(2024, 4, 30), tmp_path / "kept.parquet", tmp_path / "claims"
    claims.mkdir()
    (claims / day.isoformat()).touch()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(write_end)
            os.read(read_end, 1)  # the parent is waiting now
            kept.write_bytes(b"snapshot")
        finally:
            os._exit(0)
    os.close(read_end)
    looks = []

    def is_kept() -> bool:
        if not looks:
            os.write(write_end, b"x")
        looks.append(kept.exists())
        return looks[-1]

    history_ahead._RUNNING = ForkedCheckpoints(pid, claims)
    try:
        wait_for_claimed(day, is_kept)
        assert kept.exists() and looks[0] is False
    finally:
        os.close(write_end)
        history_ahead._RUNNING.join()
    assert history_ahead._RUNNING is None and not claims.exists()  # joined: forgotten, its claims folder removed


def test_no_wait_for_a_day_not_claimed_or_a_child_gone(tmp_path: Path) -> None:
    """Nothing to wait for: no child; a child that never claimed the day; a claim left by a child that has ended
    (it was stopped mid-day) — each returns with the day still not kept (the caller builds it)."""
    from lifecycle.stages import history_ahead
    from lifecycle.stages.history_ahead import ForkedCheckpoints, wait_for_claimed

    day, kept, claims = date(2024, 4, 30), tmp_path / "kept.parquet", tmp_path / "claims"
    claims.mkdir()
    assert history_ahead._RUNNING is None
    wait_for_claimed(day, kept.exists)  # no child
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    child = history_ahead._RUNNING = ForkedCheckpoints(pid, claims)
    try:
        wait_for_claimed(day, kept.exists)  # not claimed
        (claims / day.isoformat()).touch()
        wait_for_claimed(day, kept.exists)  # claimed, but the child has ended without keeping it
        assert not kept.exists()
        assert history_ahead._RUNNING is None  # the ended child was reaped and forgotten
    finally:
        child.join()


def test_beside_a_running_child_the_days_left_are_prefetched_two_at_a_time(dataset: Dataset, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The subscription groupings of the days left to build are prefetched all at once when no child runs — the four
    checkpoints in one go — but only two at a time while the forked builder runs (it builds the oldest days, this
    process the newest): (2024-06-30, 2024-05-30) as the walk from as_of starts, then (2024-04-30, 2024-03-30) when it
    reaches them with nothing kept meanwhile. The stage states are the same either way."""
    from lifecycle.snapshot import tables
    from lifecycle.stages import history_ahead
    from lifecycle.stages.history_ahead import ForkedCheckpoints

    model = load_model("default")
    days = tuple(spell_checkpoints(dataset))
    prefetched: list[list[str]] = []
    real = tables.prefetch_subscriptions_on

    def recording(chosen: Dataset, on: list[date]) -> None:
        prefetched.append([day.isoformat() for day in on])
        real(chosen, on)

    monkeypatch.setattr(tables, "prefetch_subscriptions_on", recording)
    alone = stage_states(dataset, model, days)
    assert prefetched == [list(DAYS)]

    prefetched.clear()
    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(tmp_path / "beside"))  # nothing kept: every day built again
    MEMO.clear()
    fresh = Dataset.open(tmp_path / "fixture.db", dataset.as_of, window=dataset.window)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # a child that builds nothing and runs until the pipe closes
        try:
            os.close(write_end)
            os.read(read_end, 1)
        finally:
            os._exit(0)
    os.close(read_end)
    claims = tmp_path / "claims"
    claims.mkdir()
    history_ahead._RUNNING = ForkedCheckpoints(pid, claims)
    try:
        beside = stage_states(fresh, model, days)
    finally:
        os.close(write_end)
        history_ahead._RUNNING.join()
    assert prefetched == [list(DAYS[:2]), list(DAYS[2:])]
    assert list(beside.ids) == list(alone.ids)
    assert (beside.stages() == alone.stages()).all() and (beside.churned == alone.churned).all()
