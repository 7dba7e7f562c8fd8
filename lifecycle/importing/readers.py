"""Read an export file into text columns, remembering the line each row came from.

Every reader returns a ``RawTable``: one pandas ``str`` Series per source column (missing and empty values are
``""``; nothing is typed or guessed here) plus ``lines``, the location of each row used in error messages:

- CSV/TSV: the physical line number (1-based) on which the record starts, so a record whose quoted field spans
  lines is reported at its first line and later records keep their true line numbers.
- JSON (an array of objects): the record's position in the array, 1-based.
- JSON Lines: the physical line number.
- Parquet: the record's position, 1-based.

CSV follows Python's ``csv`` module (Excel dialect: ``"`` quotes, ``""`` inside a quoted field is one quote,
quoted fields may contain the delimiter and newlines). Well-formed files are parsed by pyarrow's CSV reader,
which gives the same fields for them; anything irregular (a row with the wrong number of fields, an odd number of
quote characters, a record spanning lines, blank lines, lone ``\\r`` line ends) is re-read with the ``csv`` module
so every problem is reported at its exact line. Rows whose every field is empty (``,,,``) are skipped.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from lifecycle.errors import ImportFileError

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
_FIELD_SIZE_LIMIT = 2**31 - 1  # the csv module's default (128 KiB) rejects long free-text fields


@dataclass(frozen=True)
class BadRow:
    """A record that cannot be split into the header's columns (wrong number of fields)."""

    line: int
    fields: tuple[str, ...]
    why: str


@dataclass
class RawTable:
    """An export read as text: ``columns[name]`` is a ``str`` Series aligned with ``lines``."""

    path: str
    format: str
    headers: list[str]
    columns: dict[str, pd.Series]
    lines: np.ndarray
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Number of well-formed data rows."""
        return len(self.lines)


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The format named by ``fmt``, else the one implied by the file extension (``.gz`` is looked through)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ImportFileError(str(path), f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    raise ImportFileError(str(path), f"cannot tell the format from the extension; pass --format ({'|'.join(FORMATS)})")


def read_table(path: Path, fmt: str | None = None, encoding: str | None = None, delimiter: str | None = None) -> RawTable:
    """Read ``path`` as text columns (see the module docstring for formats and line numbers).

    Raises ``ImportFileError`` (with the line when known) for a missing, unreadable, empty, binary or
    undecodable file, a malformed header, an unterminated quote or invalid JSON.
    """
    data = read_bytes(path)
    fmt = detect_format(path, fmt)
    shown = path.name
    if fmt == "parquet":
        table = _read_parquet(data, shown)
    else:
        text = decode_text(data, encoding, shown)
        if fmt in ("csv", "tsv"):
            table = _read_delimited(text, shown, fmt, delimiter or ("\t" if fmt == "tsv" else None))
        elif fmt == "json":
            table = _read_json(text, shown)
        else:
            table = _read_jsonl(text, shown)
    if table.n_rows == 0 and not table.bad_rows:
        raise ImportFileError(shown, "the file has a header but no data rows")
    return table


def read_bytes(path: Path) -> bytes:
    """The file's bytes (gunzipped for ``.gz``); ``ImportFileError`` when missing, a directory, unreadable or empty."""
    shown = str(path)
    if not path.exists():
        raise ImportFileError(shown, "no such file: check the path")
    if path.is_dir():
        raise ImportFileError(shown, "is a directory, not a file: name the export file itself")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(shown, f"cannot be read ({exc.strerror or exc})") from None
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ImportFileError(shown, f"is not a valid gzip file ({exc})") from None
    if not data.strip():
        raise ImportFileError(path.name, "the file is empty: export the data again")
    return data


