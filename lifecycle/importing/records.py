"""Record-shaped exports: JSON (an array of objects), JSON Lines and Parquet, read as text columns.

JSON numbers keep their exact text (a parse hook, so 2^53+1 and ``0.10`` survive); nested objects become dotted
column names (``properties.plan``); lists stay JSON text; ``null`` is missing. Parquet values are rendered as text:
zoned timestamps in UTC with ``Z``, NaN as missing. Rows are located by record number (JSON, Parquet) or physical
line (JSON Lines).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.errors import ImportFileError
from lifecycle.importing.raw import RawTable, drop_blank_rows, finish_table


class _Number(str):
    """A JSON number kept as its exact text (so 2^53+1 and 0.10 survive)."""


_DECODER = json.JSONDecoder(parse_int=_Number, parse_float=_Number, parse_constant=_Number)


def _loads(text: str) -> object:
    return _DECODER.decode(text)


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
    """Nested objects become dotted column names (``properties.plan``); lists stay JSON text; ``{}`` is missing."""
    for key, value in record.items():
        name = prefix + key if prefix else key
        if isinstance(value, str):  # strings, and numbers kept as their text (_Number)
            out[name] = value
        elif isinstance(value, dict):
            if value:
                _flatten(value, name + ".", out)
            else:
                out[name] = ""
        else:
            out[name] = _json_text(value)
    return out


def _records_table(records: list[dict[str, str]], lines: np.ndarray, path: str, fmt: str) -> RawTable:
    headers: dict[str, None] = {}
    for record in records:
        headers.update(dict.fromkeys(record))
    columns = [pd.Series([r.get(h, "") for r in records], dtype="str") for h in headers]
    columns, lines = drop_blank_rows(columns, lines)
    return finish_table(path, fmt, list(headers), columns, lines, [])


def read_json(text: str, path: str) -> RawTable:
    """An array of objects, one per row; rows located by record number."""
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


def read_jsonl(text: str, path: str) -> RawTable:
    """One object per line (blank lines skipped); rows located by physical line."""
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


def read_parquet(data: bytes, path: str) -> RawTable:
    """Any Parquet file; struct columns flattened to dotted names; rows located by record number."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(path, f"not a readable Parquet file ({exc})") from None
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    columns = [_arrow_text(table.column(i)).to_pandas() for i in range(table.num_columns)]
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    columns, lines = drop_blank_rows(columns, lines)
    return finish_table(path, "parquet", list(table.column_names), columns, lines, [])


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
