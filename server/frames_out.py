"""Print a small result frame (a monthly series, the MRR bridge) as a terminal table, CSV or JSON on standard output.

CSV and the terminal table go through ``lifecycle.export.write_chunks`` (numbers in round-trip form, missing values
empty, long texts wrapped, never cut); JSON is one document: the ``meta`` keys (as_of, currency, filters, …) and
``rows``, one object per row.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd
import typer

from lifecycle.errors import QueryError
from lifecycle.export import write_chunks
from lifecycle.export.writers import plain_values  # the plain values the CSV/JSON Lines writers use

SERIES_FORMATS = ("table", "csv", "json")


def print_frame(frame: pd.DataFrame, fmt: str, meta: dict[str, Any], title: str = "") -> None:
    """``frame`` on standard output as ``fmt`` (module docstring)."""
    if fmt == "json":
        rows = [dict(zip(frame.columns, values)) for values in zip(*(plain_values(frame[c]) for c in frame.columns))]
        typer.echo(json.dumps({**meta, "rows": rows}, indent=1, allow_nan=False, ensure_ascii=False))
        return
    if fmt == "table" and title:
        typer.echo(title)
    write_chunks([frame], fmt, sys.stdout.buffer)
    sys.stdout.buffer.flush()


@contextlib.contextmanager
def destination(out: Path | None) -> Iterator[IO[bytes]]:
    """Standard output, or ``out`` written through a temporary file renamed into place (no half-written file)."""
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = out.expanduser()
    if target.is_dir():
        raise QueryError(f"--out {target} is a directory: name the file to write")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