def decode_text(data: bytes, encoding: str | None, path: str) -> str:
    """Decode ``data``: ``encoding`` when given, else UTF-8 (a UTF-8 BOM is dropped; a UTF-16 BOM selects UTF-16).

    An undecodable byte is reported with its line and the advice to pass ``--encoding``; a NUL character (binary
    data, or UTF-16 read as UTF-8) is reported with its line.
    """
    if encoding is None:
        encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise ImportFileError(path, f"unknown encoding {encoding!r}: use a Python codec name such as utf-8, latin-1, cp1252 or utf-16") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        shown = encoding.replace("-sig", "")
        raise ImportFileError(
            path,
            f"byte 0x{data[exc.start]:02x} is not valid {shown}: the file is in another encoding; "
            "re-run with --encoding (e.g. --encoding latin-1, cp1252 or utf-16)",
            line=line,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        raise ImportFileError(
            path,
            "contains a NUL byte (\\x00): the file is binary, truncated or UTF-16; re-save it as UTF-8 or pass --encoding utf-16",
            line=text.count("\n", 0, nul) + 1,
        )
    return text


# --- CSV / TSV -------------------------------------------------------------------------------------------------


def _sniff_delimiter(first_line: str) -> str:
    """``,`` unless the header line has no comma but semicolons (European Excel) or tabs."""
    if "," in first_line:
        return ","
    if ";" in first_line:
        return ";"
    if "\t" in first_line:
        return "\t"
    return ","


def _read_delimited(text: str, path: str, fmt: str, delimiter: str | None) -> RawTable:
    first_line = text.split("\n", 1)[0]
    delimiter = delimiter or _sniff_delimiter(first_line)
    csv.field_size_limit(_FIELD_SIZE_LIMIT)
    header_reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = next(header_reader, [])
    header_lines = header_reader.line_num
    if not any(h.strip() for h in headers):
        raise ImportFileError(path, "the first line (the header) is empty: the first line must name the columns", line=1)
    fast = _fast_delimited(text, delimiter, len(headers), header_lines)
    if fast is not None:
        columns, lines = fast
        bad: list[BadRow] = []
    else:
        columns, lines, bad = _slow_delimited(text, path, delimiter, len(headers))
    columns, lines = _drop_blank_rows(columns, lines)
    return _finish(path, fmt, headers, columns, lines, bad)


def _fast_delimited(text: str, delimiter: str, n_cols: int, header_lines: int) -> tuple[list[pd.Series], np.ndarray] | None:
    """Parse a regular file with pyarrow; ``None`` when the file needs the exact (slow) reader."""
    if text.count('"') % 2 or ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    body = text.rstrip("\r\n")
    physical_lines = body.count("\n") + 1
    names = [f"c{i}" for i in range(n_cols)]
    try:
        table = pcsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=header_lines, block_size=8 << 20),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                            newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                                quoted_strings_can_be_null=False, null_values=[]),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if physical_lines != header_lines + table.num_rows:
        return None  # a record spans lines or blank lines were skipped: line numbers need the exact reader
    columns = [table.column(i).to_pandas() for i in range(n_cols)]
    lines = np.arange(header_lines + 1, header_lines + 1 + table.num_rows, dtype=np.int64)
    return columns, lines


def _slow_delimited(text: str, path: str, delimiter: str, n_cols: int) -> tuple[list[pd.Series], np.ndarray, list[BadRow]]:
    """The exact reader: Python's csv module, tracking the line each record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[BadRow] = []
    previous_end = 0
    last_start = 1
    for number, row in enumerate(reader):
        start, previous_end = previous_end + 1, reader.line_num
        if number == 0 or not row:
            continue  # the header (already read) or a blank line
        last_start = start
        if len(row) != n_cols:
            if all(f == "" for f in row):
                continue
            bad.append(BadRow(start, tuple(row), _ragged_reason(n_cols, len(row))))
            continue
        rows.append(row)
        lines.append(start)
    if text.count('"') % 2:
        _check_unterminated_quote(text, path, delimiter, last_start)
    columns = [pd.Series(list(col), dtype="str") for col in zip(*rows)] if rows else [pd.Series([], dtype="str") for _ in range(n_cols)]
    return columns, np.asarray(lines, dtype=np.int64), bad


def _ragged_reason(expected: int, found: int) -> str:
    hint = " (a value containing the delimiter must be quoted)" if found > expected else ""
    return f"expected {expected} fields as in the header, found {found}{hint}"


def _check_unterminated_quote(text: str, path: str, delimiter: str, last_start: int) -> None:
    """Raise when the last record opens a quoted field that is never closed (it would swallow the rest of the file)."""
    tail = "".join(text.splitlines(keepends=True)[last_start - 1:])
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise ImportFileError(path, "a quoted field opened on this line is never closed (unterminated quote)", line=last_start) from None


def _drop_blank_rows(columns: list[pd.Series], lines: np.ndarray) -> tuple[list[pd.Series], np.ndarray]:
    if not columns or len(lines) == 0:
        return columns, lines
    blank = np.logical_and.reduce([(c == "").to_numpy(dtype=bool) for c in columns])
    if not blank.any():
        return columns, lines
    keep = ~blank
    return [c[keep].reset_index(drop=True) for c in columns], lines[keep]


def _finish(path: str, fmt: str, headers: list[str], columns: list[pd.Series], lines: np.ndarray, bad: list[BadRow]) -> RawTable:
    """Check the header (empty and duplicate names) and assemble the table."""
    names = [h.strip() for h in headers]
    kept: dict[str, pd.Series] = {}
    seen: dict[str, int] = {}
    for position, (name, column) in enumerate(zip(names, columns), start=1):
        if not name:
            if (column == "").all():
                continue  # an unnamed, entirely empty column (a trailing delimiter): nothing to import
            raise ImportFileError(path, f"column {position} has an empty header but holds values: name it or remove the column", line=1)
        if name in seen:
            raise ImportFileError(path, f"duplicate column header {name!r} (columns {seen[name]} and {position}): rename one of them", line=1)
        seen[name] = position
        kept[name] = column
    return RawTable(path, fmt, list(kept), kept, lines, bad)


# --- JSON / JSON Lines -----------------------------------------------------------------------------------------


class _Number(str):
    """A JSON number kept as its exact text (so 2^53+1 and 0.10 survive)."""


def _loads(text: str) -> object:
    return json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_Number)


def _json_text(value: object) -> str:
    """Canonical text of a JSON value: strings as-is, numbers as written, true/false, null → ''."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(value)
    return _json_dump(value)


