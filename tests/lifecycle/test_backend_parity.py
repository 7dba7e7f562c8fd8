"""Every data source gives the same answers as the embedded SQLite source on the demo data (the promise of the
``DataSource`` seam, ``lifecycle/sources/base.py``).

For each other source in ``OTHER_SOURCES`` (DuckDB reading the SQLite file in place, …) and each scope — the default
as_of (the data's last day) and 2025-06-30, each without a filter and with segment=SMB — both sources compute
every registered metric (``compute_all``), the snapshot, the stage of every customer (``classify_customers``),
the health table (``score_health``, with the trend from the snapshot 30 days earlier) and the at-risk ranking.
Floats must agree within 1e-9 (relative or absolute), missing values must sit in the same places, and everything
else must be equal.

The other source runs through a recording connection and the datasets carry no source, so ``snapshot_of`` cannot
answer from the Parquet cache: the test asserts the event aggregations really ran on that engine.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.health import HealthTable, score_health
from lifecycle.health.profile import load_health_profile
from lifecycle.health.risk import RiskQuery, rank_at_risk
from lifecycle.metrics.registry import compute_all
from lifecycle.metrics.results import MetricResult
from lifecycle.scope import Scope
from lifecycle.snapshot import build_snapshot
from lifecycle.sources import Connection, DataSource, DuckDBSource, SparkSource, SqliteSource
from lifecycle.stages import classify_customers, model_for
from tests.builders import make_store
from tests.lifecycle.test_snapshot import AS_OF, fixture_tables

TOLERANCE = 1e-9
EARLIER_AS_OF = date(2025, 6, 30)
SMB = Filters(segment=("SMB",))


OTHER_SOURCES: dict[str, Callable[[Path], DataSource]] = {"duckdb": DuckDBSource, "spark": SparkSource}
"""Engine name → how it reads the demo's SQLite file; each is compared with ``SqliteSource``."""

HAS_PYSPARK = importlib.util.find_spec("pyspark") is not None
HAS_JAVA = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
SPARK_SKIP = ("pyspark is not installed (it is in the test extra: pip install -e '.[test]')" if not HAS_PYSPARK
              else "no Java on this machine (Spark local mode needs Java 17: java on PATH or $JAVA_HOME)")
CAN_RUN_SPARK = HAS_PYSPARK and HAS_JAVA


def engine_param(engine: str) -> Any:
    """``engine`` as a test parameter: Spark runs in the slow suite (a JVM start and Spark jobs) and is skipped, with
    the reason, where pyspark is absent."""
    if engine == "spark":
        return pytest.param(engine, marks=[pytest.mark.slow, pytest.mark.skipif(not CAN_RUN_SPARK, reason=SPARK_SKIP)])
    return engine


ENGINE_PARAMS = [engine_param(engine) for engine in sorted(OTHER_SOURCES)]


@dataclass
class RecordingConnection:
    """A connection that remembers the SQL it ran (and has no source, so nothing comes from a cache)."""

    inner: Connection
    statements: list[str] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.inner.dialect

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        self.statements.append(sql)
        return self.inner.query(sql, params)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        self.statements.append(sql)
        return self.inner.rows(sql, params)

    def tables(self) -> frozenset[str]:
        return self.inner.tables()

    def has_table(self, table: str) -> bool:
        return self.inner.has_table(table)

    def columns(self, table: str) -> list[str]:
        return self.inner.columns(table)

    def extra_columns(self, table: str) -> list[str]:
        return self.inner.extra_columns(table)

    def interrupt(self) -> None:
        self.inner.interrupt()

    def close(self) -> None:
        self.inner.close()


@dataclass
class Computed:
    """Everything one backend computes for one scope."""

    metrics: dict[str, MetricResult]
    snapshot: pd.DataFrame
    stages: pd.DataFrame
    health: HealthTable
    at_risk: pd.DataFrame


def compute(connection: Connection, scope: Scope) -> Computed:
    """The engine's answers for ``scope`` on ``connection`` — snapshots built fresh (no Parquet cache) on both."""
    dataset = Dataset(connection, scope)
    metrics = compute_all(dataset)
    snapshot = build_snapshot(dataset)
    previous = build_snapshot(dataset.rescoped(Scope.at(scope.as_of - timedelta(days=30), scope.filters)))
    profile = load_health_profile(dataset.config.models.health)
    health = score_health(snapshot, profile, previous=previous)
    return Computed(metrics=metrics, snapshot=snapshot, stages=classify_customers(snapshot, model_for(dataset)),
                    health=health, at_risk=rank_at_risk(snapshot, health, RiskQuery()))


