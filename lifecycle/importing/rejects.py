"""The rejects file written by ``--skip-invalid``: one CSV row per rejected record, with its line and reasons.

Columns: ``_line`` (as in error messages: the physical line for CSV/JSON Lines, the record number for JSON and
Parquet), ``_reason`` (every problem of the row, ``; ``-separated, each ``column 'x': why (value 'v')``), then the
record's original fields under the export's headers, so the file can be fixed and imported again.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lifecycle.errors import ImportFileError


def default_rejects_path(source: Path) -> Path:
    """``FILE.rejects.csv`` next to the imported file."""
    return source.with_name(source.name + ".rejects.csv")


def write_rejects(path: Path, headers: list[str], rows: list[tuple[int, str, list[str]]]) -> None:
    """Write ``(line, reason, fields)`` rows in line order, UTF-8 with a header row."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["_line", "_reason", *headers])
            for line, reason, fields in sorted(rows, key=lambda r: r[0]):
                writer.writerow([line, reason, *fields])
    except OSError as exc:
        raise ImportFileError(str(path), f"cannot write the rejects file ({exc.strerror or exc}); pass --rejects PATH") from None
