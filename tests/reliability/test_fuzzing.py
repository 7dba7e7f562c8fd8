"""Property-based fuzzing of the readers and the mapping layer: any input is read or refused with a typed error.

The invariant for every generated input: the call either succeeds (and what it returns is self-consistent) or
raises a ``LifecycleError`` — never ``KeyError``, ``AttributeError``, ``RecursionError``, ``MemoryError``, a pandas
or pyarrow exception, which would reach a user as a traceback. Imports that fail leave the database unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.errors import ImportFileError, LifecycleError, MappingError
from lifecycle.importing import ImportOptions, import_file
from lifecycle.importing.limits import ReadLimits
from lifecycle.importing.mapping import Mapping, extra_column_name, mapping_from_dict, resolve, snake_case
from lifecycle.importing.readers import read_table
from lifecycle.schema import TABLES

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])
SMALL = ReadLimits(max_bytes=64 * 1024, max_columns=40, max_depth=6, max_field_chars=2000)

CSV_ALPHABET = st.sampled_from(list('ab1 ,;\t"\n\r-/:.Zé€\x00\ufeff') + ["2024-01-31", "C1", "customer_id", "signup_date"])
CSV_TEXT = st.lists(CSV_ALPHABET, max_size=60).map("".join)

JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=8), st.sampled_from(["2024-01-31", "C1", "9999-12-31"]))
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                          max_leaves=12)
KEYS = st.one_of(st.sampled_from(["customer_id", "signup_date", "Customer ID", "name", "a.b", "a", "x_a", ""]), st.text(max_size=6))
RECORD = st.dictionaries(KEYS, JSON_VALUE, max_size=5)


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from(["csv", "tsv", "json", "jsonl", "parquet", "csv.gz"]))
def test_arbitrary_bytes_are_read_or_refused_with_a_file_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = _write(tmp_path, f"f.{suffix}", data)
    try:
        table = read_table(path, limits=SMALL)
    except ImportFileError:
        return
    assert all(len(table.columns[h]) == table.n_rows for h in table.headers)


@SETTINGS
@given(text=CSV_TEXT, suffix=st.sampled_from(["csv", "tsv"]))
def test_delimited_text_reads_with_line_numbers_inside_the_file(tmp_path: Path, text: str, suffix: str) -> None:
    path = _write(tmp_path, f"f.{suffix}", text.encode("utf-8"))
    physical = len(re.split(r"\r\n|\r|\n", text))  # lines as CSV counts them: \r\n, a lone \r or \n ends one
    try:
        table = read_table(path, limits=SMALL)
    except ImportFileError as error:
        assert error.line is None or 1 <= error.line <= physical
        return
    assert all(2 <= line <= physical for line in table.lines)
    assert list(table.lines) == sorted(table.lines)
    assert len(set(table.headers)) == len(table.headers)


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=4), lines=st.booleans())
def test_json_records_flatten_to_unique_columns_or_a_file_error(tmp_path: Path, records: list[dict], lines: bool) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records) if lines else json.dumps(records)
    path = _write(tmp_path, "f.jsonl" if lines else "f.json", text.encode("utf-8"))
    try:
        table = read_table(path, limits=SMALL)
    except ImportFileError:
        return
    assert len(set(table.headers)) == len(table.headers)
    assert all(len(table.columns[h]) == table.n_rows for h in table.headers)


@SETTINGS
@given(depth=st.integers(min_value=1, max_value=3000), bracket=st.sampled_from(["[", '{"k":']))
def test_any_nesting_depth_is_read_or_refused_as_too_deep(tmp_path: Path, depth: int, bracket: str) -> None:
    closing = "]" if bracket == "[" else "}"
    text = '[{"customer_id": "C1", "signup_date": "2024-01-31", "p": ' + bracket * depth + "1" + closing * depth + "}]"
    path = _write(tmp_path, "deep.json", text.encode())
    try:
        read_table(path, limits=SMALL)
    except ImportFileError as error:
        assert "nested more than 6 levels deep" in error.why
        assert depth + 1 > SMALL.max_depth


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=3), table=st.sampled_from(sorted(TABLES)))
def test_importing_any_records_succeeds_or_fails_cleanly_leaving_the_database_unchanged(tmp_path: Path, records: list[dict],
                                                                                     table: str) -> None:
    db = tmp_path / "fuzz.db"
    if not db.exists():
        seed = _write(tmp_path, "seed.csv", b"customer_id,signup_date\nSEED,2024-01-01\n")
        import_file("customers", seed, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    path = _write(tmp_path, "f.json", json.dumps(records).encode())
    try:
        import_file(table, path, db, ImportOptions(limits=SMALL, wait_s=0))
    except LifecycleError:
        assert hashlib.sha256(db.read_bytes()).hexdigest() == before


HEADER = st.one_of(st.sampled_from(["customer_id", "Customer ID", "customerId", "signup_date", "Signup Date", "x_a", "X A",
                                    "a", "A", " a ", "", "amount ($)", "name"]), st.text(max_size=8))


@SETTINGS
@given(headers=st.lists(HEADER, max_size=8, unique=True), table=st.sampled_from(sorted(TABLES)))
def test_resolving_any_headers_uses_each_header_at_most_once(headers: list[str], table: str) -> None:
    spec = TABLES[table]
    try:
        resolved = resolve(Mapping("automatic matching"), spec, headers)
    except MappingError:
        return
    sources = [s for s in resolved.columns.values() if isinstance(s, str)] + resolved.extras
    assert len(sources) == len(set(sources)), "a header feeds two columns"
    assert set(sources) <= set(headers)
    required = {c.name for c in spec.columns if c.required and not (spec.derived_key and c.name == spec.primary_key)}
    assert required <= set(resolved.columns)
    stored = [extra_column_name(h) for h in resolved.extras]
    assert len(stored) == len(set(stored)), "two extras stored under one name"
    for column, source in resolved.columns.items():
        if column in resolved.auto_matched:
            assert snake_case(source) == column  # type: ignore[arg-type]


TOML_VALUE = st.recursive(st.one_of(st.text(max_size=6), st.integers(), st.booleans(), st.floats(allow_nan=False)),
                          lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                          max_leaves=8)
SECTION = st.sampled_from(["columns", "values", "options", "preset", "other"])
OPTION = st.sampled_from(["dayfirst", "date_format", "date_formats", "decimal", "delimiter", "encoding", "timezone",
                          "null_values", "ignore"])


@SETTINGS
@given(data=st.dictionaries(SECTION, st.one_of(TOML_VALUE, st.dictionaries(OPTION, TOML_VALUE, max_size=4)), max_size=4))
def test_any_parsed_mapping_is_accepted_or_refused_with_a_mapping_error(data: dict) -> None:
    try:
        mapping = mapping_from_dict(data, "fuzz.toml")
    except MappingError:
        return
    assert isinstance(mapping.columns, dict) and isinstance(mapping.options.null_values, tuple)


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list('[]=."abc \n#{}1,\\')), max_size=60))
def test_any_mapping_file_text_is_read_or_refused_with_a_mapping_error(tmp_path: Path, text: str) -> None:
    from lifecycle.importing.mapping import load_mapping

    path = _write(tmp_path, "m.toml", text.encode())
    try:
        load_mapping(path)
    except MappingError:
        pass
    except tomllib.TOMLDecodeError:  # pragma: no cover - would be a bug: must be a MappingError
        pytest.fail("TOML errors must become MappingError")