# --------------------------------------------------------------------------------------------- comparison


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def differences(left: Any, right: Any, where: str) -> list[str]:
    """Where two values (scalars, lists, dicts, dataclasses) differ: floats within TOLERANCE, missing == missing."""
    if _is_missing(left) or _is_missing(right):
        return [] if _is_missing(left) and _is_missing(right) else [f"{where}: {left!r} != {right!r}"]
    if isinstance(left, (bool, np.bool_)) or isinstance(right, (bool, np.bool_)):
        return [] if bool(left) == bool(right) and type(left) is type(right) else [f"{where}: {left!r} != {right!r}"]
    if isinstance(left, (int, float, np.number)) and isinstance(right, (int, float, np.number)):
        a, b = float(left), float(right)
        return [] if math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE) else [f"{where}: {a!r} != {b!r}"]
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return [f"{where}: keys {sorted(left)} != {sorted(right)}"]
        return [d for key in left for d in differences(left[key], right[key], f"{where}.{key}")]
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        if len(left) != len(right):
            return [f"{where}: length {len(left)} != {len(right)}"]
        return [d for i, (a, b) in enumerate(zip(left, right)) for d in differences(a, b, f"{where}[{i}]")]
    if hasattr(left, "__dataclass_fields__") and type(left) is type(right):
        return [d for f in fields(left) for d in differences(getattr(left, f.name), getattr(right, f.name), f"{where}.{f.name}")]
    return [] if left == right else [f"{where}: {left!r} != {right!r}"]


def frame_differences(left: pd.DataFrame, right: pd.DataFrame, where: str) -> list[str]:
    """Same columns, index, dtypes and values (floats within TOLERANCE, same missing pattern)."""
    if list(left.columns) != list(right.columns):
        return [f"{where}: columns {list(left.columns)} != {list(right.columns)}"]
    if not left.index.equals(right.index):
        return [f"{where}: index differs"]
    found: list[str] = []
    for column in left.columns:
        a, b = left[column], right[column]
        if a.dtype != b.dtype:
            found.append(f"{where}.{column}: dtype {a.dtype} != {b.dtype}")
            continue
        if pd.api.types.is_float_dtype(a) and not isinstance(a.dtype, pd.CategoricalDtype):
            x, y = a.to_numpy(dtype="float64", na_value=np.nan), b.to_numpy(dtype="float64", na_value=np.nan)
            bad = ~((np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=False))
            rows = np.flatnonzero(bad)
        else:
            rows = [i for i, (p, q) in enumerate(zip(a.tolist(), b.tolist())) if differences(p, q, "")]
        if len(rows):
            i = int(rows[0])
            found.append(f"{where}.{column}: {len(rows)} row(s) differ, first {left.index[i]!r}: {a.iloc[i:i + 1].tolist()[0]!r} != {b.iloc[i:i + 1].tolist()[0]!r}")
    return found


def health_differences(left: HealthTable, right: HealthTable) -> list[str]:
    found: list[str] = []
    for part in ("frame", "components", "effective_weights", "signal_scores", "signal_values"):
        found += frame_differences(getattr(left, part), getattr(right, part), f"health.{part}")
    found += differences(list(left.exclusions), list(right.exclusions), "health.exclusions")
    return found


# --------------------------------------------------------------------------------------------- the test


SCOPES: list[tuple[str, date | None, Filters]] = [
    ("data_end-all", None, Filters()),
    ("data_end-SMB", None, SMB),
    ("2025-06-30-all", EARLIER_AS_OF, Filters()),
    ("2025-06-30-SMB", EARLIER_AS_OF, SMB),
]
SPARK_SCOPES = ("data_end-all", "2025-06-30-SMB")
"""Spark pays a job per statement (seconds per scope where SQLite pays milliseconds): it runs the two scopes that
together cover the default as_of, an earlier one and a filter, so the slow suite stays within CI's time."""


