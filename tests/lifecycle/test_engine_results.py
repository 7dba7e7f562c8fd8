"""What the columnar engines hand back: results through Arrow with the values SQLite's cursor gives, and the
per-statement time limit they share (``lifecycle.sources.base.TimedStatements``).

Golden values by hand: SUM(2, 3) = 5 (an integer on SQLite; DuckDB's SUM of BIGINT is a DECIMAL(38, 0), which must
come back as the same integer); 1.5 × 2 = 3.0 (SQLite REAL; DuckDB DECIMAL(21, 1)); a recursive count to 10⁹ takes
minutes, far past a 0.2 s limit.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from lifecycle.errors import QueryError, QueryTimeoutError
from lifecycle.sources import DuckDBSource, SqliteSource
from lifecycle.sources.base import arrow_frame
from tests.builders import customers, make_store

SLOW_COUNT = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000000) "
              "SELECT COUNT(*) FROM n")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return make_store(tmp_path / "tiny.db", {"customers": customers(("C1", "2025-01-01"), ("C2", "2025-01-02"))})


def test_a_decimal_result_is_the_integer_or_float_sqlite_gives() -> None:
    table = pa.table({"whole": pa.array([Decimal(5), Decimal(-7)], pa.decimal128(38, 0)),
                      "missing": pa.array([Decimal(5), None], pa.decimal128(38, 0)),
                      "scaled": pa.array([Decimal("3.0"), Decimal("0.5")], pa.decimal128(21, 1))})
    frame = arrow_frame(table)
    assert str(frame["whole"].dtype) == "int64" and frame["whole"].tolist() == [5, -7]
    assert str(frame["missing"].dtype) == "float64" and frame["missing"].isna().tolist() == [False, True]
    assert str(frame["scaled"].dtype) == "float64" and frame["scaled"].tolist() == [3.0, 0.5]


def test_duckdb_sums_and_decimal_products_read_as_sqlite_reads_them(store: Path) -> None:
    sql = "SELECT SUM(v) AS total, 1.5 * 2 AS product FROM (SELECT 2 AS v UNION ALL SELECT 3)"
    on_duckdb = DuckDBSource(store).connect().query(sql)
    on_sqlite = SqliteSource(store).connect().query(sql)
    assert on_duckdb["total"].tolist() == on_sqlite["total"].tolist() == [5]
    assert str(on_duckdb["total"].dtype) == str(on_sqlite["total"].dtype) == "int64"
    assert on_duckdb["product"].tolist() == on_sqlite["product"].tolist() == [3.0]


def test_a_duckdb_statement_past_its_time_limit_is_stopped_with_the_time_limit_error(store: Path) -> None:
    connection = DuckDBSource(store, time_limit_s=0.2).connect()
    with pytest.raises(QueryTimeoutError, match="time limit"):
        connection.query(SLOW_COUNT)
    assert connection.rows("SELECT COUNT(*) FROM customers") == [(2,)]  # the next statement runs under a fresh limit


def test_a_duckdb_statement_interrupted_from_another_thread_is_not_called_a_time_limit(store: Path) -> None:
    connection = DuckDBSource(store, time_limit_s=None).connect()
    connection.rows("SELECT 1")  # opened, so the interrupt reaches a live session
    timer = threading.Timer(0.2, connection.interrupt)
    timer.start()
    try:
        with pytest.raises(QueryError, match="interrupted") as raised:
            connection.query(SLOW_COUNT)
    finally:
        timer.cancel()
    assert not isinstance(raised.value, QueryTimeoutError)
