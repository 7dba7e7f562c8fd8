"""The stage history builds every checkpoint's snapshot in one pass: the earlier days' tables derived in memory from
the as_of read (``Dataset.earlier``) and — on DuckDB and Spark — the recent-event windows of every checkpoint in one
statement (``recent_events_on``). Invariant: the result on each checkpoint is the stage a dataset opened on that day
classifies on its own (no look-ahead, nothing shared). Fixture: ``test_snapshot.fixture_tables`` (events, NPS,
subscriptions, referrals), default stage model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Scope
from lifecycle.snapshot.sql import _event_query, _recent_select, as_float, recent_columns, recent_events_on
from lifecycle.sources import DuckDBSource, SparkSource, SqliteSource
from lifecycle.stages import load_model
from lifecycle.stages.history import checkpoints, stage_features, stage_states, stages_at
from tests.builders import make_store
from tests.lifecycle.test_backend_parity import engine_param
from tests.lifecycle.test_snapshot import fixture_tables

SOURCES = {"sqlite": SqliteSource, "duckdb": DuckDBSource, "spark": SparkSource}
ENGINES = ["sqlite", *(engine_param(engine) for engine in ("duckdb", "spark"))]  # Spark: slow suite, skipped without Java


def _aligned(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows by customer, ids as text, counts as floats: what ``attach`` aligns onto the snapshot."""
    frame = as_float(frame.copy(), list(columns)).assign(customer_id=frame["customer_id"].astype("string"))
    return frame.sort_values("customer_id").reset_index(drop=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_recent_windows_of_every_checkpoint_in_one_statement_equal_each_days_own_statement(tmp_path: Path,
                                                                                               engine: str) -> None:
    """Each day's frame of the one statement equals that day's own statement (same customers, same counts). By hand,
    30-day windows (day − 30, day]: on 2024-06-30 ``a`` was active on 06-10, 06-25 and 06-30 and used 3 core features
    (dashboard_viewed, report_created, integration_connected); on 2024-05-30 only its logins of 05-10 and 05-20
    count (2 days, no core feature); on 2024-01-30 ``a`` has the onboarding day 01-02 and its report on 01-03
    (2 days, 1 feature) and ``d`` its report on 01-25 (1 day, 1 feature)."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    dataset = Dataset(SOURCES[engine](path).connect(), Scope.at(date(2024, 6, 30)))
    days = checkpoints(dataset.as_of, 6)
    wanted = ("active_days_30d", "distinct_features_30d")
    by_day = recent_events_on(dataset, days, wanted)
    for day in days:
        view = dataset.earlier(day) if day < dataset.as_of else dataset
        select, params = _recent_select(view, recent_columns(wanted))
        own = _event_query(view, select, params, "1 = 1", [])
        own = own[(own[list(wanted)].astype("float64") > 0).any(axis=1)]  # customers with an event in the window
        pd.testing.assert_frame_equal(_aligned(by_day[day], wanted), _aligned(own, wanted), check_exact=True)
    counted = {day: frame.set_index("customer_id")[list(wanted)].astype("float64").apply(tuple, axis=1).to_dict()
               for day, frame in by_day.items()}
    assert counted[date(2024, 6, 30)]["a"] == (3.0, 3.0)
    assert counted[date(2024, 5, 30)] == {"a": (2.0, 0.0)}
    assert counted[date(2024, 1, 30)] == {"a": (2.0, 1.0), "d": (1.0, 1.0)}


@pytest.mark.parametrize("engine", ENGINES)
def test_the_one_pass_stage_states_equal_each_checkpoints_own_classification(tmp_path: Path, engine: str) -> None:
    """On every monthly checkpoint the states hold the stage and churned flag that a dataset opened on that day (its
    own table reads and statements) classifies — here on the SQLite file and through DuckDB's one statement."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    model = load_model("default")
    as_of = date(2024, 6, 30)
    days = checkpoints(as_of, 7)
    states = stage_states(Dataset.over(SOURCES[engine](path), Scope.at(as_of)), model, days)
    named = states.stages()
    for j, day in enumerate(days):
        alone = Dataset(SqliteSource(path).connect(), Scope.at(day))  # no identity, no memo: that day only
        own = stages_at(alone, model, day).reindex(states.ids)
        assert [None if pd.isna(s) else s for s in own["stage"]] == list(named[:, j]), day
        assert np.array_equal(own["churned"].fillna(False).to_numpy(dtype=bool), states.churned[:, j]), day
    assert set(stage_features(model)) & {"active_days_30d", "distinct_features_30d"}  # the windows are exercised


def test_time_in_stage_within_the_flow_checkpoints_reads_their_states_and_finds_the_same_entries(tmp_path: Path) -> None:
    """Time in stage over 6 months, read from the states of the 13 flow checkpoints that begin with its 7 days
    (``within``): one set of states is built (the 13 days'), none of its own days, and the entries are the hand
    computed ones of ``test_stages.test_time_in_stage_uses_monthly_as_of_checkpoints``: ``a`` entered advocacy on
    2024-04-30 (61 days, not censored), ``b`` has been onboarding since its signup 10 days before as_of."""
    from lifecycle.stages.history import states_at_hand, time_in_stage

    path = make_store(tmp_path / "fixture.db", fixture_tables())
    model = load_model("default")
    as_of = date(2024, 6, 30)
    dataset = Dataset.over(SqliteSource(path), Scope.at(as_of))
    longer, own = checkpoints(as_of, 12), checkpoints(as_of, 6)
    tis = time_in_stage(dataset, model, months=6, within=longer).set_index("customer_id")
    assert states_at_hand(dataset, model, longer) and not states_at_hand(dataset, model, own)
    assert (str(tis.loc["a", "entered_at"].date()), tis.loc["a", "days_in_stage"], tis.loc["a", "censored"]) == ("2024-04-30", 61.0, False)
    assert (tis.loc["b", "days_in_stage"], tis.loc["b", "censored"]) == (10.0, False)
    alone = Dataset(SqliteSource(path).connect(), Scope.at(as_of))  # no identity, no memo: its own 7 days only
    pd.testing.assert_frame_equal(tis.reset_index(), time_in_stage(alone, model, months=6), check_exact=True)


@pytest.mark.parametrize("filters", [Filters(), Filters(plan=("pro",)), Filters(segment=("SMB",))], ids=["whole", "plan", "segment"])
def test_the_first_days_of_longer_states_are_the_states_of_those_days(tmp_path: Path, filters: Filters) -> None:
    """``stage_states(days, within=longer)`` holds, day by day, the stage and churned flag ``stage_states(days)``
    computes on its own — for the whole base and for filters fixed in time (segment) or not (plan)."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    model = load_model("default")
    as_of = date(2024, 6, 30)
    shared = stage_states(Dataset.over(SqliteSource(path), Scope.at(as_of, filters)), model, checkpoints(as_of, 4),
                          within=checkpoints(as_of, 9))
    alone = stage_states(Dataset(SqliteSource(path).connect(), Scope.at(as_of, filters)), model, checkpoints(as_of, 4))
    assert shared.days == alone.days == tuple(checkpoints(as_of, 4))
    assert list(shared.ids) == list(alone.ids)
    assert np.array_equal(shared.stages(), alone.stages())
    assert np.array_equal(shared.churned, alone.churned)
    assert np.array_equal(shared.signup, alone.signup)


def test_states_kept_as_parquet_read_back_as_the_states_built() -> None:
    """The Parquet round trip of the whole base's states (``_to_frame`` → file → ``_from_frame``) gives back the same
    ids, labels, plans and codes — read from the categoricals' codes, or by matching text values when a column comes
    back as plain text. Hand-made states: 3 customers × 2 days; ``c`` not signed up on the second day (−1); the labels
    are sorted and hold only stages some cell uses ("trial" is declared by no cell and must not appear)."""
    from datetime import date as day

    from lifecycle.snapshot.cache import read_cached, write_cached
    from lifecycle.stages.history import StageStates, _from_frame, _to_frame

    days = (day(2024, 6, 30), day(2024, 5, 31))
    states = StageStates(days, pd.Index(["a", "b", "c"], dtype="string", name="customer_id"), ("adoption", "onboarding"),
                         np.array([[1, 1], [0, 1], [1, -1]], dtype=np.int16),
                         np.array([[False, False], [True, False], [False, False]]),
                         np.array(["2024-01-01", "2024-02-01", "2024-06-01"], dtype="datetime64[us]"),
                         ("basic", "pro"), np.array([[1, 0], [-1, -1], [0, -1]], dtype=np.int16))
    frame = _to_frame(states)
    frame["stage_0"] = frame["stage_0"].cat.add_categories(["trial"])  # a category no cell uses
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "states.parquet"
        write_cached(frame, target)
        read = read_cached(target)
    assert read is not None
    plain = read.astype({f"{prefix}_{j}": object for prefix in ("stage", "plan") for j in range(2)})
    for back in (_from_frame(read, days), _from_frame(plain, days)):
        assert list(back.ids) == ["a", "b", "c"]
        assert back.labels == ("adoption", "onboarding") and back.plans == ("basic", "pro")
        assert back.codes.tolist() == [[1, 1], [0, 1], [1, -1]] and back.codes.dtype == np.int16
        assert back.plan_codes is not None and back.plan_codes.tolist() == [[1, 0], [-1, -1], [0, -1]]
        assert back.churned.tolist() == [[False, False], [True, False], [False, False]]
        assert np.array_equal(back.signup, states.signup)
