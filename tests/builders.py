"""Build tiny SQLite stores from hand-written rows, for hand-computed golden tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Window
from lifecycle.store import atomic_write


def make_store(path: Path, tables: dict[str, list[dict[str, Any]]]) -> Path:
    """Write ``tables`` (canonical table name → rows) into a new store at ``path`` and return the path."""
    with atomic_write(path) as db:
        for name, rows in tables.items():
            if rows:
                db[name].insert_all(rows, alter=False)
    return path


def make_dataset(tmp_path: Path, tables: dict[str, list[dict[str, Any]]], as_of: str,
                 filters: Filters | None = None, window: tuple[str, str] | None = None, **kwargs: Any) -> Dataset:
    """A ``Dataset`` over a fresh store holding ``tables``, seen at ``as_of`` (ISO) with an optional window."""
    path = make_store(tmp_path / "fixture.db", tables)
    win = Window(date.fromisoformat(window[0]), date.fromisoformat(window[1])) if window else None
    return Dataset.open(path, date.fromisoformat(as_of), filters=filters, window=win, **kwargs)


def customers(*ids_and_days: tuple[str, str], **attrs: Any) -> list[dict[str, Any]]:
    """Customer rows from (id, signup day) pairs, each with the same extra attributes."""
    return [{"customer_id": cid, "signup_date": day, **attrs} for cid, day in ids_and_days]
