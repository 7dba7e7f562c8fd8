"""A database path is a file name, never a URI: ``#``, ``?``, ``%``, spaces, non-ASCII and symlinks all name the file.

The bug this pins: ``file:{path}?mode=ro`` without escaping made SQLite open ``a`` for ``a#b.db`` (everything after
``#`` is a URI fragment), read-write, and the next import copied that empty file over the real database — the first
import's rows were lost and the command exited 0. Every command is run as users run it: the installed console
script in a subprocess.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from lifecycle.importing import import_file
from lifecycle.store import open_readonly, sqlite_uri, table_row_counts

LIFECYCLE = str(Path(sys.executable).parent / "lifecycle")
NAMES = ["a#b.db", "c?mode=rw.db", "d%20e.db", "with space.db", "ünï©ødé €.db", "all#of?them%25 ü&x=1.db"]
CUSTOMERS_A = "customer_id,signup_date,segment\nA1,2024-01-01,SMB\nA2,2024-01-02,SMB\n"
CUSTOMERS_B = "customer_id,signup_date,segment\nB1,2024-02-01,Enterprise\n"
EVENTS = "customer_id,occurred_at,event_name\nA1,2024-01-03T10:00:00Z,login\nB1,2024-02-02T10:00:00Z,login\n"


def _sources(directory: Path) -> tuple[Path, Path, Path]:
    a, b, events = directory / "a.csv", directory / "b.csv", directory / "events.csv"
    a.write_text(CUSTOMERS_A, encoding="utf-8")
    b.write_text(CUSTOMERS_B, encoding="utf-8")
    events.write_text(EVENTS, encoding="utf-8")
    return a, b, events


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIFECYCLE, *args], cwd=cwd, capture_output=True, text=True, timeout=180)


def _customer_ids(db: Path) -> list[str]:
    conn = sqlite3.connect(sqlite_uri(db), uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT customer_id FROM customers ORDER BY customer_id")]
    finally:
        conn.close()


def test_uri_percent_encodes_every_reserved_character(tmp_path: Path) -> None:
    """``#`` → %23, ``?`` → %3F, ``%`` → %25, space → %20 (RFC 3986 path segment encoding that SQLite decodes)."""
    uri = sqlite_uri(tmp_path / "a#b?c%d e.db")
    assert uri.endswith("/a%23b%3Fc%25d%20e.db?mode=ro")
    assert uri.count("?") == 1 and "#" not in uri


@pytest.mark.parametrize("name", NAMES)
def test_two_library_imports_keep_every_row_and_create_no_stray_file(name: str, tmp_path: Path) -> None:
    a, b, _ = _sources(tmp_path)
    db = tmp_path / "store" / name
    import_file("customers", a, db)
    import_file("customers", b, db)
    assert _customer_ids(db) == ["A1", "A2", "B1"]
    assert sorted(p.name for p in db.parent.iterdir()) == sorted([name, name + ".lock"])
    conn = open_readonly(db)
    try:
        assert table_row_counts(conn)["customers"] == 3
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["a#b.db", pytest.param("c?mode=rw.db", marks=pytest.mark.slow),
                                  pytest.param("d%20e.db", marks=pytest.mark.slow)])
def test_two_console_script_imports_keep_every_row(name: str, tmp_path: Path) -> None:
    a, b, _ = _sources(tmp_path)
    for source in (a, b):
        done = _run("import", "customers", str(source), "--db", name, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert _customer_ids(tmp_path / name) == ["A1", "A2", "B1"]
    assert sorted(p.name for p in tmp_path.glob("*.db*")) == sorted([name, name + ".lock"])


@pytest.mark.slow
def test_metrics_and_doctor_read_a_database_with_every_awkward_character(tmp_path: Path) -> None:
    a, b, events = _sources(tmp_path)
    name = NAMES[-1]
    db = tmp_path / name
    for source, table in ((a, "customers"), (b, "customers"), (events, "events")):
        import_file(table, source, db)
    metrics = _run("metrics", "--db", name, "--json", "--as-of", "2024-03-01", cwd=tmp_path)
    assert metrics.returncode == 0, metrics.stderr
    results = json.loads(metrics.stdout)
    assert any(r["value"] is not None and r["sample_size"] > 0 for r in results.values()), "metrics read the real rows"
    doctor = _run("doctor", "--db", name, "--json", cwd=tmp_path)
    assert doctor.returncode == 0, doctor.stderr
    assert {t["name"]: t["rows"] for t in json.loads(doctor.stdout)["tables"]}["customers"] == 3


def test_a_symlinked_database_is_updated_in_place_and_stays_a_link(tmp_path: Path) -> None:
    a, b, _ = _sources(tmp_path)
    real = tmp_path / "real dir#1" / "life.db"
    import_file("customers", a, real)
    link = tmp_path / "link.db"
    link.symlink_to(real)
    done = _run("import", "customers", str(b), "--db", str(link), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert _customer_ids(real) == ["A1", "A2", "B1"]
    assert not list(tmp_path.glob("link.db.*")), "lock and working files live beside the real file"
    metrics = _run("metrics", "--db", str(link), "--json", "--as-of", "2024-03-01", cwd=tmp_path)
    assert metrics.returncode == 0, metrics.stderr


@pytest.mark.slow
@pytest.mark.anyio
async def test_serve_over_stdio_reads_a_database_with_every_awkward_character(tmp_path: Path, isolated_data_dir: Path) -> None:
    a, b, _ = _sources(tmp_path)
    db = tmp_path / NAMES[-1]
    import_file("customers", a, db)
    import_file("customers", b, db)
    link = tmp_path / "sym #link.db"
    link.symlink_to(db)
    for path in (db, link):
        params = StdioServerParameters(command=LIFECYCLE, args=["serve", "--db", str(path)],
                                       env={"LIFECYCLE_DATA_DIR": str(isolated_data_dir)})
        with anyio.fail_after(60):
            async with Client(params) as client:
                result = await client.call_tool("describe_dataset", {})
        assert result.is_error is False, result.content
        rows = {t["name"]: t["rows"] for t in result.structured_content["tables"]}  # type: ignore[index]
        assert rows["customers"] == 3


@pytest.mark.slow
def test_offline_plan_reads_a_database_with_every_awkward_character(tmp_path: Path) -> None:
    a, b, _ = _sources(tmp_path)
    db = tmp_path / NAMES[-1]
    import_file("customers", a, db)
    import_file("customers", b, db)
    out = tmp_path / "plan out"
    done = _run("plan", "--db", str(db), "--offline", "--no-charts", "--as-of", "2024-03-01", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["by_status"] == {"offline": 1}
    assert _customer_ids(db) == ["A1", "A2", "B1"], "plan reads; it never changes the database"
