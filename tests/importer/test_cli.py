"""`lifecycle import` on the command line: a summary on success, one `Error:` line and exit 1 on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", "import", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})


def test_summary_reports_rows_and_rate(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,2024-01-01\nC2,2024-01-02\n", encoding="utf-8")
    result = _run("customers", "c.csv", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Imported c.csv into customers" in result.stdout
    assert "inserted" in result.stdout and "rows/s" in result.stdout


def test_invalid_rows_give_one_error_message_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,someday\n", encoding="utf-8")
    result = _run("customers", "c.csv", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "Error:" in result.stderr and "c.csv:2: column 'signup_date': not a recognised date" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_skip_invalid_prints_where_the_rejects_went(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,someday\nC2,2024-01-01\n", encoding="utf-8")
    result = _run("customers", "c.csv", "--db", "x.db", "--skip-invalid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "c.csv.rejects.csv" in result.stderr
    assert (tmp_path / "c.csv.rejects.csv").exists()


def test_latin1_file_error_suggests_encoding_and_the_flag_fixes_it(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_bytes("customer_id,signup_date,name\nC1,2024-01-01,Zoë\n".encode("latin-1"))
    failed = _run("customers", "c.csv", "--db", "x.db", cwd=tmp_path)
    assert failed.returncode == 1 and "c.csv:2:" in failed.stderr and "--encoding" in failed.stderr
    fixed = _run("customers", "c.csv", "--db", "x.db", "--encoding", "latin-1", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr


def test_contradicting_date_flags_are_refused(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    result = _run("customers", "c.csv", "--db", "x.db", "--dayfirst", "--monthfirst", cwd=tmp_path)
    assert result.returncode == 1 and "contradict" in result.stderr


def test_messages_quoting_toml_sections_keep_their_brackets(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("ticket_id,customer_id,opened_at,priority\nT1,C1,2024-01-01T10:00:00,critical\n", encoding="utf-8")
    result = _run("tickets", "t.csv", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "[values.priority]" in result.stderr
