"""Open hand-built stores at several as_of dates / filters / configs without rebuilding them (keeps tests fast)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from lifecycle.config import DEFAULT_CONFIG, EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Window


def open_at(path: Path, as_of: str, window: tuple[str, str] | None = None, filters: Filters | None = None,
            config: EngineConfig = DEFAULT_CONFIG, **_: Any) -> Dataset:
    """A ``Dataset`` over the store at ``path`` seen at ``as_of`` (ISO) with an optional window, filters and config."""
    win = Window(date.fromisoformat(window[0]), date.fromisoformat(window[1])) if window else None
    return Dataset.open(path, date.fromisoformat(as_of), filters=filters, window=win, config=config)


def quick_store(path: Path, tables: dict[str, list[dict[str, Any]]]) -> Path:
    """Like ``tests.builders.make_store`` but written in place without the atomic swap and fsync (for property tests
    that build many throw-away stores); the schema is the same ``create_schema``."""
    import sqlite_utils

    from lifecycle.store import create_schema

    db = sqlite_utils.Database(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = MEMORY")
    create_schema(db)
    for name, rows in tables.items():
        if rows:
            db[name].insert_all(rows, alter=False)
    db.close()
    return path


def quick_dataset(tmp_path: Path, tables: dict[str, list[dict[str, Any]]], as_of: str, window: tuple[str, str] | None = None,
                  filters: Filters | None = None, config: EngineConfig = DEFAULT_CONFIG) -> Dataset:
    """``tests.builders.make_dataset`` over a ``quick_store``."""
    return open_at(quick_store(tmp_path / "fixture.db", tables), as_of, window, filters, config)
