"""Bounded reads: hostile files stop with one line naming the file and the limit, fast, and the database is unchanged.

Before: ``/dev/zero``, ``/dev/urandom`` and a gzip bomb ended in ``MemoryError`` tracebacks, a FIFO hung, a 100k-column
file ran for minutes, nested JSON raised ``RecursionError``. Each case below sets up a database first and checks
its bytes afterwards. Limits are lowered where that lets a small file stand for a huge one (the check is the same
comparison); the default limits are exercised by the files that exceed them cheaply (columns, nesting, devices).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle.errors import ImportFileError, ImportLimitError
from lifecycle.importing import ImportOptions, import_file
from lifecycle.importing.limits import DEFAULT_LIMITS, GIB, MIB, ReadLimits, parse_size
from lifecycle.store import open_readonly

LIFECYCLE = str(Path(sys.executable).parent / "lifecycle")
HEADER = "customer_id,signup_date"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database holding one customer, so "unchanged" means something."""
    path = tmp_path / "life.db"
    seed = tmp_path / "seed.csv"
    seed.write_text(f"{HEADER}\nSEED,2024-01-01\n", encoding="utf-8")
    import_file("customers", seed, path)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(source: Path, db: Path, limits: ReadLimits = DEFAULT_LIMITS, fmt: str | None = None) -> ImportFileError:
    before = _sha(db)
    with pytest.raises(ImportFileError) as info:
        import_file("customers", source, db, ImportOptions(limits=limits, format=fmt))
    assert _sha(db) == before
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_before_it_is_read(device: str, db: Path) -> None:
    error = _refused(Path(device), db, fmt="csv")
    assert "character device, not a regular file" in error.why


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_without_a_writer_is_refused_not_waited_on(tmp_path: Path, db: Path) -> None:
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            import_file("customers", fifo, db)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the import hung on the FIFO"
    assert isinstance(outcome[0], ImportFileError) and "named pipe (FIFO)" in outcome[0].why


