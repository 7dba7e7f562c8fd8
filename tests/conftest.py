"""Shared fixtures: every test gets its own data directory, so no test touches a real user's data."""

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
