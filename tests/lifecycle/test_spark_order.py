"""The Spark source sorts a result it collects whole on this side instead of asking Spark for a global sort
(``lifecycle.sources.spark.unordered`` / ``in_order``). The reference for the order is SQLite's own ``ORDER BY`` over
the same rows (NULLs, ties, text compared by its bytes); NaN, which SQLite cannot store, sorts above every number as
Spark's documentation states ("NaN semantics": NaN is greater than any other numeric value)."""

from __future__ import annotations

import math
import sqlite3

import pyarrow as pa
import pytest

from lifecycle.sources.spark import _spark_text, in_order, unordered

ROWS = [(3, "b", 1.5), (None, "a", None), (1, "B", -2.0), (3, "a", 0.0), (2, None, 7.25), (1, "é", 1.5),
        (None, "Z", 3.0), (2, "ä", None), (3, "b", -2.0), (0, "", 0.5)]


def sqlite_order(order_by: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (n INTEGER, s TEXT, x REAL, i INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(*row, i) for i, row in enumerate(ROWS)])
    return db.execute(f"SELECT n, s, x, i FROM t ORDER BY {order_by}, i").fetchall()  # i: SQLite's tie order pinned


@pytest.mark.parametrize(("keys", "order_by"), [
    ((("n", False),), "n"), ((("s", False),), "s"), ((("x", False),), "x"), ((("n", True),), "n DESC"),
    ((("s", True),), "s DESC"), ((("x", True),), "x DESC"), ((("n", False), ("s", False)), "n, s"),
    ((("s", True), ("n", True)), "s DESC, n DESC"), ((("x", False), ("n", False)), "x, n")])
def test_a_collected_result_is_sorted_as_sqlite_orders_the_same_rows(keys: tuple[tuple[str, bool], ...], order_by: str) -> None:
    """Rows start in insertion order (``i``) and ties keep it, as the ``i`` tie-breaker makes SQLite do."""
    table = pa.table({"n": [r[0] for r in ROWS], "s": [r[1] for r in ROWS], "x": [r[2] for r in ROWS], "i": list(range(len(ROWS)))})
    assert list(zip(*[column.to_pylist() for column in in_order(table, keys).columns])) == sqlite_order(order_by)


def test_nan_sorts_above_every_number_and_nulls_stay_first_ascending_last_descending() -> None:
    table = pa.table({"x": pa.array([1.0, math.nan, None, -1.0], pa.float64())})
    up = in_order(table, (("x", False),))["x"].to_pylist()
    down = in_order(table, (("x", True),))["x"].to_pylist()
    assert up[0] is None and up[1:3] == [-1.0, 1.0] and math.isnan(up[3])
    assert math.isnan(down[0]) and down[1:3] == [1.0, -1.0] and down[3] is None


def test_a_table_read_loses_its_order_by_and_keeps_the_key_to_sort_by() -> None:
    text, keys = unordered(_spark_text('SELECT t."invoice_id", t."amount" FROM "invoices" t WHERE t."issued_at" < ? '
                                       'ORDER BY t."invoice_id"')[0])
    assert "ORDER BY" not in text.upper() and text.count("?") == 1
    assert keys == (("invoice_id", False),)


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t ORDER BY a LIMIT 3",  # the first rows of a sort: Spark must sort
    "SELECT a AS b FROM t ORDER BY a",  # the key is not an output column under its own name
    "SELECT b AS a, a AS c FROM t ORDER BY a",  # an alias names another column
    "SELECT a, b FROM t ORDER BY a, b DESC",  # mixed directions
    "SELECT a FROM t ORDER BY a NULLS LAST",  # not the engines' NULL placement
    "SELECT a FROM t ORDER BY LOWER(a)",  # an expression
    "SELECT a FROM t UNION ALL SELECT a FROM u ORDER BY a",
])
def test_an_order_that_cannot_be_reproduced_here_is_left_to_spark(sql: str) -> None:
    text = _spark_text(sql)[0]
    assert unordered(text) == (text, ())