def _cases() -> list[Any]:
    cases = []
    for engine in sorted(OTHER_SOURCES):
        for name, as_of, filters in SCOPES:
            if engine == "spark" and name not in SPARK_SCOPES:
                continue
            marks = [pytest.mark.skipif(not CAN_RUN_SPARK, reason=SPARK_SKIP)] if engine == "spark" else []
            cases.append(pytest.param(engine, as_of, filters, id=f"{engine}-{name}", marks=marks))
    return cases


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_every_source_builds_the_snapshot_of_the_hand_made_fixture_like_sqlite(tmp_path: Path, engine: str) -> None:
    """The small hand-computed fixture of ``test_snapshot.py``: the same snapshot, column for column."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    scope = Scope.at(date.fromisoformat(AS_OF))
    sqlite, other = SqliteSource(path).connect(), OTHER_SOURCES[engine](path).connect()
    try:
        on_sqlite, on_other = build_snapshot(Dataset(sqlite, scope)), build_snapshot(Dataset(other, scope))
    finally:
        sqlite.close()
        other.close()
    pd.testing.assert_frame_equal(on_sqlite, on_other, check_dtype=False)


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_every_source_gives_the_doctor_report_of_sqlite(tmp_path: Path, engine: str) -> None:
    """The doctor's checks (date formats by pattern, orphans, duplicates, spans) on the hand-made fixture."""
    path = make_store(tmp_path / "fixture.db", fixture_tables())
    as_of = date.fromisoformat(AS_OF)
    on_sqlite, on_other = SqliteSource(path).diagnose(as_of), OTHER_SOURCES[engine](path).diagnose(as_of)
    assert on_sqlite.tables and differences(on_sqlite, on_other, "doctor") == []


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "as_of", "filters"), _cases())
def test_every_source_agrees_with_sqlite_on_metrics_snapshot_stages_health_and_risk(
        demo_db: Path, engine: str, as_of: date | None, filters: Filters) -> None:
    reference = SqliteSource(demo_db, None)
    scope = Scope.resolve(reference, as_of, filters=filters)
    sqlite = reference.connect()
    # no time limit: the comparison is about answers, and a loaded machine must not turn it into a time-out
    recording = RecordingConnection(OTHER_SOURCES[engine](demo_db).with_time_limit(None).connect())
    try:
        on_sqlite = compute(sqlite, scope)
        on_duckdb = compute(recording, scope)
    finally:
        sqlite.close()
        recording.close()

    assert any(" FROM events e " in sql for sql in recording.statements), f"the {engine} run did not scan events"
    assert len(on_sqlite.snapshot) > 100, "the scope should select a real population"
    found = differences(on_sqlite.metrics, on_duckdb.metrics, "metrics")
    found += frame_differences(on_sqlite.snapshot, on_duckdb.snapshot, "snapshot")
    found += frame_differences(on_sqlite.stages.drop(columns="evidence"), on_duckdb.stages.drop(columns="evidence"), "stages")
    found += differences(on_sqlite.stages["evidence"].tolist(), on_duckdb.stages["evidence"].tolist(), "stages.evidence")
    found += health_differences(on_sqlite.health, on_duckdb.health)
    found += frame_differences(on_sqlite.at_risk, on_duckdb.at_risk, "at_risk")
    assert not found, f"SQLite and {engine} differ:\n" + "\n".join(found[:40])


def test_the_comparison_notices_a_changed_value_a_moved_gap_and_a_changed_dtype() -> None:
    """The checks above can fail: 0.1 vs 0.1 + 1e-6 differs, 1.0 vs 1.0 + 1e-12 does not; NaN vs 0 differs; an
    int column compared with the same values as floats differs by dtype; nested results compare field by field."""
    base = pd.DataFrame({"x": [0.1, np.nan, 1.0], "n": [1, 2, 3]}, index=pd.Index(["a", "b", "c"], name="customer_id"))
    assert frame_differences(base, base.copy(), "t") == []
    assert frame_differences(base, base.assign(x=[0.1, np.nan, 1.0 + 1e-12]), "t") == []
    assert frame_differences(base, base.assign(x=[0.1 + 1e-6, np.nan, 1.0]), "t") == ["t.x: 1 row(s) differ, first 'a': 0.1 != 0.100001"]
    assert frame_differences(base, base.assign(x=[0.1, 0.0, 1.0]), "t")[0].startswith("t.x: 1 row(s) differ, first 'b'")
    assert frame_differences(base, base.assign(n=[1.0, 2.0, 3.0]), "t") == ["t.n: dtype int64 != float64"]
    assert differences({"m": [1.0, None, {"k": True}]}, {"m": [1.0, None, {"k": True}]}, "r") == []
    assert differences({"m": [1.0, None]}, {"m": [1.0, 0.0]}, "r") == ["r.m[1]: None != 0.0"]
    assert differences({"m": {"k": True}}, {"m": {"k": 1}}, "r") == ["r.m.k: True != 1"]