def _json_dump(value: object) -> str:
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_json_dump(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_dump(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _flatten(record: dict, prefix: str, out: dict[str, str]) -> dict[str, str]:
    """Nested objects become dotted column names (``properties.plan``); lists stay JSON text."""
    for key, value in record.items():
        name = prefix + str(key)
        if isinstance(value, dict) and value:
            _flatten(value, name + ".", out)
        else:
            out[name] = _json_text(value) if not isinstance(value, dict) else ""
    return out


def _records_table(records: list[dict[str, str]], lines: np.ndarray, path: str, fmt: str) -> RawTable:
    headers: dict[str, None] = {}
    for record in records:
        headers.update(dict.fromkeys(record))
    columns = [pd.Series([r.get(h, "") for r in records], dtype="str") for h in headers]
    columns, lines = _drop_blank_rows(columns, lines)
    return _finish(path, fmt, list(headers), columns, lines, [])


def _read_json(text: str, path: str) -> RawTable:
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        hint = "; it looks like JSON Lines (one object per line): use --format jsonl" if exc.msg == "Extra data" else ""
        raise ImportFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno}){hint}", line=exc.lineno) from None
    if not isinstance(data, list):
        found = f"an object with keys {', '.join(list(data)[:5])}" if isinstance(data, dict) else type(data).__name__
        raise ImportFileError(path, f"expected a JSON array of objects (one per row), found {found}")
    if not data:
        raise ImportFileError(path, "the JSON array is empty: no records to import")
    records = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(path, f"record {index} is not a JSON object", line=index)
        records.append(_flatten(item, "", {}))
    return _records_table(records, np.arange(1, len(records) + 1, dtype=np.int64), path, "json")


def _read_jsonl(text: str, path: str) -> RawTable:
    records, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = _loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", line=number) from None
        if not isinstance(item, dict):
            raise ImportFileError(path, "the line is not a JSON object", line=number)
        records.append(_flatten(item, "", {}))
        lines.append(number)
    return _records_table(records, np.asarray(lines, dtype=np.int64), path, "jsonl")


# --- Parquet ---------------------------------------------------------------------------------------------------


def _read_parquet(data: bytes, path: str) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(path, f"not a readable Parquet file ({exc})") from None
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    columns = [_arrow_text(table.column(i)).to_pandas() for i in range(table.num_columns)]
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    columns, lines = _drop_blank_rows(columns, lines)
    return _finish(path, "parquet", list(table.column_names), columns, lines, [])


def _arrow_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as text: timestamps as ISO (UTC with ``Z`` when zoned), floats' NaN as missing, nulls as ''."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_timestamp(kind):
        if kind.tz is not None:
            utc = column.cast(pa.timestamp(kind.unit, "UTC"))
            text = pc.binary_join_element_wise(pc.strftime(utc, format="%Y-%m-%dT%H:%M:%S"), "Z", "")
        else:
            text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    elif pa.types.is_floating(kind):
        text = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.string()), column.cast(pa.string()))
    elif pa.types.is_nested(kind):
        text = pa.chunked_array([pa.array([None if v is None else json.dumps(v, default=str) for v in column.to_pylist()], pa.string())])
    else:
        text = column.cast(pa.string())
    return pc.fill_null(text.cast(pa.string()), "")
