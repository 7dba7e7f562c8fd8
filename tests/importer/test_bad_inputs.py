"""Every case of the bad-input set gets a precise error (file, line, column, reason) or a documented result."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lifecycle.errors import ImportFileError, ImportValidationError
from lifecycle.importing import ImportOptions, import_file
from tests.importer.bad_inputs import CASES, Case


def test_the_bad_input_set_has_at_least_thirty_files() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    db = tmp_path / "lifecycle.db"
    options = ImportOptions(**case.options)
    if case.error is None:
        import_file(case.table, path, db, options)
        conn = sqlite3.connect(db)
        try:
            assert case.check is not None
            case.check(conn)
        finally:
            conn.close()
        return
    with pytest.raises(case.error) as info:
        import_file(case.table, path, db, options)
    error = info.value
    assert not db.exists(), "a failed import must not create or change the database"
    if isinstance(error, ImportValidationError):
        assert error.path == path.name
        matching = [e for e in error.errors if e.line == case.line and e.column == case.column and case.reason in e.why]
        assert matching, f"no error at line {case.line}, column {case.column!r} with {case.reason!r}: {error.errors}"
        assert f"{path.name}:{case.line}:" in str(error)
    elif isinstance(error, ImportFileError):
        assert error.path in (path.name, str(path))
        assert error.line == case.line
        assert case.reason in error.why
    else:
        assert case.reason in str(error)
