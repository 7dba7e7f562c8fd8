"""`lifecycle demo` and the library functions behind it (ensure_demo, read_summary, export_csv)."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import data.generator as generator
import server.commands.demo_cmd as demo_cmd
from lifecycle.schema import TABLES
from lifecycle.store import atomic_write, default_db_path
from server.cli import app


@pytest.fixture
def copy_builder(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the (slow) build with a copy of the session's demo; records every path built."""
    built: list[Path] = []

    def fake_build(path: str | Path) -> generator.DemoSummary:
        built.append(Path(path))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_db, path)
        return generator.read_summary(path, build_seconds=0.5)

    monkeypatch.setattr(generator, "build_demo", fake_build)
    monkeypatch.setattr(demo_cmd, "build_demo", fake_build)
    return built


def test_ensure_demo_builds_into_the_default_path_only_when_missing(copy_builder: list[Path]) -> None:
    path = generator.ensure_demo()
    assert path == default_db_path() and path.exists()
    assert generator.ensure_demo() == path
    assert copy_builder == [path]  # built once, then reused


def test_ensure_demo_with_a_path_builds_there(copy_builder: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "nested" / "demo.db"
    assert generator.ensure_demo(target) == target
    assert copy_builder == [target]


def test_demo_command_builds_when_missing_and_then_shows_the_existing_summary(copy_builder: list[Path]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert copy_builder == [default_db_path()]
    assert "built in 0.5 s" in first.output and "events" in first.output
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert copy_builder == [default_db_path()]  # not rebuilt
    assert "already present" in second.output
    assert "2025-12-31" in second.output


def test_summary_counts_rows_and_time_ranges(demo_db: Path) -> None:
    summary = generator.read_summary(demo_db)
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    assert summary.rows["customers"] == conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert summary.time_ranges["customers"] == conn.execute("SELECT min(signup_date), max(signup_date) FROM customers").fetchone()
    assert summary.total_rows == sum(summary.rows.values())
    assert (summary.data_start, summary.data_end, summary.built) == ("2024-01-01", "2025-12-31", False)


def test_csv_export_writes_each_table_with_the_canonical_header(demo_db: Path, tmp_path: Path) -> None:
    """Every non-empty table becomes <table>.csv: canonical header, one record per row, booleans as true/false."""
    db = tmp_path / "demo.db"
    shutil.copyfile(demo_db, db)
    out = tmp_path / "csv"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--csv-dir", str(out)])
    assert result.exit_code == 0, result.output
    counts = generator.read_summary(db).rows
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t, n in counts.items() if n)
    for name in ("customers", "leads", "nps_responses"):
        with (out / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
        assert records[0] == [c.name for c in TABLES[name].columns]
        assert len(records) - 1 == counts[name]
    with (out / "customers.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["executive_sponsor"] for r in rows} == {"true", "false"}
    assert any("\nSYSTEM:" in r["company"] for r in rows)  # the newline survives as one quoted field


def test_force_refuses_to_replace_a_dataset_that_is_not_the_demo(tmp_path: Path) -> None:
    """The error edge: one `Error:` line naming the next step, exit code 1, the file untouched."""
    db = tmp_path / "mine.db"
    with atomic_write(db) as store:
        store["customers"].insert({"customer_id": "a", "signup_date": "2024-01-01"})
    before = db.read_bytes()
    done = subprocess.run([sys.executable, "-m", "server.cli", "demo", "--db", str(db), "--force"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("Error:") and "--db" in done.stderr
    assert "Traceback" not in done.stderr
    assert db.read_bytes() == before
