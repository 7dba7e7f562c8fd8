"""Open hand-built stores at several as_of dates / filters / configs without rebuilding them (keeps tests fast)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from lifecycle.config import DEFAULT_CONFIG, EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.filters import Filters, Window


def open_at(path: Path, as_of: str, window: tuple[str, str] | None = None, filters: Filters | None = None,
            config: EngineConfig = DEFAULT_CONFIG, **_: Any) -> Dataset:
    """A ``Dataset`` over the store at ``path`` seen at ``as_of`` (ISO) with an optional window, filters and config."""
    win = Window(date.fromisoformat(window[0]), date.fromisoformat(window[1])) if window else None
    return Dataset.open(path, date.fromisoformat(as_of), filters=filters, window=win, config=config)
