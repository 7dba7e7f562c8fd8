"""Read an export file into text columns, remembering the line each row came from.

Every reader returns a ``RawTable``: one pandas ``str`` Series per source column (missing and empty values are
``""``; nothing is typed or guessed here) plus ``lines``, the location of each row used in error messages:

- CSV/TSV: the physical line number (1-based) on which the record starts, so a record whose quoted field spans
  lines is reported at its first line and later records keep their true line numbers.
- JSON (an array of objects): the record's position in the array, 1-based.
- JSON Lines: the physical line number.
- Parquet: the record's position, 1-based.

Delimited text (``.csv``, ``.tsv``, ``.txt``): the delimiter is ``--delimiter`` / the mapping's ``delimiter`` when
given, else sniffed (``sniff_delimiter``): the first of ``,`` ``;`` tab ``|`` that splits the first lines into the same
number of fields (more than one), else runs of spaces/tabs when they do (whitespace-separated columns, the classic
CDNOW layout), else the one splitting the header into most fields. A whitespace-separated file cannot quote a value
containing spaces. A file without a header line needs its columns named (``column_names`` in the mapping); a first
line made only of numbers and dates is refused with that advice rather than read as column names.

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
import os
import re
import stat
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from lifecycle.errors import ImportFileError
from lifecycle.importing.limits import DEFAULT_LIMITS, ReadLimits, limit_error, size_text
from lifecycle.importing.raw import BadRow, RawTable, drop_blank_rows, finish_table
from lifecycle.importing.records import read_json, read_jsonl, read_parquet

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
_GUNZIP_CHUNK = 16 << 20
_FIELD_SIZE_LIMIT = 2**31 - 1  # the csv module's default (128 KiB) rejects long free-text fields


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


WHITESPACE = "whitespace"
"""The delimiter value meaning "one or more spaces or tabs" (leading and trailing ones ignored)."""
_DELIMITER_NAMES = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|", "pipe": "|", "comma": ",", "semicolon": ";",
                    WHITESPACE: WHITESPACE, "space": WHITESPACE, "spaces": WHITESPACE, " ": WHITESPACE}
_CANDIDATES = (",", ";", "\t", "|")
_SNIFF_LINES = 50
_SNIFF_CHARS = 1 << 16
_VALUE_LIKE = re.compile(r"[-+]?[\d.,/:\- ]+")
_DATA_FIELD = re.compile(r"(?:19|20)\d{6}|\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?|\d{1,2}[/.]\d{1,2}[/.]\d{4}(?: .*)?|[-+]?\d+\.\d+")


def delimiter_from_name(name: str) -> str:
    """The delimiter a user wrote (``,`` ``;`` ``|`` ``tab``/``\\t`` ``whitespace``/``space``); ``ValueError`` otherwise."""
    found = _DELIMITER_NAMES.get(name if name.strip() == "" else name.strip().lower())
    if found is None:
        raise ValueError(f"unknown delimiter {name!r}; use one of: , ; | tab whitespace")
    return found


def read_table(path: Path, fmt: str | None = None, encoding: str | None = None, delimiter: str | None = None,
               column_names: tuple[str, ...] = (), limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    """Read ``path`` as text columns (see the module docstring for formats, delimiters and line numbers).

    ``column_names`` names the columns of a delimited file without a header line (every line is then data).
    Raises ``ImportFileError`` (with the line when known) for a missing, unreadable, empty, binary or
    undecodable file, a malformed header, a header that looks like data, an unterminated quote or invalid JSON;
    ``ImportLimitError`` when the file exceeds one of ``limits`` (``lifecycle.importing.limits``).
    """
    fmt = detect_format(path, fmt)
    data = read_bytes(path, limits)
    shown = path.name
    if fmt == "parquet":
        table = read_parquet(data, shown, limits)
    else:
        text = decode_text(data, encoding, shown)
        del data  # the bytes are not needed once decoded (halves the peak for large files)
        if fmt in ("csv", "tsv"):
            table = _read_delimited(text, shown, fmt, delimiter or ("\t" if fmt == "tsv" else None), column_names, limits)
        elif fmt == "json":
            table = read_json(text, shown, limits)
        else:
            table = read_jsonl(text, shown, limits)
    if table.n_rows == 0 and not table.bad_rows:
        raise ImportFileError(shown, "the file has a header but no data rows")
    return table


def read_bytes(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes (gunzipped for ``.gz``), read under ``limits``.

    ``ImportFileError`` when missing, a directory, not a regular file (a device, FIFO or socket — refused before
    any read, as it may never end), unreadable or empty; ``ImportLimitError`` when larger than
    ``limits.max_bytes`` or, gunzipped, than ``limits.max_decompressed_bytes`` (checked while decompressing, so a
    gzip bomb stops at the limit).
    """
    shown = str(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer returns at once instead of hanging; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ImportFileError(shown, "no such file: check the path") from None
    except IsADirectoryError:
        raise ImportFileError(shown, "is a directory, not a file: name the export file itself") from None
    except OSError as exc:
        raise ImportFileError(shown, f"cannot be read ({exc.strerror or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImportFileError(shown, "is a directory, not a file: name the export file itself")
        raise ImportFileError(shown, f"is {_file_kind(info.st_mode)}, not a regular file: save the export to a file "
                              "and import that (devices and pipes are refused because they may never end)")
    with open(fd, "rb", closefd=True) as handle:
        if info.st_size > limits.max_bytes:
            raise limit_error(shown, f"the file is {size_text(info.st_size)}, more than the read limit of "
                              f"{size_text(limits.max_bytes)}", "max_bytes")
        try:
            data = handle.read(limits.max_bytes + 1)
        except OSError as exc:
            raise ImportFileError(shown, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limits.max_bytes:
        raise limit_error(shown, f"the file is larger than the read limit of {size_text(limits.max_bytes)}", "max_bytes")
    if path.suffix.lower() == ".gz":
        data = _gunzip(data, shown, limits.max_decompressed_bytes)
    if not data.strip():
        raise ImportFileError(path.name, "the file is empty: export the data again")
    return data


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _gunzip(data: bytes, shown: str, limit: int) -> bytes:
    """Decompress every gzip member of ``data`` in bounded chunks, stopping with ``ImportLimitError`` as soon as the
    output passes ``limit`` bytes (a gzip bomb costs at most ``limit`` bytes of memory and stops there)."""
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(min(_GUNZIP_CHUNK, limit + 1 - len(out))):
                out += chunk
                if len(out) > limit:
                    raise limit_error(shown, f"decompresses to more than the limit of {size_text(limit)}", "max_decompressed_bytes")
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportFileError(shown, f"is not a valid gzip file ({exc})") from None
    return bytes(out)


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


def sniff_delimiter(text: str) -> str:
    """The delimiter of delimited ``text`` from its first lines (see the module docstring for the rule)."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    lines = [line for line in sample.splitlines() if line.strip()][:_SNIFF_LINES]
    if not lines:
        return ","
    joined = "\n".join(lines)
    widths: dict[str, int] = {}
    for candidate in _CANDIDATES:
        try:
            counts = {len(row) for row in csv.reader(io.StringIO(joined, newline=""), delimiter=candidate) if row}
        except csv.Error:
            continue
        widths[candidate] = len(next(csv.reader([lines[0]], delimiter=candidate)))
        if len(counts) == 1 and counts.pop() > 1:
            return candidate
    spaced = {len(line.split()) for line in lines}
    if len(spaced) == 1 and spaced.pop() > 1 and not any(c in lines[0] for c in _CANDIDATES):
        return WHITESPACE
    return max(_CANDIDATES, key=lambda c: (widths.get(c, 0), -_CANDIDATES.index(c)))


def _collapse_whitespace(text: str) -> str:
    """Whitespace-separated text as tab-separated text with the same lines: runs of spaces/tabs → one tab,
    leading and trailing ones dropped."""
    text = re.sub(r"[ \t]*(\r?\n)[ \t]*", r"\1", text.strip(" \t"))
    return re.sub(r"[ \t]+", "\t", text)


def _looks_like_data(headers: list[str]) -> bool:
    """A first line that is a record, not column names: every field a number or a date (``00004 0001 19970101``),
    or any field a date (``20240101``, ``2024-01-31``, ``31/01/2024``) or a number with decimals (``29.33``) —
    things no export names a column (a bare ``2024``, a year, can be a column name)."""
    fields = [h.strip() for h in headers if h.strip()]
    if not fields:
        return False
    if all(_VALUE_LIKE.fullmatch(f) and any(ch.isdigit() for ch in f) for f in fields):
        return True
    return any(_DATA_FIELD.fullmatch(f) for f in fields)


def _read_delimited(text: str, path: str, fmt: str, delimiter: str | None, column_names: tuple[str, ...] = (),
                    limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    delimiter = delimiter or sniff_delimiter(text)
    if delimiter == WHITESPACE:
        text, delimiter = _collapse_whitespace(text), "\t"
    csv.field_size_limit(_FIELD_SIZE_LIMIT)
    if column_names:
        _check_column_count(path, len(column_names), limits)
        headers, header_lines = list(column_names), 0
        first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        if len(first) != len(headers):
            raise ImportFileError(path, f"the mapping's column_names names {len(headers)} columns but the first line has "
                                        f"{len(first)} fields: name every column, in file order", line=1)
    else:
        header_reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        headers = next(header_reader, [])
        header_lines = header_reader.line_num
        if not any(h.strip() for h in headers):
            raise ImportFileError(path, "the first line (the header) is empty: the first line must name the columns", line=1)
        _check_column_count(path, len(headers), limits)
        if _looks_like_data(headers):
            shown = ", ".join(h.strip() for h in headers[:5]) + (", …" if len(headers) > 5 else "")
            raise ImportFileError(
                path, f"the first line holds values ({shown}), not column names: the file has no header line. Name its "
                      f"{len(headers)} columns in a mapping file ([options] column_names = [\"customer_id\", …], in file "
                      "order) and pass it with --map (see docs/importing.md)", line=1)
    fast = _fast_delimited(text, delimiter, len(headers), header_lines)
    if fast is not None:
        columns, lines = fast
        bad: list[BadRow] = []
    else:
        columns, lines, bad = _slow_delimited(text, path, delimiter, len(headers), header_lines)
    columns, lines = drop_blank_rows(columns, lines)
    return finish_table(path, fmt, headers, columns, lines, bad, limits)


def _check_column_count(path: str, n: int, limits: ReadLimits) -> None:
    if n > limits.max_columns:
        raise limit_error(path, f"the header has {n:,} columns, more than the limit of {limits.max_columns:,}", "max_columns", line=1)


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


def _slow_delimited(text: str, path: str, delimiter: str, n_cols: int,
                    header_lines: int = 1) -> tuple[list[pd.Series], np.ndarray, list[BadRow]]:
    """The exact reader: Python's csv module, tracking the line each record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[BadRow] = []
    previous_end = 0
    last_start = 1
    for number, row in enumerate(reader):
        start, previous_end = previous_end + 1, reader.line_num
        if (number == 0 and header_lines) or not row:
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
