"""Fixtures for the demo-dataset tests.

``demo_db`` builds the Helloword demo once per test session (once per xdist worker, ~10 s) into a session
temporary directory and hands every test the same read-only file. It is meant to move to ``tests/conftest.py``
so any suite can run against realistic data; tests must never write to it (open it with ``open_readonly``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from data.generator import build_demo
from lifecycle.store import open_readonly


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the Helloword demo database, built once per session (treat it as read-only)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path)
    return path


@pytest.fixture
def demo_conn(demo_db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the session's demo database."""
    conn = open_readonly(demo_db)
    try:
        yield conn
    finally:
        conn.close()
