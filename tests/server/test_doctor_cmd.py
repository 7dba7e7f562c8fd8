"""`lifecycle doctor`: JSON and table output, default-database handling, and the one-line error edge."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from lifecycle.store import atomic_write
from server.cli import main
from tests.server.helpers import TINY_ROWS


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `lifecycle <args>` through the real entry point; (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["lifecycle", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_report_of_the_tiny_dataset(tiny_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """As of 2024-03-01 only E2 (2024-04-30) and C3's signup (2024-03-15) are in the future."""
    code, out, err = run_cli(["doctor", "--db", str(tiny_db), "--as-of", "2024-03-01", "--json"], monkeypatch, capsys)
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert {t["name"]: t["rows"] for t in report["tables"]} == TINY_ROWS
    assert (report["as_of"], report["as_of_inferred"], report["first"], report["last"]) == ("2024-03-01", False, "2024-01-05", "2024-04-30")
    assert sorted((w["code"], w["table"], w["count"], w["examples"]) for w in report["warnings"]) == [
        ("future_date", "customers", 1, ["C3"]), ("future_date", "events", 1, ["E2"])]
    assert "mrr" in report["computable"] and "nps" not in report["computable"]


def test_table_report_names_tables_groups_and_checks(tiny_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["doctor", "--db", str(tiny_db), "--as-of", "2024-03-01"], monkeypatch, capsys)
    assert code == 0
    for expected in ("Tables", "subscriptions", "Metric groups", "MRR and ARR", "Data quality", "future_date", "As of: 2024-03-01"):
        assert expected in out


def test_without_as_of_the_report_says_it_was_inferred(tiny_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["doctor", "--db", str(tiny_db)], monkeypatch, capsys)
    assert code == 0
    assert "As of: 2024-04-30 (inferred from the data)" in out


def test_a_missing_database_is_one_error_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["doctor", "--db", str(tmp_path / "nope.db")], monkeypatch, capsys)
    assert (code, out) == (1, "")
    assert err.startswith("Error: no dataset at") and "lifecycle demo" in err and "Traceback" not in err


def test_a_malformed_as_of_is_a_usage_error(tiny_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["doctor", "--db", str(tiny_db), "--as-of", "31/12/2024"], monkeypatch, capsys)
    assert code == 2 and "YYYY-MM-DD" in err


def test_missing_default_database_without_a_demo_generator_is_dataset_not_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "data.generator", None)  # makes `import data.generator` fail
    code, _, err = run_cli(["doctor"], monkeypatch, capsys)
    assert code == 1 and err.startswith("Error: no dataset at")


def test_missing_default_database_is_built_by_the_demo_generator(
    isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    built: list[Path] = []

    def ensure_demo(path: Path | None = None) -> Path:
        target = Path(path) if path is not None else isolated_data_dir / "demo.db"
        with atomic_write(target) as db:
            db["customers"].insert({"customer_id": "D1", "signup_date": "2023-05-01"})
        print("generator chatter")  # must not end up in the report
        built.append(target)
        return target

    monkeypatch.setitem(sys.modules, "data.generator", types.SimpleNamespace(ensure_demo=ensure_demo))
    code, out, err = run_cli(["doctor", "--json"], monkeypatch, capsys)
    assert code == 0 and built == [isolated_data_dir / "demo.db"]
    assert json.loads(out)["tables"][0]["rows"] == 1
    assert "generator chatter" in err


def test_a_custom_lifecycle_db_that_is_missing_is_not_replaced_by_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIFECYCLE_DB", str(tmp_path / "mine.db"))
    monkeypatch.setitem(sys.modules, "data.generator", types.SimpleNamespace(ensure_demo=lambda path=None: pytest.fail("demo built")))
    code, _, err = run_cli(["doctor"], monkeypatch, capsys)
    assert code == 1 and "no dataset at" in err
