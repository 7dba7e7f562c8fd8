"""Shared fixtures: every test gets its own data directory, so no test touches a real user's data; ``demo_db``
builds the Helloword demo once per session (once per xdist worker, ~10 s) for any suite that needs realistic data."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LIFECYCLE_DATA_DIR at a fresh temporary directory and clear LIFECYCLE_DB."""
    directory = tmp_path_factory.mktemp("lifecycle-data")
    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(directory))
    monkeypatch.delenv("LIFECYCLE_DB", raising=False)
    return directory


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the Helloword demo database, built once per session (treat it as read-only: open it with
    ``open_readonly``; tests must never write to it)."""
    from data.generator import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path)
    return path
