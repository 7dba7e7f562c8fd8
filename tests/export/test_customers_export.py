"""`lifecycle customers`: one row per customer, the engine's own numbers, streamed in slices.

Golden facts: the demo has 2,022 customers (docs/demo-dataset.md); every other expectation is an invariant against
the engine's functions the MCP tools use (the at-risk list, the health table, the stage model) or between formats.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import lifecycle
from lifecycle.errors import QueryError
from lifecycle.export import customer_table, write_chunks
from tests.console import lifecycle as run
from tests.console import one_error_line

DOCUMENTED = ("customer_id", "stage", "stage_rule", "health", "band", "risk", "reasons", "suggested_play", "mrr",
              "p_alive", "expected_clv", "rfm_segment")


@pytest.fixture(scope="module")
def demo_table(demo_db: Path):
    with lifecycle.open(demo_db) as ds:
        return customer_table(ds.dataset), ds.at_risk(None), ds.health()


def test_demo_csv_has_one_row_per_customer_with_the_documented_columns(demo_db: Path, tmp_path: Path) -> None:
    result = run("customers", "--db", str(demo_db), "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2022 and len({r["customer_id"] for r in rows}) == 2022
    assert set(DOCUMENTED) <= set(rows[0]) and any(c.startswith("component_") for c in rows[0])


def test_churned_customers_are_in_the_churned_stage_without_health_or_risk(demo_table) -> None:
    table, _, _ = demo_table
    core = table.core
    churned = table.snapshot["churned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    assert churned.any() and (~churned).any()
    assert (core.loc[churned, "stage"] == "churned").all()
    assert core.loc[churned, "health"].isna().all() and core.loc[churned, "risk"].isna().all()
    assert core.loc[~churned, "stage"].ne("churned").all()


def test_risk_and_reasons_are_the_at_risk_lists(demo_table) -> None:
    """Every customer on the at-risk list has the list's risk and exactly the reason codes flagged there."""
    table, ranked, _ = demo_table
    core = table.core.set_index("customer_id")
    assert len(ranked) > 100
    np.testing.assert_allclose(core.loc[ranked.index, "risk"].to_numpy(dtype=float), ranked["risk"].to_numpy(dtype=float))
    reason_columns = [c for c in ranked.columns if c not in ("risk", "health", "value", "priority")]
    for customer_id, row in ranked.head(200).iterrows():
        flagged = {c for c in reason_columns if bool(row[c])}
        exported = set(filter(None, str(core.at[customer_id, "reasons"]).split(";")))
        assert exported == flagged, customer_id


def test_health_band_and_segment_are_the_health_tables(demo_table) -> None:
    table, _, health = demo_table
    core = table.core.set_index("customer_id").loc[health.index]
    np.testing.assert_allclose(core["health"].to_numpy(dtype=float), health["health"].to_numpy(dtype=float))
    assert (core["band"].astype(str).to_numpy() == health["band"].astype(str).to_numpy()).all()
    assert (core["health_segment"].astype(str).to_numpy() == health["segment"].astype(str).to_numpy()).all()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "table"])
def test_slice_size_does_not_change_the_output(demo_table, fmt: str) -> None:
    table, _, _ = demo_table
    columns = table.select()
    small, large = io.BytesIO(), io.BytesIO()
    assert write_chunks(table.chunks(columns, size=7), fmt, small) == write_chunks(table.chunks(columns), fmt, large) == 2022
    if fmt != "table":  # the table's column widths come from the first slice
        assert small.getvalue() == large.getvalue()


def test_csv_jsonl_and_parquet_carry_the_same_values(demo_table, tmp_path: Path) -> None:
    """Numbers written in shortest round-trip form read back exactly; missing values stay missing."""
    table, _, _ = demo_table
    columns = table.select()
    outputs = {}
    for fmt in ("csv", "jsonl", "parquet"):
        with open(tmp_path / f"c.{fmt}", "wb") as handle:
            write_chunks(table.chunks(columns, size=500), fmt, handle)
    outputs["csv"] = pd.read_csv(tmp_path / "c.csv", dtype={"customer_id": str}, keep_default_na=False, na_values=[""])
    outputs["jsonl"] = pd.DataFrame([json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()])
    outputs["parquet"] = pq.read_table(tmp_path / "c.parquet").to_pandas()
    for frame in outputs.values():
        assert list(frame.columns) == list(columns) and len(frame) == 2022
        np.testing.assert_array_equal(frame["health"].to_numpy(dtype=float), table.core["health"].to_numpy(dtype=float))
        np.testing.assert_array_equal(frame["risk"].to_numpy(dtype=float), table.core["risk"].to_numpy(dtype=float))
        assert frame["stage"].tolist() == table.core["stage"].tolist()


def test_columns_can_be_chosen_and_unknown_ones_are_refused_with_the_list(demo_db: Path, tmp_path: Path) -> None:
    chosen = run("customers", "--db", str(demo_db), "--format", "csv", "--columns", "stage,health,tenure_days", cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.splitlines()[0] == "customer_id,stage,health,tenure_days"
    unknown = run("customers", "--db", str(demo_db), "--format", "csv", "--columns", "stage,helth", cwd=tmp_path)
    assert unknown.returncode == 1
    line = one_error_line(unknown.stderr)
    assert "unknown column(s) helth" in line and "health" in line


def test_extra_columns_come_on_request(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date,Tier\nC1,2024-01-01,gold\nC2,2024-01-05,silver\n", encoding="utf-8")
    assert run("import", "customers", "c.csv", "--db", "x.db", cwd=tmp_path).returncode == 0
    plain = run("customers", "--db", "x.db", "--format", "csv", cwd=tmp_path)
    extra = run("customers", "--db", "x.db", "--format", "csv", "--extra", cwd=tmp_path)
    assert plain.returncode == 0 and extra.returncode == 0, plain.stderr + extra.stderr
    assert "x_tier" not in plain.stdout.splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(extra.stdout)))
    assert [(r["customer_id"], r["x_tier"]) for r in rows] == [("C1", "gold"), ("C2", "silver")]


def test_out_writes_the_file_and_says_so_on_stderr(demo_db: Path, tmp_path: Path) -> None:
    result = run("customers", "--db", str(demo_db), "--format", "parquet", "--out", "c.parquet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "2,022 customers" in result.stderr
    assert pq.read_table(tmp_path / "c.parquet").num_rows == 2022
    assert [p.name for p in tmp_path.iterdir()] == ["c.parquet"]


def test_parquet_to_a_terminal_is_a_usage_error(demo_db: Path, tmp_path: Path) -> None:
    result = run("customers", "--db", str(demo_db), "--format", "parquet", cwd=tmp_path)
    assert result.returncode == 2 and "--out" in result.stderr


def test_unknown_format_is_refused_by_the_library() -> None:
    with pytest.raises(QueryError, match="unknown format 'xlsx'"):
        write_chunks([], "xlsx", io.BytesIO())
