"""Write a store's canonical tables as CSV files — the demo as a user would bring it to ``lifecycle import``.

One ``<table>.csv`` per non-empty canonical table, header = the canonical column names, UTF-8, RFC 4180
quoting (the adversarial company with a newline stays one quoted field). Empty values are empty fields;
booleans are written ``true`` / ``false``; numbers as SQLite returns them. Rows keep primary-key order.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from lifecycle.schema import TABLES, ColumnKind
from lifecycle.store import open_readonly, table_row_counts


def export_csv(db_path: str | os.PathLike[str], directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write every non-empty canonical table of ``db_path`` into ``directory``; return table → file written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    conn = open_readonly(db_path)
    written: dict[str, Path] = {}
    try:
        for name, count in table_row_counts(conn).items():
            if count == 0:
                continue
            spec = TABLES[name]
            columns = [c.name for c in spec.columns]
            flags = [c.kind is ColumnKind.BOOLEAN for c in spec.columns]
            target = out / f"{name}.csv"
            partial = target.with_name(target.name + ".part")
            select = ", ".join(f'"{c}"' for c in columns)  # identifiers come from the schema, never from input
            cursor = conn.execute(f'SELECT {select} FROM "{name}" ORDER BY "{spec.primary_key}"')
            with partial.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                if any(flags):
                    writer.writerows([_cell(v, f) for v, f in zip(row, flags, strict=True)] for row in cursor)
                else:  # csv writes None as an empty field already
                    writer.writerows(cursor)
            os.replace(partial, target)
            written[name] = target
    finally:
        conn.close()
    return written


def _cell(value: object, boolean: bool) -> object:
    if value is None:
        return ""
    if boolean:
        return "true" if value else "false"
    return value
