"""Write DataFrame slices to a binary stream as CSV, JSON Lines, Parquet or an aligned text table, one slice at a time.

Every format writes each slice as soon as it arrives, so memory holds one slice of output however many rows go
out (``benchmarks/bench_export.py`` measures it). Values:

- ``csv``: RFC 4180 via pandas (``,``, ``"`` quoting, ``\\n`` line ends, UTF-8), a header line first; missing values
  are empty; numbers in Python's shortest round-trip form (``repr``), so they read back exactly.
- ``jsonl``: one JSON object per line, keys in column order, missing values ``null``, numbers as in ``csv``;
  dates and timestamps as ISO 8601 text.
- ``parquet``: one row group per slice; text as UTF-8 strings, numbers as float64/int64, flags as booleans,
  timestamps as timestamps — the schema is fixed by the first slice (later slices are cast to it).
- ``table``: columns aligned for reading in a terminal (widths from the first slice, at most ``TABLE_WIDTH``
  characters per cell; longer texts are wrapped onto continuation lines, never cut); whole numbers and numbers from
  1,000 up with thousands separators and no decimals, others with 2 decimals from 1 up, else 4 significant digits.
"""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle.errors import QueryError

FORMATS = ("csv", "jsonl", "parquet", "table")
TABLE_WIDTH = 48


def write_chunks(chunks: Iterable[pd.DataFrame], fmt: str, out: IO[bytes]) -> int:
    """Write every slice of ``chunks`` to ``out`` in ``fmt`` (module docstring); returns the rows written."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    writer = {"csv": _csv, "jsonl": _jsonl, "parquet": _parquet, "table": _table}[fmt]
    return writer(chunks, out)


def _plain(value: Any) -> Any:
    """A cell as a JSON/CSV-ready Python value: None for missing, float/int/bool/str, ISO text for dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return None if not math.isfinite(number) else number
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def plain_values(column: pd.Series) -> list[Any]:
    """A column as plain Python values, converted column-wise: None for missing, float/int/bool/str, ISO dates."""
    if pd.api.types.is_bool_dtype(column) or str(column.dtype) == "boolean":
        return [None if pd.isna(v) else bool(v) for v in column.astype(object)]
    if pd.api.types.is_float_dtype(column):
        numbers = column.to_numpy(dtype="float64", na_value=np.nan)
        out = numbers.astype(object)
        out[~np.isfinite(numbers)] = None
        return out.tolist()
    if pd.api.types.is_integer_dtype(column):
        return column.astype(object).where(column.notna(), None).tolist()
    return [_plain(v) for v in column.to_numpy(dtype=object)]


def _rows(chunk: pd.DataFrame) -> Iterable[tuple[Any, ...]]:
    return zip(*(plain_values(chunk[c]) for c in chunk.columns))


def _csv(chunks: Iterable[pd.DataFrame], out: IO[bytes]) -> int:
    written = 0
    for index, chunk in enumerate(chunks):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if index == 0:
            writer.writerow(list(chunk.columns))
        columns = [["true" if v is True else "false" if v is False else v for v in plain_values(chunk[c])]
                   if (pd.api.types.is_bool_dtype(chunk[c]) or str(chunk[c].dtype) == "boolean") else plain_values(chunk[c])
                   for c in chunk.columns]
        writer.writerows(zip(*columns))  # None → empty field; floats as repr (shortest round-trip)
        out.write(buffer.getvalue().encode("utf-8"))
        written += len(chunk)
    return written


def _jsonl(chunks: Iterable[pd.DataFrame], out: IO[bytes]) -> int:
    written = 0
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    for chunk in chunks:
        names = list(chunk.columns)
        lines = [encode(dict(zip(names, row))) for row in _rows(chunk)]
        out.write(("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
        written += len(chunk)
    return written


def _arrow(chunk: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    arrays = {}
    for name in chunk.columns:
        column = chunk[name]
        if pd.api.types.is_bool_dtype(column) or str(column.dtype) == "boolean":
            arrays[name] = pa.array(column.astype("boolean"), type=pa.bool_(), from_pandas=True)
        elif pd.api.types.is_integer_dtype(column):
            arrays[name] = pa.array(column.astype("Int64"), type=pa.int64(), from_pandas=True)
        elif pd.api.types.is_float_dtype(column):
            arrays[name] = pa.array(column.astype("float64"), type=pa.float64(), from_pandas=True)
        elif pd.api.types.is_datetime64_any_dtype(column):
            arrays[name] = pa.array(column, from_pandas=True)
        else:
            arrays[name] = pa.array([_text(v) for v in column.to_numpy(dtype=object)], type=pa.string())
    table = pa.table(arrays)
    return table.cast(schema) if schema is not None else table


def _text(value: Any) -> str | None:
    plain = _plain(value)
    return None if plain is None else (plain if isinstance(plain, str) else json.dumps(plain))


def _parquet(chunks: Iterable[pd.DataFrame], out: IO[bytes]) -> int:
    writer: pq.ParquetWriter | None = None
    written = 0
    try:
        for chunk in chunks:
            table = _arrow(chunk, writer.schema if writer is not None else None)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            writer.write_table(table)
            written += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return written


def _cell(value: Any) -> str:
    plain = _plain(value)
    if plain is None:
        return ""
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, float):
        size = abs(plain)
        if plain.is_integer() or size >= 1000:
            return f"{plain:,.0f}"
        return f"{plain:.2f}" if size >= 1 else f"{plain:.4g}"
    return str(plain)


def _table(chunks: Iterable[pd.DataFrame], out: IO[bytes]) -> int:
    widths: list[int] | None = None
    written = 0
    for chunk in chunks:
        names = list(chunk.columns)
        cells = [[_cell(v) for v in row] for row in zip(*(chunk[c].to_numpy(dtype=object) for c in names))]
        if widths is None:
            widths = [min(TABLE_WIDTH, max([len(n)] + [len(r[i]) for r in cells])) for i, n in enumerate(names)]
            out.write((_line(names, widths) + "\n" + "  ".join("-" * w for w in widths) + "\n").encode("utf-8"))
        out.write("".join(_line(r, widths) + "\n" for r in cells).encode("utf-8"))
        written += len(chunk)
    return written


def _line(values: list[str], widths: list[int]) -> str:
    """One row; a cell longer than its column wraps onto continuation lines (words kept whole where possible)."""
    wrapped = [textwrap.wrap(v, w, break_long_words=True) or [""] for v, w in zip(values, widths)]
    height = max(len(w) for w in wrapped)
    lines = []
    for k in range(height):
        parts = [(w[k] if k < len(w) else "").ljust(width) for w, width in zip(wrapped, widths)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
