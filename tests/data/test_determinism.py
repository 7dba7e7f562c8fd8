"""The demo is the product's embedded default: every build must produce the same bytes."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import server.commands.demo_cmd  # noqa: F401  (registers `lifecycle demo`)
from server.cli import app


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow  # a second demo build (~15 s on 2 idle cores)
def test_two_builds_in_different_directories_are_byte_identical(demo_db: Path, tmp_path: Path) -> None:
    """The session build and a fresh `lifecycle demo --db` build elsewhere hash the same (sha256 of the file)."""
    other = tmp_path / "elsewhere" / "helloword.db"
    result = CliRunner().invoke(app, ["demo", "--db", str(other)])
    assert result.exit_code == 0, result.output
    assert _sha256(other) == _sha256(demo_db)
    assert sorted(p.name for p in other.parent.iterdir()) == ["helloword.db"]  # no staging/temporary files left


def test_database_records_provenance_but_no_clock(demo_db: Path) -> None:
    """_meta names the dataset, generator version, seed and window; nothing time-of-build is stored anywhere."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    meta = dict(conn.execute("SELECT key, value FROM _meta").fetchall())
    assert meta["dataset"] == "helloword-demo"
    assert meta["data_start"] == "2024-01-01"
    assert meta["data_end"] == "2025-12-31"
    assert {"schema_version", "demo_generator_version", "demo_seed"} <= set(meta)
    assert conn.execute("SELECT count(*) FROM _imports").fetchone()[0] == 0
