"""`--as-of` on every command that takes it: a usage error (exit 2, one line, no traceback) for a non-date or a day
outside 1900-01-01..2999-12-31, which the engine cannot shift by months and years."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from tests.server.test_doctor_cmd import run_cli

COMMANDS = [["doctor"], ["metrics"], ["plan", "--out", "{tmp}/plan"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(("as_of", "expected"), [
    ("2025-02-30", "is not a date; use YYYY-MM-DD"),
    ("31/12/2024", "is not a date; use YYYY-MM-DD"),
    ("0001-01-02", "as_of 0001-01-02 is out of range"),
    ("9999-12-30", "as_of 9999-12-30 is out of range"),
])
def test_a_bad_as_of_is_a_one_line_usage_error(command: list[str], as_of: str, expected: str, tiny_db: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    code, out, err = run_cli([*args, "--db", str(tiny_db), "--as-of", as_of], monkeypatch, capsys)
    assert code == 2 and expected in err and "Traceback" not in err + out
    assert not (tmp_path / "plan").exists()  # nothing half-written


@pytest.mark.parametrize("as_of", [date(1, 1, 2), date(1899, 12, 31), date(3000, 1, 1), date(9999, 12, 30)])
def test_the_engine_refuses_days_it_cannot_shift(as_of: date, tiny_db: Path) -> None:
    with pytest.raises(QueryError, match="out of range"):
        Dataset.open(tiny_db, as_of)


@pytest.mark.parametrize("as_of", [date(1900, 1, 1), date(2999, 12, 31)])
def test_the_ends_of_the_range_are_accepted(as_of: date, tiny_db: Path) -> None:
    assert Dataset.open(tiny_db, as_of).window.end == as_of
