"""Record-shaped exports: JSON (an array of objects), JSON Lines and Parquet, read as text columns.

JSON numbers keep their exact text (a parse hook, so 2^53+1 and ``0.10`` survive); nested objects become dotted
column names (``properties.plan``); lists stay JSON text; ``null`` is missing. The non-standard tokens Python's
``json`` and pandas write for missing floats are read the way they were meant: ``NaN`` is missing (like ``null``);
``Infinity`` and ``-Infinity`` are refused at their record, as no column can store them. Parquet values are rendered
as text: zoned timestamps in UTC with ``Z``, NaN as missing. Rows are located by record number (JSON, Parquet) or
physical line (JSON Lines).

Nesting deeper than ``ReadLimits.max_depth`` (objects and arrays, 32 by default) is refused at its record — also
when it is too deep for Python's parser to recurse into — and so is a file whose records add up to more than
``ReadLimits.max_columns`` columns.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.errors import ImportFileError
from lifecycle.importing.limits import DEFAULT_LIMITS, ReadLimits, limit_error, size_text
from lifecycle.importing.raw import RawTable, drop_blank_rows, finish_table


class _Number(str):
    """A JSON number kept as its exact text (so 2^53+1 and 0.10 survive)."""


class _Infinite(str):
    """A JSON ``Infinity`` / ``-Infinity`` token: refused at its record (no column can store it)."""


def _constant(token: str) -> object:
    return None if token == "NaN" else _Infinite(token)


_DECODER = json.JSONDecoder(parse_int=_Number, parse_float=_Number, parse_constant=_constant)


class _RecordProblem(Exception):
    """Raised inside a record's flattening; the reader adds the file and the record's line."""

    def __init__(self, why: str, limit: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.limit = limit


def _loads(text: str) -> object:
    return _DECODER.decode(text)


def _json_text(value: object, depth: int, limit: int) -> str:
    """Canonical text of a JSON value: strings as-is, numbers as written, true/false, null → ''."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(value)
    return _json_dump(value, depth, limit)


