"""Fixtures for the demo-dataset tests (``demo_db`` itself lives in ``tests/conftest.py``, shared by every suite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.store import open_readonly


@pytest.fixture
def demo_conn(demo_db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the session's demo database."""
    conn = open_readonly(demo_db)
    try:
        yield conn
    finally:
        conn.close()
