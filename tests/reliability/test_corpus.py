"""The whole bad-input corpus (hand-written + generated) against a database that already holds data.

Every error case must name the file, point at the stated line and column with the stated reason, and leave the
existing database byte-identical; every success case must store what it states. (``tests/importer/test_bad_inputs``
runs the hand-written cases into a fresh database; this runs the generated sweep into a populated one.)
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from lifecycle.errors import ImportFileError, ImportValidationError
from lifecycle.importing import ImportOptions, import_file
from lifecycle.schema import TABLES
from tests.importer.bad_inputs import CASES, Case
from tests.reliability.corpus import GENERATED

FORMATS = {"csv", "tsv", "json", "jsonl", "parquet", "csv.gz"}


def test_the_corpus_has_at_least_150_files_across_every_table_and_format() -> None:
    everything = CASES + GENERATED
    assert len(everything) >= 150
    assert len({c.id for c in everything}) == len(everything)
    assert {c.table for c in everything} == set(TABLES)
    for table in TABLES:
        formats = {c.filename.split(".", 1)[1] for c in GENERATED if c.table == table}
        assert FORMATS <= formats, table
        assert sum(c.error is not None for c in GENERATED if c.table == table) >= 10


def _seeded(directory: Path) -> Path:
    db = directory / "existing.db"
    seed = directory / "seed.csv"
    seed.write_text("customer_id,signup_date,name\nSEED1,2023-06-01,Existing\n", encoding="utf-8")
    import_file("customers", seed, db)
    return db


@pytest.mark.parametrize("case", GENERATED, ids=lambda c: c.id)
def test_generated_case(case: Case, tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    source_dir = tmp_path / "in"
    source_dir.mkdir()
    path = case.write(source_dir)
    if case.error is None:
        import_file(case.table, path, db, ImportOptions(**case.options))
        conn = sqlite3.connect(db)
        try:
            assert case.check is not None
            case.check(conn)
        finally:
            conn.close()
        return
    with pytest.raises(case.error) as info:
        import_file(case.table, path, db, ImportOptions(**case.options))
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before, "a failed import must leave the database unchanged"
    error = info.value
    if isinstance(error, ImportValidationError):
        assert error.path == path.name
        matching = [e for e in error.errors if e.line == case.line and (case.column is None or e.column == case.column)
                    and case.reason in e.why]
        assert matching, f"no error at line {case.line}, column {case.column!r} with {case.reason!r}: {error.errors}"
    elif isinstance(error, ImportFileError):
        assert error.path in (path.name, str(path))
        assert error.line == case.line
        assert case.reason in error.why
    else:
        assert case.reason in str(error) and path.name in str(error)