def _json_dump(value: object, depth: int, limit: int) -> str:
    if isinstance(value, _Number):
        return str(value)
    if type(value) is _Infinite:
        raise _RecordProblem(f"holds {value}, which no column can store (write null for a missing number)")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, dict)) and depth > limit:
        raise _too_deep(limit)
    if isinstance(value, list):
        return "[" + ",".join(_json_dump(v, depth + 1, limit) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_dump(v, depth + 1, limit)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _too_deep(limit: int) -> _RecordProblem:
    return _RecordProblem(f"is nested more than {limit} levels deep", "max_depth")


def _flatten(record: dict, prefix: str, out: dict[str, str], depth: int, limit: int) -> dict[str, str]:
    """Nested objects become dotted column names (``properties.plan``); lists stay JSON text; ``{}`` is missing.

    ``depth`` is the object's own level (the record is 1); a value nested deeper than ``limit`` is refused, and
    so are two keys that flatten to the same column name (``"a.b"`` beside ``{"a": {"b": …}}``)."""
    for key, value in record.items():
        name = prefix + key if prefix else key
        if (prefix or "." in key) and name in out:
            raise _RecordProblem(f"has two values for column {name!r} (a dotted key and a nested object): rename one")
        if isinstance(value, str):  # strings, and numbers kept as their text (_Number)
            if type(value) is _Infinite:
                raise _RecordProblem(f"field {name!r} holds {value}, which no column can store (write null for a missing number)")
            out[name] = value
        elif isinstance(value, dict):
            if depth >= limit:
                raise _too_deep(limit)
            if value:
                _flatten(value, name + ".", out, depth + 1, limit)
            else:
                out[name] = ""
        else:
            out[name] = _json_text(value, depth + 1, limit)
    return out


def _record(item: dict, path: str, line: int, limits: ReadLimits) -> dict[str, str]:
    try:
        return _flatten(item, "", {}, 1, limits.max_depth)
    except _RecordProblem as problem:
        if problem.limit is not None:
            raise limit_error(path, f"the record {problem.why}", problem.limit, line=line) from None
        raise ImportFileError(path, f"the record {problem.why}", line=line) from None


def _decode(text: str, path: str, limits: ReadLimits, line: int | None = None) -> object:
    """Parse JSON text; nesting too deep for Python's recursive parser is the same limit error as ``max_depth``."""
    try:
        return _loads(text)
    except RecursionError:
        raise limit_error(path, f"the JSON is nested more than {limits.max_depth} levels deep", "max_depth", line=line) from None


def _records_table(records: list[dict[str, str]], lines: np.ndarray, path: str, fmt: str,
                   limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    headers: dict[str, None] = {}
    for record, line in zip(records, lines):
        headers.update(dict.fromkeys(record))
        if len(headers) > limits.max_columns:
            raise limit_error(path, f"the records up to this one have {len(headers):,} different fields (columns), more "
                              f"than the limit of {limits.max_columns:,}", "max_columns", line=int(line))
    columns = [pd.Series([r.get(h, "") for r in records], dtype="str") for h in headers]
    columns, lines = drop_blank_rows(columns, lines)
    return finish_table(path, fmt, list(headers), columns, lines, [], limits)


def read_json(text: str, path: str, limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    """An array of objects, one per row; rows located by record number."""
    try:
        data = _decode(text, path, limits)
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
        records.append(_record(item, path, index, limits))
    return _records_table(records, np.arange(1, len(records) + 1, dtype=np.int64), path, "json", limits)


def read_jsonl(text: str, path: str, limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    """One object per line (blank lines skipped); rows located by physical line."""
    records, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = _decode(line, path, limits, line=number)
        except json.JSONDecodeError as exc:
            raise ImportFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", line=number) from None
        if not isinstance(item, dict):
            raise ImportFileError(path, "the line is not a JSON object", line=number)
        records.append(_record(item, path, number, limits))
        lines.append(number)
    return _records_table(records, np.asarray(lines, dtype=np.int64), path, "jsonl", limits)


# --- Parquet ---------------------------------------------------------------------------------------------------


def read_parquet(data: bytes, path: str, limits: ReadLimits = DEFAULT_LIMITS) -> RawTable:
    """Any Parquet file; struct columns flattened to dotted names; rows located by record number.

    The footer is checked against ``limits`` before any data page is read: leaf columns (``max_columns``), the
    uncompressed size of every row group (``max_decompressed_bytes``) and the schema's nesting (``max_depth``).
    """
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        _check_parquet(parquet.metadata, parquet.schema_arrow, path, limits)
        table = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(path, f"not a readable Parquet file ({exc})") from None
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    columns = [_arrow_text(table.column(i)).to_pandas() for i in range(table.num_columns)]
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    columns, lines = drop_blank_rows(columns, lines)
    return finish_table(path, "parquet", list(table.column_names), columns, lines, [], limits)


def _check_parquet(metadata: object, schema: pa.Schema, path: str, limits: ReadLimits) -> None:
    columns = metadata.num_columns  # type: ignore[attr-defined]
    if columns > limits.max_columns:
        raise limit_error(path, f"the file has {columns:,} columns, more than the limit of {limits.max_columns:,}", "max_columns")
    size = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))  # type: ignore[attr-defined]
    if size > limits.max_decompressed_bytes:
        raise limit_error(path, f"the data decompresses to {size_text(size)}, more than the limit of "
                          f"{size_text(limits.max_decompressed_bytes)}", "max_decompressed_bytes")
    deepest = max((_type_depth(field.type) for field in schema), default=0)
    if deepest > limits.max_depth:
        raise limit_error(path, f"a column is nested {deepest} levels deep, more than the limit of {limits.max_depth}", "max_depth")


def _type_depth(kind: pa.DataType) -> int:
    """Levels of nesting of an Arrow type: 0 for a scalar, 1 + the deepest child for a struct, list or map."""
    if kind.num_fields == 0:
        return 0
    return 1 + max(_type_depth(kind.field(i).type) for i in range(kind.num_fields))


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