def test_a_file_over_the_byte_limit_is_refused_before_reading(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_text(HEADER + "\n" + "C1,2024-01-01\n" * 1000, encoding="utf-8")
    error = _refused(source, db, ReadLimits(max_bytes=4096))
    assert isinstance(error, ImportLimitError) and error.limit == "max_bytes"
    assert "more than the read limit of 4 KiB" in error.why and "--max-bytes" in error.why


def test_a_gzip_bomb_stops_at_the_decompressed_limit(tmp_path: Path, db: Path) -> None:
    """64 MiB of zeros gzip to ~64 KiB; with a 1 MiB limit the reader stops after 1 MiB + one chunk at most."""
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        stream.write(HEADER.encode() + b"\n")
        stream.write(b"\0" * (64 * MIB))
    assert bomb.stat().st_size < MIB
    error = _refused(bomb, db, ReadLimits(max_decompressed_bytes=MIB))
    assert isinstance(error, ImportLimitError) and error.limit == "max_decompressed_bytes"
    assert "decompresses to more than the limit of 1 MiB" in error.why and "--max-decompressed" in error.why


@pytest.mark.slow
def test_a_two_gib_gzip_bomb_stops_at_the_default_limit(tmp_path: Path, db: Path) -> None:
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        stream.write(HEADER.encode() + b"\n")
        block = b"0" * (16 * MIB)
        for _ in range(128):
            stream.write(block)
    error = _refused(bomb, db)
    assert "more than the limit of 1 GiB" in error.why


def test_a_truncated_gzip_file_is_one_error(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "cut.csv.gz"
    source.write_bytes(gzip.compress((HEADER + "\nC1,2024-01-01\n" * 5000).encode())[:200])
    error = _refused(source, db)
    assert "is not a valid gzip file" in error.why


def test_a_gzip_file_of_several_members_is_read_whole(tmp_path: Path) -> None:
    source = tmp_path / "two.csv.gz"
    source.write_bytes(gzip.compress(f"{HEADER}\nC1,2024-01-01\n".encode()) + gzip.compress(b"C2,2024-01-02\n"))
    report = import_file("customers", source, tmp_path / "x.db")
    assert report.inserted == 2


@pytest.mark.parametrize("columns", [100_000, 1_000_000])
def test_a_header_with_too_many_columns_is_refused_at_line_1(columns: int, tmp_path: Path, db: Path) -> None:
    source = tmp_path / "wide.csv"
    source.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" for _ in range(columns)) + "\n",
                      encoding="utf-8")
    error = _refused(source, db)
    assert error.line == 1 and f"the header has {columns:,} columns, more than the limit of 500" in error.why


def test_json_lines_adding_up_to_too_many_columns_name_the_record_that_crossed_the_limit(tmp_path: Path, db: Path) -> None:
    """Record i (line i + 1) brings field k{i}; with customer_id and signup_date, line 499 brings the 501st field."""
    source = tmp_path / "cols.jsonl"
    source.write_text("".join(json.dumps({"customer_id": f"C{i}", "signup_date": "2024-01-01", f"k{i}": 1}) + "\n"
                              for i in range(2100)), encoding="utf-8")
    error = _refused(source, db)
    assert error.line == 499 and "501 different fields" in error.why


def test_a_parquet_file_with_too_many_columns_is_refused_from_its_footer(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": [1] for i in range(600)}), source)
    error = _refused(source, db)
    assert "600 columns, more than the limit of 500" in error.why


def test_parquet_data_over_the_decompressed_limit_is_refused_from_its_footer(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "big.parquet"
    pq.write_table(pa.table({"customer_id": [f"C{i:08d}" for i in range(200_000)], "signup_date": ["2024-01-01"] * 200_000}),
                   source, compression="zstd")
    error = _refused(source, db, ReadLimits(max_decompressed_bytes=MIB))
    assert "the data decompresses to" in error.why and "--max-decompressed" in error.why


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deeper_than_python_can_recurse_is_a_limit_error(depth: int, tmp_path: Path, db: Path) -> None:
    source = tmp_path / "deep.json"
    source.write_text("[" + '{"a":' * depth + "1" + "}" * depth + "]", encoding="utf-8")
    error = _refused(source, db)
    assert isinstance(error, ImportLimitError) and "nested more than 32 levels deep" in error.why


def test_nesting_is_counted_from_the_record_objects_and_arrays_alike(tmp_path: Path, db: Path) -> None:
    """The record is level 1; ``"p": [[…]]`` with n brackets reaches level n + 1. 31 brackets (level 32) pass,
    32 (level 33) are refused at that line."""
    ok = tmp_path / "ok.jsonl"
    ok.write_text(json.dumps({"customer_id": "C1", "signup_date": "2024-01-01", "p": json.loads("[" * 31 + "]" * 31)}) + "\n",
                  encoding="utf-8")
    import_file("customers", ok, db)
    deep = tmp_path / "deep.jsonl"
    deep.write_text("\n" + json.dumps({"customer_id": "C2", "signup_date": "2024-01-01", "p": json.loads("[" * 32 + "]" * 32)}) + "\n",
                    encoding="utf-8")
    error = _refused(deep, db)
    assert error.line == 2 and "nested more than 32 levels deep" in error.why


def test_a_field_over_the_length_limit_is_refused_at_its_line(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "long.csv"
    source.write_text(f"{HEADER},name\nC1,2024-01-01,short\nC2,2024-01-01,{'x' * (MIB + 1)}\n", encoding="utf-8")
    error = _refused(source, db)
    assert error.line == 3 and "column 'name' holds a value of 1,048,577 characters" in error.why


def test_json_nan_is_missing_and_infinity_is_refused_at_its_record(tmp_path: Path, db: Path) -> None:
    nan = tmp_path / "nan.json"
    nan.write_text('[{"customer_id": "C1", "signup_date": "2024-01-01", "name": NaN, "acquisition_cost": NaN}]', encoding="utf-8")
    import_file("customers", nan, db)
    conn = open_readonly(db)
    assert conn.execute("SELECT name, acquisition_cost FROM customers WHERE customer_id = 'C1'").fetchone() == (None, None)
    conn.close()
    for token in ("Infinity", "-Infinity"):
        source = tmp_path / "inf.jsonl"
        source.write_text(f'{{"customer_id": "C2", "signup_date": "2024-01-01"}}\n{{"customer_id": "C3", "signup_date": "2024-01-01", "acquisition_cost": {token}}}\n',
                          encoding="utf-8")
        error = _refused(source, db)
        assert error.line == 2 and f"holds {token}, which no column can store" in error.why


def test_a_dotted_key_and_a_nested_object_naming_the_same_column_are_refused(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "clash.json"
    source.write_text('[{"customer_id": "C1", "signup_date": "2024-01-01", "p": {"plan": "a"}, "p.plan": "b"}]', encoding="utf-8")
    error = _refused(source, db)
    assert error.line == 1 and "two values for column 'p.plan'" in error.why


@pytest.mark.parametrize(("text", "size"), [("1048576", MIB), ("1G", GIB), ("512M", 512 * MIB), ("2.5GiB", int(2.5 * GIB)), ("4k", 4096)])
def test_sizes_are_read_in_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_the_config_file_sets_limits_and_the_command_line_overrides_it(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "six.csv"
    source.write_text("customer_id,signup_date,a,b,c,d\nC1,2024-01-01,1,2,3,4\n", encoding="utf-8")
    config = tmp_path / "lifecycle.toml"
    config.write_text("[import]\nmax_columns = 5\n", encoding="utf-8")
    refused = subprocess.run([LIFECYCLE, "import", "customers", str(source), "--db", str(db), "--config", str(config)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("Error: six.csv:1: the header has 6 columns, more than the limit of 5: raise the limit "
                                      "with --max-columns (or [import] max_columns in the --config file)")
    allowed = subprocess.run([LIFECYCLE, "import", "customers", str(source), "--db", str(db), "--config", str(config),
                              "--max-columns", "6"], capture_output=True, text=True, timeout=120)
    assert allowed.returncode == 0, allowed.stderr


HOSTILE = {
    "dev_zero": lambda d: Path("/dev/zero"),
    "fifo": lambda d: (os.mkfifo(d / "pipe.csv"), d / "pipe.csv")[1],
    "gzip_bomb": lambda d: (_bomb(d / "bomb.csv.gz"), d / "bomb.csv.gz")[1],
    "100k_columns": lambda d: (_wide(d / "wide.csv"), d / "wide.csv")[1],
    "nested_json": lambda d: (_nested(d / "deep.json"), d / "deep.json")[1],
}


def _bomb(path: Path) -> None:
    with gzip.open(path, "wb", compresslevel=9) as stream:
        stream.write(HEADER.encode() + b"\n" + b"0" * (64 * MIB))


def _wide(path: Path) -> None:
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n", encoding="utf-8")


def _nested(path: Path) -> None:
    path.write_text("[" + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]", encoding="utf-8")


@pytest.mark.parametrize("case", [pytest.param(c, marks=[] if c in ("fifo", "nested_json") else [pytest.mark.slow]) for c in HOSTILE])
def test_the_console_script_answers_each_hostile_file_with_one_line(case: str, tmp_path: Path, db: Path) -> None:
    """Acceptance: /dev/zero, a gzip bomb, a FIFO, a 100k-column file, nested JSON — one ``Error:`` line, exit 1,
    database unchanged (the bomb with ``--max-decompressed 16M`` so the test stays small)."""
    source = HOSTILE[case](tmp_path)
    before = _sha(db)
    extra = ["--format", "csv"] if case == "dev_zero" else (["--max-decompressed", "16M"] if case == "gzip_bomb" else [])
    done = subprocess.run([LIFECYCLE, "import", "customers", str(source), "--db", str(db), *extra],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in done.stderr, done.stderr
    assert source.name in lines[0]
    assert _sha(db) == before
